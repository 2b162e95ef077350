"""Synthetic tickets for benchmarks: a year of Alto Fibra's support, in bulk.

Everything but the references comes from the seed, so two runs with the same seed and the same
people give the same tickets. References are random (`services.refs`) and checked against the
database, so running twice only ever adds tickets. Rows go in with Core `insert()` executemany,
one transaction per chunk of tickets; only the tickets' ids are read back.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from sqlalchemy import Connection, Engine, select

from portal.demo.bulk import bulk_insert
from portal.demo.people import SPANISH_DESK, TIER_1
from portal.demo.synthetic_people import Population, ensure_population
from portal.demo.synthetic_text import (
    AGENT_CLOSINGS,
    AGENT_OPENERS,
    CUSTOMER_DETAILS,
    CUSTOMER_FOLLOW_UPS,
    CUSTOMER_OPENERS,
    NOTES,
    PLANS,
    TOPICS,
    Topic,
)
from portal.models import Message, Ticket, TicketEvent, TicketTag
from portal.services.refs import new_ticket_ref

CHUNK_SIZE = 5000
YEAR = 365 * 24 * 3600.0
HOUR = 3600.0
EXTRA_TAGS = ("follow-up", "complaint", "vip", "callback")

tickets_table = Ticket.__table__
messages_table = Message.__table__
events_table = TicketEvent.__table__
tags_table = TicketTag.__table__


class Weighted:
    """Picks from (value, weight) pairs quickly, with the caller's random generator."""

    def __init__(self, pairs) -> None:
        pairs = list(pairs)
        self.values = [v for v, _ in pairs]
        self.bounds = list(accumulate(w for _, w in pairs))

    def pick(self, rng: random.Random):
        return self.values[bisect(self.bounds, rng.random() * self.bounds[-1])]


# Fresh tickets are mostly new or open; after a month nearly everything is closed.
STATUS_BY_AGE = (
    (2 * 24 * HOUR, Weighted([("new", 35), ("open", 35), ("pending", 10), ("on_hold", 3), ("solved", 12),
                              ("closed", 5)])),
    (30 * 24 * HOUR, Weighted([("new", 2), ("open", 25), ("pending", 18), ("on_hold", 8), ("solved", 25),
                               ("closed", 22)])),
    (float("inf"), Weighted([("open", 2), ("pending", 1), ("on_hold", 2), ("solved", 2), ("closed", 93)])),
)
PRIORITY = Weighted([("low", 20), ("normal", 55), ("high", 18), ("urgent", 7)])
CHANNEL = Weighted([("web", 50), ("email", 30), ("phone", 15), ("api", 5)])
LANGUAGE = Weighted([("en", 55), ("es", 45)])
TOPIC = Weighted([(t, t.weight) for t in TOPICS])


@dataclass
class GenerateResult:
    tickets: int = 0
    messages: int = 0
    events: int = 0
    tags: int = 0
    users: int = 0


TICKET_COLUMNS = ("ref", "subject", "status", "priority", "channel", "language", "requester_id", "assignee_id",
                  "group_id", "follow_up_of_id", "created_at", "updated_at", "first_response_at", "solved_at",
                  "closed_at", "status_changed_at", "version")
MESSAGE_COLUMNS = ("ticket_id", "author_id", "body", "public", "channel", "created_at")
EVENT_COLUMNS = ("ticket_id", "actor_id", "created_at", "kind", "field", "old_value", "new_value")
TAG_COLUMNS = ("ticket_id", "tag")


@dataclass
class Chunk:
    """Rows as tuples in the order of the *_COLUMNS above. Tickets still lack their reference, and the
    other rows name their ticket by its index in `tickets` until the ids are known."""

    tickets: list[tuple]
    messages: list[tuple]
    events: list[tuple]
    tags: list[tuple]


def generate_tickets(
    engine: Engine, *, tickets: int, seed: int, messages_per_ticket: int = 3, now: datetime,
    chunk_size: int = CHUNK_SIZE, on_progress: Callable[[int], object] | None = None,
) -> GenerateResult:
    """Add `tickets` synthetic tickets with their conversation, tags and history; returns what was added."""
    now = now.replace(microsecond=0)
    with engine.connect() as conn, _large_sqlite_cache(conn):
        with conn.begin():
            population = ensure_population(conn, now=now)
        builder = ChunkBuilder(random.Random(seed), population, now=now, messages_per_ticket=messages_per_ticket)
        refs = RefSource()
        result = GenerateResult(users=population.created)
        done = 0
        while done < tickets:
            size = min(chunk_size, tickets - done)
            chunk = builder.build(size)
            with conn.begin():
                insert_chunk(conn, chunk, refs.fresh(conn, size))
            result.tickets += size
            result.messages += len(chunk.messages)
            result.events += len(chunk.events)
            result.tags += len(chunk.tags)
            done += size
            if on_progress is not None:
                on_progress(size)
    return result


