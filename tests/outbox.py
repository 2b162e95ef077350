"""Reading the mails the portal wrote to its outbox folder (no SMTP configured): what a person would receive."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit


def outbox_messages(app, recipient: str) -> list[EmailMessage]:
    folder = Path(app.config["OUTBOX_DIR"])
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime) if folder.exists() else []
    messages = [message_from_bytes(path.read_bytes(), policy=default_policy) for path in paths]
    return [m for m in messages if recipient in str(m["To"])]


def confirmation_path(message: EmailMessage) -> str:
    """The path of the link that confirms a new account, from the text part of its e-mail."""
    match = re.search(r"https?://\S+/confirm/[\w.\-]+", message.get_body(("plain",)).get_content())
    assert match, message.get_body(("plain",)).get_content()
    return urlsplit(match.group(0)).path


def last_confirmation_path(app, recipient: str) -> str:
    return confirmation_path(outbox_messages(app, recipient)[-1])


def sent_notifications(db, *where, expected: int, seconds: float = 30) -> list:
    """The notifications matching `where` once `expected` of them are sent, or when the time is up (a test reading
    what a server it drives has committed should not depend on the moment it looks)."""
    from sqlalchemy import select

    from portal.models import Notification

    deadline = time.monotonic() + seconds
    while True:
        db.commit()  # a new snapshot: the server's commits since
        rows = db.scalars(select(Notification).where(*where).order_by(Notification.id)).all()
        if sum(row.status == "sent" for row in rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)
