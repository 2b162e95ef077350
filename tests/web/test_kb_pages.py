"""The help center pages: search as you type or without JavaScript, articles, votes, and what is recorded."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.articles import article_url
from portal.models import ArticleView, ArticleVote, SearchLog
from tests.conftest import login


def test_home_lists_sections_recent_articles_and_a_search_box(kb_client):
    page = kb_client.get("/kb", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'name="q"' in page.text and 'hx-get="/kb/search"' in page.text
    assert "Billing" in page.text and "Connect your router" in page.text
    assert "Refund policy for agents" not in page.text


def test_search_page_works_without_javascript(kb_client):
    page = kb_client.get("/kb/search?q=invoices", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "<html" in page.text
    assert "How to read your invoice" in page.text
    assert '<b class="match">invoice</b>' in page.text
    assert "HX-Request" in page.headers["Vary"]


def test_live_search_answers_htmx_with_the_results_fragment_only(kb_client):
    fragment = kb_client.get("/kb/search?q=invoices", headers={"HX-Request": "true", "Accept-Language": "en"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="kb-results"')
    assert "How to read your invoice" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_did_you_mean_offers_the_right_spelling(kb_client):
    page = kb_client.get("/kb/search?q=pasword", headers={"Accept-Language": "en"})
    assert "Did you mean" in page.text and "<strong>password</strong>" in page.text
    assert "Reset your password" in page.text


def test_results_show_their_language_and_can_be_filtered_by_it(kb_client):
    page = kb_client.get("/kb/search?q=direct+debit", headers={"Accept-Language": "en"})
    assert "Domiciliación bancaria" in page.text and ">Spanish</span>" in page.text
    only_english = kb_client.get("/kb/search?q=factura&lang=en", headers={"Accept-Language": "es"})
    assert "How to read your invoice" in only_english.text and "Cómo leer tu factura" not in only_english.text


def test_malformed_and_overlong_queries(kb_client):
    assert kb_client.get('/kb/search?q="((AND*').status_code == 200
    too_long = kb_client.get("/kb/search?q=" + "x" * 501, headers={"Accept-Language": "en"})
    assert too_long.status_code == 400
    assert "500 characters or fewer" in too_long.text
    live = kb_client.get("/kb/search?q=" + "x" * 501, headers={"HX-Request": "true", "Accept-Language": "en"})
    assert live.status_code == 200 and "500 characters or fewer" in live.text


def test_internal_articles_are_for_agents_only(kb_client, kb_app, alice, agnes):
    path = "en/account/refund-policy-for-agents.md"
    assert kb_client.get(article_url(path)).status_code == 404
    assert "Refund policy" not in kb_client.get("/kb/search?q=refund+supervisor").text
    login(kb_client, alice)
    assert kb_client.get(article_url(path)).status_code == 404
    agent = kb_app.test_client()
    login(agent, agnes)
    assert agent.get(article_url(path)).status_code == 200
    assert "Refund policy for agents" in agent.get("/kb/search?q=refund+supervisor").text


def test_what_an_agent_searched_first_is_never_shown_to_customers(kb_client, kb_app, alice, agnes):
    live = {"HX-Request": "true", "Accept-Language": "en"}
    agent = kb_app.test_client()
    login(agent, agnes)
    assert "Refund policy for agents" in agent.get("/kb/search?q=refund+supervisor", headers=live).text
    assert "loyalty programme starts" not in agent.get("/kb/search?q=loyalty+programme", headers=live).text
    assert "Refund policy" not in kb_client.get("/kb/search?q=refund+supervisor", headers=live).text
    login(kb_client, alice)
    assert "Refund policy" not in kb_client.get("/kb/search?q=refund+supervisor", headers=live).text
    assert "loyalty programme starts" not in kb_client.get("/kb/search?q=loyalty+programme", headers=live).text


def test_drafts_archived_and_unsafe_paths_are_not_found(kb_client, agnes):
    login(kb_client, agnes)
    for path in ("/kb/en/account/upcoming-loyalty-programme", "/kb/en/billing/old-pricing", "/kb/../app",
                 "/kb/en/%2e%2e/%2e%2e/pyproject", "/kb/en/nothing-here"):
        assert kb_client.get(path).status_code == 404, path


def test_article_page_shows_everything_a_reader_needs(kb_client):
    page = kb_client.get("/kb/en/billing/read-your-invoice", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.text
    assert "<h1>How to read your invoice</h1>" in text
    assert '<time datetime="2026-03-01">' in text
    assert 'href="#kb-charges"' in text and '<h2 id="kb-charges">' in text  # table of contents
    assert "<table>" in text
    assert 'href="/kb/en/account/reset-your-password"' in text  # related, by translation key
    assert 'href="/kb/es/facturacion/leer-tu-factura"' in text and "Leer en español" in text
    assert "Was this helpful?" in text and "Still need help?" in text


def test_file_names_with_spaces_and_nested_sections_have_working_urls(kb_client):
    url = article_url("en/guides/setup/Connect your router.md")
    assert url == "/kb/en/guides/setup/Connect%20your%20router"
    assert "Plug the fibre cable" in kb_client.get(url).text


def test_template_leftovers_never_show(kb_client):
    text = kb_client.get("/kb/en/guides/jekyll-leftovers").text
    assert "{%" not in text and "{:" not in text and "onclick" not in text
    assert "Dial 123 from your phone" in text


def test_a_vote_is_recorded_once_per_visitor_and_can_be_changed(kb_client, db):
    url = "/kb/en/billing/read-your-invoice"
    kb_client.get(url)
    assert kb_client.post(url + "/vote", data={"helpful": "yes"}).status_code == 303
    answer = kb_client.post(url + "/vote", data={"helpful": "no", "comment": "No example invoice"},
                            headers={"HX-Request": "true", "Accept-Language": "en"})
    assert answer.status_code == 200 and 'id="kb-feedback"' in answer.text and "<html" not in answer.text
    votes = db.scalars(select(ArticleVote)).all()
    assert len(votes) == 1
    assert (votes[0].path, votes[0].helpful, votes[0].comment) == ("en/billing/read-your-invoice.md", False,
                                                                  "No example invoice")
    assert votes[0].visitor_id and votes[0].user_id is None
    other_visitor = kb_client.application.test_client()
    other_visitor.post(url + "/vote", data={"helpful": "yes"})
    assert db.scalar(select(func.count()).select_from(ArticleVote)) == 2


def test_a_logged_in_users_vote_is_theirs(kb_client, db, alice):
    login(kb_client, alice)
    kb_client.post("/kb/en/billing/read-your-invoice/vote", data={"helpful": "yes"})
    vote = db.scalars(select(ArticleVote)).one()
    assert vote.user_id == alice.id and vote.visitor_id is None


def test_an_invalid_vote_is_refused(kb_client, db):
    assert kb_client.post("/kb/en/billing/read-your-invoice/vote", data={"helpful": "maybe"}).status_code == 303
    assert db.scalar(select(func.count()).select_from(ArticleVote)) == 0


def test_searches_views_and_opened_results_are_recorded(kb_client, db):
    page = kb_client.get("/kb/search?q=invoice", headers={"Accept-Language": "en"})
    log = db.scalars(select(SearchLog)).one()
    assert (log.query, log.lang, log.result_count, log.opened_path) == ("invoice", "en", 1, None)
    assert log.visitor_id and log.user_id is None
    assert f"/kb/en/billing/read-your-invoice?from={log.id}" in page.text
    kb_client.get(f"/kb/en/billing/read-your-invoice?from={log.id}")
    db.expire_all()
    assert db.get(SearchLog, log.id).opened_path == "en/billing/read-your-invoice.md"
    view = db.scalars(select(ArticleView)).one()
    assert (view.path, view.lang, view.search_id) == ("en/billing/read-your-invoice.md", "en", log.id)


def test_typing_a_query_records_one_search_not_one_per_keystroke(kb_client, db):
    for partial in ("pass", "passw", "password"):
        kb_client.get(f"/kb/search?q={partial}", headers={"HX-Request": "true"})
    kb_client.get("/kb/search?q=invoice", headers={"HX-Request": "true"})
    assert [log.query for log in db.scalars(select(SearchLog).order_by(SearchLog.id))] == ["password", "invoice"]


def test_a_signed_in_customer_typing_a_query_records_one_search_of_theirs(kb_client, db, alice):
    login(kb_client, alice)
    for partial in ("inv", "invoice", "invoice pay"):
        kb_client.get("/kb/search", query_string={"q": partial}, headers={"HX-Request": "true"})
    log = db.scalars(select(SearchLog)).one()
    assert (log.query, log.user_id, log.visitor_id) == ("invoice pay", alice.id, None)


def test_a_new_article_file_is_found_without_a_restart(kb_client, kb_dir):
    assert "Gift vouchers" not in kb_client.get("/kb/search?q=gift+vouchers").text
    (kb_dir / "en" / "billing" / "gift-vouchers.md").write_text("# Gift vouchers\n\nBuy gift vouchers online.\n")
    assert "Gift vouchers" in kb_client.get("/kb/search?q=gift+vouchers").text


def test_browsing_a_section_lists_its_articles(kb_client):
    page = kb_client.get("/kb/search?section=guides", headers={"Accept-Language": "en"})
    assert "Connect your router" in page.text and "Set up voicemail" in page.text
    assert "How to read your invoice" not in page.text


def test_reindex_command_builds_syncs_and_rebuilds(kb_app, kb_dir):
    runner = kb_app.test_cli_runner()
    first = runner.invoke(args=["kb", "reindex"])
    assert first.exit_code == 0 and "Built the index: 12 articles." in first.output
    (kb_dir / "en" / "billing" / "gift-vouchers.md").write_text("# Gift vouchers\n")
    second = runner.invoke(args=["kb", "reindex"])
    assert "Added 1, updated 0, deleted 0." in second.output
    full = runner.invoke(args=["kb", "reindex", "--full"])
    assert full.exit_code == 0 and "Indexed 13 articles." in full.output
