"""Postpone in the agent desk: the side panel's control (a plain post and htmx), "Resume now", the Postponed
queue and the bulk action, the API; and the customer, who sees the ticket as open."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from portal.clock import utcnow
from portal.models import Ticket
from portal.services import postpone
from tests.conftest import login
from tests.web.api_support import bearer, token_for

MADRID = ZoneInfo("Europe/Madrid")  # the portal's default time zone (PORTAL_TIMEZONE)
HX = {"HX-Request": "true"}


def local_input(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).astimezone(MADRID).strftime("%Y-%m-%dT%H:%M")


def shown(moment: datetime, locale: str = "en") -> str:
    return format_datetime(moment.replace(tzinfo=UTC), "d MMM, HH:mm", tzinfo=MADRID, locale=locale)


def reload(db, ticket) -> Ticket:
    db.expire_all()
    return db.get(Ticket, ticket.id)


def refs_on(page_text: str) -> list[str]:
    return re.findall(r'<tr id="ticket-([A-Z0-9-]+)"', page_text)


def in_two_days() -> datetime:
    return (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)


def test_postpone_with_a_plain_form_then_resume(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert 'type="datetime-local" name="until"' in page.text and "Tomorrow 9:00" in page.text
    until = in_two_days()
    response = client.post(f"/agent/tickets/{ticket.ref}/postpone",
                           data={"until": local_input(until), "quick": "", "version": ticket.version})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agent/tickets/{ticket.ref}")
    ticket = reload(db, ticket)
    assert (ticket.postponed_until, ticket.status, ticket.assignee_id) == (until, "open", agnes.id)
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert f"Postponed until {shown(until)}" in html.unescape(page.text)
    assert "Resume now" in page.text and "postponed it until" in page.text

    response = client.post(f"/agent/tickets/{ticket.ref}/resume", data={"version": ticket.version})
    assert response.status_code == 303
    ticket = reload(db, ticket)
    assert ticket.postponed_until is None and ticket.status == "open"
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert "brought it back from postponement" in page.text and "Resume now" not in page.text


def test_postpone_with_htmx_answers_the_side_panel(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="pending", assignee=agnes)
    login(client, agnes)
    response = client.post(f"/agent/tickets/{ticket.ref}/postpone",
                           data={"quick": "tomorrow", "version": ticket.version}, headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<aside id="side-panel"')
    assert "ticketVersion" in response.headers["HX-Trigger"]
    ticket = reload(db, ticket)
    tomorrow = postpone.quick_until("tomorrow", now=utcnow(), zone="Europe/Madrid")
    assert ticket.postponed_until == tomorrow
    assert ticket.postponed_until.replace(tzinfo=UTC).astimezone(MADRID).strftime("%H:%M") == "09:00"
    assert f"Postponed until {shown(tomorrow)}" in html.unescape(response.text)


def test_a_time_in_the_past_is_refused_where_the_agent_is(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, agnes)
    past = local_input(utcnow() - timedelta(hours=1))
    response = client.post(f"/agent/tickets/{ticket.ref}/postpone", data={"until": past, "version": ticket.version},
                           headers=HX)
    assert response.status_code == 422 and "Choose a time in the future." in response.text
    assert response.text.lstrip().startswith('<aside id="side-panel"')
    response = client.post(f"/agent/tickets/{ticket.ref}/postpone", data={"until": "soon", "quick": "",
                                                                          "version": ticket.version})
    assert response.status_code == 303
    assert "Enter a date and time" in client.get(response.headers["Location"]).text
    stale = client.post(f"/agent/tickets/{ticket.ref}/postpone", data={"quick": "tomorrow",
                                                                       "version": ticket.version - 1}, headers=HX)
    assert stale.status_code == 409 and "Someone else changed" in stale.text
    assert reload(db, ticket).postponed_until is None


def test_customers_cannot_postpone(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(client, alice)
    assert client.post(f"/agent/tickets/{ticket.ref}/postpone", data={"quick": "tomorrow"}).status_code in (403, 404)
    assert reload(db, ticket).postponed_until is None


def test_the_form_needs_its_csrf_token(csrf_client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', csrf_client.get("/login").text).group(1)
    csrf_client.post("/login", data={"email": agnes.email, "password": "correct-horse-battery", "csrf_token": token})
    url = f"/agent/tickets/{ticket.ref}/postpone"
    assert csrf_client.post(url, data={"quick": "tomorrow"}).status_code == 400
    assert reload(db, ticket).postponed_until is None
    page = csrf_client.get(f"/agent/tickets/{ticket.ref}").text
    token = re.search(r'action="[^"]*/postpone".*?name="csrf_token" value="([^"]+)"', page, re.S).group(1)
    assert csrf_client.post(url, data={"quick": "tomorrow", "csrf_token": token}).status_code == 303
    assert reload(db, ticket).postponed_until is not None


def test_the_postponed_queue_lists_them_with_when_they_come_back(client, db, make, alice, agnes):
    parked = make.ticket(requester=alice, status="open", assignee=agnes, subject="Parked")
    working = make.ticket(requester=alice, status="open", assignee=agnes, subject="Working")
    until = in_two_days()
    postpone.postpone(db, parked, until, actor=agnes, now=utcnow())
    db.commit()
    login(client, agnes)
    assert refs_on(client.get("/agent?view=mine").text) == [working.ref]
    page = client.get("/agent?view=postponed")
    assert refs_on(page.text) == [parked.ref]
    assert f"Postponed until {shown(until)}" in html.unescape(page.text)
    counts = dict(re.findall(r'data-count="([^"]+)">(\d+)<', client.get("/agent/counts", headers=HX).text))
    assert (counts["postponed"], counts["mine"]) == ("1", "1")


def test_bulk_postpone_and_resume(client, db, make, alice, agnes):
    first, second = (make.ticket(requester=alice, status="open", assignee=agnes) for _ in range(2))
    solved = make.ticket(requester=alice, status="solved", assignee=agnes)
    login(client, agnes)
    response = client.post("/agent/bulk", data={"refs": [first.ref, second.ref, solved.ref], "action": "postpone",
                                                "postpone_for": "next_monday", "next": "/agent"}, headers=HX)
    assert response.status_code == 200
    assert "2 tickets updated." in response.text and solved.ref in response.text
    assert reload(db, first).postponed_until == postpone.quick_until("next_monday", now=utcnow(),
                                                                     zone="Europe/Madrid")
    assert reload(db, solved).postponed_until is None
    response = client.post("/agent/bulk", data={"refs": [first.ref], "action": "resume", "next": "/agent"})
    assert response.status_code == 303
    assert reload(db, first).postponed_until is None and reload(db, second).postponed_until is not None


def test_the_customer_sees_the_ticket_as_open(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="on_hold", assignee=agnes)
    postpone.postpone(db, ticket, in_two_days(), actor=agnes, now=utcnow())
    db.commit()
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}")
    assert page.status_code == 200
    assert "Open" in page.text and "ostpone" not in page.text
    listing = client.get("/tickets")
    assert ticket.subject in listing.text and "ostpone" not in listing.text
    data = client.get(f"/api/v1/tickets/{ticket.ref}", headers=bearer(token_for(db, alice))).get_json()
    assert data["status"] == "open" and "postponed_until" not in data


def test_spanish_agents_read_it_in_spanish(client, db, make, alice):
    ana = make.user(role="agent", name="Ana", email="ana@example.com", locale="es")
    ticket = make.ticket(requester=alice, status="open", assignee=ana)
    login(client, ana)
    headers = {"Accept-Language": "es"}
    page = client.get(f"/agent/tickets/{ticket.ref}", headers=headers)
    assert "Aplazar hasta" in page.text and "Mañana a las 9:00" in html.unescape(page.text)
    until = in_two_days()
    client.post(f"/agent/tickets/{ticket.ref}/postpone", data={"until": local_input(until), "quick": "",
                                                               "version": ticket.version}, headers=headers)
    page = html.unescape(client.get(f"/agent/tickets/{ticket.ref}", headers=headers).text)
    assert f"Aplazada hasta el {shown(until, 'es')}" in page and "Reanudar ahora" in page
    assert "la aplazó hasta" in page
    refused = client.post(f"/agent/tickets/{ticket.ref}/postpone", headers={**headers, **HX},
                          data={"until": local_input(utcnow() - timedelta(hours=2)), "version": ticket.version + 1})
    assert refused.status_code == 422 and "Elige una hora futura." in html.unescape(refused.text)


def test_the_api_reads_and_writes_postponed_until(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    headers = bearer(token_for(db, agnes))
    data = client.get(f"/api/v1/tickets/{ticket.ref}", headers=headers).get_json()
    assert data["postponed_until"] is None
    until = in_two_days()
    response = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=headers,
                            json={"version": data["version"], "postponed_until": until.isoformat() + "Z"})
    assert response.status_code == 200, response.text
    data = response.get_json()
    assert data["postponed_until"] == until.isoformat(timespec="seconds") + "Z"
    past = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=headers,
                        json={"version": data["version"], "postponed_until": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.get_json()["error"]["field"] == "postponed_until"
    response = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=headers,
                            json={"version": data["version"], "postponed_until": None})
    assert response.status_code == 200 and response.get_json()["postponed_until"] is None
    assert reload(db, ticket).postponed_until is None


def test_admins_find_postpone_among_a_rules_actions(client, db, admin_user):
    from portal.services.rules import manage

    manage.create_rule(db, {"name": "Park new ones", "events": ["ticket_created"], "conditions_all": [],
                            "actions": [{"type": "postpone", "value": 24}]}, actor=admin_user, now=utcnow())
    db.commit()
    login(client, admin_user)
    assert 'value="postpone"' in client.get("/admin/rules/new").text
    assert "Postpone for 24 hours" in client.get("/admin/rules").text
