"""The agent desk: queues with live counts, bulk actions, and the ticket workspace (conversation, composer,
side panel, presence). Every view answers a full page, or the fragment when htmx asks (HX-Request); every
form also works as a plain post. Changes carry the ticket's version: an update based on an old page gets
409, the other change shown, and what the agent typed is given back."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.articles import PUBLIC_STATUSES
from portal.clock import utcnow
from portal.errors import Conflict, DomainError, Invalid
from portal.extensions import db_session, desk_lists, remembered_url_for, request_translations
from portal.integers import whole_number
from portal.markdown_render import render_markdown
from portal.models import PRIORITIES, AgentNotification, Group, Macro, User
from portal.search import QueryTooLong
from portal.services import (
    agent_desk,
    agent_notifications,
    agent_queue,
    categories,
    kb_search,
    notifications,
    postpone,
    sent_articles,
    tickets,
    timeline_names,
)
from portal.services.attachments import AttachmentStore, Upload
from portal.services.desk_lists import DeskLists
from portal.services.kept import Kept
from portal.services.queue_counts import CountsCache
from portal.status import agent_label
from portal.views import mailer
from portal.views.access import agent_required
from portal.views.agent_forms import ComposerForm, FieldForm, VersionForm
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.kb_access import articles_by_path, kb_index

bp = Blueprint("agent", __name__, url_prefix="/agent")

FILTER_KEYS = ("status", "priority", "group", "assignee", "tag", "channel", "language", "q")
ARTICLE_HITS = 5
# The bulk form has one input per action (so it works without JavaScript); the button says which.
BULK_VALUE_FIELDS = {"assign": "assign_to", "status": "set_status", "priority": "set_priority", "add_tag": "tag",
                     "remove_tag": "tag", "postpone": "postpone_for"}


def init_app(app: Flask) -> None:
    from portal.views import notify_dispatch

    # Kept per process for a few seconds, dropped at once by a commit of this process that changes them.
    max_age = timedelta(seconds=float(app.config["QUEUE_COUNTS_MAX_AGE"]))
    kept = {"queue_counts": CountsCache(max_age), "desk_lists": DeskLists(max_age),
            "unread_counts": Kept(max_age, (AgentNotification,)), "macro_titles": Kept(max_age, (Macro,))}
    for name, values in kept.items():
        values.watch(app.extensions["sessionmaker"])
        app.extensions[name] = values

    # Agent e-mails go through the customers' outbox, with their own template.
    for kind in agent_notifications.KINDS:
        notify_dispatch.TEMPLATES.setdefault(f"agent_{kind}", f"agent_{kind}")

    @app.context_processor
    def _agent_helpers() -> dict[str, object]:
        def unread() -> int:
            if not (current_user.is_authenticated and current_user.is_agent):
                return 0
            me = _me()
            return current_app.extensions["unread_counts"].get(
                me.id, lambda: agent_notifications.unread_count(db_session(), me), now=utcnow())

        return {"agent_unread_count": unread}


@bp.app_template_global("agent_status_label")
def _status_label(status: str) -> str:
    return request_translations().ugettext(agent_label(status))  # a page shows dozens: the quick way


@bp.app_template_global("queue_row_text")
def queue_row_text() -> dict[str, object]:
    """The words of a queue row, translated once per page instead of once per row."""
    return {
        "select": _("Select"), "take": _("Take"), "unassigned": _("Unassigned"), "breached": _("Breached"),
        "guided": _("Guided: use “Next ticket”"),
        "postponed": _("Postponed until"),
        "status": {s: _(agent_label(s)) for s in ("new", "open", "pending", "on_hold", "solved", "closed")},
        "priority": {"low": _("Low"), "normal": _("Normal"), "high": _("High"), "urgent": _("Urgent")},
    }


@bp.app_template_global("sla_state")
def _sla_state(ticket) -> str | None:
    return agent_queue.sla_state(ticket, now=utcnow())


# ---- Queues -------------------------------------------------------------------------------------------------


@bp.get("")
@agent_required
def queue() -> Response:
    """A queue page. Filters that cannot be read (a date typed by hand) give the page back with the message,
    what was typed still in the form, and status 422."""
    session, me, now = db_session(), _me(), utcnow()
    view, sort = request.args.get("view") or "open", request.args.get("sort", "updated")
    error: Invalid | None = None
    try:
        filters = agent_queue.parse_filters(request.args, today=now.date())
        page = agent_queue.queue_page(session, me, view=view, sort=sort, filters=filters,
                                      cursor=request.args.get("cursor"), now=now)
    except Invalid as exc:
        error = exc
        page = agent_queue.Page([], None, "open" if exc.details.get("field") == "view" else view, sort)
    lists = desk_lists()
    views = agent_queue.views_for(me, lists.groups_of(me.id))
    context = dict(page=page, views=views, agents=lists.agents, groups=lists.groups, categories=lists.categories,
                   query=_query_args(), priorities=PRIORITIES, row_text=queue_row_text(),
                   measures=agent_queue.MEASURE_LABELS, error=translate_domain_message(error) if error else None,
                   error_field=error.details.get("field") if error else None)
    status = 422 if error else 200
    if is_htmx() and request.headers.get("HX-Target") == "queue-results":
        return vary_on_htmx(Response(render_template("agent/_queue_results.html", **context), status=status))
    context["counts"] = _counts_cache().counts(session, me, now=now, views=views)
    return vary_on_htmx(Response(render_template("agent/queue.html", **context), status=status))


def _query_args(**changes: object) -> dict[str, str]:
    """The queue's current arguments (view, sort, filters) with some changed: for links that keep the rest."""
    args = {k: v for k, v in request.args.items() if k != "cursor" and v != ""}
    args.update({k: str(v) for k, v in changes.items() if v is not None})
    return args


