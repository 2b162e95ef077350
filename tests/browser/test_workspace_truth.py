"""Screens that tell the truth (issue 19), in a real browser: a side-panel change updates the header without a
page load; another agent's change shows a notice, and "Load the changes" brings it in while the reply being
typed stays in the composer."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from portal.models import Message, Ticket
from tests.factories import DEFAULT_PASSWORD


def log_in(page: Page, live_server: str, user) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(live_server + "/login")


def test_the_header_follows_the_panel_and_another_agents_change_loads_without_losing_the_reply(
        page: Page, browser: Browser, live_server, db, make, alice, agnes):
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    ticket = make.ticket(requester=alice, status="open", assignee=agnes, subject="Router keeps rebooting")
    workspace = f"{live_server}/agent/tickets/{ticket.ref}"
    log_in(page, live_server, agnes)
    page.goto(workspace)
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    header = page.locator("#ws-header")
    expect(header.locator(".agent-status")).to_have_text("Open")

    # Agnes changes the status in the side panel: the header's badge follows, no page load.
    with page.expect_response(lambda r: r.url.endswith("/fields") and r.request.method == "POST"):
        page.locator("#panel-status").select_option("pending")
    expect(header.locator(".agent-status")).to_have_text("Pending")
    expect(page.locator("#ws-timeline .timeline-event")).to_have_count(2)  # created, and this change

    # She starts a reply; meanwhile Diego, in his own browser, puts the ticket on hold.
    page.locator("#composer-body").fill("Half-written answer about the router")
    other = browser.new_context(locale="en-GB")
    try:
        diego_page = other.new_page()
        log_in(diego_page, live_server, diego)
        diego_page.goto(workspace)
        with diego_page.expect_response(lambda r: r.url.endswith("/fields") and r.request.method == "POST"):
            diego_page.locator("#panel-status").select_option("on_hold")
        expect(diego_page.locator("#ws-header .agent-status")).to_have_text("On hold")
    finally:
        other.close()

    notice = page.locator("#collision-notice")
    expect(notice).to_contain_text("Diego Agent changed this ticket (status → On hold).", timeout=10_000)
    expect(header.locator(".agent-status")).to_have_text("Pending")  # not yet: Agnes decides when
    with page.expect_response(lambda r: r.url.endswith("/state")):
        notice.get_by_role("button", name="Load the changes").click()
    expect(header.locator(".agent-status")).to_have_text("On hold")
    expect(page.locator("#panel-status")).to_have_value("on_hold")
    expect(page.locator("#ws-timeline .timeline-event")).to_have_count(3)
    expect(page.locator("#collision-notice")).to_have_count(0)
    expect(page.locator("#composer-body")).to_have_value("Half-written answer about the router")
    assert page.evaluate("window.loadedOnce") is True

    # Her reply goes out on the version she has now seen: no conflict.
    with page.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as sent:
        page.locator("#composer").get_by_role("button", name="Send").click()
    assert sent.value.status == 200
    expect(page.locator("#ws-timeline")).to_contain_text("Half-written answer about the router")
    db.expire_all()
    assert db.get(Ticket, ticket.id).status == "on_hold"
    assert db.query(Message).filter_by(ticket_id=ticket.id, body="Half-written answer about the router").count() == 1
