"""Search quality: Recall@1, Recall@3 and MRR of Mesa's search against a plain BM25 baseline.

Corpus: ../shared/kb-corpus/ (525 real help articles, English and Spanish), read in place.
Queries: tests/search_eval/queries.yaml (72 customer questions with judged answers, tagged by subset).
Baseline: textbook BM25 (k1 = 1.2, b = 0.75) computed here over title + body, words lowercased, no
stemming, no accent folding, no synonyms, no typo handling, no language preference.
Mesa: `KbIndex.search(query, lang=...)`, with the evaluation synonyms file and without it.

Usage: python bench/kb_quality.py [--no-write]
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import write_section  # noqa: E402
from portal.articles import scan_articles  # noqa: E402
from portal.search import KbIndex  # noqa: E402
from portal.search.text_query import words_of  # noqa: E402

CORPUS = ROOT.parent / "shared" / "kb-corpus"
EVAL = ROOT / "tests" / "search_eval"
SUBSETS = ("all", "plain", "paraphrase", "typo", "spanish", "cross")
TOP = 10


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


def evaluate(search, queries: list[dict]) -> dict[str, dict[str, float]]:
    """Per subset: Recall@1, Recall@3 (an accepted answer in the top 1 / top 3) and MRR (top 10)."""
    sums: dict[str, Counter] = {subset: Counter() for subset in SUBSETS}
    for item in queries:
        ranked = search(item["query"], item["lang"])
        expected = set(item["expected"])
        rank = next((position for position, path in enumerate(ranked[:TOP], 1) if path in expected), None)
        for subset in ("all", *item["tags"]):
            totals = sums[subset]
            totals["n"] += 1
            totals["r1"] += rank == 1
            totals["r3"] += rank is not None and rank <= 3
            totals["mrr"] += 1 / rank if rank else 0
    return {subset: {"n": t["n"], "R@1": t["r1"] / t["n"], "R@3": t["r3"] / t["n"], "MRR": t["mrr"] / t["n"]}
            for subset, t in sums.items() if t["n"]}


def mesa_search(index: KbIndex):
    def search(query: str, lang: str) -> list[str]:
        return [hit.path for hit in index.search(query, lang=lang, per_page=TOP).hits]
    return search


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    systems = list(results)
    lines = ["| subset | n | " + " | ".join(f"{s} R@1 | {s} R@3 | {s} MRR" for s in systems) + " |",
             "|---|---|" + "---|" * (3 * len(systems))]
    for subset in SUBSETS:
        first = results[systems[0]].get(subset)
        if not first:
            continue
        cells = [f"{results[s][subset]['R@1']:.2f} | {results[s][subset]['R@3']:.2f} | {results[s][subset]['MRR']:.2f}"
                 for s in systems]
        lines.append(f"| {subset} | {first['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    queries = yaml.safe_load((EVAL / "queries.yaml").read_text(encoding="utf-8"))
    published = [a for a in scan_articles(CORPUS, "en") if a.status == "published"]
    baseline = Bm25Baseline({a.path: a.title + "\n" + a.plain_body for a in published})
    results = {"BM25 baseline": evaluate(lambda q, _lang: baseline.search(q), queries)}
    with tempfile.TemporaryDirectory() as scratch:
        for label, synonyms in (("Mesa", EVAL / "synonyms.txt"), ("Mesa, no synonyms", Path(scratch) / "none.txt")):
            index = KbIndex(Path(scratch) / label.replace(" ", "_"), CORPUS, "en", synonyms_file=synonyms)
            index.ensure()
            results[label] = evaluate(mesa_search(index), queries)
            index.close()
    report = table(results)
    print(report)
    if "--no-write" not in sys.argv:
        write_section("kb_quality", "## Knowledge-base search quality (`bench/kb_quality.py`)\n\n"
                      f"{len(queries)} judged queries (`tests/search_eval/queries.yaml`) against the 525 articles of "
                      "`../shared/kb-corpus/`. R@k: share of queries with an accepted answer in the top k; MRR over "
                      "the top 10. Baseline: plain BM25 (k1 1.2, b 0.75) over lowercased title + body words.\n\n"
                      + report)


if __name__ == "__main__":
    main()
