"""The demo (`flask demo load`) and the benchmark generator (`flask demo generate`).

`make run` loads the demo on every start, so loading must add what is missing and never duplicate,
change or delete anything; the generator must add exactly what it is asked for, references never colliding.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.demo import DEMO_PASSWORD, load_demo
from portal.models import Group, Message, Ticket, TicketEvent, User
from portal.services import accounts
from portal.services.refs import new_ticket_ref, normalise_ref, unused_ticket_ref

NOW = datetime(2026, 11, 20, 12, 0, 0)
REF = re.compile(r"^MSA-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
STATUSES = {"new", "open", "pending", "on_hold", "solved", "closed"}
DEMO_ACCOUNTS = {
    "alice@example.com": "customer",
    "bob@example.com": "customer",
    "agnes@example.com": "agent",
    "diego@example.com": "agent",
    "tomas@example.com": "agent",
    "admin@example.com": "admin",
}


@pytest.fixture
def demo(db):
    load_demo(db, now=NOW)
    db.commit()
    return db


def counts(db) -> dict[str, int]:
    return {model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (User, Group, Ticket, Message, TicketEvent)}


def assert_consistent(ticket: Ticket, *, now: datetime) -> None:
    """What any ticket's dates, assignee and conversation must agree on, whatever its status."""
    label = f"{ticket.ref} ({ticket.status}, {ticket.subject!r})"
    times = [ticket.created_at, ticket.first_response_at, ticket.solved_at, ticket.closed_at]
    present = [t for t in times if t is not None]
    assert present == sorted(present), label
    assert ticket.created_at <= ticket.updated_at <= now and max(present) <= ticket.updated_at, label
    assert (ticket.solved_at is not None) == (ticket.status in ("solved", "closed")), label
    assert (ticket.closed_at is not None) == (ticket.status == "closed"), label
    assert (ticket.assignee_id is None) == (ticket.status == "new"), label
    first = ticket.messages[0]
    assert (first.author_id, first.created_at, first.public) == (ticket.requester_id, ticket.created_at, True), label
    assert all(ticket.created_at <= m.created_at <= ticket.updated_at for m in ticket.messages), label
    agent_replies = [m.created_at for m in ticket.messages if m.public and m.author_id != ticket.requester_id]
    assert ticket.first_response_at == (min(agent_replies) if agent_replies else None), label
    assert ticket.events[0].kind == "created" and ticket.events[0].created_at == ticket.created_at, label


def test_the_demo_accounts_log_in_with_the_demo_password(runner, db):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for email, role in DEMO_ACCOUNTS.items():
        user = accounts.authenticate(db, email, "mesa-demo-2026")
        assert user is not None and user.role == role, email
    tiers = {user.email: sorted(g.tier for g in user.groups if g.tier)
             for user in db.scalars(select(User).where(User.role == "agent"))}
    assert tiers == {"agnes@example.com": [1], "diego@example.com": [2], "tomas@example.com": [3]}
    assert accounts.find_by_email(db, "lucia@example.com").locale == "es"


def test_demo_tickets_cover_every_status_with_a_believable_history(demo):
    tickets = demo.scalars(select(Ticket)).all()
    assert len(tickets) == 40
    assert {t.status for t in tickets} == STATUSES
    assert {t.language for t in tickets} == {"en", "es"}
    assert {t.channel for t in tickets} >= {"web", "email", "phone"}
    assert {t.priority for t in tickets} == {"low", "normal", "high", "urgent"}
    for ticket in tickets:
        assert REF.match(ticket.ref), ticket.ref
        assert_consistent(ticket, now=NOW)
        assert ticket.tags, ticket.subject
        if ticket.assignee is not None and ticket.group is not None:
            assert ticket.assignee in ticket.group.members, ticket.subject
    requesters = {t.requester.email for t in tickets}
    assert {"alice@example.com", "bob@example.com", "lucia@example.com"} <= requesters


