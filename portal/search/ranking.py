"""From a parsed customer query to the weighted terms that `scoring` adds up, and back to ranked hits.

The rules, in the order they apply:
1. Every slot (a word, or a multi-word synonym match) is searched in the title, the "heads" (headings,
   tags, summary) and the body of both languages, each language with its own analyser. The customer's
   language counts `PREFERRED_LANGUAGE_BOOST` times more; synonyms count `SYNONYM_WEIGHT`.
2. A word that no article contains is replaced by its closest words in the titles' and headings'
   vocabulary (a typo such as "pasword"); those corrections also make the "did you mean" suggestion.
3. When fewer than `FEW_RESULTS` articles match, a relaxed pass drops the quoted-phrase requirement and
   adds, for each word, the indexed terms one or two edits away (the fuzzy pass).
4. An article and its translation are shown once, in the customer's language when both match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from whoosh.analysis import Analyzer

from portal.search.schema import FIELD_BOOSTS, field_name
from portal.search.scoring import Leaf, Scored, Snapshot
from portal.search.text_query import ParsedQuery, Slot, Synonyms, fold

PREFERRED_LANGUAGE_BOOST = 1.5
SYNONYM_WEIGHT = 0.7
CORRECTION_WEIGHT = 0.8
FUZZY_WEIGHT = 0.4
FEW_RESULTS = 3
RERANK_WINDOW = 40
MIN_CORRECTABLE_LENGTH = 4
MAX_CORRECTABLE_LENGTH = 30
MAX_FUZZY_EXPANSIONS = 3
LONG_WORD = 7


@dataclass
class Plan:
    """The weighted terms of one search and what the result page needs to know about them."""

    slot_count: int
    leaves: list[Leaf] = field(default_factory=list)
    required_slots: int = 0  # bit mask: quoted phrases must match
    missing_phrase: bool = False  # a quoted phrase that no article contains: nothing can match
    corrections: dict[str, str] = field(default_factory=dict)


class QueryBuilder:
    """Builds the leaves for one search, keeping only terms that some article contains."""

    def __init__(self, reader, analyzers: dict[str, Analyzer], synonyms: Synonyms,
                 preferred_lang: str | None, snapshot: Snapshot | None = None) -> None:
        """`snapshot`: the reader's generation, whose corrections and term frequencies are remembered across
        searches (a throwaway one without it)."""
        self.reader = reader
        self.snapshot = snapshot if snapshot is not None else Snapshot(reader.generation())
        self.analyzers = analyzers
        self.synonyms = synonyms
        self.preferred_lang = preferred_lang

    def _frequency(self, field: str, term: str) -> int:
        return self.snapshot.doc_frequency(self.reader, field, term)

    def build(self, parsed: ParsedQuery, *, relaxed: bool = False) -> Plan:
        slots = list(parsed.slots)
        if relaxed:  # phrases become plain words
            known = {word for slot in slots for word in slot.words}
            slots += [Slot(words=(word,)) for phrase in parsed.phrases for word in dict.fromkeys(phrase)
                      if word not in known]
        phrases = [] if relaxed else parsed.phrases
        plan = Plan(slot_count=len(slots) + len(phrases))
        for index, slot in enumerate(slots):
            self._add_slot(slot, index, plan, fuzzy=relaxed)
        for offset, phrase in enumerate(phrases):
            index = len(slots) + offset
            leaves = self._leaves(phrase, index, weight=1.0)
            plan.leaves += leaves
            plan.required_slots |= 1 << index
            plan.missing_phrase |= not leaves
        return plan

    def _add_slot(self, slot: Slot, index: int, plan: Plan, *, fuzzy: bool) -> None:
        leaves = self._leaves(slot.words, index, weight=1.0)
        word = slot.words[0]
        if not leaves and len(slot.words) == 1 and MIN_CORRECTABLE_LENGTH <= len(word) <= MAX_CORRECTABLE_LENGTH:
            for correction in self.corrections(word):
                plan.corrections.setdefault(word, correction)
                leaves += self._leaves((correction,), index, weight=CORRECTION_WEIGHT)
                for alternative in self.synonyms.alternatives((correction,)):
                    leaves += self._leaves(alternative, index, weight=CORRECTION_WEIGHT * SYNONYM_WEIGHT)
        for alternative in slot.alternatives:
            leaves += self._leaves(alternative, index, weight=SYNONYM_WEIGHT)
        if fuzzy and not any(leaf.terms for leaf in leaves if leaf.boost >= CORRECTION_WEIGHT * 0.99):
            for word in slot.words:  # only words not found as typed: a known word needs no neighbours
                leaves += self._fuzzy_leaves(word, index)
        plan.leaves += leaves

    def _language_boost(self, lang: str) -> float:
        return PREFERRED_LANGUAGE_BOOST if lang == self.preferred_lang else 1.0

    def _leaves(self, words: Iterable[str], index: int, *, weight: float) -> list[Leaf]:
        """A leaf for each field of each language that contains all the analysed words."""
        text = " ".join(words)
        leaves = []
        for lang, analyzer in self.analyzers.items():
            terms = tuple(token.text for token in analyzer(text))
            if not terms:
                continue
            for part, part_boost in FIELD_BOOSTS.items():
                name = field_name(part, lang)
                if all(self._frequency(name, term) for term in terms):
                    boost = part_boost * self._language_boost(lang) * weight
                    leaves.append(Leaf(part=part, lang=lang, terms=terms, boost=boost, slot=index))
        return leaves

    def _fuzzy_leaves(self, word: str, index: int) -> list[Leaf]:
        """Indexed terms one edit (two for long words) from the word; the first two letters must agree."""
        if not MIN_CORRECTABLE_LENGTH <= len(word) <= MAX_CORRECTABLE_LENGTH:
            return []
        leaves = []
        for lang, analyzer in self.analyzers.items():
            terms = [token.text for token in analyzer(word)]
            if len(terms) != 1:
                continue
            maxdist = 1 if len(terms[0]) < LONG_WORD else 2
            for part, part_boost in FIELD_BOOSTS.items():
                name = field_name(part, lang)
                nearby = {t for t in self.reader.terms_within(name, terms[0], maxdist, prefix=2) if t != terms[0]}
                ranked = sorted(nearby, key=lambda t, name=name: (-self._frequency(name, t), t))
                boost = part_boost * self._language_boost(lang) * FUZZY_WEIGHT
                leaves += [Leaf(part=part, lang=lang, terms=(t,), boost=boost, slot=index)
                           for t in ranked[:MAX_FUZZY_EXPANSIONS]]
        return leaves

    def corrections(self, word: str, limit: int = 2) -> list[str]:
        """The most frequent title/heading words one edit away from an unknown word (else two, for words
        of `LONG_WORD` letters or more: two edits turn most short words into other words)."""
        word = word.lower()
        corrections = self.snapshot.corrections
        cached = corrections.get(word)
        if cached is None:
            cached = self._find_corrections(word)[:limit]
            corrections[word] = cached  # people repeat the same typos: cached per index generation
        return cached

    def _find_corrections(self, word: str) -> list[str]:
        if word.isdigit() or self._frequency("vocab", word):
            return []
        for maxdist in (1, 2) if len(word) >= LONG_WORD else (1,):
            candidates = {c for c in self.reader.terms_within("vocab", word, maxdist, prefix=1) if c != word}
            if candidates:
                return sorted(candidates, key=lambda c: (-self._frequency("vocab", c), c))
        return []


def suggestion_text(parsed: ParsedQuery, corrections: dict[str, str]) -> str | None:
    """The query with misspelt words replaced, or None when nothing but accents would change."""
    meaningful = {word: fixed for word, fixed in corrections.items() if fold(word) != fold(fixed)}
    if not meaningful:
        return None
    punctuation = "\"'()[]{}.,;:!?¿¡*"
    words = []
    for word in parsed.text.split():
        core = word.strip(punctuation)
        words.append(word.replace(core, meaningful[core.lower()]) if core.lower() in meaningful else word)
    return " ".join(words)


def collapse_translations(scored: list[Scored], keys: list[str], langs: list[str],
                          preferred_lang: str | None) -> list[Scored]:
    """One entry per translation key, at the best position, in the customer's language if it matched."""
    chosen: dict[str, Scored] = {}
    for doc in scored:
        key = keys[doc.docnum] or f"#{doc.docnum}"
        if key not in chosen:
            chosen[key] = doc
        elif langs[doc.docnum] == preferred_lang and langs[chosen[key].docnum] != preferred_lang:
            chosen[key] = Scored(docnum=doc.docnum, score=chosen[key].score, slots=doc.slots)
    return list(chosen.values())
