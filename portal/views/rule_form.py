"""The rule editor's form, without WTForms: its rows and their inputs depend on what the admin chose.

Inputs are named like the keys of `validate`'s problems (`name`, `events`, `conditions_all.2.value`,
`actions.0.address`), so each message lands beside the input it is about. What is posted becomes a `Draft`: the
rows the admin filled in, in order, then the empty rows to draw after them. The same draft is what the services
receive (`Draft.data()`) and what the page draws again, so nothing typed is ever lost, valid or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from portal.services.rules import catalog
from portal.services.rules.validation import PLACEHOLDERS, Problem

CONDITION_LISTS = ("conditions_all", "conditions_any")
LISTS = (*CONDITION_LISTS, "actions")
MAX_ROWS = {"conditions_all": catalog.MAX_CONDITIONS, "conditions_any": catalog.MAX_CONDITIONS,
            "actions": catalog.MAX_ACTIONS}
MAX_TEXT = 20_000  # far past any valid value (5,000 characters): what is longer is cut, and refused by validate
_INPUT = re.compile(r"(conditions_all|conditions_any|actions)\.(\d{1,3})\.([a-z_]{1,20})")
# `drawn`: the field (or action) the row's other inputs were drawn for, in a hidden input. When the admin picks
# another one, what was chosen for the old one is dropped: "email" picked for Channel is no status, and group 3
# must not silently become category 3.
_CONDITION_PARTS = ("field", "op", "value", "drawn")
_ACTION_PARTS = ("type", "drawn", *sorted({p.name for a in catalog.ACTION_TYPES.values() for p in a.params}))


def _fresh(list_key: str, row: dict[str, str]) -> dict[str, str]:
    """The row without what belonged to the field or action it had before."""
    key = "type" if list_key == "actions" else "field"
    drawn = row.pop("drawn", None)
    if drawn and drawn != row.get(key, ""):  # an empty row's plain "Value" box is kept: it was for any field
        return {key: row.get(key, "")}
    return row


@dataclass
class Draft:
    """A rule as the admin is writing it: every value as typed (text), rows in order."""

    name: str = ""
    kind: str = "trigger"
    enabled: bool = True
    once_per_ticket: bool = False
    events: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {key: [] for key in LISTS})
    blanks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LISTS, 1))
    version: str = ""

    def data(self) -> dict:
        """The rule data the services check and store (they clean and convert every value)."""
        actions = []
        for row in self.rows["actions"]:
            kind = catalog.ACTION_TYPES.get(row.get("type", ""))
            names = [p.name for p in kind.params] if kind else ["value"]
            actions.append({"type": row.get("type", ""), **{n: row.get(n, "") for n in names}})
        return {
            "name": self.name,
            "kind": self.kind,
            "enabled": self.enabled,
            "once_per_ticket": self.once_per_ticket,
            "events": list(self.events),
            "conditions_all": [_condition_data(row) for row in self.rows["conditions_all"]],
            "conditions_any": [_condition_data(row) for row in self.rows["conditions_any"]],
            "actions": actions,
        }


def _condition_data(row: dict[str, str]) -> dict:
    condition = {"field": row.get("field", ""), "op": row.get("op", "")}
    entry = catalog.condition_field(condition["field"])
    operator = entry.operator(condition["op"]) if entry else None
    if operator is None or operator.kind != "none":
        condition["value"] = row.get("value", "")
    return condition


def from_form(form: MultiDict, *, remove: str | None = None, add: str | None = None) -> Draft:
    """What was posted; `remove` ("actions.2") drops a row as it was numbered on the page, `add` ("actions")
    draws one more empty row in that list."""
    draft = Draft(name=form.get("name", "")[:1000], enabled=form.get("enabled") in ("1", "on"),
                  kind="automation" if form.get("kind") == "automation" else "trigger",
                  once_per_ticket=form.get("once_per_ticket") in ("1", "on"),
                  events=[e for e in form.getlist("events")[:40] if e in catalog.EVENTS],
                  version=form.get("version", "")[:20])
    posted: dict[str, dict[int, dict[str, str]]] = {key: {} for key in LISTS}
    for name, value in form.items():
        match = _INPUT.fullmatch(name)
        if match is None:
            continue
        list_key, index, part = match.group(1), int(match.group(2)), match.group(3)
        allowed = _ACTION_PARTS if list_key == "actions" else _CONDITION_PARTS
        if part in allowed and index < 200:
            posted[list_key].setdefault(index, {})[part] = value[:MAX_TEXT]
    if remove:
        list_key, _dot, index = remove.partition(".")
        if list_key in posted and index.isdigit():
            posted[list_key].pop(int(index), None)
    for list_key in LISTS:
        rows = [_fresh(list_key, posted[list_key][i]) for i in sorted(posted[list_key])]
        filled = [row for row in rows if any(value.strip() for value in row.values())]
        draft.rows[list_key] = filled[:MAX_ROWS[list_key]]
        blanks = max(1, len(rows) - len(filled)) + (1 if add == list_key else 0)
        draft.blanks[list_key] = max(0, min(blanks, MAX_ROWS[list_key] - len(draft.rows[list_key])))
    return draft


def from_rule(rule) -> Draft:
    """A stored rule (or its snapshot) as the editor shows it."""
    def text(value: object) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return "" if value is None else str(value)

    get = rule.get if isinstance(rule, dict) else lambda key, default=None: getattr(rule, key, default)
    draft = Draft(name=get("name") or "", enabled=bool(get("enabled", True)), events=list(get("events") or []),
                  kind="automation" if get("kind") == "automation" else "trigger",
                  once_per_ticket=bool(get("once_per_ticket", False)),
                  version=str(get("version", "") or ""))
    for list_key in LISTS:
        draft.rows[list_key] = [{k: text(v) for k, v in item.items()} for item in (get(list_key) or [])
                                if isinstance(item, dict)]
        draft.blanks[list_key] = 1 if len(draft.rows[list_key]) < MAX_ROWS[list_key] else 0
    return draft


def new_draft(kind: str | None = None) -> Draft:
    """A new rule: on, run when a ticket is created (the most common start), nothing else chosen; or a new
    automation (`kind`)."""
    if kind == "automation":
        return Draft(kind="automation", events=["ticket_created"])
    return Draft(events=["ticket_created"])


# ---- Drawing the rows -------------------------------------------------------------------------------------------


@dataclass
class Widget:
    """One input of a row. `kind`: select, text, number, textarea, or none (the operator takes no value)."""

    name: str
    kind: str
    label: str
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""
    placeholder: str = ""
    error: str = ""

    @property
    def id(self) -> str:
        return "rule-" + self.name.replace(".", "-")


@dataclass
class Row:
    list_key: str
    index: int
    number: int  # as the admin counts: 1, 2, 3
    widgets: list[Widget]
    blank: bool = False
    error: str = ""

    @property
    def name(self) -> str:
        return f"{self.list_key}.{self.index}"


def _choose(label: str) -> tuple[str, str]:
    return ("", label)


def _value_widget(name: str, kind: str, value: str, label: str, *, choices: dict, options: tuple = (),
                  required: bool = True, max_length: int = 500, condition: bool = False) -> Widget:
    """The input a value of this kind needs: a list to pick from when the catalog or the database has one."""
    pick = _choose(gettext("— choose —"))
    if kind == "none":
        return Widget(name, "none", label, hint=gettext("No value needed."))
    if kind == "choice":
        return _select(name, label, value, [pick, *((k, gettext(v)) for k, v in options)])
    if kind in ("group", "agent", "category", "webhook", "field_key", "macro"):
        none_yet = {
            "group": gettext("No groups yet: create one under Admin → Groups."),
            "agent": gettext("No active agents yet."),
            "category": gettext("No categories yet: create one under Admin → Categories."),
            "webhook": gettext("No webhooks yet: register one under Admin → Webhooks."),
            "field_key": gettext("No custom fields yet: add one to a category under Admin → Categories."),
            "macro": gettext("No shared macros yet: an admin shares one under Macros (a rule cannot apply a "
                             "personal macro)."),
        }
        widget = _select(name, label, value, [pick, *choices.get(kind, [])])
        widget.hint = "" if choices.get(kind) else none_yet[kind]
        return widget
    if kind == "assignee":
        auto = (catalog.AUTO_ASSIGN, gettext("Automatically, to an agent of the ticket's group"))
        return _select(name, label, value, [pick, auto, *choices.get("agent", [])])
    if kind == "hours":
        return Widget(name, "number", label, value, placeholder="24")
    if kind == "template":  # a subject is one line, a message several
        return Widget(name, "textarea" if max_length > 300 else "text", label, value)
    hints = {
        "words": gettext("Words separated by spaces, in English or Spanish; accents and capitals do not matter. "
                         "A word ending in * also matches longer words: factur* matches factura and facturas."),
        "tags": gettext("Tags separated by spaces or commas."),
    }
    if condition:  # "requester's e-mail ends with @example.com"
        hints["email"] = gettext("A whole address, or its end such as @example.com.")
    placeholders = {"domain": "example.com", "email": "name@example.com", "tags": "vip, billing",
                    "words": "refund invoice factur*"}
    widget = Widget(name, "text", label, value, hint=hints.get(kind, ""), placeholder=placeholders.get(kind, ""))
    if not required and "(" not in label:
        widget.label = gettext("%(label)s (optional)", label=label)
    return widget


def _select(name: str, label: str, value: str, options: list[tuple[str, str]]) -> Widget:
    if value and value not in {key for key, _label in options}:
        options = [*options, (value, value)]  # kept as typed (an imported id, a deleted group): validate says why
    return Widget(name, "select", label, value, options=options)


def condition_fields(choices: dict) -> list[tuple[str, str]]:
    """The condition field list: the catalog's, then each custom field as "Custom field: <label>"."""
    fields = [(key, gettext(entry.label)) for key, entry in catalog.CONDITION_FIELDS.items()]
    custom = [(catalog.CUSTOM_FIELD_PREFIX + key, gettext("Custom field: %(label)s", label=label))
              for key, label in choices.get("field_key", [])]
    return fields + custom


