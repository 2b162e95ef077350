"""Result snippets: a short window of an article's text around the words that matched, as safe HTML.

A word is highlighted when the article's language analyser turns it into one of the terms that matched
(so "deleting" lights up for "delete", "contraseña" for "contrasena"). The text is HTML-escaped;
the only markup in a snippet is `<b class="match">`. Whoosh's own highlighter re-analyses whole
articles, which cost more than the search itself at 10,000 articles; this scans only candidate words.
"""

from __future__ import annotations

import functools
import heapq
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from html import escape

from portal.search.text_query import fold

SNIPPET_CHARS = 180
LEAD_CHARS = 50
MAX_SCAN_CHARS = 20_000
ENOUGH_MATCHES = 12  # stop scanning a long article once this many words matched
_CACHE_LIMIT = 50_000

# Every letter that folds to a given base letter ("e" → "eéèêë…"), to find candidate words with one
# accent- and case-insensitive regular expression instead of examining every word in Python.
_VARIANTS: dict[str, str] = {}
for _code in range(0xC0, 0x250):
    _base = fold(chr(_code))[:1]
    if _base.isascii() and _base.isalpha():
        _VARIANTS[_base] = _VARIANTS.get(_base, _base) + chr(_code)


@functools.lru_cache(maxsize=4096)
def _prefix_words(prefix: str) -> re.Pattern[str]:
    """Words starting with the (folded) prefix, whatever their case and accents."""
    letters = "".join(f"[{re.escape(_VARIANTS.get(char, char))}]" for char in prefix)
    return re.compile(r"(?<!\w)" + letters + r"\w*(?:\.\w+)*", re.IGNORECASE)


def _candidate_words(text: str, prefixes: Iterable[str]) -> Iterator[re.Match[str]]:
    """The words of `text` (its first `MAX_SCAN_CHARS`) that start with one of the prefixes, in order: what one
    expression with an alternative per prefix finds, from one cached expression per prefix. Compiling such a
    combination (its classes of accented letters) for each new query took longer than the rest of the search."""
    scans = [_prefix_words(prefix).finditer(text, 0, MAX_SCAN_CHARS) for prefix in sorted(set(prefixes))]
    end = 0
    for found in heapq.merge(*scans, key=re.Match.start):
        if found.start() >= end:  # not a part of a dotted word already found ("gov" in "login.gov")
            end = found.end()
            yield found

Analyze = Callable[[str], list[str]]


class TermMatcher:
    """Answers "does this word analyse to one of these terms?", caching each word's analysis."""

    def __init__(self, analyze: Analyze) -> None:
        self._analyze = analyze
        self._cache: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def terms_of(self, word: str) -> tuple[str, ...]:
        cached = self._cache.get(word)
        if cached is None:
            cached = tuple(self._analyze(word))
            with self._lock:
                if len(self._cache) > _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[word] = cached
        return cached


def snippet_html(text: str, terms: Iterable[str], matcher: TermMatcher, *, limit: int = SNIPPET_CHARS) -> str:
    """The window of `text` (at most `limit` characters) with the most distinct matched terms."""
    wanted = set(terms)
    if not text or not wanted:
        return ""
    matches: list[tuple[int, int, str]] = []
    for found in _candidate_words(text, (term[:3] for term in wanted)):
        word = found.group(0)
        hit = next((term for term in matcher.terms_of(word.lower()) if term in wanted), None)
        if hit is not None:
            matches.append((found.start(), found.end(), hit))
            if len(matches) >= ENOUGH_MATCHES:
                break
    if not matches:
        return ""
    start, end = _best_window(text, matches, limit)
    return _render(text, start, end, [m for m in matches if m[0] >= start and m[1] <= end])


def _best_window(text: str, matches: list[tuple[int, int, str]], limit: int) -> tuple[int, int]:
    best, best_count = matches[0][0], 0
    for begin, _end, _term in matches:
        count = len({term for s, e, term in matches if begin <= s and e <= begin + limit - LEAD_CHARS})
        if count > best_count:
            best, best_count = begin, count
    start = max(0, best - LEAD_CHARS)
    if start:
        space = text.find(" ", start, best)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + limit)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > best else end
    return start, end


def _render(text: str, start: int, end: int, matches: list[tuple[int, int, str]]) -> str:
    pieces = ["… " if start > 0 else ""]
    cursor = start
    for begin, finish, _term in matches:
        pieces.append(escape(text[cursor:begin]))
        pieces.append(f'<b class="match">{escape(text[begin:finish])}</b>')
        cursor = finish
    pieces.append(escape(text[cursor:end]))
    pieces.append(" …" if end < len(text) else "")
    return "".join(pieces).replace("\n", " ")
