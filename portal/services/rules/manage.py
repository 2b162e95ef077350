"""Admins manage the rules: list, create, edit (version-checked), duplicate, switch on and off, reorder, delete,
export and import. Agents and customers may do none of it (NotAllowed). Every write leaves a `RuleChange` with
the rule as it was made, so the team can see who changed which rule, and when. Services never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.errors import N_, Conflict, Invalid, NotAllowed, NotFound
from portal.integers import whole_number
from portal.models import Rule, RuleChange, RuleFiring, User
from portal.services.rules.validation import Errors, Problem, validate

RULE_KEYS = ("name", "kind", "enabled", "once_per_ticket", "events", "conditions_all", "conditions_any",
             "actions")
MAX_IMPORT = 500


def require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise NotAllowed(N_("Only administrators manage the rules."))


def snapshot(rule: Rule) -> dict:
    """The rule as data: what export writes, import reads and the audit trail keeps."""
    return {key: getattr(rule, key) for key in RULE_KEYS}


def _record(session: Session, rule: Rule, what: str, *, actor: User | None, now: datetime) -> None:
    session.add(RuleChange(rule_id=rule.id, rule_name=rule.name, actor_id=actor.id if actor else None, at=now,
                           what=what, snapshot=snapshot(rule) | {"position": rule.position}))


def invalid(errors: Errors) -> Invalid:
    return Invalid(N_("The rule could not be saved: see the marked fields."), errors=errors)


def _ordered(session: Session) -> list[Rule]:
    return list(session.scalars(select(Rule).order_by(Rule.position, Rule.id)))


def _renumber(rules: list[Rule]) -> None:
    for position, rule in enumerate(rules, start=1):
        if rule.position != position:
            rule.position = position
            rule.version += 1  # the engine's cache key sums the versions: a move is a change


# ---- Reading --------------------------------------------------------------------------------------------------


def list_rules(session: Session, *, actor: User) -> list[Rule]:
    """Every rule in the order they run."""
    require_admin(actor)
    return _ordered(session)


def get_rule(session: Session, rule_id: object, *, actor: User) -> Rule:
    require_admin(actor)
    number = whole_number(rule_id, minimum=1)
    rule = session.get(Rule, number) if number is not None else None
    if rule is None:
        raise NotFound(N_("We could not find that rule."))
    return rule


def firing_counts(session: Session, *, actor: User, now: datetime, days: int = 7) -> dict[int, int]:
    """How often each rule fired in the last `days` days (rules that did not fire are absent)."""
    require_admin(actor)
    rows = session.execute(select(RuleFiring.rule_id, func.count()).where(
        RuleFiring.fired_at >= now - timedelta(days=days)).group_by(RuleFiring.rule_id))
    return {rule_id: count for rule_id, count in rows}


def installed_with_mesa(session: Session, *, actor: User) -> set[int]:
    """The rules that ship with Mesa (the default automations), still there, edited or not."""
    require_admin(actor)
    return set(session.scalars(select(RuleChange.rule_id).where(RuleChange.what == "installed",
                                                                RuleChange.rule_id.is_not(None))))


def recent_changes(session: Session, *, actor: User, rule: Rule | None = None, limit: int = 50) -> list[RuleChange]:
    """The audit trail, newest first: of one rule, or of all of them (deleted ones included)."""
    require_admin(actor)
    query = select(RuleChange).order_by(RuleChange.id.desc()).limit(limit)
    if rule is not None:
        query = query.where(RuleChange.rule_id == rule.id)
    return list(session.scalars(query))


# ---- Writing --------------------------------------------------------------------------------------------------


def create_rule(session: Session, data: object, *, actor: User, now: datetime) -> Rule:
    """A new rule runs after the existing ones."""
    require_admin(actor)
    clean, errors = validate(session, data)
    if errors:
        raise invalid(errors)
    return _add(session, clean, "created", actor=actor, now=now)


def _add(session: Session, clean: dict, what: str, *, actor: User, now: datetime,
         position: int | None = None) -> Rule:
    last = session.scalar(select(func.max(Rule.position))) or 0
    rule = Rule(**clean, position=position if position is not None else last + 1, created_at=now, updated_at=now,
                created_by_id=actor.id, updated_by_id=actor.id, version=1)
    session.add(rule)
    session.flush()
    _record(session, rule, what, actor=actor, now=now)
    return rule


def update_rule(session: Session, rule: Rule, data: object, *, expected_version: object, actor: User,
                now: datetime) -> Rule:
    """Save an edit made on the version the admin saw; someone else's newer save is never overwritten."""
    require_admin(actor)
    _check_version(rule, expected_version)
    clean, errors = validate(session, data, rule_id=rule.id)
    if errors:
        raise invalid(errors)
    for key, value in clean.items():
        setattr(rule, key, value)
    if rule.enabled:
        rule.disabled_reason = rule.disabled_code = rule.disabled_params = None
    _touch(rule, actor, now)
    _record(session, rule, "updated", actor=actor, now=now)
    return rule


