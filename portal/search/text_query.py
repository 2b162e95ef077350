"""What a customer typed, turned into words, phrases and synonym alternatives. No Whoosh here.

Customers do not write query syntax, so none is interpreted: quotes around two or more words make a
phrase when they are balanced, everything else (parentheses, `*`, `AND`, `-`, stray quotes) is reduced
to plain words. A query longer than `MAX_QUERY_CHARS` is refused with `QueryTooLong` rather than
truncated: the customer should see that only the first part would have been searched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

MAX_QUERY_CHARS = 500
MAX_WORDS = 24

# The same word pattern as Whoosh's RegexTokenizer, so that "login.gov" stays one word on both sides.
WORD = re.compile(r"\w+(?:\.?\w+)*")
_PHRASE = re.compile(r'"([^"]*)"')


class QueryTooLong(ValueError):
    """The query is longer than `MAX_QUERY_CHARS`; the web layer answers 400 with a clear message."""

    def __init__(self, length: int) -> None:
        super().__init__(f"Search text is limited to {MAX_QUERY_CHARS} characters ({length} given).")
        self.length = length


def fold(text: str) -> str:
    """Lowercase without accents: the form in which synonyms and query words are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower())


@dataclass(frozen=True)
class Slot:
    """One idea in the query: a word (or a multi-word synonym match) and the ways it may be written."""

    words: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    slots: list[Slot]
    phrases: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.slots and not self.phrases

    @property
    def all_words(self) -> list[str]:
        seen: dict[str, None] = {}
        for slot in self.slots:
            seen.update(dict.fromkeys(slot.words))
        for phrase in self.phrases:
            seen.update(dict.fromkeys(phrase))
        return list(seen)


class Synonyms:
    """Groups of interchangeable terms, one group per line of the KB's `_synonyms.txt`:

        # comments and blank lines are ignored
        login, sign in, log in, iniciar sesión

    Terms may have several words and may be in either language; matching ignores case and accents.
    """

    def __init__(self, groups: list[list[str]] | None = None) -> None:
        self._alternatives: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        self.longest = 1
        for group in groups or []:
            self._add_group(group)

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        groups = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                groups.append([term.strip() for term in line.split(",") if term.strip()])
        return cls(groups)

    @classmethod
    def load(cls, path: Path) -> Synonyms:
        try:
            return cls.parse(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return cls()

    def _add_group(self, group: list[str]) -> None:
        terms = [tuple(fold(word) for word in words_of(term)) for term in group]
        terms = [term for term in terms if term]
        for term in terms:
            self._alternatives.setdefault(term, set()).update(other for other in terms if other != term)
            self.longest = max(self.longest, len(term))

    def __len__(self) -> int:
        return len(self._alternatives)

    def alternatives(self, words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return tuple(sorted(self._alternatives.get(tuple(fold(word) for word in words), ())))

    def slots(self, words: list[str]) -> list[Slot]:
        """Group the words into slots, longest synonym match first (`sign in` before `sign`)."""
        slots, index = [], 0
        while index < len(words):
            for size in range(min(self.longest, len(words) - index), 0, -1):
                span = tuple(words[index : index + size])
                alternatives = self.alternatives(span)
                if alternatives or size == 1:
                    slots.append(Slot(words=span, alternatives=alternatives))
                    index += size
                    break
        return slots


def parse_query(text: str, synonyms: Synonyms | None = None) -> ParsedQuery:
    """Words and balanced "phrases" of `text`; raises `QueryTooLong` past `MAX_QUERY_CHARS`."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooLong(len(text))
    text = text.strip()
    phrases: list[tuple[str, ...]] = []
    rest = text
    if text.count('"') >= 2:
        for match in _PHRASE.finditer(text):
            phrase = tuple(words_of(match.group(1)))
            if len(phrase) > 1:
                phrases.append(phrase)
        rest = _PHRASE.sub(lambda match: " " if len(words_of(match.group(1))) > 1 else match.group(1), text)
    words = list(dict.fromkeys(words_of(rest)))[:MAX_WORDS]
    return ParsedQuery(text=text, slots=(synonyms or Synonyms()).slots(words), phrases=phrases[:4])
