"""Business rules' cost: filing a ticket and a status change, with 0 and with 50 enabled triggers whose realistic
conditions mostly do not match. The target (issue 18): at most 20% more with 50 triggers.

    .venv/bin/python -m bench.rules                       # SQLite in a temporary folder
    .venv/bin/python -m bench.rules --runs 600 --database-url postgresql://postgres:test@127.0.0.1:5432/postgres

Each operation is the service call and its commit, in one process (no HTTP: the rules cost nothing there). The
two settings alternate in rounds, so a change in the machine's load touches both alike; the table gives the
median (and p90) of every run of each, and the load average before and after. The table is written to its
section of bench/RESULTS.md ("rules"; "rules_postgresql" for a PostgreSQL run) unless `--no-write`.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select, text, update

from bench.results_file import write_section

RULES = 50
CHANNELS = ("web", "email", "api", "phone")


def realistic_rules(groups: list[int], agents: list[int], categories: list[int]) -> list[dict]:
    """Fifty triggers of the kinds teams write: routing by domain, keywords, channel and category, VIP handling,
    notes and tags on status changes. Almost none match the bench's tickets (which come from example.com)."""
    rules = []
    for n in range(RULES):
        kind = n % 5
        if kind == 0:  # mail from a client's domain: premium routing
            conditions = [{"field": "requester_domain", "op": "is", "value": f"client{n}.com"}]
            actions = [{"type": "set_priority", "value": "high"}, {"type": "set_group", "value": groups[n % 3]}]
            events = ["ticket_created"]
        elif kind == 1:  # keywords in the subject or description
            conditions = [{"field": "subject_or_description", "op": "contains_any_word",
                           "value": f"factura{n} refund{n} reembolso{n} cancel{n}*"}]
            actions = [{"type": "set_category", "value": categories[n % 2]}, {"type": "add_tags", "value": "billing"}]
            events = ["ticket_created", "customer_replied"]
        elif kind == 2:  # a channel and a category
            conditions = [{"field": "channel", "op": "is", "value": CHANNELS[1 + n % 3]},
                          {"field": "category", "op": "is", "value": categories[n % 2]}]
            actions = [{"type": "set_assignee", "value": "auto"}]
            events = ["ticket_created", "ticket_updated"]
        elif kind == 3:  # a status change of a VIP
            conditions = [{"field": "status", "op": "changed_to", "value": "solved"},
                          {"field": "tags", "op": "has", "value": [f"vip{n}"]}]
            actions = [{"type": "add_note", "body": "VIP solved: {{ ticket.ref }}"}]
            events = ["status_changed"]
        else:  # urgent and unassigned, or a premium customer's plan
            conditions = [{"field": "priority", "op": "is", "value": "urgent"},
                          {"field": "assignee", "op": "unassigned"}]
            actions = [{"type": "set_assignee", "value": agents[n % len(agents)]}]
            events = ["ticket_created", "ticket_updated", "status_changed"]
        rules.append({"name": f"Bench rule {n:02d}", "events": events, "conditions_all": conditions,
                      "actions": actions})
    return rules


