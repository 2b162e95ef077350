"""Every condition field and operator of the catalog, against a real ticket: what an admin writes in a rule
matches the tickets a person would say it matches."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.models import BusinessCalendar, Group, TicketTag
from portal.services.rules import catalog
from portal.services.rules.conditions import Facts, holds
from portal.services.rules.words import Text, fold, word_list

NOW = datetime(2026, 11, 4, 10, 0)  # a Wednesday, 11:00 in Madrid


@pytest.fixture
def ticket(db, make, agnes):
    category = make.category(name="Billing", fields=({"key": "order", "label_en": "Order number"},))
    customer = make.user(email="Ana@BigClient.com", name="Ana")
    customer.plan = "premium"
    ticket = make.ticket(requester=customer, subject="Mi FACTURACIÓN de octubre",
                         description="La factura llegó duplicada. Order #123, e-mail invoice.", category=category,
                         priority="high", language="es", field_values={"order": "A-77"}, now=NOW - timedelta(hours=5))
    group = Group(name="Tier 2")
    db.add(group)
    ticket.group, ticket.assignee = group, agnes
    ticket.tags.append(TicketTag(tag="vip"))
    ticket.updated_at = NOW - timedelta(hours=2)
    db.commit()
    return ticket


def check(db, ticket, field, op, value=None, *, actor="customer", previous="new", events=("ticket_updated",)):
    condition = {"field": field, "op": op, **({} if value is None else {"value": value})}
    facts = Facts(db, ticket, events=set(events), actor=actor, previous_status=previous, now=NOW)
    return holds(condition, facts)


@pytest.mark.parametrize(("field", "op", "value", "expected"), [
    ("channel", "is", "web", True),
    ("channel", "is", "email", False),
    ("channel", "is_not", "email", True),
    ("requester_email", "is", "ana@bigclient.com", True),
    ("requester_email", "is_not", "ana@bigclient.com", False),
    ("requester_email", "ends_with", "@bigclient.com", True),
    ("requester_email", "ends_with", "@example.com", False),
    ("requester_domain", "is", "bigclient.com", True),
    ("requester_domain", "is_not", "bigclient.com", False),
    ("customer_plan", "is", "premium", True),
    ("customer_plan", "is_not", "premium", False),
    ("language", "is", "es", True),
    ("language", "is_not", "es", False),
    ("priority", "is", "high", True),
    ("priority", "is_not", "high", False),
    ("priority", "above", "normal", True),
    ("priority", "above", "high", False),
    ("priority", "below", "urgent", True),
    ("priority", "below", "high", False),
    ("tags", "has", ["vip", "other"], True),
    ("tags", "has", ["other"], False),
    ("tags", "has_not", ["other"], True),
    ("tags", "has_not", ["vip"], False),
    ("hours_since_created", "greater_than", 4, True),
    ("hours_since_created", "less_than", 4, False),
    ("hours_since_updated", "less_than", 3, True),
    ("hours_since_updated", "greater_than", 3, False),
    ("hours_since_solved", "greater_than", 0, False),  # never solved: no time since
    ("hours_since_solved", "less_than", 1000, False),
    ("hours_since_status_changed", "greater_than", 4, True),  # new since it was filed, 5 hours ago
    ("hours_since_status_changed", "less_than", 4, False),
    ("field:order", "is", "a-77", True),
    ("field:order", "is_not", "A-77", False),
    ("field:order", "present", None, True),
    ("field:order", "absent", None, False),
    ("field:device", "absent", None, True),
    ("actor", "is", "customer", True),
    ("actor", "is_not", "customer", False),
])
def test_simple_fields(db, ticket, field, op, value, expected):
    assert check(db, ticket, field, op, value) is expected


def test_category_group_and_assignee_by_id(db, ticket, agnes):
    assert check(db, ticket, "category", "is", ticket.category_id)
    assert check(db, ticket, "category", "present")
    assert not check(db, ticket, "category", "absent")
    assert not check(db, ticket, "category", "is_not", ticket.category_id)
    assert check(db, ticket, "group", "is", ticket.group_id) and check(db, ticket, "group", "present")
    assert not check(db, ticket, "group", "absent") and not check(db, ticket, "group", "is_not", ticket.group_id)
    assert check(db, ticket, "assignee", "is", agnes.id) and check(db, ticket, "assignee", "assigned")
    assert not check(db, ticket, "assignee", "unassigned")
    ticket.assignee, ticket.assignee_id = None, None
    assert check(db, ticket, "assignee", "unassigned") and check(db, ticket, "assignee", "is_not", agnes.id)


@pytest.mark.parametrize(("op", "words", "expected"), [
    ("contains_any_word", "factura", True),  # "La factura llegó"
    ("contains_any_word", "FACTURA", True),
    ("contains_any_word", "facturacion", True),  # "FACTURACIÓN": accents and case do not matter
    ("contains_any_word", "facturación", True),
    ("contains_any_word", "llego", True),
    ("contains_any_word", "fact", False),  # a whole word, not a piece of one
    ("contains_any_word", "fact*", True),  # unless it says so
    ("contains_any_word", "refund, invoice", True),  # English too, any of the words
    ("contains_any_word", "refund; cancel", False),
    ("contains_any_word", "e-mail", True),
    ("contains_none_of", "refund cancel", True),
    ("contains_none_of", "refund factura", False),
    ("contains_phrase", "factura llegó duplicada", True),
    ("contains_phrase", "FACTURA LLEGO", True),
    ("contains_phrase", "llegó factura", False),
    ("contains_phrase", "de octubre", True),  # the subject counts too
])
def test_subject_or_description_words(db, ticket, op, words, expected):
    assert check(db, ticket, "subject_or_description", op, words) is expected


def test_on_a_reply_the_words_of_the_reply_count_too(db, ticket):
    from portal.services import tickets

    tickets.customer_reply(db, ticket, body="This is URGENT now", actor=ticket.requester, now=NOW)
    db.flush()
    assert check(db, ticket, "subject_or_description", "contains_any_word", "urgent", events=("customer_replied",))
    assert not check(db, ticket, "subject_or_description", "contains_any_word", "urgent",
                     events=("ticket_updated",)), "outside a reply, only the subject and the description count"


def test_status_and_its_previous_value(db, ticket):
    ticket.status = "pending"
    assert check(db, ticket, "status", "is", "pending", previous="open")
    assert check(db, ticket, "status", "is_not", "open", previous="open")
    assert check(db, ticket, "status", "changed", previous="open")
    assert check(db, ticket, "status", "changed_to", "pending", previous="open")
    assert not check(db, ticket, "status", "changed_to", "solved", previous="open")
    assert check(db, ticket, "status", "changed_from", "open", previous="open")
    assert not check(db, ticket, "status", "changed_from", "new", previous="open")
    assert not check(db, ticket, "status", "changed", previous="pending")  # the same status: nothing changed
    assert check(db, ticket, "previous_status", "is", "open", previous="open")
    assert check(db, ticket, "previous_status", "is_not", "new", previous="open")
    assert not check(db, ticket, "previous_status", "is", "open", previous=None)  # a new ticket had none


def test_business_hours_follow_the_calendar(db, ticket):
    assert check(db, ticket, "business_hours", "is_true")  # no calendar at all: every hour counts
    db.add(BusinessCalendar(name="Madrid", timezone="Europe/Madrid",
                            hours={str(d): ["09:00", "18:00"] for d in range(5)}))
    db.commit()
    assert check(db, ticket, "business_hours", "is_true")  # Wednesday 11:00 in Madrid
    facts = Facts(db, ticket, events=set(), actor="system", previous_status=None,
                  now=datetime(2026, 11, 7, 10, 0))  # Saturday
    assert holds({"field": "business_hours", "op": "is_false"}, facts)


def test_the_time_in_the_status_and_the_reminder_start_again_with_each_status(db, ticket, agnes):
    from portal.models import TicketEvent
    from portal.services import tickets
    from portal.services.rules.defaults import REMINDER_EVENT

    tickets.set_status(db, ticket, "pending", actor=agnes, now=NOW - timedelta(hours=3))
    assert check(db, ticket, "hours_since_status_changed", "greater_than", 2)
    assert not check(db, ticket, "hours_since_status_changed", "greater_than", 3)
    assert check(db, ticket, "reminder_sent", "is_false") and not check(db, ticket, "reminder_sent", "is_true")
    db.add(TicketEvent(ticket=ticket, created_at=NOW - timedelta(hours=1), kind=REMINDER_EVENT))
    db.flush()
    assert check(db, ticket, "reminder_sent", "is_true")
    tickets.set_status(db, ticket, "open", actor=agnes, now=NOW)  # a new status: a new period, no reminder yet
    assert check(db, ticket, "reminder_sent", "is_false")
    assert check(db, ticket, "hours_since_status_changed", "less_than", 1)


def test_every_field_of_the_catalog_is_covered_here():
    covered = {"channel", "requester_email", "requester_domain", "customer_plan", "language", "priority", "tags",
               "hours_since_created", "hours_since_updated", "hours_since_solved", "actor", "category", "group",
               "assignee", "subject_or_description", "status", "previous_status", "business_hours",
               "hours_since_status_changed", "reminder_sent"}
    assert covered == set(catalog.CONDITION_FIELDS)


def test_words_fold_accents_and_case_and_keep_word_boundaries():
    assert fold("FACTURACIÓN Año") == "facturacion ano"
    assert word_list("factura, Pago  refund*") == ["factura", "pago", "refund*"]
    text = Text("Quiero el reembolso del pago")
    assert text.has_word("pago") and not text.has_word("pag") and text.has_word("reembols*")
    assert not Text("pagoda").has_word("pago")
