"""Reading KB articles: any folder of real-world Markdown help articles must import, whatever it contains."""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest

from portal import markdown_text
from portal.articles import (
    article_url,
    is_safe_relative_path,
    load_article,
    parse_article,
    path_from_url,
    scan_articles,
    title_from_file_name,
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


def test_without_front_matter_the_title_is_the_first_top_level_heading_and_it_is_not_repeated(fixture_articles):
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


# Files shaped like the help center whose articles were titled "Settings": no front matter, `##` headings only.
@pytest.mark.parametrize(("path", "markdown", "title", "source"), [
    ("en/Change-your-network-name.md", "Intro.\n\n## Settings\n\nOpen them.\n\n## Example\n\nx",
     "Change your network name", "file name"),
    ("en/forgot_your_password.md", "Just text, no heading at all.", "Forgot your password", "file name"),
    ("en/x.md", "---\ntitle: From the front matter\n---\n# A heading\n\n## Settings", "From the front matter",
     "front matter"),
    ("en/x.md", "## Settings\n\nText.\n\n# The real title\n\n### Steps", "The real title", "heading"),
    ("en/x.md", "Setext title\n============\n\nText.\n\nPart\n----\n", "Setext title", "heading"),
    ("en/x.md", "Part\n----\n\nText.", "X", "file name"),  # a setext level-2 heading is not a title
    ("en/x.md", "### Only a third-level heading\n\nText.", "X", "file name"),
    ("en/x.md", "```\n# not a heading, a shell comment\n```\n## Settings", "X", "file name"),
    ("en/guides/set up your router.md", "## Before you start", "Set up your router", "file name"),
    ("en/What%27s%20new%20in%20Mesa.md", "## 2.0", "What's new in Mesa", "file name"),
    ("en/iPhone-and_iPad  setup.md", "## Steps", "iPhone and iPad setup", "file name"),
    ("en/ASEC-21-001.md", "## Summary", "ASEC 21 001", "file name"),
    ("en/--.md", "## Summary", "--", "file name"),
    ("en/bad%ff%00name.md", "", "Bad name", "file name"),
])
def test_the_title_is_never_a_lower_heading(path, markdown, title, source):
    article = parse_article(path, markdown.encode(), default_lang="en")
    assert (article.title, article.title_source) == (title, source)
    assert article.title.strip()


def test_every_heading_level_is_kept_as_a_heading():
    article = parse_article("en/x.md", b"## Settings\n\n### Reset the modem\n\n#### Factory default\n\n"
                            b"<h5>Fine print</h5>", default_lang="en")
    assert article.headings == ["Settings", "Reset the modem", "Factory default", "Fine print"]


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


def _file_name_title(article) -> str:
    return title_from_file_name(Path(article.path).name)


def _titles_that_are_lower_headings(articles) -> list[str]:
    """Articles titled like one of their own `##`-or-lower headings, when that is not also the file name's title."""
    wrong = []
    for article in articles:
        lower = {text for level, text in markdown_text.leveled_headings(article.body) if level > 1}
        if article.title in lower and article.title != _file_name_title(article):
            wrong.append(f"{article.path}: {article.title}")
    return wrong


def test_the_shared_corpus_titles_are_never_a_lower_heading(corpus_articles):
    assert _titles_that_are_lower_headings(corpus_articles) == []
    sources = Counter(article.title_source for article in corpus_articles)
    assert sources == {"front matter": 525}  # every article of the corpus names itself


def test_the_shared_corpus_without_front_matter_takes_its_titles_from_the_file_names(corpus_articles):
    """The defect's shape: the same help centers exported without front matter, most articles starting at `##`."""
    bare = []
    for article in corpus_articles:
        text = (CORPUS / article.path).read_text(encoding="utf-8")
        front_matter = re.match(r"---\n.*?\n---\n", text, re.S)
        bare.append(parse_article(article.path, text[front_matter.end() if front_matter else 0:].encode(),
                                  default_lang="en"))
    assert _titles_that_are_lower_headings(bare) == []
    sources = Counter(article.title_source for article in bare)
    assert sources == {"file name": 523, "heading": 2}
    by_path = {article.path: article for article in bare}
    account = "arduino-help-center/en/About Arduino/My Arduino Account/"
    reset = by_path[account + "Reset-the-password-for-your-Arduino-account.md"]
    assert reset.title == "Reset the password for your Arduino account"


@pytest.mark.parametrize(("front_matter", "promoted"), [
    ("promoted: true", True), ('promoted: "yes"', True), ("promoted: false", False), ("title: Plain", False),
    ("promoted: maybe", False),
])
def test_front_matter_promoted_puts_an_article_on_the_home_page(front_matter, promoted):
    article = parse_article("en/billing/x.md", f"---\n{front_matter}\n---\n\nText.".encode(), default_lang="en")
    assert article.promoted is promoted
