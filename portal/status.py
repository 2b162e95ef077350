"""The ticket status machine: statuses, actions, roles, and the one table that says who may move a ticket where.

`apply_action` is the only code that sets `ticket.status`. It needs no database session and no Flask: it
checks the table and the cell's guard, updates the ticket (status, timestamps, version, and the assignee for
`take`) and returns `EventRecord`s, which the caller persists: `TicketEvent(ticket=ticket, **asdict(record))`.

The caller checks ownership (a customer acts only on their own tickets) and the optimistic-lock version.
E-mail ingestion that recognises the requester acts with the `customer` role on their behalf; the `system`
role is for the automations that do what the timers did (auto_close, pending_timeout:
services.rules.defaults) and for resume when a postponement ends.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from portal.errors import N_, InvalidTransition

if TYPE_CHECKING:
    from portal.models.tickets import Ticket


class Status(StrEnum):
    NEW = "new"  # filed, nobody has acted yet
    OPEN = "open"  # an agent is working on it: the agents' move
    PENDING = "pending"  # the agent asked the customer something: the customer's move
    ON_HOLD = "on_hold"  # waiting for a third party; internal
    SOLVED = "solved"  # the agent gave a solution: the customer may reopen or confirm
    CLOSED = "closed"  # final; read-only


class Action(StrEnum):
    TAKE = "take"
    SET_OPEN = "set_open"  # an agent's reply or note, "submit as" open / pending / on hold / solved
    SET_PENDING = "set_pending"
    SET_ON_HOLD = "set_on_hold"
    SOLVE = "solve"
    CUSTOMER_REPLY = "customer_reply"
    REOPEN = "reopen"
    CONFIRM = "confirm"
    AUTO_CLOSE = "auto_close"
    PENDING_TIMEOUT = "pending_timeout"
    ESCALATE = "escalate"  # status unchanged: the caller changes group or tier
    DE_ESCALATE = "de_escalate"
    MERGE = "merge"  # the source ticket closes; the caller moves its conversation
    FOLLOW_UP = "follow_up"  # the closed ticket is untouched; the caller creates the new, linked ticket
    POSTPONE = "postpone"  # status unchanged: the caller sets when it comes back (services.postpone)
    RESUME = "resume"  # back from a postponement: to the agents, open


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"
    SYSTEM = "system"


# Message ids, not translations: the web layer passes them through gettext.
AGENT_LABELS = {
    "new": N_("New"),
    "open": N_("Open"),
    "pending": N_("Pending"),
    "on_hold": N_("On hold"),
    "solved": N_("Solved"),
    "closed": N_("Closed"),
}
CUSTOMER_LABELS = {
    "new": N_("Open"),
    "open": N_("Open"),
    "pending": N_("Waiting for your reply"),
    "on_hold": N_("Open"),
    "solved": N_("Solved"),
    "closed": N_("Closed"),
}


@dataclass(frozen=True)
class Attempt:
    """What a guard may look at: the ticket as it is, the time, and what the caller passed in."""

    ticket: Ticket
    now: datetime
    reason: str | None = None
    text: str | None = None
    auto_close_days: int | None = None
    pending_since: datetime | None = None
    pending_timeout_days: int | None = None


Guard = Callable[[Attempt], str | None]  # None when allowed, else the refusal


def has_assignee(a: Attempt) -> str | None:
    return None if a.ticket.assignee_id is not None else "Assign this ticket before solving it."


def has_reason(a: Attempt) -> str | None:
    return None if (a.reason or "").strip() else "To reopen the ticket, tell us why the solution did not help."


def solved_long_enough(a: Attempt) -> str | None:
    if a.auto_close_days is None:
        raise ValueError("auto_close needs auto_close_days")
    if a.ticket.solved_at is not None and a.ticket.solved_at + timedelta(days=a.auto_close_days) <= a.now:
        return None
    return f"A ticket closes by itself only {a.auto_close_days} days after it was solved."


def pending_long_enough(a: Attempt) -> str | None:
    if a.pending_since is None or a.pending_timeout_days is None:
        raise ValueError("pending_timeout needs pending_since and pending_timeout_days")
    if a.pending_since + timedelta(days=a.pending_timeout_days) <= a.now:
        return None
    return f"A pending ticket is solved by itself only after {a.pending_timeout_days} days without a reply."


def thanks_only(a: Attempt) -> bool:
    return is_thanks_only(a.text)


@dataclass(frozen=True)
class Rule:
    to: Status
    roles: frozenset[Role]
    guard: Guard | None = None
    kind: str = "status_changed"  # the event's kind when the status changes
    stays_if: Callable[[Attempt], bool] | None = None  # when true, the status does not change


S, A = Status, Action
CUSTOMER = frozenset({Role.CUSTOMER})
AGENTS = frozenset({Role.AGENT, Role.ADMIN})  # an admin may do whatever an agent may
SYSTEM = frozenset({Role.SYSTEM})

# (status, action) -> what happens. A missing cell is refused for everyone.
TRANSITIONS: dict[tuple[Status, Action], Rule] = {
    # take: the acting agent becomes the assignee; a new ticket opens, the others keep their status
    (S.NEW, A.TAKE): Rule(S.OPEN, AGENTS),
    (S.OPEN, A.TAKE): Rule(S.OPEN, AGENTS),
    (S.PENDING, A.TAKE): Rule(S.PENDING, AGENTS),
    (S.ON_HOLD, A.TAKE): Rule(S.ON_HOLD, AGENTS),
    (S.SOLVED, A.TAKE): Rule(S.SOLVED, AGENTS),
    # an agent's reply or note, submitted as ...
    (S.NEW, A.SET_OPEN): Rule(S.OPEN, AGENTS),
    (S.NEW, A.SET_PENDING): Rule(S.PENDING, AGENTS),
    (S.NEW, A.SET_ON_HOLD): Rule(S.ON_HOLD, AGENTS),
    (S.NEW, A.SOLVE): Rule(S.SOLVED, AGENTS, has_assignee),
    (S.OPEN, A.SET_OPEN): Rule(S.OPEN, AGENTS),
    (S.OPEN, A.SET_PENDING): Rule(S.PENDING, AGENTS),
    (S.OPEN, A.SET_ON_HOLD): Rule(S.ON_HOLD, AGENTS),
    (S.OPEN, A.SOLVE): Rule(S.SOLVED, AGENTS, has_assignee),
    (S.PENDING, A.SET_OPEN): Rule(S.OPEN, AGENTS),
    (S.PENDING, A.SET_PENDING): Rule(S.PENDING, AGENTS),
    (S.PENDING, A.SET_ON_HOLD): Rule(S.ON_HOLD, AGENTS),
    (S.PENDING, A.SOLVE): Rule(S.SOLVED, AGENTS, has_assignee),
    (S.ON_HOLD, A.SET_OPEN): Rule(S.OPEN, AGENTS),
    (S.ON_HOLD, A.SET_PENDING): Rule(S.PENDING, AGENTS),
    (S.ON_HOLD, A.SET_ON_HOLD): Rule(S.ON_HOLD, AGENTS),
    (S.ON_HOLD, A.SOLVE): Rule(S.SOLVED, AGENTS, has_assignee),
    (S.SOLVED, A.SET_OPEN): Rule(S.OPEN, AGENTS),
    (S.SOLVED, A.SET_PENDING): Rule(S.PENDING, AGENTS),
    (S.SOLVED, A.SET_ON_HOLD): Rule(S.ON_HOLD, AGENTS),
    (S.SOLVED, A.SOLVE): Rule(S.SOLVED, AGENTS, has_assignee),  # a new solution restarts the auto-close clock
    # the requester writes: back to the agents, except a plain "thanks" on a solved ticket
    (S.NEW, A.CUSTOMER_REPLY): Rule(S.NEW, CUSTOMER),
    (S.OPEN, A.CUSTOMER_REPLY): Rule(S.OPEN, CUSTOMER),
    (S.PENDING, A.CUSTOMER_REPLY): Rule(S.OPEN, CUSTOMER),
    (S.ON_HOLD, A.CUSTOMER_REPLY): Rule(S.OPEN, CUSTOMER),
    (S.SOLVED, A.CUSTOMER_REPLY): Rule(S.OPEN, CUSTOMER, kind="reopened", stays_if=thanks_only),
    # the requester answers the solution
    (S.SOLVED, A.REOPEN): Rule(S.OPEN, CUSTOMER, has_reason, kind="reopened"),
    (S.SOLVED, A.CONFIRM): Rule(S.CLOSED, CUSTOMER, kind="confirmed"),
    # timers
    (S.SOLVED, A.AUTO_CLOSE): Rule(S.CLOSED, SYSTEM, solved_long_enough, kind="auto_closed"),
    (S.PENDING, A.PENDING_TIMEOUT): Rule(S.SOLVED, SYSTEM, pending_long_enough, kind="auto_solved"),
    # group or tier changes: the status stays, the row exists so the buttons come from this table
    (S.NEW, A.ESCALATE): Rule(S.NEW, AGENTS),
    (S.OPEN, A.ESCALATE): Rule(S.OPEN, AGENTS),
    (S.PENDING, A.ESCALATE): Rule(S.PENDING, AGENTS),
    (S.ON_HOLD, A.ESCALATE): Rule(S.ON_HOLD, AGENTS),
    (S.NEW, A.DE_ESCALATE): Rule(S.NEW, AGENTS),
    (S.OPEN, A.DE_ESCALATE): Rule(S.OPEN, AGENTS),
    (S.PENDING, A.DE_ESCALATE): Rule(S.PENDING, AGENTS),
    (S.ON_HOLD, A.DE_ESCALATE): Rule(S.ON_HOLD, AGENTS),
    # merging closes the source ticket
    (S.NEW, A.MERGE): Rule(S.CLOSED, AGENTS, kind="merged"),
    (S.OPEN, A.MERGE): Rule(S.CLOSED, AGENTS, kind="merged"),
    (S.PENDING, A.MERGE): Rule(S.CLOSED, AGENTS, kind="merged"),
    (S.ON_HOLD, A.MERGE): Rule(S.CLOSED, AGENTS, kind="merged"),
    (S.SOLVED, A.MERGE): Rule(S.CLOSED, AGENTS, kind="merged"),
    # postponing leaves the working queues until a date; the status stays, the row says who may and from where
    # (a solved ticket already waits for the customer and its auto-close clock: nothing to postpone)
    (S.NEW, A.POSTPONE): Rule(S.NEW, AGENTS),
    (S.OPEN, A.POSTPONE): Rule(S.OPEN, AGENTS),
    (S.PENDING, A.POSTPONE): Rule(S.PENDING, AGENTS),
    (S.ON_HOLD, A.POSTPONE): Rule(S.ON_HOLD, AGENTS),
    # when the time comes (the system's job), or an agent's "Resume now": back to the agents, open
    (S.NEW, A.RESUME): Rule(S.OPEN, AGENTS | SYSTEM),
    (S.OPEN, A.RESUME): Rule(S.OPEN, AGENTS | SYSTEM),
    (S.PENDING, A.RESUME): Rule(S.OPEN, AGENTS | SYSTEM),
    (S.ON_HOLD, A.RESUME): Rule(S.OPEN, AGENTS | SYSTEM),
    # closed is terminal: the only thing left is to start a new ticket linked to it
    (S.CLOSED, A.FOLLOW_UP): Rule(S.CLOSED, CUSTOMER | AGENTS),
}


@dataclass(frozen=True)
class EventRecord:
    """One change for the audit trail; the fields are TicketEvent's columns."""

    kind: str
    field: str
    old_value: str | None
    new_value: str | None
    actor_id: int | None
    created_at: datetime


