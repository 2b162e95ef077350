"""One sentence per ticket event, in the reader's language, with people, groups and values named.

The timeline stores what changed as identifiers ("group_id 1 → 2", "priority urgent → high"); agents read
"Agnes moved it from Billing to Network" / "Agnes la pasó de Facturación a Red". Every kind of event is
worded here and only here; the names come from services.timeline_names, read once for the whole timeline.
"""

from __future__ import annotations

from flask_babel import get_locale, gettext

from portal.errors import N_
from portal.models import TicketEvent
from portal.services.rules import catalog
from portal.services.timeline_names import TimelineNames
from portal.status import AGENT_LABELS
from portal.views.labels import RULE_EVENT_TEXTS, RULE_FIELD_TEXT, postponed_time

PRIORITY_LABELS = dict(catalog.PRIORITY_CHOICES)
CHANNEL_LABELS = dict(catalog.CHANNEL_CHOICES)
LANGUAGE_LABELS = dict(catalog.LANGUAGE_CHOICES)
PLAN_LABELS = dict(catalog.PLAN_CHOICES)

# Changes of one field from a value to another; "who" is a person, "The system" or a rule.
CHANGED = {
    "status": N_("%(who)s changed the status from %(old)s to %(new)s"),
    "priority": N_("%(who)s changed the priority from %(old)s to %(new)s"),
    "category_id": N_("%(who)s changed the category from %(old)s to %(new)s"),
    "language": N_("%(who)s changed the language from %(old)s to %(new)s"),
    "sla_plan": N_("%(who)s changed the SLA plan from %(old)s to %(new)s"),
}
# Events that say the same whatever their values.
PLAIN = {
    "created": N_("%(who)s created the ticket"),
    "sla_breached": N_("The SLA deadline passed"),
    "sla_warning": N_("The SLA deadline is near"),
    "pending_reminder_sent": N_("A reminder was sent to the customer"),
}


def channel_label(channel: str | None) -> str:
    """`email` → "E-mail" / "Correo electrónico"; an unknown channel as it is."""
    return gettext(CHANNEL_LABELS[channel]) if channel in CHANNEL_LABELS else (channel or "")


def priority_label(priority: str | None) -> str:
    return gettext(PRIORITY_LABELS[priority]) if priority in PRIORITY_LABELS else (priority or "")


def _lang() -> str:
    return str(get_locale() or "en")


def _person(names: TimelineNames, value: str | None) -> str:
    if not value:
        return gettext("nobody")
    if not value.isdigit():
        return value
    return names.people.get(int(value)) or gettext("a deleted user")


def _group(names: TimelineNames, value: str | None) -> str:
    if not value:
        return gettext("no group")
    if not value.isdigit():
        return value
    return names.groups.get(int(value)) or gettext("a deleted group")


def _category(names: TimelineNames, value: str | None) -> str:
    if not value:
        return gettext("no category")
    category = names.categories.get(int(value)) if value.isdigit() else None
    return category.name(_lang()) if category else gettext("a deleted category")


def _value(names: TimelineNames, event: TicketEvent, value: str | None) -> str:
    """A stored value as the reader knows it: "Urgent", "Spanish", "Billing"."""
    match event.field:
        case "status":
            return gettext(AGENT_LABELS[value]) if value in AGENT_LABELS else (value or "—")
        case "priority":
            return priority_label(value) or "—"
        case "language":
            return gettext(LANGUAGE_LABELS[value]) if value in LANGUAGE_LABELS else (value or "").upper() or "—"
        case "sla_plan":
            return gettext(PLAN_LABELS[value]) if value in PLAN_LABELS else (value or gettext("none"))
        case "category_id":
            return _category(names, value)
        case "group_id":
            return _group(names, value)
        case "assignee_id":
            return _person(names, value)
        case "postponed_until":
            return postponed_time(value) if value else "—"
    return value or "—"


def _who(names: TimelineNames, event: TicketEvent) -> str:
    if event.rule_id:
        rule = names.rules.get(event.rule_id)
        return gettext("Rule “%(rule)s”", rule=rule) if rule else gettext("A deleted rule")
    if event.actor_id:
        return names.people.get(event.actor_id) or gettext("A deleted user")
    return gettext("The system")


