"""The reports dashboard at scale: server time of `/agent/reports` (whole page, htmx fragment, one CSV) for an
admin and for an agent, the time of each part, and the query plans of every query the page runs.

    PORTAL_INSTANCE_PATH=/tmp/reports-bench flask --app app db upgrade
    PORTAL_INSTANCE_PATH=/tmp/reports-bench flask --app app demo load
    PORTAL_INSTANCE_PATH=/tmp/reports-bench flask --app app demo generate --tickets 100000 --seed 7
    PORTAL_INSTANCE_PATH=/tmp/reports-bench flask --app app reports rebuild   # only for data older than the rollup
    .venv/bin/python -m bench.reports --instance /tmp/reports-bench
    .venv/bin/python -m bench.reports --instance /tmp/reports-bench --database-url postgresql://...  # PostgreSQL

Server time is measured in process (Flask's test client: routing, the services, the queries and the template,
no network), median of `--runs` runs after one warm-up. The figures replace the "reports" section of
bench/RESULTS.md unless `--no-write`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench.results_file import write_section

PERIOD_DAYS = 30
ROOT = Path(__file__).resolve().parent.parent


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: the first run fills caches
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def prepare(instance: Path, tickets: int) -> None:
    """Migrate (the report indexes come with the migrations) and generate the data once per instance."""
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, check=True)
    marker = instance / f"reports-generated-{tickets}"
    if marker.exists() or (instance / "portal.db").exists() and _has_tickets(instance):
        if not _has_rollup(instance):  # data generated before the rollup existed: measure it first
            subprocess.run([*flask, "reports", "rebuild"], cwd=ROOT, check=True)
        return
    subprocess.run([*flask, "demo", "load"], cwd=ROOT, check=True)
    subprocess.run([*flask, "demo", "generate", "--tickets", str(tickets), "--seed", "7"], cwd=ROOT, check=True)
    _refresh_planner_statistics()
    marker.touch()


def _refresh_planner_statistics() -> None:
    """PostgreSQL plans with the statistics autovacuum gathers some time after a bulk load; a benchmark that
    starts right after the generator would measure the planner's guesses (index-only scans also need the
    visibility map VACUUM writes). Production has had autovacuum for hours; so does this database after it."""
    url = os.environ.get("PORTAL_DATABASE_URL", "")
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                               isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()


def _has_tickets(instance: Path) -> bool:
    import sqlite3

    with sqlite3.connect(instance / "portal.db") as conn:
        return conn.execute("SELECT count(*) FROM (SELECT 1 FROM tickets LIMIT 1000)").fetchone()[0] >= 1000


def _has_rollup(instance: Path) -> bool:
    import sqlite3

    if not (instance / "portal.db").exists():
        return True  # another database (--database-url): rebuild it yourself after generating data
    with sqlite3.connect(instance / "portal.db") as conn:
        return conn.execute("SELECT count(*) FROM (SELECT 1 FROM ticket_metrics LIMIT 1)").fetchone()[0] == 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", type=Path, default=Path("/tmp/reports-bench"))
    parser.add_argument("--database-url", default=None, help="default: the instance's SQLite database")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tickets", type=int, default=100_000, help="generated when the instance has no data")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ["PORTAL_INSTANCE_PATH"] = str(args.instance)
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url
    prepare(args.instance, args.tickets)

    from sqlalchemy import event, func, select

    from portal import create_app
    from portal.clock import utcnow
    from portal.extensions import LOGIN_AT
    from portal.models import Message, Ticket, TicketEvent, User
    from portal.services import report_period, report_selfservice, report_tables, reports

    app = create_app({"RATELIMIT_ENABLED": False})
    engine = app.extensions["engine"]
    dialect = engine.dialect.name
    session = app.extensions["sessionmaker"]()
    admin = session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
    agent = session.scalar(select(User).where(User.role == "agent", User.groups.any()).order_by(User.id).limit(1))
    sizes = {name: session.scalar(select(func.count()).select_from(model))
             for name, model in (("tickets", Ticket), ("messages", Message), ("events", TicketEvent))}
    now = utcnow()
    period = reports.parse_period(str(PERIOD_DAYS), None, None, now=now)
    in_period = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.created_at >= period.start))
    none = reports.ReportFilters()

    def client_for(user: User):
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = user.get_id(), True
            cookie[LOGIN_AT] = int(time.time())
        return client

    rows: list[tuple[str, float]] = []
    for who, user in (("admin", admin), ("agent (own + groups)", agent)):
        if user is None:
            continue
        client = client_for(user)

        def page(client=client, query=""):
            response = client.get(f"/agent/reports?period={PERIOD_DAYS}{query}")
            assert response.status_code == 200, response.status_code

        def fragment(client=client):
            response = client.get(f"/agent/reports?period={PERIOD_DAYS}",
                                  headers={"HX-Request": "true", "HX-Target": "report-figures"})
            assert response.status_code == 200

        rows.append((f"{who}: whole page, {PERIOD_DAYS} days", median_ms(page, args.runs)))
        rows.append((f"{who}: htmx figures (every 60 s)", median_ms(fragment, args.runs)))
        rows.append((f"{who}: CSV of one figure", median_ms(lambda p=page: p(query="&format=csv&figure=agents"),
                                                            args.runs)))
    parts = [
        ("part: backlog now", lambda: reports.snapshot(session, actor=admin, filters=none, now=now)),
        ("part: period figures", lambda: report_period.period_figures(session, actor=admin, period=period, filters=none,
                                                                now=now)),
        ("part: self-service", lambda: report_selfservice.self_service(session, period=period, now=now)),
    ]
    rows += [(name, median_ms(action, args.runs)) for name, action in parts]

    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and statement not in {s for s, _ in statements}:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    report_tables.build(session, actor=admin, period=period, filters=none, now=now)
    event.remove(engine, "before_cursor_execute", capture)
    plans = []
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(explain + statement, parameters)
            lines = [" ".join(str(c) for c in row[-1:]) if dialect == "sqlite" else str(row[0])
                     for row in cursor.fetchall()]
            plans.append((" ".join(statement.split())[:160], lines))
    finally:
        raw.close()
    session.close()

    for name, value in rows:
        print(f"{name:45} {value:8.1f} ms")
    for statement, lines in plans:
        print("\n" + statement)
        for line in lines:
            print("   ", line)
    if not args.no_write:
        # One section per database, so a PostgreSQL run sits beside the SQLite one.
        write_section("reports" if dialect == "sqlite" else f"reports_{dialect}",
                      _markdown(dialect, sizes, in_period, rows, plans, args.runs))


def _markdown(dialect, sizes, in_period, rows, plans, runs) -> str:
    lines = [
        "## Reports dashboard (`bench/reports.py`)" + ("" if dialect == "sqlite" else f", {dialect}"),
        "",
        f"Database: {dialect}; {sizes['tickets']:,} tickets ({in_period:,} created in the last {PERIOD_DAYS} "
        f"days), {sizes['messages']:,} messages, {sizes['events']:,} events. Server time in process (Flask "
        f"test client, no network), median of {runs} runs after a warm-up; load average during the run "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs. Period figures read the per-ticket rollup "
        "(`ticket_metrics`, `reply_metrics`; docs/metrics.md) through its covering indexes; the backlog reads the "
        "tickets' status indexes (plans below). Target: the 30-day page in 500 ms or less at 1,000,000 tickets."
        + (" Measured after `VACUUM ANALYZE` of the freshly generated data (straight after the bulk load, before "
           "autovacuum has run, the admin page took 708 ms: planner guesses and no index-only scans)."
           if dialect == "postgresql" else ""),
        "",
        "| request | median |",
        "|---|---:|",
        *[f"| {name} | {value:.0f} ms |" for name, value in rows],
        "",
        "<details><summary>Query plans</summary>",
        "",
    ]
    for statement, plan in plans:
        lines += ["```", statement, *[f"  {line}" for line in plan], "```"]
    lines += ["", "</details>"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
