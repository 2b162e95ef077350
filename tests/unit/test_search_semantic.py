"""Hybrid search: articles found by meaning and across languages, vectors kept by content hash beside the index,
updated incrementally, rebuilt when deleted, and a search that says when nothing matches well."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal.search import KbIndex
from portal.search import embeddings as embeddings_module
from portal.search.embeddings import MAX_CHUNKS, STORE_FILE, EmbeddingStore, article_chunks

FIXTURE_KB = Path(__file__).resolve().parents[2] / "tests" / "data" / "kb"

COUNTERFEIT = """# How to spot counterfeit boards

Genuine boards carry the official logo and a serial number. Fake clones often use cheaper chips, misprinted labels
and missing certification marks. Buy from authorised distributors to be sure you get an original.
"""
TWO_STEP = """# Turn on 2-step verification

Protect your account with a second step at sign-in: after your password, enter the six-digit code from an
authentication app or a text message. Go to Security settings and choose "Add a second step".
"""


def write(kb_dir: Path, path: str, text: str) -> None:
    file = kb_dir / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    write(target, "en/boards/spot-counterfeit-boards.md", COUNTERFEIT)
    write(target, "en/security/two-step-verification.md", TWO_STEP)
    return target


@pytest.fixture
def index(kb_dir, tmp_path):
    kb_index = KbIndex(tmp_path / "index", kb_dir, "en")
    kb_index.ensure()
    yield kb_index
    kb_index.close()


def first(results) -> str | None:
    return results.hits[0].path if results.hits else None


def test_a_question_in_the_customers_own_words_finds_the_article_without_sharing_its_key_words(index):
    results = index.search("is the board I got a knock-off", lang="en")
    assert first(results) == "en/boards/spot-counterfeit-boards.md"
    assert results.confident
    assert first(index.search("turn on two-factor", lang="en")) == "en/security/two-step-verification.md"


def test_a_spanish_question_finds_an_english_only_article_and_says_its_language(index):
    results = index.search("activar la verificación en dos pasos", lang="es")
    assert first(results) == "en/security/two-step-verification.md"
    assert results.hits[0].lang == "en"


def test_the_customers_language_still_comes_first_where_both_exist(index):
    spanish = index.search("cómo leo mi factura", lang="es")
    english = index.search("how do I read my invoice", lang="en")
    assert first(spanish) == "es/facturacion/leer-tu-factura.md"
    assert first(english) == "en/billing/read-your-invoice.md"
    keys = [hit.translation_key for hit in spanish.hits if hit.translation_key]
    assert len(keys) == len(set(keys)), "an article and its translation are listed once"


def test_an_off_topic_question_is_not_confident(index):
    assert not index.search("what will the weather be like on mars tomorrow", lang="en").confident
    assert not index.search("receta de paella valenciana", lang="es").confident
    assert index.search("reset my password", lang="en").confident


def test_a_question_that_shares_only_common_words_with_an_article_is_not_confident(index):
    # "how do I" matches many articles by words; nothing is about baking: the words that matter are missing.
    results = index.search("how do I bake a chocolate cake", lang="en")
    assert results.hits, "weaker matches are still listed"
    assert not results.confident
    assert not index.search("cómo hago una tarta de chocolate", lang="es").confident


def test_a_question_about_something_no_article_mentions_is_not_confident(index):
    # Near the help center's subject, but its key word ("netflix") is in no article.
    assert not index.search("netflix subscription price", lang="en").confident


def test_an_exact_term_every_word_of_which_an_article_contains_is_confident(index, kb_dir):
    write(kb_dir, "en/privacy/gdpr-requests.md", "# GDPR requests\n\nAsk for a copy of your data under the GDPR.\n")
    index.sync()
    results = index.search("gdpr", lang="en")
    assert first(results) == "en/privacy/gdpr-requests.md"
    assert results.confident


def test_vectors_are_stored_by_content_hash_beside_the_index(index, tmp_path):
    store = EmbeddingStore(tmp_path / "index")
    assert (tmp_path / "index" / STORE_FILE).exists()
    indexed = {hit.path for hit in index.articles(paths=["en/boards/spot-counterfeit-boards.md"])}
    assert indexed == {"en/boards/spot-counterfeit-boards.md"}
    assert len(store.known()) == index.document_count()


def test_only_changed_articles_are_embedded_again(index, kb_dir, monkeypatch):
    embedded: list[str] = []
    original = embeddings_module.embed_articles

    def spy(articles):
        embedded.extend(article.path for article in articles)
        return original(articles)

    monkeypatch.setattr("portal.search.index.embed_articles", spy)
    path = kb_dir / "en/boards/spot-counterfeit-boards.md"
    path.write_text(COUNTERFEIT, encoding="utf-8")  # saved again, same content
    index.sync()
    assert embedded == []
    path.write_text(COUNTERFEIT.replace("Genuine boards", "Original boards"), encoding="utf-8")
    report = index.sync()
    assert report.updated == ["en/boards/spot-counterfeit-boards.md"]
    assert embedded == ["en/boards/spot-counterfeit-boards.md"]


def test_a_new_article_is_found_by_meaning_at_once_in_another_process(index, kb_dir, tmp_path):
    other = KbIndex(tmp_path / "index", kb_dir, "en")  # a second worker on the same folder
    try:
        assert first(other.search("my parcel never arrived", lang="en")) != "en/shipping/lost-parcels.md"
        write(kb_dir, "en/shipping/lost-parcels.md",
              "# Lost deliveries\n\nIf your order has not reached you ten days after dispatch, we resend it.\n")
        index.sync()
        assert first(other.search("my parcel never arrived", lang="en")) == "en/shipping/lost-parcels.md"
    finally:
        other.close()


def test_deleting_the_vectors_rebuilds_them(index, tmp_path):
    index.close()
    for name in (STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm"):
        (tmp_path / "index" / name).unlink(missing_ok=True)
    assert EmbeddingStore(tmp_path / "index").known() == set()
    report = index.ensure()
    assert report.embedded == index.document_count()
    assert len(EmbeddingStore(tmp_path / "index").known()) == index.document_count()
    assert first(index.search("is the board I got a knock-off", lang="en")) == "en/boards/spot-counterfeit-boards.md"


def test_a_full_rebuild_embeds_every_article_again(index, monkeypatch):
    counted: list[int] = []
    original = embeddings_module.embed_articles
    monkeypatch.setattr("portal.search.index.embed_articles",
                        lambda articles: counted.append(len(articles)) or original(articles))
    assert index.rebuild() == index.document_count()
    assert sum(counted) == index.document_count()
    counted.clear()
    index.rebuild(embeddings=False)
    assert sum(counted) == 0


def test_search_still_works_by_words_when_the_model_fails(kb_dir, tmp_path, monkeypatch):
    def broken(_articles):
        raise RuntimeError("model could not load")

    monkeypatch.setattr("portal.search.index.embed_articles", broken)
    kb_index = KbIndex(tmp_path / "words-only", kb_dir, "en")
    try:
        kb_index.ensure()
        assert first(kb_index.search("invoice", lang="en")) == "en/billing/read-your-invoice.md"
    finally:
        kb_index.close()


def test_a_question_the_model_cannot_embed_is_still_answered_by_its_words(index, monkeypatch):
    def broken(_text):
        raise RuntimeError("model failed")

    monkeypatch.setattr("portal.search.index._embed_query", broken)
    results = index.search("invoice", lang="en")
    assert first(results) == "en/billing/read-your-invoice.md"


def test_a_huge_article_is_embedded_in_a_bounded_number_of_pieces(kb_dir, tmp_path):
    write(kb_dir, "en/huge.md", "# Huge\n\n" + "\n\n".join(f"Paragraph {n} " + "word " * 150 for n in range(500)))
    kb_index = KbIndex(tmp_path / "huge", kb_dir, "en")
    try:
        kb_index.ensure()
        store = EmbeddingStore(tmp_path / "huge")
        stored = store.get(store.known())
        assert max(len(rows) for rows in stored.values()) <= MAX_CHUNKS
    finally:
        kb_index.close()


def test_chunks_carry_the_title_and_never_exceed_the_size_limit(kb_dir):
    from portal.articles import load_article

    article = load_article(kb_dir, "en/security/two-step-verification.md", "en")
    chunks = article_chunks(article)
    assert chunks[0] == "Turn on 2-step verification"
    assert all(chunk.startswith("Turn on 2-step verification") for chunk in chunks)
    assert all(len(chunk) <= embeddings_module.MAX_CHUNK_CHARS for chunk in chunks)


LONG_ROUTER_GUIDE = """# Router guide

