"""Reading one incoming e-mail: who sent it, what it refers to, its text, its files, and whether it is an
automatic message (auto-reply, list mail, bounce) that must never open a ticket or trigger a reply.

No database and no Flask: `parse(raw)` only looks at the bytes. `mail_in` decides what to do with the result.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import parseaddr
from html.parser import HTMLParser

from portal.services.refs import REF_ALPHABET, REF_PREFIX
from portal.services.scrubbing import Removal, _strip_quotes, _strip_signature

MESSAGE_ID_MAX = 255
SUBJECT_MAX = 200
# A reference anywhere in a subject ("Re: [MSA-7K3Q-9XPD] ...") or in one of our Message-IDs.
REF_IN_TEXT = re.compile(rf"\b{REF_PREFIX}-[{REF_ALPHABET}]{{4}}-[{REF_ALPHABET}]{{4}}\b")
# Our notifications' ids (`notify_dispatch.message_id_for`) and other outgoing mail (`mailer.send_email`).
OWN_MESSAGE_ID = re.compile(r"^<(?:ticket-[^@>]+|[^@>]*\.mesa)@(?P<domain>[^>]+)>$", re.I)
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
LOOP_PRECEDENCE = ("bulk", "junk", "list")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|rv|res|sv|vs)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


@dataclass(frozen=True)
class MailFile:
    filename: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # lower-cased address, "" when missing or unreadable
    sender_name: str
    subject: str
    text: str
    refs_in_subject: list[str] = field(default_factory=list)
    referenced_ids: list[str] = field(default_factory=list)  # In-Reply-To first, then References, newest first
    files: list[MailFile] = field(default_factory=list)
    auto_submitted: str = ""
    precedence: str = ""
    is_bounce: bool = False
    bounced_ids: list[str] = field(default_factory=list)
    bounced_recipients: list[str] = field(default_factory=list)
    bounce_reason: str = ""

    @property
    def is_automatic(self) -> bool:
        """RFC 3834: anything but `Auto-Submitted: no` was sent by a program; bulk and list mail too."""
        return (self.auto_submitted not in ("", "no")) or self.precedence in LOOP_PRECEDENCE

    @property
    def clean_subject(self) -> str:
        """The subject without "Re:" / "Fwd:" prefixes, for a follow-up's title."""
        return _REPLY_PREFIX.sub("", self.subject).strip()


def parse(raw: bytes, *, envelope_sender: str | None = None) -> ParsedMail:
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(_header(message, "From"))
    subject = " ".join(_header(message, "Subject").split())
    parsed = ParsedMail(
        message_id=_message_id(message, raw),
        sender=address.strip().lower() if "@" in address else "",
        sender_name=" ".join(name.split())[:120],
        subject=subject[:SUBJECT_MAX],
        text="",
        refs_in_subject=REF_IN_TEXT.findall(subject.upper()),
        referenced_ids=_referenced_ids(message),
        auto_submitted=_header(message, "Auto-Submitted").split(";")[0].strip().lower(),
        precedence=_header(message, "Precedence").strip().lower(),
    )
    if _looks_like_bounce(message, parsed.sender, envelope_sender):
        parsed.is_bounce = True
        parsed.bounced_ids, parsed.bounced_recipients, parsed.bounce_reason = _bounce_details(message)
        return parsed
    parsed.text, parsed.files = _body_and_files(message)
    return parsed


