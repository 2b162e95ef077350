"""Reading the headers of an incoming e-mail that decide something: who sent it, what the operator's MTA
found when it checked the sender's domain, and which of our addresses it was sent to.

Why not `email.utils.parseaddr` or the policy's `From` header: on this Python (3.11.7) both are lenient in ways
an attacker can steer. `parseaddr("alice@example.com <mallory@evil.example>")` answers Alice's address while
`getaddresses` finds two (CVE-2023-27043, fixed with a `strict` mode in 3.11.10, python/cpython#123767), and
the policy parser decodes `=?utf-8?q?alice=40example=2Ecom?=` into the address `"alice@example.com"`. So the
sender is read from the raw header by our own rule: exactly one From header, exactly one mailbox, the address
from the angle brackets only, and the two standard-library parsers must agree with it. Whatever is left in
doubt makes the sender ambiguous, and an ambiguous sender is never anyone's reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import ObsoleteHeaderDefect
from email.message import Message
from email.policy import default as default_policy
from email.utils import getaddresses

from email_validator import EmailNotValidError, validate_email

ADDRESS_MAX = 254
NAME_MAX = 120
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_LOOKS_LIKE_ADDRESS = re.compile(r"[^\s@<>()\",;:]+@[^\s@<>()\",;:]+")
_COMMENT = re.compile(r"\([^()]*\)")


@dataclass(frozen=True)
class Sender:
    address: str  # lower-cased; "" when the header names no single usable address
    name: str  # the display name, decoded and cleaned; "" when there is none or it cannot be trusted
    problem: str = ""  # why the header is ambiguous; "" when it is not

    @property
    def trusted(self) -> bool:
        return bool(self.address) and not self.problem


def raw_values(message: Message, name: str) -> list[str]:
    """Every value of a header as it was received (unfolded, not decoded), in the message's order."""
    values = [_utf8(str(value)) for key, value in message.raw_items() if key.lower() == name.lower()]
    return [re.sub(r"\r?\n(?=[ \t])", "", value).strip() for value in values]


def _utf8(value: str) -> str:
    """Raw 8-bit header bytes (SMTPUTF8 mail) reach us surrogate-escaped: read them as UTF-8."""
    try:
        return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # already text
        return value


def read_sender(message: Message) -> Sender:
    values = raw_values(message, "From")
    if not values:
        return Sender("", "", "no From header")
    if len(values) > 1:
        return Sender("", "", f"{len(values)} From headers")
    return parse_mailbox(values[0])


def parse_mailbox(raw: str) -> Sender:
    """One mailbox (`Name <address>` or `address`) from a raw header value, by the rules in the docstring."""
    if _CONTROL.search(raw):
        return Sender("", "", "control characters in From")
    opening, closing = raw.count("<"), raw.count(">")
    if opening > 1 or closing > 1 or opening != closing:
        return Sender("", "", "more than one address in From")
    if opening:
        start, end = raw.index("<"), raw.index(">")
        if end < start:
            return Sender("", "", "malformed address in From")
        candidate, after = raw[start + 1:end].strip(), _COMMENT.sub("", raw[end + 1:]).strip()
        if after:
            return Sender("", "", "text after the address in From")
    else:
        candidate = _COMMENT.sub("", raw).strip()
        if "," in candidate or candidate.count("@") > 1:
            return Sender("", "", "more than one address in From")
    address = _addr_spec(candidate)
    if not address:
        return Sender("", "", "no usable address in From")
    problems: list[str] = []
    name = ""
    if len(getaddresses([raw])) != 1:
        problems.append("the From header reads as several addresses")
    try:
        header = default_policy.header_factory("From", raw)
        parsed = list(header.addresses)
        defects = [d for d in header.defects if not isinstance(d, ObsoleteHeaderDefect)]
    except Exception:  # noqa: BLE001 (the standard library's parser raises various errors on hostile input)
        parsed, defects = [], ["unparsable"]
    if defects or len(parsed) != 1 or parsed[0].addr_spec.lower() != address:
        problems.append("the From header is malformed")
    else:
        name = clean_text(parsed[0].display_name)[:NAME_MAX]
    shown = {found.lower() for found in _LOOKS_LIKE_ADDRESS.findall(name)}
    if shown:
        if shown != {address}:
            problems.append("the display name shows another address")
        name = ""  # an address as a name tells nothing, and another one misleads whoever reads it
    return Sender(address, name, "; ".join(dict.fromkeys(problems)))


def clean_text(value: str) -> str:
    """A decoded header text on one line: control characters and line breaks become spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _addr_spec(candidate: str) -> str:
    """The address, lower-cased, when it is a plain addr-spec (no quoted local part, no domain literal, no
    encoded word, no second @); else ""."""
    if not candidate or len(candidate) > ADDRESS_MAX or candidate.count("@") != 1 or "=?" in candidate:
        return ""
    try:
        checked = validate_email(candidate, check_deliverability=False, allow_quoted_local=False,
                                 allow_domain_literal=False, globally_deliverable=False)
    except EmailNotValidError:
        return ""
    return str(checked.normalized).lower()


# ---- What the operator's MTA found (RFC 8601 Authentication-Results) -------------------------------------


def dmarc_result(authentication_results: list[str], authserv_id: str, from_domain: str) -> str:
    """The DMARC result that the operator's own MTA (`authserv_id`) recorded for the From domain: "pass",
    "fail", ... or "" when it recorded none. Only the first header carrying that id counts: the MTA adds its
    own on top and must remove any that arrived with its id (RFC 8601, section 5)."""
    if not authserv_id or not from_domain:
        return ""
    for value in authentication_results:
        if _CONTROL.search(value):
            continue
        served_by = value.split(";", 1)[0].split()
        if not served_by or served_by[0].lower() != authserv_id.lower():
            continue
        for clause in value.split(";")[1:]:
            found = re.match(r"\s*dmarc\s*=\s*(\w+)", _COMMENT.sub("", clause), re.I)
            if found is None:
                continue
            domain = re.search(r"\bheader\.from\s*=\s*\"?([^\s;\"]+)", clause, re.I)
            if domain is not None and domain.group(1).lower() == from_domain.lower():
                return found.group(1).lower()
        return ""
    return ""


def recipients(message: Message, envelope_recipients: tuple[str, ...] = ()) -> list[str]:
    """Every address the message was sent to, as text to look our reply addresses up in: the SMTP envelope
    and the To, Cc, Delivered-To and X-Original-To headers (the last two are written by the delivering MTA)."""
    found = list(envelope_recipients)
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        found += raw_values(message, name)
    return found
