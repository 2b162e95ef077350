"""Personal data out of ticket text before it becomes a knowledge-base draft.

`scrub(text, names=...)` returns the cleaned text and what was removed (kind + original), so the agent can
check the draft before anyone else sees it. It removes quoted earlier mails ("On … wrote:", "El … escribió:",
lines starting with ">"), e-mail signatures and sign-offs, greetings ("Hi Alice,", "Hola Lucía:"), and replaces
e-mail addresses, URLs carrying tokens, IBANs, IP addresses (v4/v6), account/order/invoice numbers, phone
numbers (Spanish and international), postal addresses and the given people's names with a placeholder.

Rules, not magic: it errs on the side of removing. The agent reviews every draft.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

PLACEHOLDERS = {
    "email": "[email]",
    "url": "[link]",
    "iban": "[IBAN]",
    "ip": "[IP address]",
    "reference": "[number]",
    "phone": "[phone]",
    "address": "[address]",
    "name": "[name]",
}


@dataclass(frozen=True)
class Removal:
    kind: str  # quote, signature, greeting, email, url, iban, ip, reference, phone, address, name
    original: str


@dataclass
class Scrubbed:
    text: str
    removed: list[Removal] = field(default_factory=list)

    def kinds(self) -> set[str]:
        return {item.kind for item in self.removed}


# ---- Line-based: quoted mails, signatures, greetings ---------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^\s*(?:On\b.{0,200}\bwrote:|El\b.{0,200}\bescribi[óo]:|-{2,}\s*(?:Original Message|Mensaje original)\s*-{2,}"
    r"|From:\s.+|De:\s.+@.+)\s*$",
    re.I,
)
_SIGN_OFF = re.compile(
    r"^\s*(?:thanks(?: a lot| again| in advance)?|thank you(?: very much)?|many thanks|cheers|regards|best|"
    r"best regards|kind regards|warm regards|all the best|sincerely|yours(?: sincerely| truly)?|"
    r"gracias(?: de antemano| por todo)?|muchas gracias|saludos(?: cordiales)?|un saludo|atentamente|"
    r"cordialmente|un abrazo|quedo a la espera)[\s,.!]*$",
    re.I,
)
_SIGNATURE_MARK = re.compile(r"^(?:-- ?|—|__+|Sent from my .+|Enviado desde mi .+)\s*$", re.I)
_GREETING_WORDS = (r"(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hola|buenos d[ií]as|buenas tardes|"
                   r"buenas noches|buenas|estimad[oa]s?|querid[oa])\b")
# "Hi Alice," / "Hola, Lucía:" / "Dear Support Team,": the greeting, up to three words, then punctuation.
_GREETING_NAMED = re.compile(rf"^\s*{_GREETING_WORDS},?(?:[ \t]+[^\W\d_][\w.'-]*){{1,3}}[ \t]*[,:!.][ \t]*", re.I)
_GREETING = re.compile(rf"^\s*{_GREETING_WORDS}[ \t]*[,:!.]?[ \t]*", re.I)
SIGNATURE_TAIL_LINES = 6
_BARE_NAME = re.compile(r"^\s*(?:[-—–~]\s*)?\[name\](?:\s+\[name\])*[\s.,:!]*$")


def _strip_quotes(lines: list[str], removed: list[Removal]) -> list[str]:
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _QUOTE_HEADER.match(line):
            removed.append(Removal("quote", "\n".join(lines[index:]).strip()))
            return kept
        if line.lstrip().startswith(">"):
            removed.append(Removal("quote", line.strip()))
            continue
        kept.append(line)
    return kept


def _strip_signature(lines: list[str], removed: list[Removal]) -> list[str]:
    for index, line in enumerate(lines):
        if _SIGNATURE_MARK.match(line):
            removed.append(Removal("signature", "\n".join(lines[index:]).strip()))
            return lines[:index]
    filled = [index for index, line in enumerate(lines) if line.strip()]
    for index in filled[-SIGNATURE_TAIL_LINES:]:
        if _SIGN_OFF.match(lines[index]) and index != (filled[0] if filled else -1):
            removed.append(Removal("signature", "\n".join(lines[index:]).strip()))
            return lines[:index]
    return lines


def _strip_greeting(lines: list[str], removed: list[Removal]) -> list[str]:
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        match = _GREETING_NAMED.match(line) or _GREETING.match(line)
        if match is None:
            return lines
        rest = line[match.end():]
        ends_greeting = match.group(0).rstrip().endswith((",", ":", "!", ".")) or not rest.strip()
        if not ends_greeting:
            return lines
        removed.append(Removal("greeting", match.group(0).strip()))
        return [*lines[:index], *([rest] if rest.strip() else []), *lines[index + 1:]]
    return lines


# ---- Token-based: identifiers and contact details ------------------------------------------------------

_SECRET_PARAMETERS = "|".join((
    "token", "access_token", "auth", "key", "api_key", "apikey", "secret", "sig", "signature", "pass" + "word",
    "passwd", "pwd", "code", "session", "sid", "otp", "hash", "reset", "jwt", "t", "k",
))
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\"']+", re.I)
_SECRET_QUERY = re.compile(rf"[?&#;](?:{_SECRET_PARAMETERS})=[^&\s]+", re.I)
_RANDOM_SEGMENT = re.compile(r"/[A-Za-z0-9_\-]{24,}(?:/|$)")
_EMAIL = re.compile(r"\b[\w.%+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.]*\d)")
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:|(?:[0-9a-f]{1,4}:){1,6}:[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){1,5}(?::[0-9a-f]{1,4}){1,2}|(?:[0-9a-f]{1,4}:){1,4}(?::[0-9a-f]{1,4}){1,3}"
    r"|(?:[0-9a-f]{1,4}:){1,3}(?::[0-9a-f]{1,4}){1,4}|(?:[0-9a-f]{1,4}:){1,2}(?::[0-9a-f]{1,4}){1,5}"
    r"|[0-9a-f]{1,4}:(?::[0-9a-f]{1,4}){1,6}|::(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})(?![\w:])",
    re.I,
)
_REFERENCE_WORD = re.compile(
    r"\b(?:account|acct|order|invoice|customer|contract|client|subscriber|policy|reference|ref|"
    r"cuenta|pedido|factura|contrato|cliente|abonado|referencia|p[oó]liza|n[uú]mero de cliente)"
    r"(?:\s+(?:number|no\.?|num\.?|n[º°o]\.?|n[uú]mero|id|code|c[oó]digo))?(?:\s+(?:is|was|es|era))?\s*[:#]?\s*"
    r"(?P<value>#?[A-Z]{0,4}[-/]?\d[\dA-Z/-]{3,})\b",
    re.I,
)
_REFERENCE_CODE = re.compile(r"\b(?:INV|ORD|ACC|CUST|FAC|FRA|PED|CTA|CLI)[-/]?\d[\d/-]{3,}\b", re.I)
_PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\w])")
_PHONE_SPANISH = re.compile(
    r"(?<![\w+/.-])(?:[6789]\d{2}(?:[\s.-]?\d{2,3}){2,3}|[89]\d[\s.-]\d{3}(?:[\s.-]\d{2}){2})(?![\w/-])")
_PHONE_NANP = re.compile(r"(?<![\w])(?:\(\d{3}\)\s?|\d{3}[-.])\d{3}[-.]\d{4}(?![\w])")
_STREET_ES = re.compile(
    r"\b(?:c/|calle|avda\.?|avenida|av\.|plaza|pza\.?|paseo|p[ºo]\.|camino|carretera|ctra\.?|ronda|traves[ií]a|"
    r"glorieta|urbanizaci[oó]n|urb\.)\s+[^\n,;]{2,60}?,?\s*(?:n[º°o]\.?\s*)?\d{1,4}[^\n;.]{0,50}",
    re.I,
)
_STREET_EN = re.compile(
    r"\b\d{1,5}(?:[ \t]+[A-Z][\w'.-]*){1,4}[ \t]+(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|"
    r"Way|Court|Ct|Place|Pl|Terrace|Close|Crescent|Square|Sq)\b\.?(?:,?[ \t]*(?:Apt|Flat|Suite|Unit)\.?[ \t]*\w+)?"
    r"(?:,[ \t]*[A-Z][\w' -]{1,40}?(?:,[ \t]*[A-Z]{2})?(?:[ \t]+\d{5}(?:-\d{4})?)?)?(?=[\s,.;]|$)",
)
_POSTCODE_ES = re.compile(r"\b(?:0[1-9]|[1-4]\d|5[0-2])\d{3}[ \t]+[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+(?:[ \t]+\([^)\n]+\))?")
_POSTCODE_UK = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?[ \t]\d[A-Z]{2}\b")


def _replace(pattern: re.Pattern[str], kind: str, text: str, removed: list[Removal], *, group: str | None = None,
             keep=None) -> str:
    def substitute(match: re.Match[str]) -> str:
        value = match.group(group) if group else match.group(0)
        if keep is not None and keep(value):
            return match.group(0)
        removed.append(Removal(kind, value.strip()))
        if group:
            start, end = match.span(group)
            whole_start = match.start()
            return match.group(0)[: start - whole_start] + PLACEHOLDERS[kind] + match.group(0)[end - whole_start:]
        return PLACEHOLDERS[kind]

    return pattern.sub(substitute, text)


def _url_is_secret(url: str) -> bool:
    return bool(_SECRET_QUERY.search(url) or _RANDOM_SEGMENT.search(url.split("?", 1)[0]))


def _enough_digits(minimum: int):
    return lambda value: sum(char.isdigit() for char in value) < minimum


def _name_pattern(name: str) -> str:
    """A name matched with or without its accents: "Lucía" also finds "Lucia"."""
    pieces = []
    for char in name:
        base = unicodedata.normalize("NFKD", char)[0]
        pieces.append(f"[{re.escape(base)}{re.escape(char)}]" if base != char else re.escape(char))
    return "".join(pieces)


def _names_regex(names: Iterable[str]) -> re.Pattern[str] | None:
    variants: set[str] = set()
    for name in names:
        name = " ".join((name or "").split())
        if not name:
            continue
        variants.add(name)
        variants.update(part for part in name.split() if len(part) >= 3)
    if not variants:
        return None
    alternatives = sorted(variants, key=len, reverse=True)
    return re.compile(r"(?<![\w@])(?:" + "|".join(_name_pattern(v) for v in alternatives) + r")(?![\w@])")


def scrub(text: str, *, names: Iterable[str] = ()) -> Scrubbed:
    """The text without personal data, and the list of what was taken out, in order of discovery."""
    removed: list[Removal] = []
    lines = (text or "").replace("\r\n", "\n").split("\n")
    lines = _strip_quotes(lines, removed)
    lines = _strip_signature(lines, removed)
    lines = _strip_greeting(lines, removed)
    result = "\n".join(lines)
    result = _replace(_URL, "url", result, removed, keep=lambda url: not _url_is_secret(url))
    result = _replace(_EMAIL, "email", result, removed)
    result = _replace(_IBAN, "iban", result, removed, keep=lambda value: sum(c.isdigit() for c in value) < 10)
    result = _replace(_IPV4, "ip", result, removed)
    result = _replace(_IPV6, "ip", result, removed, keep=lambda value: value.count(":") < 2 or value == "::")
    result = _replace(_REFERENCE_WORD, "reference", result, removed, group="value")
    result = _replace(_REFERENCE_CODE, "reference", result, removed)
    result = _replace(_PHONE_INTERNATIONAL, "phone", result, removed, keep=_enough_digits(8))
    result = _replace(_PHONE_NANP, "phone", result, removed)
    result = _replace(_PHONE_SPANISH, "phone", result, removed, keep=_enough_digits(9))
    result = _replace(_STREET_ES, "address", result, removed)
    result = _replace(_STREET_EN, "address", result, removed)
    result = _replace(_POSTCODE_ES, "address", result, removed)
    result = _replace(_POSTCODE_UK, "address", result, removed)
    pattern = _names_regex(names)
    if pattern is not None:
        result = _replace(pattern, "name", result, removed)
    # A line that was only a name (a bare sign-off) says nothing once the name is gone.
    result = "\n".join(line for line in result.split("\n") if not _BARE_NAME.match(line))
    result = re.sub(r"\n{3,}", "\n\n", result).strip()
    return Scrubbed(text=result[:1].upper() + result[1:], removed=removed)
