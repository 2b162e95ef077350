"""Issue 19's small trust fixes in a real browser: the queue's select-all box and Take, local times with the
exact time on hover, a public answer that opens a New ticket, the Spanish timeline, and the page a customer gets
at the agent desk."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from portal.models import Ticket
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def app_config():
    return {"TIMEZONE": "America/Bogota"}  # five hours from UTC all year


def log_in(page: Page, server: str, user) -> None:
    page.goto(server + "/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()


def test_the_queue_selects_all_shows_local_times_and_offers_take_only_on_free_tickets(
        page: Page, live_server, make, alice, agnes):
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    free = make.ticket(requester=alice, subject="Nobody has me", status="new")
    taken = make.ticket(requester=alice, subject="Diego has me", status="open", assignee=diego)
    log_in(page, live_server, agnes)
    page.goto(live_server + "/agent?view=all")

    boxes = page.locator('tbody input[name="refs"]')
    expect(boxes).to_have_count(2)
    page.locator("input[data-select-all]").check()
    for n in range(2):
        expect(boxes.nth(n)).to_be_checked()
    expect(page.locator(".select-all-link")).to_be_hidden()  # the no-JavaScript link gives way to the box

    expect(page.locator(f"#ticket-{free.ref}").get_by_role("button", name="Take")).to_be_visible()
    expect(page.locator(f"#ticket-{taken.ref}").get_by_role("button", name="Take")).to_have_count(0)

    updated = page.locator(f"#ticket-{free.ref} .col-time time")
    local = free.updated_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("America/Bogota"))
    assert local.strftime("%H:%M") in updated.get_attribute("title")  # the exact local time on hover
    assert "ago" in updated.inner_text() or "just now" in updated.inner_text()


def test_a_public_answer_opens_a_new_ticket_and_the_spanish_timeline_reads_as_sentences(
        page: Page, live_server, db, make, alice):
    tomas = make.user(email="tomas@example.com", name="Tomás Agente", role="agent", locale="es")
    ticket = make.ticket(requester=alice, subject="Sin conexión", status="new")
    log_in(page, live_server, tomas)
    page.goto(f"{live_server}/agent/tickets/{ticket.ref}")
    page.locator("textarea[name=body]").fill("¿Qué luces ves en el router?")
    page.get_by_role("button", name="Enviar").click()

    timeline = page.locator("#ws-timeline")
    expect(timeline.get_by_text("Tomás Agente cambió el estado de Nueva a Abierta")).to_be_visible()
    expect(page.locator("#ws-header .astatus-open")).to_be_visible()
    assert "status" not in timeline.inner_text() and "assignee_id" not in timeline.inner_text()
    db.expire_all()
    assert db.get(Ticket, ticket.id).assignee_id == tomas.id


def test_a_customer_at_the_agent_desk_is_told_why_and_where_to_go(page: Page, live_server, alice):
    log_in(page, live_server, alice)
    answer = page.goto(live_server + "/agent")
    assert answer.status == 403
    expect(page.get_by_text("This part of Mesa is for the support team")).to_be_visible()
    page.get_by_role("link", name="Go to your requests").click()
    expect(page).to_have_url(live_server + "/tickets")
