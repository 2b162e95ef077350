"""Learning from use: what earlier searchers opened, voted helpful or said answered their question raises that
article for the same query, within bounds no single person can move."""

from __future__ import annotations

import itertools
import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.clock import utcnow
from portal.search import KbIndex
from portal.services import deflection, kb, kb_search, search_learning
from portal.services.search_learning import learned_boosts

NOW = datetime(2026, 6, 1, 12, 0)
RESET = "en/account/reset-your-password.md"
INVOICE = "en/billing/read-your-invoice.md"
FIXTURE_KB = Path(__file__).resolve().parents[2] / "tests" / "data" / "kb"
_visitors = itertools.count(1)


def one_click() -> float:
    return 1 - math.exp(-search_learning.MIN_PEOPLE * search_learning.CLICK_WEIGHT / search_learning.SCALE)


@pytest.fixture(autouse=True)
def fresh_cache():
    search_learning.clear_cache()
    yield
    search_learning.clear_cache()


def searched(db, query: str, *, opened: str | None, at: datetime = NOW - timedelta(days=1), user=None,
             visitor: str | None = "new", helpful: bool | None = None, deflected: bool = False) -> str | None:
    """One person searches `query`, opens `opened` from the results, then maybe votes or says it answered them.
    Returns the visitor id used (pass it again for the same visitor)."""
    visitor = None if user is not None else (f"visitor-{next(_visitors)}" if visitor == "new" else visitor)
    search_id = kb.log_search(db, query=query, lang="en", result_count=3, actor=user, visitor_id=visitor, now=at)
    if opened is not None:
        article = SimpleNamespace(path=opened, lang="en")
        kb.record_view(db, article=article, actor=user, visitor_id=visitor, search_id=search_id,
                       now=at + timedelta(seconds=20))
        if helpful is not None:
            kb.vote(db, article=article, helpful=helpful, comment=None, actor=user, visitor_id=visitor,
                    now=at + timedelta(minutes=1))
        if deflected:
            deflection.record(db, query=query, article_path=opened, actor=user, now=at + timedelta(minutes=2))
    db.flush()
    return visitor


def test_no_searches_no_boosts(db):
    assert learned_boosts(db, "reset password", now=NOW) == {}


def test_two_people_are_not_enough(db):
    for _ in range(2):
        searched(db, "reset password", opened=RESET, helpful=True)
    assert learned_boosts(db, "reset password", now=NOW) == {}


def test_enough_people_boost_that_article_for_that_query_and_its_spellings_only(db):
    for _ in range(3):
        searched(db, "reset password", opened=RESET)
    searched(db, "reset password", opened=INVOICE)  # one person only
    searched(db, "reset password", opened=None)  # searched, opened nothing

    boosts = learned_boosts(db, "reset password", now=NOW)

    assert boosts == {RESET: pytest.approx(one_click())}
    assert 0 < boosts[RESET] < 1
    assert learned_boosts(db, "  Réset   PASSWORD ", now=NOW) == boosts
    assert learned_boosts(db, "reset my password", now=NOW) == {}
    assert learned_boosts(db, "invoice", now=NOW) == {}


def test_one_visitor_counts_once_however_often_they_search_open_or_vote(db):
    for _ in range(3):
        searched(db, "reset password", opened=RESET)

    for _ in range(2):
        searched(db, "password reset", opened=RESET)
    noisy = searched(db, "password reset", opened=RESET)
    for n in range(1, 100):
        searched(db, "password reset", opened=RESET, visitor=noisy, at=NOW - timedelta(days=1) + timedelta(minutes=n))

    assert learned_boosts(db, "password reset", now=NOW) == learned_boosts(db, "reset password", now=NOW)

    for _ in range(2):
        searched(db, "forgot password", opened=RESET)
    fan = searched(db, "forgot password", opened=RESET, helpful=True)
    for n in range(1, 50):
        searched(db, "forgot password", opened=RESET, visitor=fan, helpful=True,
                 at=NOW - timedelta(days=1) + timedelta(minutes=n))
    for _ in range(2):
        searched(db, "lost password", opened=RESET)
    searched(db, "lost password", opened=RESET, helpful=True)

    assert learned_boosts(db, "forgot password", now=NOW) == learned_boosts(db, "lost password", now=NOW)


def test_helpful_votes_and_deflections_weigh_more_than_clicks(db, make):
    for _ in range(3):
        searched(db, "clicks", opened=RESET)
    for _ in range(2):
        searched(db, "voted", opened=RESET)
    searched(db, "voted", opened=RESET, helpful=True)
    for _ in range(2):
        searched(db, "deflected", opened=RESET)
    searched(db, "deflected", opened=RESET, user=make.user(), deflected=True)

    clicks = learned_boosts(db, "clicks", now=NOW)[RESET]
    voted = learned_boosts(db, "voted", now=NOW)[RESET]
    assert voted > clicks
    assert learned_boosts(db, "deflected", now=NOW)[RESET] == pytest.approx(voted)


