"""The knowledge-base articles sent to a customer: every `/kb/...` link in an agent's public reply is
remembered, so the side panel lists what this ticket was already sent and the reports count the articles that
answer customers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.models import SentArticle, Ticket, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import Message

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
