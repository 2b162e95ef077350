"""Tickets: filing, finding one's own, the conversation, and every status change.

`change_status` is the only caller of `portal.status.apply_action`: it persists the returned event records
as `TicketEvent` rows and tells the customer (notifications) when the status changed. The customer's
operations (reply, reopen, confirm, follow-up) and the agents' (take, reply or note with "submit as",
set status) are all here, so screens only parse input and call one function.

Lists, search and the customer's view of the conversation are in `ticket_views.py`; CCs in `ticket_ccs.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.interfaces import ORMOption

from portal.errors import N_, Conflict, Invalid, InvalidTransition, NotAllowed, NotFound
from portal.models import PRIORITIES, Attachment, Category, Message, Ticket, TicketEvent, TicketFieldValue, User
from portal.services import agent_notifications, assignment_rules, categories, notifications, routing, sla
from portal.services.attachments import AttachmentStore, Upload, safe_filename
from portal.services.refs import normalise_ref, unused_ticket_ref
from portal.status import Action, Role, Status, apply_action, can

SUBJECT_MAX = 200
BODY_MAX = 50_000
LANGUAGES = ("en", "es")
SUBMIT_AS = {"open": Action.SET_OPEN, "pending": Action.SET_PENDING, "on_hold": Action.SET_ON_HOLD,
             "solved": Action.SOLVE}


class Filed(NamedTuple):
    ticket: Ticket
    created: bool  # False when the same form had already filed it


# ---- Finding a ticket -------------------------------------------------------------------------------


def get_for(session: Session, ref: str, actor: User | None, *, options: Sequence[ORMOption] = ()) -> Ticket:
    """The ticket with this reference if the actor may see it: agents and admins see all, a customer only
    their own. Missing and not-yours are the same NotFound, so nothing is revealed. `options`: what to load
    with it (a page that shows the whole conversation)."""
    ticket = session.scalar(select(Ticket).where(Ticket.ref == normalise_ref(ref or "")).options(*options))
    if ticket is None or actor is None or not (actor.is_agent or ticket.requester_id == actor.id):
        raise NotFound(N_("We could not find that ticket."))
    return ticket


def by_client_token(session: Session, token: str | None, requester: User) -> Ticket | None:
    """The ticket an earlier submission of the same form filed, if any."""
    if not token:
        return None
    return session.scalar(select(Ticket).where(Ticket.client_token == token, Ticket.requester_id == requester.id))


def attachment_for(session: Session, ticket: Ticket, attachment_id: int, *, actor: User) -> Attachment:
    """A file of this ticket the actor may download: customers never get the files of private notes."""
    attachment = session.get(Attachment, attachment_id)
    message = attachment.message if attachment is not None else None
    if message is None or message.ticket_id != ticket.id or not (message.public or actor.is_agent):
        raise NotFound(N_("We could not find that file."))
    return attachment


def role_of(actor: User) -> Role:
    return Role(actor.role) if actor.is_agent else Role.CUSTOMER


# ---- The one path for status changes ----------------------------------------------------------------


def change_status(
    session: Session, ticket: Ticket, action: str, *, actor: User | None, role: str, now: datetime,
    **guard_kwargs: object,
) -> list[TicketEvent]:
    """Apply one action of the status machine, record its events, and tell the customer when the status
    changed. Raises InvalidTransition (naming what is allowed) and leaves the ticket untouched."""
    role = Role(role)
    _check_actor_role(ticket, actor, role)
    return _apply_status(session, ticket, action, actor=actor, role=role, now=now, **guard_kwargs)


def change_status_by_rule(session: Session, ticket: Ticket, action: str, *, now: datetime) -> list[TicketEvent]:
    """A business rule moves the ticket as an agent could (the table's agent cells, guards included: solving
    still needs an assignee). No person acted: the events name none (services.rules marks them with the rule)."""
    return _apply_status(session, ticket, action, actor=None, role=Role.AGENT, now=now)


def change_status_by_automation(session: Session, ticket: Ticket, action: str, *, now: datetime) -> list[TicketEvent]:
    """An automation moves the ticket as the system (the table's system cells: auto_close, pending_timeout), as
    the timers did. Its own conditions say how long the ticket waited, so the guards are given no delay of their
    own: they still refuse a ticket that was never solved or pending."""
    return _apply_status(session, ticket, action, actor=None, role=Role.SYSTEM, now=now, auto_close_days=0,
                         pending_since=ticket.status_changed_at, pending_timeout_days=0)


def _apply_status(session: Session, ticket: Ticket, action: str, *, actor: User | None, role: Role, now: datetime,
                  **guard_kwargs: object) -> list[TicketEvent]:
    old_status = ticket.status
    records = apply_action(ticket, action, role=role.value, actor_id=actor.id if actor else None, now=now,
                           **guard_kwargs)  # type: ignore[arg-type]
    events = [TicketEvent(ticket=ticket, **asdict(record)) for record in records]
    session.add_all(events)
    if ticket.status != old_status:
        from portal.services import postpone  # postpone builds on this module

        notifications.status_changed(session, ticket, old_status, ticket.status, actor=actor, now=now)
        ticket.custom_status, ticket.custom_status_id = None, None  # a label belongs to the status it refines
        events += postpone.status_changed(session, ticket, actor=actor, now=now)
    sla.refresh(session, ticket, now)
    return events


def _check_actor_role(ticket: Ticket, actor: User | None, role: Role) -> None:
    if role is Role.SYSTEM:
        return
    if actor is None:
        raise NotAllowed(N_("Only a person can do this."))
    if role is Role.CUSTOMER and actor.id != ticket.requester_id:
        raise NotFound(N_("We could not find that ticket."))
    if role in (Role.AGENT, Role.ADMIN) and (not actor.is_agent or (role is Role.ADMIN and not actor.is_admin)):
        raise NotFound(N_("We could not find that ticket."))


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Two agents never overwrite each other unknowingly: an action based on an old page is refused."""
    if expected_version is None:
        return
    if expected_version != ticket.version or not _hold_version(ticket, expected_version):
        raise Conflict(N_("Someone else changed this ticket since you opened it. Reload it and try again."),
                       version=_version_now(ticket))


def _hold_version(ticket: Ticket, version: int) -> bool:
    """Compare in the database, not only in memory: two requests that both loaded version N would otherwise
    both pass and both write N + 1 (a lost update). This no-op UPDATE locks the row until the transaction
    ends (PostgreSQL) or takes SQLite's write lock, and matches nothing once another request has committed."""
    session = object_session(ticket)
    if session is None or ticket.id is None:
        return True
    held = session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.version == version)
                           .values(version=Ticket.version).execution_options(synchronize_session=False))
    return held.rowcount == 1


