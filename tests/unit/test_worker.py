"""The background worker: a job runs on one worker at a time, a dead worker's job is taken over, a failure is
recorded and the schedule goes on; each job calls its service at the runner's time."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from portal.models import JobRun, Notification
from portal.models.reports import TicketMetric
from portal.services import job_runs
from portal.services.sla import CheckReport
from portal.services.webhooks import DeliveryReport
from portal.views.notify_dispatch import DispatchReport
from portal.worker import jobs, runner
from portal.worker.jobs import JOBS, Job, JobFailed
from portal.worker.runner import Runner, lease_for

T0 = datetime(2026, 11, 2, 9, 0)
MINUTE = timedelta(minutes=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def a_job(app, run, interval: int = 60) -> Job:
    app.config["WORKER_TEST_INTERVAL"] = interval
    return Job("test_job", "WORKER_TEST_INTERVAL", run)


def run_row(db, name: str = "test_job") -> JobRun:
    db.expire_all()
    return db.get(JobRun, name)


# ---- The lease ---------------------------------------------------------------------------------------------


def test_two_workers_never_run_the_same_job_at_once(app, db):
    started, release, calls = threading.Event(), threading.Event(), []

    def slow(app, now):
        calls.append(now)
        started.set()
        assert release.wait(10)
        return ""

    job = a_job(app, slow)
    first, second = Runner(app, owner="host-a", clock=Clock(T0)), Runner(app, owner="host-b", clock=Clock(T0))
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("a", first.run(job)))
    thread.start()
    assert started.wait(10)
    assert second.run(job) is False  # host-a holds the lease
    assert run_row(db).lease_owner == "host-a"
    release.set()
    thread.join(10)
    assert outcome["a"] is True and len(calls) == 1
    row = run_row(db)
    assert row.lease_owner is None and row.last_finished_at == T0 and row.next_run_at == T0 + MINUTE


def test_a_run_another_worker_just_made_counts_for_this_one(app, db):
    calls = []
    job = a_job(app, lambda app, now: calls.append(now) or "")
    clock_b = Clock(T0 + timedelta(seconds=5))
    assert Runner(app, owner="host-a", clock=Clock(T0)).run(job) is True
    assert Runner(app, owner="host-b", clock=clock_b).run(job) is False  # host-a ran it 5 s ago
    clock_b.now = T0 + MINUTE
    assert Runner(app, owner="host-b", clock=clock_b).run(job) is True
    assert calls == [T0, T0 + MINUTE]


def test_the_job_of_a_worker_that_died_is_taken_over_when_its_lease_ends(app, db):
    calls = []
    job = a_job(app, lambda app, now: calls.append(now) or "")
    lease = lease_for(timedelta(seconds=60))
    assert job_runs.take(db, "test_job", "dead-host", now=T0, lease=lease)  # and never finished
    assert Runner(app, owner="host-b", clock=Clock(T0 + lease - MINUTE)).run(job) is False
    assert Runner(app, owner="host-b", clock=Clock(T0 + lease)).run(job) is True
    assert calls == [T0 + lease]
    # The dead worker coming back late does not overwrite what the live one recorded.
    job_runs.finish(db, "test_job", "dead-host", now=T0 + lease * 2, started_at=T0, error="stale", next_run_at=None)
    row = run_row(db)
    assert row.last_error is None and row.last_finished_at == T0 + lease


def test_a_failure_is_recorded_and_the_next_run_still_happens(app, db):
    outcomes = iter([RuntimeError("SMTP server on fire"), None])

    def flaky(app, now):
        problem = next(outcomes)
        if problem:
            raise problem
        return "all good"

    job = a_job(app, flaky)
    clock = Clock(T0)
    worker = Runner(app, owner="host-a", clock=clock)
    assert worker.run(job) is True
    row = run_row(db)
    assert row.last_error == "RuntimeError: SMTP server on fire"
    assert row.lease_owner is None and row.next_run_at == T0 + MINUTE
    clock.now = T0 + MINUTE
    assert worker.run(job) is True
    row = run_row(db)
    assert row.last_error is None and row.last_started_at == T0 + MINUTE


def test_a_partial_failure_says_what_failed(app, db):
    def partial(app, now):
        raise JobFailed("The mail server is not answering; the rest stays queued.")

    Runner(app, owner="host-a", clock=Clock(T0)).run(a_job(app, partial))
    assert run_row(db).last_error == "The mail server is not answering; the rest stays queued."


# ---- The schedule -----------------------------------------------------------------------------------------


def test_every_job_is_scheduled_on_its_setting_and_imap_only_when_configured(app):
    app.config.update(WORKER_WEBHOOKS_INTERVAL=10, WORKER_SLA_INTERVAL=0)
    scheduler = runner.scheduler_for(app, Runner(app))
    names = {job.id for job in scheduler.get_jobs()}
    assert names == {"automations", "webhooks", "mail_flush", "rollup"}
    assert scheduler.get_job("webhooks").trigger.interval == timedelta(seconds=10)
    assert "imap_poll off (not configured)" in runner.schedule_text(app)
    assert "sla_check off (PORTAL_WORKER_SLA_INTERVAL=0)" in runner.schedule_text(app)
    app.config["IMAP_HOST"] = "imap.example.com"
    assert "imap_poll" in {job.id for job in runner.scheduler_for(app, Runner(app)).get_jobs()}


def test_the_defaults_run_each_job_often_enough():
    from portal.config import SETTINGS

    assert {job.name: SETTINGS[job.setting][0] for job in JOBS} == {
        "automations": 300, "sla_check": 60, "webhooks": 10, "mail_flush": 60, "imap_poll": 60, "rollup": 600}


# ---- Each job calls its service at the runner's time -----------------------------------------------------


def run_at(app, name: str, now: datetime) -> JobRun:
    job = next(job for job in JOBS if job.name == name)
    assert Runner(app, owner="test", clock=Clock(now)).run(job) is True
    with app.extensions["sessionmaker"]() as session:
        row = session.get(JobRun, name)
        session.expunge(row)
    return row


def test_the_automations_job_closes_a_solved_ticket_when_its_time_has_come(app, db, make):
    make.default_automations(now=T0)
    ticket = make.ticket(status="solved", now=T0)
    run_at(app, "automations", T0 + timedelta(days=27))
    db.refresh(ticket)
    assert ticket.status == "solved"  # 28 days by default
    run_at(app, "automations", T0 + timedelta(days=29))
    db.refresh(ticket)
    assert ticket.status == "closed"


def test_the_automations_job_brings_back_a_postponed_ticket_first(app, db, make, monkeypatch):
    seen = []
    monkeypatch.setattr(jobs.postpone, "wake_due", lambda session, now: seen.append(("wake", now)) or
                        jobs.postpone.WakeReport())
    real_run = jobs.rule_automations.run
    monkeypatch.setattr(jobs.rule_automations, "run",
                        lambda session, now, settings: seen.append(("run", now)) or real_run(session, now=now,
                                                                                              settings=settings))
    run_at(app, "automations", T0)
    assert seen == [("wake", T0), ("run", T0)]


@pytest.mark.parametrize(("name", "target", "result"), [
    ("sla_check", "portal.services.sla.check", CheckReport()),
    ("webhooks", "portal.services.webhooks.deliver_due", DeliveryReport()),
    ("rollup", "portal.services.report_rollup.catch_up", 0),
])
def test_each_job_calls_its_service_at_the_runners_time(app, monkeypatch, name, target, result):
    calls = []
    module, _, function = target.rpartition(".")
    monkeypatch.setattr(f"{module}.{function}", lambda *args, **kwargs: calls.append(kwargs["now"]) or result)
    row = run_at(app, name, T0)
    assert calls == [T0] and row.last_error is None


def test_the_webhooks_job_uses_the_configured_delivery_settings(app, monkeypatch):
    app.config.update(WEBHOOKS_MAX_ATTEMPTS=3, WEBHOOKS_TIMEOUT=2.5)
    seen = []
    monkeypatch.setattr("portal.services.webhooks.deliver_due",
                        lambda session, settings, now, **_: seen.append(settings) or DeliveryReport())
    run_at(app, "webhooks", T0)
    assert seen[0].max_attempts == 3 and seen[0].timeout == 2.5


def test_the_mail_job_sends_what_is_queued_and_reports_a_dead_server(app, db, make, monkeypatch):
    ticket = make.ticket(requester=make.user(email="carla@example.com"))
    queued = db.scalars(select(Notification).where(Notification.ticket_id == ticket.id)).all()
    assert queued and all(n.status == "queued" for n in queued)
    assert run_at(app, "mail_flush", T0).last_error is None
    db.expire_all()
    assert {n.status for n in queued} == {"sent"}
    monkeypatch.setattr("portal.views.notify_dispatch.flush", lambda: DispatchReport(server_down=True))
    assert run_at(app, "mail_flush", T0 + MINUTE * 2).last_error == \
        "The mail server is not answering; the rest stays queued."


def test_the_imap_job_reads_the_mailbox_and_reports_messages_it_could_not_process(app, monkeypatch):
    from portal.cli import mail_inbound

    app.config["IMAP_HOST"] = "imap.example.com"
    polled = []
    monkeypatch.setattr(mail_inbound, "poll", lambda app: polled.append(app) or mail_inbound.PollReport(
        outcomes={"new_ticket": 2}, failed=1))
    row = run_at(app, "imap_poll", T0)
    assert polled == [app]
    assert row.last_error == "1 message(s) not processed; they stay unseen for the next run."


def test_the_rollup_job_measures_tickets_the_rollup_missed(app, db, make):
    ticket = make.ticket()
    db.execute(delete(TicketMetric).where(TicketMetric.ticket_id == ticket.id))
    db.commit()
    run_at(app, "rollup", T0)
    db.expire_all()
    assert db.get(TicketMetric, ticket.id) is not None