def test_demo_conversations_have_private_notes_escalations_and_follow_ups(demo):
    notes = demo.scalars(select(Message).where(Message.public.is_(False))).all()
    assert notes and all(note.author.is_agent for note in notes)
    assert "Checked the OLT, line levels fine" in " ".join(note.body for note in notes)
    kinds = set(demo.scalars(select(TicketEvent.kind)))
    assert {"created", "assigned", "status_changed", "group_changed", "priority_changed", "note_added",
            "replied", "reopened", "confirmed", "auto_closed"} <= kinds
    follow_ups = demo.scalars(select(Ticket).where(Ticket.follow_up_of_id.is_not(None))).all()
    assert follow_ups
    for ticket in follow_ups:
        assert ticket.follow_up_of.status == "closed"
        assert ticket.follow_up_of.closed_at < ticket.created_at
        assert ticket.follow_up_of.requester_id == ticket.requester_id


def test_loading_again_adds_nothing_and_keeps_what_people_changed(demo, make):
    before = counts(demo)
    carol = make.user(email="carol@example.com", name="Carol New")
    alice = accounts.find_by_email(demo, "alice@example.com")
    alice.name = "Alice Martin-Smith"
    ticket = demo.scalars(select(Ticket).where(Ticket.status == "new")).first()
    ticket.subject = "Renamed by an agent"
    own = Ticket(ref=unused_ticket_ref(demo), subject="Carol's own question", requester=carol,
                 created_at=NOW, updated_at=NOW)
    demo.add(own)
    demo.commit()

    load_demo(demo, now=NOW)
    demo.commit()

    after = counts(demo)
    assert after == {**before, "User": before["User"] + 1, "Ticket": before["Ticket"] + 1}
    assert demo.get(Ticket, own.id).subject == "Carol's own question"
    assert demo.get(Ticket, ticket.id).subject == "Renamed by an agent"
    assert accounts.find_by_email(demo, "alice@example.com").name == "Alice Martin-Smith"
    load_demo(demo, now=NOW)
    demo.commit()
    assert counts(demo) == after


def test_loading_twice_through_the_cli_says_it_is_already_there(runner, db):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    before = counts(db)
    db.rollback()
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert counts(db) == before


def test_generate_adds_exactly_the_tickets_asked_for(runner, db):
    first = runner.invoke(args=["demo", "generate", "--tickets", "500", "--seed", "1"])
    assert first.exit_code == 0, first.output
    assert "Added 500 tickets, 1500 messages" in first.output
    assert counts(db)["Ticket"] == 500 and counts(db)["Message"] == 1500
    db.rollback()

    second = runner.invoke(args=["demo", "generate", "--tickets", "500", "--seed", "1"])
    assert second.exit_code == 0, second.output
    assert "0 accounts" in second.output  # the synthetic people are reused
    tickets = db.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert len(tickets) == 1000 and counts(db)["Message"] == 3000
    refs = [t.ref for t in tickets]
    assert len(set(refs)) == 1000 and all(REF.match(ref) for ref in refs)
    # The same seed gives the same tickets (dated from the moment of the run), under new references.
    same = [(t.subject, t.status, t.priority, t.channel, t.requester_id, t.assignee_id) for t in tickets]
    assert same[:500] == same[500:]


def test_generated_tickets_are_consistent_and_varied(db, runner):
    result = runner.invoke(args=["demo", "generate", "--tickets", "600", "--seed", "7",
                                 "--messages-per-ticket", "4"])
    assert result.exit_code == 0, result.output
    tickets = db.scalars(select(Ticket)).all()
    assert {t.status for t in tickets} == STATUSES
    assert {t.language for t in tickets} == {"en", "es"}
    assert {t.priority for t in tickets} == {"low", "normal", "high", "urgent"}
    now = utcnow()
    for ticket in tickets:
        assert len(ticket.messages) == 4
        assert_consistent(ticket, now=now)
        if ticket.assignee_id is not None and ticket.group is not None:
            assert ticket.assignee in ticket.group.members
    assert any(not m.public for t in tickets for m in t.messages)


