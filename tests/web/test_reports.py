"""/agent/reports: who may open it, what each sees, the htmx fragment, CSV exports and bad periods."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.models import Group, Message, SatisfactionRating
from tests.conftest import login


@pytest.fixture
def desk(db, make, agnes, alice):
    """Agnes works in Billing; Diego works alone. Three tickets filed today: one in Billing, one Diego's, one
    Diego's that Agnes answered in one reply and that Alice rated good."""
    billing = Group(name="Billing")
    agnes.groups.append(billing)
    db.add(billing)
    db.commit()
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    now = utcnow()
    if now.hour < 3:  # the three must fall on one day, even when the suite runs just after midnight UTC
        now = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(minutes=1)
    in_billing = make.ticket(requester=alice, subject="Invoice twice", now=now - timedelta(hours=3))
    in_billing.group_id = billing.id
    diegos = make.ticket(requester=alice, subject="Router blinks", assignee=diego, status="open",
                         now=now - timedelta(hours=2), priority="high")
    answered = make.ticket(requester=alice, subject="Roaming", assignee=agnes, status="solved",
                           now=now - timedelta(hours=1))
    answered.first_response_at = now - timedelta(minutes=45)
    db.add(Message(ticket_id=answered.id, author_id=agnes.id, body="Done", public=True,
                   created_at=now - timedelta(minutes=45)))
    db.add(SatisfactionRating(ticket_id=answered.id, rating="good", comment="Lovely help", created_at=now,
                              updated_at=now))
    db.commit()
    return {"billing": billing, "diego": diego, "tickets": [in_billing, diegos, answered]}


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text)))


def test_customers_get_403_and_visitors_log_in(client, alice):
    response = client.get("/agent/reports")
    assert response.status_code == 302 and "/login" in response.location
    login(client, alice)
    assert client.get("/agent/reports").status_code == 403
    assert client.get("/agent/reports?format=csv&figure=backlog").status_code == 403


def test_the_page_shows_charts_tables_and_exports(client, desk, admin_user):
    login(client, admin_user)
    page = client.get("/agent/reports")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 3 and "<table" in page.text
    assert 'hx-trigger="every 60s"' in page.text and 'id="report-figures"' in page.text
    assert "format=csv&amp;figure=agents" in page.text
    assert "Lovely help" in page.text  # the latest satisfaction comments
    assert "/agent?view=unassigned" in page.text  # a number links to the tickets behind it


def test_htmx_gets_only_the_figures(client, desk, admin_user):
    login(client, admin_user)
    fragment = client.get("/agent/reports?period=7", headers={"HX-Request": "true", "HX-Target": "report-figures"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="report-figures"') and "<html" not in fragment.text
    assert "period=7" in fragment.text  # the next refresh asks for the same period
    assert "HX-Request" in fragment.headers["Vary"]
    full = client.get("/agent/reports?period=7")
    assert "<html" in full.text


def test_an_agent_sees_only_their_tickets_and_their_groups(client, desk, agnes, admin_user):
    login(client, agnes)
    backlog = {row[0]: row[1] for row in csv_rows(client.get("/agent/reports?format=csv&figure=backlog"))[1:]}
    assert backlog["Open backlog"] == "1"  # the Billing ticket; Diego's is not hers
    daily = csv_rows(client.get("/agent/reports?format=csv&figure=daily&period=7"))
    assert sum(int(row[1]) for row in daily[1:]) == 2  # Billing's and her own
    client.post("/logout")
    login(client, admin_user)
    backlog = {row[0]: row[1] for row in csv_rows(client.get("/agent/reports?format=csv&figure=backlog"))[1:]}
    assert backlog["Open backlog"] == "2"


def test_csv_export_of_the_agent_table(client, desk, admin_user, agnes):
    login(client, admin_user)
    response = client.get("/agent/reports?format=csv&figure=agents&period=7")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == ["Agent", "Solved", "Replies", "Median first reply", "Satisfaction", "Ratings"]
    assert ["Agnes Agent", "1", "1", "15.0", "100.0", "1"] in rows


def test_filters_apply_to_exports(client, desk, admin_user):
    login(client, admin_user)
    high = csv_rows(client.get("/agent/reports?format=csv&figure=daily&period=7&priority=high"))
    assert sum(int(row[1]) for row in high[1:]) == 1
    billing = csv_rows(client.get(f"/agent/reports?format=csv&figure=backlog_group&group={desk['billing'].id}"))
    assert billing[1:] == [["Billing", "1"]]


def test_an_unknown_figure_is_a_clear_422(client, desk, admin_user):
    login(client, admin_user)
    response = client.get("/agent/reports?format=csv&figure=everything")
    assert response.status_code == 422 and "There is no figure called everything" in response.text


@pytest.mark.parametrize("query, message", [
    ("period=14", "Choose the last 7, 30 or 90 days"),
    ("period=custom&from=yesterday&to=today", "YYYY-MM-DD"),
    ("period=custom&from=2026-05-10&to=2026-05-01", "ends before it starts"),
    ("group=billing", "Choose one of the values offered"),
    ("channel=pigeon", "Choose one of the values offered"),
])
def test_bad_input_gets_a_message_not_an_error(client, desk, admin_user, query, message):
    login(client, admin_user)
    page = client.get(f"/agent/reports?{query}")
    assert page.status_code == 422
    assert message in page.text and 'id="report-figures"' not in page.text
    assert '<form method="get"' in page.text  # the form is there to correct it


def test_custom_dates(client, desk, admin_user):
    login(client, admin_user)
    today = desk["tickets"][0].created_at.date()  # the day the fixture filed them
    rows = csv_rows(client.get(f"/agent/reports?format=csv&figure=daily&period=custom&from={today}&to={today}"))
    assert rows[1:] == [[today.isoformat(), "3", "1"]]


def test_the_queue_links_to_reports(client, agnes):
    login(client, agnes)
    assert 'href="/agent/reports"' in client.get("/agent").text


def test_the_page_renders_in_spanish(client, desk, admin_user):
    login(client, admin_user)
    client.post("/language", data={"lang": "es"})
    page = client.get("/agent/reports")
    assert page.status_code == 200 and '<html lang="es"' in page.text


def test_a_reply_sent_from_the_workspace_shows_on_the_dashboard_at_once(client, desk, agnes):
    """The figures read the rollup: a change committed by a request updates it in the same transaction."""
    login(client, agnes)

    def figures(name):
        return {row[0]: row[1:] for row in csv_rows(client.get(f"/agent/reports?format=csv&figure={name}&period=7"))}

    assert figures("agents")["Agnes Agent"][:2] == ["1", "1"]  # solved, replies
    assert figures("response_times")["First reply time"][2] == "1"
    ticket = desk["tickets"][0]  # Billing's, unanswered
    response = client.post(f"/agent/tickets/{ticket.ref}/messages",
                           data={"body": "Refund on its way", "visibility": "public", "submit_as": "",
                                 "version": str(ticket.version)})
    assert response.status_code in (200, 303)
    assert figures("agents")["Agnes Agent"][:2] == ["1", "2"]
    assert figures("response_times")["First reply time"][2] == "2"
