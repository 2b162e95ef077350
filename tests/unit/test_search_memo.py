"""What the search remembers between searches (results, query vectors, snippets) never changes what a customer is
shown: the same results as a search from scratch, the new ones as soon as an article or the synonyms change (in
any process), and never what another role, language or filter was shown."""

from __future__ import annotations

import numpy as np
import pytest

from portal.articles import AGENT_STATUSES, PUBLIC_STATUSES
from portal.search import KbIndex
from portal.search.embeddings import Embedder
from portal.search.memo import Lru
from tests.kb_fixtures import FIXTURE_KB, paths, write  # noqa: F401

INTERNAL = "en/account/refund-policy-for-agents.md"
DRAFT = "en/account/upcoming-loyalty-programme.md"




def test_a_repeated_search_shows_exactly_what_a_search_from_scratch_shows(index, tmp_path, kb_dir):
    queries = [("invoices", "en"), ("pasword", "en"), ("contrasenia olvidada", "es"), ("factura invoice", "es"),
               ('"open the sign in page"', "en"), ("how do I get my money back", "en")]
    first = [index.search(query, lang=lang) for query, lang in queries]
    again = [index.search(query, lang=lang) for query, lang in queries]
    fresh = KbIndex(tmp_path / "index", kb_dir, "en")  # nothing remembered yet
    try:
        fresh.ensure()
        assert again == first == [fresh.search(query, lang=lang) for query, lang in queries]
    finally:
        fresh.close()


def test_a_changed_article_is_shown_as_it_is_now(index, kb_dir):
    before = index.search("invoice", lang="en")
    assert "printable copy" not in before.hits[0].snippet_html
    write(kb_dir, "en/billing/read-your-invoice.md",
          "---\ntitle: How to read your invoice\nstatus: published\n---\n\nDownload a printable copy of the invoice.\n")
    index.sync()
    assert "printable copy" in index.search("invoice", lang="en").hits[0].snippet_html


def test_an_article_indexed_by_another_process_is_found_by_the_next_search(index, kb_dir, tmp_path):
    other = KbIndex(tmp_path / "index", kb_dir, "en")  # a second worker, which searched first
    try:
        assert paths(other.search("warranty claim", lang="en")) == []
        write(kb_dir, "en/billing/warranty.md", "# Warranty claims\n\nSend a warranty claim within two years.\n")
        index.sync()
        assert paths(other.search("warranty claim", lang="en"))[0] == "en/billing/warranty.md"
    finally:
        other.close()


def test_new_synonyms_apply_to_a_search_made_before(index, kb_dir):
    assert "en/account/reset-your-password.md" not in paths(index.search("credentials", lang="en"))
    with (kb_dir / "_synonyms.txt").open("a", encoding="utf-8") as handle:
        handle.write("credentials, password\n")
    index.sync()
    assert "en/account/reset-your-password.md" in paths(index.search("credentials", lang="en"))


def test_each_search_highlights_its_own_words_in_the_same_article(index):
    invoice = index.search("invoice", lang="en").hits[0]
    payment = index.search("collect amount", lang="en").hits[0]
    assert invoice.path == payment.path == "en/billing/read-your-invoice.md"
    assert '<b class="match">invoice</b>' in invoice.snippet_html and "match\">collect" not in invoice.snippet_html
    assert '<b class="match">collect</b>' in payment.snippet_html


def test_each_language_gets_its_own_results(index):
    spanish = index.search("factura invoice", lang="es")
    english = index.search("factura invoice", lang="en")
    assert paths(spanish) == ["es/facturacion/leer-tu-factura.md"]
    assert paths(english) == ["en/billing/read-your-invoice.md"]
    assert paths(index.search("factura invoice", lang="es")) == paths(spanish)


def test_what_an_agent_found_never_reaches_a_customer(index):
    assert paths(index.search("refund supervisor", lang="en", visible_statuses=AGENT_STATUSES)) == [INTERNAL]
    assert paths(index.search("refund supervisor", lang="en", visible_statuses=PUBLIC_STATUSES)) == []
    assert paths(index.search("refund supervisor", lang="en")) == []


def test_drafts_are_never_shown_however_often_they_are_searched(index):
    for statuses in (AGENT_STATUSES, PUBLIC_STATUSES, AGENT_STATUSES):
        assert DRAFT not in paths(index.search("loyalty programme", lang="en", visible_statuses=statuses))


def test_filters_and_pages_are_not_mixed(index):
    everything = paths(index.search("factura", lang="es"))
    only_english = paths(index.search("factura", lang="es", only_lang="en"))
    assert only_english == ["en/billing/read-your-invoice.md"] != everything
    assert index.search("password", lang="en", page=2, per_page=1).page == 2
    assert paths(index.search("password", lang="en", page=2, per_page=1)) != paths(
        index.search("password", lang="en", page=1, per_page=1))


def test_what_earlier_searchers_found_useful_changes_the_ranking_at_once(index):
    plain = index.search("password", lang="en")
    boosted = index.search("password", lang="en", boosts={plain.hits[-1].path: 1.0})
    assert boosted.hits[0].score != plain.hits[0].score or boosted.hits[-1].path != plain.hits[-1].path
    assert index.search("password", lang="en") == plain


def test_changing_the_list_a_search_returned_changes_no_later_search(index):
    results = index.search("invoice", lang="en")
    shown = paths(results)
    results.hits.clear()
    assert paths(index.search("invoice", lang="en")) == shown


def test_a_search_the_model_failed_is_searched_again_once_it_works(index, monkeypatch):
    expected = index.search("my bill is confusing", lang="en")

    def broken(_text):
        raise RuntimeError("model failed")

    index.close()  # nothing remembered: the next search meets the broken model
    with monkeypatch.context() as patched:
        patched.setattr("portal.search.index._embed_query", broken)
        words_only = index.search("my bill is confusing", lang="en")
    assert words_only != expected
    assert index.search("my bill is confusing", lang="en") == expected


def test_a_query_vector_is_the_models_and_no_search_can_change_it():
    model = Embedder()
    vector = model.query_vector("reset my password")
    assert np.array_equal(vector, model.encode(["reset my password"])[0])
    assert model.query_vector("reset my password") is vector
    with pytest.raises(ValueError, match="read-only"):
        vector[0] = 1.0


def test_a_memo_forgets_the_least_recently_used_entry_first():
    memo: Lru[str] = Lru(2)
    memo.put("a", "1")
    memo.put("b", "2")
    assert memo.get("a") == "1"
    memo.put("c", "3")
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == ("1", None, "3")
