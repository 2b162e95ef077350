"""People's names: the rule every name a person types must meet, because names travel into e-mail headers
(`To: "Name" <address>`) and onto every page.

A name is one line of text: no line breaks or other control characters, and no `=?`, which starts an
RFC 2047 encoded word (`=?utf-8?q?Dear=0D=0AX-Injected:_yes?=` reads as a name but decodes into a line break
in a mail header on Python before 3.11.10). The outgoing mail code neutralises both anyway
(`mail.outgoing.header_text`); refusing them here means the account is never saved with such a name and the form
says why.
"""

from __future__ import annotations

import re

from portal.errors import N_, Invalid

NAME_MAX = 120
MESSAGE = N_("Write the name on one line, without control characters or “=?”.")
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|=\?")


def problem(name: str) -> str | None:
    """The message id of what is wrong with this name, or None."""
    return MESSAGE if _FORBIDDEN.search(name or "") else None


def check_name(name: str, *, field: str = "name") -> str:
    """The name, stripped, or `Invalid` naming the field."""
    name = (name or "").strip()
    if not name:
        raise Invalid(N_("A name is required."), field=field)
    if problem(name):
        raise Invalid(MESSAGE, field=field)
    if len(name) > NAME_MAX:
        raise Invalid(N_("Use at most %(max)s characters."), max=NAME_MAX, field=field)
    return name