def load_average() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=400, help="Runs of each operation per setting.")
    parser.add_argument("--round", type=int, default=20, help="Runs per setting before switching to the other.")
    parser.add_argument("--database-url", help="A PostgreSQL database: the bench works in a schema of its own, "
                        "dropped at the end (default: SQLite in a temporary folder).")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()

    from portal import create_app
    from portal.cli.db import upgrade_to_head
    from portal.clock import utcnow
    from portal.db import make_engine
    from portal.models import Group, Rule, Ticket
    from portal.services import accounts, categories, tickets
    from portal.services.rules import engine as rules_engine
    from portal.services.rules import manage

    folder = Path(tempfile.mkdtemp(prefix="bench-rules-"))
    atexit.register(shutil.rmtree, folder, True)
    url, schema = f"sqlite:///{folder / 'bench.db'}", None
    if args.database_url:  # a schema of our own, dropped at the end: the database's other contents are untouched
        schema = f"bench_rules_{uuid.uuid4().hex[:8]}"
        with make_engine(args.database_url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in args.database_url else "?"
        url = f"{args.database_url}{separator}options=-csearch_path%3D{schema}"
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": "bench",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    upgrade_to_head(app)
    session = app.extensions["sessionmaker"]()
    now = utcnow()
    admin = accounts.create_user(session, email="admin@example.com", name="Admin", password="x" * 12, role="admin",
                                 now=now)
    customer = accounts.create_user(session, email="ana@example.com", name="Ana", password="x" * 12, now=now)
    agents = [accounts.create_user(session, email=f"agent{n}@example.com", name=f"Agent {n}", password="x" * 12,
                                   role="agent", now=now) for n in range(3)]
    groups = [Group(name=f"Tier {n}", tier=n, members=agents) for n in (1, 2, 3)]
    session.add_all(groups)
    cats = categories.ensure_default_categories(session)[:2]
    session.commit()
    for data in realistic_rules([g.id for g in groups], [a.id for a in agents], [c.id for c in cats]):
        manage.create_rule(session, data, actor=admin, now=now)
    session.commit()
    # Some history, so the queries run against tables that are not empty.
    for n in range(300):
        tickets.create_ticket(session, requester=customer, subject=f"Earlier {n}", description="Old.", actor=customer,
                              now=utcnow())
    session.commit()
    agent = agents[0]
    toggled = tickets.create_ticket(session, requester=customer, subject="Toggled", description="x",
                                    actor=customer, now=utcnow()).ticket
    toggled.assignee_id = agent.id
    tickets.set_status(session, toggled, "open", actor=agent, now=utcnow())
    session.commit()

    def file_one() -> None:
        tickets.create_ticket(session, requester=customer, subject="The router restarts every night",
                              description="Since Monday the router restarts at 3 am and the line drops.",
                              actor=customer, now=utcnow())
        session.commit()

    def change_status() -> None:
        ticket = session.get(Ticket, toggled.id)
        tickets.set_status(session, ticket, "pending" if ticket.status == "open" else "open", actor=agent,
                           now=utcnow())
        session.commit()

    def set_rules(enabled: bool) -> None:
        session.execute(update(Rule).values(enabled=enabled, version=Rule.version + 1))
        session.commit()
        file_one()  # the first transaction re-reads the rules: not measured

    # The engine's own share: its time inside each commit, measured around services.rules.engine.run.
    in_rules = [0.0]
    measured_run = rules_engine.run

    def timed_run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return measured_run(*args, **kwargs)
        finally:
            in_rules[0] += (time.perf_counter() - started) * 1000

    rules_engine.run = timed_run
    engine_ms: dict[tuple[str, int], list[float]] = {}
    timings: dict[tuple[str, int], list[float]] = {}
    operations = {"file a ticket": file_one, "change a status": change_status}
    dialect, load_before = session.get_bind().dialect.name, load_average()
    print(f"Database: {dialect}; load before: {load_before}")
    for enabled in (False, True):  # warm-up
        set_rules(enabled)
        for operation in operations.values():
            for _ in range(20):
                operation()
    done = 0
    while done < args.runs:
        for enabled in (False, True):
            set_rules(enabled)
            for name, operation in operations.items():
                bucket = timings.setdefault((name, RULES if enabled else 0), [])
                share = engine_ms.setdefault((name, RULES if enabled else 0), [])
                for _ in range(args.round):
                    in_rules[0] = 0.0
                    started = time.perf_counter()
                    operation()
                    bucket.append((time.perf_counter() - started) * 1000)
                    share.append(in_rules[0])
        done += args.round
    fired = session.scalar(text("SELECT count(*) FROM rule_firings"))
    enabled_now = session.scalar(select(Rule.id).where(Rule.enabled.is_(True)).limit(1)) is not None
    load_after = load_average()
    print(f"Load after: {load_after}; rule firings during the run: {fired}; rules enabled at the end: "
          f"{enabled_now}")
    print(f"{'operation':<18}{'rules':>6}{'runs':>7}{'median ms':>11}{'p90 ms':>9}{'vs 0 rules':>12}"
          f"{'engine ms (median)':>20}")
    rows = []
    for name in operations:
        base = statistics.median(timings[(name, 0)])
        for count in (0, RULES):
            values = sorted(timings[(name, count)])
            median = statistics.median(values)
            p90 = values[int(len(values) * 0.9)]
            engine_median = statistics.median(engine_ms[(name, count)])
            print(f"{name:<18}{count:>6}{len(values):>7}{median:>11.2f}{p90:>9.2f}{median / base - 1:>+12.1%}"
                  f"{engine_median:>20.2f}")
            rows.append(f"| {name} | {count} | {len(values)} | {median:.2f} | {p90:.2f} | {median / base - 1:+.1%} "
                        f"| {engine_median:.2f} |")
    if not args.no_write:
        # One section per database, so a PostgreSQL run sits beside the SQLite one.
        write_section("rules" if dialect == "sqlite" else f"rules_{dialect}",
                      _markdown(dialect, args, rows, load_before, load_after, fired, enabled_now))
    session.close()
    app.extensions["engine"].dispose()
    if schema is not None:
        with make_engine(args.database_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))



def _markdown(dialect: str, args: argparse.Namespace, rows: list[str], load_before: str, load_after: str,
              fired: int, enabled_now: bool) -> str:
    return "\n".join([
        "## Business rules (`bench/rules.py`)" + ("" if dialect == "sqlite" else f", {dialect}"),
        "",
        f"Database: {dialect}. Each operation is the service call and its commit, in one process (no HTTP), with 0 "
        f"and with {RULES} enabled triggers of the kinds teams write (routing by domain, keywords, channel and "
        "category, VIP notes, urgent assignment) whose conditions do not match the bench's tickets; 300 earlier "
        f"tickets in the database. The two settings alternate in rounds of {args.round} runs, {args.runs} runs of "
        "each operation per setting after a warm-up; times in ms. \"engine ms\" is the time spent inside "
        "`services.rules.engine.run` during the commit. Target (issue 18): at most +20% with 50 triggers.",
        "",
        "| operation | rules | runs | median ms | p90 ms | vs 0 rules | engine ms (median) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Load average before: {load_before}; after: {load_after}. Rule firings during the run: {fired}; rules "
        f"enabled at the end: {'yes' if enabled_now else 'no'} (a rule switched off by the engine would show here).",
    ])


if __name__ == "__main__":
    main()
