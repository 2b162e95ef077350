"""Journey 5, served by gunicorn (two workers): an agent turns a solved ticket into an article; a customer then
finds it while filing a new ticket, whichever worker answers. With JavaScript the suggestion comes while typing;
without, as the step the plain form shows before filing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.clock import utcnow
from portal.models import Message
from tests.factories import DEFAULT_PASSWORD


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_agent_publishes_an_article_and_a_customer_finds_it(javascript, journey_kb, gunicorn_server, open_context,
                                                            step, app, make, db, alice, agnes):
    live_server, capture_kb = gunicorn_server, journey_kb
    ticket = make.ticket(requester=alice, subject="Router light blinks orange after a power cut", status="solved",
                         assignee=agnes, description="Hi,\nAfter the storm the router light blinks orange.")
    db.add(Message(ticket=ticket, author=agnes, public=True, created_at=utcnow(),
                   body="Hello Alice,\nHold the reset button for ten seconds until the light turns white."))
    db.commit()

    agent = open_context(java_script_enabled=javascript).new_page()
    _log_in(agent, live_server, agnes.email)
    if "agent.workspace" in app.view_functions:
        agent.goto(f"{live_server}/agent/tickets/{ticket.ref}")
        agent.get_by_role("button", name="Create article").click()
    else:  # the agent desk is not installed: the same form post
        agent.goto(f"{live_server}/agent/drafts")
        agent.evaluate("""ref => { const f = document.createElement('form'); f.method = 'post';
            f.action = '/agent/tickets/' + ref + '/article'; document.body.append(f); f.submit(); }""", ticket.ref)
    expect(agent.get_by_role("heading", name="Article draft")).to_be_visible()
    expect(agent.locator("#body")).to_contain_text("Hold the reset button")
    agent.fill("#title", "Router light blinks orange after a power cut")
    agent.fill("#section", "connection")
    agent.fill("#body", "## Problem\n\nThe light blinks orange.\n\n## Solution\n\nHold the **reset** button "
                        "for ten seconds.")
    if javascript:
        expect(agent.locator("#draft-preview strong")).to_have_text("reset")  # the live preview (htmx)
    step("draft", agent)
    agent.get_by_role("button", name="Publish", exact=True).click()
    expect(agent.get_by_text("Published. Customers can find it now.")).to_be_visible()
    step("published", agent)
    assert (capture_kb / "en/connection/router-light-blinks-orange-after-a-power-cut.md").exists()

    customer = open_context(java_script_enabled=javascript).new_page()
    _log_in(customer, live_server, alice.email)
    customer.goto(live_server + "/tickets/new")
    customer.fill("#subject", "orange light on my router")
    if javascript:
        suggestions = customer.locator("#suggestions")
    else:
        customer.fill("#description", "It blinks since the storm.")
        customer.locator(".form-actions").get_by_role("button", name="Send ticket").click()
        suggestions = customer.locator(".suggestion-step")
    # the other gunicorn worker sees the new file within KB_SYNC_INTERVAL
    expect(suggestions.get_by_role("link", name="Router light blinks orange after a power cut")).to_be_visible(
        timeout=10_000)
    step("customer-finds-it", customer)