def agent_label(status: str) -> str:
    return AGENT_LABELS[Status(status)]


def customer_status(status: str) -> str:
    return CUSTOMER_LABELS[Status(status)]


def is_terminal(status: str) -> bool:
    return Status(status) is Status.CLOSED


def allowed_actions(ticket: Ticket, role: str) -> list[Action]:
    """The buttons to draw. Guards (an assignee, a reason, the clock) are checked when the action is applied."""
    status, role = Status(ticket.status), Role(role)
    return [action for action in Action if role in _roles(status, action)]


def can(ticket: Ticket, action: str, role: str) -> bool:
    return Role(role) in _roles(Status(ticket.status), Action(action))


def apply_action(
    ticket: Ticket, action: str, *, role: str, actor_id: int | None, now: datetime,
    reason: str | None = None, text: str | None = None, auto_close_days: int | None = None,
    pending_since: datetime | None = None, pending_timeout_days: int | None = None,
) -> list[EventRecord]:
    """Apply one action or raise InvalidTransition, leaving the ticket untouched.

    `text` is the customer's reply (a thanks-only reply keeps a solved ticket solved); `reason` is required
    to reopen; the timers pass their delays and the caller computes when the ticket became pending.
    """
    status, action = Status(ticket.status), Action(action)
    if Role(role) not in _roles(status, action):
        raise InvalidTransition(_refusal(status, role), status=status.value, action=action.value,
                                allowed=[a.value for a in allowed_actions(ticket, role)])
    rule = TRANSITIONS[status, action]
    attempt = Attempt(ticket, now, reason, text, auto_close_days, pending_since, pending_timeout_days)
    refusal = rule.guard(attempt) if rule.guard else None
    if refusal:
        raise InvalidTransition(refusal, status=status.value, action=action.value)
    if status is Status.CLOSED:
        return []  # follow_up: a closed ticket is read-only; the caller creates the new ticket
    records = []
    if action is Action.TAKE:
        if actor_id is None:
            raise ValueError("take needs the acting agent's id")
        if ticket.assignee_id != actor_id:
            old_assignee = None if ticket.assignee_id is None else str(ticket.assignee_id)
            records.append(EventRecord("assigned", "assignee_id", old_assignee, str(actor_id), actor_id, now))
            ticket.assignee_id = actor_id
    new = status if rule.stays_if and rule.stays_if(attempt) else rule.to
    _stamp(ticket, status, new, now, fresh_solution=action is Action.SOLVE)
    if new is not status:
        ticket.status = new.value
        ticket.status_changed_at = now  # "hours since the status changed": how long it has been pending, say
        records.append(EventRecord(rule.kind, "status", status.value, new.value, actor_id, now))
    ticket.updated_at = now
    ticket.version += 1
    return records