def _version_now(ticket: Ticket) -> int:
    """The version the ticket has in the database now, for the caller to retry with. Not `ticket.version`:
    that is the row as this request loaded it, before the write that beat it (a real race), so a client
    retrying with it would be refused again. A column query bypasses the identity map, and runs after the
    refused UPDATE, which waited for the winner's commit (PostgreSQL's row lock, SQLite's write lock)."""
    session = object_session(ticket)
    if session is None or ticket.id is None:
        return ticket.version
    current = session.scalar(select(Ticket.version).where(Ticket.id == ticket.id))
    return ticket.version if current is None else current


# ---- Filing ------------------------------------------------------------------------------------------


def create_ticket(
    session: Session, *, requester: User, subject: str, description: str, category: Category | None = None,
    priority: str = "normal", language: str | None = "en", default_language: str = "en",
    field_values: Mapping[str, object] | None = None, client_token: str | None = None, channel: str = "web",
    follow_up_of: Ticket | None = None, uploads: Sequence[Upload] = (), store: AttachmentStore | None = None,
    actor: User, now: datetime,
) -> Filed:
    """A customer files a ticket: status new, routed to the category's group (or the default group), the
    description as its first message, and a confirmation e-mail. The same form sent twice (same `client_token`)
    files one ticket. `language` None: nobody chose it (a mail, an API call without it), so it is read from
    the text, else the requester's setting, else `default_language` (`routing.ticket_language`).

    Required custom fields are questions for whoever fills in a form (the customer's web form, an agent's
    phone form, an API call): left out there, they are refused naming the field. A mail has no form to answer
    them: a new one is filed without a category, and a follow-up (by mail or on the web) inherits the closed
    ticket's category and answers, complete or not, so neither is ever refused for a field. Agents see the
    required fields still empty in the workspace."""
    existing = by_client_token(session, client_token, requester)
    if existing is not None:
        return Filed(existing, False)
    if actor.id != requester.id and not actor.is_agent:
        raise NotAllowed(N_("You can only file tickets for yourself."))
    subject, description = check_subject(subject), check_body(description, field="description")
    if priority not in PRIORITIES:
        raise Invalid(N_("Choose one of the priorities offered."), field="priority")
    if language is None:
        language = routing.ticket_language(subject, description, requester=requester, default=default_language)
    if language not in LANGUAGES:
        raise Invalid(N_("Choose one of the languages offered."), field="language")
    if follow_up_of is not None:
        # Its category even if no longer offered, and its answers as they were given.
        answers = categories.inherited_values(category, follow_up_of)
    else:
        if category is not None and not category.active:
            raise Invalid(N_("Choose one of the categories offered."), field="category")
        answers = categories.clean_field_values(category, field_values or {})
    stored = _save_uploads(store, uploads, now=now)
    try:
        ticket = Ticket(
            ref=unused_ticket_ref(session), subject=subject, status=Status.NEW.value, priority=priority,
            channel=channel, language=language, requester=requester, category=category,
            group_id=category.group_id if category else None, follow_up_of=follow_up_of,
            client_token=client_token or None, created_at=now, updated_at=now, status_changed_at=now, version=1,
        )
        ticket.field_values = [TicketFieldValue(field=field, value=value) for field, value in answers.items()]
        session.add(ticket)
        message = Message(ticket=ticket, author=requester, body=description, public=True, channel=channel,
                          created_at=now, attachments=stored)
        session.add(message)
        created = TicketEvent(ticket=ticket, actor=actor, created_at=now, kind="created")
        if follow_up_of is not None:
            created.field, created.new_value = "follow_up_of", follow_up_of.ref
        session.add(created)
        session.flush()
    except BaseException:
        _discard(store, stored)
        raise
    notifications.ticket_created(session, ticket, now=now)
    _route_new(session, ticket, now=now)
    agent_notifications.new_unassigned(session, ticket, now=now)
    return Filed(ticket, True)