@contextmanager
def _large_sqlite_cache(conn: Connection) -> Iterator[None]:
    """SQLite's default 2 MB page cache thrashes on six ticket indexes; 256 MB saved a quarter of the time."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size=-262144")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")
        conn.commit()


def insert_chunk(conn: Connection, chunk: Chunk, refs: list[str]) -> None:
    bulk_insert(conn, tickets_table, TICKET_COLUMNS,
                [(ref, *row) for ref, row in zip(refs, chunk.tickets, strict=True)])
    id_by_ref = dict(conn.execute(select(tickets_table.c.ref, tickets_table.c.id)
                                  .where(tickets_table.c.ref.in_(refs))).all())
    ids = [id_by_ref[ref] for ref in refs]
    for table, columns, rows in ((messages_table, MESSAGE_COLUMNS, chunk.messages),
                                 (events_table, EVENT_COLUMNS, chunk.events),
                                 (tags_table, TAG_COLUMNS, chunk.tags)):
        bulk_insert(conn, table, columns, [(ids[row[0]], *row[1:]) for row in rows])


class RefSource:
    """Random references that neither this run nor the database has used."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def fresh(self, conn: Connection, count: int) -> list[str]:
        refs: list[str] = []
        while len(refs) < count:
            batch = {new_ticket_ref() for _ in range(count - len(refs))} - self.used
            taken = set(conn.scalars(select(tickets_table.c.ref).where(tickets_table.c.ref.in_(batch))))
            batch -= taken
            self.used |= batch | taken
            refs.extend(sorted(batch))
        return refs


class ChunkBuilder:
    def __init__(self, rng: random.Random, population: Population, *, now: datetime, messages_per_ticket: int):
        self.rng, self.people, self.now, self.per_ticket = rng, population, now, messages_per_ticket
        all_customers = population.customers["en"] + population.customers["es"]
        self.customers = {lang: ids or all_customers for lang, ids in population.customers.items()}

    def build(self, size: int) -> Chunk:
        chunk = Chunk([], [], [], [])
        for index in range(size):
            self.add_ticket(chunk, index)
        return chunk

    def add_ticket(self, chunk: Chunk, index: int) -> None:
        rng = self.rng
        age = YEAR * rng.random() ** 1.3 + 60
        status = next(table for limit, table in STATUS_BY_AGE if age < limit).pick(rng)
        lang, topic = LANGUAGE.pick(rng), TOPIC.pick(rng)
        requester = rng.choice(self.customers[lang])
        group = self.pick_group(topic, lang, status)
        assignee = None if status == "new" else rng.choice(self.people.members[group])
        channel = CHANNEL.pick(rng)
        subject = rng.choice(topic.subjects[lang]).format(plan=rng.choice(PLANS))
        priority = PRIORITY.pick(rng)
        times = Timeline(rng, self.now, age, status, self.per_ticket)
        messages = self.conversation(index, topic, lang, channel, requester, assignee, times)
        events = self.history(index, status, requester, assignee, times)
        chunk.tickets.append((
            subject, status, priority, channel, lang, requester, assignee,
            self.people.groups[group] if group else None, None, times.created, times.updated,
            times.first_response, times.solved, times.closed,
            max((e[2] for e in events if e[4] == "status"), default=times.created),  # when its status began
            len(messages) + len(events) - 1,
        ))
        chunk.messages.extend(messages)
        chunk.events.extend(events)
        chunk.tags.extend((index, tag) for tag in topic.tags)
        if rng.random() < 0.1:
            chunk.tags.append((index, rng.choice(EXTRA_TAGS)))

    def pick_group(self, topic: Topic, lang: str, status: str) -> str | None:
        rng = self.rng
        if status == "new" and rng.random() < 0.2:
            return None  # not routed yet
        if status != "new" and topic.escalates_to and rng.random() < 0.25:
            return topic.escalates_to
        if topic.group == TIER_1 and lang == "es" and rng.random() < 0.3:
            return SPANISH_DESK
        return topic.group

    def conversation(self, index: int, topic: Topic, lang: str, channel: str, requester: int,
                     assignee: int | None, times: Timeline) -> list[tuple]:
        rng = self.rng
        first = " ".join(filter(None, (rng.choice(CUSTOMER_OPENERS[lang]), rng.choice(topic.problems[lang]),
                                       rng.choice(CUSTOMER_DETAILS[lang]))))
        rows = [(index, requester, first, True, channel, times.created)]
        later_channel = channel if channel in ("email", "phone") else "web"
        last = len(times.turns) - 1
        for n, (who, when) in enumerate(times.turns):
            # Some turns after the first answer are the agent's private notes, but never the last word on a
            # ticket that waits for someone else.
            noted = (assignee is not None and when > times.first_response and (n != last or who == "customer")
                     and rng.random() < 0.2)
            if noted:
                rows.append((index, assignee, rng.choice(NOTES), False, "web", when))
            elif who == "customer":
                rows.append((index, requester, rng.choice(CUSTOMER_FOLLOW_UPS[lang]), True, later_channel, when))
            else:
                body = " ".join(filter(None, (rng.choice(AGENT_OPENERS[lang]), rng.choice(topic.answers[lang]),
                                              rng.choice(AGENT_CLOSINGS[lang]))))
                rows.append((index, assignee, body, True, "web", when))
        return rows

    def history(self, index: int, status: str, requester: int, assignee: int | None,
                times: Timeline) -> list[tuple]:
        rows = [(index, requester, times.created, "created", None, None, None)]
        if status == "new" or assignee is None:
            return rows
        answered = times.first_response
        # The same kinds and values as the records of `portal.status.apply_action`.
        rows.append((index, assignee, answered, "assigned", "assignee_id", None, str(assignee)))
        rows.append((index, assignee, answered, "status_changed", "status", "new", "open"))
        if status in ("pending", "on_hold", "solved"):
            rows.append((index, assignee, times.work_end, "status_changed", "status", "open", status))
        elif status == "closed":
            rows.append((index, assignee, times.work_end, "status_changed", "status", "open", "solved"))
            if times.auto_closed:
                rows.append((index, None, times.closed, "auto_closed", "status", "solved", "closed"))
            else:
                rows.append((index, requester, times.closed, "confirmed", "status", "solved", "closed"))
        return rows