{intro}

## Lights

{lights}

## Parental controls

To stop children browsing at night, open the router's web page, choose **Family** and set a bedtime schedule for
each device: the router blocks the internet for that device between the hours you pick.
"""


def test_a_long_article_is_cut_at_its_blocks_so_a_detail_far_down_is_found_by_meaning(kb_dir, index):
    from portal.articles import load_article

    filler = " ".join(["The router has a power socket, a reset button and four network ports."] * 12)
    write(kb_dir, "en/devices/router-guide.md",
          LONG_ROUTER_GUIDE.format(intro=filler, lights=filler.replace("ports", "lights")))
    chunks = article_chunks(load_article(kb_dir, "en/devices/router-guide.md", "en"))
    assert len(chunks) >= 4, "title, summary and several body pieces"
    assert any("bedtime schedule" in chunk and "power socket" not in chunk for chunk in chunks), \
        "the last section is a piece of its own, not buried in the first 2,000 characters"
    report = index.sync()
    results = index.search("stop the children going online at night", lang="en")
    assert first(results) == "en/devices/router-guide.md", (report, [(h.path, h.score) for h in results.hits])


def test_vectors_of_an_older_model_or_cut_are_embedded_again_on_start(index, kb_dir, tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "index" / STORE_FILE) as connection:
        connection.execute("UPDATE vectors SET model = 'use-multilingual-v3'")  # what an older version stored
    index.close()
    again = KbIndex(tmp_path / "index", kb_dir, "en")
    try:
        report = again.ensure()
        assert report.embedded == again.document_count()
        results = again.search("is the board I got a knock-off", lang="en")
        assert first(results) == "en/boards/spot-counterfeit-boards.md"
    finally:
        again.close()
