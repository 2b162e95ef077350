"""Knowledge-base search. Only this package imports Whoosh; the rest of Mesa sees `KbIndex` and plain values.

Modules: `text_query` (customer text → words, phrases, synonyms; no Whoosh), `schema` (fields and
analysers), `ranking` (queries, re-ranking, snippets), `index` (`KbIndex`: lifecycle, sync, search),
`results` (the values returned).
"""

from portal.search.index import KbIndex
from portal.search.results import Hit, SearchResults, SyncReport
from portal.search.terms import terms
from portal.search.text_query import MAX_QUERY_CHARS, QueryTooLong, Synonyms

__all__ = ["MAX_QUERY_CHARS", "Hit", "KbIndex", "QueryTooLong", "SearchResults", "Synonyms", "SyncReport", "terms"]