class Timeline:
    """When things happened to one ticket: always created ≤ first response ≤ solved ≤ closed ≤ now."""

    def __init__(self, rng: random.Random, now: datetime, age: float, status: str, per_ticket: int) -> None:
        self.created = now - timedelta(seconds=int(age))
        self.first_response = self.solved = self.closed = None
        self.auto_closed = False
        # (who, when) for each message after the customer's first one.
        self.turns: list[tuple[str, datetime]] = []
        span = age - 30
        if status == "new":
            gaps = [rng.uniform(60, 1800) for _ in range(per_ticket - 1)]
            scale = min(1.0, span / sum(gaps)) if gaps else 1.0
            when = self.created
            for gap in gaps:
                when += timedelta(seconds=int(gap * scale))
                self.turns.append(("customer", when))
            self.updated = self.work_end = when
            return
        who = _authors(per_ticket - 1, status)
        first, work = 120 + rng.expovariate(1 / (4 * HOUR)), 600 + rng.expovariate(1 / (30 * HOUR))
        if not who or len(who) - who.index("agent") == 1:
            work = 0.0  # the first answer was also the last word
        close = 0.0
        if status == "closed":
            close = 28 * 24 * HOUR if rng.random() < 0.4 else rng.uniform(HOUR, 4 * 24 * HOUR)
        scale = min(1.0, span / (first + work + close))
        self.auto_closed = status == "closed" and scale == 1.0 and close == 28 * 24 * HOUR
        self.first_response = self.created + timedelta(seconds=int(first * scale))
        self.work_end = self.updated = self.first_response + timedelta(seconds=int(work * scale))
        if status in ("solved", "closed"):
            self.solved = self.work_end
        if status == "closed":
            self.closed = self.updated = self.work_end + timedelta(seconds=int(close * scale))
        self.place(who)

    def place(self, who: list[str]) -> None:
        """Customers' extra messages before the first answer, then the rest spread until the last word."""
        if not who:
            return
        early = who.index("agent")
        step = (self.first_response - self.created) / (early + 1)
        self.turns.extend(("customer", _second(self.created + step * (n + 1))) for n in range(early))
        rest = len(who) - early
        step = (self.work_end - self.first_response) / max(rest - 1, 1)
        self.turns.extend((who[early + n], _second(self.first_response + step * n)) for n in range(rest - 1))
        self.turns.append((who[-1], self.work_end))


def _authors(count: int, status: str) -> list[str]:
    """Who writes each message after the first: agent and customer in turn, the agent last unless still open."""
    who = ["agent" if n % 2 == 0 else "customer" for n in range(count)]
    if status != "open" and who and who[-1] == "customer":
        who = ["customer"] + who[:-1]
    return who


def _second(when: datetime) -> datetime:
    return when.replace(microsecond=0)
