"""The one engine that runs the business rules after every ticket change, whatever made it: the portal, the agent
desk, e-mail, phone, the API, the automations. Nothing calls it: `watch` hooks the session factory so that, just
before a transaction commits, the tickets that gained `TicketEvent`s in it go through the rules, inside the same
transaction. The person's change and the rules' changes commit together; webhooks and the report rollup (hooked
after this one) see both.

For each changed ticket: the events it went through (`EVENTS`), who caused them (customer, agent or system) and
its status before. Enabled rules run in order; a rule's changes are visible to the rules after it. The pass
repeats while something changed (a later rule's change may make an earlier rule match), each rule fires at most
once per ticket per change, and at most `MAX_PASSES` passes run. Events the rules make are marked with the rule
(`TicketEvent.rule_id`) and are never taken for a new change.

When the passes end, a fired rule that would change the ticket again because a later rule, reading the same
field, set it back (two rules flipping the priority) is a loop: the rule is disabled with the reason, as is a rule
still waiting to fire when the passes run out. A rule whose action fails is rolled back alone (a SAVEPOINT per
rule) and disabled with the reason; the person's change still commits. Rules are read once per process and read
again only when a cheap query says they changed (count, versions and highest id), so every worker sees an edit
at its next transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.errors import N_
from portal.models import Rule, RuleChange, RuleFiring, Ticket, TicketEvent, User
from portal.services import commit_hooks
from portal.services.rules import actions as acts
from portal.services.rules.catalog import CUSTOM_FIELD, EVENTS, condition_field
from portal.services.rules.conditions import Facts, holds

log = logging.getLogger(__name__)

MAX_PASSES = 5
RUNNING = "rules.running"  # session.info: the engine is at work; what it adds is not a new change
ACTING = "rules.acting"  # session.info: the id of the rule whose actions are running
# session.info: the id of the automation acting in this transaction; its events are a change the triggers see
AUTOMATION = "rules.automation"

# Why the engine switches a rule off, by code. The English words go to `Rule.disabled_reason`, the log and the audit
# trail; the code and its values to `disabled_code`/`disabled_params`, so the admin pages say it in the reader's
# language (views.rule_summary.reason_text).
REASONS: dict[str, str] = {
    "condition_failed": N_("A condition could not be evaluated on ticket %(ticket)s: %(error)s"),
    "action_failed": N_("An action failed on ticket %(ticket)s: %(error)s"),
    "macro_deleted": N_("On ticket %(ticket)s the macro it applies (number %(macro)s) no longer exists: choose "
                        "another one."),
    "macro_personal": N_("On ticket %(ticket)s the macro it applies, \u201c%(title)s\u201d, is personal now: a rule "
                         "can only apply a shared macro."),
    "loop_set_back": N_("Loop: on ticket %(ticket)s it set %(field)s, then rule \u201c%(other)s\u201d, which looks "
                        "at %(field)s, set it back, and this rule would set it again."),
    "loop_unsettled": N_("Loop: on ticket %(ticket)s the rules kept changing the ticket for %(passes)s passes and "
                         "this rule still wanted to fire."),
}


@dataclass(frozen=True)
class Reason:
    """Why a rule was switched off: a code of REASONS and its values."""

    code: str
    params: dict

    def text(self, gettext: Callable[[str], str] = str) -> str:
        values = dict(self.params)
        if "field" in values:  # a ticket field by its name on the form ("Priority"), else as stored
            entry = condition_field(str(values["field"]))
            if entry is not None and entry is not CUSTOM_FIELD:
                values["field"] = gettext(entry.label)
        return gettext(REASONS[self.code]) % values


def _failure(exc: Exception, ticket: Ticket, code: str) -> Reason:
    """An action or a condition raised: a macro that cannot be used any more, said plainly; anything else, with
    the error as it is (for whoever corrects the rule)."""
    if isinstance(exc, acts.MacroUnusable):
        if exc.personal:
            return Reason("macro_personal", {"ticket": ticket.ref, "title": exc.title})
        return Reason("macro_deleted", {"ticket": ticket.ref, "macro": str(exc.macro_id)[:40]})
    return Reason(code, {"ticket": ticket.ref, "error": f"{type(exc).__name__}: {exc}"[:900]})


SPECIFIC_FIRST = (*(name for name in EVENTS if name != "ticket_updated"), "ticket_updated")
STATUS_KINDS = frozenset({"status_changed", "reopened", "confirmed", "auto_closed", "auto_solved", "merged"})


@dataclass(frozen=True)
class LoadedRule:
    id: int
    name: str
    events: frozenset[str]
    conditions_all: tuple[dict, ...]
    conditions_any: tuple[dict, ...]
    actions: tuple[dict, ...]

    @property
    def reads(self) -> frozenset[str]:
        """The ticket fields its conditions look at (status and previous status are one)."""
        names = {c["field"] for c in (*self.conditions_all, *self.conditions_any)}
        return frozenset("status" if n == "previous_status" else n for n in names)


@dataclass
class Settings:
    """What the engine needs from the application: how a ticket's link reads in a rule's text."""

    ticket_url: Callable[[str], str] = lambda ref: f"/tickets/{ref}"


class RuleCache:
    """The enabled rules of one database, kept per process, checked with one aggregate query per use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._rules: tuple[LoadedRule, ...] = ()

    def current(self, session: Session) -> tuple[LoadedRule, ...]:
        # The times too: SQLite may give a deleted rule's id to the next one, so count, versions and highest id
        # alone can come out the same after an import that replaced rules.
        key = tuple(session.execute(select(func.count(Rule.id), func.coalesce(func.sum(Rule.version), 0),
                                           func.max(Rule.id), func.max(Rule.created_at),
                                           func.max(Rule.updated_at))).one())
        with self._lock:
            if key == self._key:
                return self._rules
        rules = tuple(load(rule) for rule in session.scalars(
            select(Rule).where(Rule.enabled.is_(True), Rule.kind == "trigger").order_by(Rule.position, Rule.id)))
        with self._lock:
            self._key, self._rules = key, rules
        return rules


