"""Display names for things stored as identifiers, in the reader's language."""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale, gettext

from portal.errors import N_
from portal.extensions import request_translations
from portal.views.when import when

# The knowledge base's folders are identifiers; readers see these names. Unknown folders are prettified.
SECTION_LABELS = {
    "account": N_("Account"),
    "billing": N_("Billing"),
    "connection": N_("Connection"),
    "devices": N_("Devices"),
    "privacy": N_("Privacy"),
    "mobile": N_("Mobile"),
}
# What each section holds, for its card on the help center's home. A section without one shows none.
SECTION_DESCRIPTIONS = {
    "account": N_("Sign in, passwords, two-step verification and your details."),
    "billing": N_("Invoices, payments, plans and refunds."),
    "connection": N_("Internet down or slow, Wi-Fi, fibre and 5G home internet."),
    "devices": N_("Routers, SIM and eSIM, and setting up your devices."),
    "privacy": N_("Your data, and how to spot and report fraud."),
    "mobile": N_("Calls, mobile data, roaming and your number."),
}
# The icon of each section's card (a symbol of static/icons.svg); other sections get the book.
SECTION_ICONS = {"account": "account", "billing": "billing", "connection": "connection", "devices": "devices",
                 "privacy": "privacy", "mobile": "mobile"}
# An article's language, named in the reader's language: a Spanish reader sees "Inglés" on an English article.
LANGUAGE_LABELS = {"en": N_("English"), "es": N_("Spanish")}


def section_label(section: str | None) -> str:
    """`connection` → "Connection" / "Conexión"; `guides/setup` → "Setup"."""
    if not section:
        return ""
    last = section.rstrip("/").split("/")[-1]
    if last in SECTION_LABELS:
        return request_translations().ugettext(SECTION_LABELS[last])  # once per result listed: the quick way
    return last.replace("-", " ").replace("_", " ").capitalize()


def section_description(section: str | None) -> str:
    """One line saying what a top-level section holds, in the reader's language; "" when we know none."""
    key = (section or "").strip("/").split("/")[0]
    return request_translations().ugettext(SECTION_DESCRIPTIONS[key]) if key in SECTION_DESCRIPTIONS else ""


def section_icon(section: str | None) -> str:
    """The id of the section's icon in static/icons.svg."""
    return SECTION_ICONS.get((section or "").strip("/").split("/")[0], "book")


def language_label(lang: str | None) -> str:
    """`en` → "English" / "Inglés"; an unknown code is shown as it is, in capitals."""
    if lang in LANGUAGE_LABELS:
        return request_translations().ugettext(LANGUAGE_LABELS[lang])
    return (lang or "").upper()


# A change made by a business rule, in the timeline: "Rule “VIP routing” set the priority to High".
RULE_EVENT_TEXTS = {
    "priority": N_("Rule “%(rule)s” set the priority to %(value)s"),
    "status": N_("Rule “%(rule)s” set the status to %(value)s"),
    "group_id": N_("Rule “%(rule)s” moved the ticket to the group %(value)s"),
    "assignee_id": N_("Rule “%(rule)s” assigned the ticket to %(value)s"),
    "category_id": N_("Rule “%(rule)s” set the category to %(value)s"),
    "language": N_("Rule “%(rule)s” set the language to %(value)s"),
    "sla_plan": N_("Rule “%(rule)s” set the SLA plan to %(value)s"),
    "tag_added": N_("Rule “%(rule)s” added the tag %(value)s"),
    "tag_removed": N_("Rule “%(rule)s” removed the tag %(value)s"),
    "postponed_until": N_("Rule “%(rule)s” postponed the ticket until %(value)s"),
    "pending_reminder_sent": N_("Rule “%(rule)s” reminded the customer that we are waiting for their reply"),
}
RULE_FIELD_TEXT = N_("Rule “%(rule)s” set %(field)s to %(value)s")


def rule_event_text(event, names: dict | None = None, groups=()) -> str:
    """One line for an event a rule made, values named in the reader's language (ids become names)."""
    from portal.services.rules import catalog

    value = event.new_value
    labels = {"priority": dict(catalog.PRIORITY_CHOICES), "status": dict(catalog.STATUS_CHOICES),
              "language": dict(catalog.LANGUAGE_CHOICES), "sla_plan": dict(catalog.PLAN_CHOICES)}.get(event.field)
    if labels and value in labels:
        value = gettext(labels[value])
    elif event.field == "assignee_id" and value:
        value = (names or {}).get(int(value), value)
    elif event.field == "group_id" and value:
        value = next((g.name for g in groups if str(g.id) == value), value)
    elif event.field == "category_id" and value:
        category = getattr(event.ticket, "category", None)
        value = category.name(str(get_locale() or "en")) if category is not None and str(category.id) == value \
            else value
    elif event.field == "postponed_until" and value:
        value = postponed_time(value)
    key = event.kind if event.kind in ("tag_added", "tag_removed", "pending_reminder_sent") else event.field
    text = RULE_EVENT_TEXTS.get(key, RULE_FIELD_TEXT)
    rule_name = event.rule.name if event.rule is not None else "?"
    shown = value if value is not None else (event.old_value or "—")
    return gettext(text, rule=rule_name, value=shown, field=event.field or event.kind)


def postponed_time(iso: str | None) -> str:
    """A time stored in an event (UTC, ISO) as the timeline shows it: "9 Dec, 10:00" in the portal's time zone."""
    try:
        return when(datetime.fromisoformat(iso or ""))
    except ValueError:
        return iso or "—"
