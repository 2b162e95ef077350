"""Placeholders in a rule's e-mail and note texts: `{{ ticket.ref }}`, `{{ requester.name }}` ... replaced by
plain values, nothing else. No template language runs an admin's text, so it can do nothing but read these
values; HTML escaping is the mail template's business, which receives the result as text."""

from __future__ import annotations

from collections.abc import Mapping

from portal.services.rules.validation import PLACEHOLDER_RE


def fill(text: str, values: Mapping[str, object]) -> str:
    """`text` with each known placeholder replaced; an unknown one (validation refuses them) stays as written."""
    def replace(match) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None and match.group(1) not in values else str(value or "")

    return PLACEHOLDER_RE.sub(replace, text or "")


def ticket_values(ticket, *, url: str, rule_name: str = "") -> dict[str, object]:
    """The values every placeholder stands for, for one ticket."""
    requester, assignee, group = ticket.requester, ticket.assignee, ticket.group
    return {
        "ticket.ref": ticket.ref,
        "ticket.subject": ticket.subject,
        "ticket.url": url,
        "ticket.status": ticket.status,
        "ticket.priority": ticket.priority,
        "requester.name": requester.name if requester else "",
        "requester.email": requester.email if requester else "",
        "assignee.name": assignee.name if assignee else "",
        "group.name": group.name if group else "",
        "rule.name": rule_name,
    }
