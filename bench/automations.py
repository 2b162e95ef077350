"""Automations at scale (issue 18): "an hourly automation run over 1,000,000 tickets reads only candidate tickets
through indexes and finishes in under a minute."

    .venv/bin/python -m bench.automations                    # SQLite (WAL), 1M tickets, generated (~1 min)
    .venv/bin/python -m bench.automations --reuse            # SQLite, the file generated last time
    .venv/bin/python -m bench.automations --postgres postgresql://postgres:test@127.0.0.1:5432
    .venv/bin/python -m bench.automations --tickets 100000 --runs 1   # a quick look

The data is a help desk as the hourly run finds it: 1M tickets over three years, ~85% closed, the rest new, open,
pending, on hold and solved, mostly recent (older ones were closed long ago); groups, priorities, channels and
languages spread as in the demo. Five automations of the kinds teams write are installed through
services.rules.manage (so validation applies), and the data is as the previous run, `--backlog-hours` (default 1)
before, left it: tickets that crossed a threshold earlier carry that run's firing or tag; those that crossed it
since are this run's work. Rows go in with bulk inserts (portal.demo.bulk: the driver's executemany on SQLite,
COPY on PostgreSQL) with the ticket indexes built afterwards. The generated SQLite file is kept in /tmp and
`--reuse` starts from it; on PostgreSQL the data goes to a template database (mesa_bench_automations_template)
and each run to a copy of it (mesa_bench_automations), both dropped at the end unless `--reuse`.

Each of `--runs` rounds starts from a fresh copy of the generated data and times, in one process:
the baseline (the same run with every automation switched off: the fixed cost), each automation's candidate query
counted alone, the hourly run (services.rules.automations.run), and a second run right after (nothing left to do).
The table gives the medians, the candidates read against the tickets, the tickets acted on, and the query plan
of each automation's candidate query (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN). Notifications are queued,
never sent. Nothing is written to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update

CACHE = Path("/tmp")
PG_DATABASE = "mesa_bench_automations"
PG_TEMPLATE = f"{PG_DATABASE}_template"
NOW = datetime(2026, 12, 1, 12, 0)  # the hourly run's clock; the data is generated around it
DAYS = 3 * 365
CHUNK = 50_000
# The spread of statuses: a desk that has been working for three years.
STATUSES = (("closed", 85.0), ("new", 1.5), ("open", 5.0), ("pending", 3.0), ("on_hold", 1.0), ("solved", 4.5))
PRIORITIES = (("low", 15), ("normal", 60), ("high", 20), ("urgent", 5))
CHANNELS = (("email", 50), ("web", 35), ("api", 5), ("phone", 10))
LANGUAGES = (("en", 70), ("es", 30))
# How long a ticket of each status has been in it, in days: at most (most are much younger, see `_age`).
RECENT_DAYS = {"new": 4, "open": 40, "pending": 20, "on_hold": 60, "solved": 10}


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min), {fifteen:.2f} (15 min) on {os.cpu_count()} CPUs"


def automations_data(groups: dict[str, int]) -> list[dict]:
    """What a team sets up: reminders, notices and escalations, each ending itself or once per ticket."""
    mail = {"type": "send_email", "subject_en": "About {{ ticket.ref }}", "subject_es": "Sobre {{ ticket.ref }}",
            "body_en": "Hello {{ requester.name }}", "body_es": "Hola {{ requester.name }}"}
    tier2 = groups["Tier 2"] if "Tier 2" in groups else sorted(groups.values())[1]
    return [
        {"name": "Remind pending after 3 days", "kind": "automation", "once_per_ticket": True,
         "conditions_all": [{"field": "status", "op": "is", "value": "pending"},
                            {"field": "hours_since_updated", "op": "greater_than", "value": 72}],
         "actions": [mail | {"to": "requester"}]},
        {"name": "Solve pending after 10 days", "kind": "automation",
         "conditions_all": [{"field": "status", "op": "is", "value": "pending"},
                            {"field": "hours_since_updated", "op": "greater_than", "value": 240}],
         "actions": [{"type": "set_status", "value": "solved"}]},
        {"name": "Notify the group: new and unassigned for 30 hours", "kind": "automation", "once_per_ticket": True,
         "conditions_all": [{"field": "status", "op": "is", "value": "new"},
                            {"field": "assignee", "op": "unassigned"},
                            {"field": "hours_since_created", "op": "greater_than", "value": 30}],
         "actions": [mail | {"to": "group"}]},
        {"name": "Escalate high priority open for 48 hours", "kind": "automation",
         "conditions_all": [{"field": "status", "op": "is", "value": "open"},
                            {"field": "priority", "op": "above", "value": "normal"},
                            {"field": "hours_since_updated", "op": "greater_than", "value": 48},
                            {"field": "tags", "op": "has_not", "value": ["escalated"]}],
         "actions": [{"type": "add_tags", "value": ["escalated"]}, {"type": "set_group", "value": tier2},
                     {"type": "add_note", "body": "Escalated: high priority and quiet for two days."}]},
        {"name": "Ask for a rating 2 days after solving", "kind": "automation", "once_per_ticket": True,
         "conditions_all": [{"field": "status", "op": "is", "value": "solved"},
                            {"field": "hours_since_solved", "op": "greater_than", "value": 48}],
         "actions": [mail | {"to": "requester"}]},
    ]


# ---- The data -------------------------------------------------------------------------------------------------


class Weighted:
    def __init__(self, pairs) -> None:
        self.values = [v for v, _ in pairs]
        self.weights = [w for _, w in pairs]

    def pick(self, rng: random.Random, k: int) -> list:
        return rng.choices(self.values, self.weights, k=k)


def _age(rng: random.Random, status: str) -> float:
    """Hours in its status: most tickets moved recently, a long tail did not."""
    return min(rng.expovariate(1 / (RECENT_DAYS[status] * 24 / 4)), RECENT_DAYS[status] * 24)


def ticket_rows(count: int, people, backlog: float, seed: int = 18):
    """Chunks of (tickets, tags, firings-by-rule-name). `backlog`: hours since the previous run; a ticket past
    an automation's threshold for longer carries what that run did (its firing, its tag, its later change)."""
    rng = random.Random(seed)
    statuses, priorities = Weighted(STATUSES), Weighted(PRIORITIES)
    channels, languages = Weighted(CHANNELS), Weighted(LANGUAGES)
    groups = sorted(people.groups.values())  # the same ids on either database, whatever order they came in
    agents = people.agents
    customers = people.customers["en"] + people.customers["es"]
    previous = NOW - timedelta(hours=backlog)  # the previous run's clock
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        tickets, tags, firings = [], [], []
        for n, status, priority, channel, language in zip(
                range(start + 1, start + size + 1), statuses.pick(rng, size), priorities.pick(rng, size),
                channels.pick(rng, size), languages.pick(rng, size), strict=True):
            solved_at = closed_at = first_response = None
            assignee, group = rng.choice(agents), rng.choice(groups)
            if status == "closed":
                created = NOW - timedelta(days=rng.uniform(35, DAYS))
                solved_at = created + timedelta(hours=rng.uniform(1, 200))
                closed_at = updated = solved_at + timedelta(days=28)
                first_response = created + timedelta(hours=rng.uniform(0.1, 8))
            else:
                moved = NOW - timedelta(hours=_age(rng, status))
                created = moved - timedelta(hours=0 if status == "new" else rng.uniform(0, 24 * 14))
                updated = moved
                if status == "new":
                    assignee = None if rng.random() < 0.7 else assignee
                else:
                    waited = (moved - created).total_seconds() / 3600
                    first_response = created + timedelta(hours=rng.uniform(0.1, min(8.0, waited + 0.1)))
                if status == "solved":
                    solved_at = moved
                    if solved_at < previous - timedelta(hours=48):
                        firings.append(("Ask for a rating 2 days after solving", n, solved_at + timedelta(hours=48)))
                elif status == "pending":
                    if moved < previous - timedelta(hours=240):  # solved by the previous runs: older ones are
                        updated = moved = previous - timedelta(hours=rng.uniform(72, 240))  # not pending any more
                    if moved < previous - timedelta(hours=72):
                        firings.append(("Remind pending after 3 days", n, moved + timedelta(hours=72)))
                elif status == "new" and assignee is None and created < previous - timedelta(hours=30):
                    firings.append(("Notify the group: new and unassigned for 30 hours", n,
                                    created + timedelta(hours=30)))
                elif status == "open" and priority in ("high", "urgent") and moved < previous - timedelta(hours=48):
                    tags.append((n, "escalated"))  # escalated by an earlier run, quiet since
            tickets.append((n, f"BEN-{n:07d}", f"Bench ticket {n}", status, priority, channel, language,
                            rng.choice(customers), assignee, group, None, created, updated, first_response,
                            solved_at, closed_at, 1))
        yield tickets, tags, firings


