"""Signing up, logging in and out, limits on guessing, resetting a password by e-mail, and one's own account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import User
from portal.services import registration
from portal.services.account_links import InvalidLink
from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app_config(smtp_config):
    """Every mail in this module goes through a real SMTP exchange."""
    return smtp_config


def mails_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if m.envelope_to == [address]]


def reset_link(message) -> str:
    match = re.search(r"http://portal\.test(/reset-password/[\w.\-]+)", message.get_body(("plain",)).get_content())
    assert match, message.get_body(("plain",)).get_content()
    return match.group(1)


def same_page(html: str) -> str:
    """The page without its CSRF tokens, which carry a timestamp (so two requests a second apart differ)."""
    return re.sub(r"[\w-]{20,}\.[\w-]+\.[\w-]+", "TOKEN", html)


def register(client, next_path: str | None = None, **fields):
    data = {"name": "Nora New", "email": "nora@example.com", "password": "long enough password", **fields}
    path = "/register" + (f"?next={next_path}" if next_path else "")
    return client.post(path, data=data)


# ---- Registration ----


def confirm_link(message) -> str:
    match = re.search(r"http://portal\.test(/confirm/[\w.\-]+)", message.get_body(("plain",)).get_content())
    assert match, message.get_body(("plain",)).get_content()
    return match.group(1)


def confirm(client, link: str, password: str | None = None, **fields):
    """Open the link and finish the sign-up as a person would: type the password (by default the one `register`
    chose; the name comes filled in)."""
    assert "Confirm and log in" in client.get(link).text
    return client.post(link, data={"password": password or "long enough password", **fields})


def test_visitor_sent_to_login_registers_confirms_and_comes_back(client, smtp_server, db):
    answer = client.get("/account")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=%2Faccount"
    login_page = client.get("/login?next=%2Faccount").text
    assert "Please log in to open this page." in login_page
    assert 'href="/register?next=/account"' in login_page

    answer = register(client, next_path="%2Faccount")
    assert answer.status_code == 303 and answer.headers["Location"] == "/register/check-email"
    page = client.get(answer.headers["Location"]).text
    assert "Check your e-mail" in page and "We have sent a message to nora@example.com." in page
    assert client.get("/account").status_code == 302  # not logged in before confirming

    [mail] = mails_to(smtp_server, "nora@example.com")
    assert mail["Subject"] == "Confirm your e-mail address for Mesa"
    assert "Nora New" in mail.get_body(("plain",)).get_content()
    link = confirm_link(mail)
    assert "http://portal.test" + link in mail.get_body(("html",)).get_content()

    answer = confirm(client, link)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200 and "Nora New" in page.text and "nora@example.com" in page.text
    assert "Welcome, Nora New! Your account is ready." in page.text

    client.post("/logout")
    spent = client.get(link)
    assert spent.status_code == 400 and "This link has already been used." in spent.text
    assert client.post(link).status_code == 400
    assert client.post("/login", data={"email": "nora@example.com", "password": "long enough password"}
                       ).status_code == 303


def test_an_unconfirmed_account_cannot_log_in_and_gets_a_new_link(client, smtp_server):
    register(client)
    refused = client.post("/login", data={"email": "nora@example.com", "password": "long enough password"})
    assert refused.status_code == 422
    assert "Confirm your e-mail address first: we have sent a new link to nora@example.com." in refused.text
    assert client.get("/account").status_code == 302
    wrong = client.post("/login", data={"email": "nora@example.com", "password": "not her password"})
    assert "Wrong e-mail or password." in wrong.text and "Confirm your e-mail" not in wrong.text

    first, second = mails_to(smtp_server, "nora@example.com")
    assert confirm(client, confirm_link(second)).status_code == 303
    assert client.get("/account").status_code == 200


def test_signing_up_again_keeps_nothing_and_the_person_who_confirms_sets_name_and_password(client, smtp_server):
    """A stranger who signed up with Nora's address first cannot keep the account: Nora's own sign-up sends the
    link again, and what she types when confirming is what counts (the full attack is in tests/security)."""
    register(client, name="Stranger", password="the strangers password")
    register(client, name="Nora New", password="noras own password")
    first, second = mails_to(smtp_server, "nora@example.com")
    assert 'value="Stranger"' in client.get(confirm_link(second)).text  # shown, so she can put her name
    assert confirm(client, confirm_link(second), "noras own password", name="Nora New").status_code == 303
    assert client.get(confirm_link(first)).status_code == 400  # every link is spent
    assert "Nora New" in client.get("/account").text
    client.post("/logout")
    assert client.post("/login", data={"email": "nora@example.com", "password": "the strangers password"}
                       ).status_code == 422
    assert client.post("/login", data={"email": "nora@example.com", "password": "noras own password"}
                       ).status_code == 303


def test_confirming_asks_for_a_password_that_follows_the_rules(client, smtp_server, db):
    register(client)
    [mail] = mails_to(smtp_server, "nora@example.com")
    link = confirm_link(mail)
    short = client.post(link, data={"password": "short", "name": "Nora New"})
    assert short.status_code == 422 and "Use between 10 and 200 characters." in short.text
    nameless = client.post(link, data={"password": "long enough password", "name": "  "})
    assert nameless.status_code == 422 and "This field is required." in nameless.text
    assert client.get("/account").status_code == 302  # nothing confirmed yet
    assert confirm(client, link).status_code == 303


def test_confirmation_links_expire_and_forged_ones_are_refused(app, client, smtp_server, db):
    register(client)
    [mail] = mails_to(smtp_server, "nora@example.com")
    link = confirm_link(mail)
    for forged in (link[:-3] + "abc", "/confirm/not-a-token"):
        answer = client.get(forged)
        assert answer.status_code == 400 and "This link no longer works" in answer.text
    nora = db.scalar(select(User).where(User.email == "nora@example.com"))
    links = registration.ConfirmationLinks(app.config["SECRET_KEY"], app.config["CONFIRMATION_MAX_AGE"])
    later = utcnow() + timedelta(seconds=app.config["CONFIRMATION_MAX_AGE"] + 60)
    with pytest.raises(InvalidLink, match="expired"):
        links.load(db, link.removeprefix("/confirm/"), now=later)
    assert nora.verified is False


def test_registering_with_a_taken_email_reveals_nothing_and_tells_the_owner(client, alice, smtp_server, db):
    answer = register(client, email="  ALICE@Example.com ", name="Mallory", password="mallorys password")
    assert answer.status_code == 303 and answer.headers["Location"] == "/register/check-email"
    page = client.get(answer.headers["Location"]).text
    assert "Check your e-mail" in page
    assert "already" not in page.lower()
    assert client.get("/account").status_code == 302  # not logged in as anyone

    [notice] = mails_to(smtp_server, "alice@example.com")
    assert "http://portal.test/forgot-password" in notice.get_body(("plain",)).get_content()
    assert "/confirm/" not in notice.get_body(("plain",)).get_content()
    db.refresh(alice)
    assert alice.name == "Alice Customer"
    login(client, alice)  # the real owner's password still works


def test_someone_who_wrote_in_by_email_is_told_to_claim_their_account(client, make, smtp_server, db):
    """An account made for an e-mail has tickets but no password: signing up with its address must not let a
    stranger set one. Its owner is told and claims it with a password reset, which proves the address."""
    emailer = make.user(email="writer@example.com", name="Wanda Writer", password=None)
    emailer.verified = False
    db.commit()
    answer = register(client, email="writer@example.com", name="Stranger", password="strangers password")
    assert answer.headers["Location"] == "/register/check-email"
    [notice] = mails_to(smtp_server, "writer@example.com")
    assert "http://portal.test/forgot-password" in notice.get_body(("plain",)).get_content()
    db.refresh(emailer)
    assert emailer.password_hash is None and emailer.name == "Wanda Writer"


def test_short_password_is_refused_and_typed_values_kept(client):
    answer = register(client, name="Nora <New>", password="too short")
    assert answer.status_code == 422
    assert "Use between 10 and 200 characters." in answer.text
    assert 'value="Nora &lt;New&gt;"' in answer.text
    assert 'value="nora@example.com"' in answer.text
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "n" * 121, "Use at most 120 characters."),
        ("email", "a" * 64 + "@" + "b" * 190 + ".example", "Use at most 254 characters."),
        ("password", "p" * 201, "Use between 10 and 200 characters."),
        ("email", "not-an-address", "Enter an e-mail address"),
        ("name", "   ", "This field is required."),
    ],
)
def test_registration_fields_state_their_limits(client, field, value, message):
    answer = register(client, **{field: value})
    assert answer.status_code == 422
    assert message in answer.text


def test_registration_ignores_foreign_next(client, smtp_server):
    register(client, next_path="https://evil.example/")
    [mail] = mails_to(smtp_server, "nora@example.com")
    assert confirm(client, confirm_link(mail)).headers["Location"] == "/"


# ---- Logging in and out ----


def test_login_and_logout(client, alice):
    answer = client.post("/login?next=/account", data={"email": "Alice@Example.com", "password": DEFAULT_PASSWORD})
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    assert "Alice Customer" in client.get("/").text
    answer = client.post("/logout")
    assert answer.status_code == 303
    assert "You have logged out on every device." in client.get(answer.headers["Location"]).text
    assert client.get("/account").status_code == 302


def test_login_never_redirects_off_site(client, alice):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = client.post(f"/login?next={target}", data={"email": alice.email, "password": DEFAULT_PASSWORD})
        assert answer.headers["Location"] == "/"
        client.post("/logout")


def test_wrong_password_and_unknown_email_look_the_same(client, alice):
    wrong = client.post("/login", data={"email": "alice@example.com", "password": "not her password"})
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "not her password"})
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong e-mail or password." in wrong.text
    assert same_page(wrong.text.replace("alice@example.com", "X")) == same_page(
        unknown.text.replace("nobody@example.com", "X"))


# ---- Rate limits ----


def test_login_is_limited_per_ip(client, alice):
    for n in range(10):
        answer = client.post("/login", data={"email": f"guess{n}@example.com", "password": "wrong password"})
        assert answer.status_code == 422
    answer = client.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD})
    assert answer.status_code == 429
    assert "Too many requests" in answer.text
    assert client.get("/login").status_code == 200  # the form still shows
    other_machine = client.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD},
                                environ_base={"REMOTE_ADDR": "192.0.2.99"})
    assert other_machine.status_code == 303


def test_login_is_limited_per_account_even_from_many_ips(client, alice, bob):
    for n in range(10):
        answer = client.post("/login", data={"email": alice.email, "password": "wrong password"},
                             environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
        assert answer.status_code == 422
    blocked = client.post("/login", data={"email": "ALICE@example.com", "password": DEFAULT_PASSWORD},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert blocked.status_code == 429
    other_account = client.post("/login", data={"email": bob.email, "password": DEFAULT_PASSWORD},
                                environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert other_account.status_code == 303


def test_reset_requests_are_limited_per_account(client, alice):
    for n in range(10):
        client.post("/forgot-password", data={"email": alice.email}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
    answer = client.post("/forgot-password", data={"email": alice.email}, environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert answer.status_code == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_RATE_LIMIT": "2 per minute"}])
def test_limit_comes_from_config(client, alice):
    for _ in range(2):
        client.post("/login", data={"email": alice.email, "password": "wrong password"})
    assert client.post("/login", data={"email": alice.email, "password": "x" * 10}).status_code == 429


# ---- Password reset by e-mail ----


def test_password_reset_end_to_end_through_smtp(client, alice, smtp_server):
    page = client.get("/login").text
    assert 'href="/forgot-password"' in page
    answer = client.post("/forgot-password", data={"email": "Alice@example.com"})
    assert answer.status_code == 303
    assert "If an account exists for Alice@example.com" in client.get(answer.headers["Location"]).text

    [mail] = mails_to(smtp_server, "alice@example.com")
    assert mail["From"] == "Mesa Support <support@mesa.example>"
    assert mail["Message-ID"].endswith("@mesa.example>")
    assert "60 minutes" in mail.get_body(("plain",)).get_content()
    link = reset_link(mail)
    assert link in mail.get_body(("html",)).get_content()

    form = client.get(link)
    assert form.status_code == 200 and 'name="password"' in form.text
    answer = client.post(link, data={"password": NEW_PASSWORD})
    assert answer.status_code == 303
    assert "Alice Customer" in client.get("/").text  # logged in
    client.post("/logout")

    assert client.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD}).status_code == 422
    login(client, alice, NEW_PASSWORD)
    client.post("/logout")

    used = client.get(link)
    assert used.status_code == 400
    assert "This link no longer works" in used.text and 'href="/forgot-password"' in used.text
    assert client.post(link, data={"password": "yet another password"}).status_code == 400
    login(client, alice, NEW_PASSWORD)


def test_reset_request_answers_the_same_for_unknown_addresses(app, alice, smtp_server):
    def ask(email: str) -> tuple[int, str, str]:
        browser = app.test_client()
        answer = browser.post("/forgot-password", data={"email": email})
        page = browser.get(answer.headers["Location"]).text.replace(email, "X")
        return answer.status_code, answer.headers["Location"], same_page(page)

    assert ask("alice@example.com") == ask("nobody@example.com")
    assert "If an account exists for X, we have sent it a link" in ask("nobody@example.com")[2]
    assert [m.envelope_to for m in smtp_server.messages] == [["alice@example.com"]]


def test_expired_reset_link_offers_a_new_one(client, alice, smtp_server, monkeypatch):
    client.post("/forgot-password", data={"email": alice.email})
    link = reset_link(mails_to(smtp_server, alice.email)[0])
    # the link's time is signed in whole seconds: a slow machine may spend one between sending and opening it
    monkeypatch.setattr("portal.views.auth.utcnow", lambda: utcnow() + timedelta(seconds=3597))
    assert client.get(link).status_code == 200
    monkeypatch.setattr("portal.views.auth.utcnow", lambda: utcnow() + timedelta(seconds=3601))
    expired = client.get(link)
    assert expired.status_code == 400
    assert "Send me a new link" in expired.text
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 400


@pytest.mark.parametrize("token", ["garbage", "eyJ1IjoxLCJmIjoieCJ9.ZZZZZZ.forged-signature"])
def test_forged_reset_link_is_refused_kindly(client, alice, token):
    answer = client.get(f"/reset-password/{token}")
    assert answer.status_code == 400
    assert "This link no longer works" in answer.text


def test_deactivated_people_get_no_reset_mail(client, alice, db, smtp_server):
    alice.active = False
    db.commit()
    assert client.post("/forgot-password", data={"email": alice.email}).status_code == 303
    assert smtp_server.messages == []


def test_reset_mail_is_in_the_recipients_language(client, make, smtp_server):
    carmen = make.user(email="carmen@example.com", name="Carmen Núñez", locale="es")
    client.post("/forgot-password", data={"email": carmen.email}, headers={"Accept-Language": "en"})
    [mail] = mails_to(smtp_server, "carmen@example.com")
    assert mail["Content-Language"] == "es"
    assert '<html lang="es">' in mail.get_body(("html",)).get_content()
    assert mail["To"] == "Carmen Núñez <carmen@example.com>"
    assert "Carmen Núñez" in mail.get_body(("plain",)).get_content()
    assert client.get(reset_link(mail)).status_code == 200


def test_reset_mail_without_a_preference_uses_the_default_language(client, alice, smtp_server):
    client.post("/forgot-password", data={"email": alice.email}, headers={"Accept-Language": "es"})
    [mail] = mails_to(smtp_server, alice.email)
    assert mail["Content-Language"] == "en"
    assert "Reset your Mesa password" in mail["Subject"]


def test_new_password_must_follow_the_rules(client, alice, smtp_server):
    client.post("/forgot-password", data={"email": alice.email})
    link = reset_link(mails_to(smtp_server, alice.email)[0])
    answer = client.post(link, data={"password": "short"})
    assert answer.status_code == 422 and "Use between 10 and 200 characters." in answer.text
    assert client.get(link).status_code == 200  # still usable


# ---- My account ----


def test_account_changes_name_and_language(client, alice):
    login(client, alice)
    page = client.get("/account").text
    assert 'value="Alice Customer"' in page
    answer = client.post("/account", data={"name": "Alice Cooper", "locale": "es"})
    assert answer.status_code == 303
    page = client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="es"' in page.text and "Alice Cooper" in page.text
    client.post("/account", data={"name": "Alice Cooper", "locale": ""})
    assert '<html lang="en"' in client.get("/", headers={"Accept-Language": "en"}).text


def test_account_refuses_overlong_name_and_keeps_it(client, alice):
    login(client, alice)
    answer = client.post("/account", data={"name": "x" * 121, "locale": "en"})
    assert answer.status_code == 422
    assert "Use at most 120 characters." in answer.text
    assert 'value="' + "x" * 121 + '"' in answer.text


def test_changing_password_needs_the_current_one(client, alice):
    login(client, alice)
    wrong = client.post("/account/password", data={"current_password": "not my password",
                                                     "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and "That is not your current password." in wrong.text
    right = client.post("/account/password", data={"current_password": DEFAULT_PASSWORD,
                                                     "new_password": NEW_PASSWORD})
    assert right.status_code == 303
    client.post("/logout")
    login(client, alice, NEW_PASSWORD)


def test_account_needs_login(client):
    assert client.post("/account").status_code == 302
    # with something typed: the login page itself, keeping it (tests/security/test_session_expiry_keeps_text.py)
    answer = client.post("/account", data={"name": "x"})
    assert answer.status_code == 401 and "data-carried-login" in answer.text