@bp.app_template_global("queue_url")
def _queue_url(**changes: object) -> str:
    args = _query_args(**changes)
    return remembered_url_for("agent.queue", **{k: v for k, v in args.items() if v != ""})


@bp.get("/counts")
@agent_required
def counts() -> Response:
    """The sidebar's counts. It is asked with the queue's arguments, so that its links keep the filters."""
    session, me = db_session(), _me()
    views = agent_queue.views_for(me, desk_lists().groups_of(me.id))
    return vary_on_htmx(Response(render_template(
        "agent/_counts.html", views=views, counts=_counts_cache().counts(session, me, now=utcnow(), views=views),
        page=None, current_view=request.args.get("view", "open"), query=_query_args())))


@bp.post("/bulk")
@agent_required
def bulk() -> Response | tuple[str, int]:
    session = db_session()
    back = _safe_queue_url(request.form.get("next"))
    try:
        action = request.form.get("action", "")
        value = request.form.get(BULK_VALUE_FIELDS.get(action, "value"), "").strip()
        # "postpone": a quick choice (services.postpone), in the portal's time zone
        until = postpone.quick_until(value, now=utcnow(), zone=str(current_app.config["TIMEZONE"])) \
            if action == "postpone" else None
        changed, refused = agent_desk.bulk(session, request.form.getlist("refs"), action, value, actor=_me(),
                                           now=utcnow(), until=until)
        session.commit()
    except DomainError as exc:
        session.rollback()
        message = translate_domain_message(exc) or _("Could not apply that.")
        if is_htmx():
            return render_template("agent/_bulk_result.html", rows=[], message=message, error=True), 422
        flash(message, "error")
        return redirect(back, 303)
    message = " ".join([_("%(count)s tickets updated.", count=len(changed)), *_refusals(refused)])
    if is_htmx():
        now = utcnow()
        return render_template("agent/_bulk_result.html", message=message, error=bool(refused),
                               rows=[agent_queue.QueueRow.of(ticket, now=now) for ticket in changed])
    flash(message, "error" if refused else "success")
    return redirect(back, 303)


def _refusals(refused: list[tuple[str, DomainError]]) -> list[str]:
    """Which tickets did not change, and why: one sentence per reason, naming its tickets."""
    by_reason: dict[str, list[str]] = {}
    for ref, exc in refused:
        by_reason.setdefault(translate_domain_message(exc) or _("Could not apply that."), []).append(ref)
    return [_("Not changed: %(refs)s.", refs=", ".join(refs)) + " " + reason for reason, refs in by_reason.items()]


def _safe_queue_url(candidate: str | None) -> str:
    if candidate and candidate.startswith("/agent") and not candidate.startswith("//"):
        return candidate
    return url_for("agent.queue")


# ---- The workspace -----------------------------------------------------------------------------------------


