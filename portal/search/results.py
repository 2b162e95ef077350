"""What a search returns. Plain values, no Whoosh objects: safe to keep after the searcher closes."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.pagination import PageNumbers


@dataclass(frozen=True)
class Hit:
    """One article in a result list. `snippet_html` is safe HTML: escaped text plus `<b class="match">`."""

    path: str
    url: str
    title: str
    lang: str
    section: str
    summary: str
    snippet_html: str
    score: float
    status: str = "published"
    updated: str | None = None
    translation_key: str = ""


@dataclass(frozen=True)
class SearchResults(PageNumbers):
    query: str
    total: int
    suggestion: str | None
    hits: list[Hit]
    page: int = 1
    per_page: int = 10
    fuzzy: bool = False
    # False when nothing matches well: the hits are the closest the help center has, not an answer. The new-ticket
    # form then offers none; the search page lists them under a "no article matches this well" message.
    confident: bool = True


@dataclass
class SyncReport:
    """Paths added, updated and deleted by a sync; `skipped` were left for the next sync (index busy)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rebuilt: bool = False
    embedded: int = 0  # articles whose missing vectors were computed (`KbIndex.backfill_embeddings`)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)
