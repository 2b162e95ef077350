"""Agents file tickets for customers from the back office (a phone call, a mail forwarded by hand)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import Message, Ticket, TicketEvent, User
from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD


def _form(**values: str) -> dict[str, str]:
    return {"subject": "Cannot print invoices", "description": "Called at 10:05: the print button does nothing.",
            "priority": "high", "channel": "phone", "category": "", **values}


def _tickets(db) -> list[Ticket]:
    db.expire_all()
    return list(db.scalars(select(Ticket).order_by(Ticket.id)))


def test_the_queue_links_to_the_new_ticket_page(client, agnes):
    login(client, agnes)
    assert 'href="/agent/tickets/new"' in client.get("/agent").text


def test_an_agent_files_a_ticket_for_an_existing_customer(client, db, agnes, alice, bob):
    login(client, agnes)
    page = client.get("/agent/tickets/new")
    assert page.status_code == 200 and 'name="q"' in page.text

    response = client.post("/agent/tickets/new", data=_form(customer=str(alice.id)))

    [ticket] = _tickets(db)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agent/tickets/{ticket.ref}")
    assert ticket.requester_id == alice.id and ticket.channel == "phone" and ticket.priority == "high"
    first = db.scalar(select(Message).where(Message.ticket_id == ticket.id))
    assert first.author_id == alice.id and first.body.startswith("Called at 10:05")
    created = db.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "created"))
    assert created.actor_id == agnes.id  # the agent filed it
    workspace = client.get(response.headers["Location"])
    assert "Cannot print invoices" in workspace.text
    # The customer sees it among their own tickets.
    client.post("/logout")
    login(client, alice)
    assert "Cannot print invoices" in client.get("/tickets").text


def test_an_agent_files_a_ticket_for_a_new_customer(client, db, agnes):
    login(client, agnes)
    response = client.post("/agent/tickets/new", data=_form(new_name="Erin Caller", new_email="Erin@Example.org",
                                                            channel="email"))

    assert response.status_code == 303
    [ticket] = _tickets(db)
    erin = db.scalar(select(User).where(User.email == "erin@example.org"))
    assert ticket.requester_id == erin.id and ticket.channel == "email"
    assert erin.name == "Erin Caller" and erin.role == "customer" and not erin.verified and erin.password_hash is None


def test_an_existing_address_is_not_created_twice(client, db, agnes, alice):
    login(client, agnes)
    response = client.post("/agent/tickets/new", data=_form(new_name="Alice Again", new_email="alice@example.com"))

    assert response.status_code == 422
    assert "An account with this e-mail already exists." in response.text
    assert "Cannot print invoices" in response.text  # what was typed is kept
    assert _tickets(db) == []


def test_a_ticket_needs_a_customer(client, db, agnes):
    login(client, agnes)
    response = client.post("/agent/tickets/new", data=_form())
    assert response.status_code == 422
    assert "Choose a customer from the list, or create one." in response.text
    assert _tickets(db) == []


def test_the_same_form_sent_twice_files_one_ticket(client, db, agnes, alice):
    login(client, agnes)
    data = _form(customer=str(alice.id), client_token="token-1234567890")
    first = client.post("/agent/tickets/new", data=data)
    second = client.post("/agent/tickets/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_tickets(db)) == 1


@pytest.mark.parametrize("url", ["/agent/tickets/new", "/agent/customers?q=ali"])
def test_customers_get_403(client, alice, url):
    login(client, alice)
    assert client.get(url).status_code == 403
    assert client.post("/agent/tickets/new", data=_form(customer=str(alice.id))).status_code == 403


def test_the_customer_search_answers_htmx_with_the_matches(client, agnes, alice, bob, make):
    make.user(email="ali-agent@example.com", name="Ali Agent", role="agent")
    login(client, agnes)
    assert 'hx-get="/agent/customers"' in client.get("/agent/tickets/new").text
    fragment = client.get("/agent/customers?q=ali", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="customer-results"')
    assert "alice@example.com" in fragment.text
    assert "bob@example.com" not in fragment.text and "ali-agent@example.com" not in fragment.text


def test_without_javascript_the_search_button_posts_the_form_and_keeps_it(csrf_client, db, agnes, alice):
    client = csrf_client
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": agnes.email, "password": DEFAULT_PASSWORD, "csrf_token": token})
    page = client.get("/agent/tickets/new").text
    assert 'formnovalidate' in page and 'value="search"' in page  # the search works as a plain form button

    searched = client.post("/agent/tickets/new", data=_form(csrf_token=token, q="alice", action="search"))
    assert searched.status_code == 200
    assert f'value="{alice.id}"' in searched.text and "Cannot print invoices" in searched.text
    assert _tickets(db) == []

    filed = client.post("/agent/tickets/new", data=_form(csrf_token=token, q="alice", customer=str(alice.id),
                                                         action="file"))
    assert filed.status_code == 303
    [ticket] = _tickets(db)
    assert ticket.requester_id == alice.id

    refused = client.post("/agent/tickets/new", data=_form(customer=str(alice.id)))  # no CSRF token
    assert refused.status_code in (400, 422) and len(_tickets(db)) == 1


# ---- Custom fields: the agent answers them as the customer would on the web form ----

PHONE_FIELDS = (
    {"key": "connection_type", "label_en": "Connection type", "kind": "select", "required": True,
     "options": [{"value": "fibre", "label_en": "Fibre"}, {"value": "mobile", "label_en": "Mobile data"}]},
    {"key": "speed", "label_en": "Measured speed", "kind": "number"},
)


def test_the_form_asks_the_categorys_custom_fields_with_and_without_javascript(client, db, make, agnes, alice):
    category = make.category(fields=PHONE_FIELDS)
    login(client, agnes)
    fragment = client.get(f"/agent/tickets/new/fields?category={category.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'name="field_connection_type"' in fragment.text and "Mobile data" in fragment.text
    refreshed = client.post("/agent/tickets/new", data=_form(customer=str(alice.id), category=str(category.id),
                                                             action="refresh"))
    assert refreshed.status_code == 200 and 'name="field_speed"' in refreshed.text
    assert "Cannot print invoices" in refreshed.text and _tickets(db) == []


def test_an_agent_files_a_ticket_with_the_categorys_custom_fields(client, db, make, agnes, alice):
    category = make.category(fields=PHONE_FIELDS)
    login(client, agnes)
    response = client.post("/agent/tickets/new", data=_form(
        customer=str(alice.id), category=str(category.id), field_connection_type="mobile", field_speed="12,5"))

    assert response.status_code == 303, response.text
    [ticket] = _tickets(db)
    assert ticket.category_id == category.id
    assert sorted((v.field.key, v.value) for v in ticket.field_values) == [("connection_type", "mobile"),
                                                                           ("speed", "12.5")]


@pytest.mark.parametrize(("values", "field", "message"), [
    ({}, "field_connection_type", "This field is required."),
    ({"field_connection_type": "satellite"}, "field_connection_type", "Choose one of the options offered."),
    ({"field_connection_type": "fibre", "field_speed": "fast"}, "field_speed", "Enter a number."),
])
def test_a_missing_or_wrong_custom_field_is_a_422_on_that_field(client, db, make, agnes, alice, values, field,
                                                                 message):
    category = make.category(fields=PHONE_FIELDS)
    login(client, agnes)
    response = client.post("/agent/tickets/new", data=_form(customer=str(alice.id), category=str(category.id),
                                                            **values))
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error" class="field-error">{re.escape(message)}<', response.text), response.text
    assert "Cannot print invoices" in response.text and _tickets(db) == []