TICKET_COLUMNS = ("id", "ref", "subject", "status", "priority", "channel", "language", "requester_id", "assignee_id",
                  "group_id", "follow_up_of_id", "created_at", "updated_at", "first_response_at", "solved_at",
                  "closed_at", "version")


def generate(url: str, folder: Path, tickets: int, backlog: float) -> None:
    """Migrate, add people and the automations (through the services), then the tickets in bulk."""
    from portal.cli.db import upgrade_to_head
    from portal.demo.bulk import bulk_insert
    from portal.demo.synthetic_people import ensure_population
    from portal.models import RuleFiring, Ticket, TicketTag
    from portal.services import accounts
    from portal.services.rules import manage

    app = make_app(url, folder)
    upgrade_to_head(app)
    engine = app.extensions["engine"]
    with engine.begin() as conn:
        people = ensure_population(conn, now=NOW - timedelta(days=DAYS + 1))
    session = app.extensions["sessionmaker"]()
    admin = accounts.create_user(session, email="bench.admin@example.net", name="Admin", password="x" * 12,
                                 role="admin", now=NOW - timedelta(days=DAYS))
    rules = {data["name"]: manage.create_rule(session, data, actor=admin, now=NOW - timedelta(days=DAYS)).id
             for data in automations_data(people.groups)}
    session.commit()
    session.close()
    with engine.begin() as conn:
        dropped = _drop_ticket_indexes(conn)
        for chunk, tags, firings in ticket_rows(tickets, people, backlog):
            bulk_insert(conn, Ticket.__table__, TICKET_COLUMNS, chunk)
            bulk_insert(conn, TicketTag.__table__, ("ticket_id", "tag"), tags)
            bulk_insert(conn, RuleFiring.__table__, ("rule_id", "ticket_id", "fired_at", "event", "summary"),
                        [(rules[name], n, at, "automation", "") for name, n, at in firings])
        for statement in dropped:
            conn.exec_driver_sql(statement)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('tickets', 'id'), "
                                 "(SELECT max(id) FROM tickets))")
    if engine.dialect.name == "postgresql":  # the statistics autovacuum would gather soon after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def _drop_ticket_indexes(conn) -> list[str]:
    """Drop the tickets' secondary indexes (a bulk load then builds each once); returns how to make them again."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-262144")
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                                    "tbl_name = 'tickets' AND sql IS NOT NULL").all()
    else:
        rows = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' AND "
                                    "indexname NOT IN (SELECT conname FROM pg_constraint)").all()
    for name, _sql in rows:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


# ---- Databases ------------------------------------------------------------------------------------------------


def make_app(url: str, folder: Path):
    from portal import create_app

    return create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                       "RATELIMIT_STORAGE_URI": "memory://"})


class Sqlite:
    def __init__(self, tickets: int, backlog: float, folder: Path) -> None:
        self.source = CACHE / f"mesa-bench-automations-{tickets}-{backlog:g}h.db"
        self.copy = folder / "bench.db"
        self.url = f"sqlite:///{self.copy}"

    def prepare(self, tickets: int, backlog: float, folder: Path, reuse: bool) -> bool:
        if reuse and self.source.exists():
            return False
        self.source.unlink(missing_ok=True)
        generate(f"sqlite:///{self.source}", folder, tickets, backlog)
        from sqlite3 import connect

        with connect(self.source) as conn:  # one file to copy: the write-ahead log folded in
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True

    def fresh(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.source, self.copy)

    def finish(self, reuse: bool) -> None:
        pass  # the source stays in /tmp for --reuse; the copy goes with the temporary folder


class Postgres:
    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.url = f"{self.server}/{PG_DATABASE}"

    def _admin(self, *statements: str) -> None:
        from portal.db import make_engine

        engine = make_engine(f"{self.server}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        engine.dispose()

    def _exists(self, name: str) -> bool:
        from portal.db import make_engine

        engine = make_engine(f"{self.server}/postgres")
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        engine.dispose()
        return found is not None

    def prepare(self, tickets: int, backlog: float, folder: Path, reuse: bool) -> bool:
        if reuse and self._exists(PG_TEMPLATE):
            return False
        self._admin(f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"DROP DATABASE IF EXISTS {PG_TEMPLATE}",
                    f"CREATE DATABASE {PG_TEMPLATE}")
        generate(f"{self.server}/{PG_TEMPLATE}", folder, tickets, backlog)
        return True

    def fresh(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {PG_DATABASE}", f"CREATE DATABASE {PG_DATABASE} TEMPLATE {PG_TEMPLATE}")
        from portal.db import make_engine

        engine = make_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:  # a copied database keeps the statistics but not the visibility map
            conn.exec_driver_sql("VACUUM tickets")
        engine.dispose()

    def finish(self, reuse: bool) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {PG_DATABASE}",
                    *(() if reuse else (f"DROP DATABASE IF EXISTS {PG_TEMPLATE}",)))


# ---- Measuring ------------------------------------------------------------------------------------------------


def explain(session, statement) -> list[str]:
    """The plan of a Core statement, as the database prints it: the SQL and parameters the driver receives are
    caught on their way (expanded IN lists, dates as stored) and sent again behind EXPLAIN."""
    from sqlalchemy import event

    engine, caught = session.get_bind(), []

    def catch(conn, cursor, statement_, parameters, context, executemany):
        caught.append((statement_, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    try:
        session.execute(statement).all()
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    sql, parameters = caught[0]
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    return [row[-1] for row in session.connection().exec_driver_sql(prefix + sql, parameters)]


def one_round(app, *, plans: bool) -> dict:
    from portal.models import Rule, Ticket
    from portal.services.rules import automations

    session = app.extensions["sessionmaker"]()
    figures: dict = {"plans": {}, "counts": {}, "count_ms": {}}
    rules = list(session.scalars(select(Rule).where(Rule.kind == "automation").order_by(Rule.position)))
    for rule in rules:
        query = automations.candidates_query(rule, NOW)
        counted = select(func.count()).select_from(query.subquery())
        started = time.perf_counter()
        figures["counts"][rule.name] = session.scalar(counted)
        figures["count_ms"][rule.name] = (time.perf_counter() - started) * 1000
        if plans:
            first_batch = query.where(query.selected_columns.id > 0).limit(automations.BATCH)
            figures["plans"][rule.name] = explain(session, first_batch)
    session.execute(update(Rule).values(enabled=False))
    session.commit()
    started = time.perf_counter()
    automations.run(session, now=NOW)
    figures["baseline_s"] = time.perf_counter() - started
    session.execute(update(Rule).values(enabled=True))
    session.commit()
    for key in ("first", "second"):
        started = time.perf_counter()
        report = automations.run(session, now=NOW)
        figures[f"{key}_s"] = time.perf_counter() - started
        figures[f"{key}_checked"], figures[f"{key}_acted"] = report.checked, report.total
        figures[f"{key}_fired"] = {name: len(refs) for name, refs in report.fired.items()}
        figures[f"{key}_notifications"], figures[f"{key}_errors"] = len(report.notifications), len(report.errors)
    figures["tickets"] = session.scalar(select(func.count()).select_from(Ticket))
    session.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="rounds, each on a fresh copy of the data")
    parser.add_argument("--backlog-hours", type=float, default=1.0,
                        help="hours since the previous run (1: cron ran an hour ago; 24: it missed a day)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server, e.g. "
                        "postgresql://postgres:test@127.0.0.1:5432 (the bench creates and drops its databases)")
    parser.add_argument("--reuse", action="store_true", help="start from the data generated last time and keep it")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-automations-"))
    database = Postgres(args.postgres) if args.postgres else Sqlite(args.tickets, args.backlog_hours, folder)
    print(f"Load before: {load_average()}", flush=True)
    started = time.perf_counter()
    generated = database.prepare(args.tickets, args.backlog_hours, folder, args.reuse)
    generation = time.perf_counter() - started
    print(f"Data: {'generated in' if generated else 'reused, prepared in'} {generation:.1f} s", flush=True)
    rounds = []
    try:
        for n in range(args.runs):
            database.fresh()
            app = make_app(database.url, folder)
            rounds.append(one_round(app, plans=n == 0))
            app.extensions["engine"].dispose()
            r = rounds[-1]
            print(f"round {n + 1}: baseline {r['baseline_s']:.3f} s, hourly run {r['first_s']:.2f} s "
                  f"({r['first_checked']} read, {r['first_acted']} acted), second run {r['second_s']:.2f} s "
                  f"({r['second_checked']} read, {r['second_acted']} acted)", flush=True)
    finally:
        database.finish(args.reuse)
        shutil.rmtree(folder, ignore_errors=True)
    report(args, rounds, generated, generation, "postgresql" if args.postgres else "sqlite")


def report(args, rounds: list[dict], generated: bool, generation: float, dialect: str) -> None:
    first = rounds[0]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(f"\nDatabase: {dialect}; {first['tickets']:,} tickets; {'generated' if generated else 'reused'} in "
          f"{generation:.1f} s; previous run {args.backlog_hours:g} h before; {len(rounds)} round(s), medians")
    print(f"{'automation':<52}{'candidates':>11}{'count ms':>10}{'acted':>7}")
    for name, count in first["counts"].items():
        print(f"{name:<52}{count:>11,}{statistics.median(r['count_ms'][name] for r in rounds):>10.1f}"
              f"{first['first_fired'].get(name, 0):>7}")
    print(f"Baseline (every automation off): {median('baseline_s') * 1000:.1f} ms")
    runs = ", ".join(f"{r['first_s']:.2f}" for r in rounds)
    print(f"Hourly run: {median('first_s'):.2f} s (runs: {runs}); "
          f"{first['first_checked']:,} candidates read of {first['tickets']:,} tickets, {first['first_acted']} "
          f"acted on, {first['first_notifications']} notifications queued, {first['first_errors']} errors")
    print(f"Second run: {median('second_s'):.2f} s; {first['second_checked']:,} read, {first['second_acted']} "
          f"acted on. Target (issue 18): under 60 s.")
    print(f"Load after: {load_average()}")
    print(f"\nCandidate queries ({'EXPLAIN QUERY PLAN' if dialect == 'sqlite' else 'EXPLAIN'}, the first batch):")
    for name, plan in first["plans"].items():
        print(f"{name}:")
        print("\n".join("    " + line for line in plan))


if __name__ == "__main__":
    main()
