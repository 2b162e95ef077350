"""Outgoing e-mail: build a message, then hand it to SMTP or, without an SMTP host, to the outbox folder.

No Flask here. The web side renders the templates (`portal/views/mailer.py`) and passes a `MailSettings`,
so the CLI, cron jobs and tests send mail exactly the same way.

Header values (subjects with a customer's words, names people chose) never make headers of their own: every
value is one line of plain text (`header_text`), the recipient is a structured `Address`, and `send` checks
what the generator wrote before anything leaves. Python before 3.11.10 decodes encoded words (`=?utf-8?q?
...=0D=0A...?=`) in values an application sets and then writes the decoded CR LF as is (CVE-2024-6923,
python/cpython#121650, fixed for 3.11 by #122608); the checks here hold on every version.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from portal.clock import utcnow

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNFOLDED_LINE_BREAK = re.compile(r"\r(?!\n[ \t])|\n(?![ \t])")


class MailError(Exception):
    """The message could not be handed over (SMTP refused it, the server is down, the outbox is not writable)."""


@dataclass(frozen=True)
class MailSettings:
    mail_from: str
    outbox_dir: str
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> MailSettings:
        """From the app's configuration (`SMTP_*`, `MAIL_FROM`, `OUTBOX_DIR`), or any mapping with those keys."""
        return cls(
            mail_from=str(config["MAIL_FROM"]),
            outbox_dir=str(config["OUTBOX_DIR"]),
            smtp_host=(str(config["SMTP_HOST"]) if config.get("SMTP_HOST") else None),
            smtp_port=int(config.get("SMTP_PORT") or 25),
            smtp_username=(str(config["SMTP_USERNAME"]) if config.get("SMTP_USERNAME") else None),
            smtp_password=(str(config["SMTP_PASSWORD"]) if config.get("SMTP_PASSWORD") else None),
            smtp_starttls=bool(config.get("SMTP_STARTTLS")),
        )

    @property
    def domain(self) -> str:
        """Our mail domain (from `MAIL_FROM`): Message-IDs are made on it."""
        address = parseaddr(self.mail_from)[1]
        return address.rpartition("@")[2] or "localhost"


def build_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    settings: MailSettings,
    to_name: str | None = None,
    language: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A UTF-8 message: plain text, with the HTML version as an alternative when there is one. Raises
    `MailError` when the recipient is not one plain address."""
    message = EmailMessage()
    message["Subject"] = header_text(subject)
    message["From"] = header_text(settings.mail_from)
    try:
        message["To"] = Address(display_name=header_text(to_name or ""), addr_spec=to.strip())
    except (ValueError, IndexError) as exc:
        raise MailError(f"Not a single e-mail address: {to!r}") from exc
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.domain)
    for name, value in (headers or {}).items():
        message[name] = header_text(value)
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    if language:  # after the content: setting the content clears every Content-* header
        message["Content-Language"] = language
    return message


def header_text(value: str) -> str:
    """A header value as one line of plain text: control characters and line breaks become spaces, and an
    encoded word's opening `=?` is broken, so nothing in it is decoded into something else (see above)."""
    return " ".join(_CONTROL.sub(" ", str(value)).split()).replace("=?", "= ?")


def check_headers(message: EmailMessage) -> None:
    """Every header, as the generator will write it, is one header: a line break inside is only a fold."""
    for name, value in message.items():
        folded = message.policy.fold(name, value).rstrip("\r\n")
        if _UNFOLDED_LINE_BREAK.search(folded):
            raise MailError(f"The {name} header would break into another header; not sent")


def send(message: EmailMessage, settings: MailSettings) -> Path | None:
    """Deliver through SMTP when a host is configured; otherwise write an .eml file (returned) to the outbox."""
    check_headers(message)
    if settings.smtp_host:
        _send_smtp(message, settings)
        log.info("Mail %s to %s sent through %s", message["Message-ID"], message["To"], settings.smtp_host)
        return None
    path = _write_outbox(message, Path(settings.outbox_dir))
    log.info("Mail %s to %s written to %s (no SMTP host set)", message["Message-ID"], message["To"], path)
    return path


def _send_smtp(message: EmailMessage, settings: MailSettings) -> None:
    try:
        with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=settings.timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"Could not send mail through {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc


def _write_outbox(message: EmailMessage, folder: Path) -> Path:
    """One file per message, written under a temporary name and renamed, so readers never see half a mail."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{stamp}-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        target = folder / (Path(temporary).name.removeprefix(".").removesuffix(".tmp") + ".eml")
        os.replace(temporary, target)
    except OSError as exc:
        raise MailError(f"Could not write to the outbox {folder}: {exc}") from exc
    return target
