"""Reading KB articles: any folder of real-world Markdown help articles must import, whatever it contains."""

from __future__ import annotations

import os
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest

from portal.articles import (
    article_url,
    is_safe_relative_path,
    load_article,
    parse_article,
    path_from_url,
    scan_articles,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURE_KB = REPO / "tests" / "data" / "kb"
CORPUS = (REPO / ".." / "shared" / "kb-corpus").resolve()


@pytest.fixture(scope="module")
def fixture_articles():
    return {article.path: article for article in scan_articles(FIXTURE_KB, "en")}


def test_only_markdown_articles_are_imported(fixture_articles):
    assert "notes.txt" not in fixture_articles
    assert "_synonyms.txt" not in fixture_articles
    assert "README.md" not in fixture_articles  # a notice beside the language folders
    assert len(fixture_articles) == 12


def test_front_matter_gives_title_summary_tags_and_translation_key(fixture_articles):
    invoice = fixture_articles["en/billing/read-your-invoice.md"]
    assert invoice.title == "How to read your invoice"
    assert invoice.summary == "What each line of your monthly invoice means."
    assert invoice.tags == ["billing", "invoice"]
    assert invoice.translation_key == "read-invoice"
    assert invoice.related == ["reset-password"]
    assert invoice.updated == date(2026, 3, 1)
    assert (invoice.lang, invoice.section, invoice.slug) == ("en", "billing", "read-your-invoice")


def test_language_comes_from_the_folder_and_section_from_the_folders_below_it(fixture_articles):
    router = fixture_articles["en/guides/setup/Connect your router.md"]
    assert (router.lang, router.section, router.slug) == ("en", "guides/setup", "Connect your router")
    assert fixture_articles["es/cuenta/restablecer-contrasena.md"].lang == "es"


def test_without_front_matter_the_title_is_the_first_heading_and_it_is_not_repeated(fixture_articles):
    article = fixture_articles["es/guias/sin-front-matter.md"]
    assert article.title == "Configurar el buzón de voz"
    assert article.lang == "es"
    assert "Configurar el buzón" not in article.body
    assert article.status == "published"


def test_without_heading_the_title_is_the_file_name_and_the_language_the_default(fixture_articles):
    article = fixture_articles["misc/wifi-troubleshooting-tips.md"]
    assert article.title == "Wifi troubleshooting tips"
    assert (article.lang, article.section) == ("en", "misc")
    assert article.updated is not None  # the file's date when the front matter has none


def test_statuses_are_read_and_unknown_statuses_hide_the_article(fixture_articles, tmp_path):
    assert fixture_articles["en/account/refund-policy-for-agents.md"].status == "internal"
    assert fixture_articles["en/account/upcoming-loyalty-programme.md"].status == "draft"
    assert fixture_articles["en/billing/old-pricing.md"].status == "archived"
    odd = parse_article("en/x.md", b"---\nstatus: maybe\n---\nText", default_lang="en")
    jekyll_draft = parse_article("en/y.md", b"---\ndraft: true\n---\nText", default_lang="en")
    assert (odd.status, jekyll_draft.status) == ("draft", "draft")


def test_template_tags_and_attribute_lists_are_stripped_but_code_is_kept(fixture_articles):
    article = fixture_articles["en/guides/jekyll-leftovers.md"]
    for leftover in ("{%", "{{ site", "{:", "{#greeting}", "endcapture"):
        assert leftover not in article.body
    assert "Voicemail keeps messages for 30 days." in article.body  # text inside {% capture %}
    assert "* Dial 123 from your phone" in article.body  # the include's list from the front matter
    assert "`{{ voicemail_number }}`" in article.body  # inline code is an example: untouched
    assert "Greeting" in article.headings
    assert "Accordion text" in article.plain_body


def test_translation_key_defaults_to_the_path_without_the_language_folder():
    english = parse_article("help/en/account/close.md", b"# Close", default_lang="en")
    spanish = parse_article("help/es/account/close.md", b"# Cerrar", default_lang="en")
    assert english.translation_key == spanish.translation_key == "help/account/close"
    assert (english.lang, spanish.lang, spanish.section) == ("en", "es", "account")


def test_broken_front_matter_and_bad_bytes_never_crash():
    article = parse_article("en/broken.md", b"---\ntitle: [unclosed\n---\n# Real title\n\nBody \xff text",
                            default_lang="en")
    assert article.title == "Real title"
    assert "Body" in article.body
    nothing = parse_article("en/empty.md", b"", default_lang="en")
    assert nothing.title == "Empty"


def test_front_matter_language_wins_over_the_folder():
    article = parse_article("en/x.md", b"---\nlang: es-MX\ntitle: Hola\n---\nHola", default_lang="en")
    assert article.lang == "es"


@pytest.mark.parametrize("path", [
    "en/billing/read-your-invoice.md", "en/guides/setup/Connect your router.md",
    "arduino-help-center/en/Store Support/Payments and Invoices/Find-your-receipt-or-invoice.md",
    "en/a&b/Q? #1 100%.md", "en/a%41b.md", "en/long.markdown", "en/Upper.MD", "en/twice.md.md",
    "en/x.markdown.md",
])
def test_article_urls_round_trip_to_the_file(path):
    url = article_url(path)
    assert url.startswith("/kb/")
    assert " " not in url and "#" not in url and "?" not in url
    assert path_from_url(unquote(url.removeprefix("/kb/"))) == path  # the router decodes the URL once


def test_standard_layout_urls_read_naturally():
    assert article_url("en/billing/read-your-invoice.md") == "/kb/en/billing/read-your-invoice"


@pytest.mark.parametrize("path", ["../secrets.md", "/etc/passwd.md", "en/../../x.md", "en/.hidden/x.md",
                                  "en/x.txt", "", "en\\x.md", "en/\x00.md"])
def test_unsafe_paths_are_refused(path):
    assert not is_safe_relative_path(path)


def test_missing_file_loads_as_none(tmp_path):
    assert load_article(tmp_path, "en/none.md", "en") is None


def test_file_mtime_is_the_fallback_date(tmp_path):
    file = tmp_path / "en" / "a.md"
    file.parent.mkdir()
    file.write_text("# A")
    os.utime(file, (1_700_000_000, 1_700_000_000))
    assert load_article(tmp_path, "en/a.md", "en").updated == date(2023, 11, 14)


@pytest.fixture(scope="module")
def corpus_articles():
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it lives beside the repository)")
    return scan_articles(CORPUS, "en")


