"""The dashboard's rollup: `flask --app app reports rebuild`."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db_session
from portal.models import Ticket
from portal.services import report_rollup

group = AppGroup("reports", help="The support dashboard's per-ticket rollup.")


def rebuild_rollup() -> int:
    """Recompute every ticket's row; the demo commands call it after their bulk inserts."""
    session = db_session()
    total = session.scalar(select(func.count()).select_from(Ticket)) or 0
    started = time.perf_counter()
    with click.progressbar(length=total, label="Measuring tickets", show_pos=True) as bar:
        written = report_rollup.rebuild(session, now=utcnow(), on_progress=bar.update)
    click.echo(f"Report rollup: measured {written} tickets in {time.perf_counter() - started:.1f} s.")
    return written


@group.command("rebuild")
def rebuild() -> None:
    """Recompute the dashboard's per-ticket measurements from the tickets, their events and messages. Run it
    after importing tickets outside the portal, or after changing SLA policies, business calendars or agents'
    roles, so that past tickets are measured with the new rules. Safe to run while the portal is up."""
    rebuild_rollup()
