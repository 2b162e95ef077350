"""The confirm and reopen links of the "solved" e-mail: signed, expiring, good once, and a GET never acts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.errors import NotFound
from portal.models import Message, Ticket
from portal.services import ticket_links, tickets
from portal.views import notify_dispatch
from tests.conftest import login


@pytest.fixture
def app_config(smtp_config):
    return smtp_config


@pytest.fixture
def solved(app, db, make, alice, agnes, smtp_server):
    """Alice's ticket, solved by Agnes, with the e-mails delivered."""
    ticket = make.ticket(requester=alice, subject="No internet")
    tickets.take(db, ticket, actor=agnes, now=utcnow())
    tickets.set_status(db, ticket, "solved", actor=agnes, now=utcnow())
    db.commit()
    with app.app_context():
        notify_dispatch.flush()
    return ticket


def link(smtp_server, ticket, kind: str) -> str:
    """The path of the confirm (first) or reopen (second) link in the solved e-mail to the requester."""
    [mail] = [m for m in smtp_server.messages
              if m["Subject"].startswith(f"[{ticket.ref}] Solved") and m.envelope_to == [ticket.requester.email]]
    urls = re.findall(r"http://portal\.test(/t/\S+)", mail.get_body(("plain",)).get_content())
    return urls[0 if kind == "confirm" else 1]


def status(db, ticket) -> str:
    db.expire_all()
    return db.get(Ticket, ticket.id).status


def test_confirm_link_asks_first_then_closes_once(client, db, solved, smtp_server):
    path = link(smtp_server, solved, "confirm")
    page = client.get(path)
    assert page.status_code == 200 and "Yes, close the ticket" in page.text
    assert status(db, solved) == "solved"  # a GET never acts (mail scanners follow links)
    done = client.post(path)
    assert done.status_code == 200 and "closed" in done.text
    assert status(db, solved) == "closed"
    again = client.post(path)
    assert again.status_code == 400 and "no longer works" in again.text
    assert client.get(path).status_code == 400


def test_confirming_by_link_offers_the_rating(client, db, solved, smtp_server):
    done = client.post(link(smtp_server, solved, "confirm"))
    assert 'name="rating"' in done.text and "/s/" in done.text


def test_reopen_link_needs_a_reason_and_adds_it_to_the_conversation(client, db, solved, smtp_server):
    path = link(smtp_server, solved, "reopen")
    assert "What is still not working?" in client.get(path).text
    assert client.post(path, data={"reason": "  "}).status_code == 422
    assert status(db, solved) == "solved"
    assert client.post(path, data={"reason": "Still red after the restart."}).status_code == 200
    assert status(db, solved) == "open"
    last = db.scalars(select(Message).where(Message.ticket_id == solved.id).order_by(Message.id.desc())).first()
    assert last.body == "Still red after the restart." and last.author_id == solved.requester_id


def test_a_tampered_link_is_not_found(client, db, solved, smtp_server):
    path = link(smtp_server, solved, "confirm")
    token = path.removeprefix("/t/")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(f"/t/{forged}").status_code == 404
    assert client.post(f"/t/{forged}").status_code == 404
    assert client.get("/t/not-a-token").status_code == 404
    assert status(db, solved) == "solved"


def test_a_rating_link_is_not_an_action_link(app, client, db, solved):
    with app.app_context():
        rating_token = notify_dispatch.ticket_links().rating_token(solved, "good")
    assert client.post(f"/t/{rating_token}").status_code == 404
    assert status(db, solved) == "solved"


def test_a_link_made_with_another_secret_is_not_found(client, db, solved):
    other = ticket_links.TicketLinks("someone-elses-secret", max_age=timedelta(days=30))
    assert client.post(f"/t/{other.action_token(solved, 'confirm')}").status_code == 404
    assert status(db, solved) == "solved"


def test_another_logged_in_customer_gets_not_found(client, db, bob, solved, smtp_server):
    login(client, bob)
    path = link(smtp_server, solved, "confirm")
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404
    assert status(db, solved) == "solved"


def test_a_link_from_an_earlier_solution_no_longer_acts(client, db, agnes, solved, smtp_server):
    path = link(smtp_server, solved, "confirm")
    ticket = db.get(Ticket, solved.id)
    tickets.set_status(db, ticket, "open", actor=agnes, now=utcnow())
    tickets.set_status(db, ticket, "solved", actor=agnes, now=utcnow() + timedelta(seconds=5))
    db.commit()
    assert client.post(path).status_code == 400
    assert status(db, solved) == "solved"


def test_links_expire(app, db, solved):
    with app.app_context():
        signer = notify_dispatch.ticket_links()
    token = signer.action_token(solved, "confirm")
    assert signer.action_link(db, token, now=utcnow()).action == "confirm"
    with pytest.raises(ticket_links.LinkExpired):
        signer.action_link(db, token, now=utcnow() + signer.max_age + timedelta(minutes=1))


def test_a_link_for_a_ticket_given_to_someone_else_is_not_found(db, solved, bob):
    signer = ticket_links.TicketLinks("test-secret-key", max_age=timedelta(days=30))
    token = signer.action_token(solved, "confirm")
    solved.requester_id = bob.id  # the payload names Alice
    with pytest.raises(NotFound):
        signer.action_link(db, token, now=utcnow())
    db.rollback()
