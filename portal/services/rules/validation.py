"""Checking a rule before it is stored: every field, operator, action and value against the catalog, every id
against the database, and the combinations that can never match or contradict themselves. Whatever arrives
(a form, an imported file, the API), the answer is a clean rule or messages keyed by the form's fields
("conditions_all.2.value"), never an exception."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import N_
from portal.integers import whole_number
from portal.models import PRIORITIES, Category, CustomField, Group, Macro, Rule, User, WebhookEndpoint
from portal.models.rules import RULE_KINDS
from portal.services.rules import catalog
from portal.services.rules.catalog import (
    ACTION_TYPES,
    AUTO_ASSIGN,
    MAX_ACTIONS,
    MAX_CONDITIONS,
    MAX_HOURS,
    MAX_NAME,
    MAX_POSTPONE_HOURS,
    MAX_WORDS,
    SINGLE_ACTIONS,
)
from portal.services.rules.words import word_list
from portal.status import Status, system_action

TAG_MAX = 40
TAG_RE = re.compile(r"^[\w][\w\-.]*$", re.UNICODE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
PLACEHOLDERS = ("ticket.ref", "ticket.subject", "ticket.url", "ticket.status", "ticket.priority", "requester.name",
                "requester.email", "assignee.name", "group.name", "rule.name")
MAX_TAGS = 20


@dataclass(frozen=True)
class Problem:
    """A message id (translated by the web layer) and the values for its placeholders."""

    message: str
    params: dict = field(default_factory=dict)

    def text(self, gettext: Callable[[str], str] = str) -> str:
        return gettext(self.message) % self.params


Errors = dict[str, Problem]


class _Known:
    """The ids and keys a rule may name, each read from the database only when first needed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[str, frozenset] = {}

    def _get(self, name: str, query) -> frozenset:
        if name not in self._cache:
            self._cache[name] = frozenset(self.session.scalars(query))
        return self._cache[name]

    def has(self, kind: str, value: object) -> bool:
        queries = {
            "group": select(Group.id),
            "agent": select(User.id).where(User.role.in_(("agent", "admin")), User.active.is_(True)),
            "category": select(Category.id),
            "webhook": select(WebhookEndpoint.id),
            "field_key": select(CustomField.key).where(CustomField.active.is_(True)),
            "macro": select(Macro.id).where(Macro.owner_id.is_(None)),  # shared macros only
        }
        return value in self._get(kind, queries[kind])


def validate(session: Session, data: object, *, rule_id: int | None = None,
             existing_names: bool = True) -> tuple[dict, Errors]:
    """The rule as it will be stored, and the problems found (empty when it can be saved). `rule_id` is the rule
    being edited, whose own name is not a clash; `existing_names=False` ignores clashes with stored rules."""
    errors: Errors = {}
    if not isinstance(data, dict):
        return {}, {"rule": Problem(N_("A rule is an object with a name, events, conditions and actions."))}
    known = _Known(session)
    kind = data.get("kind") or "trigger"  # rules exported before automations existed are triggers
    if kind not in RULE_KINDS:
        errors["kind"] = Problem(N_("Choose a trigger or an automation."))
        kind = "trigger"
    automation = kind == "automation"
    clean = {
        "name": _name(session if existing_names else None, data.get("name"), rule_id, errors),
        "kind": kind,
        "enabled": _flag(data.get("enabled", True), "enabled", errors),
        # An automation runs on a schedule, not on events: whatever events were posted with it are dropped.
        "events": [] if automation else _events(data.get("events"), errors),
        "once_per_ticket": automation and _flag(data.get("once_per_ticket", False), "once_per_ticket", errors),
        "conditions_all": _conditions(known, data.get("conditions_all"), "conditions_all", errors),
        "conditions_any": _conditions(known, data.get("conditions_any"), "conditions_any", errors),
        "actions": _actions(known, data.get("actions"), errors),
    }
    if "conditions_all" not in errors:
        _impossible_all(clean["conditions_all"], errors)
    if "actions" not in errors:
        _contradicting_actions(clean["actions"], errors)
        _system_actions(clean, errors)
    if automation:
        _about_a_change(clean, errors)
        if not clean["once_per_ticket"] and not errors and not ends_itself(clean):
            errors["once_per_ticket"] = Problem(N_(
                "This automation would act on the same tickets every hour, forever. Add an action that makes one "
                "of its conditions false (for example, condition \u201cTags include none of reminded\u201d with "
                "action \u201cAdd tags: reminded\u201d, or \u201cStatus is Solved\u201d with \u201cSet the "
                "status\u201d to another status), or tick \u201cAt most once per ticket\u201d."))
    return clean, errors


