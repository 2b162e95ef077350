"""Signing up, logging in and out, resetting a forgotten password, and one's own account page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from portal import ratelimits
from portal.clock import utcnow
from portal.errors import Invalid
from portal.extensions import db_session, limiter
from portal.models import User
from portal.services import accounts, password_reset, registration
from portal.services.account_links import InvalidLink
from portal.views import carried_forms, mailer
from portal.views.account_forms import (
    ChangePasswordForm,
    ConfirmAddressForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from portal.views.safe_redirect import local_target

bp = Blueprint("auth", __name__)

Page = str | Response | tuple[str, int]


# Rate limits: per IP, and per account (the e-mail typed), so spreading guesses over many addresses
# or many machines both run into the limit. Only POSTs count; showing the form is free.
def _attempt_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _account_key() -> str:
    # stored_key: an address typed half a megabyte long is kept as its digest, not as a half-megabyte key
    return "account:" + ratelimits.stored_key(accounts.normalise_email(request.form.get("email", "")))


def _rate_limited(view):
    view = limiter.limit(_attempt_limit, key_func=_account_key, methods=["POST"])(view)
    return limiter.limit(_attempt_limit, key_func=get_remote_address, methods=["POST"])(view)


def _next_target() -> str:
    return local_target(request.args.get("next")) or url_for("main.home")


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.route("/login", methods=["GET", "POST"])
@_rate_limited
def login() -> Page:
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db_session(), form.email.data, form.password.data)
        if user is not None and registration.awaits_confirmation(user):
            # Only someone who knows the password learns this, so it gives nothing away.
            send_confirmation_link(user, local_target(request.args.get("next")))
            form.email.errors = [_("Confirm your e-mail address first: we have sent a new link to %(email)s.",
                                   email=user.email)]
        elif user is not None:
            login_user(user)
            carried = carried_forms.from_login_form(request)
            if carried is not None:  # the text of a post whose session had ended: the person sends it again
                return carried_forms.send_page(carried)
            return redirect(_next_target(), 303)
        else:
            form.password.errors = [_("Wrong e-mail or password.")]
    return render_template("auth/login.html", form=form, carried=carried_forms.from_login_form(request)), _status()


@bp.post("/logout")
def logout() -> Response:
    """Logging out ends the person's sessions on every device: a session is a signed cookie kept by the browser,
    so a copy of it (taken from a shared computer, say) stops working only when its generation is raised."""
    if current_user.is_authenticated:
        accounts.end_sessions(current_user._get_current_object())
        db_session().commit()
    logout_user()
    flash(_("You have logged out on every device."), "info")
    return redirect(url_for("main.home"), 303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, key_func=get_remote_address, methods=["POST"])
def register() -> Page:
    """Every address gets the same answer: a new one its confirmation link, one with an account a note to its
    owner (no 'already taken' to tell who is a customer)."""
    if current_user.is_authenticated:
        return redirect(_next_target(), 303)
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("auth/register.html", form=form), _status()
    locale = session.get("lang") or _current_language()
    signed_up = registration.sign_up(
        db_session(), email=form.email.data, name=form.name.data, password=form.password.data,
        locale=locale, now=utcnow(),
    )
    db_session().commit()
    if signed_up.awaits_confirmation:
        send_confirmation_link(signed_up.user, local_target(request.args.get("next")))
    else:
        mailer.send_email(signed_up.user, "registration_exists", login_url=mailer.absolute_url("auth.login"),
                          forgot_url=mailer.absolute_url("auth.forgot_password"))
    session["signed_up_as"] = accounts.normalise_email(form.email.data)
    return redirect(url_for("auth.check_email"), 303)


@bp.get("/register/check-email")
def check_email() -> Page:
    return render_template("auth/check_email.html", email=session.get("signed_up_as"),
                           days=int(current_app.config["CONFIRMATION_MAX_AGE"]) // 86400)


def confirmation_links() -> registration.ConfirmationLinks:
    return registration.ConfirmationLinks(
        current_app.config["SECRET_KEY"], int(current_app.config["CONFIRMATION_MAX_AGE"])
    )


def send_confirmation_link(user: User, next_target: str | None) -> bool:
    extra = {"next": next_target} if next_target else {}
    return mailer.send_email(
        user, "confirm_address",
        confirm_url=mailer.absolute_url("auth.confirm_address", token=confirmation_links().make(user, **extra)),
        days=int(current_app.config["CONFIRMATION_MAX_AGE"]) // 86400,
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, key_func=get_remote_address, methods=["POST"])
def confirm_address(token: str) -> Page:
    """The link shows a form: mail scanners that open every link in a message must not confirm for the owner, and
    the password typed in it becomes the account's, so only whoever reads the mailbox chooses it."""
    links = confirmation_links()
    try:
        user, link = links.load(db_session(), token, now=utcnow())
    except InvalidLink as exc:
        return render_template("auth/confirm_invalid.html", reason=exc.message), 400
    form = ConfirmAddressForm(data={"name": user.name})
    if not form.validate_on_submit():
        return render_template("auth/confirm_address.html", form=form, user=user, token=token), _status()
    next_target = registration.confirm(db_session(), user, link, name=form.name.data, password=form.password.data,
                                       locale=session.get("lang") or _current_language(), now=utcnow())
    db_session().commit()
    login_user(user)
    flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
    return redirect(local_target(next_target) or url_for("main.home"), 303)


