"""Forms for accounts: signing up, logging in, resetting and changing passwords, profiles, admin changes.

The limits match the columns (name 120, e-mail 254) and the password rules in `services.accounts`;
a value over a limit is refused with the limit in the message.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.models import ROLES
from portal.services import person_names
from portal.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

NAME_MAX = 120
EMAIL_MAX = 254

LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("es", "Español")]
ROLE_LABELS = {"customer": _l("Customer"), "agent": _l("Agent"), "admin": _l("Admin")}


def _required():
    return DataRequired(message=_l("This field is required."))


def _one_line_name(form, field) -> None:
    """Names go into e-mail headers: the rule is `services.person_names`."""
    if isinstance(field.data, str) and person_names.problem(field.data):
        raise ValidationError(_l("Write the name on one line, without control characters or “=?”."))


def _name_field(label=None):
    return StringField(
        label or _l("Name"),
        validators=[_required(), Length(max=NAME_MAX, message=_l("Use at most %(max)d characters.")),
                    _one_line_name],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


def _email_field():
    return EmailField(
        _l("E-mail"),
        validators=[
            _required(),
            Length(max=EMAIL_MAX, message=_l("Use at most %(max)d characters.")),
            Email(message=_l("Enter an e-mail address like name@example.com."), check_deliverability=False),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


def _new_password_field(label=None, *, required: bool = True):
    return PasswordField(
        label or _l("Password"),
        validators=[
            _required() if required else Optional(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Use between %(min)d and %(max)d characters."),
            ),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[_required(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[_required(), Length(max=MAX_PASSWORD_LENGTH)])


class RegisterForm(FlaskForm):
    name = _name_field(_l("Your name"))
    email = _email_field()
    password = _new_password_field()


class ConfirmAddressForm(FlaskForm):
    """Finishing a sign-up from the e-mailed link: the name and password typed here are the account's."""

    name = _name_field(_l("Your name"))
    password = _new_password_field()


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = _new_password_field(_l("New password"))


class ProfileForm(FlaskForm):
    name = _name_field()
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("Same as my browser")), *LANGUAGE_CHOICES],
        validators=[Optional()],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[_required(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = _new_password_field(_l("New password"))


class AdminCreateUserForm(FlaskForm):
    name = _name_field()
    email = _email_field()
    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES], default="agent")
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="en")
    password = _new_password_field(_l("Initial password"), required=False)
    send_link = BooleanField(_l("E-mail them a link to choose their own password"), default=True)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.password.data and not self.send_link.data:
            self.password.errors = [
                *self.password.errors,
                _l("Give an initial password, or let them choose one from an e-mailed link."),
            ]
            return False
        return valid


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])


class ConfirmForm(FlaskForm):
    """A button that POSTs: only the CSRF token."""
