"""Attacks on the doors: open redirects through `next`, telling known from unknown e-mail addresses (by the
answer or by its timing), and guessing passwords past the rate limits."""

from __future__ import annotations

import re
import statistics
import time
from urllib.parse import urljoin, urlsplit

import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.outbox import last_confirmation_path
from tests.security.conftest import person

HOST = "portal.test"
EVIL_TARGETS = [
    "//evil.com", "///evil.com", "////evil.com/x", "https://evil.com", "http://evil.com/login", "https:evil.com",
    "https:/evil.com", "/\\evil.com", "\\\\evil.com", "/\\/evil.com", "\\/evil.com", "javascript:alert(1)",
    "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>", "%2F%2Fevil.com", "/%2F%2Fevil.com",
    "%2f%2fevil.com", "/%5Cevil.com", "%5C%5Cevil.com", " //evil.com", "\t//evil.com", "/\t/evil.com",
    "/\n/evil.com", "//evil.com%2F@portal.test", "//portal.test@evil.com", "https://portal.test.evil.com",
    "/%09/evil.com", "\x00//evil.com", "//%65vil.com", "/.//evil.com", "ftp://evil.com", "//evil%E3%80%82com",
]


def lands_on_site(location: str) -> bool:
    """Where a browser would go: it drops tabs and newlines and reads a backslash as a slash."""
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    target = urlsplit(urljoin(f"http://{HOST}/login", cleaned))
    return target.scheme in ("http", "https") and target.hostname == HOST


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_never_sends_anyone_off_site(app, db, target):
    alice = person(db, "alice@example.com", "Alice")
    client = app.test_client()
    response = client.post("/login", query_string={"next": target},
                           data={"email": alice.email, "password": DEFAULT_PASSWORD})
    if "\x00" in target:  # refused at the door, before anything else (views/security.py)
        assert response.status_code == 400
        return
    assert response.status_code == 303
    assert lands_on_site(response.headers["Location"]), response.headers["Location"]


def test_login_keeps_a_local_next():
    assert lands_on_site("/tickets?status=open")


def test_language_switch_and_logout_and_register_stay_on_site(app, db):
    alice = person(db, "alice@example.com", "Alice")
    client = app.test_client()
    client.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD})
    for target in (t for t in EVIL_TARGETS if "\x00" not in t):
        switched = client.post("/language", data={"lang": "es", "next": target})
        assert switched.status_code == 303 and lands_on_site(switched.headers["Location"]), target
        # A logged-in visitor sent to the register page goes on to `next`.
        registered = client.get("/register", query_string={"next": target})
        assert lands_on_site(registered.headers["Location"]), target
    for target in EVIL_TARGETS[:8]:
        out = client.post("/logout", query_string={"next": target}, data={"next": target})
        assert out.status_code == 303 and lands_on_site(out.headers["Location"]), target
        client.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD})


def test_a_new_account_is_not_sent_off_site_either(app, db):
    """`next` travels inside the confirmation link: where that link lands is what counts."""
    for n, target in enumerate(EVIL_TARGETS[:10]):
        client = app.test_client()
        response = client.post("/register", query_string={"next": target}, data={
            "name": "New Person", "email": f"new{n}@example.com", "password": DEFAULT_PASSWORD,
            "confirm": DEFAULT_PASSWORD})
        assert response.status_code == 303 and lands_on_site(response.headers["Location"]), target
        confirmed = client.post(last_confirmation_path(app, f"new{n}@example.com"),
                                data={"password": DEFAULT_PASSWORD})
        assert confirmed.status_code == 303 and lands_on_site(confirmed.headers["Location"]), target


# ---- Enumeration ----


def same_page(a: str, b: str, *emails: str) -> bool:
    """Equal once the address the visitor typed (echoed back in the form) is blanked out."""
    def blank(text: str) -> str:
        for email in emails:
            text = text.replace(email, "EMAIL")
        # Each visitor's CSRF tokens differ by design.
        return re.sub(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}", "TOKEN", text)
    return blank(a) == blank(b)


@pytest.fixture
def app_config(app_config):
    # Enumeration and timing tests send more attempts than the real limit allows; brute force sets it back.
    return {**app_config, "LOGIN_RATE_LIMIT": "1000 per minute"}


