"""The one search every surface uses: help center, live search, new-ticket suggestions, the agents' "Find
article", knowledge capture's similar-article check and `/api/v1/kb/search`.

It adds to the index's search what only the service layer knows: which articles the person may see
(`kb.visible_statuses`) and what earlier searchers found useful (`search_learning.learned_boosts`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from portal.models import User
from portal.search import KbIndex, SearchResults
from portal.services import kb, search_learning


def search_articles(session: Session, index: KbIndex, query: str, *, lang: str | None, actor: User | None,
                    only_lang: str | None = None, section: str | None = None, page: int = 1, per_page: int = 10,
                    visible_statuses: Iterable[str] | None = None) -> SearchResults:
    """Raises `QueryTooLong` like `KbIndex.search`."""
    statuses = tuple(visible_statuses) if visible_statuses is not None else kb.visible_statuses(actor)
    return index.search(query, lang=lang, only_lang=only_lang, section=section, page=page, per_page=per_page,
                        visible_statuses=statuses, boosts=search_learning.learned_boosts(session, query))
