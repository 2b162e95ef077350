"""What the background worker runs, and how often: each job calls the same services as its CLI command, which
stays for operators who prefer cron. A job takes the app and the moment of its run (the runner's clock, so a
test sets it); it returns a one-line summary (empty when there was nothing to do) or raises JobFailed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app

from portal.extensions import db_session
from portal.services import postpone, report_rollup, sla, webhooks
from portal.services.postpone import WakeReport
from portal.services.rules import automations as rule_automations
from portal.services.rules.automations import AutomationReport


class JobFailed(Exception):
    """The run did part of its work and failed on the rest: the message is what the admin overview shows."""


@dataclass
class AutomationsRun:
    woken: WakeReport
    report: AutomationReport
    mail: object | None = None  # notify_dispatch.DispatchReport when e-mails were sent

    @property
    def errors(self) -> list[str]:
        return self.woken.errors + self.report.errors


def run_automations(*, now: datetime, send_mail: bool = True) -> AutomationsRun:
    """Bring back the postponed tickets whose time has come, then run every enabled automation, then send the
    e-mails they queued. `rules run-automations` and the worker both call this (in an app context)."""
    from portal.views import notify_dispatch

    # Postponed tickets whose time has come are back first, so that the automations see them open.
    woken = postpone.wake_due(db_session(), now=now)
    report = rule_automations.run(db_session(), now=now, settings=current_app.extensions["rules_settings"])
    done = AutomationsRun(woken=woken, report=report)
    if (woken.notifications or report.notifications) and send_mail:
        done.mail = notify_dispatch.dispatch(woken.notifications + report.notifications)
    return done


def automations(app: Flask, now: datetime) -> str:
    done = run_automations(now=now)
    summary = ""
    if done.woken.woken or done.report.total:
        summary = f"back from postponement {len(done.woken.woken)}, automations acted on {done.report.total} " \
                  f"ticket(s) out of {done.report.checked}"
    if done.errors:
        raise JobFailed(f"Failed on ticket ids {', '.join(done.errors)}; see the worker's log.")
    return summary


def sla_check(app: Flask, now: datetime) -> str:
    session = db_session()
    report = sla.check(session, now=now)
    session.commit()
    return f"breached {len(report.breached)}, warned {len(report.warned)}" if report.breached or report.warned \
        else ""


def webhook_deliveries(app: Flask, now: datetime) -> str:
    from portal.views.admin_webhooks import delivery_settings

    report = webhooks.deliver_due(db_session(), delivery_settings(), now=now)
    if not (report.delivered or report.retrying or report.failed):
        return ""
    return f"delivered {len(report.delivered)}, will retry {len(report.retrying)}, gave up on {len(report.failed)}"


def mail_flush(app: Flask, now: datetime) -> str:
    from portal.views import notify_dispatch

    report = notify_dispatch.flush()
    if report.server_down:
        raise JobFailed("The mail server is not answering; the rest stays queued.")
    if report.failed:
        raise JobFailed(f"{len(report.failed)} e-mail(s) failed (sent {len(report.sent)}); see the worker's log.")
    return f"sent {len(report.sent)} queued e-mail(s)" if report.sent else ""


def imap_poll(app: Flask, now: datetime) -> str:
    from portal.cli import mail_inbound

    report = mail_inbound.poll(app)
    if report.failed:
        raise JobFailed(f"{report.failed} message(s) not processed; they stay unseen for the next run.")
    return ", ".join(f"{outcome} {count}" for outcome, count in sorted(report.outcomes.items()))


def rollup_catch_up(app: Flask, now: datetime) -> str:
    measured = report_rollup.catch_up(db_session(), now=now)
    return f"measured {measured} ticket(s) the report rollup did not have" if measured else ""


@dataclass(frozen=True)
class Job:
    name: str
    setting: str  # the PORTAL_* setting with its interval in seconds (0: not run by the worker)
    run: Callable[[Flask, datetime], str]
    configured: Callable[[Flask], bool] = field(default=lambda app: True)

    def interval(self, app: Flask) -> float:
        return float(app.config[self.setting])

    def scheduled(self, app: Flask) -> bool:
        return self.interval(app) > 0 and self.configured(app)


JOBS: tuple[Job, ...] = (
    Job("automations", "WORKER_AUTOMATIONS_INTERVAL", automations),
    Job("sla_check", "WORKER_SLA_INTERVAL", sla_check),
    Job("webhooks", "WORKER_WEBHOOKS_INTERVAL", webhook_deliveries),
    Job("mail_flush", "WORKER_MAIL_FLUSH_INTERVAL", mail_flush),
    Job("imap_poll", "WORKER_IMAP_INTERVAL", imap_poll, configured=lambda app: bool(app.config.get("IMAP_HOST"))),
    Job("rollup", "WORKER_ROLLUP_INTERVAL", rollup_catch_up),
)
JOB_NAMES = tuple(job.name for job in JOBS)
