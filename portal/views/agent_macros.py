"""Macros on the `agent` blueprint: the picker in the composer (choose, preview, apply), "Apply macro" on a
queue selection (preview with the number of tickets, then confirm), and the page where agents keep their
personal macros and admins the shared ones. Every page works without JavaScript; htmx swaps the composer or
the bulk result line."""

from __future__ import annotations

import json
from typing import NamedTuple

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from portal.clock import utcnow
from portal.errors import N_, Conflict, DomainError, Invalid
from portal.extensions import db_session, desk_lists
from portal.integers import whole_number
from portal.models import Macro
from portal.services import agent_queue, macros, tickets
from portal.services.rules.catalog import AUTO_ASSIGN
from portal.views import mailer
from portal.views.access import agent_required
from portal.views.agent import _conflict_answer, _me, _refusals, _safe_queue_url, _workspace, bp
from portal.views.agent_forms import ComposerForm, MacroForm
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx

# The form's change fields, in the order they become actions; other actions a macro has are kept as they are.
FORM_ACTIONS = ("set_status", "set_priority", "set_group", "set_assignee", "set_language", "add_tags",
                "remove_tags", "add_note")


class MacroChoice(NamedTuple):
    id: int
    title: str


@bp.app_template_global("macro_choices")
def _macro_choices() -> list[MacroChoice]:
    """The macros the signed-in agent may apply (the composer's picker and the queue's bulk bar), kept per
    process for a few seconds like the desk's other lists: every workspace page draws the picker."""
    me = _me()
    return current_app.extensions["macro_titles"].get(
        me.id, lambda: [MacroChoice(m.id, m.title) for m in macros.available(db_session(), me)], now=utcnow())


# ---- In the composer ------------------------------------------------------------------------------------------


@bp.post("/tickets/<ref>/macros/preview")
@agent_required
def macro_preview(ref: str) -> Response | tuple[str, int]:
    """What the chosen macro would change and the reply it would put in the composer; nothing is written. A
    macro that only replies changes nothing to preview: its text goes into the composer at once, as a canned
    response's did."""
    session, me = db_session(), _me()
    ticket = tickets.get_for(session, ref, me)
    form = ComposerForm()
    form.validate()
    try:
        macro = _chosen("macro")
    except Invalid as exc:  # "Insert a reply or apply a macro…" itself: said in the composer, the text kept
        return _composer(ticket, form, status=exc.status_code, error=translate_domain_message(exc))
    if macros.inserts_only(macro):
        reply, body = macros.reply_for(macro, ticket, me, url=mailer.ticket_url(ticket.ref)), form.body.data or ""
        form.body.data = f"{body.rstrip()}\n\n{reply}" if body.strip() else reply
        return _composer(ticket, form, macro_inserted=macro)
    return _composer(ticket, form, macro=macro, macro_preview=_in_words(
        macros.preview(session, ticket, macro, me, url=mailer.ticket_url(ticket.ref))))


@bp.post("/tickets/<ref>/macros/apply")
@agent_required
def macro_apply(ref: str) -> Response | tuple[str, int]:
    """The macro's changes are made now (as the agent, on the version the agent saw); its reply is added to the
    composer for the agent to review and send."""
    session, me = db_session(), _me()
    ticket = tickets.get_for(session, ref, me)
    form = ComposerForm()
    form.validate()
    macro = _chosen("macro_id")
    try:
        reply = macros.apply(session, ticket, macro, actor=me, now=utcnow(), expected_version=form.version.data,
                             url=mailer.ticket_url(ticket.ref))
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _conflict_answer(ticket, exc, form=form)
    except DomainError as exc:
        session.rollback()
        session.refresh(ticket)
        return _composer(ticket, form, status=exc.status_code, error=translate_domain_message(exc))
    body = form.body.data or ""
    if reply:
        form.body.data = f"{body.rstrip()}\n\n{reply}" if body.strip() else reply
    context = _workspace(ticket, form=form, macro_applied=macro)
    if is_htmx():  # the side panel changed too: the whole workspace, as after sending
        response = Response(render_template("agent/_workspace_body.html", **context))
        response.headers["HX-Retarget"] = "#workspace"
        response.headers["HX-Reswap"] = "outerHTML"
        response.headers["HX-Trigger"] = json.dumps({"ticketVersion": {"value": ticket.version}})
        return response
    return vary_on_htmx(Response(render_template("agent/workspace.html", **context)))


def _chosen(name: str) -> Macro:
    """The macro the form names, if the agent may use it; none named at all is a form error, not a 404."""
    ident = whole_number(request.form.get(name), minimum=1)
    if ident is None:
        raise Invalid(N_("Choose one of the macros offered."), field="macro")
    return macros.get_usable(db_session(), ident, _me())


def _in_words(shown: macros.Preview) -> dict[str, object]:
    return {"reply": shown.reply, "changes": [said.text(_) for said in shown.changes]}


def _composer(ticket, form: ComposerForm, *, status: int = 200, **extra: object) -> Response | tuple[str, int]:
    context = _workspace(ticket, form=form, **extra)
    template = "agent/_composer.html" if is_htmx() else "agent/workspace.html"
    return vary_on_htmx(Response(render_template(template, **context), status))


# ---- On a queue selection ---------------------------------------------------------------------------------------