def system_action(status: str, to: str) -> Action | None:
    """The action the system may take to move a ticket from `status` to `to` (auto_close, pending_timeout), or
    None: what an automation does where the former timers did, so the history reads as it always has."""
    return next((action for (frm, action), rule in TRANSITIONS.items()
                 if frm == status and rule.to == to and Role.SYSTEM in rule.roles), None)


def _roles(status: Status, action: Action) -> frozenset[Role]:
    rule = TRANSITIONS.get((status, action))
    return rule.roles if rule else frozenset()


def _stamp(ticket: Ticket, old: Status, new: Status, now: datetime, *, fresh_solution: bool) -> None:
    """solved_at is set exactly while solved or closed (a ticket closed unsolved counts as solved then)."""
    if new is Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif new is Status.SOLVED:
        if old is not Status.SOLVED or fresh_solution:
            ticket.solved_at = now
    else:
        ticket.solved_at = None


def _refusal(status: Status, role: str) -> str:
    if status is Status.CLOSED:
        return "This ticket is closed: nothing can change it; create a follow-up instead."
    words = status.value.replace("_", " ")
    article = "An" if words[0] in "aeiou" else "A"
    allowed = [a.value.replace("_", " ") for a in Action if Role(role) in _roles(status, a)]
    if not allowed:
        return f"{article} {words} ticket allows no action for the {Role(role).value} role."
    return f"{article} {words} ticket allows: {', '.join(allowed)}."


