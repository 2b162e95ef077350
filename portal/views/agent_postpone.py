"""Postpone and "Resume now" in the workspace's side panel, on the `agent` blueprint (services.postpone).

The agent picks a time in the portal's time zone (a `datetime-local` input) or one of the quick choices (each a
submit button), as a plain form post or with htmx, which answers with the side panel."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.clock import utcnow
from portal.errors import Conflict, DomainError
from portal.extensions import db_session
from portal.services import postpone, tickets
from portal.views import agent_state
from portal.views.access import agent_required
from portal.views.agent import _conflict_answer, _me, _side_panel, bp
from portal.views.agent_forms import PostponeForm, VersionForm
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx
from portal.views.labels import postponed_time
from portal.views.when import when

bp.add_app_template_filter(postponed_time, "postponed_time")
bp.add_app_template_global(utcnow, "utcnow")  # a row shows "Postponed until" only while it still is


@bp.app_template_global("postpone_panel")
def _postpone_panel(ticket) -> dict[str, object]:
    """What the side panel's Postpone control shows: the date when postponed, else the quick choices and the
    input's bounds, in the portal's time zone."""
    now, zone = utcnow(), _zone()
    if postpone.is_postponed(ticket, now=now):
        return {"postponed": True, "until": when(ticket.postponed_until),
                "until_iso": ticket.postponed_until.isoformat() + "Z"}
    return {"postponed": False,
            "choices": _postpone_choices(),
            "min": postpone.to_local(now, zone=zone), "max": postpone.to_local(now + postpone.MAX_AHEAD, zone=zone)}


@bp.app_template_global("postpone_choices")
def _postpone_choices() -> list[tuple[str, str]]:
    """The quick choices, for the queue's bulk Postpone."""
    return [(c.key, _(c.label)) for c in postpone.quick_choices(now=utcnow(), zone=_zone())]


@bp.post("/tickets/<ref>/postpone")
@agent_required
def postpone_ticket(ref: str) -> Response | tuple[str, int]:
    """Postpone until the time typed, or a quick choice (the button pressed names it)."""
    session, me, now = db_session(), _me(), utcnow()
    ticket = tickets.get_for(session, ref, me)
    form = PostponeForm()
    form.validate()
    try:
        if form.quick.data:
            until = postpone.quick_until(form.quick.data, now=now, zone=_zone())
        else:
            until = postpone.parse_local(form.until.data, zone=_zone())
        postpone.postpone(session, ticket, until, actor=me, now=now, expected_version=form.version.data)
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _conflict_answer(ticket, exc)
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, _("Postponed until %(when)s.", when=when(ticket.postponed_until)))


@bp.post("/tickets/<ref>/resume")
@agent_required
def resume_ticket(ref: str) -> Response | tuple[str, int]:
    """"Resume now": back in the queues, open, at once."""
    session, me = db_session(), _me()
    ticket = tickets.get_for(session, ref, me)
    form = VersionForm()
    form.validate()
    try:
        postpone.resume(session, ticket, actor=me, now=utcnow(), expected_version=form.version.data)
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _conflict_answer(ticket, exc)
    except DomainError as exc:
        return _refused(ticket, exc)
    return _done(ticket, _("Back from postponement: the ticket is open again."))


def _done(ticket, message: str) -> Response:
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("agent.workspace", ref=ticket.ref), 303)
    return agent_state.state_answer(ticket, primary="panel", saved="postpone")


def _refused(ticket, exc: DomainError) -> Response | tuple[str, int]:
    """A time in the past, a solved ticket: said in the panel (htmx) or as a message on the workspace."""
    db_session().rollback()
    db_session().refresh(ticket)
    message = translate_domain_message(exc) or _("Could not apply that.")
    if not is_htmx():
        flash(message, "error")
        return redirect(url_for("agent.workspace", ref=ticket.ref), 303)
    return render_template("agent/_side_panel.html", **_side_panel(ticket, panel_error=message)), exc.status_code


def _zone() -> str:
    return str(current_app.config["TIMEZONE"])