def _route_new(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """Operations on a new ticket: one that its category did not route (a mail, an API call, a phone call
    without a category) goes to the admins' default group; then automatic assignment (when its group does it)
    and the SLA clock, the same for every channel."""
    from portal.services import assignment  # assignment builds on this module

    if ticket.group_id is None:
        group = routing.default_group(session)
        if group is not None:
            ticket.group, ticket.group_id = group, group.id
    assignment.auto_assign(session, ticket, now=now)
    sla.refresh(session, ticket, now)


def create_follow_up(
    session: Session, closed: Ticket, *, subject: str, description: str, client_token: str | None = None,
    uploads: Sequence[Upload] = (), store: AttachmentStore | None = None, actor: User, now: datetime,
) -> Filed:
    """Closed is final: whoever has more to say about it starts a new ticket linked to the closed one, in
    the same category, language and priority. The closed ticket itself does not change."""
    change_status(session, closed, Action.FOLLOW_UP, actor=actor, role=role_of(actor), now=now)
    return create_ticket(
        session, requester=closed.requester, subject=subject, description=description, category=closed.category,
        priority=closed.priority, language=closed.language, client_token=client_token, follow_up_of=closed,
        uploads=uploads, store=store, actor=actor, now=now,
    )


def check_subject(subject: str | None) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise Invalid(N_("Tell us in a few words what this is about."), field="subject")
    if len(subject) > SUBJECT_MAX:
        raise Invalid(N_("Use at most %(max)s characters."), field="subject", max=SUBJECT_MAX)
    return subject


def check_body(body: str | None, *, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid(N_("Write a message first."), field=field)
    if len(body) > BODY_MAX:
        raise Invalid(N_("Use at most %(max)s characters."), field=field, max=BODY_MAX)
    return body


# ---- The conversation ---------------------------------------------------------------------------------


def add_message(
    session: Session, ticket: Ticket, *, body: str, author: User | None, public: bool, now: datetime,
    channel: str = "web", attachments: Sequence[Attachment] = (),
) -> Message:
    """One more turn in the conversation (no status change here): a public reply or a private note."""
    message = Message(ticket=ticket, author=author, body=body, public=public, channel=channel, created_at=now,
                      attachments=list(attachments))
    session.add(message)
    session.add(TicketEvent(ticket=ticket, actor=author, created_at=now,
                            kind="replied" if public else "note_added"))
    if public and author is not None and author.is_agent and ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.updated_at = now
    sla.refresh(session, ticket, now)
    return message


# A second click on Send, or a browser re-sending the post, within this long after the first is the same reply.
DUPLICATE_WINDOW_SECONDS = 120


def just_sent(session: Session, ticket: Ticket, *, body: str, author: User, now: datetime,
              public: bool = True, uploads: Sequence[Upload] = ()) -> Message | None:
    """The reply (or, not `public`, the note) this person has just written on this ticket with exactly the same
    words and the same files by name, if it is the latest message and came less than two minutes ago: a
    double-clicked Send (or a re-sent form) adds nothing twice."""
    if not (body or "").strip():
        return None
    latest = session.scalar(select(Message).where(Message.ticket_id == ticket.id)
                            .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))
    if (latest is None or latest.author_id != author.id or latest.public != public
            or latest.body.strip() != (body or "").strip()):
        return None
    if sorted(a.filename for a in latest.attachments) != sorted(safe_filename(u.filename) for u in uploads):
        return None
    age = (now - latest.created_at).total_seconds()
    return latest if 0 <= age <= DUPLICATE_WINDOW_SECONDS else None


def customer_reply(
    session: Session, ticket: Ticket, *, body: str, uploads: Sequence[Upload] = (),
    store: AttachmentStore | None = None, actor: User, now: datetime,
) -> Message:
    """The requester writes: a ticket waiting for them (pending), on hold or solved goes back to the agents
    (open; on solved that is a reopen), except that a plain "thanks" leaves a solved ticket solved. A closed
    ticket takes no reply: the customer is offered a follow-up instead. A postponed ticket comes back at once."""
    from portal.services import postpone  # postpone builds on this module

    body = check_body(body)
    _require_possible(ticket, Action.CUSTOMER_REPLY, Role.CUSTOMER, actor)
    stored = _save_uploads(store, uploads, now=now)
    try:
        events = change_status(session, ticket, Action.CUSTOMER_REPLY, actor=actor, role=Role.CUSTOMER, now=now,
                               text=body)
        postpone.customer_replied(session, ticket, actor=actor, now=now)
        message = add_message(session, ticket, body=body, author=actor, public=True, now=now, attachments=stored)
        agent_notifications.customer_replied(session, ticket, reopened=any(e.kind == "reopened" for e in events),
                                             now=now)
        return message
    except BaseException:
        _discard(store, stored)
        raise


def reopen(session: Session, ticket: Ticket, *, reason: str, actor: User, now: datetime) -> Message:
    """The requester is not satisfied with the solution: back to the agents, with the reason in the
    conversation so the agent reads it first."""
    reason = check_body(reason, field="reason")
    change_status(session, ticket, Action.REOPEN, actor=actor, role=Role.CUSTOMER, now=now, reason=reason)
    message = add_message(session, ticket, body=reason, author=actor, public=True, now=now)
    agent_notifications.customer_replied(session, ticket, reopened=True, now=now)
    return message


def confirm(session: Session, ticket: Ticket, *, actor: User, now: datetime) -> list[TicketEvent]:
    """The requester says the solution worked: the ticket is closed for good."""
    return change_status(session, ticket, Action.CONFIRM, actor=actor, role=Role.CUSTOMER, now=now)


# ---- Agents ------------------------------------------------------------------------------------------


def take(session: Session, ticket: Ticket, *, actor: User, now: datetime,
         expected_version: int | None = None) -> list[TicketEvent]:
    """An agent takes the ticket: they become its assignee, and a new ticket opens. Guided groups hand out
    their tickets with "Next ticket": `assignment_rules.check_assign` says who may take one there."""
    check_version(ticket, expected_version)
    assignment_rules.check_assign(ticket, actor, actor=actor)
    return change_status(session, ticket, Action.TAKE, actor=actor, role=role_of(actor), now=now)


def set_status(session: Session, ticket: Ticket, status: str, *, actor: User, now: datetime,
               expected_version: int | None = None) -> list[TicketEvent]:
    """An agent moves the ticket to open, pending, on hold or solved (solved needs an assignee)."""
    check_version(ticket, expected_version)
    return change_status(session, ticket, _submit_action(status), actor=actor, role=role_of(actor), now=now)


def agent_reply(
    session: Session, ticket: Ticket, *, body: str, public: bool = True, submit_as: str | None = None,
    uploads: Sequence[Upload] = (), store: AttachmentStore | None = None, actor: User, now: datetime,
    expected_version: int | None = None,
) -> Message:
    """An agent answers the customer (public) or leaves a note for colleagues (private), optionally moving
    the ticket ("submit as" open, pending, on hold or solved) in the same step. Only public replies are
    e-mailed to the customer.

    A public answer to a New ticket is work started, as in the help desks agents know: the ticket opens (unless
    the agent chose another status) and, when nobody has it, the replying agent takes it, so it leaves the
    Unassigned queue. A guided group's ticket is not taken this way (its tickets are handed out in order)."""
    if not actor.is_agent:
        raise NotFound(N_("We could not find that ticket."))
    check_version(ticket, expected_version)
    body = check_body(body)
    action = _submit_action(submit_as) if submit_as else None
    answering_new = public and Status(ticket.status) is Status.NEW
    take_first = answering_new and ticket.assignee_id is None and _may_take(ticket, actor)
    if action is None and answering_new:
        action = Action.SET_OPEN
    if action is not None and not take_first:
        _require_possible(ticket, action, role_of(actor), actor)
    elif action is None and Status(ticket.status) is Status.CLOSED:
        raise InvalidTransition(N_("This ticket is closed: nothing can change it; create a follow-up instead."),
                                status=ticket.status, action="reply", allowed=[Action.FOLLOW_UP.value])
    stored = _save_uploads(store, uploads, now=now)
    try:
        if take_first:  # New -> Open with the replying agent as assignee, then the status they chose
            change_status(session, ticket, Action.TAKE, actor=actor, role=role_of(actor), now=now)
            if action is Action.SET_OPEN:
                action = None
        if action is not None:
            change_status(session, ticket, action, actor=actor, role=role_of(actor), now=now)
        message = add_message(session, ticket, body=body, author=actor, public=public, now=now,
                              attachments=stored)
    except BaseException:
        _discard(store, stored)
        raise
    if public:
        notifications.public_reply_added(session, ticket, message, now=now)
    return message


def _may_take(ticket: Ticket, actor: User) -> bool:
    try:
        assignment_rules.check_assign(ticket, actor, actor=actor)
    except NotAllowed:
        return False
    return True


def add_note(session: Session, ticket: Ticket, *, body: str, actor: User, now: datetime, **kwargs: object) -> Message:
    """A private note: agents only, never shown or sent to the customer."""
    return agent_reply(session, ticket, body=body, public=False, actor=actor, now=now, **kwargs)  # type: ignore[arg-type]


def _submit_action(status: str | None) -> Action:
    try:
        return SUBMIT_AS[str(status)]
    except KeyError:
        raise Invalid(N_("Choose open, pending, on hold or solved."), field="status") from None


def _require_possible(ticket: Ticket, action: Action, role: Role, actor: User | None) -> None:
    """Refuse before any file is written when the table already says no (the guards are checked later)."""
    _check_actor_role(ticket, actor, role)
    if not can(ticket, action, role):
        apply_action(ticket, action, role=role.value, actor_id=actor.id if actor else None,
                     now=ticket.updated_at)  # raises InvalidTransition with the allowed actions


def _save_uploads(store: AttachmentStore | None, uploads: Sequence[Upload], *, now: datetime) -> list[Attachment]:
    if not uploads:
        return []
    if store is None:
        raise ValueError("attachments need an AttachmentStore")
    return store.save(uploads, now=now)


def _discard(store: AttachmentStore | None, stored: list[Attachment]) -> None:
    if store is not None and stored:
        store.discard(stored)
