"""Public ticket references such as `MSA-7K3Q-9XPD`: random, short, easy to read aloud on the phone.

The alphabet is Crockford's base32 without the characters people confuse (I, L, O, U, 0, 1), so a
reference copied by hand from a letter or read over the phone still works. Eight random characters
give 30**8 (about 6.6e11) references: they cannot be enumerated, but two can collide once there are
many tickets, so whoever stores a new one checks that it is unused (`unused_ticket_ref`) and the
unique constraint on `tickets.ref` catches the rest.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Ticket

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_PREFIX = "MSA"
REF_PATTERN = re.compile(rf"^{REF_PREFIX}-[{REF_ALPHABET}]{{4}}-[{REF_ALPHABET}]{{4}}$")


_REF_SPACE = len(REF_ALPHABET) ** 8


def new_ticket_ref() -> str:
    """A fresh random reference, e.g. `MSA-7K3Q-9XPD`."""
    # One draw from the system's random source for all eight characters: the bulk generator makes 100,000.
    return ref_from_number(secrets.randbelow(_REF_SPACE))


def ref_from_number(number: int) -> str:
    """The reference that spells `number` (modulo the number of references)."""
    number %= _REF_SPACE
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(REF_ALPHABET))
        chars.append(REF_ALPHABET[digit])
    return f"{REF_PREFIX}-{''.join(chars[:4])}-{''.join(chars[4:])}"


def unused_ticket_ref(session: Session) -> str:
    """A fresh reference that no stored ticket has yet."""
    while True:
        ref = new_ticket_ref()
        if session.scalar(select(Ticket.id).where(Ticket.ref == ref)) is None:
            return ref


def normalise_ref(text: str) -> str:
    """What a customer typed (`msa 7k3q 9xpd`) in the stored form (`MSA-7K3Q-9XPD`), when it can be one.

    The result may still not be a valid reference; compare it with `REF_PATTERN` or look it up.
    """
    chars = re.sub(r"[^0-9A-Z]", "", text.upper())
    if chars.startswith(REF_PREFIX):
        chars = chars[len(REF_PREFIX):]
    if len(chars) != 8:
        return text.strip().upper()
    return f"{REF_PREFIX}-{chars[:4]}-{chars[4:]}"


def is_ticket_ref(text: str) -> bool:
    return REF_PATTERN.fullmatch(text) is not None
