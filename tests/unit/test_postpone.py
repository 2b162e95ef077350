"""Postpone: an agent or a rule puts a ticket aside until a time; it leaves the working queues, and comes back
open, assigned as before, when the time comes (the scheduled job), or at once when the queues are read after
that time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Conflict, Invalid, InvalidTransition, NotFound
from portal.models import Rule, Ticket, TicketEvent
from portal.services import agent_queue, assignment, postpone, tickets
from portal.services.rules import automations, manage
from tests.concurrency import at_once

T0 = datetime(2026, 12, 8, 9, 0)  # a Tuesday
LATER = T0 + timedelta(days=2)
MADRID = "Europe/Madrid"



def reload(db, ticket) -> Ticket:
    db.expire_all()
    return db.get(Ticket, ticket.id)


def events(db, ticket, kind: str) -> list[TicketEvent]:
    return list(db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
                           .order_by(TicketEvent.id)))


def queue(db, agent, view: str, at: datetime) -> list[str]:
    return [row.ref for row in agent_queue.queue_page(db, agent, view=view, now=at).tickets]


@pytest.fixture
def worked(db, make, alice, agnes):
    """A pending ticket Agnes is working on."""
    ticket = make.ticket(requester=alice, status="pending", assignee=agnes, now=T0)
    db.commit()
    return ticket


# ---- Postponing -----------------------------------------------------------------------------------------------


def test_postponing_keeps_status_and_assignee_and_records_the_time(db, worked, agnes):
    version = worked.version
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0, expected_version=version)
    db.commit()
    ticket = reload(db, worked)
    assert (ticket.status, ticket.assignee_id, ticket.postponed_until) == ("pending", agnes.id, LATER)
    assert ticket.version > version and ticket.updated_at == T0
    [event] = events(db, ticket, postpone.POSTPONED_EVENT)
    assert (event.actor_id, event.field, event.new_value) == (agnes.id, "postponed_until", "2026-12-10T09:00")


@pytest.mark.parametrize(("until", "message"), [
    (None, "Choose when the ticket comes back."),
    (T0 - timedelta(minutes=1), "Choose a time in the future."),
    (T0, "Choose a time in the future."),
    (T0 + timedelta(days=366), "A ticket can be postponed at most %(days)s days ahead."),
])
def test_the_time_must_be_in_the_future_and_within_a_year(db, worked, agnes, until, message):
    with pytest.raises(Invalid) as refused:
        postpone.postpone(db, worked, until, actor=agnes, now=T0)
    assert refused.value.message == message and refused.value.details["field"] == "until"
    assert reload(db, worked).postponed_until is None


def test_a_year_ahead_is_the_limit(db, worked, agnes):
    postpone.postpone(db, worked, T0 + timedelta(days=365), actor=agnes, now=T0)
    assert worked.postponed_until == T0 + timedelta(days=365)


@pytest.mark.parametrize("status", ["solved", "closed"])
def test_solved_and_closed_tickets_cannot_be_postponed(db, make, alice, agnes, status):
    ticket = make.ticket(requester=alice, status=status, now=T0)
    with pytest.raises(InvalidTransition, match="A solved or closed ticket cannot be postponed."):
        postpone.postpone(db, ticket, LATER, actor=agnes, now=T0)


def test_only_agents_postpone_and_a_stale_version_is_refused(db, worked, alice, agnes):
    with pytest.raises(NotFound):
        postpone.postpone(db, worked, LATER, actor=alice, now=T0)
    with pytest.raises(Conflict):
        postpone.postpone(db, worked, LATER, actor=agnes, now=T0, expected_version=worked.version - 1)
    assert reload(db, worked).postponed_until is None


def test_solving_a_postponed_ticket_ends_the_postponement(db, worked, agnes):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    tickets.set_status(db, worked, "solved", actor=agnes, now=T0 + timedelta(hours=1))
    db.commit()
    assert reload(db, worked).postponed_until is None
    assert len(events(db, worked, postpone.ENDED_EVENT)) == 1


def test_a_customer_reply_brings_it_back_at_once(db, worked, alice, agnes):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    db.commit()
    tickets.customer_reply(db, worked, body="Here is the serial number: 123", actor=alice, now=T0 + timedelta(hours=1))
    db.commit()
    ticket = reload(db, worked)
    assert (ticket.status, ticket.postponed_until) == ("open", None)
    assert worked.ref in queue(db, agnes, "mine", T0 + timedelta(hours=1))


# ---- The queues -------------------------------------------------------------------------------------------------


def test_a_postponed_ticket_leaves_the_working_queues_for_the_postponed_one(db, make, alice, agnes, worked):
    other = make.ticket(requester=alice, status="open", assignee=agnes, now=T0)
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    db.commit()
    at = T0 + timedelta(hours=1)
    for view in ("mine", "open", "pending"):
        assert worked.ref not in queue(db, agnes, view, at), view
    assert other.ref in queue(db, agnes, "open", at)
    assert queue(db, agnes, "postponed", at) == [worked.ref]
    assert agent_queue.queue_page(db, agnes, view="postponed", now=at).tickets[0].postponed_until == LATER
    assert worked.ref in queue(db, agnes, "all", at)
    counts = agent_queue.counts(db, agnes, now=at)
    assert (counts["postponed"], counts["mine"], counts["pending"], counts["open"]) == (1, 1, 0, 1)


def test_when_the_time_comes_it_is_back_in_the_queues_before_the_job_runs(db, agnes, worked):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    db.commit()
    assert worked.ref in queue(db, agnes, "mine", LATER)
    assert worked.ref in queue(db, agnes, "pending", LATER)
    assert queue(db, agnes, "postponed", LATER) == []


def test_next_ticket_skips_postponed_tickets(db, make, alice, agnes):
    from portal.models import Group

    group = Group(name="Front desk", guided=True)
    group.members.append(agnes)
    agnes.skills = ["en"]  # the ticket's language
    db.add(group)
    ticket = make.ticket(requester=alice, now=T0)
    ticket.group = group
    db.commit()
    postpone.postpone(db, ticket, LATER, actor=agnes, now=T0)
    db.commit()
    assert assignment.next_ticket(db, agnes, now=T0 + timedelta(hours=1)) is None
    assert assignment.next_ticket(db, agnes, now=LATER) is not None


# ---- Coming back --------------------------------------------------------------------------------------------------


def test_the_job_brings_it_back_open_assigned_as_before(db, agnes, worked):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    db.commit()
    assert postpone.wake_due(db, now=LATER - timedelta(minutes=1)).woken == []
    report = postpone.wake_due(db, now=LATER)
    assert report.woken == [worked.ref] and report.errors == []
    ticket = reload(db, worked)
    assert (ticket.status, ticket.assignee_id, ticket.postponed_until) == ("open", agnes.id, None)
    [ended] = events(db, ticket, postpone.ENDED_EVENT)
    assert (ended.actor_id, ended.old_value, ended.new_value) == (None, "2026-12-10T09:00", None)
    [status] = [e for e in ticket.events if e.field == "status"]
    assert (status.old_value, status.new_value, status.actor_id) == ("pending", "open", None)
    assert postpone.wake_due(db, now=LATER + timedelta(hours=1)).woken == []  # once


def test_resume_now_is_the_same_as_the_time_coming(db, agnes, worked):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    postpone.resume(db, worked, actor=agnes, now=T0 + timedelta(hours=1))
    db.commit()
    ticket = reload(db, worked)
    assert (ticket.status, ticket.postponed_until, ticket.assignee_id) == ("open", None, agnes.id)
    assert events(db, ticket, postpone.ENDED_EVENT)[0].actor_id == agnes.id
    with pytest.raises(InvalidTransition, match="This ticket is not postponed."):
        postpone.resume(db, ticket, actor=agnes, now=T0 + timedelta(hours=2))


def test_a_ticket_changed_after_the_job_read_it_is_left_to_the_next_run(db, agnes, worked):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    db.commit()
    stale = worked.version - 1
    assert not postpone._claim(db, worked.id, stale, LATER)
    db.rollback()
    assert postpone._claim(db, worked.id, worked.version, LATER)
    db.rollback()


def test_two_jobs_at_once_bring_each_ticket_back_once(app, db, make, alice, agnes):
    postponed = [make.ticket(requester=alice, status="on_hold", assignee=agnes, now=T0) for _ in range(6)]
    for ticket in postponed:
        postpone.postpone(db, ticket, LATER, actor=agnes, now=T0)
    db.commit()
    reports = at_once(app, lambda session: postpone.wake_due(session, now=LATER))
    assert len(reports) == 2 and reports[0].errors == [] == reports[1].errors
    assert sorted(reports[0].woken + reports[1].woken) == sorted(t.ref for t in postponed)
    for ticket in postponed:
        assert len(events(db, ticket, postpone.ENDED_EVENT)) == 1
        assert reload(db, ticket).status == "open"


def test_the_automations_command_brings_tickets_back(app, db, runner, agnes, worked):
    postpone.postpone(db, worked, LATER, actor=agnes, now=T0)
    db.commit()
    result = runner.invoke(args=["rules", "run-automations", "--now", LATER.isoformat(), "--no-mail"])
    assert result.exit_code == 0, result.output
    assert f"Back from postponement: 1 ticket(s): {worked.ref}" in result.output
    assert reload(db, worked).status == "open"


# ---- A rule's action ------------------------------------------------------------------------------------------------


def rule_data(hours: object, **extra) -> dict:
    return {"name": "Park the slow ones", "events": ["ticket_created"], "conditions_all": [],
            "actions": [{"type": "postpone", "value": hours}], **extra}


@pytest.mark.parametrize("hours", [0, 24 * 365 + 1, "soon"])
def test_a_rule_postpones_for_1_hour_to_a_year(db, hours):
    _clean, errors = manage.validate(db, rule_data(hours))
    assert "actions.0.value" in errors


def test_a_trigger_postpones_and_the_timeline_names_the_rule(db, make, alice, admin_user):
    from portal.clock import utcnow

    made = manage.create_rule(db, rule_data(24), actor=admin_user, now=utcnow())
    db.commit()
    before = utcnow()
    ticket = make.ticket(requester=alice)
    ticket = reload(db, ticket)
    assert ticket.postponed_until is not None
    assert before + timedelta(hours=23, minutes=58) <= ticket.postponed_until <= utcnow() + timedelta(hours=24)
    [event] = events(db, ticket, postpone.POSTPONED_EVENT)
    assert event.rule_id == made.id and event.actor_id is None


def test_an_automation_postpones_each_matching_ticket_once(db, make, alice, agnes, admin_user):
    data = {"name": "Quiet on hold", "kind": "automation", "once_per_ticket": False, "events": [],
            "conditions_all": [{"field": "status", "op": "is", "value": "on_hold"},
                               {"field": "hours_since_updated", "op": "greater_than", "value": 48}],
            "actions": [{"type": "postpone", "value": 72}]}
    manage.create_rule(db, data, actor=admin_user, now=T0)
    db.commit()
    ticket = make.ticket(requester=alice, status="on_hold", assignee=agnes, now=T0)
    at = T0 + timedelta(days=3)
    report = automations.run(db, now=at)
    assert report.fired == {"Quiet on hold": [ticket.ref]}
    assert reload(db, ticket).postponed_until == at + timedelta(hours=72)
    assert automations.run(db, now=at + timedelta(hours=1)).total == 0
    assert db.scalar(select(func.count()).select_from(Rule).where(Rule.enabled.is_(False))) == 0


def test_a_rule_skips_a_solved_ticket(db, make, alice, admin_user):
    from portal.services.rules import actions

    ticket = make.ticket(requester=alice, status="solved", now=T0)
    acting = actions.Acting(db, ticket, 1, "Park", T0, "http://portal.test/")
    with pytest.raises(actions.Skipped):
        actions.apply(acting, {"type": "postpone", "value": 24})


# ---- Times in the portal's time zone -------------------------------------------------------------------------------


def test_quick_choices_are_9_in_the_morning_in_the_portals_time_zone():
    now = datetime(2026, 12, 8, 0, 30)  # Tuesday, 01:30 in Madrid (UTC+1)
    choices = {c.key: c.until for c in postpone.quick_choices(now=now, zone=MADRID)}
    assert choices == {"tomorrow": datetime(2026, 12, 9, 8, 0), "in_3_days": datetime(2026, 12, 11, 8, 0),
                       "next_monday": datetime(2026, 12, 14, 8, 0)}
    summer = {c.key: c.until for c in postpone.quick_choices(now=datetime(2026, 7, 5, 12, 0), zone=MADRID)}
    assert summer["tomorrow"] == datetime(2026, 7, 6, 7, 0)  # UTC+2
    assert summer["next_monday"] == datetime(2026, 7, 6, 7, 0)  # a Sunday: Monday is tomorrow


def test_a_typed_time_is_read_in_the_portals_time_zone():
    assert postpone.parse_local("2026-12-09T10:00", zone=MADRID) == datetime(2026, 12, 9, 9, 0)
    assert postpone.parse_local("", zone=MADRID) is None
    assert postpone.to_local(datetime(2026, 12, 9, 9, 0), zone=MADRID) == "2026-12-09T10:00"
    for text in ("next tuesday", "2026-13-01T10:00", "0001-01-01T00:00+05:00"):
        with pytest.raises(Invalid):
            postpone.parse_local(text, zone=MADRID)
