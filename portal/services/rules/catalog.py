"""The rules' vocabulary, as data: the events a rule listens to, the condition fields with their operators and
the kind of value each takes, and the action types with their parameters. The admin form is drawn from it and
`validate` checks a rule against it, so the two never disagree.

A stored rule is plain JSON:

    {"name": "VIP routing", "enabled": true, "events": ["ticket_created"],
     "conditions_all": [{"field": "requester_domain", "op": "is", "value": "bigclient.com"}],
     "conditions_any": [],
     "actions": [{"type": "set_priority", "value": "high"}, {"type": "set_group", "value": 3}]}

Value kinds (`Operator.kind`, `Param.kind`): "choice" (one of the item's `choices`), "group", "agent",
"category", "webhook", "macro" (the id of an existing row; a macro must be shared), "text", "email", "domain",
"words" (words separated by spaces or commas; a word ending in * matches any word it starts), "hours" (a whole
number), "tags" (tag words), "field_key" (a custom field's key) and "none" (the operator takes no value).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.errors import N_
from portal.models import CHANNELS, PLANS, PRIORITIES
from portal.status import Status

EVENTS: dict[str, str] = {
    "ticket_created": N_("A ticket is created"),
    "ticket_updated": N_("A ticket changes in any way"),
    "customer_replied": N_("The customer replies"),
    "agent_replied": N_("An agent replies in public"),
    "status_changed": N_("The status changes"),
    "assigned": N_("The ticket is assigned"),
    "sla_breached": N_("An SLA target is missed"),
    "satisfaction_received": N_("The customer rates the support"),
}

LANGUAGES = ("en", "es")
STATUS_CHOICES = tuple((s.value, label) for s, label in zip(Status, (
    N_("New"), N_("Open"), N_("Pending"), N_("On hold"), N_("Solved"), N_("Closed")), strict=True))
# Where a rule may move a ticket, each through the status table's agent action (services.rules.actions).
SETTABLE_STATUSES = tuple(choice for choice in STATUS_CHOICES if choice[0] in ("open", "pending", "on_hold", "solved"))
CHANNEL_CHOICES = tuple((c, label) for c, label in zip(CHANNELS, (
    N_("Web portal"), N_("E-mail"), N_("API"), N_("Phone")), strict=True))
PRIORITY_CHOICES = tuple((p, label) for p, label in zip(PRIORITIES, (
    N_("Low"), N_("Normal"), N_("High"), N_("Urgent")), strict=True))
PLAN_CHOICES = tuple((p, label) for p, label in zip(PLANS, (N_("Standard"), N_("Premium")), strict=True))
LANGUAGE_CHOICES = (("en", N_("English")), ("es", N_("Spanish")))
ACTOR_CHOICES = (("customer", N_("The customer")), ("agent", N_("An agent")), ("system", N_("The system")))
RECIPIENT_CHOICES = (("requester", N_("The requester")), ("assignee", N_("The assignee")),
                     ("group", N_("The group's members")), ("address", N_("A fixed address")))

OPERATORS: dict[str, str] = {
    "is": N_("is"),
    "is_not": N_("is not"),
    "ends_with": N_("ends with"),
    "contains_any_word": N_("contains any of the words"),
    "contains_none_of": N_("contains none of the words"),
    "contains_phrase": N_("contains the phrase"),
    "present": N_("is filled in"),
    "absent": N_("is empty"),
    "changed": N_("changed"),
    "changed_to": N_("changed to"),
    "changed_from": N_("changed from"),
    "above": N_("is higher than"),
    "below": N_("is lower than"),
    "unassigned": N_("is nobody"),
    "assigned": N_("is somebody"),
    "has": N_("include any of"),
    "has_not": N_("include none of"),
    "greater_than": N_("more than"),
    "less_than": N_("less than"),
    "is_true": N_("yes"),
    "is_false": N_("no"),
}


@dataclass(frozen=True)
class Operator:
    key: str
    kind: str  # the value's kind; "none" when the operator takes no value

    @property
    def label(self) -> str:
        return OPERATORS[self.key]


@dataclass(frozen=True)
class ConditionField:
    key: str
    label: str
    operators: tuple[Operator, ...]
    choices: tuple[tuple[str, str], ...] = ()

    def operator(self, key: str) -> Operator | None:
        return next((op for op in self.operators if op.key == key), None)


def _ops(kind: str, *keys: str, none: tuple[str, ...] = ()) -> tuple[Operator, ...]:
    return tuple(Operator(k, kind) for k in keys) + tuple(Operator(k, "none") for k in none)


HOURS_OPS = _ops("hours", "greater_than", "less_than")
CUSTOM_FIELD_PREFIX = "field:"
CUSTOM_FIELD = ConditionField("field:", N_("Custom field"), _ops("text", "is", "is_not", none=("present", "absent")))

CONDITION_FIELDS: dict[str, ConditionField] = {f.key: f for f in (
    ConditionField("channel", N_("Channel"), _ops("choice", "is", "is_not"), CHANNEL_CHOICES),
    ConditionField("requester_email", N_("Requester's e-mail"), _ops("email", "is", "is_not", "ends_with")),
    ConditionField("requester_domain", N_("Requester's e-mail domain"), _ops("domain", "is", "is_not")),
    ConditionField("customer_plan", N_("Customer's plan"), _ops("choice", "is", "is_not"), PLAN_CHOICES),
    ConditionField("subject_or_description", N_("Subject or description"),
                   _ops("words", "contains_any_word", "contains_none_of") + _ops("text", "contains_phrase")),
    ConditionField("language", N_("Language"), _ops("choice", "is", "is_not"), LANGUAGE_CHOICES),
    ConditionField("category", N_("Category"), _ops("category", "is", "is_not", none=("present", "absent"))),
    ConditionField("status", N_("Status"),
                   _ops("choice", "is", "is_not", "changed_to", "changed_from", none=("changed",)), STATUS_CHOICES),
    ConditionField("previous_status", N_("Status before this change"), _ops("choice", "is", "is_not"),
                   STATUS_CHOICES),
    ConditionField("priority", N_("Priority"), _ops("choice", "is", "is_not", "above", "below"), PRIORITY_CHOICES),
    ConditionField("group", N_("Group"), _ops("group", "is", "is_not", none=("present", "absent"))),
    ConditionField("assignee", N_("Assignee"), _ops("agent", "is", "is_not", none=("unassigned", "assigned"))),
    ConditionField("tags", N_("Tags"), _ops("tags", "has", "has_not")),
    ConditionField("hours_since_created", N_("Hours since it was created"), HOURS_OPS),
    ConditionField("hours_since_updated", N_("Hours since it last changed"), HOURS_OPS),
    ConditionField("hours_since_solved", N_("Hours since it was solved"), HOURS_OPS),
    ConditionField("business_hours", N_("Within business hours"), _ops("none", none=("is_true", "is_false"))),
    ConditionField("actor", N_("Who made the change"), _ops("choice", "is", "is_not"), ACTOR_CHOICES),
)}


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 500


@dataclass(frozen=True)
class ActionType:
    key: str
    label: str
    params: tuple[Param, ...] = field(default_factory=tuple)


def _value(kind: str, label: str = N_("Value"), choices: tuple = (), **kwargs: object) -> Param:
    return Param("value", label, kind, choices=choices, **kwargs)


EMAIL_PARAMS = (
    Param("to", N_("Send to"), "choice", choices=RECIPIENT_CHOICES),
    Param("address", N_("Address (for a fixed address)"), "email", required=False, max_length=254),
    Param("subject_en", N_("Subject (English)"), "template", max_length=200),
    Param("body_en", N_("Message (English)"), "template", max_length=5000),
    Param("subject_es", N_("Subject (Spanish)"), "template", max_length=200),
    Param("body_es", N_("Message (Spanish)"), "template", max_length=5000),
)

ACTION_TYPES: dict[str, ActionType] = {a.key: a for a in (
    ActionType("set_status", N_("Set the status"), (_value("choice", N_("Status"), SETTABLE_STATUSES),)),
    ActionType("set_priority", N_("Set the priority"), (_value("choice", N_("Priority"), PRIORITY_CHOICES),)),
    ActionType("set_group", N_("Set the group"), (_value("group", N_("Group")),)),
    ActionType("set_assignee", N_("Assign to"), (_value("assignee", N_("Agent, or automatic within the group")),)),
    ActionType("set_category", N_("Set the category"), (_value("category", N_("Category")),)),
    ActionType("set_language", N_("Set the language"), (_value("choice", N_("Language"), LANGUAGE_CHOICES),)),
    ActionType("set_field", N_("Set a custom field"), (Param("field", N_("Field"), "field_key", max_length=40),
                                                       _value("text", required=False))),
    ActionType("set_sla_policy", N_("Use the SLA targets of a plan"), (_value("choice", N_("Plan"), PLAN_CHOICES),)),
    ActionType("postpone", N_("Postpone"), (_value("hours", N_("Hours from now")),)),
    ActionType("add_tags", N_("Add tags"), (_value("tags", N_("Tags")),)),
    ActionType("remove_tags", N_("Remove tags"), (_value("tags", N_("Tags")),)),
    ActionType("add_note", N_("Add a private note"), (Param("body", N_("Note"), "template", max_length=5000),)),
    ActionType("send_email", N_("Send an e-mail"), EMAIL_PARAMS),
    ActionType("call_webhook", N_("Call a webhook"), (_value("webhook", N_("Webhook")),)),
)}
# "Apply a macro": a shared macro's actions, then its reply sent in public as the support team (no person), the
# way an agent's bulk apply sends it. Personal macros are their owner's tools, never a rule's.
ACTION_TYPES["apply_macro"] = ActionType("apply_macro", N_("Apply a macro"), (_value("macro", N_("Shared macro")),))

# ---- What the timers did, as automations (services.rules.defaults) ----------------------------------------------
# How long the ticket has been in its status (pending for 7 days), and whether the pending reminder went out since
# the status began: the reminder goes once per pending period, and again when the ticket is pending again later.
CONDITION_FIELDS.update({f.key: f for f in (
    ConditionField("hours_since_status_changed", N_("Hours since the status last changed"), HOURS_OPS),
    ConditionField("reminder_sent", N_("Pending reminder sent since the status last changed"),
                   _ops("none", none=("is_true", "is_false"))),
)})
# An automation may also close a ticket, where the status table lets the system do it (solved -> closed, the
# auto-close); validation refuses "closed" anywhere else. It replaces the entry above, in its place.
RULE_STATUSES = (*SETTABLE_STATUSES, next(choice for choice in STATUS_CHOICES if choice[0] == Status.CLOSED.value))
ACTION_TYPES.update({a.key: a for a in (
    ActionType("set_status", N_("Set the status"), (_value("choice", N_("Status"), RULE_STATUSES),)),
    ActionType("add_public_message", N_("Add a public reply, in the ticket's language"), (
        Param("body_en", N_("Message (English)"), "template", max_length=5000),
        Param("body_es", N_("Message (Spanish)"), "template", max_length=5000))),
    ActionType("send_pending_reminder", N_("Send the customer the pending reminder e-mail")),
)})

# Actions that set one thing: twice in one rule makes no sense.
SINGLE_ACTIONS = frozenset({"set_status", "set_priority", "set_group", "set_assignee", "set_category",
                            "set_language", "set_sla_policy", "postpone"})
AUTO_ASSIGN = "auto"

# Bounds: a rule is a small thing; anything past these is a mistake or an attack, refused with a message.
MAX_NAME = 120
MAX_CONDITIONS = 30
MAX_ACTIONS = 20
MAX_WORDS = 50
MAX_HOURS = 24 * 366 * 5
MAX_POSTPONE_HOURS = 24 * 365  # services.postpone.MAX_AHEAD


def condition_field(key: str) -> ConditionField | None:
    """The catalog entry of a condition field; every `field:<key>` shares the custom field's."""
    if isinstance(key, str) and key.startswith(CUSTOM_FIELD_PREFIX) and len(key) > len(CUSTOM_FIELD_PREFIX):
        return CUSTOM_FIELD
    return CONDITION_FIELDS.get(key)


def validate(session, data: object, **options: object):
    """`validation.validate`: the clean rule and its problems keyed by form field (see there)."""
    from portal.services.rules.validation import validate as check

    return check(session, data, **options)
