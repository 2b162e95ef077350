"""Problems and incidents solved together; merging duplicates."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.errors import Invalid
from portal.models import Notification
from portal.services import problems, tickets

NOW = datetime(2026, 11, 23, 9, 0)


def test_similar_open_tickets_are_suggested(db, make):
    outage = make.ticket(subject="No internet in Valencia since this morning", now=NOW)
    similar = make.ticket(subject="Internet down in Valencia", now=NOW)
    make.ticket(subject="Wrong amount on my invoice", now=NOW)
    make.ticket(subject="Internet slow in Valencia", status="solved", now=NOW)
    assert problems.suggest(db, similar, now=NOW) == [outage]


def test_similar_spanish_tickets_match_across_accents_and_word_forms(db, make):
    outage = make.ticket(subject="Conexiones caídas en Valencia", language="es", now=NOW)
    similar = make.ticket(subject="Sin conexion en valencia", language="es", now=NOW)
    make.ticket(subject="Factura de Valencia duplicada", language="es", now=NOW)
    assert problems.suggest(db, similar, now=NOW) == [outage]


def test_solving_the_problem_solves_every_incident_with_the_same_public_message(db, make, agnes, alice, bob):
    problem = make.ticket(subject="Outage in Valencia", assignee=agnes, status="open")
    first = make.ticket(requester=alice, subject="No internet")
    second = make.ticket(requester=bob, subject="Internet down", status="pending", assignee=agnes)
    for incident in (first, second):
        problems.link(db, incident, problem, actor=agnes, now=NOW)
    tickets.add_note(db, first, body="Customer is on the affected node.", actor=agnes, now=NOW)
    db.commit()
    db.query(Notification).delete()
    updated = problems.update_all(db, problem, body="The fibre cut is repaired.", solve=True, actor=agnes, now=NOW)
    db.commit()
    assert set(updated) == {first, second}
    for ticket in (problem, first, second):
        assert ticket.status == "solved"
        assert ticket.messages[-1].body == "The fibre cut is repaired." and ticket.messages[-1].public
    mailed = {n.recipient_email for n in db.query(Notification).all()}
    assert {"alice@example.com", "bob@example.com"} <= mailed
    # the customer's view has the update but never the agents' note
    public_bodies = [m.body for m in first.messages if m.public]
    assert "Customer is on the affected node." not in public_bodies


def test_a_public_update_without_solving_keeps_incidents_open(db, make, agnes, alice):
    problem = make.ticket(assignee=agnes, status="open")
    incident = make.ticket(requester=alice, assignee=agnes, status="open")
    problems.link(db, incident, problem, actor=agnes, now=NOW)
    problems.update_all(db, problem, body="Engineers are on site.", actor=agnes, now=NOW)
    assert incident.status == "open" and incident.messages[-1].body == "Engineers are on site."


def test_links_refuse_loops(db, make, agnes):
    problem, incident = make.ticket(), make.ticket()
    with pytest.raises(Invalid):
        problems.link(db, problem, problem, actor=agnes, now=NOW)
    problems.link(db, incident, problem, actor=agnes, now=NOW)
    with pytest.raises(Invalid):
        problems.link(db, make.ticket(), incident, actor=agnes, now=NOW)
    problems.unlink(db, incident, actor=agnes, now=NOW)
    assert incident.problem_id is None


def test_merge_moves_the_conversation_and_closes_the_source_with_a_pointer(db, make, agnes, alice, bob):
    target = make.ticket(requester=alice, description="Router blinks red.")
    source = make.ticket(requester=alice, description="Same thing, red light again.")
    problems.merge(db, source, target, pointer=f"Merged into {target.ref}.", actor=agnes, now=NOW)
    db.commit()
    assert source.status == "closed"
    assert [m.body for m in source.messages] == [f"Merged into {target.ref}."]
    assert [m.body for m in target.messages] == ["Router blinks red.", "Same thing, red light again."]
    assert any(e.kind == "merged" for e in source.events)
    with pytest.raises(Invalid):
        problems.merge(db, make.ticket(requester=bob), target, pointer="x", actor=agnes, now=NOW)