@bp.post("/bulk/macro")
@agent_required
def bulk_macro_preview() -> Response | tuple[str, int]:
    """Before a macro touches many tickets: how many, what it changes and the reply each customer gets."""
    session, me = db_session(), _me()
    refs = request.form.getlist("refs")
    macro = _chosen("macro")
    chosen = macros.selected(session, refs)
    if not chosen:
        message = _("Select at least one ticket.")
        if is_htmx():
            return render_template("agent/_bulk_result.html", rows=[], message=message, error=True), 422
        flash(message, "error")
        return redirect(_safe_queue_url(request.form.get("next")), 303)
    context = dict(macro=macro, chosen=chosen, next=_safe_queue_url(request.form.get("next")),
                   sample=_in_words(macros.preview(session, chosen[0], macro, me,
                                                   url=mailer.ticket_url(chosen[0].ref))))
    if is_htmx():
        return render_template("agent/_bulk_macro.html", standalone=False, **context)
    return render_template("agent/bulk_macro.html", standalone=True, **context)


@bp.post("/bulk/macro/apply")
@agent_required
def bulk_macro_apply() -> Response | tuple[str, int]:
    session, me = db_session(), _me()
    back = _safe_queue_url(request.form.get("next"))
    macro = _chosen("macro_id")
    try:
        changed, refused = macros.apply_to_many(session, request.form.getlist("refs"), macro, actor=me,
                                                now=utcnow(), ticket_url=mailer.ticket_url)
        session.commit()
    except DomainError as exc:
        session.rollback()
        message = translate_domain_message(exc) or _("Could not apply that.")
        if is_htmx():
            return render_template("agent/_bulk_result.html", rows=[], message=message, error=True), 422
        flash(message, "error")
        return redirect(back, 303)
    message = " ".join([_("Macro “%(title)s” applied to %(count)s tickets.", title=macro.title, count=len(changed)),
                        *_refusals(refused)])
    if is_htmx():
        now = utcnow()
        return render_template("agent/_bulk_result.html", message=message, error=bool(refused),
                               rows=[agent_queue.QueueRow.of(ticket, now=now) for ticket in changed])
    flash(message, "error" if refused else "success")
    return redirect(back, 303)


# ---- Managing them ----------------------------------------------------------------------------------------------


@bp.get("/macros")
@agent_required
def macro_list() -> str:
    me = _me()
    return render_template("agent/macros.html", items=macros.available(db_session(), me),
                           can_edit=lambda m: macros.can_edit(m, me))


@bp.route("/macros/new", methods=["GET", "POST"])
@agent_required
def macro_new() -> Response | str | tuple[str, int]:
    return _macro_form(None)


@bp.route("/macros/<int:macro_id>/edit", methods=["GET", "POST"])
@agent_required
def macro_edit(macro_id: int) -> Response | str | tuple[str, int]:
    return _macro_form(macros.get_editable(db_session(), macro_id, _me()))


@bp.post("/macros/<int:macro_id>/delete")
@agent_required
def macro_delete(macro_id: int) -> Response:
    session = db_session()
    macros.delete(session, macros.get_editable(session, macro_id, _me()), actor=_me())
    session.commit()
    flash(_("Macro deleted."), "success")
    return redirect(url_for("agent.macro_list"), 303)


def _macro_form(macro: Macro | None) -> Response | str | tuple[str, int]:
    session, me = db_session(), _me()
    form = MacroForm(data=_form_data(macro)) if macro is not None and request.method == "GET" else MacroForm()
    lists = desk_lists()
    form.set_group.choices = [SelectChoice("", _("Keep group"))] + [SelectChoice(str(g.id), g.name)
                                                                   for g in lists.groups]
    form.set_assignee.choices = [SelectChoice("", _("Keep assignee")),
                                 SelectChoice(AUTO_ASSIGN, _("Automatic, within the group"))] + [
        SelectChoice(str(a.id), a.name) for a in lists.agents]
    if form.validate_on_submit():
        actions, fields = _actions_from(form, macro)
        shared = bool(form.shared.data) and me.is_admin  # the box is offered to admins only
        try:
            macros.save(session, macro, title=form.title.data, body_en=form.body_en.data or "",
                        body_es=form.body_es.data or "", shared=shared, actions=actions, actor=me, now=utcnow())
            session.commit()
        except DomainError as exc:
            session.rollback()
            name = str(exc.details.get("field", ""))
            if name.startswith("actions."):
                index = whole_number(name.split(".")[1])
                name = fields[index] if index is not None and index < len(fields) else "title"
            target = getattr(form, name, None) if name else None
            if target is None or not hasattr(target, "errors"):
                raise
            target.errors = [*target.errors, translate_domain_message(exc)]
            return render_template("agent/macro_form.html", form=form, macro=macro), 422
        flash(_("Macro saved."), "success")
        return redirect(url_for("agent.macro_list"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("agent/macro_form.html", form=form, macro=macro), status


def _form_data(macro: Macro) -> dict[str, object]:
    data: dict[str, object] = {"title": macro.title, "body_en": macro.body_en, "body_es": macro.body_es,
                               "shared": macro.shared}
    for action in macro.actions:
        kind = action["type"]
        if kind in ("add_tags", "remove_tags"):
            data[kind] = " ".join(action["value"])
        elif kind == "add_note":
            data[kind] = action["body"]
        elif kind in FORM_ACTIONS:
            data[kind] = str(action["value"])
    return data


def _actions_from(form: MacroForm, macro: Macro | None) -> tuple[list[dict], list[str]]:
    """The rules' action list the form describes, and for each action the form field it came from (to show a
    refusal next to it). Actions the form has no field for (a custom field, a category) are kept."""
    actions, fields = [], []
    for name in FORM_ACTIONS:
        raw = (getattr(form, name).data or "").strip()
        if raw:
            actions.append({"type": name, "body": raw} if name == "add_note" else {"type": name, "value": raw})
            fields.append(name)
    for action in macro.actions if macro is not None else []:
        if action["type"] not in FORM_ACTIONS:
            actions.append(action)
            fields.append("title")
    return actions, fields
