"""Does a condition hold for a ticket right now? `Facts` is what conditions read about one ticket and the change
being processed; whatever needs the database (the description, the calendar) is read once, and only when a
condition asks for it, so fifty rules that do not match cost little more than none."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import PRIORITIES, BusinessCalendar, Message, Ticket, TicketEvent
from portal.services import sla
from portal.services.rules.catalog import CUSTOM_FIELD_PREFIX
from portal.services.rules.defaults import REMINDER_EVENT
from portal.services.rules.words import Text, fold, word_list

_UNSET = object()
REPLY_EVENTS = frozenset({"customer_replied", "agent_replied"})


class Facts:
    """One ticket as the rules see it during one change: the ticket itself (rules' changes show at once), the
    events and who caused them, and the status before the change."""

    def __init__(self, session: Session, ticket: Ticket, *, events: set[str], actor: str,
                 previous_status: str | None, now: datetime) -> None:
        self.session, self.ticket, self.now = session, ticket, now
        self.events, self.actor, self.previous_status = events, actor, previous_status
        self._text = None
        self._in_hours = _UNSET

    @property
    def text(self) -> Text:
        """The subject and the description (the ticket's first message), folded for word matching; when the
        change is a reply, the reply too ("urgent" in a customer's reply is what a rule on replies looks for)."""
        if self._text is None:
            parts = [self.ticket.subject or ""]
            if self.ticket.id:
                messages = select(Message.body).where(Message.ticket_id == self.ticket.id)
                parts.append(self.session.scalar(messages.order_by(Message.id).limit(1)) or "")
                if self.events & REPLY_EVENTS:
                    parts.append(self.session.scalar(messages.order_by(Message.id.desc()).limit(1)) or "")
            self._text = Text("\n".join(parts))
        return self._text

    def requester_email(self) -> str:
        requester = self.ticket.requester
        return (requester.email if requester else "").lower()

    def field_value(self, key: str) -> str | None:
        found = next((v for v in self.ticket.field_values if v.field is not None and v.field.key == key), None)
        return found.value if found is not None and found.value not in (None, "") else None

    def hours_since(self, moment: datetime | None) -> float | None:
        return None if moment is None else (self.now - moment).total_seconds() / 3600

    def reminded_in_this_status(self) -> bool:
        """The pending reminder went out since the ticket's status began (once per pending period)."""
        if not self.ticket.id:
            return False
        return self.session.scalar(select(TicketEvent.id).where(
            TicketEvent.ticket_id == self.ticket.id, TicketEvent.kind == REMINDER_EVENT,
            TicketEvent.created_at >= self.ticket.status_changed_at).limit(1)) is not None

    def in_business_hours(self) -> bool:
        """Inside the working hours of the ticket's SLA calendar (else the first calendar); with no calendar at
        all, every hour is a working hour."""
        if self._in_hours is _UNSET:
            policy = sla.policy_for(self.session, self.ticket.priority, sla.plan_of(self.ticket))
            calendar = sla.calendar_of(self.session, policy) if policy is not None else None
            if calendar is None:
                calendar = self.session.scalar(select(BusinessCalendar).order_by(BusinessCalendar.id).limit(1))
            self._in_hours = calendar is None or sla.working_minutes(
                self.now, self.now + timedelta(minutes=1), calendar) > 0
        return bool(self._in_hours)


@lru_cache(maxsize=4096)
def _words(value: str) -> tuple[str, ...]:
    return tuple(word_list(value))


def holds(condition: dict, facts: Facts) -> bool:
    """One condition of the catalog, for the ticket as it is now."""
    name, op, value = condition["field"], condition["op"], condition.get("value")
    ticket = facts.ticket
    if name.startswith(CUSTOM_FIELD_PREFIX):
        return _compare(facts.field_value(name.removeprefix(CUSTOM_FIELD_PREFIX)), op, value)
    if name == "priority" and op in ("above", "below"):
        difference = PRIORITIES.index(ticket.priority) - PRIORITIES.index(value)
        return difference > 0 if op == "above" else difference < 0
    reader = _READERS.get(name)
    if reader is not None:
        return _compare(reader(facts), op, value)
    if name == "subject_or_description":
        if op == "contains_phrase":
            return facts.text.has_phrase(value)
        found = any(facts.text.has_word(word) for word in _words(value))
        return found if op == "contains_any_word" else not found
    if name == "requester_email":
        email = facts.requester_email()
        return email.endswith(value) if op == "ends_with" else _compare(email, op, value)
    if name == "status":
        return _status(ticket.status, facts.previous_status, op, value)
    if name == "tags":
        has = any(tag in ticket.tag_names for tag in value)
        return has if op == "has" else not has
    if name.startswith("hours_since_"):
        hours = facts.hours_since({"hours_since_created": ticket.created_at, "hours_since_updated": ticket.updated_at,
                                   "hours_since_solved": ticket.solved_at,
                                   "hours_since_status_changed": ticket.status_changed_at}[name])
        if hours is None:
            return False
        return hours > value if op == "greater_than" else hours < value
    if name == "business_hours":
        return facts.in_business_hours() == (op == "is_true")
    if name == "reminder_sent":
        return facts.reminded_in_this_status() == (op == "is_true")
    raise ValueError(f"unknown condition field {name!r}")


_READERS = {
    "channel": lambda f: f.ticket.channel,
    "requester_domain": lambda f: f.requester_email().rpartition("@")[2],
    "customer_plan": lambda f: f.ticket.requester.plan if f.ticket.requester else None,
    "language": lambda f: f.ticket.language,
    "category": lambda f: f.ticket.category_id,
    "previous_status": lambda f: f.previous_status,
    "priority": lambda f: f.ticket.priority,
    "group": lambda f: f.ticket.group_id,
    "assignee": lambda f: f.ticket.assignee_id,
    "actor": lambda f: f.actor,
}


def _compare(actual: object, op: str, value: object) -> bool:
    if op == "is":
        return _same(actual, value)
    if op == "is_not":
        return not _same(actual, value)
    if op in ("present", "assigned"):
        return actual is not None
    if op in ("absent", "unassigned"):
        return actual is None
    raise ValueError(f"unknown operator {op!r}")


def _same(actual: object, value: object) -> bool:
    if isinstance(actual, str) and isinstance(value, str):
        return fold(actual.strip()) == fold(value.strip())
    return actual == value


def _status(status: str, previous: str | None, op: str, value: str | None) -> bool:
    changed = previous is not None and previous != status
    if op == "changed":
        return changed
    if op == "changed_to":
        return changed and status == value
    if op == "changed_from":
        return changed and previous == value
    return _compare(status, op, value)
