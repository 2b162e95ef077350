"""Self-service figures: is the knowledge base answering customers before they file a ticket?

The knowledge base is public, so these figures are the same for every agent; only the language filter
applies (searches and views record the language they were made in; deflections do not, and count in full).
docs/metrics.md defines each figure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.models import ArticleView, ArticleVote, Deflection, SearchLog, SentArticle, Ticket
from portal.models.reports import TicketMetric
from portal.services.content_gaps import SAW_SUGGESTIONS_WINDOW
from portal.services.reports import LIST_LIMIT, Period, rate

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class SelfService:
    searches: int
    views: int
    deflections: int
    tickets: int
    filed_after_suggestions: int
    top_searches: list[tuple[str, int]]
    zero_result_searches: list[tuple[str, int]]
    most_viewed: list[tuple[str, int]]
    most_helpful: list[tuple[str, int, int]]  # (path, helpful votes, not helpful votes)
    sent_in_replies: list[tuple[str, int]]

    @property
    def score(self) -> float | None:
        """Article views per ticket created."""
        return self.views / self.tickets if self.tickets else None

    @property
    def deflection_rate(self) -> float | None:
        """Of the customers who saw suggestions, the share who said an article answered them."""
        return rate(self.deflections, self.deflections + self.filed_after_suggestions)


def self_service(session: Session, *, period: Period, language: str = "", now: datetime) -> SelfService:
    start, end = period.start, min(period.end, now)
    searches = [SearchLog.created_at >= start, SearchLog.created_at < end]
    views = [ArticleView.created_at >= start, ArticleView.created_at < end]
    tickets = [Ticket.created_at >= start, Ticket.created_at < end]
    # Counted in the rollup (one row per ticket): its created index also holds the language.
    created = [TicketMetric.created_at >= start, TicketMetric.created_at < end]
    if language:
        searches.append(SearchLog.lang == language)
        views.append(ArticleView.lang == language)
        tickets.append(Ticket.language == language)
        created.append(TicketMetric.language == language)

    def count(model, conditions) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    def top(column, conditions) -> list[tuple[str, int]]:
        rows = session.execute(select(column, func.count()).where(*conditions).group_by(column)
                               .order_by(func.count().desc(), column).limit(LIST_LIMIT))
        return [(value, n) for value, n in rows]

    helpful = session.execute(
        select(ArticleVote.path, func.count().filter(ArticleVote.helpful.is_(True)),
               func.count().filter(ArticleVote.helpful.is_(False)))
        .where(ArticleVote.updated_at >= start, ArticleVote.updated_at < end).group_by(ArticleVote.path)).all()
    most_helpful = sorted(((p, yes, no) for p, yes, no in helpful if yes), key=lambda r: (-r[1], r[2], r[0]))
    return SelfService(
        searches=count(SearchLog, searches), views=count(ArticleView, views),
        deflections=count(Deflection, [Deflection.created_at >= start, Deflection.created_at < end]),
        tickets=count(TicketMetric, created),
        filed_after_suggestions=_filed_after_suggestions(session, tickets, start, end),
        top_searches=top(SearchLog.normalized_query, searches),
        zero_result_searches=top(SearchLog.normalized_query, [*searches, SearchLog.result_count == 0]),
        most_viewed=top(ArticleView.path, views), most_helpful=most_helpful[:LIST_LIMIT],
        sent_in_replies=top(SentArticle.article_path, [SentArticle.created_at >= start, SentArticle.created_at < end]),
    )


def _filed_after_suggestions(session: Session, tickets: list, start: datetime, end: datetime) -> int:
    """Tickets whose requester searched with results in the window before filing. Matched in Python: date
    arithmetic in SQL differs between SQLite and PostgreSQL, and both sides are one range scan."""
    searched: dict[int, list[datetime]] = defaultdict(list)
    for user_id, when in session.execute(
            select(SearchLog.user_id, SearchLog.created_at)
            .where(SearchLog.user_id.is_not(None), SearchLog.result_count > 0,
                   SearchLog.created_at >= start - SAW_SUGGESTIONS_WINDOW, SearchLog.created_at < end)
            .order_by(SearchLog.created_at)):
        searched[user_id].append(when)
    if not searched:
        return 0
    filed = 0
    for requester_id, created_at in session.execute(select(Ticket.requester_id, Ticket.created_at).where(*tickets)):
        moments = searched.get(requester_id)
        if moments:
            index = bisect_left(moments, created_at - SAW_SUGGESTIONS_WINDOW)
            filed += index < len(moments) and moments[index] <= created_at
    return filed
