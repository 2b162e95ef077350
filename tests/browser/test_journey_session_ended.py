"""Journey: the agent's login ends while a reply is being written (logged out on another device); pressing Send
shows the login page keeping the text, and after logging in "Send what you wrote" sends it with one click. With and
without JavaScript (the htmx composer and the plain form)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Message
from portal.services import accounts
from tests.factories import DEFAULT_PASSWORD

TEXT = "We replaced the line card.\nPlease restart the router and tell us if the light turns white."


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_reply_written_while_the_login_ended_is_sent_after_logging_in(javascript, gunicorn_server, open_context,
                                                                       step, db, make, alice, agnes):
    base = gunicorn_server
    ticket = make.ticket(requester=alice, subject="Internet light is red")
    page = open_context(java_script_enabled=javascript).new_page()
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(agnes.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()
    page.goto(f"{base}/agent/tickets/{ticket.ref}")

    accounts.end_sessions(db.merge(agnes))  # she logged out on her other computer
    db.commit()
    page.locator("#composer-body").fill(TEXT)
    page.wait_for_timeout(2500)  # the typing ping has had its 401: the page is still hers to type in
    expect(page.locator("#composer-body")).to_have_value(TEXT)
    page.locator("#composer").get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_text("Your session ended. Log in again and what you wrote will be waiting.")).to_be_visible()
    step("login page keeping the text", page)
    page.get_by_label("E-mail").fill(agnes.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Send what you wrote")).to_be_visible()
    expect(page.locator("form[data-carried-send] textarea")).to_have_value(TEXT)
    step("send what you wrote", page)
    page.locator("form[data-carried-send]").get_by_role("button", name="Send").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()

    db.expire_all()
    bodies = [m.body.replace("\r\n", "\n") for m in db.scalars(select(Message).where(Message.ticket_id == ticket.id))]
    assert bodies.count(TEXT) == 1
