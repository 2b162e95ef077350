"""What a person typed into a form is kept when their login ended before they sent it.

A POST that reaches a page needing a login from someone no longer logged in (the session outlived
SESSION_LIFETIME, or they logged out elsewhere) gets the login page itself (401) instead of a redirect, with the
posted text fields as hidden inputs. Logging in with that form shows "Send what you wrote": a form to the original
address with the text prefilled, a fresh CSRF token and one button. Nothing is sent without the person pressing
it, and the target's own authorisation decides as usual (another person may have logged in).

Never carried: passwords, the CSRF token, files (the page asks for them again). Only to a path of this site
(`safe_redirect.local_target`), and at most CARRY_MAX_CHARS characters in all: beyond that the page says so and
shows the text to copy rather than cutting it short.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Request, flash, redirect, render_template, request
from flask_login import login_url
from werkzeug.wrappers import Response

from portal.views.htmx import is_htmx
from portal.views.safe_redirect import local_target

PREFIX = "carried."  # carried field names in the login form, apart from its own email/password/csrf_token
ACTION = "carried_action"
FILES = "carried_files"  # names of file inputs that had a file: they are asked for again
# Twice the longest text a form takes (50,000 characters), far below Werkzeug's form memory limit (500 kB) that
# the login POST carrying it must pass.
CARRY_MAX_CHARS = 100_000
_NEVER = ("password", "csrf_token", "secret", "token")


@dataclass
class Carried:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    too_long: bool = False

    limit: int = CARRY_MAX_CHARS

    @property
    def size(self) -> int:
        return sum(len(name) + len(value) for name, value in self.fields)

    def shown(self, editable: frozenset[str] = frozenset()) -> list[tuple[str, str, bool]]:
        """(name, value, as a text area): long or multi-line values are the text the person wrote, and so are the
        `editable` fields (an expired form gives back its subject and message to correct)."""
        return [(name, value, name in editable or "\n" in value or len(value) > 80) for name, value in self.fields]


def _carriable(name: str) -> bool:
    lowered = name.lower()
    return not any(word in lowered for word in _NEVER) and not name.startswith(PREFIX) and name != ACTION


def from_post(req: Request) -> Carried | None:
    """The text of an anonymous POST worth keeping, or None (nothing typed, or not a path of this site)."""
    action = local_target(req.full_path.rstrip("?"))
    if action is None:
        return None
    fields = [(name, value) for name, value in req.form.items(multi=True) if _carriable(name)]
    if not any(value.strip() for _name, value in fields):
        return None
    files = sorted({name for name, upload in req.files.items(multi=True) if upload.filename})
    carried = Carried(action, fields, files)
    carried.too_long = carried.size > CARRY_MAX_CHARS
    return carried


def from_login_form(req: Request) -> Carried | None:
    """The carried fields a login form posts back; None when there are none or the address is not this site's."""
    action = local_target(req.form.get(ACTION))
    if action is None:
        return None
    fields = [(name[len(PREFIX):], value) for name, value in req.form.items(multi=True)
              if name.startswith(PREFIX) and _carriable(name[len(PREFIX):])]
    if not fields:
        return None
    files = [name for name in req.form.getlist(FILES) if _carriable(name)]
    carried = Carried(action, fields, files)
    if carried.size > CARRY_MAX_CHARS:  # crafted: the login page never carries more
        return None
    return carried


def unauthorized() -> Response | tuple[str, int, dict[str, str]]:
    """Flask-Login's answer to a visitor who must log in. GETs go to the login page as before; a POST with text
    in it gets the login page carrying that text (a redirect would drop it)."""
    carried = from_post(request) if request.method == "POST" else None
    if carried is None:
        # what Flask-Login does without a handler (this app sets no USE_SESSION_FOR_NEXT)
        from portal.extensions import login_manager

        flash(str(login_manager.login_message), login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))
    from portal.views.account_forms import LoginForm

    headers = {"Vary": "HX-Request"}
    if is_htmx():
        # The whole login page replaces the page's body: portal.js lets a 401 swap in (htmx swaps no 4xx by
        # default), so the agent sees why and logs in with the text kept.
        headers.update({"HX-Retarget": "body", "HX-Reswap": "innerHTML"})
    page = render_template("auth/login.html", form=LoginForm(formdata=None), carried=carried,
                           login_next=carried.action)
    return page, 401, headers


def send_page(carried: Carried, *, expired: bool = False) -> str:
    """"Send what you wrote": after logging in again, or (`expired`) after a form's CSRF token ran out."""
    from portal.views.errors import TYPED_FIELDS

    shown = carried.shown(TYPED_FIELDS if expired else frozenset())
    return render_template("auth/send_carried.html", carried=carried, shown=shown, expired=expired)
