"""Satisfaction: the requester rates a solved ticket Good or Bad with a comment, from the ticket page or from
the e-mail's link; changeable until 7 days after closing; nobody else's business."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.models import SatisfactionRating, TicketEvent
from portal.views import notify_dispatch
from tests.conftest import login


def rating_of(db, ticket):
    db.expire_all()
    return db.scalar(select(SatisfactionRating).where(SatisfactionRating.ticket_id == ticket.id))


@pytest.fixture
def solved(make, alice):
    return make.ticket(requester=alice, status="solved", subject="No internet")


def closed_days_ago(make, alice, days: float):
    ticket = make.ticket(requester=alice, status="closed", now=utcnow() - timedelta(days=days))
    return ticket


def token_for(app, ticket, rating: str) -> str:
    with app.app_context():
        return notify_dispatch.ticket_links().rating_token(ticket, rating)


# ---- from the ticket page ----


def test_ticket_page_offers_the_rating_once_solved(client, make, alice, solved):
    login(client, alice)
    assert "Rate our support" in client.get(f"/tickets/{solved.ref}").text
    still_open = make.ticket(requester=alice, status="open")
    assert "Rate our support" not in client.get(f"/tickets/{still_open.ref}").text


def test_rate_good_with_a_comment_then_change_it_to_bad(client, db, alice, solved):
    login(client, alice)
    response = client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "good", "comment": "Quick!"})
    assert response.status_code == 303
    rating = rating_of(db, solved)
    assert (rating.rating, rating.comment, rating.author_id) == ("good", "Quick!", alice.id)
    client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "bad", "comment": "It broke again."})
    rating = rating_of(db, solved)
    assert (rating.rating, rating.comment) == ("bad", "It broke again.")
    assert db.scalar(select(func.count()).select_from(SatisfactionRating)) == 1
    events = db.scalars(select(TicketEvent).where(TicketEvent.kind == "satisfaction_rated")
                        .order_by(TicketEvent.id)).all()
    assert [(e.old_value, e.new_value) for e in events] == [(None, "good"), ("good", "bad")]
    page = client.get(f"/tickets/{solved.ref}").text
    assert "You rated this ticket: Bad." in page and "It broke again." in page


def test_htmx_gets_the_fragment_back(client, alice, solved):
    login(client, alice)
    response = client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "good"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="satisfaction"')
    assert "Thank you for your feedback." in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_a_rating_must_be_good_or_bad(client, db, alice, solved):
    login(client, alice)
    response = client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "meh"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert rating_of(db, solved) is None


def test_can_still_rate_six_days_after_closing_but_not_eight(client, db, make, alice):
    login(client, alice)
    recent, old = closed_days_ago(make, alice, 6), closed_days_ago(make, alice, 8)
    assert client.post(f"/tickets/{recent.ref}/satisfaction", data={"rating": "good"}).status_code == 303
    assert rating_of(db, recent).rating == "good"
    assert client.post(f"/tickets/{old.ref}/satisfaction", data={"rating": "good"}).status_code == 403
    assert rating_of(db, old) is None
    assert "Rate our support" not in client.get(f"/tickets/{old.ref}").text


def test_an_unsolved_ticket_cannot_be_rated(client, db, make, alice):
    login(client, alice)
    ticket = make.ticket(requester=alice, status="open")
    assert client.post(f"/tickets/{ticket.ref}/satisfaction", data={"rating": "good"}).status_code == 403


def test_another_customers_ticket_is_not_found(client, db, bob, agnes, solved):
    login(client, bob)
    assert client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "bad"}).status_code == 404
    assert client.post("/tickets/MSA-2222-2222/satisfaction", data={"rating": "bad"}).status_code == 404
    assert rating_of(db, solved) is None


def test_an_agent_cannot_rate_for_the_customer(client, db, agnes, solved):
    login(client, agnes)
    assert client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "good"}).status_code == 404


def test_rating_needs_a_login(client, solved):
    assert client.post(f"/tickets/{solved.ref}/satisfaction", data={"rating": "good"}).status_code in (302, 401)


# ---- from the e-mail's link ----


def test_link_shows_the_rating_preselected_and_writes_nothing(app, client, db, solved):
    page = client.get(f"/s/{token_for(app, solved, 'bad')}")
    assert page.status_code == 200
    assert re.search(r'<input[^>]*checked[^>]*value="bad"|<input[^>]*value="bad"[^>]*checked', page.text)
    assert not re.search(r'<input[^>]*value="good"[^>]*checked', page.text)
    assert rating_of(db, solved) is None


def test_link_post_saves_the_rating_and_comment(app, client, db, alice, solved):
    token = token_for(app, solved, "good")
    response = client.post(f"/s/{token}", data={"rating": "good", "comment": "Thanks, Agnes"})
    assert response.status_code == 200 and "Thank you for your feedback" in response.text
    rating = rating_of(db, solved)
    assert (rating.rating, rating.comment, rating.author_id) == ("good", "Thanks, Agnes", alice.id)
    client.post(f"/s/{token}", data={"rating": "bad", "comment": ""})  # changed their mind
    rating = rating_of(db, solved)
    assert (rating.rating, rating.comment) == ("bad", None)


def test_link_refused_eight_days_after_closing(app, client, db, make, alice):
    old = closed_days_ago(make, alice, 8)
    token = token_for(app, old, "good")
    assert client.get(f"/s/{token}").status_code == 410
    assert client.post(f"/s/{token}", data={"rating": "good"}).status_code == 410
    assert rating_of(db, old) is None


def test_a_tampered_link_is_not_found(app, client, db, solved):
    token = token_for(app, solved, "good")
    assert client.get(f"/s/{token[:-2]}xx").status_code == 404
    assert client.post(f"/s/{token[:-2]}xx", data={"rating": "good"}).status_code == 404
    assert rating_of(db, solved) is None


def test_another_customer_using_the_link_gets_not_found(app, client, db, bob, solved):
    login(client, bob)
    token = token_for(app, solved, "good")
    assert client.get(f"/s/{token}").status_code == 404
    assert client.post(f"/s/{token}", data={"rating": "good"}).status_code == 404
    assert rating_of(db, solved) is None


def test_the_link_of_one_ticket_does_not_rate_another(app, client, db, make, alice, bob, solved):
    bobs = make.ticket(requester=bob, status="solved")
    client.post(f"/s/{token_for(app, solved, 'good')}", data={"rating": "good"})
    assert rating_of(db, bobs) is None and rating_of(db, solved).rating == "good"


def test_the_closed_mail_carries_the_rating_links(app, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="closed")
    from portal.models import Notification

    with app.app_context():
        row = Notification(ticket=ticket, recipient_email=alice.email, recipient=alice, kind="status_closed",
                           language="en", context={}, status="queued", attempts=0, created_at=utcnow())
        db.add(row)
        db.commit()
        message = notify_dispatch.build(db, row, notify_dispatch.settings())
    text = message.get_body(("plain",)).get_content()
    assert len(re.findall(r"http://portal\.test/s/\S+", text)) == 2
