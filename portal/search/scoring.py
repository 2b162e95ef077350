"""BM25 scoring, term at a time, from impact lists cached per index generation.

Whoosh stores the postings, the term statistics and the positions; this module adds up the scores.
Why not Whoosh's own matchers: at 10,000 articles a three-word query touches ~10,000 postings, and
Whoosh's tree of union matchers costs 5–25 µs per posting in pure Python (70–400 ms per query here).
Reading each term's postings once into arrays of (document, BM25 impact) and summing them in one loop
costs about 0.2 µs per posting, and the arrays of frequently searched terms stay cached until the index
changes. `bench/kb_search.py` measures both.

BM25 with k1 = 1.2, b = 0.75; idf and average length are computed per language (a Spanish field's
statistics come from the Spanish articles only).
"""

from __future__ import annotations

import heapq
import math
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass

from whoosh.query import Phrase

from portal.search.memo import Lru
from portal.search.schema import field_name, length_column

K1 = 1.2
B = 0.75
COVERAGE_FLOOR = 0.35  # share of the score kept by an article that matches one of several query slots
MAX_CACHED_POSTINGS = 2_000_000  # about 24 MB of impact arrays per process
# A term in thousands of articles ("arduino", "account") adds little to any score (its idf is low):
# only its best `SCORED_POSTINGS` impacts are added up. It still counts fully for matching and coverage.
SCORED_POSTINGS = 1500
# What a generation remembers of earlier searches, each bounded (least recently used first out), some 20 MB per
# process when full (measured on the shared corpus): whole results (a live search repeats the same prefixes and
# popular questions; ~2 KB each), result entries with their snippets (~1.5 KB each) and the document frequency of
# each (field, term) asked about.
CACHED_RESULTS = 2048
CACHED_HITS = 10_000
CACHED_FREQUENCIES = 50_000


@dataclass(frozen=True)
class Leaf:
    """One term (or phrase) in one field, with its weight and the query slot it stands for."""

    part: str
    lang: str
    terms: tuple[str, ...]
    boost: float
    slot: int

    @property
    def field(self) -> str:
        return field_name(self.part, self.lang)


@dataclass
class Scored:
    docnum: int
    score: float
    slots: int  # bit mask of the query slots the document matched


Impacts = tuple[array, array]


class Snapshot:
    """What one index generation's searches share: columns, per-language statistics, impact lists and
    filter sets. Shared by the threads of a process; a new generation gets a new snapshot."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.filters: dict[tuple, set[int]] = {}
        self._columns: dict[str, list] = {}
        self._language_stats: dict[tuple[str, str], tuple[int, float]] = {}
        self._impacts: OrderedDict[tuple[str, tuple[str, ...]], Impacts] = OrderedDict()
        self._cached_postings = 0
        self._best: dict[tuple, Impacts] = {}
        self.corrections: dict[str, list[str]] = {}
        self.results: Lru = Lru(CACHED_RESULTS)
        self.hits: Lru = Lru(CACHED_HITS)
        self._frequencies: Lru[int] = Lru(CACHED_FREQUENCIES)
        self.dense = None  # this generation's `embeddings.DenseIndex`, built on its first search
        self.dense_lock = threading.Lock()
        self._lock = threading.Lock()

    def column(self, reader, name: str) -> list:
        values = self._columns.get(name)
        if values is None:
            values = list(reader.column_reader(name))
            self._columns[name] = values
        return values

    def doc_frequency(self, reader, field: str, term: str) -> int:
        """How many documents of this generation have `term` in `field` (Whoosh reads it from disk each time)."""
        key = (field, term)
        found = self._frequencies.get(key)
        if found is None:
            found = reader.doc_frequency(field, term)
            self._frequencies.put(key, found)
        return found

    def _stats(self, reader, part: str, lang: str) -> tuple[int, float]:
        """(number of articles in `lang`, their average length of `part`)."""
        key = (part, lang)
        if key not in self._language_stats:
            langs, lengths = self.column(reader, "lang"), self.column(reader, length_column(part))
            own = [length for length, doc_lang in zip(lengths, langs, strict=False) if doc_lang == lang]
            self._language_stats[key] = (len(own), (sum(own) / len(own)) if own else 1.0)
        return self._language_stats[key]

    def impacts(self, searcher, leaf: Leaf) -> Impacts:
        key = (leaf.field, leaf.terms)
        cached = self._impacts.get(key)
        if cached is not None:
            with self._lock:
                if key in self._impacts:
                    self._impacts.move_to_end(key)
            return cached
        if len(leaf.terms) == 1:
            computed = self._term_impacts(searcher.reader(), leaf.part, leaf.lang, leaf.terms[0])
        else:
            computed = self._phrase_impacts(searcher, leaf)
        with self._lock:
            self._impacts[key] = computed
            self._cached_postings += len(computed[0])
            while self._cached_postings > MAX_CACHED_POSTINGS and len(self._impacts) > 1:
                _key, (docs, _imps) = self._impacts.popitem(last=False)
                self._cached_postings -= len(docs)
        return computed

    def best_impacts(self, searcher, leaf: Leaf) -> Impacts:
        """The leaf's `SCORED_POSTINGS` highest impacts (all of them for most terms)."""
        docs, impacts = self.impacts(searcher, leaf)
        if len(docs) <= SCORED_POSTINGS:
            return docs, impacts
        key = ("best", leaf.field, leaf.terms)
        cached = self._best.get(key)
        if cached is None:
            best = heapq.nlargest(SCORED_POSTINGS, range(len(docs)), key=impacts.__getitem__)
            cached = (array("i", (docs[i] for i in best)), array("d", (impacts[i] for i in best)))
            self._best[key] = cached
        return cached

    def _term_impacts(self, reader, part: str, lang: str, term: str) -> Impacts:
        field = field_name(part, lang)
        docs, impacts = array("i"), array("d")
        frequency = reader.doc_frequency(field, term)
        if not frequency:
            return docs, impacts
        count, average = self._stats(reader, part, lang)
        idf = math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))
        lengths = self.column(reader, length_column(part))
        norm = K1 * (1 - B)
        per_length = K1 * B / max(average, 1.0)
        matcher = reader.postings(field, term)
        while matcher.is_active():
            docnum, tf = matcher.id(), matcher.weight()
            docs.append(docnum)
            impacts.append(idf * tf * (K1 + 1) / (tf + norm + per_length * lengths[docnum]))
            matcher.next()
        return docs, impacts

    def _phrase_impacts(self, searcher, leaf: Leaf) -> Impacts:
        """Documents containing the words in this order; impact = the words' impacts added up."""
        found = sorted(searcher.docs_for_query(Phrase(leaf.field, list(leaf.terms))))
        per_term = [self.impacts(searcher, Leaf(leaf.part, leaf.lang, (term,), 1.0, leaf.slot))
                    for term in leaf.terms]
        impacts = array("d")
        for docnum in found:
            impacts.append(sum(_impact_at(docs, imps, docnum) for docs, imps in per_term))
        return array("i", found), impacts


