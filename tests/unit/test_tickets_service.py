"""The ticket services without HTTP: filing, access, the status machine's side effects, lists and CCs."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, Invalid, InvalidTransition, LimitExceeded, NotFound
from portal.models import Group, Message, Notification, Ticket, TicketEvent
from portal.services import categories, customer_tickets, ticket_ccs, tickets
from portal.services.attachments import AttachmentStore, Upload

NOW = datetime(2026, 11, 2, 9, 0, 0)


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def file(db, requester, **kwargs):
    defaults = {"subject": "No internet since this morning", "description": "The router light is red."}
    return tickets.create_ticket(db, requester=requester, actor=requester, now=NOW, **{**defaults, **kwargs}).ticket


def notification_kinds(db, ticket) -> list[str]:
    return list(db.scalars(select(Notification.kind).where(Notification.ticket_id == ticket.id)
                           .order_by(Notification.id)))


# ---- filing ----


def test_filing_creates_a_new_web_ticket_with_the_description_as_first_message(db, alice):
    ticket = file(db, alice)
    db.commit()
    assert ticket.status == "new" and ticket.channel == "web" and ticket.requester_id == alice.id
    assert ticket.ref.startswith("MSA-")
    [message] = ticket.messages
    assert message.body == "The router light is red." and message.public and message.author_id == alice.id
    assert [e.kind for e in ticket.events] == ["created"]
    assert notification_kinds(db, ticket) == ["ticket_created"]


def test_the_same_form_sent_twice_files_one_ticket(db, alice):
    first = tickets.create_ticket(db, requester=alice, subject="Hi", description="Help", client_token="tok-1",
                                  actor=alice, now=NOW)
    second = tickets.create_ticket(db, requester=alice, subject="Hi", description="Help", client_token="tok-1",
                                   actor=alice, now=later(1))
    assert first.created and not second.created and first.ticket is second.ticket
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1


@pytest.mark.parametrize(("subject", "description", "field"), [
    ("", "text", "subject"),
    ("   ", "text", "subject"),
    ("x" * 201, "text", "subject"),
    ("Subject", "", "description"),
    ("Subject", "x" * 50_001, "description"),
])
def test_empty_or_over_long_subject_and_description_are_refused(db, alice, subject, description, field):
    with pytest.raises(Invalid) as caught:
        file(db, alice, subject=subject, description=description)
    assert caught.value.details["field"] == field


def test_limits_are_inclusive(db, alice):
    ticket = file(db, alice, subject="x" * 200, description="y" * 50_000)
    assert len(ticket.subject) == 200


def test_a_category_routes_to_its_group_and_checks_its_custom_fields(db, make, alice):
    group = Group(name="Billing")
    db.add(group)
    category = make.category(name="Billing", group=group, fields=(
        {"key": "invoice", "label_en": "Invoice number", "required": True},
        {"key": "amount", "label_en": "Amount", "kind": "number"},
        {"key": "plan", "label_en": "Plan", "kind": "select", "options": ["basic", "max"]},
        {"key": "paid", "label_en": "Already paid", "kind": "checkbox"},
    ))
    with pytest.raises(Invalid) as missing:
        file(db, alice, category=category, field_values={})
    assert missing.value.details["field"] == "field_invoice"
    with pytest.raises(Invalid) as not_a_number:
        file(db, alice, category=category, field_values={"invoice": "F-1", "amount": "ten"})
    assert not_a_number.value.details["field"] == "field_amount"
    with pytest.raises(Invalid):
        file(db, alice, category=category, field_values={"invoice": "F-1", "plan": "gold"})
    ticket = file(db, alice, category=category,
                  field_values={"invoice": " F-1 ", "amount": "12,50", "plan": "max", "paid": "y"})
    db.commit()
    assert ticket.group_id == group.id
    assert {v.field.key: v.value for v in ticket.field_values} == {
        "invoice": "F-1", "amount": "12.50", "plan": "max", "paid": "yes"}


@pytest.mark.parametrize(("key", "value"), [
    ("amount", "1e999999999"), ("amount", "-1E-999999999"), ("amount", "NaN"), ("amount", ["1"]),
    ("invoice", {"nested": "object"}), ("plan", "gold"), ("invoice", "x" * 501),
])
def test_a_custom_field_value_of_the_wrong_kind_is_refused_naming_the_field(db, make, alice, key, value):
    """What an API client sends can be anything: each is a clear Invalid for that field, never a crash (and
    never a billion-digit number written out)."""
    category = make.category(fields=(
        {"key": "invoice", "label_en": "Invoice number"},
        {"key": "amount", "label_en": "Amount", "kind": "number"},
        {"key": "plan", "label_en": "Plan", "kind": "select", "options": ["basic", "max"]},
    ))
    with pytest.raises(Invalid) as caught:
        file(db, alice, category=category, field_values={key: value})
    assert caught.value.details["field"] == f"field_{key}"


def test_an_agent_fills_in_one_field_while_another_required_one_is_still_empty(db, make, alice, agnes):
    """A ticket without its required answer (a follow-up of an older ticket, filed by mail) can be completed
    one field at a time from the side panel."""
    from portal.services import agent_desk

    category = make.category(fields=(
        {"key": "contract", "label_en": "Contract", "required": True},
        {"key": "serial", "label_en": "Serial"},
    ))
    closed = make.ticket(requester=alice, status="closed", category=category, field_values={"contract": "C-1"})
    closed.field_values.clear()
    follow_up = tickets.create_follow_up(db, closed, subject="Again", description="Still", actor=alice,
                                         now=later(1)).ticket
    db.commit()
    assert [f.key for f in categories.missing_required(category, [v.field_id for v in follow_up.field_values])] \
        == ["contract"]
    serial, contract = sorted(category.fields, key=lambda f: f.key != "serial")
    agent_desk.set_field_value(db, follow_up, serial.id, "SN-9", actor=agnes, now=later(2))
    with pytest.raises(Invalid) as emptied:
        agent_desk.set_field_value(db, follow_up, contract.id, " ", actor=agnes, now=later(3))
    assert emptied.value.details["field"] == "field_contract"
    agent_desk.set_field_value(db, follow_up, contract.id, "C-9", actor=agnes, now=later(4))
    db.commit()
    assert sorted((v.field.key, v.value) for v in follow_up.field_values) == [("contract", "C-9"), ("serial", "SN-9")]


def test_default_categories_are_created_once(db):
    created = categories.ensure_default_categories(db)
    assert [c.name_en for c in created][:2] == ["Account & login", "Billing & invoices"]
    assert categories.ensure_default_categories(db) == []
    assert len(categories.active_categories(db)) == 5


# ---- access ----


def test_get_for_answers_the_same_for_missing_and_not_yours(db, alice, bob, agnes):
    ticket = file(db, alice)
    db.commit()
    assert tickets.get_for(db, ticket.ref, alice) is ticket
    assert tickets.get_for(db, ticket.ref.lower(), alice) is ticket
    assert tickets.get_for(db, ticket.ref, agnes) is ticket
    for ref, actor in ((ticket.ref, bob), ("MSA-2222-2222", alice), (ticket.ref, None)):
        with pytest.raises(NotFound) as caught:
            tickets.get_for(db, ref, actor)
        assert caught.value.message == "We could not find that ticket."


# ---- the status machine's side effects ----


def test_change_status_records_events_and_notifies_the_customer(db, alice, agnes):
    ticket = file(db, alice)
    tickets.take(db, ticket, actor=agnes, now=later(1))
    events = tickets.set_status(db, ticket, "pending", actor=agnes, now=later(2))
    db.commit()
    assert [(e.kind, e.old_value, e.new_value) for e in events] == [("status_changed", "open", "pending")]
    assert [(e.kind, e.field) for e in ticket.events] == [
        ("created", None), ("assigned", "assignee_id"), ("status_changed", "status"), ("status_changed", "status")]
    assert notification_kinds(db, ticket) == ["ticket_created", "status_pending"]


def test_a_customer_cannot_act_on_someone_elses_ticket(db, alice, bob):
    ticket = file(db, alice, )
    with pytest.raises(NotFound):
        tickets.customer_reply(db, ticket, body="me too", actor=bob, now=later(1))


def test_customer_reply_moves_the_ticket_back_to_the_agents(db, alice, agnes):
    ticket = file(db, alice)
    tickets.customer_reply(db, ticket, body="More details", actor=alice, now=later(1))
    assert ticket.status == "new"
    tickets.agent_reply(db, ticket, body="Which router?", submit_as="pending", actor=agnes, now=later(2))
    assert ticket.status == "pending" and ticket.first_response_at == later(2)
    tickets.customer_reply(db, ticket, body="The white one", actor=alice, now=later(3))
    assert ticket.status == "open" and ticket.updated_at == later(3)


def test_a_public_answer_to_a_new_ticket_opens_it_and_gives_it_to_the_agent(db, alice, agnes):
    ticket = file(db, alice)
    tickets.agent_reply(db, ticket, body="Which router do you have?", actor=agnes, now=later(2))
    assert ticket.status == "open" and ticket.assignee_id == agnes.id and ticket.first_response_at == later(2)
    assert {"assigned", "status_changed"} <= {e.kind for e in ticket.events}


def test_a_new_ticket_someone_else_has_opens_but_stays_theirs(db, make, alice, agnes):
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    ticket = file(db, alice)
    ticket.assignee_id = diego.id
    tickets.agent_reply(db, ticket, body="Diego is on it", actor=agnes, now=later(2))
    assert ticket.status == "open" and ticket.assignee_id == diego.id


def test_a_chosen_status_wins_and_a_note_changes_nothing(db, alice, agnes):
    noted = file(db, alice)
    tickets.add_note(db, noted, body="Looks like the outage", actor=agnes, now=later(1))
    assert noted.status == "new" and noted.assignee_id is None
    solved = file(db, alice, subject="Second one")
    tickets.agent_reply(db, solved, body="Restart it", submit_as="solved", actor=agnes, now=later(2))
    assert solved.status == "solved" and solved.assignee_id == agnes.id  # taken first, so it can be solved


def test_thanks_on_a_solved_ticket_keeps_it_solved_and_a_question_reopens_it(db, alice, agnes):
    ticket = file(db, alice)
    tickets.take(db, ticket, actor=agnes, now=later(1))
    tickets.agent_reply(db, ticket, body="Restart it", submit_as="solved", actor=agnes, now=later(2))
    tickets.customer_reply(db, ticket, body="Thanks a lot!", actor=alice, now=later(3))
    assert ticket.status == "solved"
    tickets.customer_reply(db, ticket, body="It broke again, why?", actor=alice, now=later(4))
    assert ticket.status == "open"
    assert ticket.events[-2].kind == "reopened"


def test_solving_needs_an_assignee(db, alice, agnes):
    ticket = file(db, alice)
    with pytest.raises(InvalidTransition) as caught:
        tickets.set_status(db, ticket, "solved", actor=agnes, now=later(1))
    assert "Assign" in caught.value.message and ticket.status == "new"


def test_reopen_needs_a_reason_and_shows_it_in_the_conversation(db, make, alice):
    ticket = make.ticket(requester=alice, status="solved")
    with pytest.raises(Invalid):
        tickets.reopen(db, ticket, reason="  ", actor=alice, now=later(1))
    message = tickets.reopen(db, ticket, reason="Still no signal upstairs", actor=alice, now=later(1))
    assert ticket.status == "open" and message.public and message.body == "Still no signal upstairs"
    assert ticket.solved_at is None


def test_confirm_closes_and_closed_refuses_replies_naming_the_follow_up(db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="solved")
    tickets.confirm(db, ticket, actor=alice, now=later(1))
    assert ticket.status == "closed" and ticket.closed_at == later(1)
    with pytest.raises(InvalidTransition) as caught:
        tickets.customer_reply(db, ticket, body="One more thing", actor=alice, now=later(2))
    assert "follow-up" in caught.value.message and caught.value.details["allowed"] == ["follow_up"]
    with pytest.raises(InvalidTransition):
        tickets.agent_reply(db, ticket, body="Hello?", actor=agnes, now=later(2))
    with pytest.raises(InvalidTransition):
        tickets.reopen(db, ticket, reason="no", actor=alice, now=later(2))


def test_follow_up_is_a_new_ticket_linked_to_the_closed_one(db, make, alice):
    closed = make.ticket(requester=alice, status="closed", priority="high", language="es")
    version = closed.version
    new = tickets.create_follow_up(db, closed, subject="Again", description="Same issue", actor=alice,
                                   now=later(1)).ticket
    db.commit()
    assert new.follow_up_of_id == closed.id and new.status == "new"
    assert (new.priority, new.language) == ("high", "es")
    assert closed.status == "closed" and closed.version == version
    assert (new.events[0].field, new.events[0].new_value) == ("follow_up_of", closed.ref)


def test_follow_up_of_an_open_ticket_is_refused(db, make, alice):
    ticket = make.ticket(requester=alice, status="open")
    with pytest.raises(InvalidTransition):
        tickets.create_follow_up(db, ticket, subject="Again", description="x", actor=alice, now=later(1))


def test_a_stale_version_is_refused(db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    with pytest.raises(Conflict):
        tickets.take(db, ticket, actor=agnes, now=later(1), expected_version=ticket.version - 1)


def test_only_public_agent_replies_are_emailed(db, make, alice, agnes):
    ticket = make.ticket(requester=alice, assignee=agnes, status="open")
    tickets.add_note(db, ticket, body="refund approved by finance", actor=agnes, now=later(1))
    tickets.agent_reply(db, ticket, body="We refunded you", actor=agnes, now=later(2))
    db.commit()
    assert notification_kinds(db, ticket) == ["ticket_created", "public_reply"]


# ---- what the customer sees ----


def test_public_timeline_hides_notes_and_on_hold(db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    tickets.take(db, ticket, actor=agnes, now=later(1))
    tickets.add_note(db, ticket, body="secret", actor=agnes, now=later(2), submit_as="on_hold")
    tickets.agent_reply(db, ticket, body="Fixed", submit_as="solved", actor=agnes, now=later(3))
    db.commit()
    items = customer_tickets.public_timeline(db, ticket)
    bodies = [i.message.body for i in items if i.message]
    assert "secret" not in bodies and "Fixed" in bodies
    assert [i.status for i in items if i.status] == ["Solved"]  # new → open → on hold are all "Open"


def test_list_filters_searches_and_marks_unread_agent_replies(db, make, alice, bob, agnes):
    router = make.ticket(requester=alice, subject="Router lights", now=NOW)
    bill = make.ticket(requester=alice, subject="Invoice twice", description="charged twice for March",
                       now=later(1))
    make.ticket(requester=bob, subject="Router of Bob")
    tickets.agent_reply(db, router, body="Try this", submit_as="pending", actor=agnes, now=later(5))
    db.commit()
    listed = customer_tickets.list_for_customer(db, alice)
    assert [r.ticket.subject for r in listed.rows] == ["Router lights", "Invoice twice"]  # newest activity
    assert [r.unread for r in listed.rows] == [True, False]
    assert [r.ticket.id for r in customer_tickets.list_for_customer(db, alice, status="pending").rows] == [router.id]
    assert [r.ticket.id for r in customer_tickets.list_for_customer(db, alice, status="open").rows] == [bill.id]
    assert [r.ticket.id for r in customer_tickets.list_for_customer(db, alice, search="MARCH").rows] == [bill.id]
    assert [r.ticket.id for r in customer_tickets.list_for_customer(db, alice, search="router").rows] == [router.id]
    assert customer_tickets.list_for_customer(db, alice, search="100%").total == 0
    customer_tickets.mark_seen(db, router, alice, now=later(6))
    db.commit()
    assert not customer_tickets.has_unread(db, router, alice)
    page = customer_tickets.list_for_customer(db, alice, per_page=1, page=2)
    assert page.total == 2 and page.pages == 2 and page.has_previous and not page.has_next


def test_notes_never_make_a_ticket_unread(db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    tickets.add_note(db, ticket, body="internal", actor=agnes, now=later(1))
    db.commit()
    assert not customer_tickets.has_unread(db, ticket, alice)


# ---- CC ----


def test_ccs_are_checked_and_frozen_once_closed(db, make, alice, bob):
    ticket = make.ticket(requester=alice)
    cc = ticket_ccs.add_cc(db, ticket, " Partner@Example.com ", actor=alice, now=later(1))
    assert cc.email == "partner@example.com"
    for bad in ("not-an-address", "alice@example.com", "partner@example.com"):
        with pytest.raises(Invalid):
            ticket_ccs.add_cc(db, ticket, bad, actor=alice, now=later(2))
    with pytest.raises(NotFound):
        ticket_ccs.add_cc(db, ticket, "x@example.com", actor=bob, now=later(2))
    db.commit()
    assert ticket_ccs.remove_cc(db, ticket, cc.id, actor=alice, now=later(3)) == "partner@example.com"
    db.commit()
    assert ticket.ccs == []
    closed = make.ticket(requester=alice, status="closed")
    with pytest.raises(InvalidTransition):
        ticket_ccs.add_cc(db, closed, "x@example.com", actor=alice, now=later(4))


def test_at_most_ten_ccs(db, make, alice):
    ticket = make.ticket(requester=alice)
    for n in range(10):
        ticket_ccs.add_cc(db, ticket, f"p{n}@example.com", actor=alice, now=NOW)
    with pytest.raises(LimitExceeded):
        ticket_ccs.add_cc(db, ticket, "p11@example.com", actor=alice, now=NOW)


# ---- attachments through the service ----


def test_a_refused_reply_leaves_no_file_behind(db, make, alice, tmp_path):
    store = AttachmentStore(tmp_path / "files", max_bytes=1024)
    closed = make.ticket(requester=alice, status="closed")
    with pytest.raises(InvalidTransition):
        tickets.customer_reply(db, closed, body="hi", uploads=[Upload("a.txt", io.BytesIO(b"x"))], store=store,
                               actor=alice, now=later(1))
    assert not any(p.is_file() for p in (tmp_path / "files").rglob("*"))


def test_an_oversize_file_is_refused_and_nothing_is_kept(db, make, alice, tmp_path):
    store = AttachmentStore(tmp_path / "files", max_bytes=10)
    ticket = make.ticket(requester=alice)
    uploads = [Upload("small.txt", io.BytesIO(b"ok")), Upload("big.txt", io.BytesIO(b"x" * 11))]
    with pytest.raises(LimitExceeded) as caught:
        tickets.customer_reply(db, ticket, body="see files", uploads=uploads, store=store, actor=alice,
                               now=later(1))
    assert caught.value.details["name"] == "big.txt"
    assert not any(p.is_file() for p in (tmp_path / "files").rglob("*"))
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    assert db.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "replied")) == 0