# Thanks-only replies. When unsure, say no: a needless reopen costs an agent a glance, a missed question
# leaves a customer waiting. Phrases are lower case, without accents or punctuation.
_THANKS = """thanks, thank you, thank u, thankyou, thanks you, thx, thnx, thanx, tnx, tks, ty, tysm, cheers,
    many thanks, much appreciated, appreciated, appreciate it, i appreciate it, really appreciate it,
    gracias, mil gracias, gracias mil, muchas gracias, muchisimas gracias, infinitas gracias,
    un millon de gracias, te lo agradezco, se lo agradezco, os lo agradezco, lo agradezco, muy agradecido,
    muy agradecida, agradecido, agradecida"""
_COURTESY = """ok, okay, okey, k, great, perfect, awesome, cool, excellent, good, nice, super, brilliant,
    wonderful, amazing, fantastic, lovely, yes, yep, yeah, oh, wow, and, now, again, so much, very much, a lot,
    a million, a bunch, so, very, really, all good, got it, that worked, it worked, it works, it works now,
    works now, working now, its working now, it is working now, that works, that did it, that did the trick,
    that fixed it, thats, thats it, that was it, fixed, solved, sorted, all sorted, problem solved, that helps,
    that helped, very helpful, for the help, for your help, for all your help, for all the help,
    for everything, for the quick reply, for the quick response, for the fast response, for your time,
    for the info, for the information, for the explanation, hi, hello, hey, dear, team, support team, guys,
    everyone, all, bye, regards, best regards, kind regards, best, have a nice day, have a good day,
    have a great day, great job, great work, great service, you are the best, youre the best,
    vale, perfecto, perfecta, genial, excelente, estupendo, fenomenal, bueno, buenisimo, bien, muy bien,
    listo, si, y, mucho, todo bien, todo correcto, ya funciona, ya esta, funciona, ahora funciona, ya funciona todo,
    funciono, resuelto, solucionado, problema resuelto, por la ayuda, por su ayuda, por tu ayuda,
    por vuestra ayuda, por todo, por la respuesta, por la rapida respuesta, por su tiempo, por tu tiempo,
    por la informacion, de nuevo, otra vez, de verdad, hola, buenos dias, buenas tardes, buenas noches,
    buenas, saludos, un saludo, un abrazo, atentamente, equipo, chicos, muy amable, muy amables,
    que amable, sois unos cracks, eres un crack, a todos, que tengas buen dia, que tenga buen dia,
    buen dia, feliz dia, hasta luego, adios, chao"""


