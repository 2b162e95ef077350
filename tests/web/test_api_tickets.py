"""The REST API's tickets: who sees what, lists, filing with an Idempotency-Key, changes and conflicts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import Group, Ticket, TicketEvent
from tests.conftest import login
from tests.web.api_support import bearer, token_for

TOKEN_ENDPOINTS = [
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{ref}"),
    ("patch", "/api/v1/tickets/{ref}"),
    ("get", "/api/v1/tickets/{ref}/messages"),
    ("post", "/api/v1/tickets/{ref}/messages"),
    ("get", "/api/v1/tickets/{ref}/attachments/1"),
    ("get", "/api/v1/users/me"),
    ("get", "/api/v1/users/1"),
    ("post", "/api/v1/users"),
]


@pytest.fixture
def ticket_of_alice(make, alice):
    return make.ticket(requester=alice, subject="Printer on fire", description="Smoke everywhere.")


@pytest.fixture
def ticket_of_bob(make, bob):
    return make.ticket(requester=bob, subject="Bob's secret invoice", description="Account 1234.")


@pytest.fixture
def alice_token(db, alice):
    return bearer(token_for(db, alice))


@pytest.fixture
def bob_token(db, bob):
    return bearer(token_for(db, bob))


@pytest.fixture
def agent_token(db, agnes):
    return bearer(token_for(db, agnes))


# ---- Authentication ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), TOKEN_ENDPOINTS)
def test_every_endpoint_refuses_anonymous_callers_with_json_401(client, ticket_of_alice, method, path):
    response = getattr(client, method)(path.format(ref=ticket_of_alice.ref), json={})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.json["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer mesa_not-a-real-token", "Basic YWxpY2U6cGFzcw==", "Bearer"])
def test_unknown_or_malformed_credentials_are_refused(client, header):
    response = client.get("/api/v1/tickets", headers={"Authorization": header})
    assert response.status_code == 401


def test_a_logged_in_browser_session_does_not_authenticate_the_api(client, alice, ticket_of_alice):
    login(client, alice)
    assert client.get("/tickets").status_code == 200  # the session works for pages...
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401  # ...but never for the API
    assert client.post("/api/v1/tickets", json={"subject": "x", "description": "y"}).status_code == 401


def test_bearer_calls_need_no_csrf_token(csrf_client, alice_token):
    response = csrf_client.post("/api/v1/tickets", json={"subject": "Wifi down", "description": "Since 9am."},
                                headers=alice_token)
    assert response.status_code == 201, response.json


# ---- Who sees what -------------------------------------------------------------------------------------------


def test_customer_lists_only_their_own_tickets(client, alice_token, ticket_of_alice, ticket_of_bob):
    response = client.get("/api/v1/tickets", headers=alice_token)
    assert response.status_code == 200
    assert [t["ref"] for t in response.json["tickets"]] == [ticket_of_alice.ref]
    assert "Bob's secret invoice" not in response.text


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("patch", ""), ("get", "/messages"),
                                                ("post", "/messages"), ("get", "/attachments/1")])
def test_another_customers_ticket_is_not_found_and_reveals_nothing(client, alice_token, ticket_of_bob, method,
                                                                     suffix):
    theirs = getattr(client, method)(f"/api/v1/tickets/{ticket_of_bob.ref}{suffix}",
                                     json={"version": 1, "body": "hi"}, headers=alice_token)
    missing = getattr(client, method)(f"/api/v1/tickets/MSA-ZZZZ-ZZZZ{suffix}",
                                      json={"version": 1, "body": "hi"}, headers=alice_token)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json == missing.json
    assert "invoice" not in theirs.text


def test_customers_see_their_words_for_statuses_and_no_internal_fields(client, db, make, alice, alice_token):
    on_hold = make.ticket(requester=alice, status="on_hold", assignee=make.user(role="agent"))
    body = client.get(f"/api/v1/tickets/{on_hold.ref}", headers=alice_token).json
    assert body["status"] == "open"
    assert "tags" not in body and "group" not in body
    assert body["requester"]["id"] == alice.id


def test_agents_see_every_ticket_with_internal_fields(client, agent_token, ticket_of_alice, ticket_of_bob):
    body = client.get("/api/v1/tickets", headers=agent_token).json
    assert {t["ref"] for t in body["tickets"]} == {ticket_of_alice.ref, ticket_of_bob.ref}
    assert all("tags" in t and "group" in t for t in body["tickets"])
    one = client.get(f"/api/v1/tickets/{ticket_of_bob.ref}", headers=agent_token).json
    assert one["subject"] == "Bob's secret invoice"
    assert one["allowed_actions"] == ["take", "set_open", "set_pending", "set_on_hold", "solve"]


def test_customers_may_not_filter_by_internal_fields(client, alice_token):
    response = client.get("/api/v1/tickets?tag=vip", headers=alice_token)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_allowed"


# ---- Lists: filters and cursors --------------------------------------------------------------------------------


def test_filters_narrow_the_list(client, db, make, agnes, agent_token, alice):
    group = Group(name="Billing")
    db.add(group)
    db.commit()
    mine = make.ticket(requester=alice, status="open", assignee=agnes, priority="high")
    urgent = make.ticket(requester=alice, priority="urgent")
    grouped = make.ticket(requester=alice)
    grouped.group_id = group.id
    db.commit()
    client.patch(f"/api/v1/tickets/{urgent.ref}", json={"version": urgent.version, "tags": ["vip"]},
                 headers=agent_token)

    def refs(query: str) -> set[str]:
        response = client.get(f"/api/v1/tickets?{query}", headers=agent_token)
        assert response.status_code == 200, response.json
        return {t["ref"] for t in response.json["tickets"]}

    assert refs("status=open") == {mine.ref}
    assert refs("status=new,open") == {mine.ref, urgent.ref, grouped.ref}
    assert refs("priority=urgent") == {urgent.ref}
    assert refs("assignee=me") == {mine.ref}
    assert refs(f"assignee={agnes.id}") == {mine.ref}
    assert refs("assignee=none") == {urgent.ref, grouped.ref}
    assert refs(f"group={group.id}") == {grouped.ref}
    assert refs("tag=vip") == {urgent.ref}
    assert refs("updated_since=2999-01-01T00:00:00Z") == set()
    assert refs("updated_since=2000-01-01T00:00:00Z") == {mine.ref, urgent.ref, grouped.ref}


@pytest.mark.parametrize("query", ["status=bogus", "priority=meh", "limit=0", "limit=1000", "assignee=someone",
                                   "updated_since=yesterday", "cursor=not-a-cursor", "sort=subject"])
def test_invalid_list_parameters_are_422_naming_the_parameter(client, agent_token, query):
    response = client.get(f"/api/v1/tickets?{query}", headers=agent_token)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert response.json["error"]["field"] == query.split("=")[0]


@pytest.mark.parametrize("sort", ["-updated_at", "updated_at"])
def test_cursor_pages_cover_every_ticket_once_even_when_tickets_arrive_meanwhile(client, make, alice, agent_token,
                                                                                 sort):
    created = [make.ticket(requester=alice).ref for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        query = f"limit=2&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/tickets?{query}", headers=agent_token).json
        seen += [t["ref"] for t in body["tickets"]]
        pages += 1
        if pages == 1:
            make.ticket(requester=alice)  # a new ticket during paging neither shifts nor repeats the pages
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(created) <= set(seen)
    assert pages == 3


def test_a_cursor_of_another_sort_order_is_refused(client, make, alice, agent_token):
    for _ in range(3):
        make.ticket(requester=alice)
    cursor = client.get("/api/v1/tickets?limit=1", headers=agent_token).json["next_cursor"]
    response = client.get(f"/api/v1/tickets?limit=1&sort=updated_at&cursor={cursor}", headers=agent_token)
    assert response.status_code == 422


# ---- Filing ------------------------------------------------------------------------------------------------------


def test_customer_files_a_ticket_through_the_api(client, db, alice, alice_token):
    response = client.post("/api/v1/tickets", json={"subject": "VPN drops", "description": "Every hour.",
                                                    "priority": "high"}, headers=alice_token)
    assert response.status_code == 201
    body = response.json
    assert body["channel"] == "api" and body["priority"] == "high" and body["status"] == "open"
    assert response.headers["Location"].endswith(f"/api/v1/tickets/{body['ref']}")
    ticket = db.scalar(select(Ticket).where(Ticket.ref == body["ref"]))
    assert ticket.requester_id == alice.id and ticket.channel == "api"
    assert ticket.messages[0].body == "Every hour."


def test_the_same_idempotency_key_files_one_ticket(client, db, alice_token):
    payload = {"subject": "Invoice wrong", "description": "Charged twice."}
    headers = {**alice_token, "Idempotency-Key": "order-4711"}
    first = client.post("/api/v1/tickets", json=payload, headers=headers)
    again = client.post("/api/v1/tickets", json=payload, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["ref"] == again.json["ref"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(client, db, alice_token):
    headers = {**alice_token, "Idempotency-Key": "k-1"}
    client.post("/api/v1/tickets", json={"subject": "One", "description": "First."}, headers=headers)
    response = client.post("/api/v1/tickets", json={"subject": "Two", "description": "Second."}, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["field"] == "Idempotency-Key"
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1


def test_idempotency_keys_belong_to_one_token(client, db, alice, alice_token):
    other = bearer(token_for(db, alice, name="second script"))
    payload = {"subject": "Same words", "description": "Same words."}
    one = client.post("/api/v1/tickets", json=payload, headers={**alice_token, "Idempotency-Key": "k"})
    two = client.post("/api/v1/tickets", json=payload, headers={**other, "Idempotency-Key": "k"})
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json["ref"] != two.json["ref"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"description": "No subject"}, "subject"),
    ({"subject": "   ", "description": "Blank subject"}, "subject"),
    ({"subject": "x" * 201, "description": "Too long"}, "subject"),
    ({"subject": "No body"}, "description"),
    ({"subject": "S", "description": "D", "priority": "whenever"}, "priority"),
    ({"subject": "S", "description": "D", "language": "fr"}, "language"),
    ({"subject": "S", "description": "D", "category_id": 999}, "category_id"),
    ({"subject": 5, "description": "D"}, "subject"),
    ([1, 2], "body"),
])
def test_invalid_tickets_are_422_and_nothing_is_filed(client, db, alice_token, payload, field):
    response = client.post("/api/v1/tickets", json=payload, headers=alice_token)
    assert response.status_code == 422
    assert response.json["error"]["field"] == field
    assert response.json["error"]["message"]
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0


API_FIELDS = (
    {"key": "connection_type", "label_en": "Connection type", "kind": "select", "required": True,
     "options": [{"value": "fibre", "label_en": "Fibre"}, {"value": "5g", "label_en": "5G"}]},
    {"key": "speed", "label_en": "Measured speed", "kind": "number"},
    {"key": "router_restarted", "label_en": "Router restarted", "kind": "checkbox"},
)


def test_a_ticket_is_filed_with_its_categorys_custom_fields(client, db, make, alice, alice_token):
    category = make.category(fields=API_FIELDS)
    response = client.post("/api/v1/tickets", headers=alice_token, json={
        "subject": "Slow", "description": "Since Monday.", "category_id": category.id,
        "fields": {"connection_type": "5g", "speed": 12.5, "router_restarted": True}})
    assert response.status_code == 201, response.json
    assert response.json["fields"] == {"connection_type": "5g", "speed": "12.5", "router_restarted": "yes"}
    listed = client.get("/api/v1/tickets", headers=alice_token).json["tickets"]
    assert listed[0]["fields"] == response.json["fields"]
    ticket = db.scalar(select(Ticket).where(Ticket.ref == response.json["ref"]))
    assert sorted(v.field.key for v in ticket.field_values) == ["connection_type", "router_restarted", "speed"]


@pytest.mark.parametrize(("fields", "field"), [
    (None, "fields.connection_type"),  # required, and left out
    ({"speed": 3}, "fields.connection_type"),
    ({"connection_type": "dsl"}, "fields.connection_type"),
    ({"connection_type": "fibre", "speed": "fast"}, "fields.speed"),
    ({"connection_type": "fibre", "speed": "1e999999999"}, "fields.speed"),
    ({"connection_type": ["fibre"]}, "fields.connection_type"),
    ({"connection_type": "fibre", "speed": "1\x00"}, "fields.speed"),  # PostgreSQL cannot store a NUL
    ({"connection_type": "fibre", "colour": "blue"}, "fields.colour"),
    (["connection_type"], "fields"),
    ("fibre", "fields"),
])
def test_a_missing_or_wrong_custom_field_is_a_422_naming_it(client, db, make, alice_token, fields, field):
    category = make.category(fields=API_FIELDS)
    payload = {"subject": "Slow", "description": "Since Monday.", "category_id": category.id}
    if fields is not None:
        payload["fields"] = fields
    response = client.post("/api/v1/tickets", json=payload, headers=alice_token)
    assert response.status_code == 422, response.json
    assert response.json["error"]["field"] == field and response.json["error"]["message"]
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0


def test_fields_without_a_category_are_refused_not_dropped(client, db, alice_token):
    response = client.post("/api/v1/tickets", headers=alice_token,
                           json={"subject": "S", "description": "D", "fields": {"order": "4711"}})
    assert response.status_code == 422 and response.json["error"]["field"] == "fields.order"


def test_customers_cannot_file_for_someone_else_but_agents_can(client, alice, bob, alice_token, agent_token):
    refused = client.post("/api/v1/tickets", json={"subject": "S", "description": "D", "requester_id": bob.id},
                          headers=alice_token)
    assert refused.status_code == 403
    filed = client.post("/api/v1/tickets", json={"subject": "Phoned in", "description": "D",
                                                 "requester_id": alice.id}, headers=agent_token)
    assert filed.status_code == 201
    assert filed.json["requester"]["id"] == alice.id


# ---- Changing a ticket ---------------------------------------------------------------------------------------------


def test_agent_changes_fields_and_takes_the_ticket_in_one_call(client, db, agnes, agent_token, ticket_of_alice):
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}", headers=agent_token, json={
        "version": ticket_of_alice.version, "priority": "urgent", "tags": ["VIP", "printer"], "action": "take"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["priority"] == "urgent" and body["tags"] == ["printer", "vip"]
    assert body["status"] == "open" and body["assignee"]["id"] == agnes.id
    assert body["version"] > ticket_of_alice.version
    kinds = set(db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_of_alice.id)))
    assert {"priority_changed", "tag_added", "assigned", "status_changed"} <= kinds


def test_a_stale_version_is_a_409_and_changes_nothing(client, db, agent_token, ticket_of_alice):
    old = ticket_of_alice.version
    client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}", json={"version": old, "priority": "high"},
                 headers=agent_token)
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}", json={"version": old, "priority": "low"},
                            headers=agent_token)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "version_conflict"
    assert response.json["error"]["current_version"] == old + 1
    db.refresh(ticket_of_alice)
    assert ticket_of_alice.priority == "high"


def test_an_action_the_status_table_refuses_is_a_409_with_the_reason(client, db, agent_token, ticket_of_alice):
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}",
                             json={"version": ticket_of_alice.version, "action": "solve", "priority": "high"},
                             headers=agent_token)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    assert response.json["error"]["message"] == "Assign this ticket before solving it."
    db.refresh(ticket_of_alice)
    assert ticket_of_alice.status == "new" and ticket_of_alice.priority == "normal"  # all or nothing


def test_a_closed_ticket_refuses_status_actions_with_409_naming_what_is_allowed(client, make, alice, agent_token):
    closed = make.ticket(requester=alice, status="closed")
    response = client.patch(f"/api/v1/tickets/{closed.ref}", json={"version": closed.version, "action": "take"},
                            headers=agent_token)
    assert response.status_code == 409
    assert "closed" in response.json["error"]["message"]
    assert response.json["error"]["allowed_actions"] == ["follow_up"]


def test_customer_confirms_a_solution(client, db, make, alice, alice_token):
    solved = make.ticket(requester=alice, status="solved")
    response = client.patch(f"/api/v1/tickets/{solved.ref}", json={"version": solved.version, "action": "confirm"},
                            headers=alice_token)
    assert response.status_code == 200
    assert response.json["status"] == "closed"


def test_customer_reopens_with_a_reason_only(client, make, alice, alice_token):
    solved = make.ticket(requester=alice, status="solved")
    no_reason = client.patch(f"/api/v1/tickets/{solved.ref}", json={"version": solved.version, "action": "reopen"},
                             headers=alice_token)
    assert no_reason.status_code == 422
    reopened = client.patch(f"/api/v1/tickets/{solved.ref}", headers=alice_token, json={
        "version": solved.version, "action": "reopen", "reason": "Still broken."})
    assert reopened.status_code == 200
    assert reopened.json["status"] == "open"


def test_customer_confirming_an_unsolved_ticket_is_a_409(client, alice_token, ticket_of_alice):
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}",
                            json={"version": ticket_of_alice.version, "action": "confirm"}, headers=alice_token)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"


def test_customers_cannot_change_internal_fields(client, db, alice_token, ticket_of_alice):
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}",
                            json={"version": ticket_of_alice.version, "priority": "urgent"}, headers=alice_token)
    assert response.status_code == 403
    db.refresh(ticket_of_alice)
    assert ticket_of_alice.priority == "normal"


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "version"),
    ({"version": "one"}, "version"),
    ({"version": 1, "action": "explode"}, "action"),
    ({"version": 1, "priority": "whenever"}, "priority"),
    ({"version": 1, "assignee_id": 999}, "assignee_id"),
    ({"version": 1, "group_id": 999}, "group_id"),
    ({"version": 1, "tags": "vip"}, "tags"),
    ({"version": 1, "tags": ["two words!"]}, "tag"),
])
def test_invalid_changes_are_422(client, agent_token, ticket_of_alice, payload, field):
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}", json=payload, headers=agent_token)
    assert response.status_code == 422
    assert response.json["error"]["field"] == field


def test_admin_assigns_to_an_agent_and_moves_the_group(client, db, make, admin_user, agnes, ticket_of_alice):
    group = Group(name="Tier 2")
    db.add(group)
    db.commit()
    token = bearer(token_for(db, admin_user))
    response = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}", headers=token, json={
        "version": ticket_of_alice.version, "assignee_id": agnes.id, "group_id": group.id})
    assert response.status_code == 200
    assert response.json["assignee"]["id"] == agnes.id
    assert response.json["group"] == {"id": group.id, "name": "Tier 2"}
    unassigned = client.patch(f"/api/v1/tickets/{ticket_of_alice.ref}", headers=token,
                              json={"version": response.json["version"], "assignee_id": None})
    assert unassigned.json["assignee"] is None


def test_two_calls_with_the_same_key_at_once_file_one_ticket(client, db, alice_token, monkeypatch):
    """The race: the second call checked for the key before the first one committed. The unique key then
    refuses the second ticket, and the call answers with the first one."""
    from portal.services import api_tickets

    payload = {"subject": "Double click", "description": "Sent twice at once."}
    headers = {**alice_token, "Idempotency-Key": "race-1"}
    first = client.post("/api/v1/tickets", json=payload, headers=headers)
    real_replay = api_tickets.replay
    calls = []

    def replay_that_looked_too_early(session, token, key, fingerprint):
        calls.append(key)
        return None if len(calls) == 1 else real_replay(session, token, key, fingerprint)

    monkeypatch.setattr(api_tickets, "replay", replay_that_looked_too_early)
    second = client.post("/api/v1/tickets", json=payload, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["ref"] == first.json["ref"]
    assert len(calls) == 2
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1
