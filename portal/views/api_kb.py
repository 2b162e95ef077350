"""The knowledge-base API (`/api/v1/kb`), the contract later work and outside checks rely on:

GET /api/v1/kb/search?q=<text>&lang=<en|es>&limit=<1..50>
    200 {"query", "total", "suggestion", "confident", "results": [{"path", "url", "title", "lang", "section",
    "snippet", "score"}]}; public articles only, no login; 400 JSON for a missing or over-long q. `confident`
    false: no article matches well, the results are only the closest there are.
GET /api/v1/kb/articles/<path>
    200 {"path", "url", "title", "lang", "section", "summary", "updated", "html"}; 404 JSON otherwise.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from portal.articles import PUBLIC_STATUSES, SUPPORTED_LANGUAGES, article_url
from portal.clock import utcnow
from portal.extensions import csrf, db_session
from portal.integers import whole_number
from portal.markdown_render import render_article
from portal.search import MAX_QUERY_CHARS, QueryTooLong
from portal.services import kb, kb_search
from portal.views.kb_access import kb_dir, kb_index

bp = Blueprint("api_kb", __name__, url_prefix="/api/v1/kb")
csrf.exempt(bp)  # read-only GET endpoints for other programs

MAX_LIMIT = 50


def _bad_request(code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), 400


@bp.get("/search")
def search():
    query = request.args.get("q", "")
    if not query.strip():
        return _bad_request("missing_query", "The q parameter is required.")
    if len(query) > MAX_QUERY_CHARS:
        return _bad_request("query_too_long", f"q is limited to {MAX_QUERY_CHARS} characters.")
    lang = request.args.get("lang")
    if lang is not None and lang not in SUPPORTED_LANGUAGES:
        return _bad_request("invalid_lang", f"lang must be one of: {', '.join(SUPPORTED_LANGUAGES)}.")
    limit = whole_number(request.args.get("limit", "10"), minimum=1, maximum=MAX_LIMIT)
    if limit is None:
        return _bad_request("invalid_limit", f"limit must be a number from 1 to {MAX_LIMIT}.")
    try:
        results = kb_search.search_articles(db_session(), kb_index(), query,
                                            lang=lang or current_app.config["DEFAULT_LANGUAGE"], actor=None,
                                            per_page=limit, visible_statuses=PUBLIC_STATUSES)
    except QueryTooLong:
        return _bad_request("query_too_long", f"q is limited to {MAX_QUERY_CHARS} characters.")
    kb.log_search(db_session(), query=query, lang=lang or current_app.config["DEFAULT_LANGUAGE"],
                  result_count=results.total, actor=None, visitor_id=None, now=utcnow(), source="api")
    db_session().commit()
    return jsonify(
        query=query,
        total=results.total,
        suggestion=results.suggestion,
        confident=results.confident,
        results=[{"path": hit.path, "url": hit.url, "title": hit.title, "lang": hit.lang, "section": hit.section,
                  "snippet": hit.snippet_html, "score": hit.score} for hit in results.hits],
    )


@bp.get("/articles/<path:path>")
def article(path: str):
    """One public article (a DomainError NotFound becomes a 404 JSON answer in views/errors.py)."""
    current = kb.get_article(kb_dir(), path, actor=None, default_lang=current_app.config["DEFAULT_LANGUAGE"])
    return jsonify(
        path=current.path, url=article_url(current), title=current.title, lang=current.lang,
        section=current.section, summary=current.summary,
        updated=current.updated.isoformat() if current.updated else None,
        html=render_article(current).html,
    )