def reply_text(text: str) -> str:
    """What a reply adds: earlier mails quoted below it and the signature are left out (the helpers that
    prepare knowledge-base drafts do the same). When that leaves nothing, the whole text is kept."""
    removed: list[Removal] = []
    lines = _strip_signature(_strip_quotes(text.split("\n"), removed), removed)
    trimmed = "\n".join(lines).strip()
    return trimmed or text.strip()


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML mail: scripts, styles and the head are dropped, block elements
    become line breaks, links keep their address, quoted blocks become "> " lines. The result is stored as
    text and rendered through the same sanitiser as every message, so no markup of the sender survives."""
    converter = _HtmlToText()
    converter.feed(html)
    converter.close()
    return converter.text()


# ---- Headers ---------------------------------------------------------------------------------------------


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header must not stop the mail
        value = message.get_all(name, failobj=[""])[0] if message.get_all(name) else ""
    return str(value or "")


def _message_id(message: Message, raw: bytes) -> str:
    """The Message-ID as sent; without one, a stable id from the content, so a re-delivery is still the same
    message."""
    found = re.findall(r"<[^<>\s]+>", _header(message, "Message-ID"))
    if found and len(found[0]) <= MESSAGE_ID_MAX:
        return found[0]
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@mesa.invalid>"


def _referenced_ids(message: Message) -> list[str]:
    ids = re.findall(r"<[^<>\s]+>", _header(message, "In-Reply-To"))
    ids += list(reversed(re.findall(r"<[^<>\s]+>", _header(message, "References"))))
    seen: list[str] = []
    for item in ids:
        if item not in seen and len(item) <= MESSAGE_ID_MAX:
            seen.append(item)
    return seen


# ---- Bounces ---------------------------------------------------------------------------------------------


def _looks_like_bounce(message: Message, sender: str, envelope_sender: str | None) -> bool:
    if message.get_content_type() == "multipart/report":
        return True
    if sender.partition("@")[0] in BOUNCE_SENDERS:
        return True
    return envelope_sender is not None and envelope_sender.strip() in ("", "<>")


def _bounce_details(message: Message) -> tuple[list[str], list[str], str]:
    """The Message-IDs of the mail that bounced (from the returned headers), the addresses that refused it
    and the server's reason."""
    ids: list[str] = []
    reasons: list[str] = []
    addresses: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            ids += _ids_in(_part_text(part))
        elif content_type == "message/delivery-status":
            text = _part_text(part)
            reasons += re.findall(r"^(?:Status|Diagnostic-Code):\s*(.+)$", text, re.M | re.I)
            addresses += [a.strip().lower() for a in re.findall(r"^Final-Recipient:\s*[^;]*;\s*(\S+)", text,
                                                                 re.M | re.I)]
        elif content_type == "text/plain" and not ids:
            ids += [i for i in re.findall(r"<[^<>\s]+@[^<>\s]+>", _part_text(part)) if OWN_MESSAGE_ID.match(i)]
    unique = list(dict.fromkeys(ids))
    return unique, addresses, "; ".join(r.strip() for r in reasons)[:500]


def _ids_in(headers_text: str) -> list[str]:
    return re.findall(r"^Message-ID:\s*(<[^<>\s]+>)", headers_text, re.M | re.I)


def _part_text(part: Message) -> str:
    """A part's content as text, whether the parser gave it as a message, a list of them, bytes or str."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(str(p) for p in payload)
    if isinstance(payload, Message):
        return str(payload)
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes):
        return raw.decode(part.get_content_charset() or "utf-8", errors="replace")
    return str(payload or "")


# ---- Body and attachments --------------------------------------------------------------------------------


def _body_and_files(message: EmailMessage) -> tuple[str, list[MailFile]]:
    text = _best_text(message)
    files: list[MailFile] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if disposition == "attachment" or (filename and part.get_content_maintype() != "text"):
            content = part.get_payload(decode=True)
            files.append(MailFile(filename or "attachment", content if isinstance(content, bytes) else b""))
    return text, files


def _best_text(message: EmailMessage) -> str:
    """The plain-text body when there is one, else the HTML body turned into text."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset: read it as UTF-8, replacing what does not fit
        raw = body.get_payload(decode=True)
        content = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw or "")
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.replace("\r\n", "\n").replace("\r", "\n").strip()


class _HtmlToText(HTMLParser):
    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"})
    BLOCK = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
                       "blockquote", "pre", "hr", "section", "article", "header", "footer"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quote_depth = 0
        self.link: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
            if tag == "blockquote":
                self.quote_depth += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = href if href.startswith(("http://", "https://", "mailto:")) else None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCK and tag not in ("li", "br"):
            self.parts.append("\n")
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "a" and self.link:
            self.parts.append(f" ({self.link})")
            self.link = None

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = " ".join(data.split())
        if not text:
            if data and self.parts and not self.parts[-1].endswith((" ", "\n")):
                self.parts.append(" ")
            return
        prefix = "> " * self.quote_depth
        if prefix and (not self.parts or self.parts[-1].endswith("\n")):
            text = prefix + text
        if data[:1].isspace() and self.parts and not self.parts[-1].endswith((" ", "\n")):
            text = " " + text
        if data[-1:].isspace():
            text += " "
        self.parts.append(text)

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).split("\n")]
        joined = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()
