"""The agent desk's smaller pages, on the `agent` blueprint: in-app notifications, e-mail preferences, the old
canned-response addresses (now leading to the macros); and what the side panel may offer as a ticket's
assignee."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from portal.clock import utcnow
from portal.extensions import db_session
from portal.integers import whole_number
from portal.models import User
from portal.services import agent_desk, agent_notifications, assignment_rules, macros, tickets
from portal.views.access import agent_required
from portal.views.agent import _me, bp
from portal.views.agent_forms import PrefsForm
from portal.views.htmx import is_htmx, vary_on_htmx

# ---- Who may be offered as assignee -----------------------------------------------------------------------


@bp.app_template_global("assignment_choice")
def _assignment_choice(ticket) -> str:
    """How the side panel offers the assignee (assignment_rules): "free" (any agent), "hand_over" (a guided
    group's ticket that is mine: nobody, or a member who fits it) or "fixed" (a guided group's ticket that is
    not mine: "Next ticket" hands them out)."""
    me = _me()
    if assignment_rules.may_choose_assignee(ticket, me):
        return "free"
    return "hand_over" if assignment_rules.may_hand_over(ticket, me) else "fixed"


@bp.app_template_global("hand_over_choices")
def _hand_over_choices(ticket) -> list[User]:
    """Whom the holder of a guided group's ticket may hand it to: the group's active members who fit it (and
    the holder, the current choice)."""
    group = ticket.group
    return sorted((a for a in (group.members if group else []) if a.is_agent and a.active
                   and (a.id == ticket.assignee_id or assignment_rules.fits(a, ticket))), key=lambda a: a.name)


# ---- Presence ----------------------------------------------------------------------------------------------


@bp.post("/tickets/<ref>/presence")
@agent_required
def presence(ref: str) -> str:
    """Polled every few seconds by the open workspace (and on typing): who else is here, and has the ticket
    changed since this page was loaded?"""
    session, me, now = db_session(), _me(), utcnow()
    ticket = tickets.get_for(session, ref, me)
    others = agent_desk.touch_presence(session, ticket, me, typing=request.form.get("typing") == "1", now=now)
    agent_notifications.mark_read(session, me, now=now, ticket=ticket)
    session.commit()
    seen = whole_number(request.form.get("seen_version"))
    if seen is not None and seen != ticket.version:
        # The page's own change answered with the whole state already; a poll that crossed it must not say
        # "changed" (a change of mine was made on the version this page showed, or it was refused).
        latest = agent_desk.latest_change(session, ticket)
        if latest is not None and latest.actor_id == me.id:
            seen = ticket.version
    changed = seen is not None and seen != ticket.version
    return render_template("agent/_presence.html", ticket=ticket, others=others, changed=changed,
                           seen_version=ticket.version if seen is None else seen)


# ---- Notifications -----------------------------------------------------------------------------------------


@bp.get("/notifications")
@agent_required
def notifications() -> Response:
    session, me = db_session(), _me()
    rows = agent_notifications.recent(session, me)
    template = "agent/_notification_list.html" if is_htmx() else "agent/notifications.html"
    return vary_on_htmx(Response(render_template(template, rows=rows, labels=agent_notifications.KIND_LABELS,
                                                 unread=agent_notifications.unread_count(session, me))))


@bp.post("/notifications/read")
@agent_required
def notifications_read() -> Response:
    session = db_session()
    agent_notifications.mark_read(session, _me(), now=utcnow())
    session.commit()
    return redirect(url_for("agent.notifications"), 303)


@bp.route("/preferences", methods=["GET", "POST"])
@agent_required
def preferences() -> Response | str:
    session, me = db_session(), _me()
    form = PrefsForm()
    labels = agent_notifications.KIND_LABELS
    form.email_kinds.choices = [SelectChoice(k, _(labels[k])) for k in agent_notifications.KINDS]
    if form.validate_on_submit():
        agent_notifications.set_email_kinds(session, me, form.email_kinds.data or [])
        session.commit()
        flash(_("Your e-mail preferences are saved."), "success")
        return redirect(url_for("agent.preferences"), 303)
    if request.method == "GET":
        form.email_kinds.data = agent_notifications.email_kinds(session, me)
    return render_template("agent/preferences.html", form=form)


# ---- Canned responses: now macros ----------------------------------------------------------------------------
# Canned responses became macros (a macro with only a reply is one); their table is kept, but nothing reads it.
# The old addresses, bookmarked or linked from elsewhere, lead to the macros pages. Nothing new is made here.


@bp.get("/canned")
@agent_required
def canned_list() -> Response:
    return redirect(url_for("agent.macro_list"), 301)


@bp.get("/canned/new")
@agent_required
def canned_new() -> Response:
    return redirect(url_for("agent.macro_new"), 301)


@bp.get("/canned/<int:canned_id>/edit")
@agent_required
def canned_edit(canned_id: int) -> Response:
    """The macro the canned response was copied into, if this agent may edit it; else the macros list."""
    macro = macros.copied_from_canned(db_session(), canned_id, _me())
    if macro is None:
        return redirect(url_for("agent.macro_list"), 302)
    return redirect(url_for("agent.macro_edit", macro_id=macro.id), 302)
