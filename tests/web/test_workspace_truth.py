"""Screens that tell the truth (issue 19): after any change made in the workspace through htmx, the answer
carries the header, the side panel and the timeline as they are now (out of band), so no part of the page
disagrees with another; another agent's change is said in words with a button that loads it, leaving the
composer alone; a stale form gets 409 with the same words and keeps what was typed."""

from __future__ import annotations

import json
import re

import pytest

from portal.models import Macro
from tests.conftest import login

HX = {"HX-Request": "true"}


@pytest.fixture
def diego(make):
    return make.user(email="diego@example.com", name="Diego Agent", role="agent")


def part(text: str, ident: str) -> str:
    """One fragment of an answer, by its root element's id (none of them nests its own tag)."""
    found = re.search(rf'<(div|aside|ol|section) id="{ident}"[^>]*>.*?</\1>', text, re.S)
    if found is None:
        found = re.search(rf'<(ol) class="[^"]*" id="{ident}"[^>]*>.*?</\1>', text, re.S)
    assert found, f"no #{ident} in the answer"
    return found.group(0)


def is_oob(fragment: str) -> bool:
    return 'hx-swap-oob="true"' in fragment.split(">", 1)[0]


def events_in(fragment: str) -> int:
    return fragment.count('class="timeline-event')


def change(client, ticket, field, value, *, version=None, htmx=True):
    data = {"field": field, "value": value, "version": ticket.version if version is None else version}
    return client.post(f"/agent/tickets/{ticket.ref}/fields", data=data, headers=HX if htmx else {})


def test_assigning_myself_in_the_side_panel_removes_take_it_from_the_header(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open")
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert "Take it" in part(page.text, "ws-header")
    before = events_in(part(page.text, "ws-timeline"))

    answer = change(client, ticket, "assignee", str(agnes.id))

    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<aside id="side-panel"')  # the part the agent changed, in place
    header = part(answer.text, "ws-header")
    assert is_oob(header) and "Take it" not in header and "astatus-open" in header
    timeline = part(answer.text, "ws-timeline")
    assert is_oob(timeline) and events_in(timeline) == before + 1
    db.refresh(ticket)
    assert json.loads(answer.headers["HX-Trigger"])["ticketVersion"]["value"] == ticket.version


def test_a_status_change_in_the_side_panel_changes_the_header_badge(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, agnes)
    assert "astatus-open" in part(client.get(f"/agent/tickets/{ticket.ref}").text, "ws-header")

    answer = change(client, ticket, "status", "pending")

    header = part(answer.text, "ws-header")
    assert is_oob(header) and "astatus-pending" in header and ">Pending</span>" in header
    assert "astatus-open" not in header


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("priority", "urgent", "prio-urgent"),
    ("language", "es", "Spanish ·"),
    ("add_tag", "vip", None),
    ("group", "GROUP", None),
])
def test_every_side_panel_change_answers_with_header_panel_and_a_longer_timeline(client, db, make, alice, agnes,
                                                                                  field, value, shown):
    from portal.models import Group

    group = Group(name="Billing")
    db.add(group)
    db.commit()
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, agnes)
    before = events_in(part(client.get(f"/agent/tickets/{ticket.ref}").text, "ws-timeline"))

    answer = change(client, ticket, field, str(group.id) if value == "GROUP" else value)

    assert answer.status_code == 200, answer.text
    header, timeline = part(answer.text, "ws-header"), part(answer.text, "ws-timeline")
    assert is_oob(header) and is_oob(timeline) and not is_oob(part(answer.text, "side-panel"))
    assert events_in(timeline) == before + 1
    if shown:
        assert shown in header


def test_removing_a_tag_and_changing_the_category_come_back_with_the_timeline(client, db, make, alice, agnes):
    from portal.models import Category

    category = Category(name_en="Fibre", name_es="Fibra")
    db.add(category)
    db.commit()
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, agnes)
    change(client, ticket, "add_tag", "vip")
    db.refresh(ticket)
    removed = change(client, ticket, "remove_tag", "vip")
    assert is_oob(part(removed.text, "ws-timeline")) and ">vip" not in part(removed.text, "side-panel")
    db.refresh(ticket)
    categorised = change(client, ticket, "category", str(category.id))
    assert categorised.status_code == 200 and is_oob(part(categorised.text, "ws-header"))
    assert events_in(part(categorised.text, "ws-timeline")) == events_in(part(removed.text, "ws-timeline")) + 1


