"""The queue's row controls: select all (with and without JavaScript), and "Take" only where nobody has it."""

from __future__ import annotations

import re

from tests.conftest import login


def row(page: str, ref: str) -> str:
    start = page.index(f'id="ticket-{ref}"')
    return page[start:page.index("</tr>", start)]


def test_select_all_without_javascript_ticks_every_row(client, make, alice, agnes):
    refs = [make.ticket(requester=alice, subject=f"Router {n}").ref for n in range(3)]
    login(client, agnes)
    plain = client.get("/agent?view=all").text
    assert 'data-select-all' in plain and "select=all" in plain
    assert all("checked" not in row(plain, ref) for ref in refs)
    ticked = client.get("/agent?view=all&select=all").text
    assert all(re.search(r'name="refs" value="[^"]+" checked', row(ticked, ref)) for ref in refs)


def test_take_is_offered_only_on_tickets_nobody_has(client, make, alice, agnes):
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    free = make.ticket(requester=alice, subject="Nobody has me", status="new")
    taken = make.ticket(requester=alice, subject="Diego has me", assignee=diego, status="open")
    login(client, agnes)
    page = client.get("/agent?view=all").text
    assert "/take" in row(page, free.ref)
    assert "/take" not in row(page, taken.ref)