def test_a_helpful_vote_given_before_the_search_is_only_a_click(db):
    visitor = "visitor-early-fan"
    kb.vote(db, article=SimpleNamespace(path=RESET, lang="en"), helpful=True, comment=None, actor=None,
            visitor_id=visitor, now=NOW - timedelta(days=30))
    for _ in range(2):
        searched(db, "reset password", opened=RESET)
    searched(db, "reset password", opened=RESET, visitor=visitor)

    assert learned_boosts(db, "reset password", now=NOW) == {RESET: pytest.approx(one_click())}


def test_unhelpful_votes_lower_the_boost_and_a_majority_of_them_removes_it(db):
    for _ in range(4):
        searched(db, "clicks", opened=RESET)
    for _ in range(3):
        searched(db, "some unhappy", opened=RESET)
    searched(db, "some unhappy", opened=RESET, helpful=False)
    for _ in range(2):
        searched(db, "mostly unhappy", opened=RESET)
    for _ in range(3):
        searched(db, "mostly unhappy", opened=RESET, helpful=False)
    for _ in range(3):
        searched(db, "mostly unhappy", opened=INVOICE)

    assert 0 < learned_boosts(db, "some unhappy", now=NOW)[RESET] < learned_boosts(db, "clicks", now=NOW)[RESET]
    assert learned_boosts(db, "mostly unhappy", now=NOW) == {INVOICE: pytest.approx(one_click())}


def test_only_the_recent_window_counts(db):
    old = NOW - search_learning.WINDOW - timedelta(days=1)
    for _ in range(5):
        searched(db, "reset password", opened=RESET, helpful=True, at=old)
    for _ in range(2):
        searched(db, "reset password", opened=RESET)

    assert learned_boosts(db, "reset password", now=NOW) == {}
    assert RESET in learned_boosts(db, "reset password", now=old + timedelta(days=2))


def test_searches_without_anyone_to_count_count_for_nothing(db):
    for _ in range(10):
        searched(db, "reset password", opened=RESET, visitor=None)
    for _ in range(10):
        searched(db, "reset password", opened=RESET, visitor="")
    assert learned_boosts(db, "reset password", now=NOW) == {}


def test_logged_in_people_count_once_each_too(db, make):
    users = [make.user() for _ in range(3)]
    for user in users:
        for n in range(5):
            searched(db, "reset password", opened=RESET, user=user, at=NOW - timedelta(days=n + 1))
    assert learned_boosts(db, "reset password", now=NOW) == {RESET: pytest.approx(one_click())}


def test_boosts_stay_below_one_however_many_people_agree(db):
    for _ in range(30):
        searched(db, "reset password", opened=RESET, helpful=True)
    boost = learned_boosts(db, "reset password", now=NOW)[RESET]
    assert 0.99 < boost < 1.0


def test_live_searches_reuse_the_boosts_for_a_minute(db, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(search_learning, "_clock", lambda: clock[0])
    now = utcnow() - timedelta(hours=1)
    for _ in range(3):
        searched(db, "reset password", opened=RESET, at=now)
    first = learned_boosts(db, "reset password")
    for _ in range(3):
        searched(db, "reset password", opened=RESET, helpful=True, at=now)

    clock[0] += search_learning.CACHE_SECONDS - 1
    assert learned_boosts(db, "Reset Password") == first == {RESET: pytest.approx(one_click())}
    clock[0] += 2
    assert learned_boosts(db, "reset password")[RESET] > first[RESET]


def test_search_articles_passes_the_learned_boosts_to_the_index(db, tmp_path, monkeypatch):
    kb_dir = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb_dir)
    index = KbIndex(tmp_path / "index", kb_dir, "en")
    index.ensure()
    calls = []
    real_search = KbIndex.search

    def spy(self, query, **kwargs):
        calls.append((query, kwargs.get("boosts")))
        return real_search(self, query, **kwargs)

    monkeypatch.setattr(KbIndex, "search", spy)
    for _ in range(3):
        searched(db, "invoice", opened=INVOICE, helpful=True, at=utcnow() - timedelta(days=2))
    try:
        boosted = kb_search.search_articles(db, index, "Invoice", lang="en", actor=None)
        plain = kb_search.search_articles(db, index, "refund", lang="en", actor=None)
    finally:
        index.close()

    expected = learned_boosts(db, "invoice", now=utcnow())
    assert set(expected) == {INVOICE}
    assert calls[0][0] == "Invoice" and calls[0][1] == pytest.approx(expected)
    assert calls[1] == ("refund", {})
    assert boosted.hits[0].path == INVOICE
    assert INVOICE not in [hit.path for hit in plain.hits]
