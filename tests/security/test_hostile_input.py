"""Numbers past the database's range and JSON nested past any sense, sent to every route: each gets a clear 4xx,
never a 500. Built from `app.url_map`, so a route added later is swept too.

Every id column is a 32-bit INTEGER on PostgreSQL (2**31 - 1); SQLite's driver overflows past 2**63. Run this
file with TEST_DATABASE_URL as well: 2**31 only crashes there."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from portal.integers import DB_INT_MAX
from tests.security.routes import FORM, NOT_IN_MATRIX, arguments_for, sweep_order
from tests.security.test_csrf import login_with_token

HUGE = "1" + "0" * 30
# Past every integer column, past SQLite's 64 bits, past Python's 4,300-digit int() limit, not ASCII digits.
BAD_NUMBERS = (HUGE, "-1", "0", str(2**31), str(2**63), str(2**64), "9" * 5000, "١٢", "²", "1.5", " 7")
SENTINEL = 987654321
INT_PARAMETER = re.compile(r"<int:(\w+)>")
HTMX_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
ROLES = ("anonymous", "alice", "agent", "admin")
DEEP_JSON = ("[" * 50_000, '{"a":' * 50_000, '{"a": ' + "[" * 33 + "]" * 33 + "}")


def _client(app, world, role: str):
    """A client that sends a real CSRF token (X-CSRFToken, as htmx does) and, under /api/, the role's token."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    headers: dict[str, str] = {}
    if role != "anonymous":
        login_with_token(client, world.users[role])
    headers["X-CSRFToken"] = HTMX_TOKEN.search(client.get("/").text).group(1)
    return client, headers


def may_write(role: str, rule: str) -> bool:
    """Whether the role reaches the body at all (a customer's or agent's POST /api/v1/users is a 403 first)."""
    return role != "anonymous" and (role == "admin" or rule != "/api/v1/users")


def _api_headers(db, world, role: str) -> dict[str, str]:
    from tests.web.api_support import bearer, token_for

    return {} if role == "anonymous" else bearer(token_for(db, world.users[role], name=f"{role} sweep"))


def _swept_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in NOT_IN_MATRIX),
                  key=lambda r: sweep_order("POST" if "POST" in r.methods else "GET", r.rule))


def _url(app, rule, world, role: str, **override: object) -> str:
    adapter = app.url_map.bind("portal.test")
    return adapter.build(rule.endpoint, {**arguments_for(rule, world, role), **override})


@pytest.mark.parametrize("role", ROLES)
def test_an_integer_route_parameter_out_of_range_is_not_found(app, db, world, role):
    """`/api/v1/users/10**30`, `/admin/groups/-1`, `/agent/drafts/²`...: the same 404 as a missing id."""
    client, headers = _client(app, world, role)
    api = _api_headers(db, world, role)
    failures, checked = [], 0
    for rule in _swept_rules(app):
        for name in INT_PARAMETER.findall(rule.rule):
            template = _url(app, rule, world, role, **{name: SENTINEL})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                sent = {**headers, **(api if rule.rule.startswith("/api/") else {})}
                for bad in BAD_NUMBERS:
                    url = template.replace(str(SENTINEL), quote(bad))
                    with client.open(url, method=method, headers=sent) as response:
                        if response.status_code != 404:
                            failures.append(f"{method} {url[:80]}: {response.status_code}")
                    checked += 1
                # The largest id a column holds, missing: it reaches the services and is refused as missing.
                url = template.replace(str(SENTINEL), str(DB_INT_MAX))
                with client.open(url, method=method, headers=sent) as response:
                    if response.status_code >= 500:
                        failures.append(f"{method} {url}: {response.status_code}")
    assert not failures, f"{role}:\n" + "\n".join(failures)
    assert checked > 300


# Query parameters read as numbers, by the role that reaches the code reading them.
QUERY_NUMBERS: list[tuple[str, str, str]] = [
    ("alice", "/tickets", "page"),
    ("anonymous", "/kb/search?q=invoice", "page"),
    ("anonymous", "/kb/en/billing/read-your-invoice", "from"),
    ("anonymous", "/api/v1/kb/search?q=invoice", "limit"),
    ("admin", "/admin/users", "page"),
    ("agent", "/agent/knowledge", "days"),
    ("agent", "/agent", "category"),
    ("agent", "/agent", "group"),
    ("agent", "/agent", "assignee"),
    ("agent", "/agent", "view"),
    ("agent", "/agent", "cursor"),
    ("agent", "/agent/tickets/new", "customer"),
    ("alice", "/tickets/new", "category"),
    ("alice", "/tickets/new/fields", "category"),
    ("agent", "/api/v1/tickets", "limit"),
    ("agent", "/api/v1/tickets", "assignee"),
    ("agent", "/api/v1/tickets", "group"),
    ("agent", "/api/v1/tickets", "cursor"),
    ("admin", "/agent/reports", "preset"),
    ("admin", "/agent/reports", "group"),
    ("admin", "/agent/reports", "category"),
]


