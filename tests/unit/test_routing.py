"""Routing of tickets nobody routed: the language read from what the customer wrote (with its fallbacks), the
admins' default group, and the automatic assignment that follows, on every channel that does not say."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.demo import load_demo
from portal.demo.people import TIER_1
from portal.errors import Invalid, NotFound
from portal.models import Group, Notification, Ticket
from portal.services import notifications, phone_tickets, routing, support_admin, tickets
from portal.services.mail import inbound

NOW = datetime(2026, 12, 7, 10, 0, 0)

SPANISH = [
    "No puedo entrar en mi cuenta desde ayer, me dice que la contraseña es incorrecta.",
    "Hola, la factura de este mes viene con un cargo doble. ¿Pueden revisarlo? Gracias",
    "Sin conexión desde esta mañana",
    "Necesito cambiar mi tarifa",
    "Problema con la factura",
    "¿Cuándo llega mi pedido?",
    "Mi router no conecta a internet",
]
ENGLISH = [
    "I cannot log in to my account since yesterday, it says my password is wrong.",
    "Hi, this month's invoice shows a double charge. Can you check it? Thanks",
    "No connection since this morning",
    "I need to change my plan",
    "Problem with invoice",
    "When will my order arrive?",
    "My router does not connect to the internet",
]
# A word or two, a reference, a number: nothing that says which language the customer speaks.
UNCLEAR = ["", "Help", "Hola", "Hello", "Gracias", "Thanks!", "ok", "Factura 123", "Invoice 12345", "URGENT",
           "Re: MSA-7K3Q-9XPD", "Error 404", "https://example.com/invoices/2026/12/statement.pdf"]


# ---- Reading the language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", SPANISH)
def test_spanish_requests_are_read_as_spanish(text):
    assert routing.detect(text) == "es"


@pytest.mark.parametrize("text", ENGLISH)
def test_english_requests_are_read_as_english(text):
    assert routing.detect(text) == "en"


@pytest.mark.parametrize("text", UNCLEAR)
def test_a_word_or_two_decides_nothing(text):
    assert routing.detect(text) is None


def test_the_same_text_always_gets_the_same_answer():
    assert {routing.detect(text) for text in SPANISH * 3} == {"es"}


def test_an_english_quote_under_a_spanish_reply_does_not_make_it_english():
    text = ("Sigo sin conexión después de reiniciar el router.\n\n"
            "> On Monday, Mesa Support wrote:\n> Could you restart the router and tell us if it still happens?\n"
            "> We will check the line from our side as soon as we hear from you. Kind regards, the support team")
    assert routing.detect(text) == "es"


@pytest.mark.parametrize(("subject", "description", "locale", "default", "expected"), [
    ("Sin conexión", "No tengo internet desde esta mañana", "en", "en", "es"),  # the text wins over the setting
    ("No internet", "The fibre light is red since this morning", "es", "es", "en"),
    ("Hola", "?", "es", "en", "es"),  # unclear: the requester's own language
    ("Help", "!!", None, "es", "es"),  # unclear, no setting: the portal's default
    ("Help", "!!", "fr", "de", "en"),  # neither is one of ours: English
])
def test_the_language_falls_back_to_the_requesters_then_the_portals(make, subject, description, locale, default,
                                                                    expected):
    requester = make.user(locale=locale)
    assert routing.ticket_language(subject, description, requester=requester, default=default) == expected


# ---- The default group ------------------------------------------------------------------------------------


@pytest.fixture
def front_line(db, make):
    """An auto-assigning group with an English-only and a bilingual agent, made the default group."""
    group = Group(name="Front line", tier=1, auto_assign=True)
    english = make.user(name="Eve English", role="agent")
    bilingual = make.user(name="Beto Bilingüe", role="agent")
    english.skills, bilingual.skills = ["en"], ["en", "es"]
    group.members = [english, bilingual]
    db.add(group)
    db.flush()
    support_admin.set_default_group(db, group.id, actor=make.user(role="admin"))
    db.commit()
    return SimpleNamespace(group=group, english=english, bilingual=bilingual)


def test_only_admins_choose_the_default_group_and_there_is_only_one(db, make, agnes, admin_user):
    first, second = Group(name="One"), Group(name="Two")
    db.add_all([first, second])
    db.flush()
    with pytest.raises(NotFound):
        support_admin.set_default_group(db, first.id, actor=agnes)
    support_admin.set_default_group(db, first.id, actor=admin_user)
    support_admin.set_default_group(db, second.id, actor=admin_user)
    db.commit()
    assert routing.default_group(db) == second
    assert db.scalars(select(Group.name).where(Group.is_default)).all() == ["Two"]
    with pytest.raises(Invalid) as unknown:
        support_admin.set_default_group(db, 999_999, actor=admin_user)
    assert unknown.value.details["field"] == "default_group"
    support_admin.set_default_group(db, None, actor=admin_user)
    db.commit()
    assert routing.default_group(db) is None


def _mail(subject: str, body: str, sender: str = "Carmen <carmen@example.net>") -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "support@mesa.example", subject
    message.set_content(body)
    return message.as_bytes()


def _ingest(app, db, raw: bytes) -> Ticket:
    settings = inbound.InboundSettings.from_config(app.config)
    ticket = inbound.ingest(db, raw, settings=settings, now=NOW).ticket
    db.commit()
    return ticket


def test_a_spanish_mail_goes_to_the_default_group_and_to_an_agent_who_speaks_spanish(app, db, front_line):
    ticket = _ingest(app, db, _mail("Sin conexión", "No tengo internet desde esta mañana, la luz del router "
                                                     "está en rojo."))
    assert (ticket.language, ticket.group, ticket.assignee) == ("es", front_line.group, front_line.bilingual)
    receipts = db.scalars(select(Notification).where(Notification.ticket_id == ticket.id,
                                                     Notification.kind == "ticket_created")).all()
    assert [r.language for r in receipts] == ["es"]


def test_an_english_mail_goes_to_the_least_busy_agent_who_fits(app, db, front_line):
    ticket = _ingest(app, db, _mail("No internet", "The fibre light has been red since this morning."))
    assert ticket.language == "en" and ticket.group == front_line.group
    assert ticket.assignee in (front_line.english, front_line.bilingual)


def test_without_a_default_group_a_mail_waits_in_no_group(app, db):
    ticket = _ingest(app, db, _mail("Sin conexión", "No tengo internet desde esta mañana."))
    assert ticket.language == "es" and ticket.group is None and ticket.assignee is None


def test_a_web_ticket_keeps_its_categorys_group(db, make, front_line):
    billing = Group(name="Billing")
    db.add(billing)
    db.flush()
    ticket = make.ticket(category=make.category(name="Invoices", group=billing))
    assert ticket.group == billing


def test_a_phone_ticket_without_a_category_goes_to_the_default_group(db, make, front_line, agnes):
    customer = make.user(locale="en")
    filed = phone_tickets.file_for_customer(
        db, customer_id=customer.id, subject="Llamada: sin conexión",
        description="La clienta llama porque no tiene internet desde ayer por la tarde.", category=None,
        priority="normal", channel="phone", actor=agnes, now=NOW)
    assert (filed.ticket.language, filed.ticket.group, filed.ticket.assignee) == (
        "es", front_line.group, front_line.bilingual)


def test_the_agents_choice_of_language_on_a_phone_ticket_wins(db, make, front_line, agnes):
    customer = make.user(locale="es")
    filed = phone_tickets.file_for_customer(
        db, customer_id=customer.id, subject="Llamada: sin conexión", description="Sin internet desde ayer.",
        category=None, priority="normal", channel="phone", language="en", actor=agnes, now=NOW)
    assert filed.ticket.language == "en"
    with pytest.raises(Invalid) as refused:
        phone_tickets.file_for_customer(
            db, customer_id=customer.id, subject="Call", description="Line down.", category=None,
            priority="normal", channel="phone", language="fr", actor=agnes, now=NOW)
    assert refused.value.details["field"] == "language"


# ---- Mail in the ticket's language ------------------------------------------------------------------------


def test_the_customer_is_mailed_in_the_tickets_language_not_their_setting(db, make):
    english_speaker = make.user(locale="en")
    ticket = make.ticket(requester=english_speaker, language="es")
    assert [language for _email, _user, language in notifications.recipients(db, ticket)] == ["es"]


# ---- The demo ---------------------------------------------------------------------------------------------


def test_the_demo_sends_a_new_mail_to_the_front_lines_queue(app, db):
    load_demo(db, now=NOW)
    db.commit()
    ticket = _ingest(app, db, _mail("Sin conexión", "No tengo internet desde esta mañana.",
                                    sender="nuevo@example.net"))
    assert ticket.group.name == TIER_1 and ticket.language == "es"
    again = load_demo(db, now=NOW)
    assert again.nothing_added and routing.default_group(db).name == TIER_1


def test_create_ticket_reads_the_language_only_when_none_was_chosen(db, make):
    requester = make.user()
    chosen = tickets.create_ticket(db, requester=requester, subject="Sin conexión", language="en",
                                   description="No tengo internet desde esta mañana.", actor=requester, now=NOW)
    read = tickets.create_ticket(db, requester=requester, subject="Sin conexión", language=None,
                                 description="No tengo internet desde esta mañana.", actor=requester, now=NOW)
    assert (chosen.ticket.language, read.ticket.language) == ("en", "es")
