"""The agent's workspace: side-panel changes (each one audited and version-checked), bulk actions, who else
is looking at a ticket, and the requester's other tickets. Status changes always go through
services.tickets (set_status, take, agent_reply), never around them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Row, delete, select, union_all
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.errors import N_, DomainError, Invalid, NotFound
from portal.integers import whole_number
from portal.models import (
    PRIORITIES,
    Attachment,
    Category,
    Group,
    Message,
    Ticket,
    TicketEvent,
    TicketFieldValue,
    TicketPresence,
    TicketTag,
    User,
)
from portal.services import agent_notifications, assignment_rules, categories, postpone, tickets

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PRESENCE_WINDOW = timedelta(seconds=10)
TYPING_WINDOW = timedelta(seconds=6)
TAG_MAX = 40
TAG_RE = re.compile(r"^[\w][\w\-.]*$", re.UNICODE)
BULK_ACTIONS = ("assign", "status", "priority", "add_tag", "remove_tag", "postpone", "resume")
BULK_MAX = 200


def _event(session: Session, ticket: Ticket, *, kind: str, field: str, old: object, new: object, actor: User,
           now: datetime) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor=actor, created_at=now, kind=kind, field=field,
                        old_value=None if old is None else str(old)[:255],
                        new_value=None if new is None else str(new)[:255])
    session.add(event)
    ticket.updated_at = now
    ticket.version += 1
    return event


def _open_ticket(ticket: Ticket) -> None:
    if ticket.status == "closed":
        raise Invalid(N_("This ticket is closed: nothing can change it; create a follow-up instead."),
                      field="ticket")


# ---- One field at a time ----------------------------------------------------------------------------------


def assign(session: Session, ticket: Ticket, assignee: User | None, *, actor: User, now: datetime,
           expected_version: int | None = None) -> TicketEvent | None:
    """Give the ticket to an agent (or to nobody), as `assignment_rules.check_assign` allows (a guided group's
    tickets are handed out by "Next ticket"). The new assignee is told."""
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    if assignee is not None and not (assignee.is_agent and assignee.active):
        raise Invalid(N_("Choose one of the agents offered."), field="assignee")
    new_id = assignee.id if assignee is not None else None
    if new_id == ticket.assignee_id:
        return None
    assignment_rules.check_assign(ticket, assignee, actor=actor)
    event = _event(session, ticket, kind="assigned", field="assignee_id", old=ticket.assignee_id, new=new_id,
                   actor=actor, now=now)
    ticket.assignee = assignee
    agent_notifications.assigned(session, ticket, assignee, actor=actor, now=now)
    return event


def set_group(session: Session, ticket: Ticket, group: Group | None, *, actor: User, now: datetime,
              expected_version: int | None = None) -> TicketEvent | None:
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    new_id = group.id if group is not None else None
    if new_id == ticket.group_id:
        return None
    assignment_rules.check_move(ticket, group, actor=actor)
    event = _event(session, ticket, kind="group_changed", field="group_id", old=ticket.group_id, new=new_id,
                   actor=actor, now=now)
    ticket.group = group
    return event


def set_priority(session: Session, ticket: Ticket, priority: str, *, actor: User, now: datetime,
                 expected_version: int | None = None) -> TicketEvent | None:
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    if priority not in PRIORITIES:
        raise Invalid(N_("Choose one of the priorities offered."), field="priority")
    if priority == ticket.priority:
        return None
    event = _event(session, ticket, kind="priority_changed", field="priority", old=ticket.priority, new=priority,
                   actor=actor, now=now)
    ticket.priority = priority
    return event


def set_category(session: Session, ticket: Ticket, category: Category | None, *, actor: User, now: datetime,
                 expected_version: int | None = None) -> TicketEvent | None:
    """The agent files the ticket under another category (or none): one of those customers are offered now, or
    the one it already has. The group stays where it is (moving it is the group's own change), and the answers
    to the old category's fields are kept. The category's skill is what automatic assignment and "Next ticket"
    ask of an agent from now on."""
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    new_id = category.id if category is not None else None
    if new_id == ticket.category_id:
        return None
    if category is not None and not category.active:
        raise Invalid(N_("Choose one of the categories offered."), field="category")
    event = _event(session, ticket, kind="category_changed", field="category_id", old=ticket.category_id,
                   new=new_id, actor=actor, now=now)
    ticket.category = category
    return event


def set_language(session: Session, ticket: Ticket, language: str, *, actor: User, now: datetime,
                 expected_version: int | None = None) -> TicketEvent | None:
    """The language the customer is answered in: every later e-mail about the ticket is in it, and only
    agents with it as a skill fit the ticket (`assignment_rules.required_skills`)."""
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    if language not in tickets.LANGUAGES:
        raise Invalid(N_("Choose one of the languages offered."), field="language")
    if language == ticket.language:
        return None
    event = _event(session, ticket, kind="language_changed", field="language", old=ticket.language, new=language,
                   actor=actor, now=now)
    ticket.language = language
    return event


def clean_tag(tag: str | None) -> str:
    tag = (tag or "").strip().lower().replace(" ", "-")
    if not tag or len(tag) > TAG_MAX or not TAG_RE.match(tag):
        raise Invalid(N_("A tag is one word of letters, digits, dashes or dots, at most %(max)s characters."),
                      field="tag", max=TAG_MAX)
    return tag


def add_tag(session: Session, ticket: Ticket, tag: str, *, actor: User, now: datetime,
            expected_version: int | None = None) -> TicketEvent | None:
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    tag = clean_tag(tag)
    if tag in ticket.tag_names:
        return None
    ticket.tags.append(TicketTag(tag=tag))
    return _event(session, ticket, kind="tag_added", field="tags", old=None, new=tag, actor=actor, now=now)


def remove_tag(session: Session, ticket: Ticket, tag: str, *, actor: User, now: datetime,
               expected_version: int | None = None) -> TicketEvent | None:
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    tag = (tag or "").strip().lower()
    found = [t for t in ticket.tags if t.tag == tag]
    if not found:
        return None
    for row in found:
        ticket.tags.remove(row)
    return _event(session, ticket, kind="tag_removed", field="tags", old=tag, new=None, actor=actor, now=now)


def set_field_value(session: Session, ticket: Ticket, field_id: int, value: str, *, actor: User, now: datetime,
                    expected_version: int | None = None) -> TicketEvent | None:
    """A custom field of the ticket's category, checked like the customer's form checks it."""
    tickets.check_version(ticket, expected_version)
    _open_ticket(ticket)
    field = next((f for f in (ticket.category.fields if ticket.category else []) if f.id == field_id and f.active),
                 None)
    if field is None:
        raise NotFound(N_("We could not find that field."))
    # This field alone: another required field still empty (a ticket filed by mail) must not block it.
    cleaned = categories.clean_value(field, value)
    current = next((v for v in ticket.field_values if v.field_id == field.id), None)
    old = current.value if current else None
    if (cleaned or None) == old:
        return None
    if cleaned in (None, ""):
        ticket.field_values.remove(current)
    elif current is None:
        ticket.field_values.append(TicketFieldValue(field=field, value=cleaned))
    else:
        current.value = cleaned
    return _event(session, ticket, kind="field_changed", field=field.key[:32], old=old, new=cleaned or None,
                  actor=actor, now=now)


# ---- Bulk ---------------------------------------------------------------------------------------------------


def bulk(session: Session, refs: Sequence[str], action: str, value: str, *, actor: User, now: datetime,
         until: datetime | None = None) -> tuple[list[Ticket], list[tuple[str, DomainError]]]:
    """One action on many tickets: one event per changed ticket. Returns the tickets and the refusals
    (ref, the error saying why) of those that could not change (a closed ticket, a status the machine refuses,
    a guided group's ticket the actor may not assign); the others change. `until`: when postponed tickets
    come back (UTC)."""
    if action not in BULK_ACTIONS:
        raise Invalid(N_("Choose one of the actions offered."), field="action")
    if action == "postpone":
        until = postpone.check_until(until, now=now)  # wrong for every ticket: said once
    refs = list(dict.fromkeys(refs))[:BULK_MAX]
    if not refs:
        raise Invalid(N_("Select at least one ticket."), field="refs")
    found = list(session.scalars(select(Ticket).where(Ticket.ref.in_(refs)).options(
        selectinload(Ticket.tags), selectinload(Ticket.assignee), selectinload(Ticket.requester))))
    assignee = None
    if action == "assign" and value not in ("", "none"):
        assignee = actor if value == "me" else session.get(User, whole_number(value) or 0)
        if assignee is None:
            raise Invalid(N_("Choose one of the agents offered."), field="assignee")
    changed, refused = [], []
    for ticket in found:
        try:
            with session.begin_nested():
                if action == "assign":
                    assign(session, ticket, assignee, actor=actor, now=now)
                elif action == "status":
                    if ticket.status != value:
                        tickets.set_status(session, ticket, value, actor=actor, now=now)
                elif action == "priority":
                    set_priority(session, ticket, value, actor=actor, now=now)
                elif action == "add_tag":
                    add_tag(session, ticket, value, actor=actor, now=now)
                elif action == "postpone":
                    postpone.postpone(session, ticket, until, actor=actor, now=now)
                elif action == "resume":
                    postpone.resume(session, ticket, actor=actor, now=now)
                else:
                    remove_tag(session, ticket, value, actor=actor, now=now)
            changed.append(ticket)
        except DomainError as exc:  # InvalidTransition, NotAllowed and friends: this ticket stays as it was
            if isinstance(exc, Invalid | NotFound) and exc.details.get("field") in ("priority", "tag", "status",
                                                                                   "assignee"):
                raise  # the value is wrong for every ticket: say so once
            refused.append((ticket.ref, exc))
    return changed, refused


# ---- Who else is here -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    user: User
    typing: bool


def touch_presence(session: Session, ticket: Ticket, user: User, *, typing: bool, now: datetime) -> list[Presence]:
    """Record that `user` has the ticket open (and is typing), and return the other agents who do."""
    row = session.get(TicketPresence, (ticket.id, user.id))
    if row is None:
        row = TicketPresence(ticket_id=ticket.id, user_id=user.id, last_seen=now)
        session.add(row)
    row.last_seen = now
    if typing:
        row.typing_at = now
    session.execute(delete(TicketPresence).where(TicketPresence.last_seen < now - timedelta(hours=1)))
    return others_present(session, ticket, user, now=now)


def others_present(session: Session, ticket: Ticket, user: User, *, now: datetime) -> list[Presence]:
    rows = session.scalars(select(TicketPresence).where(
        TicketPresence.ticket_id == ticket.id, TicketPresence.user_id != user.id,
        TicketPresence.last_seen >= now - PRESENCE_WINDOW).options(joinedload(TicketPresence.user))
        .order_by(TicketPresence.last_seen.desc()))
    return [Presence(r.user, r.typing_at is not None and r.typing_at >= now - TYPING_WINDOW) for r in rows]


def leave(session: Session, ticket: Ticket, user: User) -> None:
    session.execute(delete(TicketPresence).where(TicketPresence.ticket_id == ticket.id,
                                                 TicketPresence.user_id == user.id))


# ---- Around the ticket --------------------------------------------------------------------------------------


# The workspace's ticket comes with its people, group and tags in one joined query. Its messages and events
# load when shown: measured, SQLAlchemy's selectin loading of them was slower than a lazy load.
LAST_CHANGE_EVENTS = 8  # a macro's changes at most, in practice
WORKSPACE_LOAD = (joinedload(Ticket.requester), joinedload(Ticket.assignee), joinedload(Ticket.group),
                  joinedload(Ticket.tags))


def conversation(session: Session, ticket: Ticket) -> list[Message]:
    """The ticket's messages, with the attachments of all of them read in one query, not one per message."""
    messages = list(ticket.messages)
    kept: dict[int, list[Attachment]] = {m.id: [] for m in messages if "attachments" not in m.__dict__}
    if kept:
        for attachment in session.scalars(select(Attachment).where(Attachment.message_id.in_(kept))
                                          .order_by(Attachment.id)):
            kept[attachment.message_id].append(attachment)
    for message in messages:
        if message.id in kept:
            set_committed_value(message, "attachments", kept[message.id])
    return messages


_TICKETS = Ticket.__table__
# What a side-panel list shows of a ticket: plain columns, not ORM tickets (ten of those cost a millisecond).
_BRIEF = select(_TICKETS.c.id, _TICKETS.c.ref, _TICKETS.c.subject, _TICKETS.c.status, _TICKETS.c.problem_id)


def requester_tickets(session: Session, ticket: Ticket, *, limit: int = 10) -> list[Row]:
    """The requester's other tickets, latest change first: id, ref, subject, status and problem_id."""
    return list(session.connection().execute(
        _BRIEF.where(_TICKETS.c.requester_id == ticket.requester_id, _TICKETS.c.id != ticket.id)
        .order_by(_TICKETS.c.updated_at.desc()).limit(limit)))


LINKED_LIMIT = 50


def linked_tickets(session: Session, ticket: Ticket, *, limit: int = LINKED_LIMIT) -> list[Row]:
    """Follow-ups both ways, and the problem and its incidents when operations linked them: id, ref, subject,
    status and problem_id, by id; at most `limit`.

    One indexed lookup per kind of link, in one UNION ALL: an OR of them would let the database walk every
    ticket in id order looking for the few linked ones."""
    kinds = [_TICKETS.c.follow_up_of_id == ticket.id, _TICKETS.c.problem_id == ticket.id]
    if ticket.follow_up_of_id:
        kinds.append(_TICKETS.c.id == ticket.follow_up_of_id)
    if ticket.problem_id is not None:
        kinds += [_TICKETS.c.id == ticket.problem_id, _TICKETS.c.problem_id == ticket.problem_id]
    lookups = [select(_TICKETS.c.id).where(condition).order_by(_TICKETS.c.id).limit(limit).subquery()
               for condition in kinds]
    ids = set(session.connection().scalars(union_all(*(select(lookup.c.id) for lookup in lookups))))
    ids.discard(ticket.id)
    chosen = sorted(ids)[:limit]
    if not chosen:
        return []
    return list(session.connection().execute(_BRIEF.where(_TICKETS.c.id.in_(chosen)).order_by(_TICKETS.c.id)))


def latest_change(session: Session, ticket: Ticket, *, since_version: int | None = None) -> TicketEvent | None:
    """The last recorded change (shown when an update based on an old page is refused)."""
    return session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                          .options(selectinload(TicketEvent.actor))
                          .order_by(TicketEvent.id.desc()).limit(1))


def last_changes(session: Session, ticket: Ticket) -> list[TicketEvent]:
    """What the latest change did, oldest first: one person's click can record several events (a Take assigns
    and opens), all with the same actor and time. Shown when another agent's change reaches an open page."""
    recent = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                             .options(selectinload(TicketEvent.actor))
                             .order_by(TicketEvent.id.desc()).limit(LAST_CHANGE_EVENTS)).all()
    if not recent:
        return []
    last = (recent[0].actor_id, recent[0].created_at)
    return [e for e in reversed(recent) if (e.actor_id, e.created_at) == last]