def _check_version(rule: Rule, expected_version: object) -> None:
    if whole_number(expected_version) != rule.version:
        raise Conflict(N_("Someone else changed this rule while you were editing it. Reload it and make your "
                          "change again."))


def _touch(rule: Rule, actor: User | None, now: datetime) -> None:
    rule.version += 1
    rule.updated_at = now
    rule.updated_by_id = actor.id if actor else None


def delete_rule(session: Session, rule: Rule, *, actor: User, now: datetime) -> None:
    """The rule stops at once; its firings go with it, its audit trail stays."""
    require_admin(actor)
    _record(session, rule, "deleted", actor=actor, now=now)
    session.delete(rule)
    session.flush()
    _renumber(_ordered(session))


def duplicate_rule(session: Session, rule: Rule, *, actor: User, now: datetime) -> Rule:
    """A copy right after the original, switched off so the two never both fire before it is edited."""
    require_admin(actor)
    copy = snapshot(rule) | {"enabled": False, "name": _free_name(session, rule.name)}
    ordered = _ordered(session)
    new = _add(session, copy, "duplicated", actor=actor, now=now, position=rule.position)
    ordered.insert(ordered.index(rule) + 1, new)
    _renumber(ordered)
    return new


def _free_name(session: Session, name: str) -> str:
    taken = set(session.scalars(select(Rule.name)))
    for number in range(1, 1000):
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        candidate = name[: 120 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise Invalid(N_("Rename some copies of this rule first."))


def set_enabled(session: Session, rule: Rule, enabled: bool, *, actor: User, now: datetime) -> None:
    """Switching a rule back on clears what the engine said when it switched it off."""
    require_admin(actor)
    if rule.enabled == bool(enabled):
        return
    rule.enabled = bool(enabled)
    if rule.enabled:
        rule.disabled_reason = rule.disabled_code = rule.disabled_params = None
    _touch(rule, actor, now)
    _record(session, rule, "enabled" if rule.enabled else "disabled", actor=actor, now=now)


def move_rule(session: Session, rule: Rule, *, actor: User, now: datetime, direction: str | None = None,
              to: object = None) -> None:
    """One place up or down, or to a position (1 is first), among the rules of its kind (triggers and
    automations run apart); the others keep their relative order."""
    require_admin(actor)
    ordered = [r for r in _ordered(session) if r.kind == rule.kind]
    index = ordered.index(rule)
    if direction == "up":
        target = index - 1
    elif direction == "down":
        target = index + 1
    else:
        position = whole_number(to, minimum=1)
        if position is None:
            raise Invalid(N_("Choose a position from 1 to %(max)s."), field="position", max=len(ordered))
        target = position - 1
    target = max(0, min(target, len(ordered) - 1))
    if target == index:
        return
    ordered.insert(target, ordered.pop(index))
    _renumber(ordered)
    rule.updated_at, rule.updated_by_id = now, actor.id
    _record(session, rule, "reordered", actor=actor, now=now)


# ---- Export and import ----------------------------------------------------------------------------------------


def export_rules(session: Session, *, actor: User) -> list[dict]:
    """Every rule as JSON-able data, in order: what a team keeps under version control. Groups, agents,
    categories and webhooks are named by id, as on this installation."""
    require_admin(actor)
    return [snapshot(rule) for rule in _ordered(session)]


def import_rules(session: Session, data: object, *, mode: str = "add", actor: User, now: datetime) -> list[Rule]:
    """Rules from an export. "add" puts them after the existing rules; "replace" deletes the existing ones
    first. Every rule is checked first: one mistake anywhere and nothing changes (errors keyed "rules.3.name")."""
    require_admin(actor)
    if mode not in ("add", "replace"):
        raise Invalid(N_("Choose to add the rules or to replace the existing ones."), field="mode")
    if not isinstance(data, list) or not data:
        raise invalid({"rules": Problem(N_("The file holds no list of rules."))})
    if len(data) > MAX_IMPORT:
        raise invalid({"rules": Problem(N_("Import at most %(max)s rules at once."), {"max": MAX_IMPORT})})
    existing = _ordered(session)
    cleaned, errors, names = [], {}, {}
    for index, item in enumerate(data):
        # With "replace", a name shared with a rule about to be deleted is no clash.
        clean, problems = validate(session, item, existing_names=mode == "add")
        if clean.get("name") in names:
            problems["name"] = Problem(N_("Rule %(number)s of the file has the same name."),
                                       {"number": names[clean["name"]] + 1})
        names.setdefault(clean.get("name"), index)
        errors.update({f"rules.{index}.{key}": problem for key, problem in problems.items()})
        cleaned.append(clean)
    if errors:
        raise invalid(errors)
    if mode == "replace":
        for rule in existing:
            _record(session, rule, "deleted", actor=actor, now=now)
            session.delete(rule)
        session.flush()
    return [_add(session, clean, "imported", actor=actor, now=now) for clean in cleaned]
