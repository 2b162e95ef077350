"""The real `flask worker` process does the background work on its own and stops cleanly; `make run`'s
supervisor starts the web server and the worker and stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import JobRun, Notification, Ticket

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 60.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return condition()


def worker_env(app, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(PORTAL_DATABASE_URL=str(app.config["DATABASE_URL"]), PORTAL_INSTANCE_PATH=str(tmp_path / "worker"),
               PORTAL_OUTBOX_DIR=str(tmp_path / "outbox"), PORTAL_KB_INDEX_DIR=str(tmp_path / "kb_index"),
               PORTAL_SECRET_KEY="test-secret-key", PORTAL_BASE_URL="http://portal.test",
               PYTHONUNBUFFERED="1",
               PORTAL_WORKER_AUTOMATIONS_INTERVAL="2", PORTAL_WORKER_MAIL_FLUSH_INTERVAL="1",
               PORTAL_WORKER_WEBHOOKS_INTERVAL="1", PORTAL_WORKER_SLA_INTERVAL="1")
    return env


def test_the_worker_closes_due_tickets_and_sends_queued_mail_then_stops_on_sigterm(app, db, make, tmp_path):
    make.default_automations()
    long_ago = utcnow() - timedelta(days=40)
    solved = make.ticket(status="solved", now=long_ago)
    waiting = make.ticket(requester=make.user(email="queued@example.com"))
    db.query(Notification).filter(Notification.ticket_id == solved.id).update({"status": "sent"})
    db.commit()
    mail = db.scalars(select(Notification).where(Notification.ticket_id == waiting.id)).first()
    assert mail.status == "queued"

    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=REPO,
                              env=worker_env(app, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        def status_of(model, key, column):
            db.expire_all()
            return db.scalar(select(column).where(model.id == key))

        assert wait_for(lambda: status_of(Ticket, solved.id, Ticket.status) == "closed"), "not auto-closed"
        assert wait_for(lambda: status_of(Notification, mail.id, Notification.status) == "sent"), "not flushed"
        outbox = list((tmp_path / "outbox").glob("*.eml"))
        assert any("queued@example.com" in path.read_text(errors="replace") for path in outbox)
        db.expire_all()
        runs = {run.name: run for run in db.scalars(select(JobRun))}
        assert {"automations", "mail_flush", "sla_check", "webhooks", "rollup"} <= set(runs)
        assert all(run.last_error is None for run in runs.values())
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, output
    assert "Mesa worker running: automations every 2 s" in output
    assert "Mesa worker stopped." in output
    db.expire_all()
    assert all(run.lease_owner is None for run in db.scalars(select(JobRun)))  # leases given back


def test_the_worker_stops_on_ctrl_c(app, tmp_path):
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=REPO,
                              env=worker_env(app, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        lines = iter(worker.stdout.readline, "")
        assert any("Mesa worker running" in line for line in lines)  # its signal handlers are in place
        started = time.monotonic()
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=10)
        assert time.monotonic() - started < 5
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, output
    assert "Mesa worker stopped." in output


# ---- make run's supervisor ----------------------------------------------------------------------------------

CHILD = ("import os, sys, time, pathlib; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); "
         "time.sleep(float(sys.argv[2])); sys.exit(int(sys.argv[3]))")


def supervisor(tmp_path: Path, *children: tuple[str, float, int]) -> subprocess.Popen:
    commands = [f"{name}={sys.executable} -c '{CHILD}' {tmp_path / name} {seconds} {status}"
                for name, seconds, status in children]
    return subprocess.Popen([sys.executable, "-m", "portal.worker.together", *commands], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pids(tmp_path: Path, *names: str) -> list[int]:
    assert wait_for(lambda: all((tmp_path / n).exists() and (tmp_path / n).read_text() for n in names), 20)
    return [int((tmp_path / name).read_text()) for name in names]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_supervisor_stops_the_web_server_and_the_worker_together(tmp_path, signum):
    running = supervisor(tmp_path, ("web", 60, 0), ("worker", 60, 0))
    try:
        children = pids(tmp_path, "web", "worker")
        running.send_signal(signum)
        running.communicate(timeout=10)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 0
    assert not any(alive(pid) for pid in children)


def test_when_one_child_dies_the_supervisor_stops_the_other_and_says_so(tmp_path):
    running = supervisor(tmp_path, ("web", 60, 0), ("worker", 0.5, 3))
    try:
        web, _worker = pids(tmp_path, "web", "worker")
        output, _ = running.communicate(timeout=15)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 3
    assert "worker exited with status 3; stopping the others." in output
    assert not alive(web)
