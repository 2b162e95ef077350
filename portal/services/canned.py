"""Canned responses: ready answers in English and Spanish with a few placeholders, shared (admins edit them)
or personal (their owner does); and the knowledge-base articles sent to customers.

Placeholders are replaced by plain string substitution, never by a template engine: what an agent or a
customer typed (a name such as "{{ 7*7 }}") stays text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from portal.errors import N_, Invalid, NotFound
from portal.models import PRIORITIES, CannedResponse, SentArticle, Ticket, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import Message

PLACEHOLDER = re.compile(r"\{\{\s*(requester\.name|ticket\.ref|ticket\.subject|agent\.name)\s*\}\}")
STATUSES = ("open", "pending", "on_hold", "solved")
TITLE_MAX = 120


def body_for(canned: CannedResponse, language: str) -> str:
    """The Spanish body for a Spanish ticket when there is one, else the English one."""
    return canned.body_es if language == "es" and (canned.body_es or "").strip() else canned.body_en


def render(canned: CannedResponse, ticket: Ticket, agent: User) -> str:
    values = {
        "requester.name": ticket.requester.name if ticket.requester else "",
        "ticket.ref": ticket.ref,
        "ticket.subject": ticket.subject,
        "agent.name": agent.name,
    }
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body_for(canned, ticket.language))


def available(session: Session, agent: User) -> list[CannedResponse]:
    """Shared responses and the agent's own, by title."""
    return list(session.scalars(select(CannedResponse).where(
        CannedResponse.active.is_(True),
        or_(CannedResponse.owner_id.is_(None), CannedResponse.owner_id == agent.id))
        .order_by(CannedResponse.title, CannedResponse.id)))


def get_usable(session: Session, canned_id: int | None, agent: User) -> CannedResponse:
    canned = session.get(CannedResponse, canned_id or 0)
    if canned is None or not canned.active or (canned.owner_id is not None and canned.owner_id != agent.id):
        raise NotFound(N_("We could not find that canned response."))
    return canned


def can_edit(canned: CannedResponse, agent: User) -> bool:
    return agent.is_admin if canned.owner_id is None else canned.owner_id == agent.id


def save(
    session: Session, canned: CannedResponse | None, *, title: str, body_en: str, body_es: str, shared: bool,
    set_status: str | None, set_priority: str | None, add_tags: Iterable[str], actor: User, now: datetime,
) -> CannedResponse:
    """Create (canned None) or update a response. Only admins make or edit shared ones."""
    if canned is not None and not can_edit(canned, actor):
        raise NotFound(N_("We could not find that canned response."))
    if shared and not actor.is_admin:
        raise Invalid(N_("Only admins can share a canned response with everyone."), field="shared")
    title = " ".join((title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise Invalid(N_("Give it a title of at most %(max)s characters."), field="title", max=TITLE_MAX)
    if not (body_en or "").strip():
        raise Invalid(N_("Write the English text at least."), field="body_en")
    if set_status and set_status not in STATUSES:
        raise Invalid(N_("Choose open, pending, on hold or solved."), field="set_status")
    if set_priority and set_priority not in PRIORITIES:
        raise Invalid(N_("Choose one of the priorities offered."), field="set_priority")
    from portal.services.agent_desk import clean_tag

    tags = list(dict.fromkeys(clean_tag(t) for t in add_tags if t.strip()))
    if canned is None:
        canned = CannedResponse(created_at=now, active=True)
        session.add(canned)
    canned.title, canned.body_en, canned.body_es = title, body_en.strip(), (body_es or "").strip()
    canned.owner_id = None if shared else (canned.owner_id if canned.id and canned.owner_id else actor.id)
    canned.set_status, canned.set_priority, canned.add_tags = set_status or None, set_priority or None, tags
    return canned


def delete(session: Session, canned: CannedResponse, *, actor: User) -> None:
    if not can_edit(canned, actor):
        raise NotFound(N_("We could not find that canned response."))
    session.delete(canned)


# ---- Articles sent -------------------------------------------------------------------------------------------

ARTICLE_LINK = re.compile(r"\]\((/kb/[^)\s]+)\)")


def record_sent_articles(session: Session, ticket: Ticket, message: Message, *, actor: User, now: datetime
                         ) -> list[SentArticle]:
    """Every knowledge-base link in a public reply is remembered: which articles this ticket was sent."""
    if not message.public:
        return []
    rows = [SentArticle(ticket_id=ticket.id, article_path=path.removeprefix("/kb/"), message_id=message.id,
                        sent_by_id=actor.id, created_at=now)
            for path in dict.fromkeys(ARTICLE_LINK.findall(message.body))]
    session.add_all(rows)
    return rows


def sent_articles(session: Session, ticket: Ticket) -> list[SentArticle]:
    return list(session.scalars(select(SentArticle).where(SentArticle.ticket_id == ticket.id)
                                .order_by(SentArticle.id)))
