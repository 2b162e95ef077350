"""What the REST API adds around the ticket services: filtered lists with keyset cursors, idempotent filing,
several field changes in one version-checked call, and which people an API caller may look up.

Every change still goes through services.tickets (the status machine), agent_desk and assignment, exactly as
the screens do; this module only decides which of them a call needs and in what order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.errors import N_, Invalid, NotAllowed, NotFound
from portal.integers import whole_number
from portal.models import (
    PRIORITIES,
    ApiToken,
    Category,
    Group,
    IdempotencyKey,
    Message,
    Ticket,
    TicketFieldValue,
    TicketTag,
    User,
)
from portal.services import agent_desk, assignment, categories, postpone, tickets
from portal.services.customer_tickets import CUSTOMER_FILTERS
from portal.status import Status

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
SORTS = ("-updated_at", "updated_at")
AGENT_ACTIONS = {"take": None, "set_open": "open", "set_pending": "pending", "set_on_hold": "on_hold",
                 "solve": "solved"}
CUSTOMER_ACTIONS = ("reopen", "confirm")
MAX_TAGS = 20
CURSOR_MAX = 200
IDEMPOTENCY_KEY_MAX = 255
_IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
UNCHANGED = object()  # a field the caller did not send
CUSTOMER_WORDS = {"new": "open", "on_hold": "open"}


# ---- Lists ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFilters:
    statuses: tuple[str, ...] = ()
    priority: str | None = None
    assignee: str | None = None  # a user id, "me" or "none"
    group: str | None = None  # a group id or "none"
    tag: str | None = None
    updated_since: datetime | None = None
    sort: str = "-updated_at"


@dataclass(frozen=True)
class TicketList:
    tickets: list[Ticket]
    next_cursor: str | None  # None on the last page


def list_tickets(session: Session, filters: TicketFilters, *, cursor: str | None, limit: int, actor: User
                 ) -> TicketList:
    """The tickets the caller may see (agents: all; customers: their own), filtered, one page at a time. The
    cursor names the last ticket of the previous page, so pages neither repeat nor skip when tickets are
    filed meanwhile."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(N_("limit must be a number from 1 to %(max)s."), field="limit", max=MAX_LIMIT)
    if filters.sort not in SORTS:
        raise Invalid(N_("sort must be updated_at or -updated_at."), field="sort")
    query = select(Ticket).options(selectinload(Ticket.tags), selectinload(Ticket.requester),
                                   selectinload(Ticket.assignee), selectinload(Ticket.group),
                                   selectinload(Ticket.field_values).selectinload(TicketFieldValue.field))
    query = _visible(query, filters, actor)
    if filters.priority is not None:
        if filters.priority not in PRIORITIES:
            raise Invalid(N_("Choose one of the priorities offered."), field="priority")
        query = query.where(Ticket.priority == filters.priority)
    if filters.updated_since is not None:
        query = query.where(Ticket.updated_at >= filters.updated_since)
    descending = filters.sort.startswith("-")
    if cursor:
        updated_at, ticket_id = decode_cursor(cursor, filters.sort)
        if descending:
            query = query.where(or_(Ticket.updated_at < updated_at,
                                    and_(Ticket.updated_at == updated_at, Ticket.id < ticket_id)))
        else:
            query = query.where(or_(Ticket.updated_at > updated_at,
                                    and_(Ticket.updated_at == updated_at, Ticket.id > ticket_id)))
    order = (Ticket.updated_at.desc(), Ticket.id.desc()) if descending else (Ticket.updated_at, Ticket.id)
    found = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    page, more = found[:limit], len(found) > limit
    next_cursor = encode_cursor(page[-1], filters.sort) if more else None
    return TicketList(page, next_cursor)


def _visible(query, filters: TicketFilters, actor: User):
    if not actor.is_agent:
        if filters.assignee is not None or filters.group is not None or filters.tag is not None:
            raise NotAllowed(N_("Only agents can filter by assignee, group or tag."))
        query = query.where(Ticket.requester_id == actor.id)
        if filters.statuses:
            # Customers see new and on hold as open (the answers say so): filtering by them means open.
            words = [CUSTOMER_WORDS.get(s, s) for s in filters.statuses]
            if any(word not in CUSTOMER_FILTERS for word in words):
                raise Invalid(N_("Choose one of the statuses offered."), field="status")
            covered = [core for word in words for core in CUSTOMER_FILTERS[word]]
            query = query.where(Ticket.status.in_(covered))
        return query
    if filters.statuses:
        if any(s not in {status.value for status in Status} for s in filters.statuses):
            raise Invalid(N_("Choose one of the statuses offered."), field="status")
        query = query.where(Ticket.status.in_(filters.statuses))
    if filters.assignee is not None:
        if filters.assignee == "none":
            query = query.where(Ticket.assignee_id.is_(None))
        else:
            query = query.where(Ticket.assignee_id == (actor.id if filters.assignee == "me"
                                                       else _number(filters.assignee, "assignee")))
    if filters.group is not None:
        query = query.where(Ticket.group_id.is_(None) if filters.group == "none"
                            else Ticket.group_id == _number(filters.group, "group"))
    if filters.tag is not None:
        tag = filters.tag.strip().lower()
        query = query.where(Ticket.tags.any(TicketTag.tag == tag))
    return query