def load(rule: Rule) -> LoadedRule:
    return LoadedRule(rule.id, rule.name, frozenset(rule.events or ()), tuple(rule.conditions_all or ()),
                      tuple(rule.conditions_any or ()), tuple(rule.actions or ()))


# ---- Hooking the sessions ---------------------------------------------------------------------------------


def watch(session_factory, settings: Settings | None = None) -> None:
    """Run the rules in every transaction of sessions made by this factory. Hook it before webhooks and the
    report rollup, so that they see what the rules changed."""
    cache, settings = RuleCache(), settings or Settings()

    def run_at_commit(session: Session, changes: list[TicketEvent]) -> None:
        run(session, changes, cache=cache, settings=settings, now=utcnow())

    run_at_commit.__qualname__ = "rules_engine.run_at_commit"
    commit_hooks.before_commit(session_factory, _person_made_events, run_at_commit)
    if not event.contains(session_factory, "transient_to_pending", _mark_rule_events):
        event.listen(session_factory, "transient_to_pending", _mark_rule_events)


def _person_made_events(session: Session) -> list[TicketEvent]:
    if session.info.get(RUNNING):
        return []
    automation = session.info.get(AUTOMATION)
    return [obj for obj in session.new if isinstance(obj, TicketEvent)
            and (obj.rule_id is None or obj.rule_id == automation)]


def _mark_rule_events(session: Session, obj: object) -> None:
    """Every event added while a rule acts (through any service) is that rule's."""
    rule_id = session.info.get(ACTING)
    if rule_id is not None and isinstance(obj, TicketEvent) and obj.rule_id is None:
        obj.rule_id = rule_id
        obj.actor_id = None


