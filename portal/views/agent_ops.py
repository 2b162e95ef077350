"""Agent operations beside the workspace: tiers, problems and incidents, merges, "Next ticket", availability.

Every route is a plain form post answered with a redirect (303) back to the workspace; with htmx, the side
panel's operations fragment (`agent/_ops_panel.html`) is answered instead, and "Next ticket" redirects with
`HX-Redirect`. Services do the work; each view commits once.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.clock import utcnow
from portal.errors import DomainError
from portal.extensions import db_session, desk_lists
from portal.integers import whole_number
from portal.models import User
from portal.services import assignment, custom_statuses, escalation, problems, sla, tickets
from portal.status import Action, can
from portal.views.access import agent_required
from portal.views.errors import translate_domain_message
from portal.views.forms import WholeNumberField
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.safe_redirect import local_target

bp = Blueprint("agent_ops", __name__, url_prefix="/agent")


class VersionedForm(FlaskForm):
    version = WholeNumberField(validators=[Optional()])


class TierForm(VersionedForm):
    note = TextAreaField(_l("Private note for the next tier"))


class MergeForm(VersionedForm):
    target = StringField(_l("Merge into ticket"))


class ProblemForm(FlaskForm):
    problem = StringField(_l("Problem ticket"))


class ProblemUpdateForm(FlaskForm):
    body = TextAreaField(_l("Public update for every linked requester"))
    solve = BooleanField(_l("Solve the problem and all its incidents with this message"))


class PlainForm(FlaskForm):
    pass


@bp.app_template_global("ops_panel")
def _ops_panel(ticket, known_incidents: list | None = None) -> dict[str, object]:
    """What the operations panel draws; cheap (no similarity search: that one loads lazily). `known_incidents`:
    the problem's incidents when the page has read them already."""
    session, lists = db_session(), desk_lists()
    tier = escalation.current_tier(ticket)
    return {
        "tier": tier,
        "up": lists.tiers.get(tier + 1) if can(ticket, Action.ESCALATE, "agent") else None,
        "down": lists.tiers.get(tier - 1) if tier > 1 and can(ticket, Action.DE_ESCALATE, "agent") else None,
        "incidents": (known_incidents if known_incidents is not None else
                      problems.incidents(session, ticket) if ticket.problem_id is None else []),
        "can_merge": can(ticket, Action.MERGE, "agent"),
        "labels": lists.labels_for(ticket.status),
    }


@bp.app_template_global("sla_promise")
def _sla_promise(priority: str | None):
    """The first-reply time promised to the signed-in customer filing a ticket (None without a policy)."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return sla.promised_first_reply(db_session(), None, priority or "normal", user, utcnow())


def _me() -> User:
    return current_user._get_current_object()


def _ticket(ref: str):
    return tickets.get_for(db_session(), ref, _me())


def _back(ticket, message: str | None = None, *, error: bool = False,
          reload: bool = False) -> Response | tuple[str, int]:
    """The workspace again, with what happened. For htmx: the operations fragment, and the ticket's new version
    for the page's other forms (`ticketVersion`); a change the rest of the page shows (`reload`) reloads it."""
    if is_htmx() and reload and not error:
        flash(message or "", "success")
        response = Response("", 204)
        response.headers["HX-Redirect"] = _workspace_url(ticket.ref)
        return response
    if is_htmx():
        html = render_template("agent/_ops_panel.html", ticket=ticket, ops_message=message, ops_error=error)
        response = make_response(html, 422 if error else 200)
        response.headers["HX-Trigger"] = json.dumps({"ticketVersion": {"value": ticket.version}})
        return vary_on_htmx(response)
    if message:
        flash(message, "error" if error else "success")
    return redirect(_workspace_url(ticket.ref), 303)


def _workspace_url(ref: str) -> str:
    if "agent.workspace" in current_app.view_functions:
        return url_for("agent.workspace", ref=ref)
    return url_for("agent_ops.panel", ref=ref)


def _refused(ticket, exc: DomainError) -> Response | tuple[str, int]:
    db_session().rollback()
    return _back(ticket, translate_domain_message(exc) or _("That did not work."), error=True)


@bp.get("/tickets/<ref>/operations")
@agent_required
def panel(ref: str) -> Response:
    """The operations panel on its own page (used when the workspace is not there, and for errors)."""
    ticket = _ticket(ref)
    template = "agent/_ops_panel.html" if is_htmx() else "agent/operations.html"
    return vary_on_htmx(make_response(render_template(template, ticket=ticket)))


@bp.post("/tickets/<ref>/escalate")
@agent_required
def escalate(ref: str) -> Response | tuple[str, int]:
    return _tier_move(ref, escalation.escalate, _("Escalated to %(group)s."))


@bp.post("/tickets/<ref>/de-escalate")
@agent_required
def de_escalate(ref: str) -> Response | tuple[str, int]:
    return _tier_move(ref, escalation.de_escalate, _("Sent back to %(group)s."))


def _tier_move(ref: str, move, done: str) -> Response | tuple[str, int]:
    ticket = _ticket(ref)
    form = TierForm()
    form.validate()
    try:
        group = move(db_session(), ticket, note=form.note.data or "", actor=_me(), now=utcnow(),
                     expected_version=form.version.data)
    except DomainError as exc:
        return _refused(ticket, exc)
    db_session().commit()
    return _back(ticket, done % {"group": group.name}, reload=True)


