"""Where a new ticket goes when nobody said: its language and its group.

A customer on the web form picks both (the form's language, a category routed to a group). A mail, an API call
without them, or a phone call the agent filed without a category says neither, yet group queues and automatic
assignment (which asks for an agent with the ticket's language as a skill) need both:

- the language is read from what the customer wrote (`ticket_language`): Spanish or English when the text says
  so clearly, otherwise the requester's own language setting, otherwise the portal's default. A one-word subject
  ("Help", "Hola") is too short to say, so it never decides on its own;
- the group is the admins' default group (Admin → Groups, `default_group`), when one is chosen; automatic
  assignment then works as for a web ticket (`tickets._route_new`).

Detection is py3langid (a naive Bayes model shipped inside the wheel: nothing is downloaded, and the same text
always gets the same answer) restricted to the two languages the portal speaks. It is loaded once per process, on
the first ticket that needs it.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.models import Group

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import User

LANGUAGES = ("en", "es")
# Below this many letters a text is a word or two: "Hola", "Help", "Factura 123" decide nothing.
MIN_LETTERS = 12
# The detector's probability for the winner of the two languages. Measured on short Spanish and English
# support requests, clear ones score above 0.99 and one-word subjects between 0.5 and 0.97.
MIN_CONFIDENCE = 0.9
# What is read of a long mail: the first paragraphs say which language it is in.
MAX_CHARS = 4000
_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+|^>.*$", re.MULTILINE)  # links, addresses, quoted lines

_detector = None
_detector_lock = threading.Lock()


def _identifier():
    """The py3langid model restricted to English and Spanish, loaded once (about half a second)."""
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages(list(LANGUAGES))
                _detector = identifier
    return _detector


def detect(text: str | None) -> str | None:
    """"es" or "en" when the text is clearly in that language, None when it is too short or unclear."""
    cleaned = _NOISE.sub(" ", (text or "")[:MAX_CHARS])
    if sum(ch.isalpha() for ch in cleaned) < MIN_LETTERS:
        return None
    language, confidence = _identifier().classify(cleaned)
    return str(language) if language in LANGUAGES and confidence >= MIN_CONFIDENCE else None


def ticket_language(subject: str, description: str, *, requester: User | None, default: str) -> str:
    """The language of a ticket nobody chose one for: what the customer wrote says it, else the requester's
    own setting, else the portal's default (English when even that is not one of ours)."""
    detected = detect(f"{subject}\n{description}")
    if detected is not None:
        return detected
    locale = requester.locale if requester is not None else None
    for candidate in (locale, default):
        if candidate in LANGUAGES:
            return str(candidate)
    return LANGUAGES[0]


def default_group(session: Session) -> Group | None:
    """The group that receives tickets that arrive without one, if an admin chose it."""
    return session.scalar(select(Group).where(Group.is_default.is_(True)).limit(1))
