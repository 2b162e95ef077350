"""Session invalidation: what ends a login ends it everywhere, for every copy of the cookie, and no login lasts
longer than SESSION_LIFETIME. And account pre-hijacking: whoever signs up with someone else's address never ends
up with a password that works once the address's owner confirms."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from portal.clock import utcnow
from tests.factories import DEFAULT_PASSWORD
from tests.outbox import confirmation_path, outbox_messages
from tests.security.conftest import person

NEW_PASSWORD = "a brand new passphrase"


def logged_in(app, user, password: str = DEFAULT_PASSWORD):
    client = app.test_client()
    answer = client.post("/login", data={"email": user.email, "password": password})
    assert answer.status_code == 303, answer.text
    return client


def copy_of(app, client):
    """Another browser holding the same session cookie: what a thief who copied it has."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def works(client) -> bool:
    answer = client.get("/account")
    assert answer.status_code in (200, 302), answer.status_code
    return answer.status_code == 200


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# ---- What ends sessions ----


def test_a_cookie_copied_before_logout_is_refused_after(app, db):
    alice = person(db, "alice@example.com", "Alice")
    browser = logged_in(app, alice)
    thief = copy_of(app, browser)
    assert works(thief)
    assert browser.post("/logout").status_code == 303
    assert not works(browser)
    assert not works(thief)
    assert works(logged_in(app, alice))  # she logs in again as usual


def test_logging_out_ends_the_other_devices_too_as_the_page_says(app, db):
    alice = person(db, "alice@example.com", "Alice")
    laptop, phone = logged_in(app, alice), logged_in(app, alice)
    assert "Log out everywhere" in laptop.get("/account").text
    laptop.post("/logout")
    assert not works(phone)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, db):
    alice = person(db, "alice@example.com", "Alice")
    browser, other = logged_in(app, alice), logged_in(app, alice)
    thief = copy_of(app, browser)
    answer = browser.post("/account/password", data={"current_password": DEFAULT_PASSWORD,
                                                     "new_password": NEW_PASSWORD})
    assert answer.status_code == 303
    assert works(browser)
    assert not works(other) and not works(thief)
    logged_in(app, alice, NEW_PASSWORD)


def test_a_password_reset_ends_every_session_made_with_the_old_password(app, db, world):
    alice = world.users["alice"]
    thief = logged_in(app, alice)
    owner = app.test_client()
    answer = owner.post(f"/reset-password/{world.reset_token}", data={"password": NEW_PASSWORD})
    assert answer.status_code == 303
    assert works(owner)
    assert not works(thief)


def test_deactivation_ends_sessions_and_api_tokens_and_reactivation_brings_none_back(app, db, world):
    alice, secret = world.users["alice"], world.extra["alice_api_secret"]
    alices = logged_in(app, alice)
    assert app.test_client().get("/api/v1/tickets", headers=bearer(secret)).status_code == 200
    admin = logged_in(app, world.users["admin"])
    assert admin.post(f"/admin/users/{alice.id}/deactivate").status_code == 303
    assert not works(alices)
    assert app.test_client().get("/api/v1/tickets", headers=bearer(secret)).status_code == 401

    admin.post(f"/admin/users/{alice.id}/reactivate")
    assert not works(alices)
    assert app.test_client().get("/api/v1/tickets", headers=bearer(secret)).status_code == 401
    assert works(logged_in(app, alice))


@pytest.mark.parametrize("new_role", ["customer", "admin"])
def test_a_role_change_ends_the_persons_sessions(app, db, world, new_role):
    agent = world.users["agent"]
    desk = logged_in(app, agent)
    assert desk.get("/agent").status_code == 200
    admin = logged_in(app, world.users["admin"])
    assert admin.post(f"/admin/users/{agent.id}/role", data={"role": new_role}).status_code == 303
    assert desk.get("/agent").status_code == 302
    assert not works(desk)


def test_an_unchanged_role_and_other_peoples_changes_end_nothing(app, db, world):
    agent, alice = world.users["agent"], world.users["alice"]
    desk, alices = logged_in(app, agent), logged_in(app, alice)
    admin = logged_in(app, world.users["admin"])
    admin.post(f"/admin/users/{agent.id}/role", data={"role": "agent"})
    admin.post(f"/admin/users/{alice.id}/role", data={"role": "agent"})
    assert works(desk) and works(admin)
    assert not works(alices)


