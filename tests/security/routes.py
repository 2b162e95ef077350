"""Filling any route of `app.url_map` with real seeded values, for the matrix and the CSRF sweep."""

from __future__ import annotations

import pytest

# Endpoints the security sweeps deliberately leave out, each with its reason. Empty today: every route can be filled.
NOT_IN_MATRIX: dict[str, str] = {}


def arguments_for(rule, world, role: str = "agent") -> dict[str, object]:
    """Fill a route's parameters from the seeded world, so the request reaches A's real data."""
    by_endpoint = {
        ("satisfaction.rating_link", "token"): world.rating_token,
        ("satisfaction.ticket_link", "token"): world.action_token,
        ("auth.reset_password", "token"): world.reset_token,
        ("auth.confirm_address", "token"): world.extra.get("confirm_token"),
        ("api_kb.article", "path"): "en/billing/read-your-invoice.md",
        ("static", "filename"): "portal.css",
    }
    by_name = {
        "ref": world.ticket.ref, "attachment_id": world.attachment_id, "cc_id": world.cc_id,
        "draft_id": world.draft_id,
        # Agents edit their own canned answers, admins the shared ones.
        "canned_id": world.shared_canned_id if role == "admin" else world.canned_id, "group_id": world.group_id,
        # Macros likewise: an agent's own personal one, the admin a shared one.
        "macro_id": world.extra.get("shared_macro_id" if role == "admin" else "macro_id"),
        "calendar_id": world.calendar_id, "holiday_id": world.holiday_id, "category_id": world.category_id,
        "field_id": world.field_id, "policy_id": world.policy_id, "status_id": world.status_id,
        "user_id": world.spare_user_id, "path": "en/billing/read-your-invoice.md", "change": "archive",
        "article_path": "en/billing/read-your-invoice",
    }
    values = {}
    for name in rule.arguments:
        if (rule.endpoint, name) in by_endpoint:
            values[name] = by_endpoint[(rule.endpoint, name)]
        elif name in by_name:
            values[name] = by_name[name]
        elif name in world.extra:
            values[name] = world.extra[name]
        else:
            pytest.fail(f"The authorisation matrix cannot fill <{name}> of {rule.rule} ({rule.endpoint}): "
                        f"seed it in tests/security/conftest.py `world` and map it in arguments_for, "
                        f"or list the route in NOT_IN_MATRIX with a reason")
    return values


# What a request needs beyond its URL to reach the code behind the check (the same for every role).
QUERY = {"api_kb.search": {"q": "invoice"}, "admin_rules_editor.row": {"actions.0.type": "add_tags"}}
FORM = {"tickets.deflect": {"article": "en/billing/read-your-invoice.md"}}


def sweep_order(method: str, rule: str) -> tuple:
    """GETs first, then POSTs, and the POSTs that remove or hide what later requests point at last."""
    destructive = any(word in rule for word in ("delete", "deactivate", "/status/", "archive", "/merge", "logout"))
    # Confirming an address logs its owner in: whatever came after would be sent as somebody else.
    logs_in = rule == "/confirm/<token>"
    return (method != "GET", destructive or logs_in, logs_in, rule == "/logout", rule)