# ---- One change of one ticket -----------------------------------------------------------------------------


@dataclass
class Change:
    """What happened to one ticket in the transaction, as the rules see it."""

    ticket: Ticket
    events: set[str]
    actor: str
    previous_status: str | None
    fired: dict[int, int] = field(default_factory=dict)  # rule id -> the pass it fired in
    set_by: dict[str, int] = field(default_factory=dict)  # ticket field -> the last rule that changed it


def changes_by_ticket(session: Session, events: Iterable[TicketEvent]) -> list[Change]:
    found: dict[int, Change] = {}
    for ticket_event in events:
        if not inspect(ticket_event).persistent:  # rolled back with a savepoint
            continue
        ticket = ticket_event.ticket or session.get(Ticket, ticket_event.ticket_id)
        if ticket is None or inspect(ticket).deleted:
            continue
        change = found.get(ticket.id)
        if change is None:
            change = found[ticket.id] = Change(ticket, set(), _actor_kind(session, ticket_event, ticket), None)
        change.events |= event_names(session, ticket_event, ticket)
        if ticket_event.field == "status" and change.previous_status is None:
            change.previous_status = ticket_event.old_value
    for change in found.values():
        if "ticket_created" in change.events:
            change.events.discard("ticket_updated")
        elif change.previous_status is None:  # the status did not change: before is as now
            change.previous_status = change.ticket.status
    return list(found.values())


def event_names(session: Session, ticket_event: TicketEvent, ticket: Ticket) -> set[str]:
    """The rule events one ticket event stands for; every change is also "ticket_updated"."""
    kind = ticket_event.kind
    names = {"ticket_updated"}
    if kind == "created":
        names.add("ticket_created")
    elif kind == "replied":
        author = _actor_kind(session, ticket_event, ticket)
        names.add("customer_replied" if author == "customer" else "agent_replied" if author == "agent" else "")
    elif kind == "assigned" and ticket_event.new_value:
        names.add("assigned")
    elif kind == "sla_breached":
        names.add("sla_breached")
    elif kind == "satisfaction_rated":
        names.add("satisfaction_received")
    if ticket_event.field == "status" and (kind in STATUS_KINDS or ticket_event.old_value != ticket_event.new_value):
        names.add("status_changed")
    names.discard("")
    return names


def _actor_kind(session: Session, ticket_event: TicketEvent, ticket: Ticket) -> str:
    if ticket_event.actor_id is None:
        return "system"
    actor = ticket_event.actor or session.get(User, ticket_event.actor_id)
    return "agent" if actor is not None and actor.is_agent and actor.id != ticket.requester_id else "customer"


# ---- Running the rules ------------------------------------------------------------------------------------


def run(session: Session, events: list[TicketEvent], *, cache: RuleCache, settings: Settings,
        now: datetime) -> None:
    rules = cache.current(session)
    if not rules:
        return
    session.info[RUNNING] = True
    try:
        disabled: set[int] = set()
        for change in changes_by_ticket(session, events):
            _run_for(session, change, rules, disabled, settings, now)
    finally:
        session.info.pop(RUNNING, None)
        session.info.pop(ACTING, None)


def _run_for(session: Session, change: Change, rules: tuple[LoadedRule, ...], disabled: set[int],
             settings: Settings, now: datetime) -> None:
    facts = Facts(session, change.ticket, events=change.events, actor=change.actor,
                  previous_status=change.previous_status, now=now)
    for number in range(1, MAX_PASSES + 1):
        changed = False
        for rule in rules:
            if rule.id in change.fired or rule.id in disabled or not _safe_matches(session, rule, facts, disabled,
                                                                                   now):
                continue
            change.fired[rule.id] = number
            changed |= _fire(session, rule, change, disabled, settings, now)
        if not changed:
            break
    else:
        _refuse_unsettled(session, rules, change, facts, disabled, now)
    _refuse_loops(session, rules, change, facts, disabled, now)


