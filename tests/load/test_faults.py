"""Things that go wrong in production, done for real to the served portal: the processes killed mid-burst, the
search index deleted, the attachment storage unwritable, the mail server down."""

from __future__ import annotations

import io
import re
import secrets
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from portal.models import Attachment, Message, Notification, Ticket
from portal.services.attachments import AttachmentStore
from tests.conftest import SmtpServer, _CollectingHandler, _free_port
from tests.load.conftest import Portal, Visitor

TICKET_URL = re.compile(r"/tickets/(MSA-[A-Z0-9-]+)")


class SwitchableSmtp(SmtpServer):
    """The test's SMTP server, which can be stopped and started again on the same port."""

    def __init__(self) -> None:
        super().__init__("127.0.0.1", _free_port(), _CollectingHandler())
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    server = SwitchableSmtp()
    server.start()
    yield server
    server.stop()


def _file_ticket(visitor, subject: str, *, attachment: bytes | None = None, description: str = "It broke."):
    visitor.get("/tickets/new")
    data = {"subject": subject, "description": description, "priority": "normal", "language": "en",
            "client_token": secrets.token_urlsafe(24), "suggestions_shown": "1", "action": "file"}
    files = {"attachments": ("screenshot.txt", io.BytesIO(attachment), "text/plain")} if attachment else None
    return visitor.post("/tickets", data, files=files)


# ---- kill -9 in the middle of a burst -------------------------------------------------------------------


def test_kill_minus_nine_during_a_burst_loses_no_answered_request(portal, visitors, crowd, db, app):
    customers = crowd(8, prefix="burst")
    confirmed_tickets: dict[str, str] = {}  # ref -> subject, for every ticket the server said it filed
    confirmed_replies: list[tuple[str, str]] = []  # (ref, body) for every reply the server said it added
    cut_off = [0]  # requests that never got an answer
    lock = threading.Lock()
    stop = threading.Event()
    logged_in = threading.Barrier(len(customers) + 1, timeout=60)

    def customer(number: int) -> None:
        visitor = visitors()
        visitor.login(customers[number].email)
        logged_in.wait()
        round_ = 0
        while not stop.is_set():
            round_ += 1
            subject = f"Burst {number}.{round_}"
            try:
                response = _file_ticket(visitor, subject, attachment=f"log of {subject}\n".encode() * 200)
                if response.status_code != 303:
                    continue
                ref = TICKET_URL.search(response.headers["Location"]).group(1)
                with lock:
                    confirmed_tickets[ref] = subject
                body = f"More about {subject}"
                response = visitor.post(f"/tickets/{ref}/replies", {"body": body})
                if response.status_code == 303:
                    with lock:
                        confirmed_replies.append((ref, body))
            except requests.RequestException:  # the server is gone: no answer came, so nothing was promised
                with lock:
                    cut_off[0] += 1
                time.sleep(0.05)

    threads = [threading.Thread(target=customer, args=(n,)) for n in range(len(customers))]
    for thread in threads:
        thread.start()
    logged_in.wait()
    time.sleep(3.0)
    portal.kill()
    time.sleep(0.5)  # requests still being sent now fail to connect
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    portal.start()
    assert len(confirmed_tickets) >= 5 and cut_off[0] >= 1, "the kill did not land in the middle of a burst"
    store = AttachmentStore.from_config(app.config)
    db.expire_all()
    tickets = {t.ref: t for t in db.scalars(select(Ticket))}
    for ref, subject in confirmed_tickets.items():
        assert ref in tickets and tickets[ref].subject == subject
    bodies = {(m.ticket.ref, m.body) for m in db.scalars(select(Message))}
    assert set(confirmed_replies) <= bodies
    # Nothing half-written, answered or not: each ticket has its first message and its attachment's file.
    assert all(ticket.messages and ticket.messages[0].body == "It broke." for ticket in tickets.values())
    attachments = db.scalars(select(Attachment)).all()
    assert len(attachments) >= len(confirmed_tickets)
    assert all(store.path_for(a).is_file() and store.path_for(a).stat().st_size == a.size for a in attachments)
    # And the restarted server serves them.
    visitor = visitors()
    visitor.login(customers[0].email)
    mine = [(ref, subject) for ref, subject in confirmed_tickets.items() if subject.startswith("Burst 0.")]
    assert mine
    for ref, subject in mine:  # each page, not the list: a busy burst fills more than its first page
        page = visitor.get(f"/tickets/{ref}")
        assert page.status_code == 200 and subject in page.text


# ---- the search index deleted -------------------------------------------------------------------------


def _search_titles(visitor, query: str) -> tuple[int, str]:
    response = visitor.get("/kb/search", params={"q": query}, headers={"HX-Request": "true"})
    return response.status_code, response.text


