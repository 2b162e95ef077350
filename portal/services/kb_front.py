"""The help center's front door (issue 19): its sections as cards, the articles its editors promote, and the
articles people read most, all in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from portal.models import ArticleView
from portal.search import KbIndex
from portal.search.results import Hit


@dataclass(frozen=True)
class SectionCard:
    """A top-level section and how many articles the reader can open in it, its subsections included."""

    name: str
    count: int


def section_cards(index: KbIndex, lang: str, visible_statuses: tuple[str, ...]) -> list[SectionCard]:
    """One card per top-level section of the reader's language (a nested `guides/setup` counts for `guides`, whose
    listing includes it); articles outside any section are reached through search."""
    counts: dict[str, int] = {}
    for section, count in index.sections(lang, visible_statuses):
        top = section.split("/", 1)[0]
        if top:
            counts[top] = counts.get(top, 0) + count
    return [SectionCard(name, count) for name, count in sorted(counts.items())]


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def popular_paths(session: Session, *, lang: str, now: datetime, limit: int) -> list[str]:
    """The articles read most this month, in any language (`readable` shows each in the reader's language).
    Articles not read this month follow, by their
    views of all time; so on the 1st of a month, or before anyone read anything this month, the list is the
    all-time favourites rather than empty. One query; a few spare paths for articles since deleted or hidden."""
    # Reads in either language count: a Spanish reader is shown the Spanish version of an article English readers
    # read most (`readable`), since a smaller audience's own counts are often empty or thin.
    this_month = func.count(case((ArticleView.created_at >= month_start(now), 1)))
    rows = session.execute(
        select(ArticleView.path).group_by(ArticleView.path)
        .order_by(this_month.desc(), func.count().desc(), ArticleView.path).limit(limit * 3)
    )
    return list(rows.scalars())


def readable(index: KbIndex, paths: list[str], *, lang: str, visible_statuses: tuple[str, ...],
             limit: int) -> list[Hit]:
    """The articles at `paths` that the reader may open, in the reader's language, in the order given."""
    by_path = {hit.path: hit for hit in index.articles(paths=paths, visible_statuses=visible_statuses)}
    found = [by_path[path] for path in paths if path in by_path]
    keys = [hit.translation_key for hit in found if hit.lang != lang and hit.translation_key]
    translated = {hit.translation_key: hit for hit in index.articles(translation_keys=keys,
                                                                     visible_statuses=visible_statuses)
                  if hit.lang == lang} if keys else {}
    chosen: dict[str, Hit] = {}
    for hit in found:  # theirs, or its translation; one with no version in their language is left out
        mine = hit if hit.lang == lang else translated.get(hit.translation_key)
        if mine is not None:
            chosen.setdefault(mine.path, mine)
    return list(chosen.values())[:limit]