@bp.get("/tickets/<ref>")
@agent_required
def workspace(ref: str) -> Response:
    ticket = tickets.get_for(db_session(), ref, _me(), options=agent_desk.WORKSPACE_LOAD)
    return vary_on_htmx(Response(render_template("agent/workspace.html", **_workspace(ticket))))


def _workspace(ticket, *, form: ComposerForm | None = None, **extra: object) -> dict[str, object]:
    session = db_session()
    if form is None:
        form = ComposerForm(formdata=None, data={"version": ticket.version, "visibility": "public"})
    form.version.data = ticket.version  # after a conflict the agent has now seen the other change
    me = _me()
    context = _side_panel(ticket, **extra)
    timeline = _timeline(ticket, agent_desk.conversation(session, ticket))
    linked = context["linked"]
    if len(linked) < agent_desk.LINKED_LIMIT:  # all of them: the operations panel need not read its incidents
        context["known_incidents"] = [t for t in linked if t.problem_id == ticket.id]
    events = [item["event"] for item in timeline if "event" in item]
    return dict(
        context, form=form, timeline=timeline,
        event_names=timeline_names.names_for(session, events, desk_lists(), category_id=ticket.category_id),
        priorities=PRIORITIES, notification_log=notifications.notification_log(session, ticket),
        notification_labels=notifications.KIND_LABELS,
        others=agent_desk.others_present(session, ticket, me, now=utcnow()), render_markdown=render_markdown,
    )


def _side_panel(ticket, **extra: object) -> dict[str, object]:
    """What `agent/_side_panel.html` shows (a refused side-panel change answers with the panel alone; a change
    that is made answers with every part that shows the ticket's state: views/agent_state.py)."""
    session, lists = db_session(), desk_lists()
    sent = sent_articles.sent_articles(session, ticket)
    return dict(
        ticket=ticket, agents=lists.agents, groups=lists.groups, categories=lists.categories,
        requester_tickets=agent_desk.requester_tickets(session, ticket),
        linked=agent_desk.linked_tickets(session, ticket), sent_articles=sent,
        sent_titles=articles_by_path(a.article_path for a in sent),
        fields=_field_rows(ticket), current_user=_me(), **extra,
    )


def _timeline(ticket, messages) -> list[dict[str, object]]:
    """Messages and events, oldest first; the events that only say "a message was added" are left out."""
    items = [{"at": m.created_at, "message": m, "key": (m.created_at, 0, m.id)} for m in messages]
    items += [{"at": e.created_at, "event": e, "key": (e.created_at, 1, e.id)} for e in ticket.events
              if e.kind not in ("replied", "note_added")]
    return sorted(items, key=lambda item: item["key"])


def _field_rows(ticket) -> list[tuple[object, str]]:
    lang = str(current_app.config["DEFAULT_LANGUAGE"])
    fields = [f for f in ticket.category.fields if f.active] if ticket.category else []
    values = {v.field_id: v.value for v in ticket.field_values} if fields else {}  # no read without fields
    return [(f, values.get(f.id, ""), f.label(lang)) for f in fields]


@bp.post("/tickets/<ref>/take")
@agent_required
def take(ref: str) -> Response | tuple[str, int]:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    form = VersionForm()
    form.validate()
    try:
        tickets.take(session, ticket, actor=_me(), now=utcnow(), expected_version=form.version.data)
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _conflict_answer(ticket, exc)
    except DomainError as exc:  # a guided group's ticket, a closed one: said where the agent pressed
        session.rollback()
        return _take_refused(ticket, exc)
    if is_htmx() and (request.headers.get("HX-Target") or "").startswith("ticket-"):
        return render_template("agent/_ticket_rows.html", rows=[agent_queue.QueueRow.of(ticket, now=utcnow())])
    if is_htmx() and request.headers.get("HX-Target") == "ws-header":  # "Take it" in the workspace
        return agent_state.state_answer(ticket, primary="header")
    flash(_("You took %(ref)s.", ref=ticket.ref), "success")
    return _to_workspace(ticket)