def test_search_survives_its_index_folder_being_deleted(portal, visitors, app):
    index_dir = Path(app.config["KB_INDEX_DIR"])
    visitor = visitors()
    status, page = _search_titles(visitor, "password")
    assert status == 200 and "Reset your password" in page
    assert index_dir.is_dir()

    shutil.rmtree(index_dir)  # while the server runs
    answers = [_search_titles(visitor, "password") for _ in range(12)]  # reaches each of the 3 workers
    assert [status for status, _page in answers] == [200] * 12
    assert all("Reset your password" in page for _status, page in answers)
    assert index_dir.is_dir()

    portal.stop()
    shutil.rmtree(index_dir)  # and before a restart
    portal.start()
    status, page = _search_titles(visitor, "password")
    assert status == 200 and "Reset your password" in page


# ---- attachments cannot be stored ---------------------------------------------------------------------


@pytest.fixture
def unwritable_attachments(app, portal_env, tmp_path) -> dict[str, str]:
    """The tests run as root, and root writes into a read-only folder anyway (chmod changes nothing), so the
    storage is made unwritable another way: the attachment folder's path goes through a regular file, so
    every mkdir/open under it fails with NotADirectoryError, as a full or read-only volume would fail."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the attachment volume should be")
    folder = str(blocker / "attachments")
    app.config["ATTACHMENTS_DIR"] = folder
    return {**portal_env, "PORTAL_ATTACHMENTS_DIR": folder}


@pytest.fixture
def portal_unwritable(unwritable_attachments, tmp_path):
    server = Portal(unwritable_attachments, tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def test_unwritable_attachment_storage_keeps_the_text_and_says_why(portal_unwritable, make, db):
    customer = make.user()
    visitor = Visitor(portal_unwritable.url)
    try:
        visitor.login(customer.email)
        response = _file_ticket(visitor, "Scanner jams on page two", attachment=b"jam log\n" * 100,
                                description="The scanner jams on every second page since Monday.")
        assert response.status_code == 503
        assert "We could not store screenshot.txt. Please try again later." in response.text
        assert "Scanner jams on page two" in response.text  # the form comes back filled in
        assert "The scanner jams on every second page since Monday." in response.text
        assert db.scalar(select(func.count()).select_from(Ticket)) == 0  # nothing half-filed

        response = _file_ticket(visitor, "Scanner jams on page two",
                                description="The scanner jams on every second page since Monday.")
        assert response.status_code == 303  # without the file it goes through
        ref = TICKET_URL.search(response.headers["Location"]).group(1)
        response = visitor.post(f"/tickets/{ref}/replies", {"body": "Here is the log."},
                                files={"attachments": ("log.txt", io.BytesIO(b"jam\n"), "text/plain")})
        assert response.status_code == 503
        assert "We could not store log.txt" in response.text and "Here is the log." in response.text
        assert db.scalar(select(func.count()).select_from(Attachment)) == 0
    finally:
        visitor.close()


# ---- the mail server down -----------------------------------------------------------------------------


def test_ticket_actions_succeed_while_smtp_is_down_and_mail_follows_once(portal, visitors, make, db, smtp_server):
    customer, agent = make.user(), make.user(role="agent")
    smtp_server.stop()

    visitor = visitors()
    visitor.login(customer.email)
    response = _file_ticket(visitor, "Router blinks red")
    assert response.status_code == 303
    ref = TICKET_URL.search(response.headers["Location"]).group(1)
    desk = visitors()
    desk.login(agent.email)
    desk.get(f"/agent/tickets/{ref}")
    response = desk.post(f"/agent/tickets/{ref}/messages",
                         {"body": "Please unplug it for ten seconds.", "visibility": "public", "action": "send"})
    assert response.status_code == 303
    owed = _until_each_mail_was_tried(db, customer.email)  # and the mail server is down
    assert {n.kind for n in owed} >= {"ticket_created", "public_reply"}
    assert all(n.status == "queued" for n in owed)  # saved, not lost, not given up
    assert "Please unplug it for ten seconds." in desk.get(f"/agent/tickets/{ref}").text

    down = portal.flask("mail", "flush", check=False)
    assert down.returncode != 0 and "not answering" in down.stderr

    smtp_server.start()
    portal.flask("mail", "flush")
    portal.flask("mail", "flush")  # a second run (cron) finds nothing left to send
    to_customer = [m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == customer.email]
    assert Counter(m["X-Mesa-Ticket"] for m in to_customer) == Counter({ref: len(owed)})
    assert len({m["Message-ID"] for m in to_customer}) == len(owed)
    db.expire_all()
    assert {n.status for n in db.scalars(select(Notification))} == {"sent"}


def _until_each_mail_was_tried(db, recipient: str, seconds: float = 10) -> list[Notification]:
    """The recipient's notifications once the server has tried each and none is being sent (a try that found the
    database busy leaves the row for `mail flush`, so after `seconds` an untried row is accepted)."""
    deadline = time.monotonic() + seconds
    while True:
        db.commit()  # a new snapshot: the server's commits since
        rows = db.scalars(select(Notification).where(Notification.recipient_email == recipient)).all()
        sending = any(row.status == "sending" for row in rows)
        if rows and not sending and (all(row.attempts >= 1 for row in rows) or time.monotonic() > deadline):
            return rows
        if time.monotonic() > deadline + 30:
            return rows
        time.sleep(0.05)
