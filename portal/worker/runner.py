"""`flask --app app worker`: one long-running process that runs every job of jobs.py on its interval.

APScheduler (a BackgroundScheduler: its threads fire the jobs, the main thread waits for Ctrl-C or SIGTERM) only
says *when*. Whether this worker may run a job now is decided in the database (services.job_runs): with a worker
on each host, each run happens on one of them, and a worker that died hands its jobs over when its lease ends.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.clock import utcnow
from portal.services import job_runs
from portal.worker.jobs import JOBS, Job, JobFailed

log = logging.getLogger(__name__)

# A lease outlives a normal run; a run that takes longer may overlap with another worker's, which the jobs
# tolerate (each ticket, mail and delivery is claimed on its own).
MIN_LEASE = timedelta(seconds=60)


def lease_for(interval: timedelta) -> timedelta:
    return max(interval * 2, MIN_LEASE)


class Runner:
    """Runs one job once, if this worker gets its lease, and records how it went."""

    def __init__(self, app: Flask, *, owner: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.app = app
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.clock = clock

    def run(self, job: Job) -> bool:
        """True when this worker ran the job (whatever the outcome), False when another one had it."""
        interval = timedelta(seconds=job.interval(self.app))
        started = self.clock()
        with self.app.extensions["sessionmaker"]() as session:
            # Half an interval: a run another worker just finished counts for this one too.
            if not job_runs.take(session, job.name, self.owner, now=started, lease=lease_for(interval),
                                 min_gap=interval / 2):
                log.debug("%s: another worker has it", job.name)
                return False
            error = None
            try:
                with self.app.app_context():
                    summary = job.run(self.app, started)
                if summary:
                    log.info("%s: %s", job.name, summary)
            except JobFailed as exc:
                error = str(exc)
                log.warning("%s: %s", job.name, error)
            except Exception as exc:  # any failure is recorded; the schedule goes on
                error = f"{type(exc).__name__}: {exc}"
                log.exception("%s failed", job.name)
            job_runs.finish(session, job.name, self.owner, now=self.clock(), started_at=started, error=error,
                            next_run_at=started + interval)
        return True


def scheduler_for(app: Flask, runner: Runner):
    """Every configured job on its interval, the first run at once; a run still going when the next is due is not
    doubled, and runs missed while the machine slept are made up by one."""
    # Imported here: every `flask` command and every web process registers this command, only the worker runs it.
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = BackgroundScheduler(
        timezone=UTC, executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    for job in JOBS:
        if job.scheduled(app):
            scheduler.add_job(runner.run, IntervalTrigger(seconds=job.interval(app), timezone=UTC), args=[job],
                              id=job.name, name=job.name, next_run_time=datetime.now(UTC))
    return scheduler


def schedule_text(app: Flask) -> str:
    parts = []
    for job in JOBS:
        if job.scheduled(app):
            parts.append(f"{job.name} every {job.interval(app):g} s")
        elif not job.configured(app):
            parts.append(f"{job.name} off (not configured)")
        else:
            parts.append(f"{job.name} off (PORTAL_{job.setting}=0)")
    return ", ".join(parts)


def serve(app: Flask, stop: threading.Event, *, runner: Runner | None = None) -> None:
    """Run the schedule until `stop` is set, then wait for the runs under way to finish."""
    scheduler = scheduler_for(app, runner or Runner(app))
    scheduler.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)


@click.command("worker")
@with_appcontext
def command() -> None:
    """Run the periodic jobs (automations, SLA check, webhooks, mail, IMAP, report rollup) until stopped with
    Ctrl-C or SIGTERM. Safe with one worker on each host. `make run` starts it beside the web server."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s [worker] %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # its "job executed" lines, every 10 seconds
    app = current_app._get_current_object()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Mesa worker running: {schedule_text(app)}.")
    serve(app, stop)
    click.echo("Mesa worker stopped.")
