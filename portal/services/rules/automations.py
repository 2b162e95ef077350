"""Automations: rules run on a schedule (`flask --app app rules run-automations`, hourly from cron) over the
tickets their conditions match, rather than when a ticket changes.

For each enabled automation, in the rules' order: the conditions that SQL can answer (status, priority, group,
assignee, channel, language, category, hours since created/updated/solved/the status changed, tags, the
pending reminder) become a WHERE clause over the tickets' indexes, so only candidates are read, by id, `BATCH` at a
time. Every condition is then checked in Python (services.rules.conditions) on each candidate, exactly as a
trigger's are; the SQL is only ever a superset. Closed tickets are never candidates: nothing but a note or a
mail could be done to them, and they are most of the table.

A candidate that matches is claimed before anything is done to it: one UPDATE bumps its `version` only if it is
still the version that was read. On PostgreSQL the row stays locked until the transaction ends; on SQLite the
whole file does. Another process or host running at the same time matches no row and moves on, so a ticket is
acted on once per run. The actions then run through services.rules.actions with the system as actor (the
engine's `_fire`: a SAVEPOINT, a `RuleFiring`, the ticket events marked with the rule), and the transaction
commits, once per ticket: this is a batch job, one ticket's failure must not undo the others'. The triggers react
to the automation's changes at that commit, as to any change.

The automations that ship with Mesa (services.rules.defaults) do what the hard-coded timers did: close solved
tickets, solve and remind pending ones.

An automation cannot act on the same ticket forever (validation.ends_itself): one of its actions makes one of
its conditions false, or it fires at most once per ticket (`once_per_ticket`, checked against its firings).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from portal.models import PRIORITIES, Rule, RuleFiring, Ticket, TicketEvent, TicketTag
from portal.services.rules import engine
from portal.services.rules.conditions import Facts, holds
from portal.services.rules.defaults import REMINDER_EVENT
from portal.status import Status

log = logging.getLogger(__name__)

BATCH = 500
NOT_CLOSED = tuple(s.value for s in Status if s is not Status.CLOSED)
FIRING_EVENT = "automation"

_COLUMNS = {"status": Ticket.status, "priority": Ticket.priority, "group": Ticket.group_id,
            "assignee": Ticket.assignee_id, "channel": Ticket.channel, "language": Ticket.language,
            "category": Ticket.category_id}
_MOMENTS = {"hours_since_created": Ticket.created_at, "hours_since_updated": Ticket.updated_at,
            "hours_since_solved": Ticket.solved_at, "hours_since_status_changed": Ticket.status_changed_at}


@dataclass
class AutomationReport:
    fired: dict[str, list[str]] = field(default_factory=dict)  # rule name -> refs of the tickets it acted on
    checked: int = 0  # candidates read
    errors: list[str] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids queued, for the caller to dispatch

    @property
    def total(self) -> int:
        return sum(len(refs) for refs in self.fired.values())


def sql_condition(condition: dict, now: datetime) -> ColumnElement[bool] | None:
    """The condition as SQL over the ticket row, or None when only Python can tell (words, the requester,
    custom fields, business hours). Never narrower than `conditions.holds`."""
    name, op, value = condition["field"], condition["op"], condition.get("value")
    if name == "tags":
        return _tags_condition(op, value)
    if name in _MOMENTS:
        moment = now - timedelta(hours=value)
        column = _MOMENTS[name]
        return column < moment if op == "greater_than" else column > moment
    if name == "reminder_sent":
        sent = _reminded_in_this_status()
        return sent if op == "is_true" else ~sent
    column = _COLUMNS.get(name)
    if column is None:
        return None
    if name == "priority" and op in ("above", "below"):
        index = PRIORITIES.index(value)
        return column.in_(PRIORITIES[index + 1:] if op == "above" else PRIORITIES[:index])
    if op == "is":
        return column == value
    if op == "is_not":  # SQL's "!=" is never true of NULL; Python's "is not" is
        return or_(column != value, column.is_(None))
    if op in ("present", "assigned"):
        return column.is_not(None)
    if op in ("absent", "unassigned"):
        return column.is_(None)
    return None


def _tags_condition(op: str, value: list[str]) -> ColumnElement[bool] | None:
    """"Tags include (none of) ...": one probe of the tags' primary key (ticket_id, tag) per ticket. Without it,
    an automation that tags what it acted on ("escalated", checked with "include none of") read every ticket it
    had already tagged, every hour: 10,000 of them at 1M tickets (bench/automations.py), 10 s a run."""
    if op not in ("has", "has_not") or not value:
        return None
    tagged = exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag.in_(value))
    return tagged if op == "has" else ~tagged


def _reminded_in_this_status():
    return exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == REMINDER_EVENT,
                          TicketEvent.created_at >= Ticket.status_changed_at)


def candidates_query(rule: Rule, now: datetime):
    """The id and version of the tickets this automation may match, by id; the caller adds the keyset
    (`candidates.c.id > last`) and LIMIT."""
    clauses = [Ticket.status.in_(NOT_CLOSED)]  # a list, not "!= closed", so the status indexes serve it
    # A postponed ticket is out of everyone's way until its time (services.postpone); the run wakes the due ones
    # first, so those still postponed are left alone: no reminder or auto-solve behind the agent's back.
    clauses.append(or_(Ticket.postponed_until.is_(None), Ticket.postponed_until <= now))
    clauses += [c for c in (sql_condition(cond, now) for cond in rule.conditions_all or ()) if c is not None]
    if rule.conditions_any:
        anyone = [sql_condition(cond, now) for cond in rule.conditions_any]
        if all(c is not None for c in anyone):  # one condition only Python can tell: any ticket may match
            clauses.append(or_(*anyone))
    if rule.once_per_ticket:
        clauses.append(~_fired_on(rule.id))
    return _by_id(select(Ticket.id, Ticket.version).where(and_(*clauses)))


def _by_id(matching):
    """The candidates found first through their own indexes (the status and time column of the conditions),
    then put in id order for the batches. Asked directly for "... ORDER BY id LIMIT 500", PostgreSQL walks the
    primary key expecting to meet 500 candidates soon, but they are the recent tickets, at the end: at 1M
    tickets every batch read the whole table (bench/automations.py). MATERIALIZED keeps the two steps apart
    (PostgreSQL 12+, SQLite 3.35+)."""
    found = matching.cte("candidates")
    for dialect in ("postgresql", "sqlite"):
        found = found.prefix_with("MATERIALIZED", dialect=dialect)
    return select(found.c.id, found.c.version).order_by(found.c.id)


def _fired_on(rule_id: int):
    return exists().where(RuleFiring.rule_id == rule_id, RuleFiring.ticket_id == Ticket.id)


def run(session: Session, *, now: datetime, settings: engine.Settings | None = None,
        batch: int = BATCH) -> AutomationReport:
    """Every enabled automation over its candidate tickets, at `now`. Commits once per ticket acted on."""
    settings = settings or engine.Settings()
    report = AutomationReport()
    rule_ids = list(session.scalars(select(Rule.id).where(Rule.kind == "automation", Rule.enabled.is_(True))
                                    .order_by(Rule.position, Rule.id)))
    session.rollback()  # each ticket gets a transaction of its own, starting from here
    for rule_id in rule_ids:
        rule = session.get(Rule, rule_id)
        if rule is None or not rule.enabled:  # deleted or disabled meanwhile (by another host, or by an error)
            continue
        _run_one(session, rule, report, settings, now, batch)
    return report


def _run_one(session: Session, rule: Rule, report: AutomationReport, settings: engine.Settings, now: datetime,
             batch: int) -> None:
    loaded, once = engine.load(rule), rule.once_per_ticket
    query = candidates_query(rule, now)
    last = 0
    while True:
        rows = session.execute(query.where(query.selected_columns.id > last).limit(batch)).all()
        session.rollback()  # read nothing held across tickets
        if not rows:
            return
        last = rows[-1].id
        for ticket_id, version in rows:
            report.checked += 1
            outcome = _one(session, loaded, once, ticket_id, version, report, settings, now)
            if outcome == "disabled":
                return
        if len(rows) < batch:
            return


def _one(session: Session, rule: engine.LoadedRule, once: bool, ticket_id: int, version: int,
         report: AutomationReport, settings: engine.Settings, now: datetime) -> str:
    """Check, claim, act and commit one ticket; "fired", "skipped" or "disabled" (the rule failed)."""
    try:
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        if ticket is None or ticket.version != version or (
                ticket.postponed_until is not None and ticket.postponed_until > now):
            session.rollback()
            return "skipped"
        try:
            matches = _matches(session, rule, ticket, now)
        except Exception as exc:  # a condition edited by hand in the database: switched off, as a trigger is
            log.exception("Automation %s (%r) could not be evaluated on ticket %s", rule.id, rule.name, ticket.ref)
            session.rollback()
            engine._disable(session, rule, set(), engine._failure(exc, ticket, "condition_failed"), now)
            session.commit()
            return "disabled"
        if not matches:
            session.rollback()
            return "skipped"
        if not _claim(session, ticket_id, version) or (
                once and session.scalar(select(_fired_on(rule.id)).select_from(Ticket)
                                        .where(Ticket.id == ticket_id))):
            session.rollback()
            return "skipped"
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        change = engine.Change(ticket, set(), "system", ticket.status)
        disabled: set[int] = set()
        session.info[engine.AUTOMATION] = rule.id
        engine._fire(session, rule, change, disabled, settings, now, event=FIRING_EVENT)
        fired = any(isinstance(o, RuleFiring) and o.rule_id == rule.id for o in session.new)
        ref = ticket.ref
        session.commit()
        queued = list(session.info.get("queued_notifications", []))
    except Exception:
        session.rollback()
        log.exception("Automation %s (%r) failed on ticket %s", rule.id, rule.name, ticket_id)
        report.errors.append(str(ticket_id))
        return "skipped"
    finally:
        session.info.pop(engine.AUTOMATION, None)
        session.info.pop("queued_notifications", None)
    if disabled:
        return "disabled"
    if not fired:  # it matched, but found everything as it wants it
        return "skipped"
    report.fired.setdefault(rule.name, []).append(ref)
    report.notifications.extend(n.id for n in queued)
    return "fired"


def _matches(session: Session, rule: engine.LoadedRule, ticket: Ticket, now: datetime) -> bool:
    facts = Facts(session, ticket, events=set(), actor="system", previous_status=ticket.status, now=now)
    return all(holds(c, facts) for c in rule.conditions_all) and (
        not rule.conditions_any or any(holds(c, facts) for c in rule.conditions_any))


def _claim(session: Session, ticket_id: int, version: int) -> bool:
    """One atomic UPDATE decides who acts on the ticket: it matches only while nobody else has touched it."""
    claimed = session.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.version == version)
        .values(version=Ticket.version + 1).execution_options(synchronize_session=False))
    return claimed.rowcount == 1
