"""Macros: an agent's one-click bundle of ticket changes (the business rules' action vocabulary) plus an
optional reply in English and Spanish; shared with every agent or personal to its owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import User


class Macro(Base):
    """Title, reply (`body_en`, `body_es`: the ticket's language picks one; empty: no reply), `actions` (a list
    of rule actions, see services.rules.catalog) and who sees it: `owner_id` empty means shared.

    `canned_response_id` names the canned response a macro was copied from by the migration that brought macros
    in, so that copy is made once and can be traced back."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_es: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[list[dict]] = mapped_column(JSON, default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    canned_response_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    @property
    def shared(self) -> bool:
        return self.owner_id is None
