"""The home page and the language switcher."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.extensions import db_session
from portal.views import kb_front
from portal.views.forms import LanguageForm
from portal.views.safe_redirect import local_target

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> str:
    """The front door: search first, then the help center's sections and articles, and the way to contact us."""
    if "kb.index" not in current_app.view_functions:
        return render_template("main/home.html")
    actor = current_user if current_user.is_authenticated else None
    return render_template("main/home.html", **kb_front.front_door(actor))


@bp.post("/language")
def set_language() -> Response:
    """Remember the choice for this visitor; a logged-in user keeps it as their preference."""
    form = LanguageForm()
    target = local_target(request.form.get("next")) or url_for("main.home")
    if form.validate_on_submit() and form.lang.data in current_app.config["LANGUAGES"]:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
            db_session().commit()
    return redirect(target, 303)


@bp.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
