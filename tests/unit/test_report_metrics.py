"""The dashboard's figures on a small hand-built week, each expected value worked out by hand below
(docs/metrics.md has the definitions).

The week: Monday 16 to Friday 20 November 2026, "now" is Friday 12:00 UTC. Normal tickets run on calendar
minutes (first reply 60 min, resolution 480 min); high tickets on business minutes (Monday to Friday, 09-17 UTC).

| ticket | created      | first reply       | solved       | notes                                               |
|--------|--------------|-------------------|--------------|-----------------------------------------------------|
| T1     | Mon 10:00    | Mon 10:30 (30)    | Mon 14:00    | Ann; one reply (+ a private note); rated good       |
| T2     | Tue 09:00    | Tue 11:00 (120)   | Wed 09:00    | Ann; two replies; pending Tue 11:00 → Wed 08:00     |
| T3     | Wed 08:00    | Wed 08:20 (20)    | Thu 08:00    | Ben; two replies; solved Wed 09:00, reopened 10:00; bad |
| T4 high| Thu 16:30    | Fri 09:15 (45 bh) | —            | Ben, Billing; open                                  |
| T5     | Fri 09:00    | —                 | —            | Billing, unassigned; 180 min unanswered; SLA breached |
| T6     | Fri 11:30    | —                 | —            | no group, phone; 30 min unanswered; due 12:30       |
| T7     | Nov 10 10:00 | Nov 10 10:10      | Mon 10:00    | Ann; one reply; created before the period           |
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.errors import Invalid
from portal.models import (
    ArticleView,
    BusinessCalendar,
    Deflection,
    Group,
    Holiday,
    Message,
    SatisfactionRating,
    SearchLog,
    SentArticle,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from portal.services import report_period, report_tables, reports, sla
from portal.services.report_calendar import BusinessClock, shared_clock
from portal.services.report_selfservice import self_service

NOW = datetime(2026, 11, 20, 12, 0)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute)


@pytest.fixture
def week(db, make):
    calendar = BusinessCalendar(name="Office", timezone="UTC", hours={str(d): ["09:00", "17:00"] for d in range(5)})
    db.add_all([
        calendar,
        SlaPolicy(priority="normal", plan="standard", first_reply_minutes=60, resolution_minutes=480),
        SlaPolicy(priority="high", plan="standard", first_reply_minutes=60, resolution_minutes=240,
                  business_hours=True, calendar=calendar),
    ])
    billing = Group(name="Billing")
    ann, ben = make.user(name="Ann Agent", role="agent"), make.user(name="Ben Agent", role="agent")
    customer = make.user(name="Cleo Customer")
    ann.groups.append(billing)
    db.add(billing)
    tickets: dict[str, Ticket] = {}

    def ticket(name, created, *, status, priority="normal", assignee=None, group=None, channel="web",
               first_reply=None, solved=None, sla_due=None):
        t = Ticket(ref=f"MSA-TEST-{name}", subject=f"Problem {name}", status=status, priority=priority,
                   channel=channel, requester_id=customer.id, assignee=assignee, group=group, created_at=created,
                   updated_at=created, first_response_at=first_reply, solved_at=solved, sla_due_at=sla_due)
        db.add(t)
        db.add(Message(ticket=t, author_id=customer.id, body="Help", public=True, created_at=created))
        tickets[name] = t
        return t

    def reply(t, who, when, public=True):
        db.add(Message(ticket=t, author_id=who.id, body="Answer", public=public, created_at=when))

    def status(t, when, old, new, kind="status_changed"):
        db.add(TicketEvent(ticket=t, created_at=when, kind=kind, field="status", old_value=old, new_value=new))

    t1 = ticket("T1", at(16, 10), status="solved", assignee=ann, first_reply=at(16, 10, 30), solved=at(16, 14))
    reply(t1, ann, at(16, 10, 30))
    reply(t1, ann, at(16, 11), public=False)
    status(t1, at(16, 14), "open", "solved")
    t2 = ticket("T2", at(17, 9), status="solved", assignee=ann, first_reply=at(17, 11), solved=at(18, 9))
    reply(t2, ann, at(17, 11))
    status(t2, at(17, 11), "new", "pending")
    status(t2, at(18, 8), "pending", "open")
    reply(t2, ann, at(18, 8, 30))
    status(t2, at(18, 9), "open", "solved")
    t3 = ticket("T3", at(18, 8), status="closed", assignee=ben, first_reply=at(18, 8, 20), solved=at(19, 8))
    reply(t3, ben, at(18, 8, 20))
    status(t3, at(18, 9), "open", "solved")
    status(t3, at(18, 10), "solved", "open", kind="reopened")
    reply(t3, ben, at(19, 7, 50))
    status(t3, at(19, 8), "open", "solved")
    t4 = ticket("T4", at(19, 16, 30), status="open", priority="high", assignee=ben, group=billing,
                first_reply=at(20, 9, 15))
    reply(t4, ben, at(20, 9, 15))
    ticket("T5", at(20, 9), status="new", group=billing, sla_due=at(20, 10))
    ticket("T6", at(20, 11, 30), status="new", channel="phone", sla_due=at(20, 12, 30))
    t7 = ticket("T7", datetime(2026, 11, 10, 10), status="solved", assignee=ann,
                first_reply=datetime(2026, 11, 10, 10, 10), solved=at(16, 10))
    reply(t7, ann, datetime(2026, 11, 10, 10, 10))
    status(t7, at(16, 10), "open", "solved")
    db.add_all([
        SatisfactionRating(ticket=t1, rating="good", comment="Quick and clear", created_at=at(16, 15),
                           updated_at=at(16, 15)),
        SatisfactionRating(ticket=t3, rating="bad", comment="Had to ask twice", created_at=at(19, 9),
                           updated_at=at(19, 9)),
        SatisfactionRating(ticket=t7, rating="good", created_at=datetime(2026, 11, 12), updated_at=at(12, 9)),
    ])
    # Self-service: the customer searched 30 min before filing T1.
    for query, lang, results, when in (("router reset", "en", 3, at(16, 9, 30)), ("router reset", "en", 2, at(17, 8)),
                                       ("fibra gigabit", "es", 0, at(18, 8)), ("old search", "en", 0, at(2, 8))):
        db.add(SearchLog(query=query, normalized_query=query, lang=lang, result_count=results,
                         user_id=customer.id if when == at(16, 9, 30) else None, created_at=when, updated_at=when))
    for path, when in (("en/router.md", at(16, 9)), ("en/router.md", at(17, 9)), ("en/router.md", at(18, 9)),
                       ("en/billing.md", at(19, 9)), ("en/billing.md", at(3, 9))):
        db.add(ArticleView(path=path, lang="en", created_at=when))
    db.add(Deflection(query="router reset", article_path="en/router.md", created_at=at(17, 10)))
    db.flush()
    db.add(SentArticle(ticket_id=t2.id, article_path="en/router.md", created_at=at(18, 8, 30)))
    db.commit()
    period = reports.parse_period("custom", "2026-11-16", "2026-11-20", now=NOW)
    return {"ann": ann, "ben": ben, "billing": billing, "period": period, "tickets": tickets}


def figures(db, week, actor, **filters):
    return report_period.period_figures(db, actor=actor, period=week["period"],
                                        filters=reports.ReportFilters(**filters), now=NOW)


def test_first_reply_and_resolution_times_median_and_90th_percentile(db, week, admin_user):
    f = figures(db, week, admin_user)
    # First replies of the tickets created in the week: 20, 30, 45 (T4 in business minutes: 16:30-17:00 on
    # Thursday, 09:00-09:15 on Friday), 120. Median (30 + 45) / 2; nearest-rank p90 is the 4th of 4.
    assert (f.first_reply.median, f.first_reply.p90, f.first_reply.count) == (37.5, 120, 4)
    # Solved in the week: T1 240, T7 8640 (6 days), T2 1440, T3 1440 (created to final solution).
    assert (f.resolution.median, f.resolution.p90, f.resolution.count) == (1440, 8640, 4)


def test_sla_compliance_per_target(db, week, admin_user):
    f = figures(db, week, admin_user)
    # First reply: T1, T3, T4 met; T2 late; T5 unanswered past its hour (a miss); T6 not due yet (not counted).
    assert (f.sla_first_reply.met, f.sla_first_reply.measured) == (3, 5)
    # Resolution (480): T1 240 met; T2 1440 minus 1260 pending = 180 met; T3 1440 and T7 8640 missed.
    assert (f.sla_resolution.met, f.sla_resolution.measured) == (2, 4)
    assert f.sla_resolution.rate == 0.5


def test_reopen_one_touch_and_satisfaction(db, week, admin_user):
    f = figures(db, week, admin_user)
    assert (f.solved, f.reopened, f.reopen_rate) == (4, 1, 0.25)  # T3 was reopened
    assert (f.one_touch, f.one_touch_rate) == (2, 0.5)  # T1 (the private note does not count) and T7
    assert (f.good, f.bad, f.csat) == (1, 1, 0.5)  # T7's rating is from before the week
    assert [(c.ref, c.comment) for c in f.comments] == [("MSA-TEST-T3", "Had to ask twice"),
                                                       ("MSA-TEST-T1", "Quick and clear")]


def test_created_and_solved_per_day(db, week, admin_user):
    f = figures(db, week, admin_user)
    assert list(f.created_per_day.values()) == [1, 1, 1, 1, 2]
    assert list(f.solved_per_day.values()) == [2, 0, 1, 1, 0]


def test_per_agent_table(db, week, admin_user):
    rows = {a.name: (a.solved, a.replies, a.first_reply, a.good, a.bad) for a in figures(db, week, admin_user).agents}
    # Ann: T1, T2, T7 solved; replies in the week T1 10:30, T2 11:00 and 08:30 (T7's reply was before, the note
    # is private); first replies of her tickets created in the week 30 and 120.
    assert rows == {"Ann Agent": (3, 3, 75, 1, 0), "Ben Agent": (1, 3, 32.5, 0, 1)}


def test_filters_narrow_every_figure(db, week, admin_user):
    high = figures(db, week, admin_user, priority="high")
    assert (high.created, high.first_reply.median, high.solved) == (1, 45, 0)
    phone = figures(db, week, admin_user, channel="phone")
    assert (phone.created, phone.first_reply.count, phone.sla_first_reply.measured) == (1, 0, 0)
    billing = figures(db, week, admin_user, group=week["billing"].id)
    assert (billing.created, billing.sla_first_reply.met, billing.sla_first_reply.measured) == (2, 1, 2)
    ben = figures(db, week, admin_user, agent=week["ben"].id)
    assert (ben.created, ben.solved, ben.reopened) == (2, 1, 1)


def test_an_agent_sees_their_tickets_and_their_groups(db, week):
    ann = figures(db, week, week["ann"])  # assigned T1 T2 T7; Billing T4 T5
    assert (ann.created, ann.solved, ann.first_reply.median) == (4, 3, 45)  # T1 30, T4 45, T2 120; T5 unanswered
    ben = figures(db, week, week["ben"])  # no group: T3 and T4 only
    assert (ben.created, ben.solved, ben.first_reply.median) == (2, 1, 32.5)
    snap = reports.snapshot(db, actor=week["ben"], filters=reports.ReportFilters(), now=NOW)
    assert snap.by_status["open"] == 1 and snap.backlog == 1 and snap.unassigned == 0


def test_backlog_now(db, week, admin_user):
    snap = reports.snapshot(db, actor=admin_user, filters=reports.ReportFilters(), now=NOW)
    assert snap.by_status == {"new": 2, "open": 1, "pending": 0, "on_hold": 0}
    assert [(name, n) for _id, name, n in snap.by_group] == [("Billing", 2), (None, 1)]
    assert (snap.unassigned, snap.breached, snap.due_soon) == (2, 1, 1)
    assert [t.ref for t in snap.at_risk] == ["MSA-TEST-T5", "MSA-TEST-T6"]
    assert snap.oldest[0].ref == "MSA-TEST-T4"
    ann = reports.snapshot(db, actor=week["ann"], filters=reports.ReportFilters(), now=NOW)
    assert (ann.backlog, ann.unassigned) == (2, 1)  # T4 and T5 through Billing; T6 is nobody's


def test_self_service(db, week):
    kb = self_service(db, period=week["period"], now=NOW)
    assert (kb.searches, kb.views, kb.deflections, kb.tickets, kb.filed_after_suggestions) == (3, 4, 1, 6, 1)
    assert round(kb.score, 3) == round(4 / 6, 3) and kb.deflection_rate == 0.5
    assert kb.top_searches == [("router reset", 2), ("fibra gigabit", 1)]
    assert kb.zero_result_searches == [("fibra gigabit", 1)]
    assert kb.most_viewed == [("en/router.md", 3), ("en/billing.md", 1)]
    assert kb.sent_in_replies == [("en/router.md", 1)]
    spanish = self_service(db, period=week["period"], language="es", now=NOW)
    assert (spanish.searches, spanish.views, spanish.tickets) == (1, 0, 0)


def test_tables_feed_the_csv_with_the_same_numbers(db, week, admin_user):
    board = report_tables.build(db, actor=admin_user, period=week["period"], filters=reports.ReportFilters(),
                                now=NOW)
    assert board.tables["sla"].rows[0][1:] == (3, 5, 0.6)
    with pytest.raises(Invalid):
        report_tables.table(board, "nonsense")


@pytest.mark.parametrize("preset, first, last", [
    ("14", None, None), ("custom", "2026-13-01", "2026-11-20"), ("custom", "2026-11-20", "2026-11-01"),
    ("custom", "2026-12-01", "2026-12-02"), ("custom", "2024-01-01", "2026-11-01"), ("custom", "", ""),
    ("thirty", None, None),
])
def test_bad_periods_are_refused_with_a_message(preset, first, last):
    with pytest.raises(Invalid) as refused:
        reports.parse_period(preset, first, last, now=NOW)
    assert refused.value.message


def test_periods():
    last7 = reports.parse_period("7", None, None, now=NOW)
    assert (last7.first.isoformat(), last7.last.isoformat(), len(last7.days)) == ("2026-11-14", "2026-11-20", 7)
    assert reports.parse_period(None, None, None, now=NOW).preset == 30
    assert len(reports.parse_period("custom", "2026-11-01", "2026-11-30", now=NOW).days) == 20  # not past today


def test_percentiles():
    assert reports.median([5, 1, 3]) == 3 and reports.median([]) is None
    assert reports.percentile(list(range(1, 11)), 0.9) == 9 and reports.percentile([7], 0.9) == 7


def test_business_clock_agrees_with_the_sla_clock(db):
    calendar = BusinessCalendar(name="Madrid", timezone="Europe/Madrid",
                                hours={str(d): ["09:00", "18:00"] for d in range(5)})
    calendar.holidays.append(Holiday(day=datetime(2026, 12, 8).date(), name="Inmaculada"))
    db.add(calendar)
    db.commit()
    clock = BusinessClock(calendar, datetime(2026, 10, 20), datetime(2026, 12, 31))
    start = datetime(2026, 10, 23, 7, 13)
    for hours in (0, 1, 5, 17, 49, 200, 700, 1300):
        end = start + timedelta(hours=hours, minutes=hours * 7 % 60)
        assert clock.minutes(start, end) == pytest.approx(sla.working_minutes(start, end, calendar))


def test_a_shared_clock_is_reused_widened_and_laid_out_again_when_its_calendar_changes(db):
    calendar = BusinessCalendar(name="Lisboa", timezone="Europe/Lisbon",
                                hours={str(d): ["08:30", "17:00"] for d in range(5)})
    db.add(calendar)
    db.commit()
    start, end = datetime(2026, 3, 2, 10), datetime(2026, 3, 20, 12)
    narrow = shared_clock(calendar, datetime(2026, 3, 1), datetime(2026, 3, 31))
    assert shared_clock(calendar, datetime(2026, 3, 5), datetime(2026, 3, 25)) is narrow
    wide = shared_clock(calendar, datetime(2025, 1, 1), datetime(2026, 3, 31))  # an older ticket
    assert wide is not narrow and wide.covers(datetime(2025, 1, 1), datetime(2026, 3, 31))
    assert wide.minutes(start, end) == narrow.minutes(start, end) == pytest.approx(
        sla.working_minutes(start, end, calendar))
    calendar.holidays.append(Holiday(day=datetime(2026, 3, 10).date(), name="A new holiday"))
    db.commit()
    relaid = shared_clock(calendar, datetime(2026, 3, 1), datetime(2026, 3, 31))
    assert relaid.minutes(start, end) == pytest.approx(wide.minutes(start, end) - 8.5 * 60)


def test_an_agents_backlog_counts_their_own_tickets_outside_their_groups_once(db, week, make):
    """Ann sees Billing's open tickets (T4, T5) and her own: one outside any group, one in Billing (counted once)."""
    ann, billing = week["ann"], week["billing"]
    own = Ticket(ref="MSA-TEST-A1", subject="Own", status="pending", priority="normal", channel="web",
                 requester_id=make.user().id, assignee=ann, created_at=at(20, 10), updated_at=at(20, 10))
    both = Ticket(ref="MSA-TEST-A2", subject="Both", status="open", priority="normal", channel="web",
                  requester_id=own.requester_id, assignee=ann, group=billing, created_at=at(20, 10),
                  updated_at=at(20, 10), sla_due_at=at(20, 11))
    db.add_all([own, both])
    db.commit()
    snap = reports.snapshot(db, actor=ann, filters=reports.ReportFilters(), now=NOW)
    assert snap.by_status == {"new": 1, "open": 2, "pending": 1, "on_hold": 0} and snap.backlog == 4
    assert [(name, n) for _id, name, n in snap.by_group] == [("Billing", 3), (None, 1)]
    assert (snap.unassigned, snap.breached, snap.due_soon) == (1, 2, 0)
