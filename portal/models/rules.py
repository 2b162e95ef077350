"""Business rules (triggers): what an admin set up once, each firing on a ticket, and who changed which rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import User

RULE_KINDS = ("trigger", "automation")
RULE_CHANGES = ("created", "updated", "enabled", "disabled", "deleted", "reordered", "imported", "duplicated",
                "installed")  # installed: a default automation that ships with Mesa (services.rules.defaults)


class Rule(Base):
    """"When <events>, if <all of / any of conditions>, do <actions>": run in `position` order by
    services.rules.engine after every ticket change. The lists hold plain JSON, checked by
    services.rules.catalog.validate before they are stored."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # "trigger": runs when a ticket changes (its events); "automation": runs on a schedule over the tickets its
    # conditions match (services.rules.automations), with no events.
    kind: Mapped[str] = mapped_column(String(16), default="trigger", server_default="trigger")
    # An automation that fires at most once on a ticket (checked against its RuleFirings).
    once_per_ticket: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    events: Mapped[list] = mapped_column(JSON, default=list)
    # [{"field": "channel", "op": "is", "value": "email"}, ...]
    conditions_all: Mapped[list] = mapped_column(JSON, default=list)
    # Empty: no ANY requirement; else at least one must match.
    conditions_any: Mapped[list] = mapped_column(JSON, default=list)
    # [{"type": "set_priority", "value": "high"}, ...]
    actions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Why the engine switched it off (an action failed, or it kept changing the ticket: a loop); cleared when an
    # admin enables it again.
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # The same reason as a code and its values (services.rules.engine.REASONS), shown in the reader's language;
    # empty on rules switched off before codes existed, which show `disabled_reason` as stored.
    disabled_code: Mapped[str | None] = mapped_column(String(40))
    disabled_params: Mapped[dict | None] = mapped_column(JSON)
    # Optimistic locking: an edit based on an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    def __repr__(self) -> str:
        return f"<Rule {self.position} {self.name!r}>"


class RuleFiring(Base):
    """One rule fired on one ticket: the firing counts on the rules list, and the ticket's history."""

    __tablename__ = "rule_firings"
    __table_args__ = (Index("ix_rule_firings_rule_id_fired_at", "rule_id", "fired_at"),
                      Index("ix_rule_firings_rule_id_ticket_id", "rule_id", "ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")


class RuleChange(Base):
    """The audit trail: who created, edited, switched, moved, imported or deleted which rule, and how it was."""

    __tablename__ = "rule_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"), index=True)
    # Kept as it was: the rule may be renamed or deleted later.
    rule_name: Mapped[str] = mapped_column(String(120))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    what: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