def event_sentence(event: TicketEvent, names: TimelineNames) -> str:
    """What happened, as an agent reads it in the timeline (plain text: the template escapes it)."""
    who, kind = _who(names, event), event.kind
    old, new = event.old_value, event.new_value
    if event.rule_id:
        return _rule_sentence(event, names)
    if kind in PLAIN:
        return gettext(PLAIN[kind], who=who)
    if kind == "postponed":
        return gettext("%(who)s postponed it until %(when)s", who=who, when=postponed_time(new))
    if kind == "postpone_ended":
        return gettext("%(who)s brought it back from postponement", who=who)
    if event.field in CHANGED:
        return gettext(CHANGED[event.field], who=who, old=_value(names, event, old), new=_value(names, event, new))
    if event.field == "assignee_id":
        if not new:
            return gettext("%(who)s unassigned it", who=who)
        if event.actor_id and str(event.actor_id) == new and not event.rule_id:
            return gettext("%(who)s took it", who=who)
        return gettext("%(who)s assigned it to %(name)s", who=who, name=_person(names, new))
    if event.field == "group_id":
        if not old:
            return gettext("%(who)s moved it to %(new)s", who=who, new=_group(names, new))
        if not new:
            return gettext("%(who)s took it out of %(old)s", who=who, old=_group(names, old))
        return gettext("%(who)s moved it from %(old)s to %(new)s", who=who, old=_group(names, old),
                       new=_group(names, new))
    return _other(event, names, who)


def _rule_sentence(event: TicketEvent, names: TimelineNames) -> str:
    """A rule sets a value: "Rule “VIP routing” set the priority to High" (what it was before is beside it)."""
    rule = names.rules.get(event.rule_id or 0) or gettext("a deleted rule")
    key = event.kind if event.kind in ("tag_added", "tag_removed", "pending_reminder_sent") else event.field
    if event.kind == "field_changed":
        custom = names.fields.get(event.field or "")
        field = custom.name(_lang()) if custom else (event.field or "")
        value = custom.option(event.new_value, _lang()) if custom and event.new_value else event.new_value
    else:
        field = (event.field or event.kind or "").replace("_id", "").replace("_", " ")
        value = event.new_value if key in ("tag_added", "tag_removed") else _value(names, event, event.new_value)
    shown = value if value else (event.old_value or "—")
    return gettext(RULE_EVENT_TEXTS.get(key or "", RULE_FIELD_TEXT), rule=rule, value=shown, field=field)


def _other(event: TicketEvent, names: TimelineNames, who: str) -> str:
    kind, old, new = event.kind, event.old_value, event.new_value
    if kind == "tag_added":
        return gettext("%(who)s added the tag %(tag)s", who=who, tag=new)
    if kind == "tag_removed":
        return gettext("%(who)s removed the tag %(tag)s", who=who, tag=old)
    if kind == "field_changed":
        return _field_sentence(event, names, who)
    if kind == "custom_status_changed":
        label = names.statuses.get(new or old or "")
        shown = label.name(_lang()) if label else (new or old)
        if new:
            return gettext("%(who)s set the status label to “%(label)s”", who=who, label=shown)
        return gettext("%(who)s removed the status label “%(label)s”", who=who, label=shown)
    if kind == "cc_added":
        return gettext("%(who)s added %(email)s in copy", who=who, email=new)
    if kind == "cc_removed":
        return gettext("%(who)s stopped copying %(email)s", who=who, email=old)
    if kind == "merged_in":
        return gettext("%(who)s merged %(ref)s into this ticket", who=who, ref=new)
    if kind == "merged_into":
        return gettext("%(who)s merged this ticket into %(ref)s", who=who, ref=new)
    if kind == "problem_linked":
        return gettext("%(who)s linked it to the problem %(ref)s", who=who, ref=new)
    if kind == "problem_unlinked":
        return gettext("%(who)s unlinked it from the problem %(ref)s", who=who, ref=old)
    if kind == "satisfaction_rated":
        rating = gettext("Good") if new == "good" else gettext("Bad") if new == "bad" else (new or "—")
        return gettext("%(who)s rated the support: %(rating)s", who=who, rating=rating)
    if kind == "attachment_refused":
        return gettext("%(who)s did not keep an e-mailed file: %(file)s", who=who, file=old)
    if kind == "mail_unverified":
        return gettext("%(who)s held an e-mail from %(address)s as a private note: it was not verified as the "
                       "agent's reply and was not sent to the customer", who=who, address=old)
    # A kind this module does not know yet still reads as a sentence, its field name made readable.
    field = (event.field or kind or "").replace("_id", "").replace("_", " ")
    return gettext("%(who)s changed %(field)s from %(old)s to %(new)s", who=who, field=field, old=old or "—",
                   new=new or "—")


def _field_sentence(event: TicketEvent, names: TimelineNames, who: str) -> str:
    """A custom field, by its label; a list's answers by their labels."""
    lang = _lang()
    custom = names.fields.get(event.field or "")
    label = custom.name(lang) if custom else (event.field or "").replace("_", " ")

    def shown(value: str | None) -> str:
        return custom.option(value, lang) if custom and value else (value or "")

    if not event.new_value:
        return gettext("%(who)s cleared “%(field)s”", who=who, field=label)
    if not event.old_value:
        return gettext("%(who)s set “%(field)s” to %(new)s", who=who, field=label, new=shown(event.new_value))
    return gettext("%(who)s changed “%(field)s” from %(old)s to %(new)s", who=who, field=label,
                   old=shown(event.old_value), new=shown(event.new_value))
