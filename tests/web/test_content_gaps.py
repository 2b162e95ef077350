"""`/agent/knowledge`: what the knowledge base is missing, from seeded search logs, tickets and votes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.clock import utcnow
from portal.models import ArticleDraft, ArticleVote, SearchLog
from tests.conftest import login


def _search(db, query, *, results=0, opened=None, lang="en", days_ago=1, user=None):
    when = utcnow() - timedelta(days=days_ago)
    db.add(SearchLog(query=query, normalized_query=" ".join(query.lower().split()), lang=lang, result_count=results,
                     opened_path=opened, user_id=user.id if user else None, created_at=when, updated_at=when))


def _section(page: str, title: str) -> str:
    start = page.index(title)
    return page[start:page.index("</section>", start)]


def test_report_groups_searches_counts_them_and_filters_period_and_language(client, db, agnes):
    for _ in range(3):
        _search(db, "Router  red light")
    _search(db, "router red light", lang="es")
    _search(db, "luz roja router", lang="es")
    _search(db, "ancient question", days_ago=60)
    _search(db, "change plan", results=4)
    _search(db, "change plan", results=4)
    _search(db, "invoice", results=3, opened="en/billing/read-your-invoice.md")
    db.commit()
    login(client, agnes)
    page = client.get("/agent/knowledge?days=30").text
    no_results = _section(page, "Searches with no results")
    assert "router red light" in no_results.lower() and "<td>4</td>" in no_results
    assert "luz roja router" in no_results and "ancient question" not in no_results
    no_clicks = _section(page, "Searches whose results nobody opened")
    assert "change plan" in no_clicks and "<td>2</td>" in no_clicks and "invoice" not in no_clicks
    assert "ancient question" in client.get("/agent/knowledge?days=90").text
    spanish = _section(client.get("/agent/knowledge?lang=es").text, "Searches with no results")
    assert "luz roja router" in spanish and "<td>1</td>" in spanish and "<td>3</td>" not in spanish


def test_tickets_filed_after_searching_and_unhelpful_articles(client, db, make, agnes, alice, bob):
    _search(db, "router red light", results=2, user=alice, days_ago=0)
    db.commit()
    make.ticket(requester=alice, subject="Router red light blinking")
    make.ticket(requester=bob, subject="red light on my router blinking")
    for number, helpful in enumerate([False, False, True]):
        db.add(ArticleVote(path="en/billing/read-your-invoice.md", voter=f"visitor:{number}", helpful=helpful,
                           comment="It does not explain VAT" if number == 0 else None))
    db.commit()
    login(client, agnes)
    page = client.get("/agent/knowledge").text
    tickets = _section(page, "Tickets filed after searching")
    assert "<td>2</td><td>1</td>" in tickets.replace("\n", "").replace("        ", "")
    votes = _section(page, "Articles voted")
    assert "en/billing/read-your-invoice.md" in votes and "It does not explain VAT" in votes
    assert "Review article" in votes


def test_write_an_article_from_a_gap_opens_a_prefilled_draft(client, db, agnes):
    login(client, agnes)
    response = client.post("/agent/knowledge/draft", data={"query": "router red light", "lang": "en"})
    assert response.status_code == 303
    draft = db.scalars(select(ArticleDraft)).one()
    assert draft.owner_id == agnes.id and "router red light" in draft.body.lower()
    assert "router red light" in client.get(response.headers["Location"]).text


def test_customers_do_not_see_the_report(client, alice):
    login(client, alice)
    assert client.get("/agent/knowledge").status_code == 403
