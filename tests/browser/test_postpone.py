"""Postpone in a real browser: the side panel's quick choice and "Resume now" go through htmx (the button
pressed names the choice) and the panel shows the result without a page load."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from portal.models import Ticket
from tests.factories import DEFAULT_PASSWORD


def test_an_agent_postpones_until_tomorrow_and_resumes(page: Page, live_server, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes, subject="Router keeps rebooting")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(agnes.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()
    page.goto(f"{live_server}/agent/tickets/{ticket.ref}")
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    panel = page.locator("#side-panel")
    with page.expect_response(lambda r: r.url.endswith("/postpone") and r.request.method == "POST"):
        panel.get_by_role("button", name="Tomorrow 9:00").click()
    expect(panel.get_by_text("Postponed until")).to_be_visible()
    assert page.evaluate("window.loadedOnce") is True
    db.expire_all()
    assert db.get(Ticket, ticket.id).postponed_until is not None

    with page.expect_response(lambda r: r.url.endswith("/resume") and r.request.method == "POST"):
        panel.get_by_role("button", name="Resume now").click()
    expect(panel.get_by_role("button", name="Tomorrow 9:00")).to_be_visible()
    db.expire_all()
    assert db.get(Ticket, ticket.id).postponed_until is None