def _matches(rule: LoadedRule, facts: Facts) -> bool:
    return bool(rule.events & facts.events) and all(holds(c, facts) for c in rule.conditions_all) and (
        not rule.conditions_any or any(holds(c, facts) for c in rule.conditions_any))


def _safe_matches(session: Session, rule: LoadedRule, facts: Facts, disabled: set[int], now: datetime) -> bool:
    """A condition that cannot be evaluated (a rule edited by hand in the database) disables its rule."""
    try:
        return _matches(rule, facts)
    except Exception as exc:
        log.exception("Rule %s (%r) could not be evaluated on ticket %s", rule.id, rule.name, facts.ticket.ref)
        _disable(session, rule, disabled, _failure(exc, facts.ticket, "condition_failed"), now)
        return False


def _fire(session: Session, rule: LoadedRule, change: Change, disabled: set[int], settings: Settings,
          now: datetime, *, event: str | None = None) -> bool:
    """Run the rule's actions in a savepoint; True when the ticket changed. A failure undoes this rule's
    actions alone and disables it."""
    ticket = change.ticket
    acting = acts.Acting(session, ticket, rule.id, rule.name, now, settings.ticket_url(ticket.ref),
                         automation=session.info.get(AUTOMATION) == rule.id)
    done, skipped, changed_fields = [], [], set()
    savepoint = session.begin_nested()
    session.info[ACTING] = rule.id
    try:
        for action in (step for written in rule.actions for step in acts.steps(session, written)):
            try:
                said = acts.apply(acting, action)
            except acts.Skipped as why:
                skipped.append(f"{action['type']} skipped: {why}")
                log.info("Rule %s (%r) on %s: %s skipped: %s", rule.id, rule.name, ticket.ref, action["type"], why)
                continue
            if said:
                done.append(said)
                if acts.field_of(action):
                    changed_fields.add(acts.field_of(action))
        session.flush()
        session.info.pop(ACTING, None)
        savepoint.commit()
    except Exception as exc:
        session.info.pop(ACTING, None)
        if savepoint.is_active:
            savepoint.rollback()
        log.exception("Rule %s (%r) failed on ticket %s and was disabled", rule.id, rule.name, ticket.ref)
        _disable(session, rule, disabled, _failure(exc, ticket, "action_failed"), now)
        return False
    for name in changed_fields:
        change.set_by[name] = rule.id
    if changed_fields:
        change.events |= _names_of(changed_fields, created="ticket_created" in change.events)
    if done or skipped:  # a rule that matched but found everything as it wants it did not fire
        session.add(RuleFiring(rule_id=rule.id, ticket_id=ticket.id, fired_at=now, event=event or _first(rule, change),
                               summary="; ".join(done + skipped)[:2000]))
    return bool(changed_fields)


def _names_of(fields: set[str], *, created: bool) -> set[str]:
    """The rule events the rules' own changes stand for, for the rules after them (a ticket being created is
    not also "updated" by them)."""
    names = set() if created else {"ticket_updated"}
    if "status" in fields:
        names.add("status_changed")
    if "assignee" in fields:
        names.add("assigned")
    return names


def _first(rule: LoadedRule, change: Change) -> str:
    """The most specific of the events that ran the rule ("customer_replied" rather than "ticket_updated")."""
    return next((name for name in SPECIFIC_FIRST if name in rule.events and name in change.events),
                "ticket_updated")


# ---- Loops ------------------------------------------------------------------------------------------------


def _refuse_loops(session: Session, rules: tuple[LoadedRule, ...], change: Change, facts: Facts,
                  disabled: set[int], now: datetime) -> None:
    """A fired rule that would change a field again, which a later rule reading that field set back."""
    by_id = {rule.id: rule for rule in rules}
    for rule_id in list(change.fired):
        rule = by_id[rule_id]
        if rule_id in disabled or not _safe_matches(session, rule, facts, disabled, now):
            continue
        for action in (step for written in rule.actions for step in acts.steps(session, written, strict=False)):
            name = acts.field_of(action)
            other = by_id.get(change.set_by.get(name)) if name else None
            if other is None or other.id == rule.id or not acts.wants(action, change.ticket):
                continue
            if name in other.reads:
                _disable(session, rule, disabled, Reason("loop_set_back", {
                    "ticket": change.ticket.ref, "field": name, "other": other.name}), now)
                break


