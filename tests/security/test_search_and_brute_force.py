"""Search syntax abuse never crashes the search (Whoosh query syntax, control characters, huge input), and
password guessing runs into the login rate limits, per IP and per account."""

from __future__ import annotations

import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import person

HOSTILE_QUERIES = [
    "title:*", "*", "?", "*:*", '"unbalanced', "unbalanced\"", "((((", "))))", "AND OR NOT", "NOT", "AND",
    "a AND", "OR b", "title:", ":", "path:/etc/passwd", "lang:es OR lang:en", "section:*", "router~", "router~99",
    "router^999999999", "[a TO z]", "{a TO}", "a\\", "\\", "'", "%", "%00", "\x00", "\x01\x02\x1b[31m", "\u202e",
    "router\x00wifi", "🙂", "<script>alert(1)</script>", "{{7*7}}", "a" * 5000, "router " * 400, "\t\n\r",
    "title:(a OR (b AND", "content:'x'", "*invoice*", "inv*", "=", "-", "+", "!", "&&", "||",
]


@pytest.mark.parametrize("endpoint", ["/kb/search", "/api/v1/kb/search"])
def test_hostile_queries_get_results_or_a_clear_message(app, world, endpoint):
    client = app.test_client()
    failures = []
    for query in HOSTILE_QUERIES:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(endpoint, query_string={"q": query}, headers=headers)
            unexplained = endpoint.startswith("/api") and response.status_code == 400
            if response.status_code not in (200, 400):
                failures.append(f"{query[:40]!r}: {response.status_code}")
            elif unexplained and not response.get_json()["error"]["message"]:
                failures.append(f"{query[:40]!r}: 400 without a message")
    assert not failures, "\n".join(failures)


def test_agents_search_and_the_ticket_list_search_survive_the_same(app, world):
    agent, alice = app.test_client(), app.test_client()
    from tests.conftest import login

    login(agent, world.users["agent"])
    login(alice, world.users["alice"])
    for query in HOSTILE_QUERIES:
        for client, path in ((alice, "/tickets"), (agent, "/agent"), (alice, "/tickets/suggestions"),
                             (agent, "/agent/knowledge")):
            response = client.get(path, query_string={"q": query})
            assert response.status_code < 500, f"{path} {query[:40]!r}: {response.status_code}"
            if "\x00" in query:
                assert response.status_code == 400 and "could not be understood" in response.text


# ---- Brute force ----


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_RATE_LIMIT": "5 per minute"}


WRONG_PASSWORD = "wrong-password-1"


def guess(client, email: str, password: str = WRONG_PASSWORD, ip: str = "203.0.113.7"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


def test_one_ip_guessing_many_accounts_is_stopped(app, db):
    alice = person(db, "alice@example.com", "Alice")
    client = app.test_client()
    answers = [guess(client, f"victim{n}@example.com").status_code for n in range(5)]
    assert answers == [422] * 5
    blocked = guess(client, alice.email, DEFAULT_PASSWORD)
    assert blocked.status_code == 429 and "Too many requests" in blocked.text
    assert "Retry-After" in blocked.headers
    # Someone else, elsewhere, still logs in.
    assert guess(app.test_client(), alice.email, DEFAULT_PASSWORD, ip="198.51.100.9").status_code == 303


def test_many_ips_guessing_one_account_are_stopped(app, db):
    alice = person(db, "alice@example.com", "Alice")
    person(db, "bob@example.com", "Bob")
    answers = [guess(app.test_client(), alice.email, ip=f"192.0.2.{n}").status_code for n in range(5)]
    assert answers == [422] * 5
    # Even the right password from a fresh address is refused while the account is under attack...
    assert guess(app.test_client(), alice.email, DEFAULT_PASSWORD, ip="192.0.2.200").status_code == 429
    # ... whatever case the address is typed in.
    assert guess(app.test_client(), "ALICE@Example.com ", DEFAULT_PASSWORD, ip="192.0.2.201").status_code == 429
    # Other accounts are not affected.
    assert guess(app.test_client(), "bob@example.com", DEFAULT_PASSWORD, ip="192.0.2.202").status_code == 303


def test_password_reset_requests_are_limited_too(app, db):
    person(db, "alice@example.com", "Alice")
    client = app.test_client()
    statuses = [client.post("/forgot-password", data={"email": "alice@example.com"}).status_code for _ in range(6)]
    assert statuses == [303] * 5 + [429]


def test_a_nul_character_in_any_form_is_refused_clearly_on_every_database(app, world):
    """PostgreSQL cannot store NUL: such input gets a 400 at the door, never a 500 from the database."""
    from tests.conftest import login

    alice = app.test_client()
    login(alice, world.users["alice"])
    for path, data in (("/tickets", {"subject": "Hi\x00", "description": "x"}),
                       (f"/tickets/{world.ticket.ref}/replies", {"body": "a\x00b"}),
                       ("/account", {"name": "Alice\x00", "locale": ""})):
        response = alice.post(path, data=data)
        assert response.status_code == 400, path
        assert "The request could not be understood" in response.text
    api = app.test_client().get("/api/v1/kb/search", query_string={"q": "router\x00"})
    assert api.status_code == 400 and api.get_json()["error"]["message"]
