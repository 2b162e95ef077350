"""Ambiguous and encoded headers against the served portal (gunicorn) and a real SMTP server: hostile names and
subjects typed into the forms answer a clear 4xx or go out as plain text, never a 500, never an extra header
or recipient in the mail the SMTP server receives."""

from __future__ import annotations

import re
import secrets
import time

from sqlalchemy import select

from portal.models import User
from tests.load.conftest import Visitor

TICKET_URL = re.compile(r"/tickets/(MSA-[A-Z0-9-]+)")
HOSTILE_NAMES = ["=?utf-8?q?Dear=0D=0AX-Injected:_yes?=", "Dear\r\nX-Injected: yes", "Dear\rBcc: x@evil.example",
                 "=?utf-8?b?RGVhcg0KWC1JbmplY3RlZDogeWVz?="]


def _mails_to(smtp_server, address: str, *, at_least: int, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while True:
        found = [m for m in smtp_server.messages if address in m.envelope_to]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_hostile_names_and_subjects_never_break_a_mail_nor_the_page(portal, db, make, smtp_server):
    for n, name in enumerate(HOSTILE_NAMES):
        visitor = Visitor(portal.url)
        visitor.get("/register")
        response = visitor.post("/register", {"name": name, "email": f"newcomer{n}@example.com",
                                              "password": "a long enough password"})
        assert response.status_code == 422, (name, response.status_code)
        assert "on one line" in response.text
    db.expire_all()
    assert db.scalar(select(User).where(User.email.like("newcomer%"))) is None

    customer = make.user(email="customer@example.com")
    visitor = Visitor(portal.url)
    visitor.login(customer.email)
    visitor.get("/tickets/new")
    subject = "Printer =?utf-8?q?x=0D=0ABcc:_mallory@evil.example=0D=0AX-Injected:_yes?="
    response = visitor.post("/tickets", {"subject": subject, "description": "It broke.", "priority": "normal",
                                         "language": "en", "client_token": secrets.token_urlsafe(24),
                                         "suggestions_shown": "1", "action": "file"})
    assert response.status_code == 303
    ref = TICKET_URL.search(response.headers["Location"]).group(1)

    [receipt] = _mails_to(smtp_server, customer.email, at_least=1)
    assert receipt.envelope_to == [customer.email]
    assert ref in receipt["Subject"] and receipt["Bcc"] is None and receipt["X-Injected"] is None
    assert all("evil.example" not in rcpt for m in smtp_server.messages for rcpt in m.envelope_to)
