"""Personal API tokens: made in one's profile and shown once, stored hashed, last use recorded, revocable,
and a budget of calls per token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import ApiToken
from tests.conftest import login
from tests.web.api_support import bearer, token_for


def _create_on_page(client, name: str):
    response = client.post("/account/tokens", data={"name": name})
    secret = re.search(r'<code id="new-token">(mesa_[\w-]+)</code>', response.text)
    return response, secret.group(1) if secret else None


@pytest.mark.parametrize("role", ["customer", "agent", "admin"])
def test_everyone_creates_a_token_in_their_profile_and_sees_it_once(client, db, make, role):
    person = make.user(role=role)
    login(client, person)
    assert 'href="/account/tokens"' in client.get("/account").text
    response, secret = _create_on_page(client, "Nightly export")
    assert response.status_code == 201 and secret is not None
    assert response.headers["Cache-Control"] == "no-store"
    page = client.get("/account/tokens").text
    assert "Nightly export" in page and secret[:12] in page
    assert secret not in page  # shown once only
    row = db.scalar(select(ApiToken).where(ApiToken.user_id == person.id))
    assert secret not in (row.token_hash, row.prefix)  # only a hash is stored
    me = client.get("/api/v1/users/me", headers=bearer(secret))
    assert me.status_code == 200 and me.json["role"] == role


def test_a_token_needs_a_name(client, alice):
    login(client, alice)
    response, secret = _create_on_page(client, "  ")
    assert response.status_code == 422 and secret is None
    assert "This field is required." in response.text


def test_a_revoked_token_is_refused(client, db, alice):
    secret = token_for(db, alice, name="old laptop")
    assert client.get("/api/v1/tickets", headers=bearer(secret)).status_code == 200
    login(client, alice)
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == alice.id))
    response = client.post(f"/account/tokens/{token.id}/revoke", follow_redirects=True)
    assert "old laptop" in response.text and "revoked" in response.text
    refused = client.get("/api/v1/tickets", headers=bearer(secret))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert "old laptop" not in client.get("/account/tokens").text


def test_nobody_revokes_someone_elses_token(client, db, alice, bob):
    secret = token_for(db, bob)
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == bob.id))
    login(client, alice)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 200


def test_token_forms_need_their_csrf_token(csrf_client, db, alice):
    token_for(db, alice)
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == alice.id))
    page = csrf_client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    csrf_client.post("/login", data={"email": alice.email, "password": "correct-horse-battery", "csrf_token": csrf})
    assert csrf_client.post("/account/tokens", data={"name": "x"}).status_code == 400
    assert csrf_client.post(f"/account/tokens/{token.id}/revoke").status_code == 400
    db.refresh(token)
    assert token.revoked_at is None


def test_last_use_is_recorded(client, db, alice):
    secret = token_for(db, alice)
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == alice.id))
    assert token.last_used_at is None
    client.get("/api/v1/users/me", headers=bearer(secret))
    db.refresh(token)
    assert token.last_used_at is not None
    token.last_used_at -= timedelta(hours=2)
    db.commit()
    before = token.last_used_at
    client.get("/api/v1/users/me", headers=bearer(secret))
    db.refresh(token)
    assert token.last_used_at > before + timedelta(hours=1)
    login(client, alice)
    assert "Never" not in client.get("/account/tokens").text


def test_a_deactivated_persons_tokens_stop_working(client, db, alice):
    secret = token_for(db, alice)
    alice.active = False
    db.commit()
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 401


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"API_RATE_LIMIT": "3/minute"}

    def test_each_token_has_its_own_budget_and_the_excess_is_a_json_429(self, client, db, alice, bob):
        alice_token, bob_token = bearer(token_for(db, alice)), bearer(token_for(db, bob))
        for _ in range(3):
            assert client.get("/api/v1/tickets", headers=alice_token).status_code == 200
        refused = client.get("/api/v1/users/me", headers=alice_token)
        assert refused.status_code == 429
        assert refused.json["error"]["code"] == "rate_limited"
        assert "Retry-After" in refused.headers
        assert client.get("/api/v1/tickets", headers=bob_token).status_code == 200
