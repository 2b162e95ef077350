"""The search's own word analysis for other text than articles: ticket subjects compared with each other
(similar incidents) use the same stemming and accent folding as the knowledge base, so "conexión",
"conexiones" and "Conexion" are one word there too."""

from __future__ import annotations

from functools import cache

from portal.search.schema import analyzers

MIN_LENGTH = 3


@cache
def _analyzers():
    return analyzers()


def terms(text: str, lang: str = "en") -> frozenset[str]:
    """The stemmed, accent-folded words of `text` in `lang` (English for an unknown language), without stop
    words and very short words."""
    chosen = _analyzers().get(lang) or _analyzers()["en"]
    return frozenset(token.text for token in chosen(text or "") if len(token.text) >= MIN_LENGTH)
