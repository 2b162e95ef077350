"""Every figure of /agent/reports that stands for tickets links to the agent queue, and the link opens exactly
those tickets: the number shown (or, for a median or a rate, the number of tickets its title says it is over)
is the number of rows the queue lists, followed as a person would, page after page.

The week: Monday 16 to Friday 20 November 2026, "now" is Friday 12:00 UTC. Every priority has a first-reply
target of 60 minutes and a resolution target of 480 (calendar minutes). Billing's member is Ann.

| ticket | created   | status  | who, group, channel, extra       | first reply  | solved    | notes            |
|--------|-----------|---------|----------------------------------|--------------|-----------|------------------|
| A1     | Mon 10:00 | solved  | Ann, Billing, web, Invoices      | 10:30 (met)  | Mon 14:00 | one reply; good  |
| A2     | Tue 09:00 | closed  | Ann, email                       | 11:00 (late) | Wed 09:00 | reopened; 2 replies; bad|
| A3     | Wed 08:00 | open    | Ben, Network, phone, high, es    | 08:20 (met)  | —         | due Fri 16:00    |
| A4     | Thu 16:30 | new     | Billing                          | — (late)     | —         | due Thu 17:30    |
| A5     | Fri 11:30 | new     | api                              | — (not yet)  | —         | due Fri 12:30    |
| A6     | Nov 10    | solved  | Ben, Billing                     | Nov 10 10:10 | Mon 11:00 | one reply; good  |
| A7     | Nov 9     | closed  | Ann                              | Nov 9 10:10  | Nov 12    | good on Nov 13   |
| A8     | Thu 09:00 | pending | Ann, Billing, email, low, Invoices | 09:30 (met) | —        |                  |
| A9     | Wed 10:00 | solved  | Ben, Network                     | 10:05 (met)  | Wed 12:00 | one reply        |
| A10    | Nov 14    | on_hold | Ben                              | —            | —         |                  |

For an admin over the week: created 7 (A1 A2 A3 A4 A5 A8 A9), solved 4 (A1 A2 A6 A9), first replies 5,
first-reply target met 4 of 6 measured (A4 is late unanswered; A5 is not due yet), resolution met 2 of 4 (A1 240,
A9 120; A2 1440 and A6 six days missed), reopened 1, one touch 3 (A1 A6 A9), ratings 3 of which 2 good;
backlog 5 (A3 A4 A5 A8 A10), unassigned 2, breached 1, due within the hour 1; filed after seeing suggestions 2
(A3 A4: Cleo's searches below).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from html.parser import HTMLParser

import pytest

from portal.models import (
    Category,
    Group,
    Message,
    SatisfactionRating,
    SearchLog,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from portal.services import agent_queue
from tests.conftest import login

NOW = datetime(2026, 11, 20, 12, 0)
WEEK = "period=custom&from=2026-11-16&to=2026-11-20"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute)


@pytest.fixture
def frozen(monkeypatch):
    """The request's "now" is Friday noon, in the reports and in the queue."""
    monkeypatch.setattr("portal.views.reports.utcnow", lambda: NOW)
    monkeypatch.setattr("portal.views.agent.utcnow", lambda: NOW)
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 3)  # the lists below are several pages long


