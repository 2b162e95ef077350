"""The customer's ticket pages through the Flask client: filing, following, replying, reopening, confirming,
follow-ups, people in copy, and what a customer must never see."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.models import Notification, Ticket
from portal.services import categories, tickets
from tests.conftest import login

NO_MATCH = {"subject": "Qwzx vbnm plkj", "description": "Zzxq wvvt qqpl."}


def file_ticket(client, **fields):
    data = {"subject": "My phone bill", "description": "Charged twice", "priority": "normal", "language": "en",
            "client_token": "", "suggestions_shown": "1", **fields}
    return client.post("/tickets", data=data)


def ticket_by_subject(db, subject: str) -> Ticket:
    db.expire_all()
    return db.scalar(select(Ticket).where(Ticket.subject == subject))


def count_tickets(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Ticket))


# ---- filing ----


def test_a_visitor_is_asked_to_log_in_and_comes_back_to_the_form(client, alice):
    response = client.get("/tickets/new")
    assert response.status_code == 302 and "/login?next=%2Ftickets%2Fnew" in response.location
    response = client.post("/login?next=/tickets/new", data={"email": alice.email,
                                                             "password": "correct-horse-battery"})
    assert response.location.endswith("/tickets/new")


def test_the_form_offers_categories_priorities_languages_and_a_token(client, db, alice):
    categories.ensure_default_categories(db)
    db.commit()
    login(client, alice)
    page = client.get("/tickets/new")
    assert page.status_code == 200
    for text in ("Billing &amp; invoices", "I am completely cut off", "Español", 'name="client_token"',
                 'type="file"', 'id="suggestions"'):
        assert text in page.text
    assert re.search(r'name="client_token" type="hidden" value="[\w-]{20,}"', page.text)


def test_the_form_works_without_any_category(client, alice):
    login(client, alice)
    assert client.get("/tickets/new").status_code == 200
    response = file_ticket(client, subject="No categories yet")
    assert response.status_code == 303


def test_filing_shows_the_reference_and_queues_the_confirmation(client, db, alice):
    login(client, alice)
    response = file_ticket(client, subject="Router blinking red", client_token="tok-a")
    ticket = ticket_by_subject(db, "Router blinking red")
    assert ticket.status == "new" and ticket.channel == "web"
    assert response.status_code == 303 and response.location.endswith(f"/tickets/{ticket.ref}")
    page = client.get(response.location)
    assert ticket.ref in page.text and "is filed" in page.text
    assert db.scalar(select(Notification.kind).where(Notification.ticket_id == ticket.id)) == "ticket_created"


def test_the_same_form_posted_twice_files_one_ticket(client, db, alice):
    login(client, alice)
    first = file_ticket(client, subject="Double click", client_token="same-token-123")
    second = file_ticket(client, subject="Double click", client_token="same-token-123")
    assert count_tickets(db) == 1
    assert second.status_code == 303 and second.location == first.location
    assert "already sent this" in client.get(second.location).text


def test_a_category_routes_and_its_required_custom_field_is_asked_for(client, db, make, alice):
    category = make.category(name="Devices", fields=({"key": "model", "label_en": "Device model",
                                                       "required": True},))
    login(client, alice)
    fields_fragment = client.get(f"/tickets/new/fields?category={category.id}")
    assert "Device model" in fields_fragment.text and "<html" not in fields_fragment.text
    refused = file_ticket(client, subject="Broken screen", category=str(category.id))
    assert refused.status_code == 422 and "This field is required." in refused.text
    assert "Broken screen" in refused.text and count_tickets(db) == 0
    filed = file_ticket(client, subject="Broken screen", category=str(category.id), field_model="X200")
    assert filed.status_code == 303
    ticket = ticket_by_subject(db, "Broken screen")
    assert ticket.category_id == category.id and ticket.field_values[0].value == "X200"


@pytest.mark.parametrize(("fields", "message"), [
    ({"subject": ""}, "This field is required."),
    ({"subject": "x" * 201}, "Use at most 200 characters."),
    ({"description": ""}, "This field is required."),
    ({"description": "y" * 50_001}, "Use at most 50000 characters."),
])
def test_bad_subject_or_description_is_refused_keeping_the_text(client, db, alice, fields, message):
    login(client, alice)
    data = {"subject": "Kept subject", "description": "Kept description", **fields}
    response = file_ticket(client, **data)
    assert response.status_code == 422 and message in response.text
    assert count_tickets(db) == 0
    kept = "Kept description" if "subject" in fields else "Kept subject"
    assert kept in response.text
    assert 'aria-invalid="true"' in response.text


def test_preview_renders_markdown_safely(client, alice):
    login(client, alice)
    fragment = client.post("/tickets/preview", data={"description": "**bold** <script>alert(1)</script>"},
                           headers={"HX-Request": "true"})
    assert "<strong>bold</strong>" in fragment.text and "<script>" not in fragment.text
    page = file_ticket(client, action="preview", description="*hello*")
    assert page.status_code == 200 and "<em>hello</em>" in page.text


# ---- following tickets ----


def test_the_ticket_page_shows_the_public_conversation_only(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="Refund please", description="I was charged twice")
    tickets.take(db, ticket, actor=agnes, now=utcnow())
    tickets.add_note(db, ticket, body="refund approved by finance", submit_as="on_hold", actor=agnes, now=utcnow())
    tickets.agent_reply(db, ticket, body="We are **on it**", actor=agnes, now=utcnow())
    db.commit()
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}")
    assert page.status_code == 200
    assert "refund approved by finance" not in page.text
    assert "On hold" not in page.text and "on_hold" not in page.text
    assert "<strong>on it</strong>" in page.text and "I was charged twice" in page.text
    assert "Handled by Agnes Agent" in page.text and ">Open<" in page.text


@pytest.mark.parametrize("path", ["/tickets/{other}", "/tickets/MSA-2222-3333", "/tickets/{other}/replies",
                                  "/tickets/nonsense"])
def test_another_customers_ticket_or_a_made_up_one_is_404(client, make, alice, bob, path):
    other = make.ticket(requester=bob, subject="Bob's secret subject")
    login(client, alice)
    url = path.format(other=other.ref)
    response = client.post(url, data={"body": "hi"}) if url.endswith("replies") else client.get(url)
    assert response.status_code == 404 and "secret" not in response.text


def test_agent_only_urls_are_403_for_customers(client, app, alice):
    login(client, alice)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("agent.") and not rule.arguments and "GET" in rule.methods:
            assert client.get(rule.rule).status_code == 403, rule.rule


def test_reply_moves_a_pending_ticket_back_to_open(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, assignee=agnes, status="pending")
    login(client, alice)
    response = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Here is the photo"})
    assert response.status_code == 303
    db.refresh(ticket)
    assert ticket.status == "open" and ticket.messages[-1].body == "Here is the photo"


def test_an_empty_reply_is_refused(client, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    response = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "  "})
    assert response.status_code == 422 and "This field is required." in response.text


def test_a_reply_to_a_ticket_closed_meanwhile_is_offered_as_a_follow_up(client, db, make, alice):
    ticket = make.ticket(requester=alice, status="closed", subject="Old problem")
    login(client, alice)
    response = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "It is back again"})
    assert response.status_code == 409
    assert "no longer possible" in response.text and "create a follow-up" in response.text
    assert "It is back again</textarea>" in response.text and "Follow-up: Old problem" in response.text
    assert len(ticket_by_subject(db, "Old problem").messages) == 1


def test_an_invalid_transition_is_409_naming_what_is_allowed(client, db, make, alice):
    ticket = make.ticket(requester=alice, status="open")
    login(client, alice)
    response = client.post(f"/tickets/{ticket.ref}/confirm")
    assert response.status_code == 409
    assert "You can: reply." in response.text
    db.refresh(ticket)
    assert ticket.status == "open"


def test_solved_shows_both_answers_and_reopen_needs_a_reason(client, db, make, alice):
    ticket = make.ticket(requester=alice, status="solved")
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}")
    assert "Yes, it’s solved" in page.text and "No, reopen it" in page.text
    refused = client.post(f"/tickets/{ticket.ref}/reopen", data={"reason": ""})
    assert refused.status_code == 422 and "Tell us why the solution did not help." in refused.text
    assert client.post(f"/tickets/{ticket.ref}/reopen", data={"reason": "Still slow"}).status_code == 303
    db.refresh(ticket)
    assert ticket.status == "open" and ticket.messages[-1].body == "Still slow"


def test_closed_offers_only_a_follow_up(client, make, alice):
    ticket = make.ticket(requester=alice, status="closed")
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}").text
    assert "Create a follow-up" in page
    assert "Send reply" not in page and "No, reopen it" not in page and "Add to copy" not in page


def test_follow_up_creates_a_linked_ticket_once(client, db, make, alice):
    closed = make.ticket(requester=alice, status="closed", subject="Old problem")
    login(client, alice)
    data = {"subject": "Follow-up: Old problem", "description": "Happened again", "client_token": "fu-token-1"}
    response = client.post(f"/tickets/{closed.ref}/follow-up", data=data)
    again = client.post(f"/tickets/{closed.ref}/follow-up", data=data)
    new = ticket_by_subject(db, "Follow-up: Old problem")
    assert response.status_code == 303 and again.location == response.location
    assert new.follow_up_of_id == closed.id and new.status == "new"
    assert closed.ref in client.get(response.location).text


def test_a_follow_up_in_a_category_with_a_required_field_inherits_the_answers(client, db, make, alice):
    """The follow-up form has no custom fields: it files with the closed ticket's answers instead of a 422,
    and with none at all when the closed ticket had none (the field became required later)."""
    category = make.category(fields=({"key": "contract", "label_en": "Contract number", "required": True},))
    answered = make.ticket(requester=alice, status="closed", subject="Old", category=category,
                           field_values={"contract": "C-42"})
    unanswered = make.ticket(requester=alice, status="closed", subject="Older", category=category,
                             field_values={"contract": "C-43"})
    unanswered.field_values.clear()
    db.commit()
    login(client, alice)
    for closed, token in ((answered, "fu-required-1"), (unanswered, "fu-required-2")):
        response = client.post(f"/tickets/{closed.ref}/follow-up", data={
            "subject": f"Again: {closed.subject}", "description": "Still broken", "client_token": token})
        assert response.status_code == 303, response.text
    db.expire_all()
    first, second = ticket_by_subject(db, "Again: Old"), ticket_by_subject(db, "Again: Older")
    assert first.follow_up_of_id == answered.id and second.follow_up_of_id == unanswered.id
    assert [(v.field.key, v.value) for v in first.field_values] == [("contract", "C-42")]
    assert second.field_values == [] and second.category_id == category.id


def test_follow_up_of_an_open_ticket_is_refused(client, make, alice):
    ticket = make.ticket(requester=alice, status="open")
    login(client, alice)
    response = client.post(f"/tickets/{ticket.ref}/follow-up",
                           data={"subject": "x", "description": "y", "client_token": "t-1"})
    assert response.status_code == 409


# ---- the whole journey ----


def test_the_whole_journey(client, db, alice, agnes):
    login(client, alice)
    file_ticket(client, subject="Fibre down", description="Nothing works", client_token="journey")
    ticket = ticket_by_subject(db, "Fibre down")
    agent = db.merge(agnes)

    tickets.take(db, ticket, actor=agent, now=utcnow())
    tickets.agent_reply(db, ticket, body="Is the ONT light red?", submit_as="pending", actor=agent, now=utcnow())
    db.commit()
    assert "Waiting for your reply" in client.get(f"/tickets/{ticket.ref}").text

    client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Yes, red"})
    db.refresh(ticket)
    assert ticket.status == "open"

    tickets.agent_reply(db, ticket, body="We reset your line", submit_as="solved", actor=agent, now=utcnow())
    db.commit()
    client.post(f"/tickets/{ticket.ref}/reopen", data={"reason": "Still red this morning"})
    db.refresh(ticket)
    assert ticket.status == "open"

    tickets.agent_reply(db, ticket, body="Technician fixed it", submit_as="solved", actor=agent, now=utcnow())
    db.commit()
    assert client.post(f"/tickets/{ticket.ref}/confirm").status_code == 303
    db.refresh(ticket)
    assert ticket.status == "closed"

    refused = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "One more question"})
    assert refused.status_code == 409 and "Create a follow-up" in refused.text
    follow = client.post(f"/tickets/{ticket.ref}/follow-up",
                         data={"subject": "Follow-up: Fibre down", "description": "One more question",
                               "client_token": "journey-2"})
    assert follow.status_code == 303
    assert ticket_by_subject(db, "Follow-up: Fibre down").follow_up_of_id == ticket.id
    kinds = [e.kind for e in ticket.events]
    assert kinds.count("reopened") == 1 and kinds[-1] == "confirmed"


# ---- the list ----


def test_list_filters_searches_and_marks_unread_replies(client, db, make, alice, bob, agnes):
    router = make.ticket(requester=alice, subject="Router lights")
    make.ticket(requester=alice, subject="Invoice twice", description="charged twice in March")
    make.ticket(requester=bob, subject="Bob's router")
    tickets.agent_reply(db, router, body="Try a restart", submit_as="pending", actor=agnes, now=utcnow())
    db.commit()
    login(client, alice)
    page = client.get("/tickets").text
    assert "Router lights" in page and "Invoice twice" in page and "Bob's router" not in page
    assert page.index("Router lights") < page.index("Invoice twice")
    assert page.count("New reply") == 1
    pending = client.get("/tickets?status=pending").text
    assert "Router lights" in pending and "Invoice twice" not in pending
    assert "Invoice twice" in client.get("/tickets?q=march").text
    assert "Router lights" not in client.get("/tickets?q=march").text
    assert "No tickets match" in client.get("/tickets?q=nothing-like-this").text
    client.get(f"/tickets/{router.ref}")
    assert "New reply" not in client.get("/tickets").text


def test_the_list_is_paginated(client, make, alice):
    for n in range(21):
        make.ticket(requester=alice, subject=f"Ticket number {n:02d}")
    login(client, alice)
    first = client.get("/tickets").text
    assert "Page 1 of 2" in first and "Ticket number 20" in first and "Ticket number 00" not in first
    assert "Ticket number 00" in client.get("/tickets?page=2").text


# ---- people in copy ----


def test_ccs_can_be_added_and_removed(client, db, make, alice, bob):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    assert client.post(f"/tickets/{ticket.ref}/ccs", data={"email": "Partner@Example.com"}).status_code == 303
    db.refresh(ticket)
    assert [cc.email for cc in ticket.ccs] == ["partner@example.com"]
    duplicate = client.post(f"/tickets/{ticket.ref}/ccs", data={"email": "partner@example.com"})
    assert duplicate.status_code == 422 and "already in copy" in duplicate.text
    assert client.post(f"/tickets/{ticket.ref}/ccs/{ticket.ccs[0].id}/delete").status_code == 303
    db.expire_all()
    assert ticket.ccs == []


def test_another_customer_cannot_touch_ccs(client, make, alice, bob):
    ticket = make.ticket(requester=bob)
    login(client, alice)
    assert client.post(f"/tickets/{ticket.ref}/ccs", data={"email": "me@example.com"}).status_code == 404


def test_forms_need_a_csrf_token(csrf_client, make, alice):
    ticket = make.ticket(requester=alice)
    login_page = csrf_client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    csrf_client.post("/login", data={"email": alice.email, "password": "correct-horse-battery", "csrf_token": token})
    response = csrf_client.post(f"/tickets/{ticket.ref}/replies", data={"body": "no token"})
    assert response.status_code == 400
