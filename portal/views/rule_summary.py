"""A rule in words, for the list, the audit trail and the test page: "Channel is E-mail", "Set the priority: High".
Ids become the names the editor offers (a group's name, an agent's name); what is unknown is shown as stored."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext

from portal.services.rules import catalog, engine


@dataclass
class Summary:
    events: list[str] = field(default_factory=list)
    conditions_all: list[str] = field(default_factory=list)
    conditions_any: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def _label(kind: str, value: object, choices: dict, options: tuple = ()) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = "" if value is None else str(value)
    if kind == "choice":
        return next((gettext(label) for key, label in options if key == text), text)
    if kind == "assignee" and text == catalog.AUTO_ASSIGN:
        return gettext("automatically, within the ticket's group")
    lookup = "agent" if kind == "assignee" else kind
    if lookup in choices:
        return next((label for key, label in choices[lookup] if key == text), text)
    return text


def condition_text(condition: dict, choices: dict) -> str:
    name = str(condition.get("field", ""))
    entry = catalog.condition_field(name)
    if entry is None:
        return name
    label = gettext(entry.label)
    if entry is catalog.CUSTOM_FIELD:
        label = gettext("Custom field: %(label)s", label=name.removeprefix(catalog.CUSTOM_FIELD_PREFIX))
    operator = entry.operator(str(condition.get("op", "")))
    if operator is None:
        return label
    words = f"{label} {gettext(operator.label)}"
    if operator.kind == "none":
        return words
    return f"{words} {_label(operator.kind, condition.get('value'), choices, entry.choices)}"


def action_text(action: dict, choices: dict) -> str:
    kind = catalog.ACTION_TYPES.get(str(action.get("type", "")))
    if kind is None:
        return str(action.get("type", ""))
    label = gettext(kind.label)
    if kind.key == "send_email":
        to = _label("choice", action.get("to"), choices, catalog.RECIPIENT_CHOICES)
        if action.get("to") == "address":
            to = str(action.get("address", ""))
        return f"{label}: {to} — “{action.get('subject_en', '')}”"
    if kind.key == "add_note":
        body = str(action.get("body", ""))
        return f"{label}: “{body[:60]}{'…' if len(body) > 60 else ''}”"
    if kind.key == "set_field":
        return f"{label}: {action.get('field', '')} = {action.get('value', '')}"
    if kind.key == "postpone":
        return gettext("Postpone for %(hours)s hours", hours=action.get("value", ""))
    if kind.key == "add_public_message":
        body = str(action.get("body_en", ""))
        return f"{label}: “{body[:60]}{'…' if len(body) > 60 else ''}”"
    if not kind.params:
        return label
    param = kind.params[0]
    return f"{label}: {_label(param.kind, action.get(param.name), choices, param.choices)}"


def summarise(rule: object, choices: dict) -> Summary:
    """`rule`: a Rule or its data (an export, an audit snapshot)."""
    get = rule.get if isinstance(rule, dict) else lambda key, default=None: getattr(rule, key, default)
    if get("kind") == "automation":  # no events: it is checked on a schedule
        events = [gettext("Every hour") + (" · " + gettext("at most once per ticket")
                                           if get("once_per_ticket") else "")]
    else:
        events = [gettext(catalog.EVENTS[e]) if e in catalog.EVENTS else str(e) for e in get("events") or []]
    return Summary(
        events=events,
        conditions_all=[condition_text(c, choices) for c in get("conditions_all") or [] if isinstance(c, dict)],
        conditions_any=[condition_text(c, choices) for c in get("conditions_any") or [] if isinstance(c, dict)],
        actions=[action_text(a, choices) for a in get("actions") or [] if isinstance(a, dict)],
    )


def reason_text(code: object, params: object, stored: str | None) -> str:
    """Why Mesa switched a rule off, in the reader's language: from the code and values the engine stored, or,
    for a rule switched off before codes existed (or a code this version does not know), the words as stored."""
    if isinstance(code, str) and code in engine.REASONS and isinstance(params, dict):
        try:
            return engine.Reason(code, params).text(gettext)
        except (KeyError, TypeError, ValueError):  # values that do not fit the message: the stored words
            pass
    return stored or ""
