"""Every route × anonymous, customer A, customer B, agent and admin, built from `app.url_map`, so a route added
later is checked too. Expectations go by prefix (/admin/* admins only, /agent/* agents and admins, a customer's
ticket its requester and the agents); another customer gets 404 and learns nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.conftest import login
from tests.security.conftest import SECRET_BODY, SECRET_FILENAME, SECRET_SUBJECT
from tests.security.routes import FORM, NOT_IN_MATRIX, QUERY, arguments_for, sweep_order

ROLES = ("anonymous", "alice", "bob", "agent", "admin")
ALLOWED, LOGIN, NOT_FOUND, UNAUTHORISED, FORBIDDEN = "allowed", "login", "404", "401", "403"

_everyone = dict.fromkeys(ROLES, ALLOWED)
_logged_in = {**_everyone, "anonymous": LOGIN}
_requester_and_agents = {**_logged_in, "bob": NOT_FOUND}
_requester_only = {**_logged_in, "bob": NOT_FOUND, "agent": NOT_FOUND, "admin": NOT_FOUND}
# A signed e-mail link works without logging in; anyone else logged in is "not the requester": 404.
_signed_link = {**_requester_only, "anonymous": ALLOWED}

# First match wins. A rule is matched as Werkzeug writes it (`/tickets/<ref>/replies`).
POLICIES: list[tuple[str, dict[str, str]]] = [
    # A signed-in account without the role is told so (403 naming the area, views.access), the same answer for
    # every address under it, whether what it names exists or not; the rules services refuse agents by name.
    (r"^/admin(/|$)", {"anonymous": LOGIN, "alice": FORBIDDEN, "bob": FORBIDDEN, "agent": FORBIDDEN,
                       "admin": ALLOWED}),
    # Which sections need a second reviewer is an admin's decision, though the form sits on the agents' page.
    (r"^/agent/knowledge/sections$", {"anonymous": LOGIN, "alice": FORBIDDEN, "bob": FORBIDDEN,
                                      "agent": FORBIDDEN, "admin": ALLOWED}),
    (r"^/agent(/|$)", {"anonymous": LOGIN, "alice": FORBIDDEN, "bob": FORBIDDEN, "agent": ALLOWED,
                       "admin": ALLOWED}),
    (r"^/api/v1/kb/", _everyone),
    (r"^/api/v1/openapi\.json$", _everyone),
    # The API answers Bearer tokens only: a browser's session cookie must not authenticate it.
    (r"^/api/", dict.fromkeys(ROLES, UNAUTHORISED)),
    (r"^/(s|t)/<token>$", _signed_link),
    # Rating and confirming the solution speak for the requester: nobody else may do it for them.
    (r"^/tickets/<ref>/(satisfaction|confirm)$", _requester_only),
    (r"^/tickets/<ref>", _requester_and_agents),
    # An API token is its owner's alone, whoever else is logged in.
    (r"^/account/tokens/<int:token_id>", _requester_only),
    (r"^/(tickets|account)(/|$)", _logged_in),
    (r"^/kb/<path:article_path>", _everyone),
    (r"^/(|kb|kb/search|login|logout|register|register/check-email|confirm/<token>|forgot-password|"
     r"reset-password/<token>|language|healthz)$",
     _everyone),
    (r"^/static/", _everyone),
]

def policy_for(rule: str) -> dict[str, str]:
    for pattern, policy in POLICIES:
        if re.search(pattern, rule):
            return policy
    pytest.fail(f"No access policy for route {rule}: add its prefix to POLICIES in {__name__}")


@dataclass(frozen=True)
class Cell:
    method: str
    rule: str
    endpoint: str
    url: str
    expected: str


def matrix(app, world, role: str) -> list[Cell]:
    adapter = app.url_map.bind("portal.test")
    cells = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        url = adapter.build(rule.endpoint, {**arguments_for(rule, world, role), **QUERY.get(rule.endpoint, {})})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cells.append(Cell(method, rule.rule, rule.endpoint, url, policy_for(rule.rule)[role]))
    return sorted(cells, key=lambda c: sweep_order(c.method, c.rule))


def outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and re.match(r"^(https?://[^/]+)?/login(\?|$)", location):
        return LOGIN
    if response.status_code == 401 and "data-carried-login" in response.text:
        return LOGIN  # a POST with text in it: the login page itself, carrying the text (views/carried_forms.py)
    if response.status_code == 404:
        return NOT_FOUND
    if response.status_code == 401:
        return UNAUTHORISED
    if response.status_code == 403:
        return FORBIDDEN
    return f"status {response.status_code}"


def is_allowed(cell: Cell, response) -> bool:
    if outcome(response) in (LOGIN, NOT_FOUND, UNAUTHORISED) or response.status_code in (403, 405):
        return False
    if cell.method == "GET":
        return response.status_code < 400
    # An empty POST may be refused as invalid (400, 409, 410, 422), but never as "not yours" or by crashing.
    return response.status_code < 500


def check(cell: Cell, response) -> str | None:
    ok = is_allowed(cell, response) if cell.expected == ALLOWED else outcome(response) == cell.expected
    if not ok:
        return f"{cell.method} {cell.url}: expected {cell.expected}, got {outcome(response)}"
    if cell.expected in (NOT_FOUND, UNAUTHORISED, LOGIN, FORBIDDEN):
        leaked = [s for s in (SECRET_SUBJECT, SECRET_BODY, SECRET_FILENAME) if s in response.text]
        if leaked:
            return f"{cell.method} {cell.url}: the refusal reveals {leaked}"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_its_policy_says(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        login(client, world.users[role])
    failures = []
    for cell in matrix(app, world, role):
        data = FORM.get(cell.endpoint) if cell.method == "POST" else None
        with client.open(cell.url, method=cell.method, data=data) as response:
            failure = check(cell, response)
        if failure:
            failures.append(failure)
    assert not failures, f"{role}:\n" + "\n".join(failures)


def test_the_matrix_covers_every_route_with_a_policy(app, world):
    """Adding a route whose prefix has no policy, or whose parameters cannot be filled, fails here by name."""
    cells = matrix(app, world, "anonymous")
    covered = {c.rule for c in cells}
    every = {r.rule for r in app.url_map.iter_rules() if r.endpoint not in NOT_IN_MATRIX}
    assert covered == every
    assert len(cells) > 100


def test_another_customers_ticket_looks_exactly_like_a_missing_one(app, world):
    """Bob gets the same answer for Alice's ticket, file, CC and link as for ones that never existed."""
    bob = app.test_client()
    login(bob, world.users["bob"])
    adapter = app.url_map.bind("portal.test")
    compared = 0
    for rule in app.url_map.iter_rules():
        skipped_area = rule.rule.startswith(("/agent", "/admin", "/api"))  # bob is refused there anyway
        if "ref" not in rule.arguments or rule.endpoint in NOT_IN_MATRIX or skipped_area:
            continue
        values = arguments_for(rule, world)
        real = adapter.build(rule.endpoint, values)
        missing = adapter.build(rule.endpoint, {**values, "ref": "MSA-2222-2222"})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            with bob.open(real, method=method) as theirs, bob.open(missing, method=method) as nobodys:
                pass
            assert (theirs.status_code, nobodys.status_code) == (404, 404), f"{method} {real}"
            # the pages carry a CSRF token signed with the second it was made
            assert _without_csrf(theirs.text.replace(world.ticket.ref, "MSA-2222-2222")) == _without_csrf(
                nobodys.text), f"{method} {real}"
            compared += 1
    assert compared >= 9