def _alternatives(phrases: str) -> str:
    items = sorted({p.strip() for p in phrases.split(",")}, key=len, reverse=True)
    return "|".join(re.escape(p) for p in items)


_THANKS_RE = re.compile(rf"(?:^| )(?:{_alternatives(_THANKS)})(?= |$)")
_PIECE = rf"(?:{_alternatives(_THANKS + ',' + _COURTESY)})"
_ONLY_PIECES_RE = re.compile(rf"{_PIECE}(?: {_PIECE})*")


def _normalise(text: str) -> str:
    """Lower case, accents off, apostrophes dropped, punctuation, symbols and emoji turned into spaces."""
    text = unicodedata.normalize("NFKD", text).casefold().replace("'", "").replace("\u2019", "")
    kept = (ch if unicodedata.category(ch)[0] in "LN" else " " for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join("".join(kept).split())


def is_thanks_only(text: str | None) -> bool:
    """A short reply that only thanks (en, es): no question, nothing but thanks and courtesy, ≤ 60 characters."""
    if not text or "?" in unicodedata.normalize("NFKC", text) or "¿" in text:
        return False
    words = _normalise(text)
    return (len(words) <= 60 and _ONLY_PIECES_RE.fullmatch(words) is not None
            and _THANKS_RE.search(words) is not None)
