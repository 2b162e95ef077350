"""The judged search queries stay sound: real articles, known tags, no query in both sets, subsets big enough."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.search_eval import (
    CORPUS,
    DEMO,
    DEMO_PREFIX,
    DEV,
    HELDOUT,
    HELDOUT3,
    MIN_HELDOUT_PER_SUBSET,
    SETS,
    SUBSETS,
    article_file,
    load,
    problems,
)


@pytest.fixture(scope="module")
def sets():
    return {name: load(name) for name in SETS}


def test_every_query_is_well_formed(sets):
    found = [f"{name}: {query.query!r}: {problem}"
             for name, queries in sets.items() for query in queries for problem in problems(query)]
    assert found == []


def test_every_expected_article_exists():
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent ({CORPUS}): the corpus paths cannot be checked here")
    missing = [f"{name}: {path}" for name in SETS for query in load(name) for path in query.expected
               if not article_file(path).is_file()]
    assert missing == []


def test_demo_articles_exist_even_without_the_corpus():
    missing = [path for name in SETS for query in load(name) for path in query.expected
               if path.startswith(DEMO_PREFIX) and not (DEMO / path.removeprefix(DEMO_PREFIX)).is_file()]
    assert missing == []


def test_no_query_is_in_both_sets_nor_twice_in_one(sets):
    def key(query):
        return " ".join(query.query.casefold().split()), query.kb

    dev, heldout, *later = (Counter(key(q) for q in sets[name]) for name in SETS)
    assert sorted(set(dev) & set(heldout)) == []
    # Each later held-out set is new to every set written before it.
    seen = set(dev) | set(heldout)
    for confidence in later:
        assert sorted(seen & set(confidence)) == []
        seen |= set(confidence)
    assert [k for k, n in sum((dev, heldout, *later), Counter()).items() if n > 1] == []


def test_every_subset_has_enough_held_out_queries_and_some_development_ones(sets):
    held, dev = (Counter(tag for q in sets[name] for tag in q.tags) for name in (HELDOUT, DEV))
    assert {s: held[s] for s in SUBSETS if held[s] < MIN_HELDOUT_PER_SUBSET} == {}
    assert {s: dev[s] for s in SUBSETS if dev[s] < 10} == {}
    assert len(sets[DEV]) + len(sets[HELDOUT]) >= 300


def test_the_third_held_out_set_has_enough_answerable_questions_in_every_subset(sets):
    # Written to score the work that follows it on every subset: each needs enough questions of its own, and the
    # answerable subsets count only answerable questions (a no-answer question says nothing about ranking).
    answerable = Counter(tag for q in sets[HELDOUT3] if q.expected for tag in q.tags)
    answerable["no-answer"] = sum(1 for q in sets[HELDOUT3] if not q.expected)
    assert {s: answerable[s] for s in SUBSETS if answerable[s] < MIN_HELDOUT_PER_SUBSET} == {}
