"""Custom statuses: an extra agent-facing label inside a core status ("Waiting for vendor" in on_hold)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import Base


class CustomStatus(Base):
    __tablename__ = "custom_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # the core status it refines (portal.status.Status)
    label_en: Mapped[str] = mapped_column(String(60))
    label_es: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def label(self, lang: str) -> str:
        return self.label_es if lang == "es" and self.label_es else self.label_en
