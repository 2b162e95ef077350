"""The dashboard's rollup (`ticket_metrics`) follows every committed ticket change, ignores rolled-back ones, and
`flask --app app reports rebuild` gives the same rows and figures as the rows kept live."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from portal.models import BusinessCalendar, Holiday, SlaPolicy, Ticket
from portal.models.reports import ReplyMetric, TicketMetric
from portal.services import report_period, reports, sla, tickets
from portal.services.report_calendar import BusinessClock

FILED = datetime(2026, 11, 16, 10, 0)  # a Monday


def row(db, ticket: Ticket) -> TicketMetric | None:
    db.expire_all()
    return db.get(TicketMetric, ticket.id)


def rows(db) -> list[tuple]:
    """Every row of both rollup tables."""
    db.expire_all()
    measured = db.execute(select(*TicketMetric.__table__.columns).order_by(TicketMetric.ticket_id))
    replies = db.execute(select(*ReplyMetric.__table__.columns).order_by(ReplyMetric.message_id))
    return [tuple(r) for r in measured] + [tuple(r) for r in replies]


def replies_of(db, ticket: Ticket) -> list[tuple]:
    db.expire_all()
    return [tuple(r) for r in db.execute(select(ReplyMetric.author_id, ReplyMetric.assignee_id)
                                         .where(ReplyMetric.ticket_id == ticket.id).order_by(ReplyMetric.message_id))]


@pytest.fixture
def filed(db, make, agnes, alice):
    db.add(SlaPolicy(priority="normal", plan="standard", first_reply_minutes=60, resolution_minutes=480))
    db.commit()
    return make.ticket(requester=alice, assignee=agnes, status="open", now=FILED)


def test_a_new_ticket_has_its_row_at_once(db, filed):
    measured = row(db, filed)
    assert (measured.created_at, measured.solved_at, measured.first_reply_minutes) == (FILED, None, None)
    assert measured.first_reply_late_after == FILED + timedelta(minutes=60)  # unanswered: late after its hour
    assert (measured.agent_replies, measured.reopened, measured.channel, measured.priority) == (0, False, "web",
                                                                                                 "normal")


def test_a_reply_then_a_solution_then_a_reopen_change_the_row(db, filed, agnes, alice):
    tickets.agent_reply(db, filed, body="Try this", actor=agnes, now=FILED + timedelta(minutes=45))
    db.commit()
    measured = row(db, filed)
    assert (measured.first_reply_minutes, measured.first_reply_met, measured.agent_replies) == (45, True, 1)
    assert measured.first_reply_late_after is None

    tickets.set_status(db, filed, "solved", actor=agnes, now=FILED + timedelta(hours=3))
    db.commit()
    measured = row(db, filed)
    assert (measured.solved_at, measured.resolution_minutes, measured.resolution_met) == (
        FILED + timedelta(hours=3), 180, True)
    assert not measured.reopened

    tickets.reopen(db, filed, reason="Still broken", actor=alice, now=FILED + timedelta(hours=4))
    db.commit()
    measured = row(db, filed)
    assert (measured.solved_at, measured.resolution_minutes) == (None, None)

    tickets.agent_reply(db, filed, body="Fixed now", submit_as="solved", actor=agnes,
                        now=FILED + timedelta(hours=10))
    db.commit()
    measured = row(db, filed)
    assert (measured.resolution_minutes, measured.resolution_met) == (600, False)  # 480 minutes was the target
    assert (measured.reopened, measured.agent_replies) == (True, 2)


def test_a_private_note_is_not_a_reply(db, filed, agnes):
    tickets.add_note(db, filed, body="Call them", actor=agnes, now=FILED + timedelta(minutes=5))
    db.commit()
    assert (row(db, filed).agent_replies, row(db, filed).first_reply_minutes) == (0, None)
    assert replies_of(db, filed) == []


def test_agent_replies_are_counted_for_their_author_with_the_ticket_filters(db, filed, agnes, alice, make):
    tickets.agent_reply(db, filed, body="Try this", actor=agnes, now=FILED + timedelta(minutes=5))
    tickets.customer_reply(db, filed, body="Did not work", actor=alice, now=FILED + timedelta(minutes=50))
    db.commit()
    assert replies_of(db, filed) == [(agnes.id, agnes.id)]  # the customer's message is not an agent reply
    other = make.user(role="agent")
    filed.assignee = other
    db.commit()
    assert replies_of(db, filed) == [(agnes.id, other.id)]  # the reply now counts in the new assignee's scope


def test_a_rolled_back_change_leaves_the_row_as_it_was(db, filed, agnes):
    before = rows(db)
    tickets.agent_reply(db, filed, body="Try this", submit_as="solved", actor=agnes,
                        now=FILED + timedelta(minutes=30))
    db.flush()
    db.rollback()
    assert rows(db) == before
    db.commit()  # a later empty commit does not apply the forgotten change either
    assert rows(db) == before


def test_reassigning_moves_the_ticket_between_agents_figures(db, filed, make):
    other = make.user(role="agent")
    filed.assignee = other
    db.commit()
    assert row(db, filed).assignee_id == other.id


def test_rebuild_gives_the_rows_kept_live(db, filed, make, agnes, alice, runner):
    tickets.agent_reply(db, filed, body="One", actor=agnes, now=FILED + timedelta(minutes=20))
    tickets.set_status(db, filed, "pending", actor=agnes, now=FILED + timedelta(minutes=20))
    db.commit()
    tickets.customer_reply(db, filed, body="Still nothing", actor=alice, now=FILED + timedelta(hours=5))
    tickets.agent_reply(db, filed, body="Two", submit_as="solved", actor=agnes, now=FILED + timedelta(hours=6))
    db.commit()
    make.ticket(requester=alice, priority="high", now=FILED + timedelta(hours=1))
    make.ticket(requester=alice, assignee=agnes, status="closed", now=FILED + timedelta(hours=2))
    live = rows(db)
    assert len(live) == 3 + 2  # three tickets, two public agent replies

    db.execute(delete(TicketMetric))
    db.execute(delete(ReplyMetric))
    db.commit()
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "measured 3 tickets" in result.output
    assert rows(db) == live


def test_rebuild_gives_the_hand_computed_figures(db, filed, agnes, admin_user, runner):
    tickets.agent_reply(db, filed, body="One", submit_as="solved", actor=agnes, now=FILED + timedelta(minutes=50))
    db.commit()
    period = reports.parse_period("custom", "2026-11-16", "2026-11-20", now=datetime(2026, 11, 20, 12))

    def figures():
        db.expire_all()
        return report_period.period_figures(db, actor=admin_user, period=period, filters=reports.ReportFilters(),
                                            now=datetime(2026, 11, 20, 12))

    live = figures()
    assert (live.created, live.solved, live.first_reply.median, live.one_touch) == (1, 1, 50, 1)
    assert [(a.name, a.replies) for a in live.agents] == [(agnes.name, 1)]
    db.execute(delete(TicketMetric))
    db.execute(delete(ReplyMetric))
    db.commit()
    assert figures().created == 0  # the figures come from the rollup
    assert runner.invoke(args=["reports", "rebuild"]).exit_code == 0
    assert figures() == live


def test_a_deleted_ticket_loses_its_row(db, filed):
    db.delete(filed)
    db.commit()
    assert db.scalar(select(TicketMetric).where(TicketMetric.ticket_id == filed.id)) is None
    assert replies_of(db, filed) == []


def test_the_late_moment_agrees_with_the_business_clock(db):
    """An unanswered ticket is late once more than its target has passed on the clock: the stored moment is the
    last one that is not late yet."""
    calendar = BusinessCalendar(name="Madrid", timezone="Europe/Madrid",
                                hours={str(d): ["09:00", "18:00"] for d in range(5)})
    calendar.holidays.append(Holiday(day=datetime(2026, 12, 8).date(), name="Inmaculada"))
    db.add(calendar)
    db.commit()
    clock = BusinessClock(calendar, datetime(2026, 11, 1), datetime(2027, 1, 31))
    for start in (datetime(2026, 12, 4, 16, 13), datetime(2026, 12, 5, 3), datetime(2026, 12, 7, 8, 0)):
        for target in (30, 60, 240, 540, 1000, 3000):
            late = clock.late_after(start, target)
            assert sla.working_minutes(start, late, calendar) == pytest.approx(target)
            assert sla.working_minutes(start, late + timedelta(minutes=1), calendar) > target
