"""Forms shared by several areas. Each area keeps its own forms beside its views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired


class LanguageForm(FlaskForm):
    lang = StringField(_l("Language"), validators=[DataRequired(), AnyOf(["en", "es"])])
    next = HiddenField()
