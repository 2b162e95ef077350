"""Automatic assignment by skills, language and load; capacity; round-robin; guided "Next ticket"."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from portal.errors import NotAllowed
from portal.models import Group, SlaPolicy
from portal.services import assignment, problems

NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def desk(db, make):
    """An auto-assigning group routed from the "Billing" category, with two Spanish- and English-speaking agents."""
    group = Group(name="Billing desk", skills=["billing"], auto_assign=True)
    db.add(group)
    db.commit()
    category = make.category(name="Billing", group=group)
    category.skill = "billing"
    ana, ben = make.user(role="agent", name="Ana"), make.user(role="agent", name="Ben")
    for agent in (ana, ben):
        agent.skills = ["billing", "en", "es"]
        group.members.append(agent)
    db.commit()
    return group, category, ana, ben


def test_new_tickets_go_to_the_agent_with_fewest_open_tickets(db, make, desk):
    group, category, ana, ben = desk
    make.ticket(category=category, assignee=ana, status="open")
    ticket = make.ticket(category=category, now=NOW)
    assert ticket.assignee == ben and ticket.status == "new"


def test_ties_go_round_robin(db, make, desk):
    group, category, ana, ben = desk
    first = make.ticket(category=category, now=NOW)
    second = make.ticket(category=category, now=NOW + timedelta(minutes=1))
    assert {first.assignee, second.assignee} == {ana, ben}


def test_skills_and_language_must_match(db, make, desk):
    group, category, ana, ben = desk
    ben.skills = ["billing", "en"]
    db.commit()
    assert make.ticket(category=category, language="es").assignee == ana
    ana.skills = ["en"]
    db.commit()
    assert make.ticket(category=category, language="es").assignee is None  # nobody fits: left in the queue


def test_away_agents_and_full_agents_are_skipped(db, make, desk):
    group, category, ana, ben = desk
    ben.available = False
    ana.capacity = 1
    db.commit()
    assert make.ticket(category=category).assignee == ana
    assert make.ticket(category=category).assignee is None  # Ana is at capacity, Ben is away


def test_groups_without_auto_assign_are_left_alone(db, make, desk):
    group, category, ana, ben = desk
    group.auto_assign = False
    db.commit()
    assert make.ticket(category=category).assignee is None


def test_guided_mode_hands_out_the_most_urgent_ticket_and_forbids_cherry_picking(db, make, desk):
    group, category, ana, ben = desk
    group.auto_assign, group.guided = False, True
    db.add(SlaPolicy(priority="high", plan="standard", first_reply_minutes=30, business_hours=False))
    db.commit()
    old_low = make.ticket(category=category, priority="low", now=NOW - timedelta(days=2))
    urgent = make.ticket(category=category, priority="urgent", now=NOW)
    high_with_sla = make.ticket(category=category, priority="high", now=NOW)
    with pytest.raises(NotAllowed):
        assignment.take(db, old_low, actor=ana, now=NOW)
    assert assignment.next_ticket(db, ana, now=NOW) == high_with_sla  # an SLA due first
    assert assignment.next_ticket(db, ana, now=NOW) == urgent  # then priority
    assert assignment.next_ticket(db, ana, now=NOW) == old_low
    assert assignment.next_ticket(db, ana, now=NOW) is None
    db.commit()
    assert high_with_sla.assignee == ana and high_with_sla.status == "open"


def test_two_agents_pressing_next_at_once_never_get_the_same_ticket(app, db, make, desk):
    group, category, ana, ben = desk
    group.auto_assign = False
    db.commit()
    for _ in range(2):
        make.ticket(category=category, now=NOW)
    ids = [ana.id, ben.id]
    got, barrier = {}, threading.Barrier(2)

    def press(agent_id):
        session = app.extensions["sessionmaker"]()
        try:
            agent = session.get(type(ana), agent_id)
            barrier.wait()
            ticket = assignment.next_ticket(session, agent, now=NOW)
            session.commit()
            got[agent_id] = ticket.id if ticket else None
        finally:
            session.close()

    threads = [threading.Thread(target=press, args=(agent_id,)) for agent_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert None not in got.values() and len(set(got.values())) == 2


def test_assign_to_a_group_lets_go_of_an_assignee_outside_it(db, make, desk):
    group, category, ana, ben = desk
    other = Group(name="Tier 2", tier=2)
    db.add(other)
    db.commit()
    ticket = make.ticket(category=category)
    assignment.assign_group(db, ticket, other, actor=ana, now=NOW)
    db.commit()
    assert ticket.group == other and ticket.assignee is None
    assert [e.kind for e in ticket.events][-2:] == ["group_changed", "assigned"]


def test_in_guided_groups_only_the_holder_hands_over_and_only_to_a_member_who_fits(db, make, desk):
    group, category, ana, ben = desk
    group.auto_assign, group.guided = False, True
    ben.skills = ["billing", "en"]
    db.commit()
    ticket = make.ticket(category=category, language="es")
    with pytest.raises(NotAllowed):
        assignment.assign_to(db, ticket, ana, actor=ana, now=NOW)  # picking it
    assert assignment.next_ticket(db, ben, now=NOW) is None  # Ben has no Spanish
    assert assignment.next_ticket(db, ana, now=NOW) == ticket
    with pytest.raises(NotAllowed):
        assignment.assign_to(db, ticket, ben, actor=ana, now=NOW)  # Ben lacks the ticket's language
    with pytest.raises(NotAllowed):
        assignment.assign_group(db, ticket, None, actor=ben, now=NOW)  # not his to move
    assignment.assign_to(db, ticket, None, actor=ana, now=NOW)  # Ana lets go
    assert ticket.assignee is None


def test_solving_a_problem_solves_its_unassigned_guided_incidents(db, make, desk):
    group, category, ana, ben = desk
    group.auto_assign, group.guided = False, True
    db.commit()
    problem = make.ticket(assignee=ana, status="open")
    incident = make.ticket(category=category)
    problems.link(db, incident, problem, actor=ana, now=NOW)
    problems.update_all(db, problem, body="Fixed at the exchange.", solve=True, actor=ana, now=NOW)
    db.commit()
    assert incident.status == "solved" and incident.assignee == ana