@bp.post("/tickets/<ref>/merge")
@agent_required
def merge(ref: str) -> Response | tuple[str, int]:
    ticket = _ticket(ref)
    form = MergeForm()
    form.validate()
    try:
        target = tickets.get_for(db_session(), form.target.data or "", _me())
        with force_locale(ticket.language):
            pointer = _("This request was merged into ticket %(ref)s: we continue there.", ref=target.ref)
        problems.merge(db_session(), ticket, target, pointer=pointer, actor=_me(), now=utcnow(),
                       expected_version=form.version.data)
    except DomainError as exc:
        return _refused(ticket, exc)
    db_session().commit()
    flash(_("%(source)s was merged into this ticket.", source=ticket.ref), "success")
    if is_htmx():
        response = Response("", 204)
        response.headers["HX-Redirect"] = _workspace_url(target.ref)
        return response
    return redirect(_workspace_url(target.ref), 303)


@bp.post("/tickets/<ref>/problem")
@agent_required
def link_problem(ref: str) -> Response | tuple[str, int]:
    ticket = _ticket(ref)
    form = ProblemForm()
    form.validate()
    try:
        problem = tickets.get_for(db_session(), form.problem.data or "", _me())
        problems.link(db_session(), ticket, problem, actor=_me(), now=utcnow())
    except DomainError as exc:
        return _refused(ticket, exc)
    db_session().commit()
    return _back(ticket, _("Linked to the problem %(ref)s.", ref=problem.ref))


@bp.post("/tickets/<ref>/problem/unlink")
@agent_required
def unlink_problem(ref: str) -> Response | tuple[str, int]:
    ticket = _ticket(ref)
    PlainForm().validate()
    problems.unlink(db_session(), ticket, actor=_me(), now=utcnow())
    db_session().commit()
    return _back(ticket, _("No longer linked to a problem."))


@bp.post("/tickets/<ref>/problem-update")
@agent_required
def problem_update(ref: str) -> Response | tuple[str, int]:
    ticket = _ticket(ref)
    form = ProblemUpdateForm()
    form.validate()
    try:
        updated = problems.update_all(db_session(), ticket, body=form.body.data or "", solve=form.solve.data,
                                      actor=_me(), now=utcnow())
    except DomainError as exc:
        return _refused(ticket, exc)
    db_session().commit()
    if form.solve.data:
        return _back(ticket, _("Solved, with %(count)d linked tickets.", count=len(updated)))
    return _back(ticket, _("Update sent to %(count)d linked tickets.", count=len(updated)))


@bp.post("/tickets/<ref>/custom-status")
@agent_required
def custom_status(ref: str) -> Response | tuple[str, int]:
    ticket = _ticket(ref)
    form = VersionedForm()
    form.validate()
    value = request.form.get("custom_status", "")
    try:
        custom_statuses.set_for(db_session(), ticket, whole_number(value, minimum=1), actor=_me(),
                                now=utcnow(), expected_version=form.version.data)
    except DomainError as exc:
        return _refused(ticket, exc)
    db_session().commit()
    return _back(ticket, _("Label saved."))


@bp.app_template_global("custom_status_label")
def _custom_status_label(ticket) -> str | None:
    """The ticket's custom status in the reader's language, for badges next to the core status."""
    custom = ticket.custom_status
    return custom.label(str(get_locale() or "en")) if custom is not None else None


@bp.get("/tickets/<ref>/similar")
@agent_required
def similar(ref: str) -> Response:
    """Open tickets that look like this one: candidates to link as incidents of the same problem."""
    ticket = _ticket(ref)
    found = problems.suggest(db_session(), ticket, now=utcnow())
    template = "agent/_similar.html" if is_htmx() else "agent/similar.html"
    return vary_on_htmx(make_response(render_template(template, ticket=ticket, similar=found,
                                                      form=ProblemForm(formdata=None))))


@bp.post("/next")
@agent_required
def next_ticket() -> Response:
    PlainForm().validate()
    session, me = db_session(), _me()
    ticket = assignment.next_ticket(session, me, now=utcnow())
    session.commit()
    if ticket is None:
        beyond = assignment.waiting_beyond_skills(session, me)
        if beyond:
            flash(_("No ticket you have the skills for is waiting. %(count)s others need a skill or language you "
                    "do not have (yours: %(skills)s).", count=beyond, skills=", ".join(me.skills or []) or "—"),
                  "info")
        else:
            flash(_("No tickets are waiting in your groups. Well done."), "info")
        url = _referrer_or_home()
    else:
        flash(_("%(ref)s is yours now.", ref=ticket.ref), "success")
        url = _workspace_url(ticket.ref)
    if is_htmx():
        response = Response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.post("/availability")
@agent_required
def availability() -> Response:
    PlainForm().validate()
    available = request.form.get("available") == "1"
    assignment.set_available(db_session(), _me(), available, now=utcnow())
    db_session().commit()
    if is_htmx():
        return vary_on_htmx(make_response(render_template("agent/_next_ticket.html")))
    if available:
        flash(_("You are available for new tickets."), "success")
    else:
        flash(_("You are away: no new tickets will be assigned to you."), "success")
    return redirect(_referrer_or_home(), 303)


@bp.get("/operations")
@agent_required
def panel_home() -> Response:
    """Where "Next ticket" lands when the agent queue is not there."""
    if "agent.queue" in current_app.view_functions:
        return redirect(url_for("agent.queue"), 303)
    return make_response(render_template("agent/operations.html", ticket=None))


def _referrer_or_home() -> str:
    """Back to the page the button was on, when it is one of ours."""
    parts = urlsplit(request.referrer or "")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    same_host = parts.netloc in ("", request.host)
    return (local_target(path) if same_host else None) or url_for("agent_ops.panel_home")
