"""The admin home shows how the background worker's jobs are doing and the work still waiting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.clock import utcnow
from portal.models import Notification, WebhookDelivery
from portal.services import job_runs
from tests.conftest import login
from tests.unit.test_webhooks import add_endpoint


def record_run(db, name: str, *, started, error=None, interval=timedelta(minutes=1)):
    assert job_runs.take(db, name, "host-a", now=started, lease=timedelta(minutes=5))
    job_runs.finish(db, name, "host-a", now=started + timedelta(milliseconds=250), started_at=started, error=error,
                    next_run_at=started + interval)


def test_before_any_worker_ran_the_admin_is_told_to_start_one(client, admin_user):
    login(client, admin_user)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "No worker has run yet" in page.text
    assert "flask --app app worker" in page.text
    for label in ("Automations, and postponed tickets coming back", "SLA check", "Webhook deliveries",
                  "Queued e-mails", "Report rollup catch-up"):
        assert label in page.text


def test_each_job_shows_its_last_run_next_run_and_last_error(client, db, admin_user):
    now = utcnow()
    record_run(db, "automations", started=now - timedelta(seconds=30), interval=timedelta(minutes=5))
    record_run(db, "mail_flush", started=now - timedelta(seconds=20),
               error="The mail server is not answering; the rest stays queued.")
    record_run(db, "sla_check", started=now - timedelta(hours=1))  # its next run was due 59 minutes ago
    login(client, admin_user)
    page = client.get("/admin/").text
    assert "No worker has run yet" not in page
    automations = page.split('id="job-automations"')[1].split("</tr>")[0]
    assert automations.count("<time") == 2  # last run and next run
    assert "250 ms" in automations and "every 300 s" in automations
    mail = page.split('id="job-mail_flush"')[1].split("</tr>")[0]
    assert "The mail server is not answering; the rest stays queued." in mail
    assert "late" in page.split('id="job-sla_check"')[1].split("</tr>")[0]
    assert "late" not in automations
    imap = page.split('id="job-imap_poll"')[1].split("</tr>")[0]
    assert "off" in imap and "never" in imap  # no IMAP_HOST


def test_the_backlog_counts_queued_mails_and_due_webhooks(client, db, make, admin_user):
    add_endpoint(db, admin_user, "http://127.0.0.1:9/hook")
    make.ticket(requester=make.user(email="carla@example.com"))
    mails = db.scalar(select(func.count()).select_from(Notification).where(Notification.status == "queued"))
    due = db.scalar(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "pending"))
    assert mails >= 1 and due >= 1
    login(client, admin_user)
    page = client.get("/admin/").text
    assert f'<strong id="backlog-mails">{mails}</strong>' in page
    assert f'<strong id="backlog-webhooks">{due}</strong>' in page


def test_in_spanish(client, db, make):
    boss = make.user(role="admin", email="jefa@example.com", locale="es")
    record_run(db, "webhooks", started=utcnow(), error="boom")
    login(client, boss)
    page = client.get("/admin/").text
    assert "Tareas en segundo plano" in page
    assert "Entregas de webhooks" in page and "Último error" in page and "boom" in page


def test_only_admins_see_the_jobs(client, agnes):
    login(client, agnes)
    page = client.get("/admin/")
    assert page.status_code == 403 and "Background jobs" not in page.text
