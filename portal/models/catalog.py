"""What a customer picks when filing a ticket: categories (each routed to a group) and their custom fields."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import Group

FIELD_KINDS = ("text", "number", "select", "checkbox")


class Category(Base):
    """A kind of problem, in the customer's words; new tickets in it go to its group."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_es: Mapped[str] = mapped_column(String(80))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The skill an agent needs for automatic assignment of its tickets (e.g. "billing"); none: any agent.
    skill: Mapped[str | None] = mapped_column(String(40))

    group: Mapped[Group | None] = relationship()
    fields: Mapped[list[CustomField]] = relationship(
        back_populates="category", order_by="CustomField.position, CustomField.id", cascade="all, delete-orphan"
    )

    def name(self, lang: str) -> str:
        return self.name_es if lang == "es" and self.name_es else self.name_en

    def __repr__(self) -> str:
        return f"<Category {self.name_en}>"


class CustomField(Base):
    """An extra question for one category ("Order number", "Device model"), defined by admins."""

    __tablename__ = "custom_fields"
    __table_args__ = (
        UniqueConstraint("category_id", "key", name="uq_custom_fields_category_id_key"),
        CheckConstraint("kind IN ('text', 'number', 'select', 'checkbox')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(120))
    label_es: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="text")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # For `select`: [{"value": "...", "label_en": "...", "label_es": "..."}] (or plain strings).
    options: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    category: Mapped[Category] = relationship(back_populates="fields")

    def label(self, lang: str) -> str:
        return self.label_es if lang == "es" and self.label_es else self.label_en

    def choices(self, lang: str) -> list[tuple[str, str]]:
        """(value, label) pairs of a select field, in the given language."""
        pairs = []
        for option in self.options or []:
            if isinstance(option, dict):
                value = str(option.get("value", ""))
                pairs.append((value, str(option.get(f"label_{lang}") or option.get("label_en") or value)))
            else:
                pairs.append((str(option), str(option)))
        return pairs


class TicketFieldValue(Base):
    """A customer's answer to a custom field, kept as text whatever the field's kind."""

    __tablename__ = "ticket_field_values"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

    field: Mapped[CustomField] = relationship()
