"""Forms of the agent desk. The services check every value again; these parse and keep what was typed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.services.tickets import BODY_MAX
from portal.views.forms import WholeNumberField

VISIBILITY_CHOICES = [SelectChoice("public", _l("Public reply")), SelectChoice("private", _l("Private note"))]
SUBMIT_CHOICES = [SelectChoice("", _l("Keep status")), SelectChoice("open", _l("Open")),
                  SelectChoice("pending", _l("Pending")), SelectChoice("on_hold", _l("On hold")),
                  SelectChoice("solved", _l("Solved"))]
PRIORITY_CHOICES = [SelectChoice("low", _l("Low")), SelectChoice("normal", _l("Normal")),
                    SelectChoice("high", _l("High")), SelectChoice("urgent", _l("Urgent"))]


class ComposerForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Optional(), Length(max=BODY_MAX)])
    visibility = SelectField(_l("Visibility"), choices=VISIBILITY_CHOICES, default="public")
    submit_as = SelectField(_l("Submit as"), choices=SUBMIT_CHOICES, default="", validate_choice=False)
    version = WholeNumberField(validators=[Optional()])
    article_query = StringField(_l("Search the knowledge base"), validators=[Optional(), Length(max=200)])
    attachments = MultipleFileField(_l("Attachments"))


class VersionForm(FlaskForm):
    version = WholeNumberField(validators=[Optional()])


class PostponeForm(FlaskForm):
    """Postpone until `until` (a datetime-local value, the portal's time zone), or a quick choice's key."""

    until = StringField(validators=[Optional(), Length(max=40)])
    quick = StringField(validators=[Optional(), Length(max=20)])
    version = WholeNumberField(validators=[Optional()])


class FieldForm(FlaskForm):
    """One side-panel change: `field` names what changes, `value` is its new value."""

    field = HiddenField(validators=[DataRequired()])
    value = StringField(validators=[Optional(), Length(max=2000)])
    version = WholeNumberField(validators=[Optional()])


class PrefsForm(FlaskForm):
    email_kinds = SelectMultipleField(_l("E-mail me when"), choices=[], validate_choice=False,
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())



class MacroForm(FlaskForm):
    """A macro's reply and the changes it makes; the view turns the change fields into the rules' actions."""

    title = StringField(_l("Title"), validators=[DataRequired(message=_l("This field is required.")),
                                                 Length(max=120)])
    body_en = TextAreaField(_l("Reply in English"), validators=[Optional(), Length(max=BODY_MAX)])
    body_es = TextAreaField(_l("Reply in Spanish"), validators=[Optional(), Length(max=BODY_MAX)])
    shared = BooleanField(_l("Shared with every agent"))
    set_status = SelectField(_l("Set the status"), choices=SUBMIT_CHOICES, validate_choice=False)
    set_priority = SelectField(_l("Set the priority"), choices=[SelectChoice("", _l("Keep priority")),
                                                                *PRIORITY_CHOICES], validate_choice=False)
    set_group = SelectField(_l("Move to group"), choices=[], validate_choice=False)
    set_assignee = SelectField(_l("Assign to"), choices=[], validate_choice=False)
    set_language = SelectField(_l("Set the language"), validate_choice=False, choices=[
        SelectChoice("", _l("Keep language")), SelectChoice("en", _l("English")), SelectChoice("es", _l("Spanish"))])
    add_tags = StringField(_l("Add tags"), validators=[Optional(), Length(max=400)])
    remove_tags = StringField(_l("Remove tags"), validators=[Optional(), Length(max=400)])
    add_note = TextAreaField(_l("Add a private note"), validators=[Optional(), Length(max=5000)])