def test_take_it_in_the_header_answers_with_the_header_and_the_panel(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    answer = client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": ticket.version},
                         headers={**HX, "HX-Target": "ws-header"})
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="ws-header"')
    header = part(answer.text, "ws-header")
    assert "Take it" not in header and "astatus-open" in header and not is_oob(header)
    panel = part(answer.text, "side-panel")
    assert is_oob(panel) and f'<option value="{agnes.id}" selected>' in panel
    assert is_oob(part(answer.text, "ws-timeline"))


def test_take_it_without_javascript_still_redirects_to_the_whole_page(client, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    answer = client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": ticket.version})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/agent/tickets/{ticket.ref}")
    page = client.get(answer.headers["Location"])
    assert "Take it" not in part(page.text, "ws-header") and "astatus-open" in part(page.text, "ws-header")


def test_postpone_and_resume_answer_with_the_timeline_and_header(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, agnes)
    before = events_in(part(client.get(f"/agent/tickets/{ticket.ref}").text, "ws-timeline"))
    postponed = client.post(f"/agent/tickets/{ticket.ref}/postpone",
                            data={"quick": "tomorrow", "version": ticket.version}, headers=HX)
    assert postponed.status_code == 200, postponed.text
    assert is_oob(part(postponed.text, "ws-header"))
    assert events_in(part(postponed.text, "ws-timeline")) == before + 1
    db.refresh(ticket)
    resumed = client.post(f"/agent/tickets/{ticket.ref}/resume", data={"version": ticket.version}, headers=HX)
    assert events_in(part(resumed.text, "ws-timeline")) == before + 2