@pytest.mark.parametrize(("role", "path", "name"), QUERY_NUMBERS, ids=[f"{p}?{n}" for _r, p, n in QUERY_NUMBERS])
def test_an_integer_query_parameter_out_of_range_is_refused_or_ignored(app, db, world, role, path, name):
    client, headers = _client(app, world, role)
    if path.startswith("/api/"):
        headers = {**headers, **_api_headers(db, world, role)}
    for bad in (*BAD_NUMBERS, "group:" + HUGE, "0~~" + HUGE, str(DB_INT_MAX)):
        url = f"{path}{'&' if '?' in path else '?'}{name}={quote(bad)}"
        with client.get(url, headers=headers) as response:
            assert response.status_code < 500, f"{url[:100]}: {response.status_code}"
            if name in ("page", "limit") and bad != str(DB_INT_MAX):
                assert response.status_code in (400, 422), f"{url[:100]}: {response.status_code}"


# Every form field the web desk and the admin pages read as a number (hidden inputs included), sent at once.
INTEGER_FIELDS = ("version", "seen", "capacity", "position", "first_reply", "next_reply", "resolution", "tier",
                  "group_id", "calendar_id", "canned", "canned_id", "category", "customer", "members", "refs",
                  "status_id", "custom_status", "value", "assignee", "group", "problem", "into", "target")


@pytest.mark.parametrize("role", ["alice", "agent", "admin"])
def test_every_form_with_integers_out_of_range_answers_without_crashing(app, db, world, role):
    """Each POST route, with every integer-looking field past the column's range, a valid CSRF token, and the
    desk's side-panel fields (assignee, group, a custom field) aimed at the same numbers."""
    client, headers = _client(app, world, role)
    failures = []
    for rule in _swept_rules(app):
        if "POST" not in rule.methods or rule.rule.startswith("/api/") or rule.rule == "/logout":
            continue
        url = _url(app, rule, world, role)
        for bad in (HUGE, str(2**31), "²"):
            forms = [{**FORM.get(rule.endpoint, {}), **dict.fromkeys(INTEGER_FIELDS, bad)}]
            if rule.endpoint == "agent.fields":
                forms = [{"field": field, "value": bad, "version": bad}
                         for field in ("assignee", "group", f"field:{bad}", f"field:{world.field_id}")]
            for data in forms:
                with client.post(url, data=data, headers=headers) as response:
                    if response.status_code >= 500:
                        failures.append(f"POST {url} {sorted(data)[:3]}={bad[:12]}: {response.status_code}")
    assert not failures, f"{role}:\n" + "\n".join(failures)


@pytest.mark.parametrize("role", ["anonymous", "alice", "agent", "admin"])
def test_deep_or_odd_json_to_any_route_is_a_clear_4xx(app, db, world, role):
    """50,000 `[`, `{"a":` nested 50,000 times, or 34 levels: 400 from the API (its JSON error shape) and from
    any form the body reaches. JSON that is not an object is refused too. Nothing answers 500."""
    client, headers = _client(app, world, role)
    api = _api_headers(db, world, role)
    failures, api_checked = [], 0
    for rule in _swept_rules(app):
        if rule.rule == "/logout":
            continue
        url = _url(app, rule, world, role)
        is_api = rule.rule.startswith("/api/")
        sent = {**headers, **(api if is_api else {})}
        for method in sorted(rule.methods & {"POST", "PATCH", "PUT"}):
            for body in (*DEEP_JSON, "[1, 2]", '"text"', "5", "null", '{"a": [1'):
                with client.open(url, method=method, data=body, content_type="application/json",
                                 headers=sent) as response:
                    status = response.status_code
                    if status >= 500:
                        failures.append(f"{method} {url} {body[:12]}: {status}")
                    elif is_api and may_write(role, rule.rule) and body in DEEP_JSON and (
                            status != 400 or response.json["error"]["code"] != "bad_request"):
                        failures.append(f"{method} {url} {body[:12]}: {status} {response.text[:80]}")
                    api_checked += is_api
    assert not failures, f"{role}:\n" + "\n".join(failures)
    assert api_checked >= 4 * 8


def test_a_json_body_larger_than_any_api_call_is_too_large(app, db, world):
    headers = _api_headers(db, world, "agent")
    body = '{"subject": "Big", "description": "' + "x" * (2 * 1024 * 1024) + '"}'
    response = app.test_client().post("/api/v1/tickets", data=body, content_type="application/json",
                                      headers=headers)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert "1 MB" in response.json["error"]["message"]


def test_a_trace_or_unknown_method_is_405_with_the_allowed_methods(app, db, world):
    """RFC 9110: a 405 lists what the URL accepts. Our error pages replaced Werkzeug's and dropped it."""
    client = app.test_client()
    headers = _api_headers(db, world, "agent")
    for url, allowed in ((f"/api/v1/tickets/{world.ticket.ref}", {"GET", "PATCH"}), ("/api/v1/users", {"POST"}),
                         ("/login", {"GET", "POST"})):
        for method in ("TRACE", "DELETE", "PUT"):
            response = client.open(url, method=method, headers=headers)
            assert response.status_code == 405, (method, url)
            assert allowed <= set(response.headers["Allow"].replace(" ", "").split(",")), (method, url)