# ---- The rule's own fields ----------------------------------------------------------------------------------


def _name(session: Session | None, value: object, rule_id: int | None, errors: Errors) -> str:
    if not isinstance(value, str) or not value.strip():
        errors["name"] = Problem(N_("Give the rule a name."))
        return ""
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        errors["name"] = Problem(N_("Use at most %(max)s characters."), {"max": MAX_NAME})
        return ""
    clash = session.scalar(select(Rule.id).where(Rule.name == name)) if session is not None else None
    if clash is not None and clash != rule_id:
        errors["name"] = Problem(N_("Another rule already has this name."))
    return name


def _flag(value: object, key: str, errors: Errors) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "on", "1", "y"):
        return True
    if value in ("false", "off", "0", "", None):
        return False
    errors[key] = Problem(N_("Choose yes or no."))
    return False


def _events(value: object, errors: Errors) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        errors["events"] = Problem(N_("Choose at least one event that runs the rule."))
        return []
    if len(value) > len(catalog.EVENTS) * 2 or not all(isinstance(v, str) for v in value):
        errors["events"] = Problem(N_("Choose among the events offered."))
        return []
    chosen = set(value)
    unknown = sorted(chosen - catalog.EVENTS.keys())
    if unknown:
        errors["events"] = Problem(N_("There is no event called %(name)s."), {"name": unknown[0][:40]})
        return []
    return [e for e in catalog.EVENTS if e in chosen]


# ---- Conditions ---------------------------------------------------------------------------------------------


def _conditions(known: _Known, value: object, key: str, errors: Errors) -> list[dict]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        errors[key] = Problem(N_("Conditions are a list."))
        return []
    if len(value) > MAX_CONDITIONS:
        errors[key] = Problem(N_("A rule has at most %(max)s conditions in each list."), {"max": MAX_CONDITIONS})
        return []
    clean = []
    for index, item in enumerate(value):
        condition = _condition(known, item, f"{key}.{index}", errors)
        if condition is not None:
            clean.append(condition)
    return clean


def _condition(known: _Known, item: object, key: str, errors: Errors) -> dict | None:
    if not isinstance(item, dict):
        errors[key] = Problem(N_("A condition names a field, an operator and a value."))
        return None
    name = item.get("field")
    entry = catalog.condition_field(name) if isinstance(name, str) and len(name) <= 60 else None
    if entry is None:
        errors[f"{key}.field"] = Problem(N_("Choose a field from the list."))
        return None
    if entry is catalog.CUSTOM_FIELD and not known.has("field_key", name.removeprefix(catalog.CUSTOM_FIELD_PREFIX)):
        errors[f"{key}.field"] = Problem(N_("There is no custom field with the key %(key)s."),
                                         {"key": name.removeprefix(catalog.CUSTOM_FIELD_PREFIX)[:40]})
        return None
    operator = entry.operator(item.get("op")) if isinstance(item.get("op"), str) else None
    if operator is None:
        errors[f"{key}.op"] = Problem(N_("Choose an operator this field offers."))
        return None
    condition = {"field": name, "op": operator.key}
    if operator.kind != "none":
        value = _value(known, operator.kind, entry.choices, item.get("value"), f"{key}.value", errors)
        if value is None:
            return None
        condition["value"] = value
    return condition


