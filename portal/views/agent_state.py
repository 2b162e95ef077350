"""Screens that tell the truth (issue 19), on the `agent` blueprint.

After any change made in the workspace through htmx, the answer carries every part of the page that shows the
ticket's state: the part the agent acted on, and out of band (hx-swap-oob) the header (status, assignee, "Take
it"), the side panel and the timeline. One helper, `state_answer`, so that no endpoint forgets one. Another
agent's change reaches an open page through the presence poll: it is said in words ("Agnes changed this ticket
(status → Pending)") with a button that loads the same parts again, leaving the composer and its text alone.
Without JavaScript a change redirects to the whole page, which shows everything."""

from __future__ import annotations

import json

from flask import Response, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.extensions import db_session, desk_lists
from portal.services import agent_desk, tickets
from portal.status import agent_label
from portal.views.access import agent_required
from portal.views.agent import _me, _workspace, bp
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.labels import language_label, postponed_time

# The parts of the workspace that show the ticket's state, each with a stable id; the timeline is a block of the
# workspace body (its event lines stay where the whole page draws them).
PARTS = {"header": "agent/_ws_header.html", "panel": "agent/_side_panel.html", "composer": "agent/_composer.html",
         "presence": "agent/_presence.html"}
STATE_PARTS = ("header", "panel", "timeline")


def state_answer(ticket, *, primary: str, status: int = 200, **context: object) -> Response:
    """`primary` (the part htmx targets) as it is now, then the other state parts out of band, and the new
    version for every form on the page. `context` goes to `_workspace` (form, saved, conflict ...)."""
    values = _workspace(ticket, **context)
    parts = [primary, *(p for p in STATE_PARTS if p != primary)]
    body = "".join(_render(part, values, oob=part != primary) for part in parts)
    response = Response(body, status)
    response.headers["HX-Trigger"] = json.dumps({"ticketVersion": {"value": ticket.version}})
    return vary_on_htmx(response)


def _render(part: str, values: dict[str, object], *, oob: bool) -> str:
    if part != "timeline":
        return render_template(PARTS[part], **{**values, "oob": oob})
    app = current_app._get_current_object()
    template = app.jinja_env.get_template("agent/_workspace_body.html")
    context = {**values, "oob": oob}
    app.update_template_context(context)
    return "".join(template.blocks["timeline"](template.new_context(context)))


@bp.get("/tickets/<ref>/state")
@agent_required
def ticket_state(ref: str) -> Response:
    """"Load the changes": the header, side panel and timeline as they are now, and the presence line without
    the notice; the composer is not part of the answer, so what the agent typed stays. Without JavaScript: the
    whole page."""
    ticket = tickets.get_for(db_session(), ref, _me(), options=agent_desk.WORKSPACE_LOAD)
    if not is_htmx():
        return redirect(url_for("agent.workspace", ref=ticket.ref), 303)
    return state_answer(ticket, primary="presence", changed=False, seen_version=ticket.version)


# ---- The other agent's change, in words --------------------------------------------------------------------


@bp.app_template_global("change_note")
def change_note(ticket) -> str:
    """The latest change in one sentence: "Agnes changed this ticket (status → Pending)."."""
    events = agent_desk.last_changes(db_session(), ticket)
    if not events:
        return _("This ticket changed since you opened it.")
    actor = events[-1].actor
    name = actor.name if actor else _("System")
    if any(e.kind == "replied" for e in events):
        return _("%(name)s added a reply.", name=name)
    if any(e.kind == "note_added" for e in events):
        return _("%(name)s added a private note.", name=name)
    words = [w for w in (_change_words(e) for e in events) if w]
    if not words:
        return _("%(name)s changed this ticket.", name=name)
    return _("%(name)s changed this ticket (%(changes)s).", name=name, changes=", ".join(words))


def _change_words(event) -> str | None:
    """"status → Pending": a field and its new value, named as the side panel names them."""
    new, lists = event.new_value, desk_lists()
    if event.field == "status":
        return _("status → %(value)s", value=_(agent_label(new)) if new else "—")
    if event.field == "priority":
        labels = {"low": _("Low"), "normal": _("Normal"), "high": _("High"), "urgent": _("Urgent")}
        return _("priority → %(value)s", value=labels.get(new or "", new or "—"))
    if event.field == "assignee_id":
        agent = next((a for a in lists.agents if str(a.id) == new), None)
        return _("assignee → %(value)s", value=agent.name if agent else _("Nobody"))
    if event.field == "group_id":
        group = next((g for g in lists.groups if str(g.id) == new), None)
        return _("group → %(value)s", value=group.name if group else _("No group"))
    if event.field == "category_id":
        category = next((c for c in lists.categories if str(c.id) == new), None)
        lang = str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])
        return _("category → %(value)s", value=category.name(lang) if category else _("No category"))
    if event.field == "language":
        return _("language → %(value)s", value=language_label(new))
    if event.kind == "tag_added":
        return _("tag %(tag)s added", tag=new)
    if event.kind == "tag_removed":
        return _("tag %(tag)s removed", tag=event.old_value)
    if event.kind == "postponed" and new:
        return _("postponed until %(when)s", when=postponed_time(new))
    if event.kind == "postpone_ended":
        return _("back from postponement")
    return None
