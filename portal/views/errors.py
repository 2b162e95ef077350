"""Every error becomes one answer: a full page in the user's language, or JSON under /api/."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.errors import DomainError

log = logging.getLogger(__name__)

TITLES = {
    400: _l("Bad request"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported kind of content"),
    422: _l("Could not process this"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
EXPLANATIONS = {
    400: _l("The request could not be understood. Please go back and try again."),
    401: _l("You need to log in to see this."),
    403: _l("You do not have access to this page."),
    404: _l("We could not find that page. It may have moved, or the address may be mistyped."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This changed while you were working on it. Reload to see the latest version."),
    413: _l("What you sent is larger than we accept."),
    415: _l("This address takes a form, not the kind of content that was sent."),
    422: _l("Some of what you sent is not valid."),
    429: _l("You have tried too many times. Please wait a minute and try again."),
    500: _l("We are sorry: an unexpected error happened. It has been logged and nothing you sent is lost."),
}


# A signed-in person opened a part of the portal their account has no role for (views.access).
STAFF_AREAS = {
    "agent": _l("This part of Mesa is for the support team. You are signed in as %(email)s, which is not an "
                "agent's account."),
    "admin": _l("This part of Mesa is for administrators. You are signed in as %(email)s, which is not an "
                "administrator's account."),
}


def translate_domain_message(exc: DomainError) -> str | None:
    """A service's message id in the user's language, its %(placeholders)s filled from the error's details."""
    if not exc.message:
        return None
    values = {k: v for k, v in exc.details.items() if isinstance(v, str | int | float)}
    try:
        return gettext(exc.message, **values)
    except (KeyError, ValueError, TypeError):
        return exc.message


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None, code: str | None = None, *, area: str | None = None,
                   back: str | None = None):
    title = str(TITLES.get(status, TITLES[500]))
    text = message or str(EXPLANATIONS.get(status, EXPLANATIONS[500]))
    if wants_json():
        return jsonify(error={"code": code or title.lower().replace(" ", "_"), "message": text}), status
    template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/error.html"
    return render_template(template, status=status, title=title, message=text, staff_area=area, back=back), status


def _staff_only(exc: HTTPException):
    """The 403 of views.access, or None for any other error."""
    if exc.code != 403 or exc.description not in STAFF_AREAS or not current_user.is_authenticated:
        return None
    message = str(STAFF_AREAS[exc.description] % {"email": current_user.email})
    return error_response(403, message, area=exc.description)


def limit_mb() -> int:
    """The body limit of this request in MB (JSON bodies have a lower one than uploads), at least 1."""
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    return max(1, limit // (1024 * 1024))


# Headers an HTTP error must keep when we replace Werkzeug's page with ours: 405 lists the methods the URL
# accepts (RFC 9110 requires Allow), 401 says how to authenticate, 429 and 503 when to come back.
KEPT_ERROR_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def with_exception_headers(answer: tuple, exc: HTTPException) -> tuple:
    response, status = answer
    if not isinstance(response, Response):
        response = make_response(response)
    for name, value in exc.get_headers():
        if name in KEPT_ERROR_HEADERS:
            response.headers[name] = value
    return response, status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        kept = _expired_form_kept()
        if kept is not None:
            return kept
        return error_response(400, str(_l("Your form expired or was sent from elsewhere. Please try again.")),
                              code="csrf_failed")

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        _rollback()
        return error_response(exc.status_code, translate_domain_message(exc), code=type(exc).__name__.lower())

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        if code == 413:
            answer = error_response(413, str(_l("Requests are limited to %(mb)s MB.", mb=limit_mb())),
                                    back=_form_page())
        elif (staff_only := _staff_only(exc)) is not None:
            answer = staff_only
        else:
            answer = error_response(code)
        return with_exception_headers(answer, exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        _rollback()
        return error_response(500)


# The fields people write in (replies, notes, descriptions, reasons, comments): a form with one of them filled is
# given back when its token expired.
TYPED_FIELDS = frozenset({"body", "description", "subject", "reason", "comment", "text", "note"})


def _form_page() -> str | None:
    """The page of this site a refused form was sent from, for "Back to your form" (its text is kept there)."""
    from urllib.parse import urlsplit

    from portal.views.safe_redirect import local_target

    if request.method != "POST" or wants_json() or not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return local_target(parts.path + (f"?{parts.query}" if parts.query else ""))


def _expired_form_kept():
    """A form whose CSRF token no longer holds (its page was open too long, the session ended, the secret
    changed) comes back with what was typed, a fresh token and one button to send it again: nothing typed is
    lost (views.carried_forms keeps the same fields a login does). None for the API or a post with no text."""
    from portal.views import carried_forms
    from portal.views.htmx import is_htmx

    if wants_json() or request.method != "POST":
        return None
    carried = carried_forms.from_post(request)
    if carried is None or not any(name in TYPED_FIELDS and value.strip() for name, value in carried.fields):
        return None  # a button or a setting (a language, a filter): nothing written to keep
    headers = {"Vary": "HX-Request"}
    if is_htmx():  # the page replaces the body, as for an ended login (portal.js swaps it in)
        headers.update({"HX-Retarget": "body", "HX-Reswap": "innerHTML"})
    return carried_forms.send_page(carried, expired=True), 400, headers


def _rollback() -> None:
    from flask import g

    db = g.get("db_session")
    if db is not None:
        db.rollback()