def test_the_shared_corpus_imports_completely(corpus_articles):
    assert len(corpus_articles) == 525
    assert Counter(article.lang for article in corpus_articles) == {"en": 463, "es": 62}
    assert all(article.title.strip() for article in corpus_articles)
    assert not any(Path(article.path).name in {"SOURCE.md", "LICENSE.md", "README.md"} for article in corpus_articles)
    assert sum(article.status == "draft" for article in corpus_articles) == 4


def test_the_shared_corpus_titles_and_languages_are_right(corpus_articles):
    by_path = {article.path: article for article in corpus_articles}
    account = "arduino-help-center/en/About Arduino/My Arduino Account/"
    arduino = by_path[account + "Reset-the-password-for-your-Arduino-account.md"]
    assert (arduino.title, arduino.lang, arduino.section) == (
        "Reset the password for your Arduino account", "en", "About Arduino/My Arduino Account")
    spanish = by_path["login-gov-help/es/manage-your-account/change-your-password.md"]
    assert (spanish.title, spanish.lang) == ("¿Cómo cambio mi contraseña?", "es")
    english = by_path["login-gov-help/en/manage-your-account/change-your-password.md"]
    assert english.translation_key == spanish.translation_key


def test_the_shared_corpus_leaves_no_template_syntax_in_the_searchable_text(corpus_articles):
    leftovers = [a.path for a in corpus_articles if "{%" in a.plain_body or "{:" in a.plain_body]
    assert leftovers == []