def _refuse_unsettled(session: Session, rules: tuple[LoadedRule, ...], change: Change, facts: Facts,
                      disabled: set[int], now: datetime) -> None:
    """The passes ran out with rules still wanting to fire: each change made another rule match."""
    for rule in rules:
        if rule.id not in change.fired and rule.id not in disabled and _safe_matches(session, rule, facts,
                                                                                      disabled, now):
            _disable(session, rule, disabled, Reason("loop_unsettled", {"ticket": change.ticket.ref,
                                                                        "passes": MAX_PASSES}), now)


def _disable(session: Session, loaded: LoadedRule, disabled: set[int], why: Reason | str, now: datetime) -> None:
    """Switch the rule off, say why on the rule (in English, and as a code for the admin's language) and in its
    audit trail, and log it. A plain string is a reason with no code: shown as written."""
    disabled.add(loaded.id)
    rule = session.get(Rule, loaded.id)
    if rule is None or not rule.enabled:
        return
    reason = (why.text() if isinstance(why, Reason) else why)[:1000]
    rule.enabled, rule.disabled_reason = False, reason
    rule.disabled_code = why.code if isinstance(why, Reason) else None
    rule.disabled_params = dict(why.params) if isinstance(why, Reason) else None
    rule.version += 1
    rule.updated_at = now
    session.add(RuleChange(rule_id=rule.id, rule_name=rule.name, actor_id=None, at=now, what="disabled",
                           snapshot={"reason": reason, "code": rule.disabled_code,
                                     "params": rule.disabled_params}))
    log.warning("Rule %s (%r) disabled: %s", rule.id, rule.name, reason)


# ---- "Test this rule" -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    condition: dict
    matched: bool


@dataclass(frozen=True)
class Explanation:
    """What a rule would do to a ticket now: each condition matched or not, and the changes it would make."""

    conditions_all: list[Checked]
    conditions_any: list[Checked]
    matches: bool
    changes: list[acts.Said]


def explain(session: Session, rule_or_data: Rule | dict, ticket: Ticket, *, actor: User,
            now: datetime) -> Explanation:
    """A dry run for the admin's "Test this rule": nothing is written. The rule's events are taken as having
    happened; who acted and the status before are read from the ticket's latest events. Form data is
    checked first (Invalid with the form's messages)."""
    from portal.services.rules import manage
    from portal.services.rules.validation import validate

    manage.require_admin(actor)
    if isinstance(rule_or_data, Rule):
        data = manage.snapshot(rule_or_data)
    else:
        data, errors = validate(session, rule_or_data, existing_names=False)
        if errors:
            raise manage.invalid(errors)
    latest = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                             .order_by(TicketEvent.id.desc()).limit(20)).all()
    status_event = next((e for e in latest if e.field == "status"), None)
    facts = Facts(session, ticket, events=set(data["events"]),
                  actor=_actor_kind(session, latest[0], ticket) if latest else "system",
                  previous_status=status_event.old_value if status_event else ticket.status, now=now)
    all_checked = [Checked(c, holds(c, facts)) for c in data["conditions_all"]]
    any_checked = [Checked(c, holds(c, facts)) for c in data["conditions_any"]]
    matches = all(c.matched for c in all_checked) and (not any_checked or any(c.matched for c in any_checked))
    return Explanation(all_checked, any_checked, matches, [acts.preview(session, step, ticket) for a in data["actions"]
                                                           for step in acts.steps(session, a, strict=False)])
