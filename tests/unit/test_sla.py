"""SLA clocks: business hours across weekends and holidays, pauses, breaches recorded once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import BusinessCalendar, Holiday, SlaPolicy, TicketEvent
from portal.services import sla, tickets

WEEKDAYS = {str(d): ["09:00", "17:00"] for d in range(5)}  # Monday to Friday, 9 to 5
FRIDAY_4PM_MADRID = datetime(2026, 11, 27, 15, 0)  # UTC; Madrid is UTC+1 in November


@pytest.fixture
def calendar(db):
    calendar = BusinessCalendar(name="Madrid office", timezone="Europe/Madrid", hours=WEEKDAYS)
    db.add(calendar)
    db.commit()
    return calendar


@pytest.fixture
def policy(db, calendar):
    policy = SlaPolicy(priority="normal", plan="standard", first_reply_minutes=120, next_reply_minutes=60,
                       resolution_minutes=8 * 60, business_hours=True, calendar=calendar)
    db.add(policy)
    db.commit()
    return policy


def test_first_reply_in_business_hours_skips_the_weekend(policy, make):
    ticket = make.ticket(now=FRIDAY_4PM_MADRID)
    # one hour on Friday (16-17), one on Monday (9-10 Madrid = 8-9 UTC)
    assert ticket.sla_due_at == datetime(2026, 11, 30, 9, 0)


def test_a_holiday_on_monday_moves_the_due_time_to_tuesday(db, policy, calendar, make):
    calendar.holidays.append(Holiday(day=date(2026, 11, 30), name="Local holiday"))
    db.commit()
    ticket = make.ticket(now=FRIDAY_4PM_MADRID)
    assert ticket.sla_due_at == datetime(2026, 12, 1, 9, 0)


def test_calendar_hours_policy_counts_every_minute(db, make):
    db.add(SlaPolicy(priority="urgent", plan="standard", first_reply_minutes=30, business_hours=False))
    db.commit()
    ticket = make.ticket(priority="urgent", now=FRIDAY_4PM_MADRID)
    assert ticket.sla_due_at == FRIDAY_4PM_MADRID + timedelta(minutes=30)


def test_premium_plan_gets_its_own_policy(db, policy, make):
    db.add(SlaPolicy(priority="normal", plan="premium", first_reply_minutes=15, business_hours=False))
    db.commit()
    vip = make.user()
    vip.plan = "premium"
    db.commit()
    assert make.ticket(requester=vip, now=FRIDAY_4PM_MADRID).sla_due_at == FRIDAY_4PM_MADRID + timedelta(minutes=15)


def test_pending_pauses_the_resolution_clock(db, make):
    db.add(SlaPolicy(priority="normal", plan="standard", resolution_minutes=600, business_hours=False))
    db.commit()
    agent = make.user(role="agent")
    start = datetime(2026, 11, 23, 8, 0)
    ticket = make.ticket(now=start)
    assert ticket.sla_due_at == start + timedelta(minutes=600)
    tickets.agent_reply(db, ticket, body="Can you send a photo?", submit_as="pending", actor=agent,
                        now=start + timedelta(hours=1))
    assert ticket.sla_due_at is None  # nothing runs while we wait for the customer
    tickets.customer_reply(db, ticket, body="Here it is.", actor=ticket.requester, now=start + timedelta(hours=4))
    db.commit()
    # three hours paused: the resolution target moves three hours later
    assert sla.clocks(db, ticket, start + timedelta(hours=4)).resolution == start + timedelta(minutes=600 + 180)


def test_next_reply_runs_after_the_customer_writes_again(db, make):
    db.add(SlaPolicy(priority="normal", plan="standard", first_reply_minutes=60, next_reply_minutes=30,
                     business_hours=False))
    db.commit()
    agent = make.user(role="agent")
    start = datetime(2026, 11, 23, 8, 0)
    ticket = make.ticket(now=start)
    tickets.agent_reply(db, ticket, body="Try restarting the router.", actor=agent, now=start + timedelta(minutes=10))
    assert ticket.sla_due_at is None
    tickets.customer_reply(db, ticket, body="Still broken.", actor=ticket.requester, now=start + timedelta(hours=1))
    assert ticket.sla_due_at == start + timedelta(hours=1, minutes=30)


def test_a_breach_is_recorded_once_and_a_warning_comes_first(db, make):
    db.add(SlaPolicy(priority="normal", plan="standard", first_reply_minutes=60, business_hours=False))
    db.commit()
    agent = make.user(role="agent")
    start = datetime(2026, 11, 23, 8, 0)
    ticket = make.ticket(now=start, assignee=agent, status="open")
    warned = sla.check(db, now=start + timedelta(minutes=20))
    assert warned.warned == [ticket] and not warned.breached
    assert sla.check(db, now=start + timedelta(minutes=30)).warned == []  # one warning per due time
    assert sla.check(db, now=start + timedelta(minutes=61)).breached == [ticket]
    assert sla.check(db, now=start + timedelta(minutes=90)).breached == []
    db.commit()
    kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)).all()
    assert kinds.count("sla_breached") == 1 and kinds.count("sla_warning") == 1
    assert ticket.sla_breached_at == start + timedelta(minutes=60)
    assert sla.state(ticket, start + timedelta(minutes=90)) == "breached"


def test_the_customer_is_promised_a_first_reply_time(db, policy, alice):
    promise = sla.promised_first_reply(db, None, "normal", alice, FRIDAY_4PM_MADRID)
    assert promise.due_at == datetime(2026, 11, 30, 9, 0) and promise.business_hours
    assert (promise.in_hours, promise.amount) == (True, 2)
    assert sla.promised_first_reply(db, None, "urgent", alice, FRIDAY_4PM_MADRID) is None


def test_no_policy_no_clock(make):
    assert make.ticket().sla_due_at is None


def test_the_sla_check_command_records_breaches(db, runner, make):
    db.add(SlaPolicy(priority="normal", plan="standard", first_reply_minutes=60, business_hours=False))
    db.commit()
    ticket = make.ticket(now=datetime(2026, 11, 23, 8, 0))
    result = runner.invoke(args=["tickets", "sla-check", "--now", "2026-11-23T10:00"])
    assert result.exit_code == 0 and "Breached 1" in result.output
    again = runner.invoke(args=["tickets", "sla-check", "--now", "2026-11-23T11:00"])
    assert "Breached 0" in again.output
    db.refresh(ticket)
    assert ticket.sla_breached_at == datetime(2026, 11, 23, 9, 0)


def test_the_new_ticket_page_shows_the_promise(client, db, calendar, policy, alice):
    from tests.conftest import login

    login(client, alice)
    page = client.get("/tickets/new")
    assert "We aim to send you a first reply within 2 business hours" in page.text
