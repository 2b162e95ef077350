"""Reading one incoming e-mail: who sent it, what it refers to, its text, its files, and whether it is an
automatic message (auto-reply, list mail, bounce) that must never open a ticket or trigger a reply.

No database and no Flask: `parse(raw)` only looks at the bytes. `inbound` decides what to do with the result.
The sender is read by `headers.read_sender` (strict, see there); a bounce is only a real delivery status
notification (RFC 3464: `multipart/report; report-type=delivery-status`), and only its recipients whose
`Action` is `failed` bounced. Anything else sent by a program (an empty envelope sender, a mailer-daemon, an
auto-reply) is automatic mail: never a ticket, never answered, and never taken for a failed delivery.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from html.parser import HTMLParser

from portal.services.mail.headers import raw_values, read_sender, recipients
from portal.services.refs import REF_ALPHABET, REF_PREFIX
from portal.services.scrubbing import Removal, _strip_quotes, _strip_signature

MESSAGE_ID_MAX = 255
SUBJECT_MAX = 200
# A reference anywhere in a subject ("Re: [MSA-7K3Q-9XPD] ...") or in one of our Message-IDs.
REF_IN_TEXT = re.compile(rf"\b{REF_PREFIX}-[{REF_ALPHABET}]{{4}}-[{REF_ALPHABET}]{{4}}\b")
# Our notifications' ids (`notify_dispatch.message_id_for`) and other outgoing mail (`mailer.send_email`).
OWN_MESSAGE_ID = re.compile(r"^<(?:ticket-[^@>]+|[^@>]*\.mesa)@(?P<domain>[^>]+)>$", re.I)
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
LOOP_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond")
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
    # Why the From header cannot be trusted ("" when it can): such a sender is nobody's reply (`inbound`).
    sender_problem: str = ""
    refs_in_subject: list[str] = field(default_factory=list)
    referenced_ids: list[str] = field(default_factory=list)  # In-Reply-To first, then References, newest first
    files: list[MailFile] = field(default_factory=list)
    auto_submitted: str = ""
    precedence: str = ""
    automatic_reason: str = ""  # another sign of a program's mail (an empty envelope sender, X-Autoreply)
    recipients: list[str] = field(default_factory=list)  # the envelope's and the headers' (headers)
    authentication_results: list[str] = field(default_factory=list)  # raw, topmost first
    is_bounce: bool = False
    bounced_ids: list[str] = field(default_factory=list)
    bounced_recipients: list[str] = field(default_factory=list)
    bounce_reason: str = ""

    @property
    def is_automatic(self) -> bool:
        """RFC 3834: anything but `Auto-Submitted: no` was sent by a program; bulk and list mail too, and mail
        with an empty envelope sender (RFC 5321, 4.5.5: notifications, which must never be answered)."""
        return bool(self.automatic_detail)

    @property
    def automatic_detail(self) -> str:
        if self.auto_submitted not in ("", "no"):
            return f"Auto-Submitted: {self.auto_submitted}"
        if self.precedence in LOOP_PRECEDENCE:
            return f"Precedence: {self.precedence}"
        return self.automatic_reason

    @property
    def clean_subject(self) -> str:
        """The subject without "Re:" / "Fwd:" prefixes, for a follow-up's title."""
        return _REPLY_PREFIX.sub("", self.subject).strip()


def parse(raw: bytes, *, envelope_sender: str | None = None, envelope_recipients: tuple[str, ...] = ()) -> ParsedMail:
    """`envelope_sender` is the SMTP MAIL FROM when the transport knows it; otherwise the Return-Path that the
    delivering MTA wrote is used, when there is one."""
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    sender = read_sender(message)
    subject = " ".join(_header(message, "Subject").split())
    if envelope_sender is None and (return_path := raw_values(message, "Return-Path")):
        envelope_sender = return_path[0]
    parsed = ParsedMail(
        message_id=_message_id(message, raw),
        sender=sender.address,
        sender_name=sender.name,
        sender_problem=sender.problem,
        subject=subject[:SUBJECT_MAX],
        text="",
        refs_in_subject=REF_IN_TEXT.findall(subject.upper()),
        referenced_ids=_referenced_ids(message),
        auto_submitted=_header(message, "Auto-Submitted").split(";")[0].strip().lower(),
        precedence=_header(message, "Precedence").strip().lower(),
        automatic_reason=_automatic_reason(message, sender.address, envelope_sender),
        recipients=recipients(message, envelope_recipients),
        authentication_results=raw_values(message, "Authentication-Results"),
    )
    if _is_delivery_report(message, envelope_sender):
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


def _is_delivery_report(message: Message, envelope_sender: str | None) -> bool:
    """RFC 3464: a report of type delivery-status with its machine-readable part. A real one comes with an
    empty envelope sender; when the sender is known and not empty, it is not one."""
    if message.get_content_type() != "multipart/report":
        return False
    if str(message.get_param("report-type", "", header="content-type")).lower() != "delivery-status":
        return False
    if envelope_sender is not None and envelope_sender.strip() not in ("", "<>"):
        return False
    return any(part.get_content_type() == "message/delivery-status" for part in message.walk())


def _automatic_reason(message: Message, sender: str, envelope_sender: str | None) -> str:
    if envelope_sender is not None and envelope_sender.strip() in ("", "<>"):
        return "Empty envelope sender."
    for name in AUTOREPLY_HEADERS:
        if message.get(name) is not None:
            return f"{name} header."
    if sender.partition("@")[0] in BOUNCE_SENDERS:
        return f"Sent by {sender}."
    return ""


def _bounce_details(message: Message) -> tuple[list[str], list[str], str]:
    """The Message-IDs of the mail that bounced (from the returned headers), the addresses whose delivery
    failed (`Action: failed`; a delayed or relayed one did not fail) and the server's reason for them."""
    ids: list[str] = []
    reasons: list[str] = []
    addresses: list[str] = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            ids += _ids_in(_part_text(part))
        elif content_type == "message/delivery-status":
            for fields in _recipient_fields(_part_text(part)):
                if fields.get("action", "").split()[:1] != ["failed"]:
                    continue
                recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
                address = recipient.partition(";")[2].strip().strip("<>").lower()
                if address:
                    addresses.append(address)
                reasons += [fields[key] for key in ("status", "diagnostic-code") if fields.get(key)]
    unique = list(dict.fromkeys(ids))
    return unique, addresses, "; ".join(r.strip() for r in reasons)[:500]


def _recipient_fields(text: str) -> list[dict[str, str]]:
    """The per-recipient blocks of a message/delivery-status body (RFC 3464, 2.3), as lower-cased field names
    to values; the first block (per-message fields) is skipped."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    result: list[dict[str, str]] = []
    for block in blocks[1:] if len(blocks) > 1 else blocks:
        unfolded = re.sub(r"\n[ \t]+", " ", block)
        fields = {}
        for line in unfolded.split("\n"):
            name, colon, value = line.partition(":")
            if colon:
                fields.setdefault(name.strip().lower(), value.strip())
        if "action" in fields:
            result.append(fields)
    return result


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