def test_a_session_from_before_generations_naming_only_the_user_id_is_refused(app, db):
    """Sessions made before the upgrade (a bare id) or forged without the secret key name nobody."""
    alice = person(db, "alice@example.com", "Alice")
    client = app.test_client()
    for value in (str(alice.id), f"{alice.id}:", f"{alice.id}:x", f"{alice.id}:{'9' * 40}", "١:٠"):
        with client.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = value, True
            cookie["_login_at"] = int(time.time())
        assert not works(client), value


# ---- How long a session lasts ----


def test_a_session_ends_after_the_configured_lifetime_however_active(app, db, monkeypatch):
    app.config["SESSION_LIFETIME"] = 3600
    alice = person(db, "alice@example.com", "Alice")
    browser = logged_in(app, alice)
    thief = copy_of(app, browser)
    start = utcnow()
    for minutes in (10, 30, 59):  # busy all along
        monkeypatch.setattr("portal.extensions.utcnow", lambda m=minutes: start + timedelta(minutes=m))
        assert works(browser) and works(thief)
    monkeypatch.setattr("portal.extensions.utcnow", lambda: start + timedelta(minutes=61))
    assert not works(browser) and not works(thief)
    browser.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD})
    assert works(browser)
    assert not works(thief)


def test_the_lifetime_comes_from_the_environment_and_bounds_flasks_cookie_too():
    from portal import config as settings

    values = settings.defaults()
    assert values["SESSION_LIFETIME"] == 12 * 3600
    settings.apply_environment(values, {"PORTAL_SESSION_LIFETIME": "1800"})
    values["INSTANCE_PATH"], values["SECRET_KEY"] = "/tmp/mesa-test-config", "x"  # noqa: S108
    settings.finish(values)
    assert values["SESSION_LIFETIME"] == 1800 and values["PERMANENT_SESSION_LIFETIME"] == 1800


# ---- Account pre-hijacking ----


def sign_up(app, *, name: str, password: str, email: str = "victim@example.com"):
    client = app.test_client()
    answer = client.post("/register", data={"name": name, "email": email, "password": password})
    assert answer.status_code == 303 and answer.headers["Location"] == "/register/check-email"
    return client


def login_status(app, password: str, email: str = "victim@example.com") -> int:
    return app.test_client().post("/login", data={"email": email, "password": password}).status_code


@pytest.mark.parametrize("link", ["own", "newest"])
def test_signing_up_after_the_owner_gives_the_attacker_no_working_password(app, db, link):
    sign_up(app, name="Victor Victim", password="victims own password")
    sign_up(app, name="Mallory", password="attackers password")  # before Victor reads his mail
    own, newest = outbox_messages(app, "victim@example.com")
    victim = app.test_client()
    path = confirmation_path(own if link == "own" else newest)
    assert victim.post(path, data={"password": "victims own password"}).status_code == 303
    assert works(victim)
    assert "Victor Victim" in victim.get("/account").text
    assert login_status(app, "attackers password") == 422
    assert login_status(app, "victims own password") == 303


def test_signing_up_before_the_owner_gives_the_attacker_no_working_password(app, db):
    sign_up(app, name="Mallory", password="attackers password")
    sign_up(app, name="Victor Victim", password="victims own password")
    victim = app.test_client()
    newest = confirmation_path(outbox_messages(app, "victim@example.com")[-1])
    answer = victim.post(newest, data={"password": "victims own password", "name": "Victor Victim"})
    assert answer.status_code == 303
    assert login_status(app, "attackers password") == 422
    assert login_status(app, "victims own password") == 303
    assert "Victor Victim" in victim.get("/account").text


def test_the_attacker_who_signed_up_cannot_log_in_before_or_after_the_confirmation(app, db):
    attacker = sign_up(app, name="Mallory", password="attackers password")
    assert login_status(app, "attackers password") == 422  # "confirm your address first"
    assert not works(attacker)
    sign_up(app, name="Victor Victim", password="victims own password")
    victim = app.test_client()
    victim.post(confirmation_path(outbox_messages(app, "victim@example.com")[-1]),
                data={"password": "victims own password"})
    assert not works(attacker)
    assert login_status(app, "attackers password") == 422


def test_a_second_sign_up_is_answered_exactly_like_a_first_one(app, db):
    first = sign_up(app, name="Victor Victim", password="victims own password")
    second = sign_up(app, name="Mallory", password="attackers password")
    new = sign_up(app, name="Nadia", password="a third password", email="nadia@example.com")
    pages = [re.sub(r'(CSRFToken": |csrf_token" value=)"[^"]+"', "", c.get("/register/check-email").text)
             .replace("nadia@", "victim@") for c in (first, second, new)]
    assert pages[0] == pages[1] == pages[2]
    assert len(outbox_messages(app, "victim@example.com")) == 2  # the link again, to the address only
