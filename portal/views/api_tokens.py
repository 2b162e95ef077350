"""Personal API tokens in one's own account: make one (its secret is shown once), see when each was last
used, revoke one. Customers, agents and admins alike; a token acts with its owner's rights."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.clock import utcnow
from portal.extensions import db_session
from portal.models import User
from portal.services import api_tokens

bp = Blueprint("api_tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(message=_l("This field is required.")),
                    Length(max=api_tokens.NAME_MAX, message=_l("Use at most %(max)d characters."))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class RevokeForm(FlaskForm):
    """Only the CSRF token: revoking changes something, so it is a form post, never a link."""


def _me() -> User:
    return current_user._get_current_object()


def _page(form: TokenForm, *, new_secret: str | None = None, status: int = 200) -> tuple[str, int]:
    tokens = api_tokens.active_tokens(db_session(), _me())
    return render_template("account/tokens.html", form=form, tokens=tokens, new_secret=new_secret), status


@bp.get("/account/tokens")
@login_required
def index() -> tuple[str, int]:
    return _page(TokenForm(formdata=None))


@bp.post("/account/tokens")
@login_required
def create() -> Response | tuple[str, int]:
    """The secret appears on this response only: it is not stored, so it is not redirected to a page that
    could show it again."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    _token, secret = api_tokens.create(db_session(), name=form.name.data, actor=_me(), now=utcnow())
    db_session().commit()
    response = make_response(_page(TokenForm(formdata=None), new_secret=secret, status=201))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response | tuple[str, int]:
    form = RevokeForm()
    if not form.validate_on_submit():
        return _page(TokenForm(formdata=None), status=400)
    token = api_tokens.revoke(db_session(), token_id, actor=_me(), now=utcnow())
    db_session().commit()
    flash(_("The token “%(name)s” is revoked: programs using it are refused from now on.", name=token.name),
          "success")
    return redirect(url_for("api_tokens.index"), 303)