def _value(known: _Known, kind: str, choices: tuple, raw: object, key: str, errors: Errors,
           *, max_length: int = 500, required: bool = True) -> object:
    """One value of the given kind, cleaned; None (and a message under `key`) when it is not one."""
    if isinstance(raw, str) and len(raw) > max_length:
        errors[key] = Problem(N_("Use at most %(max)s characters."), {"max": max_length})
        return None
    if kind in ("group", "agent", "category", "webhook"):
        return _row_id(known, kind, raw, key, errors)
    if kind == "macro":
        return _macro_id(known, raw, key, errors)
    if kind == "assignee":
        return AUTO_ASSIGN if raw == AUTO_ASSIGN else _row_id(known, "agent", raw, key, errors)
    if kind == "hours":
        hours = whole_number(raw, maximum=MAX_HOURS)
        if hours is None:
            errors[key] = Problem(N_("Enter a whole number of hours from 0 to %(max)s."), {"max": MAX_HOURS})
        return hours
    if kind == "tags":
        return _tags(raw, key, errors)
    if not isinstance(raw, str) or (required and not raw.strip()):
        errors[key] = Problem(N_("Enter a value.") if raw in (None, "") else N_("Enter text here."))
        return None
    text = raw.strip()
    if kind == "choice":
        if text not in {value for value, _label in choices}:
            errors[key] = Problem(N_("Choose one of the values offered."))
            return None
        return text
    if kind == "email":
        text = text.lower()
        if " " in text or "@" not in text:
            errors[key] = Problem(N_("Enter an e-mail address, or its end such as @example.com."))
            return None
        return text
    if kind == "domain":
        text = text.lower().lstrip("@")
        if not DOMAIN_RE.match(text):
            errors[key] = Problem(N_("Enter a domain such as example.com."))
            return None
        return text
    if kind == "words":
        words = word_list(text)
        if not words:
            errors[key] = Problem(N_("Enter at least one word."))
            return None
        if len(words) > MAX_WORDS:
            errors[key] = Problem(N_("Enter at most %(max)s words."), {"max": MAX_WORDS})
            return None
        return text
    if kind == "field_key":
        if not known.has("field_key", text):
            errors[key] = Problem(N_("There is no custom field with the key %(key)s."), {"key": text[:40]})
            return None
        return text
    if kind == "template":
        unknown = [p for p in PLACEHOLDER_RE.findall(text) if p not in PLACEHOLDERS]
        if unknown:
            errors[key] = Problem(N_("Unknown placeholder {{ %(name)s }}: use %(known)s."),
                                  {"name": unknown[0][:40], "known": ", ".join(PLACEHOLDERS)})
            return None
        return text
    return text  # "text"


def _row_id(known: _Known, kind: str, raw: object, key: str, errors: Errors) -> int | None:
    number = whole_number(raw, minimum=1)
    if number is None or not known.has(kind, number):
        errors[key] = Problem({
            "group": N_("Choose one of the groups offered."),
            "agent": N_("Choose one of the active agents offered."),
            "category": N_("Choose one of the categories offered."),
            "webhook": N_("Choose one of the webhooks registered under Admin → Webhooks."),
        }[kind])
        return None
    return number


def _macro_id(known: _Known, raw: object, key: str, errors: Errors) -> int | None:
    """A shared macro; a personal one is refused by name, so the admin knows why it is not offered."""
    number = whole_number(raw, minimum=1)
    if number is not None and known.has("macro", number):
        return number
    personal = known.session.get(Macro, number) if number is not None else None
    errors[key] = Problem(
        N_("The macro \u201c%(title)s\u201d is personal to one agent: a rule can only apply a shared macro.")
        if personal is not None else
        N_("Choose one of the shared macros offered: this one does not exist (it may have been deleted)."),
        {"title": personal.title} if personal is not None else {})
    return None


def _tags(raw: object, key: str, errors: Errors) -> list[str] | None:
    if isinstance(raw, str):
        raw = [t for t in re.split(r"[\s,;]+", raw) if t]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_TAGS:
        errors[key] = Problem(N_("Enter between 1 and %(max)s tags."), {"max": MAX_TAGS})
        return None
    tags = []
    for tag in raw:
        tag = tag.strip().lower() if isinstance(tag, str) else ""
        if not tag or len(tag) > TAG_MAX or not TAG_RE.match(tag):
            errors[key] = Problem(N_("A tag is one word of letters, digits, dashes or dots, at most %(max)s "
                                     "characters."), {"max": TAG_MAX})
            return None
        tags.append(tag)
    return list(dict.fromkeys(tags))


# ---- Actions ------------------------------------------------------------------------------------------------


def _actions(known: _Known, value: object, errors: Errors) -> list[dict]:
    if not isinstance(value, list) or not value:
        errors["actions"] = Problem(N_("Add at least one action: a rule that does nothing is not a rule."))
        return []
    if len(value) > MAX_ACTIONS:
        errors["actions"] = Problem(N_("A rule has at most %(max)s actions."), {"max": MAX_ACTIONS})
        return []
    clean = []
    for index, item in enumerate(value):
        key = f"actions.{index}"
        if not isinstance(item, dict):
            errors[key] = Problem(N_("An action names what to do and its value."))
            continue
        kind = ACTION_TYPES.get(item["type"]) if isinstance(item.get("type"), str) else None
        if kind is None:
            errors[f"{key}.type"] = Problem(N_("Choose an action from the list."))
            continue
        action: dict = {"type": kind.key}
        ok = True
        for param in kind.params:
            raw = item.get(param.name)
            if not param.required and raw in (None, ""):
                continue
            cleaned = _value(known, param.kind, param.choices, raw, f"{key}.{param.name}", errors,
                             max_length=param.max_length, required=param.required)
            ok = ok and cleaned is not None
            action[param.name] = cleaned
        if kind.key == "send_email" and ok:
            ok = _email_address(action, key, errors)
        if kind.key == "postpone" and ok and not 1 <= action["value"] <= MAX_POSTPONE_HOURS:
            errors[f"{key}.value"] = Problem(N_("Postpone for 1 to %(max)s hours (a year)."),
                                             {"max": MAX_POSTPONE_HOURS})
            ok = False
        if ok:
            clean.append(action)
    return clean