def _take_refused(ticket, exc: DomainError) -> Response | tuple[str, int]:
    """A refused Take: from a queue row (htmx), the message in the queue's result line; otherwise a flash
    message on the workspace."""
    message = translate_domain_message(exc) or _("Could not apply that.")
    if is_htmx() and (request.headers.get("HX-Target") or "").startswith("ticket-"):
        response = Response(render_template("agent/_bulk_result.html", rows=[], message=message, error=True),
                            exc.status_code)
        response.headers["HX-Retarget"] = "#bulk-result"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    flash(message, "error")
    return _to_workspace(ticket)


def _to_workspace(ticket) -> Response:
    url = url_for("agent.workspace", ref=ticket.ref)
    if is_htmx():
        response = Response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _conflict_answer(ticket, exc: DomainError, *, form: ComposerForm | None = None) -> Response | tuple[str, int]:
    """A change made on an old version: refused, and the page brought up to date. The notice says what the
    other change was, where the refused change was made (the whole page without JavaScript has both parts);
    the composer keeps the agent's text."""
    db_session().refresh(ticket)
    conflict = dict(conflict=translate_domain_message(exc), conflict_at="panel" if form is None else "composer")
    if not is_htmx():
        return render_template("agent/workspace.html", **_workspace(ticket, form=form, **conflict)), 409
    primary = "composer" if form is not None else \
        "header" if request.headers.get("HX-Target") == "ws-header" else "panel"
    return agent_state.state_answer(ticket, primary=primary, status=409, form=form, **conflict)


@bp.post("/tickets/<ref>/messages")
@agent_required
def messages(ref: str) -> Response | tuple[str, int]:
    """The composer: send a reply or note, or (other buttons) preview it, search the knowledge base and insert
    an article link; everything but "send" gives the composer back. Macros (which replaced canned responses)
    have their own endpoints in agent_macros."""
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    form = ComposerForm()
    form.validate()
    action = request.form.get("action", "send")
    if action != "send":
        return _composer_step(ticket, form, action)
    earlier = tickets.just_sent(session, ticket, body=form.body.data or "", author=_me(), now=utcnow(),
                                public=form.visibility.data != "private", uploads=_uploads())
    if earlier is not None:  # Send clicked twice: the second post is answered as the first, nothing is added
        return _sent(ticket, public=earlier.public)
    try:
        message = tickets.agent_reply(
            session, ticket, body=form.body.data or "", public=form.visibility.data != "private",
            submit_as=form.submit_as.data or None, uploads=_uploads(), store=_store(), actor=_me(), now=utcnow(),
            expected_version=form.version.data,
        )
        session.flush()
        sent_articles.record_sent_articles(session, ticket, message, actor=_me(), now=utcnow(),
                                           base_url=mailer.base_url())
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _conflict_answer(ticket, exc, form=form)
    except DomainError as exc:
        session.rollback()
        session.refresh(ticket)
        context = _workspace(ticket, form=form, error=translate_domain_message(exc))
        template = "agent/_composer.html" if is_htmx() else "agent/workspace.html"
        return render_template(template, **context), exc.status_code
    return _sent(ticket, public=form.visibility.data != "private")


def _sent(ticket, *, public: bool) -> Response:
    """The answer to a sent reply or note: the whole workspace (htmx) or the workspace page."""
    if is_htmx():
        response = Response(render_template("agent/_workspace_body.html", **_workspace(ticket)))
        response.headers["HX-Retarget"] = "#workspace"
        response.headers["HX-Reswap"] = "outerHTML"
        response.headers["HX-Trigger"] = json.dumps({"ticketVersion": {"value": ticket.version}})
        return response
    flash(_("Reply sent.") if public else _("Note added."), "success")
    return redirect(url_for("agent.workspace", ref=ticket.ref), 303)


def _composer_step(ticket, form: ComposerForm, action: str) -> Response | tuple[str, int]:
    extra: dict[str, object] = {}
    body = form.body.data or ""
    if action == "preview":
        extra["preview"] = render_markdown(body, lang=ticket.language) if body.strip() else ""
    elif action == "articles":
        extra["article_hits"], extra["article_hits_weak"] = _article_hits(form.article_query.data or "",
                                                                          ticket.language)
    elif action.startswith("article:"):
        found = kb_index().articles(paths=[action.removeprefix("article:")])
        if found:  # absolute on BASE_URL: the reply goes out by mail, where `/kb/...` leads nowhere
            title = found[0].title.replace("[", "(").replace("]", ")")
            form.body.data = f"{body.rstrip()}\n\n[{title}]({mailer.site_url(found[0].url)})".lstrip()
    context = _workspace(ticket, form=form, **extra)
    if is_htmx():
        return vary_on_htmx(Response(render_template("agent/_composer.html", **context)))
    return vary_on_htmx(Response(render_template("agent/workspace.html", **context)))


