"""Forms for the customer's tickets. Limits match the services (subject 200, messages 50,000 characters);
the services check them again, and their refusals land on the field they name."""

from __future__ import annotations

import secrets
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.models import Category, CustomField
from portal.services.tickets import BODY_MAX, SUBJECT_MAX

PRIORITY_LABELS = {
    "low": _l("Low: a question, no hurry"),
    "normal": _l("Normal: something is not working as it should"),
    "high": _l("High: I cannot use an important service"),
    "urgent": _l("Urgent: I am completely cut off"),
}
PRIORITY_CHOICES = [SelectChoice(value, label) for value, label in PRIORITY_LABELS.items()]
LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("es", "Español")]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _required():
    return DataRequired(message=_l("This field is required."))


def _too_long():
    return _l("Use at most %(max)d characters.")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class _TicketText(FlaskForm):
    subject = StringField(_l("Subject"), validators=[_required(), Length(max=SUBJECT_MAX, message=_too_long())],
                          filters=[_strip])
    description = TextAreaField(_l("Describe the problem"),
                                validators=[_required(), Length(max=BODY_MAX, message=_too_long())])
    attachments = MultipleFileField(_l("Attachments"))
    client_token = HiddenField()


class CustomFieldsForm(FlaskForm):
    """A form that asks the selected category's custom fields (`field_<key>`), built by `with_custom_fields`."""

    custom_fields: list[CustomField]

    def field_for(self, custom: CustomField) -> Field:
        return self[f"field_{custom.key}"]

    def custom_values(self) -> dict[str, object]:
        return {f.key: self.field_for(f).data for f in self.custom_fields}


F = TypeVar("F", bound=CustomFieldsForm)


class NewTicketForm(_TicketText, CustomFieldsForm):
    category = SelectField(_l("Category"), choices=[], validate_choice=False, validators=[Optional()])
    priority = SelectField(_l("How much does this affect you?"), choices=PRIORITY_CHOICES, default="normal")
    language = SelectField(_l("Language for our answers"), choices=LANGUAGE_CHOICES)
    # "1" once the customer has been shown matching articles (no-JS step, or beside the form with htmx).
    suggestions_shown = HiddenField(default="")
    # Which button: "file" (default), "preview" the description, or "refresh" the category's fields.
    action = HiddenField(default="file")


def with_custom_fields(form_class: type[F], category: Category | None, *, lang: str, **kwargs) -> F:
    """A `form_class` form with the category's active custom fields added."""
    custom = [f for f in (category.fields if category else []) if f.active]

    class Form(form_class):  # type: ignore[valid-type,misc]
        pass

    for field in custom:
        setattr(Form, f"field_{field.key}", _custom_field(field, lang))
    form = Form(**kwargs)
    form.custom_fields = custom
    for field in custom:
        form.field_for(field).flags.required = field.required and field.kind != "checkbox"
    return form


def new_ticket_form(categories: list[Category], selected_id: int | None, *, lang: str, **kwargs) -> NewTicketForm:
    """The filing form with the selected category's custom fields added."""
    selected = next((c for c in categories if c.id == selected_id), None)
    form = with_custom_fields(NewTicketForm, selected, lang=lang, **kwargs)
    form.category.choices = [SelectChoice("", _l("Choose a category")),
                             *(SelectChoice(str(c.id), c.name(lang)) for c in categories)]
    if categories:
        form.category.validators = [_required()]
        form.category.flags.required = True
    return form


def _custom_field(field: CustomField, lang: str) -> Field:
    label = field.label(lang)
    if field.kind == "checkbox":
        return BooleanField(label)
    # Required-ness is checked by the service (a field only counts for its own category), not in the browser.
    validators = [Optional(), Length(max=500, message=_too_long())]
    if field.kind == "select":
        choices = [SelectChoice("", _l("Choose…")), *(SelectChoice(v, label) for v, label in field.choices(lang))]
        return SelectField(label, choices=choices, validators=validators, validate_choice=False)
    if field.kind == "number":
        return StringField(label, validators=validators, filters=[_strip], render_kw={"inputmode": "decimal"})
    return StringField(label, validators=validators, filters=[_strip])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[_required(), Length(max=BODY_MAX, message=_too_long())])
    attachments = MultipleFileField(_l("Attachments"))


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("What is still not working?"),
        validators=[DataRequired(message=_l("Tell us why the solution did not help.")),
                    Length(max=BODY_MAX, message=_too_long())],
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button is the answer."""


class FollowUpForm(_TicketText):
    description = TextAreaField(_l("What would you like to add?"),
                                validators=[_required(), Length(max=BODY_MAX, message=_too_long())])


class CcForm(FlaskForm):
    email = EmailField(_l("E-mail address to keep in copy"),
                       validators=[_required(), Length(max=254, message=_too_long())], filters=[_strip])


class DeflectForm(FlaskForm):
    article = HiddenField(validators=[DataRequired(), Length(max=255)])
    query = HiddenField(validators=[Optional(), Length(max=2000)])
    category = HiddenField(validators=[Optional()])
    # The ticket being written when the article answered: "I still need help" gives the form back with it.
    subject = HiddenField(validators=[Optional(), Length(max=SUBJECT_MAX)])
    description = HiddenField(validators=[Optional(), Length(max=BODY_MAX)])


class PreviewForm(FlaskForm):
    description = TextAreaField(validators=[Optional(), Length(max=BODY_MAX)])
    body = TextAreaField(validators=[Optional(), Length(max=BODY_MAX)])
