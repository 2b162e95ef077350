"""Forms shared by several areas. Each area keeps its own forms beside its views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, DataRequired

from portal.integers import DB_INT_MAX, whole_number


class LanguageForm(FlaskForm):
    lang = StringField(_l("Language"), validators=[DataRequired(), AnyOf(["en", "es"])])
    next = HiddenField()


class WholeNumberField(IntegerField):
    """An IntegerField that holds what the database column can: ASCII digits, 0..DB_INT_MAX. WTForms' own takes
    any `int()`, so `10**30` typed (or put in a hidden input) reached the query and crashed it."""

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist:
            return
        raw = valuelist[0].strip() if isinstance(valuelist[0], str) else valuelist[0]
        self.data = whole_number(raw)
        if self.data is None and raw not in ("", None):
            raise ValueError(str(_l("Enter a whole number from 0 to %(max)s.", max=DB_INT_MAX)))
