"""Search quality: Recall@1, Recall@3 and MRR@10 of Mesa's search against a plain BM25 baseline, per subset.

Help centers: ../shared/kb-corpus/ (525 real help articles, English and Spanish), read in place, and the demo
KB (kb_articles/). Each query is asked of the help center its answers live in; English questions about
Spanish-only articles (subset en-es) are asked of the Spanish-only view of it (see bench/search_eval.py).
Queries: tests/search_eval/dev.yaml (development set, tune on it) and tests/search_eval/heldout.yaml
(held-out set: scored ONCE, at the end of issue 17, with --heldout; never tune on it).
Baseline: textbook BM25 (k1 = 1.2, b = 0.75) computed here over title + body, words lowercased, no
stemming, no accent folding, no synonyms, no typo handling, no language preference.
Mesa: `KbIndex.search(query, lang=...)`, with the synonyms file (tests/search_eval/synonyms.txt for the
corpus, kb_articles/_synonyms.txt for the demo KB) and without any.
No-answer questions are not scored for recall: they count as "flagged not confident" when the search says it
is not confident (a `confident` attribute on its results; until the search reports one, the cell says n/a).

Usage: python bench/kb_quality.py [--no-write]            # development set
       python bench/kb_quality.py --heldout [--no-write]  # held-out set: once, at the end of the issue
       python bench/kb_quality.py --confidence-heldout    # the confidence held-out set: once, at the end of
                                                          # the confidence work that followed the held-out score
       python bench/kb_quality.py --confidence-heldout2   # the second confidence held-out set: once, at the
                                                          # end of the no-answer work (word weights)
       python bench/kb_quality.py --heldout3              # the fourth held-out set: once, at the end of the
                                                          # body-chunking work
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import write_section  # noqa: E402
from bench.search_eval import (  # noqa: E402
    CONFIDENCE_HELDOUT,
    CONFIDENCE_HELDOUT2,
    CORPUS,
    DEMO,
    DEV,
    EVAL,
    HELDOUT,
    HELDOUT3,
    SUBSETS,
    Query,
    load,
    spanish_only_view,
)
from portal.articles import scan_articles  # noqa: E402
from portal.search import KbIndex  # noqa: E402
from portal.search.text_query import words_of  # noqa: E402

TOP = 10
SYNONYMS = {"corpus": EVAL / "synonyms.txt", "demo": DEMO / "_synonyms.txt"}
SYSTEMS = ("BM25 baseline", "Mesa + synonyms", "Mesa, no synonyms")
HELDOUT_NOTICE = """
################################################################################################
#  HELD-OUT SET. It is scored ONCE, at the end of issue 17, after all tuning is finished.       #
#  Do not change the search because of these figures; do not run this again to "check" a fix.  #
#  Tuning belongs to the development set: python bench/kb_quality.py (without --heldout).        #
################################################################################################
"""

# A search: (query, lang) -> (ranked article paths, confident or None when the search does not say).
Search = Callable[[str, str], tuple[list[str], bool | None]]


class Bm25Baseline:
    """Okapi BM25 over lowercased words of title + body: what a search box without linguistics finds."""

    def __init__(self, documents: dict[str, str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.lengths = {path: len(words_of(text)) for path, text in documents.items()}
        self.average = sum(self.lengths.values()) / len(self.lengths)
        self.postings: dict[str, dict[str, int]] = {}
        for path, text in documents.items():
            for word, count in Counter(words_of(text)).items():
                self.postings.setdefault(word, {})[path] = count

    def search(self, query: str, limit: int = TOP) -> list[str]:
        scores: Counter[str] = Counter()
        total = len(self.lengths)
        for word in set(words_of(query)):
            postings = self.postings.get(word, {})
            idf = math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for path, tf in postings.items():
                norm = self.k1 * (1 - self.b + self.b * self.lengths[path] / self.average)
                scores[path] += idf * tf * (self.k1 + 1) / (tf + norm)
        return [path for path, _score in scores.most_common(limit)]


def evaluate(searches: dict[tuple[str, bool], Search], queries: list[Query]) -> dict[str, Counter]:
    """Per subset: n, hits at 1 and 3, reciprocal ranks (top 10); for no-answer and answerable queries, how
    many the search flagged as not confident (`flag_n` counts those where it said anything at all)."""
    sums: dict[str, Counter] = {}
    for item in queries:
        ranked, confident = searches[item.kb, item.spanish_only](item.query, item.lang)
        answerable = bool(item.answers)
        # an unanswerable question counts only as no-answer: its recall is not defined
        for subset in ("all", *item.tags) if answerable else ("no-answer",):
            totals = sums.setdefault(subset, Counter())
            totals["n"] += 1
            if confident is not None:
                totals["flag_n"] += 1
                totals["flagged"] += not confident
            if answerable:
                rank = next((pos for pos, path in enumerate(ranked[:TOP], 1) if path in item.answers), None)
                totals["r1"] += rank == 1
                totals["r3"] += rank is not None and rank <= 3
                totals["mrr"] += 1 / rank if rank else 0
    return sums


def baseline_search(kb_dir: Path) -> Search:
    published = [a for a in scan_articles(kb_dir, "en") if a.status == "published"]
    baseline = Bm25Baseline({a.path: a.title + "\n" + a.plain_body for a in published})
    return lambda query, _lang: (baseline.search(query), None)


def mesa_search(index: KbIndex) -> Search:
    def search(query: str, lang: str) -> tuple[list[str], bool | None]:
        results = index.search(query, lang=lang, per_page=TOP)
        return [hit.path for hit in results.hits], getattr(results, "confident", None)
    return search


def run(queries: list[Query], scratch: Path) -> dict[str, dict[str, Counter]]:
    """Every system over every (help center, view) the queries need; indexes are built in `scratch`."""
    needed = sorted({(q.kb, q.spanish_only) for q in queries})
    searches: dict[str, dict[tuple[str, bool], Search]] = {system: {} for system in SYSTEMS}
    indexes: list[KbIndex] = []
    for kb, spanish_only in needed:
        source = CORPUS if kb == "corpus" else DEMO
        name = f"{kb}-{'es-only' if spanish_only else 'full'}"
        kb_dir = spanish_only_view(source, scratch / name / "kb") if spanish_only else source
        searches["BM25 baseline"][kb, spanish_only] = baseline_search(kb_dir)
        for system, synonyms in (("Mesa + synonyms", SYNONYMS[kb]), ("Mesa, no synonyms", scratch / "none.txt")):
            index = KbIndex(scratch / name / system.replace(" ", "_"), kb_dir, "en", synonyms_file=synonyms)
            index.ensure()
            indexes.append(index)
            searches[system][kb, spanish_only] = mesa_search(index)
    try:
        return {system: evaluate(searches[system], queries) for system in SYSTEMS}
    finally:
        for index in indexes:
            index.close()


def recall_table(results: dict[str, dict[str, Counter]]) -> str:
    lines = ["| subset | n | " + " | ".join(f"{s} R@1 | {s} R@3 | {s} MRR@10" for s in SYSTEMS) + " |",
             "|---|---|" + "---|" * (3 * len(SYSTEMS))]
    for subset in ("all", *SUBSETS, "plain"):
        first = results[SYSTEMS[0]].get(subset)
        if not first or subset == "no-answer":
            continue
        cells = []
        for system in SYSTEMS:
            t = results[system][subset]
            cells.append(f"{t['r1'] / t['n']:.2f} | {t['r3'] / t['n']:.2f} | {t['mrr'] / t['n']:.2f}")
        lines.append(f"| {subset} | {first['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def confidence_table(results: dict[str, dict[str, Counter]]) -> str:
    """Flagged not confident: wanted on no-answer questions (target: at least half), unwanted on answerable
    ones (target: at most 3%). n/a while the search does not report confidence."""
    def cell(t: Counter | None) -> str:
        if not t:
            return "–"
        if t["flag_n"] < t["n"]:
            return "n/a (not reported)"
        return f"{t['flagged'] / t['n']:.2f} ({t['flagged']}/{t['n']})"

    lines = ["| queries | n | " + " | ".join(SYSTEMS) + " |", "|---|---|" + "---|" * len(SYSTEMS)]
    for label, subset in (("no-answer (flagged is right)", "no-answer"), ("answerable (flagged is wrong)", "all")):
        n = results[SYSTEMS[0]].get(subset, Counter())["n"]
        lines.append(f"| {label} | {n} | " + " | ".join(cell(results[s].get(subset)) for s in SYSTEMS) + " |")
    return "\n".join(lines)


def main() -> None:
    fourth = "--heldout3" in sys.argv
    second = "--confidence-heldout2" in sys.argv
    confidence = "--confidence-heldout" in sys.argv or second
    heldout = "--heldout" in sys.argv or confidence or fourth
    name = (HELDOUT3 if fourth else CONFIDENCE_HELDOUT2 if second else CONFIDENCE_HELDOUT if confidence
            else HELDOUT if heldout else DEV)
    if heldout:
        print(HELDOUT_NOTICE, file=sys.stderr)
    queries = load(name)
    with tempfile.TemporaryDirectory() as scratch:
        results = run(queries, Path(scratch))
    answerable = sum(1 for q in queries if q.answers)
    title = ("Fourth held-out" if fourth else "Second confidence held-out" if second
             else "Confidence held-out" if confidence else "Held-out" if heldout else "Development")
    report = (f"**{title} set** (`tests/search_eval/{name}.yaml`): "
              f"{len(queries)} judged queries, {answerable} answerable and {len(queries) - answerable} with no "
              "answer.\n\nRecall and MRR (answerable queries; a query counts in every subset it is tagged "
              "with):\n\n" + recall_table(results) + "\n\nFlagged not confident (share of queries):\n\n"
              + confidence_table(results))
    print(report)
    if "--no-write" in sys.argv:
        return
    intro = ("## Knowledge-base search quality (`bench/kb_quality.py`)\n\n" if not heldout else
             "## Knowledge-base search quality, fourth held-out set (`bench/kb_quality.py --heldout3`)\n\n"
             "Written before the body-chunking work and scored once at its end, with the confidence rule of the "
             "third set unchanged; nothing was tuned on it.\n\n" if fourth else
             "## Search confidence, third held-out set (`bench/kb_quality.py --confidence-heldout2`)\n\n"
             "Written before the work on no-answer questions (confidence from meaning and word weights) and "
             "scored once at its end; nothing was tuned on it.\n\n" if second else
             "## Search confidence, second held-out set (`bench/kb_quality.py --confidence-heldout`)\n\n"
             "Written after the first held-out set was scored and scored once, with the confidence rule unchanged "
             "since; nothing was tuned on it.\n\n" if confidence else
             "## Knowledge-base search quality, held-out set (`bench/kb_quality.py --heldout`)\n\n"
             "Scored once, at the end of issue 17; nothing was tuned on it.\n\n")
    section = ("kb_quality_heldout3" if fourth else "kb_quality_confidence2" if second
               else "kb_quality_confidence" if confidence else "kb_quality_heldout" if heldout else "kb_quality")
    write_section(section, intro + (
        "Help centers: the 525 articles of `../shared/kb-corpus/` and the demo KB (`kb_articles/`); each question "
        "is asked of the help center its answers are in (en-es questions: of its Spanish-only view). "
        "R@k: share of queries with an accepted answer in the top k; MRR@10: mean reciprocal rank of the first "
        "accepted answer in the top 10. Baseline: plain BM25 (k1 1.2, b 0.75) over lowercased title + body "
        "words. Synonyms: `tests/search_eval/synonyms.txt` (corpus), `kb_articles/_synonyms.txt` (demo). "
        "How the sets were written and the subsets: `tests/search_eval/README.md`.\n\n" + report))


if __name__ == "__main__":
    main()
