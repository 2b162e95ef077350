"""The Whoosh schema: one set of text fields per language, each with that language's analyser.

English: Whoosh's stemming analyser, then accent folding. Spanish: stop words, then accent folding,
then the Snowball stemmer — folding *before* stemming is what lets "facturacion" find "facturación"
(RECIPES §2: folding after the stemmer breaks words whose suffix carries the accent).
A document fills only its own language's fields; a query searches both sets, the customer's first.
`vocab` keeps the words of titles, headings and tags unstemmed and with their accents: "did you mean"
suggests real words from it (body words would double the indexing time for little gain).
`len_<part>` columns hold each part's word count, for BM25's length normalisation in `scoring`.
"""

from __future__ import annotations

from whoosh import columns
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StemmingAnalyzer,
    StopFilter,
)
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

# Bump when the schema or an analyser changes: a new name makes every process build a fresh index.
INDEX_NAME = "mesa_kb_v2"  # v2: `promoted`

# Three parts per language: the title; "heads" = headings, tags and the summary; the body. Few fields
# keep both indexing and searching fast (every field is one more posting list per query word).
TEXT_FIELDS = ("title", "heads", "body")
# How much a match in each part of an article counts, relative to the body.
FIELD_BOOSTS = {"title": 4.0, "heads": 2.0, "body": 1.0}


def analyzers() -> dict[str, Analyzer]:
    return {
        "en": StemmingAnalyzer() | CharsetFilter(accent_map),
        "es": RegexTokenizer() | LowercaseFilter() | StopFilter(lang="es") | CharsetFilter(accent_map)
        | StemFilter(lang="es"),
    }


VOCABULARY_ANALYZER = RegexTokenizer() | LowercaseFilter()


def field_name(part: str, lang: str) -> str:
    return f"{part}_{lang}"


def length_column(part: str) -> str:
    return f"len_{part}"


def build_schema() -> Schema:
    fields: dict[str, object] = {
        "path": ID(stored=True, unique=True, sortable=True),
        "lang": ID(stored=True, sortable=True),
        "status": ID(stored=True, sortable=True),
        "section": ID(stored=True, sortable=True),
        "sections": KEYWORD(commas=True),  # the section and its parents, for the section filter
        "translation_key": ID(stored=True, sortable=True),
        "updated": ID(stored=True, sortable=True),  # ISO date: sorts as text
        "stamp": ID(stored=True, sortable=True),  # "<mtime_ns>:<size>" of the file when indexed
        "content_hash": ID(stored=True, sortable=True),
        "promoted": ID(),  # "yes" for front matter `promoted: true` (the help center's home lists them)
        "title": STORED(),
        "summary": STORED(),
        "vocab": TEXT(analyzer=VOCABULARY_ANALYZER, phrase=False),
        **{length_column(part): COLUMN(columns.NumericColumn("I", default=0)) for part in TEXT_FIELDS},
    }
    for lang, analyzer in analyzers().items():
        for part in TEXT_FIELDS:
            fields[field_name(part, lang)] = TEXT(analyzer=analyzer, stored=(part == "body"))
    return Schema(**fields)