def _email_address(action: dict, key: str, errors: Errors) -> bool:
    if action["to"] != "address":
        action.pop("address", None)
        return True
    if not EMAIL_RE.match(action.get("address") or ""):
        errors[f"{key}.address"] = Problem(N_("Enter the e-mail address to send to."))
        return False
    return True


# ---- What can never be ----------------------------------------------------------------------------------------

_YES = {"present": True, "assigned": True, "is_true": True, "absent": False, "unassigned": False, "is_false": False}
_ONE_VALUE = ("is", "changed_to", "changed_from")


def _impossible_all(conditions: list[dict], errors: Errors) -> None:
    """Conditions that can never hold together: the rule would never fire. The later one is marked."""
    for index, condition in enumerate(conditions):
        if _never(condition):
            errors[f"conditions_all.{index}"] = Problem(N_("Nothing is beyond this value: the rule would never "
                                                           "fire."))
            continue
        earlier = next((i for i, other in enumerate(conditions[:index]) if _exclusive(other, condition)), None)
        if earlier is not None:
            errors[f"conditions_all.{index}"] = Problem(
                N_("This contradicts condition %(number)s: both can never be true at once."), {"number": earlier + 1})


def _never(condition: dict) -> bool:
    """"Priority above urgent", "below low"."""
    if condition["field"] != "priority" or condition["op"] not in ("above", "below"):
        return False
    return condition["value"] == (PRIORITIES[-1] if condition["op"] == "above" else PRIORITIES[0])


def _exclusive(a: dict, b: dict) -> bool:
    if a["field"] != b["field"]:
        return False
    ops, values = {a["op"], b["op"]}, (a.get("value"), b.get("value"))
    if a["op"] == b["op"] and a["op"] in _ONE_VALUE:  # status is open AND status is pending
        return values[0] != values[1]
    if ops == {"is", "is_not"} or ops == {"has", "has_not"}:  # is X AND is not X
        return values[0] == values[1]
    if a["op"] in _YES and b["op"] in _YES:  # filled in AND empty
        return _YES[a["op"]] != _YES[b["op"]]
    if ops & {"absent", "unassigned"} and ops & {"is", "changed_to"}:  # empty AND is X
        return True
    return _no_room_between(a, b)


def _no_room_between(a: dict, b: dict) -> bool:
    """More than 10 hours AND less than 5; priority above normal AND below high."""
    by_op = {a["op"]: a.get("value"), b["op"]: b.get("value")}
    if {"greater_than", "less_than"} <= by_op.keys():
        return by_op["less_than"] <= by_op["greater_than"]
    if {"above", "below"} <= by_op.keys():
        return PRIORITIES.index(by_op["below"]) - PRIORITIES.index(by_op["above"]) <= 1
    return False


def _contradicting_actions(actions: list[dict], errors: Errors) -> None:
    seen: dict[str, int] = {}
    fields: dict[str, int] = {}
    added: set[str] = set()
    for index, action in enumerate(actions):
        kind, key = action["type"], f"actions.{index}"
        if kind in SINGLE_ACTIONS:
            if kind in seen:
                message = (N_("Assign to one agent or automatically, not both.") if kind == "set_assignee"
                           else N_("This repeats action %(number)s: a rule sets each thing once."))
                errors[key] = Problem(message, {"number": seen[kind] + 1})
            seen.setdefault(kind, index)
        elif kind == "set_field":
            if action["field"] in fields:
                errors[key] = Problem(N_("This repeats action %(number)s: a rule sets each thing once."),
                                      {"number": fields[action["field"]] + 1})
            fields.setdefault(action["field"], index)
        elif kind == "add_tags":
            added.update(action["value"])
    for index, action in enumerate(actions):
        if action["type"] == "remove_tags" and added & set(action["value"]):
            errors[f"actions.{index}"] = Problem(N_("The rule adds and removes the same tag: %(tag)s."),
                                                 {"tag": sorted(added & set(action["value"]))[0]})


