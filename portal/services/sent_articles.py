"""The knowledge-base articles sent to a customer: every link to an article in an agent's public reply is
remembered, so the side panel lists what this ticket was already sent and the reports count the articles that
answer customers. The composer inserts absolute links on the portal's public address (`BASE_URL`, so they work in
the customer's mail client); older replies have `/kb/...` links: both count, another site's `/kb/` does not."""

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


def article_links(body: str, base_url: str = "") -> list[str]:
    """The article paths (after `/kb/`) a Markdown text links to, relative or on `base_url`, each once."""
    pattern = ARTICLE_LINK
    if base_url:
        pattern = re.compile(r"\]\((?:" + re.escape(base_url.rstrip("/")) + r")?(/kb/[^)\s]+)\)")
    return [path.removeprefix("/kb/") for path in dict.fromkeys(pattern.findall(body or ""))]


def record_sent_articles(session: Session, ticket: Ticket, message: Message, *, actor: User, now: datetime,
                         base_url: str = "") -> list[SentArticle]:
    """Every knowledge-base link in a public reply is remembered: which articles this ticket was sent."""
    if not message.public:
        return []
    rows = [SentArticle(ticket_id=ticket.id, article_path=path, message_id=message.id, sent_by_id=actor.id,
                        created_at=now)
            for path in article_links(message.body, base_url)]
    session.add_all(rows)
    return rows


def sent_articles(session: Session, ticket: Ticket) -> list[SentArticle]:
    return list(session.scalars(select(SentArticle).where(SentArticle.ticket_id == ticket.id)
                                .order_by(SentArticle.id)))