def _current_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def reset_tokens() -> password_reset.ResetTokens:
    return password_reset.ResetTokens(
        current_app.config["SECRET_KEY"], int(current_app.config["PASSWORD_RESET_MAX_AGE"])
    )


def send_reset_link(user: User, *, invited: bool = False) -> bool:
    """The reset e-mail; an admin who creates an account without a password sends it as an invitation."""
    return mailer.send_email(
        user,
        "password_reset",
        reset_url=mailer.absolute_url("auth.reset_password", token=reset_tokens().make(user)),
        minutes=int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60,
        invited=invited,
    )


@bp.route("/forgot-password", methods=["GET", "POST"])
@_rate_limited
def forgot_password() -> Page:
    """The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot_password.html", form=form), _status()
    user = accounts.find_by_email(db_session(), form.email.data)
    if user is not None and user.active:
        send_reset_link(user)
    else:
        _render_reset_mail_for_nobody(form.email.data)
    flash(_("If an account exists for %(email)s, we have sent it a link to choose a new password.",
            email=form.email.data), "info")
    return redirect(url_for("auth.login"), 303)


def _render_reset_mail_for_nobody(email: str) -> None:
    """Compose the same mail without sending it, so an unknown address is not answered measurably faster
    than a known one (the reset mail is most of the work of a known address)."""
    stand_in = User(id=0, email=accounts.normalise_email(email), name=email, role="customer", password_hash="")
    mailer.render_email("password_reset", mailer.recipient_language(stand_in), user=stand_in,
                        reset_url=mailer.absolute_url("auth.reset_password", token=reset_tokens().make(stand_in)),
                        minutes=int(current_app.config["PASSWORD_RESET_MAX_AGE"]) // 60, invited=False)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_attempt_limit, key_func=get_remote_address, methods=["POST"])
def reset_password(token: str) -> Page:
    tokens = reset_tokens()
    try:
        tokens.user_for(db_session(), token, now=utcnow())
    except password_reset.InvalidResetToken:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/reset_password.html", form=form, token=token), _status()
    user = password_reset.reset_password(db_session(), tokens, token, form.password.data, now=utcnow())
    db_session().commit()
    login_user(user)  # the new password ended every other session (someone who had the old one is logged out)
    flash(_("Your new password is saved. You are logged in."), "success")
    return redirect(url_for("main.home"), 303)


@bp.get("/account")
@login_required
def account() -> Page:
    return _account_page(_profile_form_for(current_user), ChangePasswordForm(formdata=None))


def _profile_form_for(user: User) -> ProfileForm:
    return ProfileForm(formdata=None, data={"name": user.name, "locale": user.locale or ""})


def _account_page(profile_form: ProfileForm, password_form: ChangePasswordForm, status: int = 200) -> Page:
    return render_template("auth/account.html", profile_form=profile_form, password_form=password_form), status


@bp.post("/account")
@login_required
def update_account() -> Page:
    form = ProfileForm()
    if not form.validate_on_submit():
        return _account_page(form, ChangePasswordForm(formdata=None), 422)
    user = current_user._get_current_object()
    accounts.update_profile(db_session(), user, name=form.name.data, locale=form.locale.data or None,
                            actor=user, now=utcnow())
    db_session().commit()
    session.pop("lang", None)
    flash(_("Your profile is saved."), "success")
    return redirect(url_for("auth.account"), 303)


@bp.post("/account/password")
@login_required
@limiter.limit(_attempt_limit, key_func=lambda: f"user:{getattr(current_user, 'id', None)}", methods=["POST"])
def change_password() -> Page:
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            accounts.change_password(db_session(), user, current_password=form.current_password.data,
                                     new_password=form.new_password.data, actor=user, now=utcnow())
        except Invalid as exc:
            if exc.details.get("field") != "current_password":
                raise
            form.current_password.errors = [_("That is not your current password.")]
        else:
            db_session().commit()
            login_user(user)  # the new password ended every session, this one too: it goes on with a new one
            flash(_("Your new password is saved. You were logged out everywhere else."), "success")
            return redirect(url_for("auth.account"), 303)
    return _account_page(_profile_form_for(user), form, 422)
