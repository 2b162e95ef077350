"""One search: build the plan, score, relax when little is found, collapse translations, page, snippet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from whoosh.analysis import Analyzer

from portal.search import ranking
from portal.search.documents import to_hit
from portal.search.results import Hit, SearchResults
from portal.search.schema import field_name
from portal.search.scoring import Scored, Snapshot, contains, top_documents
from portal.search.snippets import TermMatcher, snippet_html
from portal.search.text_query import ParsedQuery, Synonyms


@dataclass
class SearchContext:
    """What a search needs from `KbIndex`: this thread's searcher and the generation's shared snapshot."""

    searcher: object
    snapshot: Snapshot
    analyzers: dict[str, Analyzer]
    synonyms: Synonyms
    term_matchers: dict[str, TermMatcher]


def run_search(context: SearchContext, parsed: ParsedQuery, *, lang: str | None, allowed: set[int],
               page: int, per_page: int, boosts: Mapping[str, float]) -> SearchResults:
    reader = context.searcher.reader()
    builder = ranking.QueryBuilder(reader, context.analyzers, context.synonyms, lang,
                                   corrections_cache=context.snapshot.corrections)
    window = min(max(ranking.RERANK_WINDOW, page * per_page), 1000)
    plan = builder.build(parsed)
    scored, total = _score(context, plan, allowed, window)
    fuzzy = False
    # Few results: relax (and go fuzzy). A quoted phrase that matched something is taken at its word.
    if total < ranking.FEW_RESULTS and (total == 0 or not parsed.phrases):
        relaxed = builder.build(parsed, relaxed=True)
        relaxed_scored, relaxed_total = _score(context, relaxed, allowed, window)
        if relaxed_total > total:
            relaxed.corrections = plan.corrections | relaxed.corrections
            plan, scored, total, fuzzy = relaxed, relaxed_scored, relaxed_total, True
    suggestion = ranking.suggestion_text(parsed, plan.corrections)
    snapshot = context.snapshot
    keys, langs = snapshot.column(reader, "translation_key"), snapshot.column(reader, "lang")
    collapsed = ranking.collapse_translations(scored, keys, langs, lang)
    shown = collapsed[(page - 1) * per_page : page * per_page]
    hits = [_hit(context, plan, doc, langs[doc.docnum]) for doc in shown]
    total = max(total - (len(scored) - len(collapsed)), len(collapsed))
    return SearchResults(query=parsed.text, total=total, suggestion=suggestion, hits=hits, page=page,
                         per_page=per_page, fuzzy=fuzzy)


def _score(context: SearchContext, plan: ranking.Plan, allowed: set[int], window: int) -> tuple[list[Scored], int]:
    if plan.missing_phrase or not plan.leaves:
        return [], 0
    return top_documents(context.snapshot, context.searcher, plan.leaves, slot_count=plan.slot_count,
                         required_slots=plan.required_slots, allowed=allowed, limit=window)


def _hit(context: SearchContext, plan: ranking.Plan, doc: Scored, lang: str) -> Hit:
    stored = context.searcher.stored_fields(doc.docnum)
    body_field = field_name("body", lang)
    terms = {term for leaf in plan.leaves if leaf.field == body_field
             and contains(context.snapshot.impacts(context.searcher, leaf), doc.docnum) for term in leaf.terms}
    matcher = context.term_matchers.get(lang) or next(iter(context.term_matchers.values()))
    snippet = snippet_html(stored.get(body_field, ""), terms, matcher)
    return to_hit(stored, score=doc.score, snippet_html=snippet or escape(stored.get("summary", "")))
