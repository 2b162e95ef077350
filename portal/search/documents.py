"""Articles as index documents, and stored index documents back as `Hit` values. No Whoosh here."""

from __future__ import annotations

from pathlib import PurePosixPath

from portal.articles import Article, article_url, name_words
from portal.search.results import Hit
from portal.search.schema import field_name, length_column
from portal.search.text_query import words_of


def section_ancestors(section: str) -> str:
    """"guides/setup/linux" → "guides,guides/setup,guides/setup/linux": a section filter finds subsections."""
    parts = PurePosixPath(section).parts if section else ()
    return ",".join("/".join(parts[: depth + 1]) for depth in range(len(parts)))


def index_document(article: Article, *, stamp: str, lang: str) -> dict[str, object]:
    """The fields Whoosh indexes for one article; `lang` picks the analysed fields (the article's language)."""
    summary = article.summary if article.explicit_summary else ""
    # The folders say what an article is about too ("returns-and-refunds/..."): their words join the headings
    # (in the same field: a field of their own doubled the cost of a sync at 10,000 articles for no gain).
    folders = " ".join(name_words(part) for part in PurePosixPath(article.section).parts) if article.section else ""
    parts = {
        "title": article.title,
        "heads": "\n".join([*article.headings, " ".join(article.tags), folders, summary]).strip(),
        "body": article.plain_body,
    }
    document: dict[str, object] = {
        "path": article.path,
        "lang": article.lang,
        "status": article.status,
        "section": article.section,
        "sections": section_ancestors(article.section),
        "translation_key": article.translation_key,
        "updated": article.updated.isoformat() if article.updated else "",
        "stamp": stamp,
        "content_hash": article.content_hash,
        "promoted": "yes" if article.promoted else "no",
        "title": article.title,
        "summary": article.summary,
        # each word once: the spelling corrector only needs to know which words exist, and how often
        "vocab": " ".join(dict.fromkeys(words_of(parts["title"] + "\n" + parts["heads"]))),
    }
    for part, text in parts.items():
        document[length_column(part)] = len(words_of(text))
        if text:
            document[field_name(part, lang)] = text
    return document


def to_hit(stored: dict, *, score: float = 0.0, snippet_html: str = "") -> Hit:
    return Hit(
        path=stored["path"],
        url=article_url(stored["path"]),
        title=stored.get("title") or stored["path"],
        lang=stored.get("lang", ""),
        section=stored.get("section", ""),
        summary=stored.get("summary", ""),
        snippet_html=snippet_html,
        score=round(score, 4),
        status=stored.get("status", ""),
        updated=stored.get("updated") or None,
        translation_key=stored.get("translation_key", ""),
    )