def test_a_file_of_alice_is_not_reachable_through_bobs_own_ticket(app, db, make, world):
    bob = app.test_client()
    login(bob, world.users["bob"])
    own = make.ticket(requester=world.users["bob"], subject="Bob's own")
    with bob.get(f"/tickets/{own.ref}/attachments/{world.attachment_id}") as response:
        assert response.status_code == 404 and b"alice only" not in response.data


def test_a_file_on_a_private_note_is_for_agents_only(app, db, world):
    from tests.security.conftest import attach

    note_file = attach(app, db, world.ticket, world.users["agent"], filename="internal.txt", content=b"agents only",
                       public=False)
    url = f"/tickets/{world.ticket.ref}/attachments/{note_file.id}"
    alice, agent = app.test_client(), app.test_client()
    login(alice, world.users["alice"])
    login(agent, world.users["agent"])
    assert alice.get(url).status_code == 404
    assert "internal.txt" not in alice.get(f"/tickets/{world.ticket.ref}").text
    with agent.get(url) as download:
        assert download.data == b"agents only"


def test_internal_articles_are_for_agents_only(app, world):
    for role, status in (("anonymous", 404), ("alice", 404), ("bob", 404), ("agent", 200), ("admin", 200)):
        client = app.test_client()
        if role != "anonymous":
            login(client, world.users[role])
        page = client.get("/kb/en/account/refund-policy-for-agents")
        assert page.status_code == status, role
        if status == 404:
            assert "Refund policy" not in page.text
            assert "Refund policy" not in client.get("/kb/search?q=refund+supervisor").text


def test_an_empty_rating_is_refused_kindly_not_with_an_error_page(app, world):
    """Found by the matrix: the empty form's (lazy) error messages crashed the flash message."""
    alice = app.test_client()
    login(alice, world.users["alice"])
    response = alice.post(f"/tickets/{world.ticket.ref}/satisfaction", data={})
    assert response.status_code == 303
    assert "Choose Good or Bad." in alice.get(response.headers["Location"]).text


def test_someone_elses_email_link_looks_exactly_like_a_forged_one(app, world):
    """A rating or confirm link opened by another logged-in person says nothing about the ticket."""
    bob = app.test_client()
    login(bob, world.users["bob"])
    for token in (world.rating_token, world.action_token):
        prefix = "/s/" if token == world.rating_token else "/t/"
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        for method in ("GET", "POST"):
            theirs = bob.open(prefix + token, method=method, data={"rating": "good", "reason": "x"})
            nobodys = bob.open(prefix + forged, method=method, data={"rating": "good", "reason": "x"})
            assert theirs.status_code == nobodys.status_code == 404, f"{method} {prefix}"
            # the page's own URL is echoed; the CSRF token carries the second it was made in
            assert _without_csrf(theirs.text.replace(token, forged)) == _without_csrf(nobodys.text)
            assert SECRET_SUBJECT not in theirs.text and world.ticket.ref not in theirs.text


def _without_csrf(page: str) -> str:
    return re.sub(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}", "CSRF", page)
