"""The KB API contract: `GET /api/v1/kb/search` and `GET /api/v1/kb/articles/<path>`."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import SearchLog
from tests.conftest import login


def test_search_answers_the_documented_shape(kb_client):
    answer = kb_client.get("/api/v1/kb/search?q=invoice&lang=en&limit=5")
    assert answer.status_code == 200 and answer.is_json
    body = answer.get_json()
    assert set(body) == {"query", "total", "suggestion", "confident", "results"}
    assert body["query"] == "invoice" and body["total"] >= 1 and body["suggestion"] is None
    assert body["confident"] is True  # the invoice article answers "invoice" well
    first = body["results"][0]
    assert set(first) == {"path", "url", "title", "lang", "section", "snippet", "score"}
    assert first["path"] == "en/billing/read-your-invoice.md"
    assert first["url"] == "/kb/en/billing/read-your-invoice"
    assert (first["title"], first["lang"], first["section"]) == ("How to read your invoice", "en", "billing")
    assert '<b class="match">' in first["snippet"] and isinstance(first["score"], float)
    assert kb_client.get(first["url"]).status_code == 200  # the URL the API returns is the article page


def test_search_suggests_and_prefers_the_requested_language(kb_client):
    body = kb_client.get("/api/v1/kb/search?q=pasword").get_json()
    assert body["suggestion"] == "password"
    spanish = kb_client.get("/api/v1/kb/search?q=factura&lang=es").get_json()
    assert spanish["results"][0]["lang"] == "es"


def test_limit_caps_the_results(kb_client, kb_dir):
    for number in range(4):
        (kb_dir / "en" / "billing" / f"router-{number}.md").write_text(f"# Router {number}\n\nRouter help.\n")
    body = kb_client.get("/api/v1/kb/search?q=router&limit=2").get_json()
    assert len(body["results"]) == 2 and body["total"] >= 5


def test_bad_requests_get_json_errors(kb_client):
    for url in ("/api/v1/kb/search", "/api/v1/kb/search?q=", "/api/v1/kb/search?q=%20%20",
                "/api/v1/kb/search?q=" + "x" * 501, "/api/v1/kb/search?q=a&limit=0",
                "/api/v1/kb/search?q=a&limit=51", "/api/v1/kb/search?q=a&limit=many",
                "/api/v1/kb/search?q=a&lang=fr"):
        answer = kb_client.get(url)
        assert answer.status_code == 400, url
        assert answer.is_json and set(answer.get_json()["error"]) == {"code", "message"}


def test_malformed_queries_are_searched_not_refused(kb_client):
    for q in ('"unbalanced', "((", "AND", "*", "-"):
        assert kb_client.get("/api/v1/kb/search", query_string={"q": q}).status_code == 200


def test_only_public_articles_even_for_agents(kb_client, agnes):
    login(kb_client, agnes)
    body = kb_client.get("/api/v1/kb/search?q=refund+supervisor").get_json()
    assert all(result["path"] != "en/account/refund-policy-for-agents.md" for result in body["results"])
    assert kb_client.get("/api/v1/kb/articles/en/account/refund-policy-for-agents.md").status_code == 404


def test_article_answers_one_rendered_article(kb_client):
    answer = kb_client.get("/api/v1/kb/articles/en/billing/read-your-invoice.md")
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["title"], body["lang"], body["updated"]) == ("How to read your invoice", "en", "2026-03-01")
    assert "<table>" in body["html"] and "<script" not in body["html"]


def test_missing_hidden_or_unsafe_articles_are_404_json(kb_client):
    for path in ("en/nothing.md", "en/account/upcoming-loyalty-programme.md", "../pyproject.toml",
                 "en/../../app.py"):
        answer = kb_client.get(f"/api/v1/kb/articles/{path}")
        assert answer.status_code == 404, path
        assert answer.is_json


def test_api_searches_are_recorded_without_a_visitor(kb_client, db):
    kb_client.get("/api/v1/kb/search?q=invoice&lang=en")
    log = db.scalars(select(SearchLog)).one()
    assert (log.query, log.source, log.visitor_id, log.user_id, log.result_count) == ("invoice", "api", None, None, 1)
