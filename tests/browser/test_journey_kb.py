"""Journey 1, served by gunicorn: a visitor searches the help center as they type, opens an article and says it
did not help, with a comment. Then the same without JavaScript (plain GET search, plain form posts)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import ArticleVote, SearchLog


def _votes(db):
    db.expire_all()
    return db.scalars(select(ArticleVote)).all()


def test_visitor_searches_as_they_type_and_says_an_article_did_not_help(gunicorn_server, open_context, step, db):
    page = open_context().new_page()
    page.goto(gunicorn_server + "/kb")
    page.locator("#kb-q").press_sequentially("forgot passw", delay=30)
    hit = page.locator("#kb-results .kb-hit-title", has_text="Reset your password")
    # no submit: the results of the whole query came while typing, and the address can be shared
    expect(page).to_have_url(re.compile(r"/kb/search\?q=forgot(\+|%20)passw$"))
    expect(hit).to_be_visible()
    step("results-while-typing", page)

    hit.click()
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    step("article", page)

    feedback = page.locator("#kb-feedback")
    feedback.get_by_role("button", name="No", exact=True).click()
    expect(feedback.get_by_label("What was missing? (optional)")).to_be_visible()
    feedback.get_by_label("What was missing? (optional)").fill("I no longer have access to my e-mail address.")
    feedback.get_by_role("button", name="Send").click()
    expect(page.locator("#kb-feedback").get_by_text("Thank you for your feedback.")).to_be_visible()
    step("voted-no", page)

    [vote] = _votes(db)
    assert (vote.path, vote.helpful, vote.comment) == (
        "en/account/reset-your-password.md", False, "I no longer have access to my e-mail address.")
    searches = [(s.query, s.opened_path) for s in db.scalars(select(SearchLog))]
    assert searches == [("forgot passw", "en/account/reset-your-password.md")]  # one search, which led here


def test_visitor_searches_and_votes_without_javascript(gunicorn_server, open_context, step, db):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(gunicorn_server + "/kb")
    page.fill("#kb-q", "forgot password")
    page.locator(".kb-search-form").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/kb/search\?.*q=forgot"))
    step("results-page", page)

    page.locator(".kb-hit-title", has_text="Reset your password").click()
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    page.locator("#kb-feedback").get_by_role("button", name="No", exact=True).click()
    expect(page).to_have_url(re.compile(r"#kb-feedback$"))  # back at the feedback box, now asking what was missing
    expect(page.get_by_label("What was missing? (optional)")).to_be_in_viewport()
    page.get_by_label("What was missing? (optional)").fill("Screenshots of each step, please.")
    page.locator("#kb-feedback").get_by_role("button", name="Send").click()
    expect(page.get_by_text("Thank you for your feedback.").first).to_be_visible()
    step("voted-no", page)

    [vote] = _votes(db)
    assert (vote.helpful, vote.comment) == (False, "Screenshots of each step, please.")