def condition_row(list_key: str, index: int, row: dict[str, str], *, choices: dict, blank: bool = False) -> Row:
    name = f"{list_key}.{index}"
    chosen = row.get("field", "")
    entry = catalog.condition_field(chosen)
    field_widget = _select(f"{name}.field", gettext("Field"), chosen,
                           [_choose(gettext("— choose a field —")), *condition_fields(choices)])
    if entry is None:
        op_widget = Widget(f"{name}.op", "select", gettext("Operator"), "",
                           options=[_choose(gettext("— choose the field first —"))])
        value_widget = Widget(f"{name}.value", "text", gettext("Value"), row.get("value", ""))
    else:
        operators = [(op.key, gettext(op.label)) for op in entry.operators]
        operator = entry.operator(row.get("op", "")) or entry.operators[0]
        op_widget = Widget(f"{name}.op", "select", gettext("Operator"), operator.key, options=operators)
        value_widget = _value_widget(f"{name}.value", operator.kind, row.get("value", ""), gettext("Value"),
                                     choices=choices, options=entry.choices, condition=True)
    return Row(list_key, index, index + 1, [field_widget, op_widget, value_widget], blank=blank)


def action_row(index: int, row: dict[str, str], *, choices: dict, blank: bool = False) -> Row:
    name = f"actions.{index}"
    chosen = row.get("type", "")
    kind = catalog.ACTION_TYPES.get(chosen)
    type_widget = _select(f"{name}.type", gettext("Action"), chosen,
                          [_choose(gettext("— choose an action —")),
                           *((key, gettext(a.label)) for key, a in catalog.ACTION_TYPES.items())])
    if kind is None:
        params = [Widget(f"{name}.value", "text", gettext("Value"), row.get("value", ""))]
    else:
        params = [_value_widget(f"{name}.{p.name}", p.kind, row.get(p.name, ""), gettext(p.label), choices=choices,
                                options=p.choices, required=p.required, max_length=p.max_length)
                  for p in kind.params]
        templates = [w for p, w in zip(kind.params, params, strict=True) if p.kind == "template"]
        if templates:  # said once, under the last text that may hold them
            templates[-1].hint = gettext("Placeholders you can use in these texts: %(names)s",
                                         names=", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS))
    return Row("actions", index, index + 1, [type_widget, *params], blank=blank)


def rows_of(draft: Draft, list_key: str, *, choices: dict, errors: dict[str, Problem] | None = None) -> list[Row]:
    """The list's rows as drawn: the filled ones with their messages, then the empty ones."""
    def draw(index: int, row: dict[str, str], blank: bool) -> Row:
        if list_key == "actions":
            return action_row(index, row, choices=choices, blank=blank)
        return condition_row(list_key, index, row, choices=choices, blank=blank)

    filled = draft.rows[list_key]
    rows = [draw(i, row, False) for i, row in enumerate(filled)]
    rows += [draw(len(filled) + n, {}, True) for n in range(draft.blanks[list_key])]
    for row in rows:
        row.error = message(errors, row.name)
        for widget in row.widgets:
            widget.error = message(errors, widget.name)
    return rows


def message(errors: dict[str, Problem] | None, key: str) -> str:
    problem = (errors or {}).get(key)
    return problem.text(gettext) if problem is not None else ""


def row_from_args(args: MultiDict, *, choices: dict) -> Row | None:
    """The one row an htmx request sent (its field or action type just changed), drawn again for it."""
    posted: dict[tuple[str, int], dict[str, str]] = {}
    for name, value in args.items():
        match = _INPUT.fullmatch(name)
        allowed = _ACTION_PARTS if match and match.group(1) == "actions" else _CONDITION_PARTS
        if match is not None and int(match.group(2)) < 200 and match.group(3) in allowed:
            posted.setdefault((match.group(1), int(match.group(2))), {})[match.group(3)] = value[:MAX_TEXT]
    if len(posted) != 1:
        return None
    (list_key, index), row = next(iter(posted.items()))
    row = _fresh(list_key, row)
    if list_key == "actions":
        return action_row(index, row, choices=choices)
    return condition_row(list_key, index, row, choices=choices)
