"""The agent desk's queues: views and counts, filters, sorting, keyset pages, bulk actions, access."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import Group, TicketEvent
from portal.services import agent_queue
from tests.conftest import login


@pytest.fixture
def diego(make):
    return make.user(email="diego@example.com", name="Diego Agent", role="agent")


def refs_on(page_text: str) -> list[str]:
    return re.findall(r'<tr id="ticket-([A-Z0-9-]+)"', page_text)


def test_customers_get_403_and_visitors_are_sent_to_log_in(client, make, alice):
    ticket = make.ticket(requester=alice)
    urls = ["/agent", "/agent/counts", f"/agent/tickets/{ticket.ref}", "/agent/notifications", "/agent/preferences",
            "/agent/canned", "/agent/canned/new"]
    posts = ["/agent/bulk", f"/agent/tickets/{ticket.ref}/take", f"/agent/tickets/{ticket.ref}/messages",
             f"/agent/tickets/{ticket.ref}/fields", f"/agent/tickets/{ticket.ref}/presence"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location, url
    for url in posts:
        assert client.post(url).status_code == 302, url
    login(client, alice)
    for url in urls:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, data={"body": "x", "version": "1"}).status_code == 403, url


def test_views_show_the_right_tickets_with_counts(client, db, make, alice, agnes, diego):
    group = Group(name="Tier 1", tier=1)
    group.members.append(agnes)
    db.add(group)
    db.commit()
    unassigned = make.ticket(requester=alice, subject="Nobody has me")
    mine = make.ticket(requester=alice, subject="Agnes works on me", status="open", assignee=agnes)
    theirs = make.ticket(requester=alice, subject="Diego works on me", status="pending", assignee=diego)
    make.ticket(requester=alice, subject="Long closed", status="closed", assignee=diego)
    theirs.group = group
    db.commit()
    login(client, agnes)

    page = client.get("/agent?view=unassigned")
    assert page.status_code == 200
    assert refs_on(page.text) == [unassigned.ref]
    assert refs_on(client.get("/agent?view=mine").text) == [mine.ref]
    assert refs_on(client.get("/agent?view=pending").text) == [theirs.ref]
    assert refs_on(client.get(f"/agent?view=group:{group.id}").text) == [theirs.ref]
    assert set(refs_on(client.get("/agent?view=open").text)) == {unassigned.ref, mine.ref, theirs.ref}

    counts = client.get("/agent/counts", headers={"HX-Request": "true"})
    assert counts.status_code == 200 and 'hx-trigger="every 30s"' in counts.text
    assert "<html" not in counts.text
    found = dict(re.findall(r'data-count="([^"]+)">(\d+)<', counts.text))
    assert found == {"unassigned": "1", "mine": "1", f"group:{group.id}": "1", "pending": "1", "on_hold": "0",
                     "postponed": "0", "solved": "0", "open": "3"}
    assert "Tier 1" in page.text


def test_filters_narrow_the_queue(client, db, make, alice, agnes):
    router = make.ticket(requester=alice, subject="Router blinks red", priority="urgent", language="es")
    other = make.ticket(requester=alice, subject="Invoice question", description="The router model is on it")
    make.ticket(requester=alice, subject="Password reset")
    login(client, agnes)
    assert refs_on(client.get("/agent?priority=urgent").text) == [router.ref]
    assert refs_on(client.get("/agent?language=es").text) == [router.ref]
    assert set(refs_on(client.get("/agent?q=router").text)) == {router.ref, other.ref}  # subject and messages
    assert refs_on(client.get("/agent?q=router&priority=normal").text) == [other.ref]
    client.post("/agent/bulk", data={"refs": [other.ref], "action": "add_tag", "tag": "billing"})
    assert refs_on(client.get("/agent?tag=billing").text) == [other.ref]
    assert refs_on(client.get("/agent?assignee=none&q=password").text) != []
    assert refs_on(client.get("/agent?assignee=me").text) == []
    assert "No tickets match these filters." in client.get("/agent?q=nothing-like-this").text


def test_keyset_pages_walk_the_whole_queue_without_repeats(db, make, alice, agnes):
    start = utcnow() - timedelta(days=1)
    made = [make.ticket(requester=alice, subject=f"T{i}", now=start + timedelta(minutes=i // 2),
                        priority=("low", "normal", "high", "urgent")[i % 4]) for i in range(23)]
    for i, ticket in enumerate(made[:9]):  # some with an SLA due time (ties included), the rest without
        ticket.sla_due_at = start + timedelta(hours=5 - i // 2)
    for i, ticket in enumerate(made):
        ticket.status = ("new", "open", "pending", "on_hold")[i % 3]
    db.commit()
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    expected = {
        "sla": sorted(made, key=lambda t: (t.sla_due_at is None, t.sla_due_at or start, t.id)),
        "priority": sorted(made, key=lambda t: (rank[t.priority], t.id)),
        "age": sorted(made, key=lambda t: (t.created_at, t.id)),
        "updated": sorted(made, key=lambda t: (t.updated_at, t.id), reverse=True),
        "solved": sorted(made, key=lambda t: t.id),  # none solved: the tickets without a solution, by id
    }
    for sort in agent_queue.SORTS:
        seen, cursor = [], None
        while True:
            page = agent_queue.queue_page(db, agnes, view="open", sort=sort, cursor=cursor, now=utcnow(),
                                          page_size=5)
            seen += [t.ref for t in page.tickets]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [t.ref for t in expected[sort]], sort


def test_keyset_pages_of_all_tickets_in_every_sort(db, make, alice, agnes):
    """The view of every status, solved and closed ones too (with equal solution times), page after page."""
    start = utcnow() - timedelta(days=3)
    statuses = ("new", "open", "pending", "on_hold", "solved", "closed")
    made = [make.ticket(requester=alice, subject=f"T{i}", status=statuses[i % 6], now=start + timedelta(hours=i // 3),
                        priority=("low", "normal", "high", "urgent")[i % 4]) for i in range(20)]
    for i, ticket in enumerate(made[:7]):
        ticket.sla_due_at = start + timedelta(hours=9 - i // 2)
    db.commit()
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    solved = [t for t in made if t.solved_at is not None]
    expected = {
        "sla": sorted(made, key=lambda t: (t.sla_due_at is None, t.sla_due_at or start, t.id)),
        "priority": sorted(made, key=lambda t: (rank[t.priority], t.id)),
        "age": sorted(made, key=lambda t: (t.created_at, t.id)),
        "updated": sorted(made, key=lambda t: (t.updated_at, t.id), reverse=True),
        "solved": sorted(solved, key=lambda t: (t.solved_at, t.id), reverse=True)
        + sorted((t for t in made if t.solved_at is None), key=lambda t: t.id),
    }
    assert len(solved) > 4 and len({t.solved_at for t in solved}) < len(solved)  # ties in the solution time
    for sort in agent_queue.SORTS:
        seen, cursor = [], None
        while True:
            page = agent_queue.queue_page(db, agnes, view="all", sort=sort, cursor=cursor, now=utcnow(), page_size=3)
            seen += [t.ref for t in page.tickets]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [t.ref for t in expected[sort]], sort


def test_the_next_page_link_and_the_htmx_fragment(client, make, alice, agnes, monkeypatch):
    for i in range(3):
        make.ticket(requester=alice, subject=f"Page ticket {i}")
    login(client, agnes)
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    full = client.get("/agent")
    cursor = re.search(r'href="(/agent\?cursor=[^"]+)" rel="next"', full.text)
    assert cursor, full.text
    fragment = client.get(cursor.group(1).replace("&amp;", "&"),
                          headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="queue-results"')
    assert len(refs_on(fragment.text)) == 1
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_sorting_by_priority_puts_urgent_first(db, make, alice, agnes):
    make.ticket(requester=alice, priority="low")
    urgent = make.ticket(requester=alice, priority="urgent")
    page = agent_queue.queue_page(db, agnes, view="open", sort="priority", now=utcnow())
    assert page.tickets[0].ref == urgent.ref


def test_bulk_actions_change_every_selected_ticket_with_one_event_each(client, db, make, alice, agnes, diego):
    first, second = make.ticket(requester=alice), make.ticket(requester=alice)
    untouched = make.ticket(requester=alice)
    login(client, agnes)

    def events(ticket, field):
        db.expire_all()
        return db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                    TicketEvent.field == field)).all()

    response = client.post("/agent/bulk", data={"refs": [first.ref, second.ref], "action": "assign",
                                                "assign_to": str(diego.id)})
    assert response.status_code == 303
    for t in (first, second):
        db.refresh(t)
        assert t.assignee_id == diego.id and len(events(t, "assignee_id")) == 1
    assert events(untouched, "assignee_id") == []

    response = client.post("/agent/bulk", data={"refs": [first.ref, second.ref], "action": "status",
                                                "set_status": "pending"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'<tr id="ticket-{first.ref}"' in response.text and 'hx-swap-oob="true"' in response.text
    for t in (first, second):
        db.refresh(t)
        assert t.status == "pending" and len(events(t, "status")) == 1  # new -> pending, through the machine

    client.post("/agent/bulk", data={"refs": [first.ref], "action": "priority", "set_priority": "high"})
    client.post("/agent/bulk", data={"refs": [first.ref, second.ref], "action": "add_tag", "tag": "outage"})
    client.post("/agent/bulk", data={"refs": [second.ref], "action": "remove_tag", "tag": "outage"})
    db.expire_all()
    assert first.priority == "high" and len(events(first, "priority")) == 1
    assert first.tag_names == ["outage"] and second.tag_names == []
    assert len(events(second, "tags")) == 2


def test_bulk_status_refusals_are_reported_not_applied(client, db, make, alice, agnes):
    closed = make.ticket(requester=alice, status="closed")
    fresh = make.ticket(requester=alice)
    login(client, agnes)
    response = client.post("/agent/bulk", data={"refs": [closed.ref, fresh.ref], "action": "status",
                                                "set_status": "open"}, follow_redirects=True)
    assert f"Not changed: {closed.ref}" in response.text
    db.expire_all()
    assert closed.status == "closed" and fresh.status == "open"


def test_take_from_the_queue_answers_the_row(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    response = client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": ticket.version},
                           headers={"HX-Request": "true", "HX-Target": f"ticket-{ticket.ref}"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="ticket-{ticket.ref}"')
    assert "Agnes Agent" in response.text
    db.refresh(ticket)
    assert ticket.assignee_id == agnes.id and ticket.status == "open"
    plain = client.post(f"/agent/tickets/{ticket.ref}/take")
    assert plain.status_code == 303 and plain.location.endswith(f"/agent/tickets/{ticket.ref}")


def test_sla_badges_come_from_the_due_time(client, db, make, alice, agnes):
    now = utcnow()
    late, soon, fine = (make.ticket(requester=alice, subject=s) for s in ("Late one", "Soon one", "Fine one"))
    late.sla_due_at, soon.sla_due_at, fine.sla_due_at = (now - timedelta(minutes=5), now + timedelta(minutes=30),
                                                         now + timedelta(hours=5))
    db.commit()
    login(client, agnes)
    page = client.get("/agent?sort=sla")
    assert refs_on(page.text) == [late.ref, soon.ref, fine.ref]
    assert "sla-breached" in page.text and "sla-soon" in page.text and "sla-ok" in page.text


# ---- The "all" view and the filters the reports link with -------------------------------------------------


def test_the_all_view_holds_every_status(client, db, make, alice, agnes):
    made = {status: make.ticket(requester=alice, subject=f"A {status} one", status=status)
            for status in ("new", "open", "pending", "on_hold", "solved", "closed")}
    login(client, agnes)
    page = client.get("/agent?view=all")
    assert page.status_code == 200
    assert sorted(refs_on(page.text)) == sorted(t.ref for t in made.values())
    assert "All tickets" in page.text and 'data-count="all"' not in page.text  # not counted on every refresh
    open_only = refs_on(client.get("/agent?view=open").text)
    assert made["solved"].ref not in open_only and made["closed"].ref not in open_only
    assert refs_on(client.get("/agent?view=all&status=closed").text) == [made["closed"].ref]
    for sort in agent_queue.SORTS:
        assert sorted(refs_on(client.get(f"/agent?view=all&sort={sort}").text)) == sorted(
            t.ref for t in made.values()), sort


def test_date_filters_are_whole_utc_days_with_both_ends_included(client, db, make, alice, agnes):
    def filed(when):
        return make.ticket(requester=alice, now=when)

    before, first, last, after = (filed(datetime(2026, 11, 16, 23, 59, 59)), filed(datetime(2026, 11, 17)),
                                  filed(datetime(2026, 11, 17, 23, 59, 59)), filed(datetime(2026, 11, 18)))
    solved = make.ticket(requester=alice, status="solved", now=datetime(2026, 11, 18, 23, 30))
    login(client, agnes)
    day = refs_on(client.get("/agent?view=all&created_from=2026-11-17&created_to=2026-11-17").text)
    assert sorted(day) == sorted([first.ref, last.ref])
    assert before.ref not in day and after.ref not in day
    since = refs_on(client.get("/agent?view=all&created_from=2026-11-18").text)
    assert sorted(since) == sorted([after.ref, solved.ref])
    assert refs_on(client.get("/agent?view=all&solved_from=2026-11-18&solved_to=2026-11-18").text) == [solved.ref]
    assert refs_on(client.get("/agent?view=all&solved_to=2026-11-17").text) == []


@pytest.mark.parametrize("query, message", [
    ("created_from=2026-13-01", "Enter dates as YYYY-MM-DD"),
    ("solved_to=yesterday", "Enter dates as YYYY-MM-DD"),
    ("rated_from=2026-11-20&rated_to=2026-11-01", "ends before it starts"),
    ("created_from=2026-11-20&created_to=2026-11-19", "ends before it starts"),
])
def test_unreadable_dates_give_the_form_back_with_a_message(client, make, alice, agnes, query, message):
    make.ticket(requester=alice)
    login(client, agnes)
    page = client.get(f"/agent?view=all&{query}")
    assert page.status_code == 422 and message in page.text
    assert refs_on(page.text) == [] and '<form method="get" action="/agent"' in page.text
    field, typed = query.split("&")[-1].split("=")
    assert f'name="{field}" value="{typed}" aria-invalid="true"' in page.text  # what was typed, marked
    fragment = client.get(f"/agent?view=all&{query}", headers={"HX-Request": "true", "HX-Target": "queue-results"})
    assert fragment.status_code == 422 and message in fragment.text and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="queue-results" data-swap-errors')


def test_new_filters_survive_paging_and_the_counts_fragment(client, make, alice, agnes, monkeypatch):
    inside = [make.ticket(requester=alice, subject=f"Inside {i}", now=datetime(2026, 11, 17, 9 + i))
              for i in range(5)]
    make.ticket(requester=alice, subject="Outside", now=datetime(2026, 11, 18, 9))
    login(client, agnes)
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    query = "view=all&sort=age&created_from=2026-11-17&created_to=2026-11-17"
    seen, url, pages = [], f"/agent?{query}", 0
    while url:
        page = client.get(url, headers={"HX-Request": "true", "HX-Target": "queue-results"} if pages else {})
        seen += refs_on(page.text)
        pages += 1
        following = re.search(r'href="([^"]+)" rel="next"', page.text)
        url = following.group(1).replace("&amp;", "&") if following else None
        assert url is None or ("created_from=2026-11-17" in url and "cursor=" in url)
    assert seen == [t.ref for t in inside] and pages == 3
    first = client.get(f"/agent?{query}").text
    assert 'value="2026-11-17"' in first  # the filter shows in the form
    sidebar = re.search(r'<div id="queue-counts".*?</div>', first, re.S).group()
    assert "created_from=2026-11-17" in sidebar  # the refresh and the views' links keep it
    counts = client.get(f"/agent/counts?{query}", headers={"HX-Request": "true"})
    assert counts.status_code == 200 and "<html" not in counts.text
    assert 'hx-get="/agent/counts?view=all&amp;sort=age&amp;created_from=2026-11-17' in counts.text
    assert "/agent?view=unassigned&amp;sort=age&amp;created_from=2026-11-17&amp;created_to=2026-11-17" in counts.text


def test_group_category_and_scope_filters(client, db, make, alice, agnes, diego):
    billing = Group(name="Billing")
    billing.members.append(agnes)
    db.add(billing)
    db.commit()
    invoices = make.category(name="Invoices")
    in_billing = make.ticket(requester=alice, subject="Billing's")
    in_billing.group = billing
    agnes_own = make.ticket(requester=alice, subject="Agnes's", assignee=agnes, status="open", category=invoices)
    diegos = make.ticket(requester=alice, subject="Diego's", assignee=diego, status="open")
    db.commit()
    login(client, agnes)
    assert sorted(refs_on(client.get("/agent?view=open&scope=mine").text)) == sorted([in_billing.ref, agnes_own.ref])
    assert sorted(refs_on(client.get("/agent?view=open&group=none").text)) == sorted([agnes_own.ref, diegos.ref])
    assert refs_on(client.get(f"/agent?view=open&category={invoices.id}").text) == [agnes_own.ref]
    page = client.get(f"/agent?view=open&category={invoices.id}&group=none&scope=mine").text
    assert f'<option value="{invoices.id}" selected>' in page and '<option value="none" selected>' in page


def test_a_row_shows_its_people_group_tags_and_sla_in_the_page_and_alone(client, db, make, alice, agnes, diego):
    group = Group(name="Tier 2", tier=2)
    db.add(group)
    late = make.ticket(requester=alice, subject="Late one", status="open", assignee=diego)
    late.group, late.sla_due_at = group, utcnow() - timedelta(minutes=5)
    db.commit()
    login(client, agnes)
    for tag in ("zebra", "apple"):
        client.post("/agent/bulk", data={"refs": [late.ref], "action": "add_tag", "tag": tag})

    def row_of(text: str) -> str:
        return re.search(rf'<tr id="ticket-{late.ref}".*?</tr>', text, re.S).group(0)

    in_page = row_of(client.get("/agent").text)
    for shown in (alice.name, "Diego Agent", "Tier 2", "Breached", '<span class="tag">apple</span><span class="tag">'
                  'zebra</span>', 'class="queue-row row-breached"'):
        assert shown in in_page, shown
    taken = client.post(f"/agent/tickets/{late.ref}/take", data={"version": late.version + 2},
                        headers={"HX-Request": "true", "HX-Target": f"ticket-{late.ref}"})
    alone = row_of(taken.text)
    assert agnes.name in alone and "Diego Agent" not in alone  # now hers: no Take button either
    assert '<span class="tag">apple</span><span class="tag">zebra</span>' in alone and "Take<" not in alone