def test_ticket_references_are_random_and_forgiving_to_type():
    refs = {new_ticket_ref() for _ in range(2000)}
    assert len(refs) == 2000 and all(REF.match(ref) for ref in refs)
    assert not any(ch in ref[4:] for ref in refs for ch in "ILOU01")
    assert normalise_ref(" msa 7k3q 9xpd ") == "MSA-7K3Q-9XPD"
    assert normalise_ref("7K3Q-9XPD") == "MSA-7K3Q-9XPD"


def test_the_demo_rules_route_a_mail_about_a_bill_to_billing_and_raise_urgent_ones(demo, make):
    from portal.demo.rules import ensure_rules
    from portal.models import Rule
    from portal.services import tickets
    from portal.services.rules import manage

    assert ensure_rules(demo, now=NOW) == 2
    demo.commit()
    customer = make.user(email="carmen@example.org")
    bill = tickets.create_ticket(demo, requester=customer, subject="Me habéis cobrado dos veces",
                                 description="La factura de noviembre tiene un cargo duplicado.", language=None,
                                 channel="email", actor=customer, now=NOW).ticket
    demo.commit()
    assert (bill.group.name, bill.category.name_en, bill.language) == ("Billing", "Billing and payments", "es")
    outage = tickets.create_ticket(demo, requester=customer, subject="Outage since this morning",
                                   description="Urgent: no internet at all.", language=None, channel="email",
                                   actor=customer, now=NOW).ticket
    demo.commit()
    assert outage.priority == "high" and outage.tag_names == ["urgent"]
    assert outage.group.name != "Billing", "the default group keeps what the billing rule does not take"
    # An admin who deletes them keeps their choice on the next `make run`.
    admin = accounts.find_by_email(demo, "admin@example.com")
    for made in demo.scalars(select(Rule)).all():
        manage.delete_rule(demo, made, actor=admin, now=NOW)
    demo.commit()
    assert ensure_rules(demo, now=NOW) == 0


def test_the_demo_rules_come_after_the_default_automations_mesa_installs(demo, make):
    from portal.demo.rules import ensure_rules
    from portal.models import Rule

    make.default_automations(now=NOW)
    assert ensure_rules(demo, now=NOW) == 2
    demo.commit()
    kinds = [rule.kind for rule in demo.scalars(select(Rule).order_by(Rule.position))]
    assert kinds == ["automation"] * 3 + ["trigger"] * 2
    assert ensure_rules(demo, now=NOW) == 0


def test_the_demo_ships_shared_macros_an_agent_can_preview_in_spanish(demo, make):
    from portal.services import macros

    agent = accounts.find_by_email(demo, "agnes@example.com")
    titles = [m.title for m in macros.available(demo, agent)]
    assert {"Ask for the router lights", "Line fixed: solve", "Hand over to Billing", "Restart the router"} <= set(
        titles)
    restart = next(m for m in macros.available(demo, agent) if m.title == "Restart the router")
    assert macros.inserts_only(restart)  # a ready answer alone, as the canned responses were
    lights = next(m for m in macros.available(demo, agent) if m.title == "Ask for the router lights")
    ticket = make.ticket(requester=make.user(name="Lucía"), language="es")
    assert macros.reply_for(lights, ticket, agent).startswith("Hola, Lucía:")
    load_demo(demo, now=NOW)
    assert len(macros.available(demo, agent)) == len(titles), "loading again adds no copies"


def test_the_demo_has_readers_so_popular_articles_are_listed_in_both_languages(demo):
    from portal.models import ArticleView
    from portal.services import kb_front

    # Reads in either language count (each article is then shown in the reader's language): both have readers.
    english = kb_front.popular_paths(demo, lang="en", now=NOW, limit=5)
    spanish = kb_front.popular_paths(demo, lang="es", now=NOW, limit=5)
    assert english[0] == "en/connection/internet-not-working.md" and len(english) >= 6
    assert "es/connection/no-tengo-internet.md" in spanish and {p[:3] for p in spanish} == {"en/", "es/"}
    for path in english + spanish:
        assert (Path(__file__).resolve().parents[2] / "kb_articles" / path).is_file(), path
    views = demo.scalar(select(func.count()).select_from(ArticleView))
    load_demo(demo, now=NOW)
    assert demo.scalar(select(func.count()).select_from(ArticleView)) == views, "loading again adds no views"
