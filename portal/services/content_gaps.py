"""What the knowledge base is missing, from what customers did: searches without results, searches whose
results nobody opened, tickets filed after searching (grouped by similar subject), and articles voted
"not helpful". Read-only reports for `/agent/knowledge`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models import ArticleVote, SearchLog, Ticket
from portal.services.kb import normalize_query

PERIODS = (7, 30, 90)
LIMIT = 25
# A ticket filed within this time after its customer searched counts as "filed after seeing suggestions".
SAW_SUGGESTIONS_WINDOW = timedelta(hours=2)
_STOPWORDS_TEXT = """
a an the and or of to in on at for with my your i me is are was it its not no can cant cannot do does my from
this that how what why when help please problem issue
el la los las un una unos unas y o de del a al en con por para mi mis tu no se me es son que como cómo qué
porque cuando ayuda problema
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass
class QueryGap:
    normalized: str
    example: str
    count: int
    langs: list[str]
    last_seen: datetime


@dataclass
class TicketGroup:
    key: str
    subject: str
    tickets: list[Ticket] = field(default_factory=list)
    saw_suggestions: int = 0


@dataclass
class DisputedArticle:
    path: str
    no_votes: int
    yes_votes: int
    comments: list[str]


def since_for(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days if days in PERIODS else PERIODS[1])


def _searches(session: Session, *, since: datetime, lang: str | None, no_results: bool) -> list[QueryGap]:
    condition = (SearchLog.result_count == 0 if no_results
                 else (SearchLog.result_count > 0) & SearchLog.opened_path.is_(None))
    query = (select(SearchLog.normalized_query, func.count(), func.max(SearchLog.query),
                    func.max(SearchLog.created_at))
             .where(condition, SearchLog.created_at >= since, SearchLog.normalized_query != "")
             .group_by(SearchLog.normalized_query).order_by(func.count().desc(), SearchLog.normalized_query)
             .limit(LIMIT))
    if lang:
        query = query.where(SearchLog.lang == lang)
    rows = session.execute(query).all()
    langs: dict[str, set[str]] = defaultdict(set)
    if rows:
        lang_rows = session.execute(select(SearchLog.normalized_query, SearchLog.lang).distinct()
                                    .where(SearchLog.normalized_query.in_([row[0] for row in rows]),
                                           SearchLog.created_at >= since))
        for normalized, language in lang_rows:
            langs[normalized].add(language)
    return [QueryGap(normalized=normalized, example=example, count=count, langs=sorted(langs[normalized]),
                     last_seen=last) for normalized, count, example, last in rows]


def searches_without_results(session: Session, *, since: datetime, lang: str | None = None) -> list[QueryGap]:
    return _searches(session, since=since, lang=lang, no_results=True)


def searches_without_clicks(session: Session, *, since: datetime, lang: str | None = None) -> list[QueryGap]:
    return _searches(session, since=since, lang=lang, no_results=False)


def subject_key(subject: str) -> str:
    """Similar subjects share a key: folded words without small words, the first three sorted."""
    words = [word.strip(".,:;!?¿¡()\"'") for word in normalize_query(subject).split()]
    significant = sorted(dict.fromkeys(word for word in words if len(word) > 2 and word not in STOPWORDS))
    return " ".join(significant[:3])


def tickets_after_suggestions(session: Session, *, since: datetime, lang: str | None = None) -> list[TicketGroup]:
    """Tickets filed on the web, grouped by similar subject; each counts whether its customer searched the
    knowledge base (and got results) shortly before filing. Groups of one without a search are left out."""
    query = select(Ticket).where(Ticket.created_at >= since, Ticket.channel == "web").order_by(Ticket.id.desc())
    if lang:
        query = query.where(Ticket.language == lang)
    tickets = list(session.scalars(query.limit(2000)))
    searched: set[int] = set()
    for ticket in tickets:
        hit = session.scalar(select(SearchLog.id).where(
            SearchLog.user_id == ticket.requester_id, SearchLog.result_count > 0,
            SearchLog.created_at >= ticket.created_at - SAW_SUGGESTIONS_WINDOW,
            SearchLog.created_at <= ticket.created_at).limit(1))
        if hit is not None:
            searched.add(ticket.id)
    groups: dict[str, TicketGroup] = {}
    for ticket in tickets:
        key = subject_key(ticket.subject) or normalize_query(ticket.subject)
        group = groups.setdefault(key, TicketGroup(key=key, subject=ticket.subject))
        group.tickets.append(ticket)
        group.saw_suggestions += ticket.id in searched
    kept = [group for group in groups.values() if len(group.tickets) > 1 or group.saw_suggestions]
    return sorted(kept, key=lambda group: (-group.saw_suggestions, -len(group.tickets), group.key))[:LIMIT]


@dataclass
class ReadThenFiled:
    path: str
    readers: int
    tickets: list[Ticket]


def articles_read_before_tickets(session: Session, *, since: datetime, lang: str | None = None) -> list[ReadThenFiled]:
    """Articles that customers opened from a search and then still filed a ticket (within the window)."""
    query = (select(SearchLog.opened_path, SearchLog.user_id, SearchLog.updated_at)
             .where(SearchLog.opened_path.is_not(None), SearchLog.user_id.is_not(None), SearchLog.updated_at >= since))
    if lang:
        query = query.where(SearchLog.lang == lang)
    found: dict[str, ReadThenFiled] = {}
    for path, user_id, opened_at in session.execute(query.limit(5000)):
        ticket = session.scalar(select(Ticket).where(
            Ticket.requester_id == user_id, Ticket.created_at >= opened_at,
            Ticket.created_at <= opened_at + SAW_SUGGESTIONS_WINDOW).order_by(Ticket.id).limit(1))
        if ticket is None:
            continue
        entry = found.setdefault(path, ReadThenFiled(path=path, readers=0, tickets=[]))
        entry.readers += 1
        if ticket not in entry.tickets:
            entry.tickets.append(ticket)
    return sorted(found.values(), key=lambda entry: (-entry.readers, entry.path))[:LIMIT]


def articles_voted_unhelpful(session: Session, *, since: datetime) -> list[DisputedArticle]:
    votes = session.execute(select(ArticleVote.path, ArticleVote.helpful, ArticleVote.comment)
                            .where(ArticleVote.updated_at >= since).order_by(ArticleVote.updated_at.desc())).all()
    by_path: dict[str, DisputedArticle] = {}
    for path, helpful, comment in votes:
        entry = by_path.setdefault(path, DisputedArticle(path=path, no_votes=0, yes_votes=0, comments=[]))
        if helpful:
            entry.yes_votes += 1
        else:
            entry.no_votes += 1
            if comment and len(entry.comments) < 5:
                entry.comments.append(comment)
    disputed = [entry for entry in by_path.values() if entry.no_votes]
    return sorted(disputed, key=lambda entry: (-entry.no_votes, entry.yes_votes, entry.path))[:LIMIT]