def validate_actions(session: Session, value: object, *, allowed: frozenset[str]) -> tuple[list[dict], Errors]:
    """A list of actions on its own (a macro's), checked as a rule's are, limited to the `allowed` types; an
    empty list is fine here (a macro may only reply)."""
    errors: Errors = {}
    if value in (None, []):
        return [], errors
    clean = _actions(_Known(session), value, errors)
    for index, action in enumerate(clean):
        if action["type"] not in allowed:
            errors[f"actions.{index}.type"] = Problem(N_("Choose an action from the list."))
    if not errors:
        _contradicting_actions(clean, errors)
    return clean, errors


# ---- Automations ----------------------------------------------------------------------------------------------

# Conditions about a change being made: an automation looks at tickets as they are, nothing is changing.
_CHANGE_OPS = frozenset({"changed", "changed_to", "changed_from"})
_CHANGE_FIELDS = frozenset({"previous_status", "actor"})
_SETS = {"status": "set_status", "priority": "set_priority", "group": "set_group", "assignee": "set_assignee",
         "category": "set_category", "language": "set_language"}


def _about_a_change(clean: dict, errors: Errors) -> None:
    for list_key in ("conditions_all", "conditions_any"):
        for index, condition in enumerate(clean[list_key]):
            if condition["field"] in _CHANGE_FIELDS or condition["op"] in _CHANGE_OPS:
                errors[f"{list_key}.{index}"] = Problem(N_(
                    "An automation looks at tickets as they are, not at a change: use this condition in a "
                    "trigger."))


def _system_actions(clean: dict, errors: Errors) -> None:
    """What only the system does, where the former timers did it: close a ticket (where the status table lets the
    system close it: solved), and send the pending reminder (to a pending ticket). Only an automation may, and
    only with the condition that says the ticket is in that status."""
    statuses = {c["value"] for c in clean["conditions_all"] if c["field"] == "status" and c["op"] == "is"}
    for index, action in enumerate(clean["actions"]):
        key = f"actions.{index}"
        if action["type"] == "set_status" and action["value"] == Status.CLOSED.value:
            closable = sorted(s.value for s in Status if system_action(s.value, Status.CLOSED.value) is not None)
            if clean["kind"] != "automation":
                errors[f"{key}.value"] = Problem(N_(
                    "Only an automation closes tickets, some time after they were solved: choose another status, "
                    "or make this rule an automation."))
            elif not statuses or not statuses <= set(closable):
                errors[f"{key}.value"] = Problem(N_(
                    "An automation closes only solved tickets: add the condition \u201cStatus is Solved\u201d."))
        elif action["type"] == "send_pending_reminder" and (clean["kind"] != "automation"
                                                            or statuses != {Status.PENDING.value}):
            errors[key] = Problem(N_(
                "The pending reminder is sent by an automation, to pending tickets: make this rule an automation "
                "with the condition \u201cStatus is Pending\u201d."))


def ends_itself(rule: dict) -> bool:
    """Does one of the automation's actions make one of its conditions (all of them) false, so that it stops
    matching a ticket once it has acted on it?"""
    return any(_falsifies(action, condition) for action in rule["actions"] for condition in rule["conditions_all"])


def _falsifies(action: dict, condition: dict) -> bool:
    name, op, wanted = condition["field"], condition["op"], condition.get("value")
    kind, value = action["type"], action.get("value")
    if name == "hours_since_updated" and op == "greater_than":
        # Any change to the ticket moves its last change to now.
        return kind not in ("add_note", "send_email", "call_webhook")
    if name == "reminder_sent" and op == "is_false":
        return kind == "send_pending_reminder"  # it sends the reminder it looked for the lack of
    if name == "tags" and op == "has_not":
        return kind == "add_tags" and bool(set(value) & set(wanted))
    if name == "tags" and op == "has":
        return kind == "remove_tags" and set(wanted) <= set(value)
    if name.startswith(catalog.CUSTOM_FIELD_PREFIX):
        if kind != "set_field" or action["field"] != name.removeprefix(catalog.CUSTOM_FIELD_PREFIX):
            return False
        return _value_falsifies(op, wanted, value or None)
    if _SETS.get(name) != kind:
        return False
    if kind == "set_assignee" and value == AUTO_ASSIGN:
        return op == "unassigned"
    if name == "priority" and op in ("above", "below"):
        difference = PRIORITIES.index(value) - PRIORITIES.index(wanted)
        return difference <= 0 if op == "above" else difference >= 0
    return _value_falsifies(op, wanted, value)


def _value_falsifies(op: str, wanted: object, value: object) -> bool:
    """After the action sets `value`, the condition `op wanted` is false."""
    if op == "is":
        return value != wanted
    if op == "is_not":
        return value == wanted
    if op in ("present", "assigned"):
        return value is None
    if op in ("absent", "unassigned"):
        return value is not None
    return False
