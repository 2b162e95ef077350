"""What a rule does to a ticket, through the same services people use: status changes only through the status
table, assignment through services.assignment, mail through the outbox, webhooks through their queue. Each
change leaves a `TicketEvent` with no person as actor; the engine marks it with the rule.

`apply` returns a short English summary of what changed (for the firing's log), or None when the ticket was
already so; an action that cannot apply to this ticket (a transition the table refuses, a field the ticket's
category does not have, nobody free to assign) raises `Skipped`, which is logged and is not an error.
`wants` says whether a state action would still change the ticket, and `preview` what it would do, for the
loop check and for "Test this rule"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal import status
from portal.errors import N_, DomainError
from portal.models import (
    Category,
    CustomField,
    Group,
    Notification,
    Ticket,
    TicketEvent,
    TicketFieldValue,
    TicketTag,
    User,
    WebhookEndpoint,
)
from portal.services import assignment, categories, notifications, postpone, sla, tickets, webhooks
from portal.services.rules import catalog
from portal.services.rules.catalog import AUTO_ASSIGN
from portal.services.rules.defaults import REMINDER_EVENT
from portal.services.rules.placeholders import fill, ticket_values

# The ticket field each state action sets (the loop check compares them with the fields conditions read).
ACTION_FIELDS = {"set_status": "status", "set_priority": "priority", "set_group": "group",
                 "set_assignee": "assignee", "set_category": "category", "set_language": "language",
                 "set_sla_policy": "sla_plan", "add_tags": "tags", "remove_tags": "tags",
                 "postpone": "postponed_until"}
# Actions that only tell someone: they may still act on a closed ticket, and never count as a loop.
SIDE_EFFECTS = frozenset({"add_note", "send_email", "call_webhook", "macro_reply", "add_public_message",
                          "send_pending_reminder"})
LANGUAGES = ("en", "es")


class Skipped(Exception):
    """The action does not apply to this ticket now; the rule carries on."""


class MacroUnusable(Exception):
    """The rule applies a macro deleted or made personal since the rule was saved: the rule cannot do what its
    admin meant, so it fails and the engine switches it off, saying which macro."""

    def __init__(self, macro_id: object, *, personal: bool, title: str = "") -> None:
        self.macro_id, self.personal, self.title = macro_id, personal, title
        super().__init__(f"macro {macro_id} is {'personal now' if personal else 'deleted'}")


@dataclass(frozen=True)
class Said:
    """A message id (the web layer translates it) and its values."""

    message: str
    params: dict = field(default_factory=dict)
    translated: tuple[str, ...] = ()  # the params that are message ids too (a field's name, a priority)

    def text(self, gettext=str) -> str:
        return gettext(self.message) % {k: gettext(v) if k in self.translated else v for k, v in self.params.items()}


@dataclass
class Acting:
    """One rule acting on one ticket."""

    session: Session
    ticket: Ticket
    rule_id: int
    rule_name: str
    now: datetime
    ticket_url: str
    automation: bool = False  # an automation acts as the system: it may close a solved ticket, as the timers did


def field_of(action: dict) -> str | None:
    """The ticket field a state action sets (`field:<key>` for a custom field); None for side effects."""
    if action["type"] == "set_field":
        return f"field:{action['field']}"
    return ACTION_FIELDS.get(action["type"])


# ---- Would it change anything? ------------------------------------------------------------------------------


def wants(action: dict, ticket: Ticket) -> bool:
    """True when this state action would change the ticket as it is now (side effects: False)."""
    kind, value = action["type"], action.get("value")
    if kind in SIDE_EFFECTS:
        return False
    if kind == "set_assignee":
        return ticket.assignee_id is None if value == AUTO_ASSIGN else ticket.assignee_id != value
    if kind == "set_field":
        return _field_value(ticket, action["field"]) != (value or None)
    if kind == "add_tags":
        return any(tag not in ticket.tag_names for tag in value)
    if kind == "remove_tags":
        return any(tag in ticket.tag_names for tag in value)
    if kind == "postpone":  # a postponed ticket keeps its date: a rule does not push it further each time
        return ticket.postponed_until is None
    current = {"set_status": ticket.status, "set_priority": ticket.priority, "set_group": ticket.group_id,
               "set_category": ticket.category_id, "set_language": ticket.language,
               "set_sla_policy": ticket.sla_plan}[kind]
    return current != value


def _field_value(ticket: Ticket, key: str) -> str | None:
    found = next((v for v in ticket.field_values if v.field is not None and v.field.key == key), None)
    return found.value if found is not None else None


def preview(session: Session, action: dict, ticket: Ticket) -> Said:
    """What the action would do to the ticket as it is now, without doing it (`steps` first: one "apply a
    macro" is several)."""
    kind, value = action["type"], action.get("value")
    if kind in ("apply_macro", "macro_reply"):
        return _macro_preview(session, action, ticket)
    if kind == "add_note":
        return Said(N_("Would add a private note."))
    if kind == "send_email":
        target = action.get("address") or action["to"]
        return Said(N_("Would send an e-mail to %(to)s."), {"to": target})
    if kind == "call_webhook":
        endpoint = session.get(WebhookEndpoint, value)
        return Said(N_("Would call the webhook %(url)s."), {"url": endpoint.url if endpoint else value})
    if kind == "add_public_message" and ticket.status != "closed":
        return Said(N_("Would add a public reply, in the ticket's language."))
    if kind == "send_pending_reminder" and ticket.status != "closed":
        return Said(N_("Would send the customer the pending reminder."))
    if ticket.status == "closed":
        return Said(N_("Would do nothing: the ticket is closed."))
    what = catalog.ACTION_TYPES[kind].label
    if not wants(action, ticket):
        return Said(N_("Nothing to change (%(what)s): it is already so."), {"what": what}, ("what",))
    if kind == "postpone":
        return Said(N_("Would postpone it for %(hours)s hours."), {"hours": value})
    if kind == "set_assignee" and value == AUTO_ASSIGN:
        agent = assignment.pick_agent(session, ticket)
        return (Said(N_("Would assign it to %(value)s (automatic assignment)."), {"value": agent.name}) if agent
                else Said(N_("Would assign nobody: no agent of the group is free.")))
    choices = dict(next((p.choices for p in catalog.ACTION_TYPES[kind].params if p.name == "value"), ()))
    if isinstance(value, str) and value in choices:
        return Said(N_("Would do this: %(what)s: %(value)s."), {"what": what, "value": choices[value]},
                    ("what", "value"))
    return Said(N_("Would do this: %(what)s: %(value)s."), {"what": what, "value": _shown(session, action)},
                ("what",))


def _shown(session: Session, action: dict) -> str:
    kind, value = action["type"], action.get("value")
    if kind == "set_field":
        return f"{action['field']} = {value or '—'}"
    model = {"set_group": Group, "set_assignee": User, "set_category": Category}.get(kind)
    if model is not None:
        row = session.get(model, value)
        return (row.name_en if isinstance(row, Category) else row.name) if row is not None else str(value)
    return ", ".join(value) if isinstance(value, list) else str(value)


# ---- Doing it -----------------------------------------------------------------------------------------------


def apply(acting: Acting, action: dict) -> str | None:
    kind = action["type"]
    if acting.ticket.status == "closed" and kind not in ("send_email", "call_webhook"):
        raise Skipped("the ticket is closed")
    if kind not in SIDE_EFFECTS and not wants(action, acting.ticket):
        return None
    return _DO[kind](acting, action)


def _event(acting: Acting, kind: str, field_name: str, old: object, new: object) -> None:
    acting.session.add(TicketEvent(ticket=acting.ticket, actor_id=None, created_at=acting.now, kind=kind,
                                   field=field_name, old_value=None if old is None else str(old)[:255],
                                   new_value=None if new is None else str(new)[:255], rule_id=acting.rule_id))
    acting.ticket.updated_at = acting.now
    acting.ticket.version += 1


def _set_status(acting: Acting, action: dict) -> str:
    """As an agent would, through the status table; an automation moves the ticket as the system where the table
    lets the system do it (solved -> closed is the auto-close, pending -> solved the pending timeout), so the
    history and the customer's e-mail read as they did when the timers did it. Only an automation closes."""
    old, wanted = acting.ticket.status, action["value"]
    system = status.system_action(old, wanted) if acting.automation else None
    try:
        if system is not None:
            tickets.change_status_by_automation(acting.session, acting.ticket, system, now=acting.now)
        elif wanted in tickets.SUBMIT_AS:
            tickets.change_status_by_rule(acting.session, acting.ticket, tickets.SUBMIT_AS[wanted], now=acting.now)
        else:
            raise Skipped(f"status {old} -> {wanted}: only an automation, and only from solved")
    except DomainError as exc:  # the status table refuses it from here (or a guard: solving needs an assignee)
        raise Skipped(f"status {old} -> {action['value']} refused: {exc.message}") from None
    return f"status {old} -> {acting.ticket.status}"


def _set_priority(acting: Acting, action: dict) -> str:
    old = acting.ticket.priority
    _event(acting, "priority_changed", "priority", old, action["value"])
    acting.ticket.priority = action["value"]
    sla.refresh(acting.session, acting.ticket, acting.now)
    return f"priority {old} -> {action['value']}"


def _set_group(acting: Acting, action: dict) -> str:
    group = acting.session.get(Group, action["value"])
    if group is None:
        raise Skipped(f"group {action['value']} no longer exists")
    assignment.assign_group(acting.session, acting.ticket, group, actor=None, now=acting.now)
    return f"group -> {group.name}"


def _set_assignee(acting: Acting, action: dict) -> str:
    agent = None
    if action["value"] != AUTO_ASSIGN:
        agent = acting.session.get(User, action["value"])
        if agent is None or not agent.is_agent or not agent.active:
            raise Skipped(f"agent {action['value']} is not an active agent")
    try:
        chosen = assignment.assign_by_rule(acting.session, acting.ticket, agent, now=acting.now)
    except DomainError as exc:
        raise Skipped(exc.message) from None
    if chosen is None:
        raise Skipped("no agent of the group is free for automatic assignment")
    return f"assignee -> {chosen.name}"


def _set_category(acting: Acting, action: dict) -> str:
    category = acting.session.get(Category, action["value"])
    if category is None:
        raise Skipped(f"category {action['value']} no longer exists")
    _event(acting, "category_changed", "category_id", acting.ticket.category_id, category.id)
    acting.ticket.category = category
    acting.ticket.category_id = category.id
    return f"category -> {category.name_en}"


def _set_language(acting: Acting, action: dict) -> str:
    _event(acting, "language_changed", "language", acting.ticket.language, action["value"])
    acting.ticket.language = action["value"]
    return f"language -> {action['value']}"


def _set_field(acting: Acting, action: dict) -> str:
    ticket, key = acting.ticket, action["field"]
    found: CustomField | None = next(
        (f for f in (ticket.category.fields if ticket.category else []) if f.key == key and f.active), None)
    if found is None:
        raise Skipped(f"the ticket's category has no field {key}")
    try:
        cleaned = categories.clean_value(found, action.get("value") or None, require=False)
    except DomainError as exc:
        raise Skipped(f"{key}: {exc.message}") from None
    current = next((v for v in ticket.field_values if v.field_id == found.id), None)
    old = current.value if current else None
    if cleaned is None and current is not None:
        ticket.field_values.remove(current)
    elif current is None and cleaned is not None:
        ticket.field_values.append(TicketFieldValue(field=found, value=cleaned))
    elif current is not None:
        current.value = cleaned
    _event(acting, "field_changed", key[:32], old, cleaned)
    return f"{key} -> {cleaned}"


def _set_sla_plan(acting: Acting, action: dict) -> str:
    _event(acting, "sla_plan_changed", "sla_plan", acting.ticket.sla_plan, action["value"])
    acting.ticket.sla_plan = action["value"]
    sla.refresh(acting.session, acting.ticket, acting.now)
    return f"SLA plan -> {action['value']}"


def _add_tags(acting: Acting, action: dict) -> str:
    added = [tag for tag in action["value"] if tag not in acting.ticket.tag_names]
    for tag in added:
        acting.ticket.tags.append(TicketTag(tag=tag))
        _event(acting, "tag_added", "tags", None, tag)
    return "tags + " + ", ".join(added)


def _remove_tags(acting: Acting, action: dict) -> str:
    removed = [row for row in acting.ticket.tags if row.tag in action["value"]]
    for row in removed:
        acting.ticket.tags.remove(row)
        _event(acting, "tag_removed", "tags", row.tag, None)
    return "tags - " + ", ".join(row.tag for row in removed)


def _postpone(acting: Acting, action: dict) -> str:
    until = acting.now + timedelta(hours=action["value"])
    try:
        postpone.postpone_by_rule(acting.session, acting.ticket, until, now=acting.now)
    except DomainError as exc:  # solved or closed: the status table refuses it
        raise Skipped(f"postpone refused: {exc.message}") from None
    return f"postponed until {until.isoformat(timespec='minutes')} UTC"


def _values(acting: Acting) -> dict[str, object]:
    return ticket_values(acting.ticket, url=acting.ticket_url, rule_name=acting.rule_name)


def _add_note(acting: Acting, action: dict) -> str:
    body = fill(action["body"], _values(acting)).strip() or acting.rule_name
    tickets.add_message(acting.session, acting.ticket, body=body, author=None, public=False, now=acting.now)
    return "private note"


def _send_email(acting: Acting, action: dict) -> str:
    """One outbox row per recipient, in their language; the dispatcher fills the placeholders when it sends."""
    rows = []
    for email, user, language in _recipients(acting, action):
        rows.append(Notification(
            ticket=acting.ticket, recipient_email=email, recipient=user, kind="rule_email", language=language,
            context={"rule_id": acting.rule_id, "rule": acting.rule_name, "subject": action[f"subject_{language}"],
                     "body": action[f"body_{language}"]},
            status="queued", attempts=0, created_at=acting.now))
    if not rows:
        raise Skipped(f"nobody to e-mail ({action['to']})")
    acting.session.add_all(rows)
    acting.session.info.setdefault("queued_notifications", []).extend(rows)
    return "e-mail to " + ", ".join(row.recipient_email for row in rows)


def _recipients(acting: Acting, action: dict) -> list[tuple[str, User | None, str]]:
    ticket = acting.ticket

    def language(user: User | None) -> str:
        # A customer (or a fixed address) reads about the ticket in the ticket's language, like every other
        # mail to the customer; an agent in their own.
        own = user.locale if user else None
        for candidate in ((own, ticket.language) if user is not None and user.is_agent else (ticket.language, own)):
            if candidate in LANGUAGES:
                return candidate
        return "en"

    to = action["to"]
    if to == "address":
        return [(action["address"], None, language(None))]
    if to == "requester":
        people = [ticket.requester]
    elif to == "assignee":
        people = [acting.session.get(User, ticket.assignee_id)] if ticket.assignee_id else []
    else:
        group = acting.session.get(Group, ticket.group_id) if ticket.group_id else None
        people = [m for m in (group.members if group else []) if m.is_agent]
    return [(p.email, p, language(p)) for p in people if p is not None and p.active and p.email]


def _call_webhook(acting: Acting, action: dict) -> str:
    endpoint = acting.session.get(WebhookEndpoint, action["value"])
    if endpoint is None:
        raise Skipped(f"webhook {action['value']} no longer exists")
    acting.session.flush()  # the payload reads the ticket as the rules left it
    webhooks.queue_for_rule(acting.session, endpoint, acting.ticket, rule_name=acting.rule_name, now=acting.now)
    return f"webhook {endpoint.url}"


def _add_public_message(acting: Acting, action: dict) -> str:
    """A public reply from nobody in particular, in the ticket's language; the customer gets it by e-mail (in the
    status mail when the same rule just changed the status: one e-mail, not two)."""
    ticket = acting.ticket
    language = ticket.language if ticket.language in LANGUAGES else "en"
    body = fill(action[f"body_{language}"], _values(acting)).strip()
    if not body:
        raise Skipped(f"no message in {language}")
    message = tickets.add_message(acting.session, ticket, body=body, author=None, public=True, now=acting.now)
    notifications.public_reply_added(acting.session, ticket, message, now=acting.now)
    return f"public reply ({language})"


def _send_pending_reminder(acting: Acting, action: dict) -> str:
    """The customer is reminded that we wait for them: the reminder e-mail, and the event that says it went out
    in this pending period (the condition "reminder sent" reads it)."""
    ticket = acting.ticket
    if ticket.status != "pending":
        raise Skipped("the ticket is not pending")
    acting.session.add(TicketEvent(ticket=ticket, actor_id=None, created_at=acting.now, kind=REMINDER_EVENT,
                                   field=None, old_value=None, new_value=None, rule_id=acting.rule_id))
    days = max(0, (acting.now - ticket.status_changed_at).days)
    notifications.pending_reminder(acting.session, ticket, days=days, now=acting.now)
    return f"pending reminder ({days} days)"


_DO = {
    "set_status": _set_status, "set_priority": _set_priority, "set_group": _set_group,
    "set_assignee": _set_assignee, "set_category": _set_category, "set_language": _set_language,
    "set_field": _set_field, "set_sla_policy": _set_sla_plan, "add_tags": _add_tags, "remove_tags": _remove_tags,
    "add_note": _add_note, "send_email": _send_email, "call_webhook": _call_webhook, "postpone": _postpone,
}


# ---- Apply a macro ----------------------------------------------------------------------------------------
# One "apply a macro" stands for the macro's own actions (the rules' vocabulary, so each runs above as a rule's
# would: system actor, skipped when it does not apply, counted by the loop check) and then its reply
# ("macro_reply", an internal step no rule names). The macro is read when the rule fires: an edit counts at once,
# and a macro deleted or made personal since raises MacroUnusable, which the engine turns into a disabled rule.


def steps(session: Session, action: dict, *, strict: bool = True) -> list[dict]:
    """The actions one action stands for: itself, or a macro's actions then its reply. With `strict` False an
    unusable macro stands for nothing (for the loop check and "Test this rule", which must not fail)."""
    if action["type"] != "apply_macro":
        return [action]
    from portal.services import macros  # macros builds on this module

    try:
        macro = macros.get_for_rule(session, action["value"])
    except MacroUnusable:
        if strict:
            raise
        return [{"type": "macro_reply", "value": action["value"]}]
    return [*macro.actions, {"type": "macro_reply", "value": macro.id}]


def _macro_reply(acting: Acting, action: dict) -> str | None:
    from portal.services import macros

    macro = macros.get_for_rule(acting.session, action["value"])
    sent = macros.reply_by_rule(acting.session, acting.ticket, macro, url=acting.ticket_url,
                                rule_name=acting.rule_name, now=acting.now)
    return f"macro {macro.title!r}: public reply" if sent is not None else None


def _macro_preview(session: Session, action: dict, ticket: Ticket) -> Said:
    from portal.services import macros

    try:
        macro = macros.get_for_rule(session, action["value"])
    except MacroUnusable as gone:
        return Said(N_("Would fail: the macro it applies is personal now; a rule can only apply shared macros.")
                    if gone.personal else N_("Would fail: the macro it applies no longer exists."))
    if ticket.status == "closed":
        return Said(N_("Would do nothing: the ticket is closed."))
    reply = macros.reply_for(macro, ticket, None)
    if not reply:
        return Said(N_("Would apply the macro \u201c%(title)s\u201d (it has no reply)."), {"title": macro.title})
    return Said(N_("Would reply in public with the macro \u201c%(title)s\u201d: %(reply)s"),
                {"title": macro.title, "reply": reply[:300]})


_DO["macro_reply"] = _macro_reply
_DO.update({"add_public_message": _add_public_message, "send_pending_reminder": _send_pending_reminder})