def _impact_at(docs: array, impacts: array, docnum: int) -> float:
    index = bisect_left(docs, docnum)
    return impacts[index] if index < len(docs) and docs[index] == docnum else 0.0


def contains(impacts: Impacts, docnum: int) -> bool:
    docs = impacts[0]
    index = bisect_left(docs, docnum)
    return index < len(docs) and docs[index] == docnum


def top_documents(snapshot: Snapshot, searcher, leaves: list[Leaf], *, slot_count: int, required_slots: int,
                  allowed: set[int], limit: int,
                  slot_matches: dict[int, int] | None = None) -> tuple[list[Scored], int]:
    """The `limit` best allowed documents and the number of allowed documents that matched. When given,
    `slot_matches` is filled with the number of allowed documents each query slot matched.

    Score = the BM25 impacts of every matching leaf, times a coverage factor: an article matching k of
    the query's n slots keeps COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * k / n of its score. Documents must
    match every slot in the `required_slots` bit mask (quoted phrases)."""
    totals: dict[int, float] = {}
    slot_docs: dict[int, set[int]] = {}
    for leaf in leaves:
        best_docs, best_impacts = snapshot.best_impacts(searcher, leaf)
        weight, get = leaf.boost, totals.get
        for docnum, impact in zip(best_docs, best_impacts, strict=True):
            totals[docnum] = get(docnum, 0.0) + impact * weight
        slot_docs.setdefault(leaf.slot, set()).update(snapshot.impacts(searcher, leaf)[0])
    matching = set().union(*slot_docs.values()) & allowed
    if slot_matches is not None:
        slot_matches.update({slot: len(docs & allowed) for slot, docs in slot_docs.items()})
    for slot, docs in slot_docs.items():
        if required_slots & (1 << slot):
            matching &= docs
    candidates = totals.keys() & matching
    slots = max(slot_count, 1)

    def scored(docnum: int) -> Scored:
        mask = sum(1 << slot for slot, docs in slot_docs.items() if docnum in docs)
        factor = COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * mask.bit_count() / slots
        return Scored(docnum=docnum, score=totals[docnum] * factor, slots=mask)

    # Coverage only lowers a score, so the best `limit` are among the best by raw total, as long as the
    # last one kept still beats the raw total of every document left out.
    shortlist_size = limit * 4
    while True:
        shortlist = heapq.nlargest(shortlist_size, candidates, key=totals.__getitem__)
        best = sorted((scored(docnum) for docnum in shortlist), key=lambda doc: -doc.score)[:limit]
        left_out = len(candidates) - len(shortlist)
        if not left_out or (len(best) == limit and best[-1].score >= totals[shortlist[-1]]):
            return best, len(matching)
        shortlist_size *= 4


def whoosh_reference(searcher, leaves: list[Leaf], *, allowed: set[int], limit: int) -> int:
    """The same leaves scored by Whoosh's own matchers (BM25F, union tree): kept for `bench/kb_search.py`,
    which times it against `top_documents`. Returns the number of matches."""
    from whoosh.query import Or, Term

    query = Or([Phrase(leaf.field, list(leaf.terms), boost=leaf.boost) if len(leaf.terms) > 1
                else Term(leaf.field, leaf.terms[0], boost=leaf.boost) for leaf in leaves])
    return len(searcher.search(query, limit=limit, filter=allowed))