@pytest.fixture
def week(db, make, frozen):
    db.add_all([SlaPolicy(priority=p, plan="standard", first_reply_minutes=60, resolution_minutes=480)
                for p in ("low", "normal", "high", "urgent")])
    billing, network = Group(name="Billing"), Group(name="Network")
    invoices = Category(name_en="Invoices", name_es="Facturas")
    ann, ben = make.user(name="Ann Agent", role="agent"), make.user(name="Ben Agent", role="agent")
    customer = make.user(name="Cleo Customer")
    ann.groups.append(billing)
    db.add_all([billing, network, invoices])
    tickets: dict[str, Ticket] = {}

    def ticket(name, created, *, status, assignee=None, group=None, channel="web", priority="normal",
               language="en", category=None, first_reply=None, solved=None, sla_due=None, replies=()):
        t = Ticket(ref=f"MSA-TEST-{name}", subject=f"Problem {name}", status=status, priority=priority,
                   channel=channel, language=language, requester_id=customer.id, assignee=assignee, group=group,
                   category=category, created_at=created, updated_at=solved or created, first_response_at=first_reply,
                   solved_at=solved, closed_at=solved if status == "closed" else None, sla_due_at=sla_due)
        db.add(t)
        db.add(Message(ticket=t, author_id=customer.id, body="Help", public=True, created_at=created))
        for when in (first_reply, *replies) if first_reply else ():
            db.add(Message(ticket=t, author_id=(assignee or ann).id, body="Answer", public=True, created_at=when))
        tickets[name] = t
        return t

    def rate(t, rating, when):
        db.add(SatisfactionRating(ticket=t, rating=rating, created_at=when, updated_at=when))

    a1 = ticket("A1", at(16, 10), status="solved", assignee=ann, group=billing, category=invoices,
                first_reply=at(16, 10, 30), solved=at(16, 14))
    rate(a1, "good", at(16, 15))
    a2 = ticket("A2", at(17, 9), status="closed", assignee=ann, channel="email", first_reply=at(17, 11),
                solved=at(18, 9), replies=(at(18, 8),))
    db.add(TicketEvent(ticket=a2, created_at=at(17, 12), kind="reopened", field="status", old_value="solved",
                       new_value="open"))
    rate(a2, "bad", at(19, 9))
    ticket("A3", at(18, 8), status="open", assignee=ben, group=network, channel="phone", priority="high",
           language="es", first_reply=at(18, 8, 20), sla_due=at(20, 16))
    ticket("A4", at(19, 16, 30), status="new", group=billing, sla_due=at(19, 17, 30))
    ticket("A5", at(20, 11, 30), status="new", channel="api", sla_due=at(20, 12, 30))
    a6 = ticket("A6", at(10, 10), status="solved", assignee=ben, group=billing, first_reply=at(10, 10, 10),
                solved=at(16, 11))
    rate(a6, "good", at(17, 10))
    a7 = ticket("A7", at(9, 10), status="closed", assignee=ann, first_reply=at(9, 10, 10), solved=at(12, 10))
    rate(a7, "good", at(13, 10))
    ticket("A8", at(19, 9), status="pending", assignee=ann, group=billing, channel="email", priority="low",
           category=invoices, first_reply=at(19, 9, 30))
    ticket("A9", at(18, 10), status="solved", assignee=ben, group=network, first_reply=at(18, 10, 5),
           solved=at(18, 12))
    ticket("A10", at(14, 10), status="on_hold", assignee=ben)
    # Cleo searched before filing A3 (30 min before) and A4 (30 min), found nothing before A8, and searched
    # 2 h 30 before A9 (outside the two-hour window): two tickets "filed after seeing suggestions".
    for when, results in ((at(18, 7, 30), 3), (at(19, 8, 30), 0), (at(19, 16), 2)):
        db.add(SearchLog(query="router", normalized_query="router", lang="en", result_count=results,
                         user_id=customer.id, created_at=when, updated_at=when))
    db.commit()  # the reports' rollup is written in this commit
    return {"ann": ann, "ben": ben, "billing": billing, "network": network, "invoices": invoices,
            "tickets": tickets}


class FigureLinks(HTMLParser):
    """The links to the agent queue in a page: (href, title, text, table id or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str | None, str, str | None]] = []
        self._open: list | None = None
        self._table: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id")
        if tag == "a" and (attrs.get("href") or "").startswith("/agent?"):
            self._open = [attrs["href"], attrs.get("title"), ""]

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        if tag == "a" and self._open is not None:
            href, title, text = self._open
            self.links.append((href, title, text.strip(), self._table))
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data


def figure_links(page_text: str) -> list[tuple[str, str | None, str, str | None]]:
    figures = page_text[page_text.index('id="report-figures"'):]
    parser = FigureLinks()
    parser.feed(figures)
    return parser.links


def refs_on(text: str) -> list[str]:
    return re.findall(r'<tr id="ticket-([A-Z0-9-]+)"', text)


def listed(client, href: str, *, htmx: bool = False) -> list[str]:
    """Every ticket a queue link lists, following its "Next page" links to the end."""
    refs, url = [], href
    headers = {"HX-Request": "true", "HX-Target": "queue-results"} if htmx else {}
    while url:
        page = client.get(url, headers=headers)
        assert page.status_code == 200, (url, page.text)
        refs += refs_on(page.text)
        following = re.search(r'href="([^"]+)" rel="next"', page.text)
        url = html.unescape(following.group(1)) if following else None
    assert len(refs) == len(set(refs)), f"a ticket listed twice: {href}"
    return refs


def expected_count(title: str | None, text: str) -> int:
    if title:  # a median or a rate: "Computed over 4 tickets"
        return int(re.search(r"\d+", title).group())
    assert text.isdigit(), f"a link on {text!r} without the number of its tickets"
    return int(text)


def check_every_link(client, query: str) -> dict[str, int]:
    """Follow every queue link of the report page; return what each headline figure showed."""
    page = client.get(f"/agent/reports?{query}")
    assert page.status_code == 200
    links = figure_links(page.text)
    seen: dict[str, list[str]] = {}
    for href, title, text, _table in links:
        url = html.unescape(href)
        if url not in seen:
            seen[url] = listed(client, url)
        assert len(seen[url]) == expected_count(title, text), (text, title, url, seen[url])
    return {text: len(seen[html.unescape(href)]) for href, _title, text, _table in links}


@pytest.mark.parametrize("query", [
    WEEK,
    "period=7",
    f"{WEEK}&priority=high",
    f"{WEEK}&channel=email",
    f"{WEEK}&language=es",
])
def test_every_linked_figure_opens_exactly_its_tickets(client, week, admin_user, query):
    login(client, admin_user)
    check_every_link(client, query)


def test_filters_by_group_agent_and_category_carry_to_the_lists(client, week, admin_user):
    login(client, admin_user)
    for query in (f"group={week['billing'].id}", f"agent={week['ben'].id}", f"category={week['invoices'].id}",
                  f"agent={week['ann'].id}&group={week['billing'].id}"):
        check_every_link(client, f"{WEEK}&{query}")


@pytest.mark.parametrize("who", ["ann", "ben"])
def test_an_agents_figures_link_to_their_own_and_their_groups_tickets(client, week, who):
    """The queue shows every agent everyone's tickets; the links add `scope=mine`, as the reports count."""
    login(client, week[who])
    check_every_link(client, WEEK)
    page = client.get(f"/agent/reports?{WEEK}")
    links = figure_links(page.text)
    assert all("scope=mine" in href for href, _title, _text, table in links if table != "table-self_service")


