"""Learning from use: what earlier customers opened and found helpful after a search feeds its ranking.

`learned_boosts(session, query)` → {article path: 0..1}, passed to `KbIndex.search(boosts=...)`, which adds a
small bonus proportional to the boost to an article's score.

The evidence is the search analytics already kept (`portal.services.kb`): a search log row says who searched
(a user id or the anonymous visitor id of their session cookie), for what (`normalized_query`: case and
accents folded) and which result they opened (`opened_path`). What the same person did with that article after
the search says how good the result was:

- opened it: a click, weak evidence (CLICK_WEIGHT);
- opened it and then voted it helpful, or said "this answered my question" on the new-ticket form (a
  `Deflection` of that article by the same user): it answered the question (ANSWERED_WEIGHT); a deflection wins
  over a later vote, since it is the ticket that was not filed;
- opened it and then voted it not helpful: evidence against it (UNHELPFUL_PENALTY).

Bounded so that no single person can move the ranking:

- every distinct person (user id, else visitor id) counts once per (query, article) with their strongest
  signal, however often they search, open or vote; searches with neither id count for nothing;
- an article needs MIN_PEOPLE distinct people who opened it for this query before it gets any boost, and gets
  none when most of them voted it not helpful;
- only searches of the last WINDOW count;
- the boost saturates: `1 - exp(-score / SCALE)`, so nothing exceeds 1, and once an article has enough people
  one more changes its score by at most ANSWERED_WEIGHT (or UNHELPFUL_PENALTY), its boost by at most
  `1 - exp(-ANSWERED_WEIGHT / SCALE)` (about 0.26).

Only exact matches of the normalized query count: cheap (one indexed query), predictable, and a different
wording is a different question until proven otherwise.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections import OrderedDict
from datetime import datetime, timedelta

from sqlalchemy import Engine, Select, String, and_, bindparam, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import ArticleVote, Deflection, SearchLog
from portal.services import kb

WINDOW = timedelta(days=180)
MIN_PEOPLE = 3
CLICK_WEIGHT = 1.0
ANSWERED_WEIGHT = 3.0
UNHELPFUL_PENALTY = 2.0
SCALE = 10.0

# Live search sends a request per keystroke, and every surface (help center, new-ticket suggestions, the API)
# searches the same few popular questions over and over. The boosts of a query change only as fast as people
# open and vote on articles, so each worker process keeps them for a minute instead of asking the database on
# every keystroke. Bounded (least recently used entries go first) so odd queries cannot grow it without end,
# and kept per database engine so two apps in one process (tests, CLI) never see each other's data.
CACHE_SECONDS = 60.0
CACHE_SIZE = 512
_clock = time.monotonic
_lock = threading.Lock()
_caches: weakref.WeakKeyDictionary[Engine, OrderedDict[str, tuple[float, dict[str, float]]]] = (
    weakref.WeakKeyDictionary())


def learned_boosts(session: Session, query: str, *, now: datetime | None = None) -> dict[str, float]:
    """What earlier searchers of `query` found useful: article path → boost in (0, 1); articles without enough
    evidence are left out. Without `now` the answer may be up to CACHE_SECONDS old; an explicit `now`
    (reports, tests, replaying history) asks the database, since the answer depends on that moment."""
    normalized = kb.normalize_query(query)
    if not normalized:
        return {}
    if now is not None:
        return _compute(session, normalized, now)
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _lock:
        cache = _caches.setdefault(engine, OrderedDict())
        entry = cache.get(normalized)
        if entry is not None and entry[0] > _clock():
            cache.move_to_end(normalized)
            return dict(entry[1])
    boosts = _compute(session, normalized, utcnow())
    with _lock:
        cache[normalized] = (_clock() + CACHE_SECONDS, boosts)
        cache.move_to_end(normalized)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return dict(boosts)


def clear_cache() -> None:
    """Forget every cached boost (tests; after importing or deleting analytics)."""
    with _lock:
        _caches.clear()


def boost_for(people: int, answered: int, unhelpful: int) -> float:
    """The boost of an article from the distinct people who opened it after the query: how many of them it
    answered (helpful vote or deflection), how many voted it not helpful, the rest only opened it."""
    if people < MIN_PEOPLE or 2 * unhelpful > people:
        return 0.0
    clicks = people - answered - unhelpful
    score = CLICK_WEIGHT * clicks + ANSWERED_WEIGHT * answered - UNHELPFUL_PENALTY * unhelpful
    return 1.0 - math.exp(-score / SCALE) if score > 0 else 0.0


def _compute(session: Session, normalized: str, now: datetime) -> dict[str, float]:
    rows = session.execute(_EVIDENCE, {"normalized": normalized, "since": now - WINDOW, "until": now,
                                       "min_people": MIN_PEOPLE})
    boosts = {path: boost_for(int(people), int(answered_n), int(unhelpful_n))
              for path, people, answered_n, unhelpful_n in rows}
    return {path: boost for path, boost in boosts.items() if boost > 0}


def _evidence() -> Select:
    """Per article opened after searching `:normalized` between `:since` and `:until`: the distinct people, how
    many it answered and how many found it unhelpful (articles with at least `:min_people` people). Built once:
    a query nobody asked before misses the cache, and building this statement took longer than running it."""
    # The voter key of `kb.vote` ("user:<id>" or "visitor:<id>"), so the vote join uses its unique index.
    voter = case((SearchLog.user_id.is_not(None), literal("user:").concat(cast(SearchLog.user_id, String))),
                 else_=literal("visitor:").concat(SearchLog.visitor_id))
    answered = or_(Deflection.id.is_not(None), ArticleVote.helpful.is_(True))
    per_person = (
        select(SearchLog.opened_path.label("path"),
               func.max(case((answered, 1), else_=0)).label("answered"),
               func.max(case((ArticleVote.helpful.is_(False), 1), else_=0)).label("unhelpful"))
        .outerjoin(ArticleVote, and_(ArticleVote.path == SearchLog.opened_path, ArticleVote.voter == voter,
                                     ArticleVote.updated_at >= SearchLog.created_at))
        .outerjoin(Deflection, and_(Deflection.user_id == SearchLog.user_id,
                                    Deflection.article_path == SearchLog.opened_path,
                                    Deflection.created_at >= SearchLog.created_at))
        .where(SearchLog.normalized_query == bindparam("normalized"),
               SearchLog.created_at >= bindparam("since"), SearchLog.created_at <= bindparam("until"),
               SearchLog.opened_path.is_not(None),
               or_(SearchLog.user_id.is_not(None), and_(SearchLog.visitor_id.is_not(None), SearchLog.visitor_id != "")))
        # One row per person and article: a user's rows carry no visitor id, a visitor's no user id.
        .group_by(SearchLog.opened_path, SearchLog.user_id, case((SearchLog.user_id.is_(None), SearchLog.visitor_id)))
        .subquery()
    )
    only_unhelpful = case((and_(per_person.c.unhelpful == 1, per_person.c.answered == 0), 1), else_=0)
    return (select(per_person.c.path, func.count(), func.sum(per_person.c.answered), func.sum(only_unhelpful))
            .group_by(per_person.c.path).having(func.count() >= bindparam("min_people")))


_EVIDENCE = _evidence()
