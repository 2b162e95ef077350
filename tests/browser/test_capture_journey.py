"""An agent turns a solved ticket into an article; a customer then finds it while filing a new ticket."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from portal.clock import utcnow
from portal.models import Message
from tests.factories import DEFAULT_PASSWORD

FIXTURE_KB = Path(__file__).resolve().parents[1] / "data" / "kb"


@pytest.fixture
def capture_kb(app, tmp_path):
    """The app reads and writes a copy of the test KB, never kb_articles/."""
    kb = tmp_path / "kb_articles"
    shutil.copytree(FIXTURE_KB, kb)
    app.config.update(KB_DIR=str(kb), KB_SYNC_INTERVAL=0)
    yield kb
    index = app.extensions.pop("kb_index", None)
    if index is not None:
        index.close()


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()


def test_agent_publishes_an_article_and_a_customer_finds_it(capture_kb, live_server, browser, app, make, db, alice,
                                                            agnes):
    ticket = make.ticket(requester=alice, subject="Router light blinks orange after a power cut", status="solved",
                         assignee=agnes, description="Hi,\nAfter the storm the router light blinks orange.")
    db.add(Message(ticket=ticket, author=agnes, public=True, created_at=utcnow(),
                   body="Hello Alice,\nHold the reset button for ten seconds until the light turns white."))
    db.commit()

    agent = browser.new_context(locale="en-GB").new_page()
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
    expect(agent.locator("#draft-preview strong")).to_have_text("reset")  # the live preview (htmx)
    agent.get_by_role("button", name="Publish", exact=True).click()
    expect(agent.get_by_text("Published. Customers can find it now.")).to_be_visible()
    assert (capture_kb / "en/connection/router-light-blinks-orange-after-a-power-cut.md").exists()

    customer = browser.new_context(locale="en-GB").new_page()
    _log_in(customer, live_server, alice.email)
    customer.goto(live_server + "/tickets/new")
    customer.fill("#subject", "orange light on my router")
    suggestions = customer.locator("#suggestions")
    expect(suggestions.get_by_role("link", name="Router light blinks orange after a power cut")).to_be_visible(
        timeout=10_000)