def test_a_macro_and_a_reply_answer_with_every_part(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    macro = Macro(title="Wait for logs", body_en="Please send the logs.",
                  actions=[{"type": "set_status", "value": "pending"}])
    db.add(macro)
    db.commit()
    login(client, agnes)
    applied = client.post(f"/agent/tickets/{ticket.ref}/macros/apply",
                          data={"macro_id": macro.id, "body": "", "visibility": "public",
                                "version": ticket.version}, headers=HX)
    assert applied.status_code == 200
    for ident in ("ws-header", "side-panel", "ws-timeline", "composer"):
        part(applied.text, ident)
    assert "astatus-pending" in part(applied.text, "ws-header")
    db.refresh(ticket)
    sent = client.post(f"/agent/tickets/{ticket.ref}/messages",
                       data={"body": "Here is the fix", "visibility": "public", "submit_as": "solved",
                             "version": ticket.version}, headers=HX)
    assert "astatus-solved" in part(sent.text, "ws-header") and "Here is the fix" in part(sent.text, "ws-timeline")


# ---- Another agent's change -------------------------------------------------------------------------------


def test_another_agents_change_is_said_in_words_and_loaded_without_the_composer(client, app, db, make, alice,
                                                                                agnes, diego):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    opened = ticket.version
    other = app.test_client()
    login(client, agnes)
    login(other, diego)
    presence = f"/agent/tickets/{ticket.ref}/presence"
    assert "changed this ticket" not in client.post(presence, data={"seen_version": opened}, headers=HX).text

    assert change(other, ticket, "status", "pending", htmx=False).status_code == 303

    polled = client.post(presence, data={"seen_version": opened}, headers=HX)
    assert "Diego Agent changed this ticket (status → Pending)." in polled.text
    load = re.search(r'hx-get="([^"]+/state)"', polled.text)
    assert load and "Load the changes" in polled.text

    loaded = client.get(load.group(1), headers=HX)
    assert loaded.status_code == 200
    assert loaded.text.lstrip().startswith('<div id="presence"')
    assert "changed this ticket" not in part(loaded.text, "presence")
    assert "astatus-pending" in part(loaded.text, "ws-header") and is_oob(part(loaded.text, "ws-header"))
    assert '<option value="pending" selected>' in part(loaded.text, "side-panel")
    assert is_oob(part(loaded.text, "ws-timeline"))
    assert 'id="composer"' not in loaded.text  # what agnes is typing is not touched
    db.refresh(ticket)
    assert json.loads(loaded.headers["HX-Trigger"])["ticketVersion"]["value"] == ticket.version
    assert client.get(load.group(1)).status_code == 303  # without JavaScript: the whole page


def test_my_own_change_is_not_announced_as_a_collision(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    opened = ticket.version
    login(client, agnes)
    change(client, ticket, "priority", "high")
    # a poll that crossed the change still carries the old version
    polled = client.post(f"/agent/tickets/{ticket.ref}/presence", data={"seen_version": opened}, headers=HX)
    assert "changed this ticket" not in polled.text and "Load the changes" not in polled.text


def test_a_stale_side_panel_change_says_what_changed_and_shows_it_everywhere(client, app, db, make, alice,
                                                                              agnes, diego):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    opened = ticket.version
    other = app.test_client()
    login(client, agnes)
    login(other, diego)
    change(other, ticket, "priority", "urgent", htmx=False)

    stale = change(client, ticket, "status", "pending", version=opened)

    assert stale.status_code == 409
    panel = part(stale.text, "side-panel")
    assert "Diego Agent changed this ticket (priority → Urgent)." in panel and not is_oob(panel)
    assert "prio-urgent" in part(stale.text, "ws-header") and is_oob(part(stale.text, "ws-header"))
    assert is_oob(part(stale.text, "ws-timeline"))
    db.refresh(ticket)
    assert ticket.status == "open"


def test_a_stale_reply_keeps_the_text_and_says_what_changed(client, app, db, make, alice, agnes, diego):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    opened = ticket.version
    other = app.test_client()
    login(client, agnes)
    login(other, diego)
    change(other, ticket, "status", "on_hold", htmx=False)

    stale = client.post(f"/agent/tickets/{ticket.ref}/messages",
                        data={"body": "My careful answer", "visibility": "public", "version": opened}, headers=HX)

    assert stale.status_code == 409
    composer = part(stale.text, "composer")
    assert "My careful answer" in composer and "Diego Agent changed this ticket (status → On hold)." in composer
    assert "astatus-on_hold" in part(stale.text, "ws-header") and is_oob(part(stale.text, "ws-header"))
    assert is_oob(part(stale.text, "side-panel")) and is_oob(part(stale.text, "ws-timeline"))


def test_the_notice_in_spanish(client, app, db, make, alice, diego):
    ana = make.user(email="ana@example.com", name="Ana Agente", role="agent", locale="es")
    ticket = make.ticket(requester=alice, status="open", assignee=ana)
    opened = ticket.version
    other = app.test_client()
    login(client, ana)
    login(other, diego)
    change(other, ticket, "status", "pending", htmx=False)
    polled = client.post(f"/agent/tickets/{ticket.ref}/presence", data={"seen_version": opened}, headers=HX)
    assert "Diego Agent cambió esta solicitud (estado → Pendiente)." in polled.text
    assert "Cargar los cambios" in polled.text


def test_a_stale_take_it_in_the_header_says_what_changed(client, app, db, make, alice, agnes, diego):
    ticket = make.ticket(requester=alice)
    opened = ticket.version
    other = app.test_client()
    login(client, agnes)
    login(other, diego)
    assert other.post(f"/agent/tickets/{ticket.ref}/take", data={"version": opened}).status_code == 303

    stale = client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": opened},
                        headers={**HX, "HX-Target": "ws-header"})

    assert stale.status_code == 409
    assert stale.text.lstrip().startswith('<div id="ws-header"')
    assert "astatus-open" in part(stale.text, "ws-header")
    panel = part(stale.text, "side-panel")
    assert is_oob(panel) and "Diego Agent changed this ticket (assignee → Diego Agent, status → Open)." in panel
    db.refresh(ticket)
    assert ticket.assignee_id == diego.id
