"""Journeys 3 and 4, served by gunicorn (two workers): a ticket's whole life between an agent and a customer,
with and without JavaScript; and two agents on the same ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.models import Macro, Message, SatisfactionRating, Ticket
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def canned(db):
    """A ready answer: a macro with only a reply (what a canned response was)."""
    response = Macro(title="Restart the router", actions=[],
                     body_en="Hello {{ requester.name }},\n\nPlease unplug the router for ten seconds "
                             "and plug it back in. Does the light turn white?",
                     body_es="Hola {{ requester.name }},\n\nDesenchufa el router diez segundos.")
    db.add(response)
    db.commit()
    return response


@pytest.fixture
def red_light(make, alice):
    return make.ticket(requester=alice, subject="Internet light is red",
                       description="Since this morning the internet light on my router is red.")


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def status_of(db, ticket: Ticket) -> str:
    db.expire_all()
    return db.get(Ticket, ticket.id).status


def send_from_composer(page: Page, submit_as: str) -> None:
    page.locator("#submit-as").select_option(label=submit_as)
    page.locator("#composer").get_by_role("button", name="Send", exact=True).click()


def set_status_in_panel(page: Page, status: str, *, javascript: bool) -> None:
    form = page.locator("#side-panel form.panel-field", has=page.locator("#panel-status"))
    # Wait for the server's answer, not only the select's new value: the change is saved by that request.
    with page.expect_response(lambda r: r.url.endswith("/fields") and r.request.method == "POST"):
        form.locator("#panel-status").select_option(label=status)
        if not javascript:
            form.get_by_role("button", name="Save").click()
    expect(page.locator("#panel-status")).to_have_value(status.lower())


def customer_replies(page: Page, text: str) -> None:
    page.locator(".reply-box").get_by_label("Your reply").fill(text)
    page.locator(".reply-box").get_by_role("button", name="Send reply").click()
    expect(page.locator(".msg-customer", has_text=text)).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_ticket_from_the_queue_to_a_rated_close(javascript, gunicorn_server, open_context, step, db, agnes,
                                                   alice, canned, red_light):
    base = gunicorn_server
    agent = open_context(java_script_enabled=javascript).new_page()
    customer = open_context(java_script_enabled=javascript).new_page()
    log_in(agent, base, agnes.email)
    log_in(customer, base, alice.email)
    ref = red_light.ref

    # The agent takes the ticket from the queue; with JavaScript only the row changes.
    agent.goto(base + "/agent")
    row = agent.locator(f"#ticket-{ref}")
    if javascript:
        agent.evaluate("window.stillTheSamePage = true")
    row.get_by_role("button", name="Take").click()
    if javascript:
        expect(row).to_contain_text("Agnes Agent")
        expect(row.get_by_role("button", name="Take")).to_have_count(0)
        assert agent.evaluate("window.stillTheSamePage") is True  # no page reload
    else:
        expect(agent.get_by_text(f"You took {ref}.")).to_be_visible()
    step("taken", agent)
    db.expire_all()
    assert db.get(Ticket, red_light.id).assignee_id == agnes.id

    # A canned answer, sent as Pending.
    agent.goto(f"{base}/agent/tickets/{ref}")
    agent.locator("#composer select[name=macro]").select_option(label="Restart the router")
    agent.locator("#composer").get_by_role("button", name="Use", exact=True).click()
    expect(agent.locator("#composer-body")).to_have_value(
        "Hello Alice Customer,\n\nPlease unplug the router for ten seconds and plug it back in. "
        "Does the light turn white?")
    send_from_composer(agent, "Pending")
    expect(agent.locator(".msg-agent", has_text="Please unplug the router")).to_be_visible()
    step("answered-pending", agent)
    assert status_of(db, red_light) == "pending"

    # The customer answers from the portal: the ticket is open again.
    customer.goto(f"{base}/tickets/{ref}")
    expect(customer.get_by_text("Please unplug the router for ten seconds")).to_be_visible()
    customer_replies(customer, "I did, the light is still red.")
    step("customer-replied", customer)
    assert status_of(db, red_light) == "open"

    # Solved; the customer reopens with a reason; solved again; the customer confirms.
    agent.goto(f"{base}/agent/tickets/{ref}")
    agent.locator("#composer-body").fill("We reset your line from here. It should be white within an hour.")
    send_from_composer(agent, "Solved")
    expect(agent.locator(".msg-agent", has_text="We reset your line")).to_be_visible()
    assert status_of(db, red_light) == "solved"

    customer.goto(f"{base}/tickets/{ref}")
    customer.get_by_text("No, reopen it").click()
    customer.get_by_label("What is still not working?").fill("Two hours later it is still red.")
    customer.get_by_role("button", name="Reopen ticket").click()
    expect(customer.get_by_text("Two hours later it is still red.")).to_be_visible()
    step("reopened", customer)
    assert status_of(db, red_light) == "open"

    agent.goto(f"{base}/agent/tickets/{ref}")
    expect(agent.locator(".msg-customer", has_text="Two hours later it is still red.")).to_be_visible()
    set_status_in_panel(agent, "Solved", javascript=javascript)
    step("solved-again", agent)
    assert status_of(db, red_light) == "solved"

    customer.goto(f"{base}/tickets/{ref}")
    customer.get_by_role("button", name="Yes, it’s solved").click()
    expect(customer.locator(".ticket-header")).to_contain_text("Closed")
    assert status_of(db, red_light) == "closed"

    rating = customer.locator("#satisfaction")
    rating.get_by_label("Good, I'm satisfied").check()
    rating.get_by_label("Anything you would like to tell us? (optional)").fill("Quick and friendly.")
    rating.get_by_role("button", name="Send my rating").click()
    expect(customer.get_by_text("Thank you for your feedback.").first).to_be_visible()
    expect(customer.locator("#satisfaction")).to_contain_text("You rated this ticket: Good.")
    step("rated", customer)
    db.expire_all()
    [saved] = db.scalars(select(SatisfactionRating)).all()
    assert (saved.rating, saved.comment) == ("good", "Quick and friendly.")
    bodies = [m.body for m in db.scalars(select(Message).where(Message.ticket_id == red_light.id).order_by(Message.id))]
    assert bodies[-1] == "Two hours later it is still red."


def test_two_agents_on_one_ticket_see_each_other_and_nothing_is_lost(gunicorn_server, open_context, step, db, make,
                                                                     agnes, red_light):
    arthur = make.user(email="arthur@example.com", name="Arthur Agent", role="agent")
    base, ref = gunicorn_server, red_light.ref
    first, second = open_context().new_page(), open_context().new_page()
    log_in(first, base, agnes.email)
    log_in(second, base, arthur.email)
    first.goto(f"{base}/agent/tickets/{ref}")
    second.goto(f"{base}/agent/tickets/{ref}")

    # presence is polled every 3 s, through either gunicorn worker
    expect(first.locator("#presence")).to_contain_text("Arthur Agent is also viewing", timeout=10_000)
    expect(second.locator("#presence")).to_contain_text("Agnes Agent is", timeout=10_000)
    step("presence", second)

    # The first agent answers and sets the ticket Pending; the second one's page is now stale.
    first.locator("#composer-body").fill("Could you send us a photo of the router?")
    send_from_composer(first, "Pending")
    expect(first.locator(".msg-agent", has_text="Could you send us a photo")).to_be_visible()

    typed = "Hello Alice, we have restarted your line."
    second.locator("#composer-body").fill(typed)
    send_from_composer(second, "Solved")
    expect(second.locator("#conflict")).to_be_visible()
    expect(second.locator("#conflict")).to_contain_text("Agnes Agent")
    expect(second.locator("#composer-body")).to_have_value(typed)  # nothing typed is lost
    step("stale-update-refused", second)

    db.expire_all()
    ticket = db.get(Ticket, red_light.id)
    assert ticket.status == "pending"
    assert [m.body for m in ticket.messages if m.author_id == arthur.id] == []

    # Without JavaScript the refusal is a whole page, with the same message and the text kept.
    plain = open_context(java_script_enabled=False).new_page()
    log_in(plain, base, arthur.email)
    plain.goto(f"{base}/agent/tickets/{ref}")
    first.locator("#composer-body").fill("We are waiting for the technician's visit.")
    send_from_composer(first, "On hold")
    expect(first.locator(".msg-agent", has_text="waiting for the technician")).to_be_visible()
    plain.locator("#composer-body").fill(typed)
    send_from_composer(plain, "Solved")
    expect(plain.locator("#conflict")).to_contain_text("Agnes Agent")
    expect(plain.locator("#composer-body")).to_have_value(typed)
    step("stale-update-refused-without-javascript", plain)
    db.expire_all()
    assert db.get(Ticket, red_light.id).status == "on_hold"