def test_the_numbers_are_the_ones_worked_out_by_hand(client, week, admin_user):
    """Both sides agree, and agree with the table above (not, say, both empty)."""
    login(client, admin_user)
    page = client.get(f"/agent/reports?{WEEK}")
    shown = {}
    for href, _title, text, table in figure_links(page.text):
        shown.setdefault((table, html.unescape(href)), text)

    def tickets_of(table: str | None, *parts: str) -> tuple[str, list[str]]:
        text, href = next((text, href) for (t, href), text in shown.items()
                          if t == table and all(part in href for part in parts))
        return text, sorted(listed(client, href))

    def refs(*names: str) -> list[str]:
        return sorted(f"MSA-TEST-{name}" for name in names)

    created = tickets_of(None, "created_from=2026-11-16", "created_to=2026-11-20", "sort=age")
    assert created == ("7", refs("A1", "A2", "A3", "A4", "A5", "A8", "A9"))
    assert tickets_of(None, "solved_from=2026-11-16")[1] == refs("A1", "A2", "A6", "A9")
    assert tickets_of("table-quality", "measure=reopened") == ("1", refs("A2"))
    assert tickets_of("table-quality", "measure=one_touch") == ("3", refs("A1", "A6", "A9"))
    assert tickets_of("table-quality", "rating=good") == ("2", refs("A1", "A6"))
    assert tickets_of("table-sla", "measure=first_reply_met") == ("4", refs("A1", "A3", "A8", "A9"))
    assert tickets_of("table-sla", "measure=first_reply_measured")[1] == refs("A1", "A2", "A3", "A4", "A8", "A9")
    assert tickets_of("table-sla", "measure=resolution_met") == ("2", refs("A1", "A9"))
    assert shown[(None, "/agent?view=open")] == "5"
    assert sorted(listed(client, "/agent?view=open")) == refs("A3", "A4", "A5", "A8", "A10")
    assert tickets_of(None, "view=unassigned") == ("2", refs("A4", "A5"))
    assert tickets_of(None, "sla=breached") == ("1", refs("A4"))
    assert tickets_of(None, "sla=due_soon") == ("1", refs("A5"))
    assert tickets_of("table-backlog_group", "group=none") == ("2", refs("A5", "A10"))
    assert tickets_of("table-daily", "solved_from=2026-11-18", "solved_to=2026-11-18") == ("2", refs("A2", "A9"))
    # searched with results 30 min before A3 and A4; no results before A8; 2 h 30 before A9 is too long ago
    assert tickets_of("table-self_service", "measure=after_suggestions") == ("2", refs("A3", "A4"))


def test_each_count_of_the_period_tables_is_a_link(client, week, admin_user):
    login(client, admin_user)
    page = client.get(f"/agent/reports?{WEEK}").text
    for name in ("daily", "response_times", "sla", "quality", "agents", "backlog_status", "backlog_group"):
        table = page[page.index(f'id="table-{name}"'):]
        table = table[:table.index("</table>")]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
            for number, cell in enumerate(cells):
                if name == "agents" and number == 1:  # replies count messages, not tickets
                    assert "<a " not in cell
                    continue
                if cell.strip() == "—":  # a median of nothing
                    continue
                assert cell.strip().startswith("<a href=\"/agent?"), (name, row)
    for label in ("Open backlog", "Unassigned", "SLA breached", "SLA due within an hour", "Created", "Solved",
                  "Median first reply", "Median resolution", "Satisfaction", "Ratings"):
        kpi = re.search(r'<span class="report-kpi-value">(.*?)</span>\s*<span class="report-kpi-label">'
                        + label + "<", page, re.S)
        assert kpi and kpi.group(1).startswith('<a href="/agent?'), label


def test_the_lists_work_without_javascript_and_as_htmx_fragments(client, week, admin_user):
    login(client, admin_user)
    page = client.get(f"/agent/reports?{WEEK}")
    for href, _title, _text, _table in figure_links(page.text)[:12]:
        url = html.unescape(href)
        assert sorted(listed(client, url, htmx=True)) == sorted(listed(client, url))


def test_customers_cannot_open_the_lists(client, week, make):
    customer = make.user(email="carla@example.com")
    login(client, customer)
    assert client.get("/agent?view=all&created_from=2026-11-16&created_to=2026-11-20").status_code == 403
    assert client.get(f"/agent/reports?{WEEK}").status_code == 403