def test_login_answers_the_same_for_a_known_and_an_unknown_address(app, db):
    person(db, "alice@example.com", "Alice")
    client = app.test_client()
    known = client.post("/login", data={"email": "alice@example.com", "password": "wrong-password-1"})
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "wrong-password-1"})
    assert known.status_code == unknown.status_code == 422
    assert same_page(known.text, unknown.text, "alice@example.com", "nobody@example.com")
    assert "Wrong e-mail or password." in known.text


def test_password_reset_answers_the_same_for_a_known_and_an_unknown_address(app, db):
    person(db, "alice@example.com", "Alice")
    answers = []
    for email in ("alice@example.com", "nobody@example.com"):
        client = app.test_client()
        posted = client.post("/forgot-password", data={"email": email})
        landed = client.get(posted.headers["Location"])
        answers.append((posted.status_code, posted.headers["Location"], landed.status_code, landed.text, email))
    (s1, l1, p1, t1, e1), (s2, l2, p2, t2, e2) = answers
    assert (s1, l1, p1) == (s2, l2, p2) == (303, "/login", 200)
    assert same_page(t1, t2, e1, e2)


def test_registration_answers_the_same_for_a_known_and_an_unknown_address(app, db):
    """Same status, same next page, same words: only the mail (to the address's owner) differs."""
    person(db, "alice@example.com", "Alice")
    answers = []
    for email in ("alice@example.com", "nobody@example.com"):
        client = app.test_client()
        posted = client.post("/register", data={"name": "Someone", "email": email, "password": "a long password 1"})
        landed = client.get(posted.headers["Location"])
        logged_in = client.get("/account").status_code
        answers.append((posted.status_code, posted.headers["Location"], landed.status_code, logged_in,
                        landed.text, email))
    (*known, t1, e1), (*unknown, t2, e2) = answers
    assert known == unknown == [303, "/register/check-email", 200, 302]
    assert same_page(t1, t2, e1, e2)


def test_registering_a_taken_address_says_nothing_about_the_account(app, db):
    """The owner is told by e-mail; the visitor gets no "already taken", and the account is left alone."""
    alice = person(db, "alice@example.com", "Alice Liddell")
    client = app.test_client()
    response = client.post("/register", data={"name": "Mallory", "email": "Alice@Example.com",
                                              "password": "mallory-password-1", "confirm": "mallory-password-1"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "already" not in page.lower() and "Liddell" not in page
    assert client.get("/account").status_code != 200  # not logged in as Alice
    db.refresh(alice)
    assert alice.name == "Alice Liddell"
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD}).status_code == 303


def median_seconds(client, path: str, data: dict, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        client.post(path, data=data)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


@pytest.mark.parametrize("path,extra", [("/login", {"password": "wrong-password-1"}), ("/forgot-password", {}),
                                        ("/register", {"name": "Someone", "password": "a long password 1"})])
def test_known_and_unknown_addresses_take_about_the_same_time(app, db, path, extra):
    """Loose on purpose (a shared machine is noisy): a missing password check would be many times faster.
    Mail goes to the outbox folder here; through a remote SMTP server the reset mail still adds its round trip
    for known addresses, until mail is sent after the response."""
    person(db, "alice@example.com", "Alice")
    client = app.test_client()
    client.post(path, data={"email": "warm@example.com", **extra})
    known, unknown = [], []
    for _ in range(3):  # interleaved, so a burst of load hits both
        known.append(median_seconds(client, path, {"email": "alice@example.com", **extra}, 3))
        unknown.append(median_seconds(client, path, {"email": "nobody@example.com", **extra}, 3))
    known_s, unknown_s = statistics.median(known), statistics.median(unknown)
    # A skipped password hash costs ~75 ms (scrypt), many times the rest of the request; writing the reset mail
    # to the outbox costs a few milliseconds, which a loaded 2-core machine can stretch to ~20 ms: noise.
    close = abs(known_s - unknown_s) < 0.025 or 1 / 3 < known_s / unknown_s < 3
    assert close, f"known {known_s * 1000:.1f} ms vs unknown {unknown_s * 1000:.1f} ms"
