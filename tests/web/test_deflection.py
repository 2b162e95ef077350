"""Matching articles while filing: live beside the form (htmx), or as a step before filing without
JavaScript; "This answered my question" records a deflection and files nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.models import Deflection, Ticket
from tests.conftest import login

ROUTER = {"subject": "My internet is not working", "description": "The router light is red since this morning."}
NONSENSE = {"subject": "Qwzx vbnm plkj", "description": "Zzxq wvvt qqpl."}


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def post_ticket(client, **fields):
    data = {"priority": "normal", "language": "en", "client_token": "deflect-token", **fields}
    return client.post("/tickets", data=data)


def test_suggestions_are_a_fragment_for_htmx_and_a_page_otherwise(client, alice):
    login(client, alice)
    fragment = client.post("/tickets/suggestions", data=ROUTER, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in fragment.text and 'id="suggestions"' in fragment.text
    assert "My internet is not working" in fragment.text and "This answered my question" in fragment.text
    assert 'id="suggestions-shown"' in fragment.text and 'hx-swap-oob="true"' in fragment.text
    page = client.get("/tickets/suggestions", query_string=ROUTER)
    assert page.status_code == 200 and "<html" in page.text and "This answered my question" in page.text
    assert "HX-Request" in page.headers["Vary"]


def test_suggestions_come_in_the_customers_language_first(client, make):
    maria = make.user(email="maria@example.com", locale="es")
    login(client, maria)
    fragment = client.post("/tickets/suggestions", data={"subject": "no tengo internet", "description": ""},
                           headers={"HX-Request": "true"})
    first_link = fragment.text.split('class="suggestion-title"')[0].rsplit('href="', 1)[1]
    assert first_link.startswith("/kb/es/")


def test_nothing_matching_says_so_without_the_shown_marker(client, alice):
    login(client, alice)
    fragment = client.post("/tickets/suggestions", data=NONSENSE, headers={"HX-Request": "true"})
    assert "No article matches yet" in fragment.text and "suggestions-shown" not in fragment.text


def test_this_answered_my_question_records_a_deflection_and_files_nothing(client, db, alice):
    login(client, alice)
    response = client.post("/tickets/deflect", data={"article": "en/connection/internet-not-working.md",
                                                     "query": "internet not working"})
    assert response.status_code == 303
    page = client.get(response.location)
    assert "Glad that helped!" in page.text and "My internet is not working" in page.text
    deflection = db.scalar(select(Deflection))
    assert (deflection.article_path, deflection.query, deflection.user_id) == (
        "en/connection/internet-not-working.md", "internet not working", alice.id)
    assert count(db, Ticket) == 0


def test_deflecting_to_an_unknown_article_is_404(client, db, alice):
    login(client, alice)
    assert client.post("/tickets/deflect", data={"article": "en/nope.md", "query": "x"}).status_code == 404
    assert client.post("/tickets/deflect", data={"article": "../secret", "query": "x"}).status_code == 404
    assert count(db, Deflection) == 0


def test_without_javascript_matching_articles_come_first_then_a_second_submit_files(client, db, alice):
    login(client, alice)
    step = post_ticket(client, **ROUTER)
    assert step.status_code == 200 and "Did one of these answer your question?" in step.text
    assert "No, send my ticket" in step.text and count(db, Ticket) == 0
    assert 'name="suggestions_shown" value="1"' in step.text
    assert "The router light is red since this morning.</textarea>" in step.text
    filed = post_ticket(client, suggestions_shown="1", **ROUTER)
    assert filed.status_code == 303 and count(db, Ticket) == 1


def test_without_a_match_the_ticket_is_filed_directly(client, db, alice):
    login(client, alice)
    assert post_ticket(client, **NONSENSE).status_code == 303
    assert count(db, Ticket) == 1


def test_suggestions_need_a_login(client):
    """A logged-out visitor gets no suggestions: the login page, which keeps what they typed (carried_forms)."""
    page = client.post("/tickets/suggestions", data=ROUTER)
    assert page.status_code == 401
    assert "data-carried-login" in page.text and 'name="password"' in page.text
    assert ROUTER["description"] in page.text
    assert 'class="suggestion' not in page.text
