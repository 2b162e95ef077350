"""Demo data for trying the portal, and synthetic tickets for benchmarks."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from portal.cli.reports import rebuild_rollup
from portal.clock import utcnow
from portal.demo import DEMO_PASSWORD, load_demo
from portal.demo.rules import ensure_rules
from portal.demo.synthetic import generate_tickets
from portal.extensions import db_session

group = AppGroup("demo", help="Demo data (Alto Fibra) and synthetic tickets for benchmarks.")


@group.command("load")
def load() -> None:
    """Add the demo accounts, groups and tickets that are missing. Safe to run on every start."""
    result = load_demo(db_session(), now=utcnow())
    db_session().commit()
    # After the demo's own tickets are committed: the rules apply to what happens next, not to the stories.
    if ensure_rules(db_session(), now=utcnow()):
        db_session().commit()
        click.echo("Demo rules: added (Admin → Rules).")
    if result.nothing_added:
        click.echo("Demo data already loaded.")
    else:
        click.echo(f"Demo data: added {result.users} accounts, {result.groups} groups, {result.tickets} tickets "
                   f"(password for every demo account: {DEMO_PASSWORD}).")
        rebuild_rollup()  # also measures the tickets of a database older than the rollup


@group.command("generate")
@click.option("--tickets", "count", type=click.IntRange(min=1), required=True, help="How many tickets to add.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same tickets.")
@click.option("--messages-per-ticket", type=click.IntRange(min=1, max=50), default=3, show_default=True)
def generate(count: int, seed: int, messages_per_ticket: int) -> None:
    """Add COUNT synthetic tickets (and the customers, agents and groups they need) for benchmarks."""
    started = time.perf_counter()
    with click.progressbar(length=count, label="Generating tickets", show_pos=True) as bar:
        result = generate_tickets(
            current_app.extensions["engine"], tickets=count, seed=seed, messages_per_ticket=messages_per_ticket,
            now=utcnow(), on_progress=bar.update,
        )
    elapsed = time.perf_counter() - started
    click.echo(f"Added {result.tickets} tickets, {result.messages} messages, {result.events} events, "
               f"{result.tags} tags, {result.users} accounts in {elapsed:.1f} s.")
    rebuild_rollup()  # the bulk inserts bypass the session that keeps the rollup current