def _number(value: str, name: str) -> int:
    number = whole_number(value)
    if number is None:
        raise Invalid(N_("%(field)s must be a number, me or none."), field=name)
    return number


def encode_cursor(ticket: Ticket, sort: str) -> str:
    raw = json.dumps([sort, ticket.updated_at.isoformat(), ticket.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[datetime, int]:
    """The position a cursor names; a cursor from another sort order or a damaged one is refused."""
    try:
        if len(cursor) > CURSOR_MAX:  # ours are about 60 characters; a long one could nest JSON deeply
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, updated_at, ticket_id = json.loads(raw)
        if cursor_sort != sort or whole_number(ticket_id, minimum=1) is None or not isinstance(ticket_id, int):
            raise ValueError(cursor_sort)
        return datetime.fromisoformat(updated_at), ticket_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid(N_("This cursor is not valid here: start again from the first page."),
                      field="cursor") from None


def parse_timestamp(value: str, *, name: str) -> datetime:
    """An ISO 8601 time; without an offset it is taken as UTC. Returned as naive UTC, like the database."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Invalid(N_("%(field)s must be an ISO 8601 date and time, e.g. 2026-01-31T09:00:00Z."),
                      field=name) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


# ---- Filing with an Idempotency-Key ------------------------------------------------------------------------


def request_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def check_idempotency_key(key: str) -> str:
    if not _IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise Invalid(N_("Idempotency-Key must be 1 to %(max)s visible ASCII characters."),
                      field="Idempotency-Key", max=IDEMPOTENCY_KEY_MAX)
    return key


def replay(session: Session, token: ApiToken, key: str, fingerprint: str) -> Ticket | None:
    """The ticket an earlier call with this token and key filed, if any. The same key sent with a different
    request is refused: it would otherwise silently return a ticket the caller did not describe."""
    earlier = session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token.id,
                                                          IdempotencyKey.key == key))
    if earlier is None:
        return None
    if earlier.request_hash != fingerprint:
        raise Invalid(N_("This Idempotency-Key was already used for a different request."),
                      field="Idempotency-Key")
    return earlier.ticket


def remember(session: Session, token: ApiToken, key: str, fingerprint: str, ticket: Ticket, *,
             now: datetime) -> None:
    """Recorded in the same transaction as the ticket: both exist or neither does. Two concurrent calls with
    the same key collide on the unique constraint; the caller then replays the winner's ticket."""
    session.add(IdempotencyKey(token_id=token.id, key=key, request_hash=fingerprint, ticket=ticket, created_at=now))


def field_answers(category: Category | None, raw: object) -> Mapping[str, object]:
    """The `fields` of a new ticket: an object of answers by field key, each one value. A key the category
    does not ask is refused rather than dropped; kinds, options and required ones are checked on filing."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > categories.MAX_FIELD_ANSWERS:
        raise Invalid(N_("fields must be an object of answers by field key."), field="fields")
    categories.check_keys(category, raw)
    return raw


@contextmanager
def custom_field_errors() -> Iterator[None]:
    """The services name inputs as the web forms do: a custom field `field_<key>` is `fields.<key>` here, and
    the category is `category_id`."""
    try:
        yield
    except Invalid as exc:
        field = exc.details.get("field")
        if isinstance(field, str) and field.startswith("field_"):
            exc.details["field"] = "fields." + field.removeprefix("field_")
        elif field == "category":
            exc.details["field"] = "category_id"
        raise


def new_ticket_category(session: Session, category_id: int | None) -> Category | None:
    """The category a new ticket is filed in: one customers are offered, as on the web form (anyone filing may
    choose it, customers included)."""
    category = categories.get_existing(session, category_id, field="category_id")
    if category is not None and not category.active:
        raise Invalid(N_("Choose one of the categories offered."), field="category_id")
    return category


def requester_for(session: Session, requester_id: int | None, *, actor: User) -> User:
    """Customers file for themselves; agents may file for any active person."""
    if requester_id is None or requester_id == actor.id:
        return actor
    if not actor.is_agent:
        raise NotAllowed(N_("You can only file tickets for yourself."))
    requester = session.get(User, requester_id)
    if requester is None or not requester.active:
        raise Invalid(N_("There is no active person with this id."), field="requester_id")
    return requester


# ---- Changing a ticket --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketChanges:
    version: int
    action: str | None = None
    reason: str | None = None
    priority: str | None = None
    assignee_id: object = UNCHANGED  # an id, None for nobody
    group_id: object = UNCHANGED
    category_id: object = UNCHANGED  # an id, None for no category
    language: str | None = None
    tags: list[str] | None = None
    postponed_until: object = UNCHANGED  # a time (UTC), None to resume now


def update_ticket(session: Session, ticket: Ticket, changes: TicketChanges, *, actor: User, now: datetime) -> None:
    """Several changes in one call, all or nothing, based on the version the caller last saw. Fields first
    (category and language before the assignee, since they decide who fits the ticket), the status action
    last, so "assign to me and solve" works in one call. Customers may only confirm or reopen (with a reason)."""
    tickets.check_version(ticket, changes.version)
    if not actor.is_agent:
        _customer_update(session, ticket, changes, actor=actor, now=now)
        return
    if changes.action is not None and changes.action not in AGENT_ACTIONS:
        raise Invalid(N_("Choose one of these actions: %(actions)s."), field="action",
                      actions=", ".join(AGENT_ACTIONS))
    if changes.category_id is not UNCHANGED:
        category = categories.get_existing(session, changes.category_id, field="category_id")  # type: ignore[arg-type]
        with custom_field_errors():
            agent_desk.set_category(session, ticket, category, actor=actor, now=now)
    if changes.language is not None:
        agent_desk.set_language(session, ticket, changes.language, actor=actor, now=now)
    if changes.group_id is not UNCHANGED:
        group = _existing(session, Group, changes.group_id, "group_id")
        agent_desk.set_group(session, ticket, group, actor=actor, now=now)
    if changes.assignee_id is not UNCHANGED:
        assignee = _existing(session, User, changes.assignee_id, "assignee_id")
        agent_desk.assign(session, ticket, assignee, actor=actor, now=now)
    if changes.priority is not None:
        agent_desk.set_priority(session, ticket, changes.priority, actor=actor, now=now)
    if changes.tags is not None:
        _replace_tags(session, ticket, changes.tags, actor=actor, now=now)
    if changes.postponed_until is None and ticket.postponed_until is not None:  # resume, then the action
        postpone.resume(session, ticket, actor=actor, now=now)
    if changes.action == "take":
        assignment.take(session, ticket, actor=actor, now=now)
    elif changes.action is not None:
        tickets.set_status(session, ticket, str(AGENT_ACTIONS[changes.action]), actor=actor, now=now)
    if isinstance(changes.postponed_until, datetime):  # last: "set pending and postpone" in one call
        try:
            postpone.postpone(session, ticket, changes.postponed_until, actor=actor, now=now)
        except Invalid as exc:
            exc.details["field"] = "postponed_until"  # the API's name for it
            raise


def _customer_update(session: Session, ticket: Ticket, changes: TicketChanges, *, actor: User,
                     now: datetime) -> None:
    if (changes.priority is not None or changes.tags is not None or changes.assignee_id is not UNCHANGED
            or changes.group_id is not UNCHANGED or changes.category_id is not UNCHANGED
            or changes.language is not None or changes.postponed_until is not UNCHANGED):
        raise NotAllowed(N_("Customers can only confirm or reopen their tickets."))
    if changes.action not in CUSTOMER_ACTIONS:
        raise Invalid(N_("Choose one of these actions: %(actions)s."), field="action",
                      actions=", ".join(CUSTOMER_ACTIONS))
    if changes.action == "confirm":
        tickets.confirm(session, ticket, actor=actor, now=now)
    else:
        tickets.reopen(session, ticket, reason=changes.reason or "", actor=actor, now=now)


def _existing(session: Session, model: type, value: object, name: str):
    if value is None:
        return None
    found = session.get(model, value) if isinstance(value, int) else None
    if found is None:
        raise Invalid(N_("There is nothing with this id."), field=name)
    return found


def _replace_tags(session: Session, ticket: Ticket, wanted: list[str], *, actor: User, now: datetime) -> None:
    if len(wanted) > MAX_TAGS:
        raise Invalid(N_("A ticket has at most %(max)s tags."), field="tags", max=MAX_TAGS)
    cleaned = list(dict.fromkeys(agent_desk.clean_tag(tag) for tag in wanted))
    for tag in [t for t in ticket.tag_names if t not in cleaned]:
        agent_desk.remove_tag(session, ticket, tag, actor=actor, now=now)
    for tag in cleaned:
        agent_desk.add_tag(session, ticket, tag, actor=actor, now=now)


# ---- The conversation ------------------------------------------------------------------------------------------


def visible_messages(session: Session, ticket: Ticket, *, actor: User) -> list[Message]:
    """The whole conversation for agents; the public replies only for customers."""
    query = select(Message).where(Message.ticket_id == ticket.id).options(
        selectinload(Message.attachments), selectinload(Message.author)).order_by(Message.id)
    if not actor.is_agent:
        query = query.where(Message.public)
    return list(session.scalars(query))


def check_message_options(*, public: bool, submit_as: str | None, actor: User) -> None:
    """Private notes and "submit as" are the agents' tools."""
    if not actor.is_agent and (not public or submit_as is not None):
        raise NotAllowed(N_("Only agents can write private notes or change the status with a reply."))


# ---- People -----------------------------------------------------------------------------------------------------


def visible_user(session: Session, user_id: int, *, actor: User) -> User:
    """Everyone sees themselves, agents see customers, admins see everyone. Anything else is NotFound, so the
    API never confirms that an id exists."""
    user = session.get(User, user_id)
    if user is None or not (user.id == actor.id or actor.is_admin or (actor.is_agent and not user.is_agent)):
        raise NotFound(N_("No such user."))
    return user
