"""The agent queue's pages stay index range scans: SQLite's plan for every query a page runs, for every view,
sort and filter, never reads the whole tickets table; and the lists the reports link to are read in the order
of the index that holds their days, without sorting (bench/agent_queue.py prints the same plans at a million
tickets)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import partial
from itertools import product

import pytest
from sqlalchemy import event

from portal.models import Group, SatisfactionRating
from portal.services import agent_queue, report_tables, reports

NOW = datetime(2026, 11, 20, 12, 0)
WEEK = {"created_from": date(2026, 11, 16), "created_to": date(2026, 11, 20)}
FILTERS = [
    {}, WEEK, {"solved_from": date(2026, 11, 16), "solved_to": date(2026, 11, 20)},
    {"rated_from": date(2026, 11, 16), "rated_to": date(2026, 11, 20), "rating": "good"},
    {**WEEK, "measure": "first_reply_measured", "scope": "mine"}, {"sla": "breached"}, {"sla": "due_soon"},
    {"group": "none", "category": 1, "channel": "email"}, {"solved_to": date(2026, 11, 20), "measure": "reopened"},
    {"assignee": "me", "priority": "high", "tag": "vip", "text": "router"},
]


@pytest.fixture
def desk(db, make):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    group = Group(name="Billing")
    agent = make.user(name="Ann Agent", role="agent")
    agent.groups.append(group)
    db.add(group)
    customer = make.user()
    for n in range(24):
        status = ("new", "open", "pending", "on_hold", "solved", "closed")[n % 6]
        ticket = make.ticket(requester=customer, status=status, now=NOW - timedelta(hours=7 * n),
                             assignee=agent if n % 4 == 0 else None)
        if status in ("solved", "closed"):
            db.add(SatisfactionRating(ticket=ticket, rating="good", created_at=NOW, updated_at=NOW))
    db.commit()
    return agent


def plans_of(db, read) -> list[list[str]]:
    """The plan of each query on the tickets that `read()` runs to choose a page's rows (none when the view and
    the filters cannot hold a ticket, e.g. "Pending" solved last week)."""
    statements: list[tuple[str, object]] = []
    engine = db.get_bind()

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    choosing = [(s, p) for s, p in statements if "FROM tickets" in s and "tickets.ref" not in s]
    plans = [[row[-1] for row in db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + s, p)] for s, p in choosing]
    return [member for plan in plans for member in _members(plan)]


def _members(plan: list[str]) -> list[list[str]]:
    """A UNION ALL of one read per status, as the reads: each member's lines between its CO-ROUTINE and the scan
    of its result."""
    if not plan or plan[0] != "COMPOUND QUERY":
        return [plan]
    members: list[list[str]] = []
    for line in plan:
        if line.startswith("CO-ROUTINE"):
            members.append([])
        elif members and not line.startswith(("SCAN anon", "UNION ALL")):
            members[-1].append(line)
    assert members and all(members), plan
    return members


def test_no_view_sort_or_filter_reads_the_whole_tickets_table(db, desk):
    views = [v.key for v in agent_queue.views_for(desk)]
    assert "all" in views
    checked = 0
    for view, sort, filters in product(views, agent_queue.SORTS, FILTERS):
        for plan in plans_of(db, partial(agent_queue.queue_page, db, desk, view=view, sort=sort,
                                         filters=agent_queue.Filters(**filters), now=NOW, page_size=3)):
            assert not any(line.startswith("SCAN tickets") for line in plan), (view, sort, filters, plan)
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("scoped", [False, True])
@pytest.mark.parametrize("report_filter", ["", "group", "agent"])
def test_the_lists_behind_the_report_figures_are_ranges_of_their_days(db, desk, make, scoped, report_filter):
    """Every link of the dashboard, read as the queue reads it. A list of days is a range of the index that
    holds those days, read in its order: created by age on (status, created), solved by solution time on
    solved_at. A rated list is read from the period's ratings (it sorts those few). One agent's or one
    group's list may be read from their own index and sort their tickets, never a whole status."""
    actor = desk if scoped else make.user(role="admin")
    period = reports.parse_period("custom", "2026-11-16", "2026-11-20", now=NOW)
    filters = reports.ReportFilters(**({"group": desk.groups[0].id} if report_filter == "group" else
                                       {"agent": desk.id} if report_filter == "agent" else {}))
    board = report_tables.build(db, actor=actor, period=period, filters=filters, now=NOW)
    links = [link for table in board.tables.values() for row in table.links for link in row.values()]
    links += list(board.links.values())
    assert len(links) > 40
    for args in {tuple(sorted(link.args.items())) for link in links}:
        query = dict(args)
        plans = plans_of(db, partial(agent_queue.queue_page, db, actor, view=query["view"],
                                     sort=query.get("sort", "updated"),
                                     filters=agent_queue.parse_filters(query, today=NOW.date()), now=NOW))
        assert plans, query
        for plan in plans:
            text = " | ".join(plan)
            assert "SCAN tickets" not in text, (query, text)
            searched = re.match(r"SEARCH tickets USING (?:COVERING )?INDEX (\S+) \(([^)]*)\)", plan[0])
            if "rated_from" in query:
                assert "ix_satisfaction_ratings_updated_at" in text, (query, text)
            elif "TEMP B-TREE" in text:
                assert searched and re.search(r"assignee_id=|group_id=", searched.group(2)), (query, text)
            elif "created_from" in query or "solved_from" in query:
                assert searched and re.search(r"(created_at|solved_at)>\?", searched.group(2)), (query, text)
