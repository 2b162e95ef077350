"""CSRF: every POST route of `app.url_map` refuses a form without its token (400), logged in or not. The
Bearer API is exempt by design, so there a browser's session cookie must not authenticate anything."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import Ticket
from tests.factories import DEFAULT_PASSWORD
from tests.security.routes import FORM, NOT_IN_MATRIX, arguments_for

TOKEN_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def login_with_token(client, user) -> None:
    token = TOKEN_FIELD.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert response.status_code == 303


def is_bearer_api(rule: str) -> bool:
    return rule.startswith("/api/") and not rule.startswith("/api/v1/kb/")


def unsafe_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            yield rule, method


@pytest.mark.parametrize("role", ["anonymous", "alice", "admin"])
def test_every_form_post_without_a_token_is_refused(app, world, csrf_client, role):
    if role != "anonymous":
        login_with_token(csrf_client, world.users[role])
    adapter = app.url_map.bind("portal.test")
    failures, checked = [], 0
    for rule, method in sorted(unsafe_routes(app), key=lambda pair: pair[0].rule):
        url = adapter.build(rule.endpoint, arguments_for(rule, world, role))
        response = csrf_client.open(url, method=method, data=FORM.get(rule.endpoint))
        expected = 401 if is_bearer_api(rule.rule) else 400
        if response.status_code != expected:
            failures.append(f"{method} {url}: {response.status_code}, expected {expected}")
        elif expected == 400 and "Your form expired or was sent from elsewhere" not in response.text:
            failures.append(f"{method} {url}: 400 without the CSRF explanation")
        checked += 1
    assert not failures, "\n".join(failures)
    assert checked > 60
    if role != "anonymous":
        # The refused POST /logout logged nobody out.
        assert csrf_client.get("/account").status_code == 200


def test_a_session_cookie_alone_never_drives_the_api(app, db, world, csrf_client):
    login_with_token(csrf_client, world.users["alice"])
    before = db.scalar(select(func.count()).select_from(Ticket))
    listing = csrf_client.get("/api/v1/tickets")
    created = csrf_client.post("/api/v1/tickets", json={"subject": "Via cookie", "description": "Should not work"})
    assert (listing.status_code, created.status_code) == (401, 401)
    assert listing.headers["WWW-Authenticate"].startswith("Bearer")
    assert db.scalar(select(func.count()).select_from(Ticket)) == before
    secret = world.extra["alice_api_secret"]
    with_token = csrf_client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {secret}"})
    assert with_token.status_code == 200 and world.ticket.ref in with_token.text


def test_another_customers_token_finds_nothing_of_alices(app, db, world):
    from portal.clock import utcnow
    from portal.services import api_tokens

    _token, secret = api_tokens.create(db, name="Bob's script", actor=world.users["bob"], now=utcnow())
    db.commit()
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    ref = world.ticket.ref
    for url in (f"/api/v1/tickets/{ref}", f"/api/v1/tickets/{ref}/messages",
                f"/api/v1/tickets/{ref}/attachments/{world.attachment_id}"):
        with client.get(url, headers=bearer) as response:
            assert response.status_code == 404, url
            assert ref not in response.text and "secret" not in response.text.lower(), url
    listing = client.get("/api/v1/tickets", headers=bearer)
    assert listing.status_code == 200 and ref not in listing.text