def _row(model: type, value: str):
    """The row a side-panel value names, or None (nobody) for anything that is not an id."""
    ident = whole_number(value, minimum=1)
    return None if ident is None else db_session().get(model, ident)


def _category_id(value: str) -> int | None:
    """Empty: no category; anything that is not an id names no category (refused by the service)."""
    if not value:
        return None
    return whole_number(value, minimum=1) or 0


def _article_hits(query: str, language: str) -> tuple[list, bool]:
    """Public articles an agent may link in a reply, in the ticket's language first; True when they match weakly."""
    if not query.strip():
        return [], False
    try:
        results = kb_search.search_articles(db_session(), kb_index(), query, lang=language, actor=_me(),
                                            per_page=ARTICLE_HITS, visible_statuses=PUBLIC_STATUSES)
    except QueryTooLong:
        return [], False
    return results.hits, bool(results.hits) and not results.confident


@bp.post("/tickets/<ref>/fields")
@agent_required
def fields(ref: str) -> Response | tuple[str, int]:
    """One side-panel change, audited: assignee, group, priority, category, language, a tag added or removed,
    a custom field."""
    session, me, now = db_session(), _me(), utcnow()
    ticket = tickets.get_for(session, ref, me)
    form = FieldForm()
    form.validate()
    name, value = form.field.data or "", (form.value.data or "").strip()
    version = form.version.data
    try:
        if name == "assignee":
            assignee = _row(User, value)
            agent_desk.assign(session, ticket, assignee, actor=me, now=now, expected_version=version)
        elif name == "group":
            group = _row(Group, value)
            agent_desk.set_group(session, ticket, group, actor=me, now=now, expected_version=version)
        elif name == "priority":
            agent_desk.set_priority(session, ticket, value, actor=me, now=now, expected_version=version)
        elif name == "category":
            category = categories.get_existing(session, _category_id(value))
            agent_desk.set_category(session, ticket, category, actor=me, now=now, expected_version=version)
        elif name == "language":
            agent_desk.set_language(session, ticket, value, actor=me, now=now, expected_version=version)
        elif name == "add_tag":
            agent_desk.add_tag(session, ticket, value, actor=me, now=now, expected_version=version)
        elif name == "remove_tag":
            agent_desk.remove_tag(session, ticket, value, actor=me, now=now, expected_version=version)
        elif name == "status":
            tickets.set_status(session, ticket, value, actor=me, now=now, expected_version=version)
        elif name.startswith("field:") and whole_number(name[6:], minimum=1) is not None:
            agent_desk.set_field_value(session, ticket, int(name[6:]), value, actor=me, now=now,
                                       expected_version=version)
        else:
            raise Invalid("Choose one of the fields offered.", field="field")
        session.commit()
    except Conflict as exc:
        session.rollback()
        return _conflict_answer(ticket, exc)
    except DomainError as exc:
        session.rollback()
        session.refresh(ticket)
        if not is_htmx():
            flash(translate_domain_message(exc) or _("Could not apply that."), "error")
            return redirect(url_for("agent.workspace", ref=ticket.ref), 303)
        return render_template("agent/_side_panel.html", **_side_panel(
            ticket, panel_error=translate_domain_message(exc))), exc.status_code
    if not is_htmx():
        return redirect(url_for("agent.workspace", ref=ticket.ref), 303)
    return agent_state.state_answer(ticket, primary="panel", saved=name)


# ---- Helpers ------------------------------------------------------------------------------------------------


def _me() -> User:
    return current_user._get_current_object()


def _counts_cache() -> CountsCache:
    return current_app.extensions["queue_counts"]


def _uploads() -> list[Upload]:
    files = request.files.getlist("attachments")
    return [Upload(f.filename or "", f.stream) for f in files if f and f.filename]


def _store() -> AttachmentStore:
    return AttachmentStore.from_config(current_app.config)


# more routes on this blueprint
from portal.views import agent_macros, agent_more, agent_postpone, agent_state  # noqa: E402,F401,I001
