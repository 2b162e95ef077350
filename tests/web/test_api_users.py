"""People through the REST API: yourself, customers for agents, everyone for admins, accounts made by admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import User
from tests.web.api_support import bearer, token_for


def test_everyone_reads_themselves(client, db, alice):
    body = client.get("/api/v1/users/me", headers=bearer(token_for(db, alice))).json
    assert body["email"] == "alice@example.com" and body["role"] == "customer"
    assert client.get(f"/api/v1/users/{alice.id}", headers=bearer(token_for(db, alice))).status_code == 200


@pytest.mark.parametrize(("reader", "target", "status"), [
    ("alice", "bob", 404), ("alice", "agnes", 404), ("agnes", "alice", 200), ("agnes", "admin_user", 404),
    ("admin_user", "agnes", 200), ("admin_user", "alice", 200),
])
def test_who_may_read_whom(client, db, request, reader, target, status):
    reader_user, target_user = request.getfixturevalue(reader), request.getfixturevalue(target)
    response = client.get(f"/api/v1/users/{target_user.id}", headers=bearer(token_for(db, reader_user)))
    assert response.status_code == status
    missing = client.get("/api/v1/users/99999", headers=bearer(token_for(db, reader_user)))
    assert missing.status_code == 404
    if status == 404:
        assert response.json == missing.json


def test_admin_creates_an_agent(client, db, admin_user):
    response = client.post("/api/v1/users", headers=bearer(token_for(db, admin_user)), json={
        "email": "Nuria@Example.com", "name": "Nuria", "role": "agent", "locale": "es", "password": "long-enough-pw"})
    assert response.status_code == 201, response.json
    assert response.json["email"] == "nuria@example.com" and response.json["role"] == "agent"
    created = db.scalar(select(User).where(User.email == "nuria@example.com"))
    assert created.is_agent and created.locale == "es"


@pytest.mark.parametrize("who", ["alice", "agnes"])
def test_only_admins_create_accounts(client, db, request, who):
    response = client.post("/api/v1/users", headers=bearer(token_for(db, request.getfixturevalue(who))),
                           json={"email": "x@example.com", "name": "X"})
    assert response.status_code == 403
    assert db.scalar(select(User).where(User.email == "x@example.com")) is None


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": "not-an-address", "name": "X"}, "email"),
    ({"email": "alice@example.com", "name": "Copy"}, "email"),
    ({"email": "y@example.com"}, "name"),
    ({"email": "y@example.com", "name": "Y", "role": "king"}, "role"),
    ({"email": "y@example.com", "name": "Y", "password": "short"}, "password"),
])
def test_invalid_accounts_are_422(client, db, alice, admin_user, payload, field):
    response = client.post("/api/v1/users", headers=bearer(token_for(db, admin_user)), json=payload)
    assert response.status_code == 422
    assert response.json["error"]["field"] == field
