"""KbIndex: finds by stem, without accents and despite typos in both languages; never errors on odd input;
stays in sync with the files; hides what customers must not see."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from portal.articles import AGENT_STATUSES
from portal.search import MAX_QUERY_CHARS, KbIndex, QueryTooLong
from portal.search.snippets import TermMatcher, snippet_html
from tests.kb_fixtures import FIXTURE_KB, paths, write  # noqa: F401


def test_finds_by_english_stem(index):
    assert paths(index.search("invoices", lang="en"))[0] == "en/billing/read-your-invoice.md"
    assert "en/account/reset-your-password.md" in paths(index.search("resetting passwords", lang="en"))


def test_finds_by_spanish_stem_and_without_accents(index):
    assert paths(index.search("facturas", lang="es"))[0] == "es/facturacion/leer-tu-factura.md"
    assert paths(index.search("contrasena", lang="es"))[0] == "es/cuenta/restablecer-contrasena.md"
    assert paths(index.search("facturacion", lang="es"))[0] == "es/facturacion/leer-tu-factura.md"
    assert paths(index.search("olvide", lang="es"))[0] == "es/cuenta/restablecer-contrasena.md"


def test_finds_misspelled_words_and_suggests_the_right_spelling(index):
    english = index.search("pasword", lang="en")
    assert paths(english)[0] == "en/account/reset-your-password.md"
    assert english.suggestion == "password"
    spanish = index.search("contrasenia olvidada", lang="es")
    assert paths(spanish)[0] == "es/cuenta/restablecer-contrasena.md"
    assert spanish.suggestion == "contraseña olvidada"


def test_accents_alone_do_not_trigger_did_you_mean(index):
    assert index.search("contrasena", lang="es").suggestion is None


def test_the_customers_language_comes_first_and_translations_show_once(index):
    spanish = index.search("factura invoice", lang="es")
    assert paths(spanish) == ["es/facturacion/leer-tu-factura.md"]
    english = index.search("factura invoice", lang="en")
    assert paths(english) == ["en/billing/read-your-invoice.md"]
    assert english.hits[0].lang == "en"


def test_a_question_in_one_language_finds_an_article_only_in_the_other(index):
    results = index.search("direct debit", lang="en")
    assert paths(results)[0] == "es/cuenta/domiciliacion-bancaria.md"
    assert results.hits[0].lang == "es"


def test_synonyms_from_the_kb_folder_widen_the_search(index):
    assert "en/account/reset-your-password.md" in paths(index.search("login", lang="en"))


def test_synonyms_are_reloaded_when_agents_edit_the_file(index, kb_dir):
    assert paths(index.search("charges statement", lang="en"))[0] == "en/billing/read-your-invoice.md"
    assert "en/account/reset-your-password.md" not in paths(index.search("credentials", lang="en"))
    with (kb_dir / "_synonyms.txt").open("a", encoding="utf-8") as handle:
        handle.write("credentials, password\n")
    index.sync()
    assert "en/account/reset-your-password.md" in paths(index.search("credentials", lang="en"))


def test_hidden_statuses_never_reach_customers(index):
    assert paths(index.search("refund supervisor")) == []
    assert paths(index.search("loyalty programme")) == []
    assert paths(index.search("pricing table 2019")) == []


def test_agents_see_internal_articles_but_not_drafts_or_archived_ones(index):
    assert paths(index.search("refund supervisor", visible_statuses=AGENT_STATUSES)) == [
        "en/account/refund-policy-for-agents.md"]
    assert paths(index.search("loyalty programme", visible_statuses=AGENT_STATUSES)) == []


@pytest.mark.parametrize("query", [
    '"unbalanced quote', "((password", "password)", "AND", "OR NOT", "*", "?", "-", "+", '"', "()", "password AND",
    "NOT password", "title:password", "pass*", "{[<>]}", "\\", "\x00", "🙂 password", "   ", "", "a" * MAX_QUERY_CHARS,
    "password " * 50, "ñ", "'; DROP TABLE articles; --",
])
def test_malformed_queries_never_error(index, query):
    results = index.search(query, lang="en")
    assert results.total >= 0


def test_stray_syntax_is_searched_as_plain_words(index):
    assert paths(index.search('"forgot password (reset', lang="en"))[0] == "en/account/reset-your-password.md"
    assert paths(index.search("password AND OR NOT *", lang="en"))[0] == "en/account/reset-your-password.md"


def test_balanced_quotes_search_a_phrase(index):
    assert paths(index.search('"open the sign in page"', lang="en")) == ["en/account/reset-your-password.md"]
    unmatched = index.search('"page sign open"', lang="en")  # no article has it: searched as words
    assert unmatched.fuzzy and "en/account/reset-your-password.md" in paths(unmatched)


def test_queries_over_the_limit_are_refused_with_a_clear_error(index):
    with pytest.raises(QueryTooLong, match="500 characters"):
        index.search("x" * 10_000)


def test_snippets_highlight_matches_and_escape_everything_else(index, kb_dir):
    write(kb_dir, "en/account/markup.md", "# Markup\n\nType 1 < 2 & 3 > 2 into the password box.\n")
    index.sync()
    hit = next(hit for hit in index.search("password box", lang="en").hits if hit.path == "en/account/markup.md")
    assert '<b class="match">password</b>' in hit.snippet_html
    assert "1 &lt; 2 &amp; 3 &gt; 2" in hit.snippet_html
    assert re.sub(r'</?b( class="match")?>', "", hit.snippet_html).count("<") == 0


def test_a_new_file_is_found_after_sync(index, kb_dir):
    write(kb_dir, "en/billing/pay-by-card.md", "---\ntitle: Pay by card\n---\nUse a credit card to pay.\n")
    report = index.sync()
    assert report.added == ["en/billing/pay-by-card.md"]
    assert paths(index.search("credit card", lang="en"))[0] == "en/billing/pay-by-card.md"


def test_a_changed_file_is_reindexed(index, kb_dir):
    write(kb_dir, "en/billing/read-your-invoice.md", "---\ntitle: How to read your invoice\n---\nNow about rebates.\n")
    report = index.sync()
    assert report.updated == ["en/billing/read-your-invoice.md"]
    assert paths(index.search("rebates", lang="en")) == ["en/billing/read-your-invoice.md"]
    assert "en/billing/read-your-invoice.md" not in paths(index.search("extras calls outside", lang="en"))


def test_a_deleted_file_leaves_the_index(index, kb_dir):
    (kb_dir / "en/guides/setup/Connect your router.md").unlink()
    assert index.sync().deleted == ["en/guides/setup/Connect your router.md"]
    assert "en/guides/setup/Connect your router.md" not in paths(index.search("fibre cable router", lang="en"))


def test_an_untouched_kb_syncs_to_nothing(index, kb_dir):
    assert not index.sync().changed
    file = kb_dir / "en/billing/read-your-invoice.md"
    file.write_bytes(file.read_bytes())  # same content, new mtime
    assert not index.sync().changed


def test_another_process_sees_a_new_article_on_its_next_search(index, kb_dir, tmp_path):
    other = KbIndex(tmp_path / "index", kb_dir, "en")  # a second worker on the same index folder
    assert paths(other.search("gift vouchers", lang="en")) == []
    write(kb_dir, "en/billing/gift-vouchers.md", "# Gift vouchers\n\nBuy gift vouchers online.\n")
    index.sync()
    assert paths(other.search("gift vouchers", lang="en")) == ["en/billing/gift-vouchers.md"]
    other.close()


def test_deleting_the_index_folder_rebuilds_it(index, kb_dir, tmp_path):
    index.close()
    shutil.rmtree(tmp_path / "index")
    fresh = KbIndex(tmp_path / "index", kb_dir, "en")
    assert fresh.ensure().rebuilt
    assert paths(fresh.search("invoice", lang="en"))[0] == "en/billing/read-your-invoice.md"
    fresh.close()


def test_a_corrupted_index_is_rebuilt(index, kb_dir, tmp_path):
    index.close()
    for toc in (tmp_path / "index").glob("_mesa_kb_*.toc"):
        toc.write_bytes(b"garbage")
    fresh = KbIndex(tmp_path / "index", kb_dir, "en")
    assert fresh.ensure().rebuilt
    assert fresh.document_count() == 12
    fresh.close()


def test_rebuild_reports_progress(index):
    seen = []
    assert index.rebuild(progress=lambda done, total: seen.append((done, total))) == 12
    assert seen[-1] == (12, 12)


def test_sections_recent_and_lookups_list_only_visible_articles(index):
    assert dict(index.sections("en")) == {"account": 1, "billing": 1, "guides": 1, "guides/setup": 1, "misc": 1}
    recent = [hit.path for hit in index.recent("en", limit=10)]
    assert recent.index("en/guides/setup/Connect your router.md") < recent.index("en/billing/read-your-invoice.md")
    assert "en/account/refund-policy-for-agents.md" not in recent
    translated = index.articles(translation_keys=["read-invoice"])
    assert sorted(hit.lang for hit in translated) == ["en", "es"]
    assert index.articles(paths=["en/account/refund-policy-for-agents.md"]) == []


def test_section_and_language_filters(index):
    assert paths(index.search("factura", lang="es", only_lang="en")) == ["en/billing/read-your-invoice.md"]
    assert paths(index.search("router", section="guides")) == ["en/guides/setup/Connect your router.md"]
    assert paths(index.search("router", section="billing")) == []


def test_pagination(index, kb_dir):
    for number in range(12):
        write(kb_dir, f"en/faq/router-question-{number}.md", f"# Router question {number}\n\nRouter lights.\n")
    index.sync()
    first, second = index.search("router", per_page=5), index.search("router", per_page=5, page=3)
    assert first.total == 14 and first.pages == 3  # 12 questions, the router guide, the wi-fi tips
    assert len(first.hits) == 5 and len(second.hits) == 4
    assert not set(paths(first)) & set(paths(second))


def test_only_the_search_package_imports_whoosh():
    portal = Path(__file__).resolve().parents[2] / "portal"
    offenders = [str(file.relative_to(portal)) for file in portal.rglob("*.py")
                 if "search" not in file.relative_to(portal).parts[:1]
                 and re.search(r"^\s*(from|import) whoosh", file.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_a_busy_index_makes_the_web_check_skip_and_retry_rather_than_wait(index, kb_dir, tmp_path):
    other_process = KbIndex(tmp_path / "index", kb_dir, "en")
    other_process.ensure()
    write(kb_dir, "en/billing/gift-vouchers.md", "# Gift vouchers\n\nBuy gift vouchers online.\n")
    held = other_process._require_index().writer()  # another worker is writing right now
    try:
        busy = index.refresh(interval=0)
        assert busy is not None and busy.skipped == ["en/billing/gift-vouchers.md"]
    finally:
        held.cancel()
    assert index.refresh(interval=0).added == ["en/billing/gift-vouchers.md"]
    assert paths(index.search("gift vouchers")) == ["en/billing/gift-vouchers.md"]
    other_process.close()


def test_the_web_check_notices_new_folders_deleted_folders_and_edits_in_place(index, kb_dir):
    assert index.refresh(interval=0) is not None  # the first check syncs
    write(kb_dir, "en/new/deeper/faq.md", "# Parking\n\nWhere to park the van.\n")
    assert index.refresh(interval=0).added == ["en/new/deeper/faq.md"]
    shutil.rmtree(kb_dir / "en" / "guides")
    assert sorted(index.refresh(interval=0).deleted) == ["en/guides/jekyll-leftovers.md",
                                                         "en/guides/setup/Connect your router.md"]
    assert index.refresh(interval=0) is None  # nothing moved: no scan at all
    with (kb_dir / "en/new/deeper/faq.md").open("a", encoding="utf-8") as handle:
        handle.write("Also bicycles.\n")  # edited in place: the folder does not change
    assert index.refresh(interval=0, full_scan_every=0).updated == ["en/new/deeper/faq.md"]


def test_snippets_highlight_each_matched_word_once_whatever_its_case_accents_or_dots():
    matcher = TermMatcher(lambda word: [word.lower()])
    text = "Sign in at login.gov, then open the gov portal. Gov.uk is different."
    assert snippet_html(text, {"login.gov", "gov"}, matcher) == (
        'Sign in at <b class="match">login.gov</b>, then open the <b class="match">gov</b> portal. '
        "Gov.uk is different.")
    assert snippet_html("ÉCOLE and école", {"ecole"}, TermMatcher(lambda word: [word.lower()
                        .replace("é", "e")])) == '<b class="match">ÉCOLE</b> and <b class="match">école</b>'
