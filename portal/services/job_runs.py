"""Who runs a periodic job, and how its runs went (`models.JobRun`).

Several workers (one per host) may run the same schedule. Before a run, a worker takes the job's lease with one
conditional UPDATE: it matches only when no other worker holds an unexpired lease and the job did not start
within `min_gap` (half its interval), so on two hosts a job runs once per interval, not twice. The database
decides, on SQLite as on PostgreSQL (where the losing UPDATE waits for the winner's commit, then re-checks its
condition and matches nothing). A worker that dies mid-run leaves a lease that expires; another one takes over.

These functions commit: the lease must be visible to the other workers at once, whatever the job does next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.errors import N_, NotAllowed
from portal.models import JobRun, Notification, User, WebhookDelivery, WebhookEndpoint

ERROR_LIMIT = 2000  # characters of an error kept for the admin overview


def take(session: Session, name: str, owner: str, *, now: datetime, lease: timedelta,
         min_gap: timedelta = timedelta(0)) -> bool:
    """Take the job's lease for `owner` until `now + lease`; False when another worker holds it or the job
    started less than `min_gap` ago (someone else just ran it)."""
    _ensure_row(session, name)
    result = session.execute(
        update(JobRun)
        .where(JobRun.name == name,
               or_(JobRun.lease_until.is_(None), JobRun.lease_until <= now),
               or_(JobRun.last_started_at.is_(None), JobRun.last_started_at <= now - min_gap))
        .values(lease_owner=owner, lease_until=now + lease, last_started_at=now)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1


def finish(session: Session, name: str, owner: str, *, now: datetime, started_at: datetime, error: str | None,
           next_run_at: datetime | None) -> None:
    """Give the lease back and record the run. Nothing changes if the lease was lost meanwhile (it expired and
    another worker took it): that worker's record wins."""
    duration_ms = max(int((now - started_at).total_seconds() * 1000), 0)
    session.execute(
        update(JobRun).where(JobRun.name == name, JobRun.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, last_finished_at=now, last_duration_ms=duration_ms,
                last_error=error[:ERROR_LIMIT] if error else None, next_run_at=next_run_at)
        .execution_options(synchronize_session=False))
    session.commit()


def _ensure_row(session: Session, name: str) -> None:
    if session.scalar(select(JobRun.name).where(JobRun.name == name)) is not None:
        return
    try:
        session.execute(insert(JobRun).values(name=name))
        session.commit()
    except IntegrityError:  # another worker inserted it first: the same row, nothing lost
        session.rollback()


@dataclass(frozen=True)
class Backlog:
    queued_mails: int
    due_webhooks: int


@dataclass(frozen=True)
class Overview:
    runs: dict[str, JobRun]
    backlog: Backlog


def overview(session: Session, *, actor: User, now: datetime) -> Overview:
    """For the admin: how each job's last run went, and the work still waiting (mails not yet sent, webhook
    deliveries whose time has come)."""
    if not actor.is_admin:
        raise NotAllowed(N_("Only admins see the background jobs."))
    runs = {run.name: run for run in session.scalars(select(JobRun))}
    queued = session.scalar(select(func.count()).select_from(Notification)
                            .where(Notification.status.in_(("queued", "sending")))) or 0
    due = session.scalar(select(func.count()).select_from(WebhookDelivery).join(WebhookDelivery.endpoint)
                         .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                                WebhookEndpoint.enabled.is_(True))) or 0
    return Overview(runs=runs, backlog=Backlog(queued_mails=queued, due_webhooks=due))
