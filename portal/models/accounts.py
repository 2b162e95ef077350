"""People and teams: customers, agents, admins and the groups agents work in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, text
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base

ROLES = ("customer", "agent", "admin")

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased by services.accounts, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="customer", index=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped when the password changes: a reset link made before the change stops working.
    password_changed_at: Mapped[datetime | None] = mapped_column()
    # Part of every session's id (`get_id`): raising it ends every session the person has, on every device
    # (services.accounts.end_sessions: logging out, a new password, deactivation, a role change).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Operations (assignment and SLAs): an agent's availability, load limit and last automatic assignment;
    # a customer's plan picks their SLA policy.
    available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    capacity: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    last_assigned_at: Mapped[datetime | None] = mapped_column()
    plan: Mapped[str] = mapped_column(String(16), default="standard", server_default="standard")

    groups: Mapped[list[Group]] = relationship(secondary=group_members, back_populates="members")

    @property
    def is_agent(self) -> bool:
        """Agents and admins work tickets; customers only see their own."""
        return self.role in ("agent", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    # Flask-Login's protocol, without importing Flask into the models.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What a login session stores (Flask-Login's "alternative id"): the id and the session generation, so a
        session made before the generation was raised no longer names anyone (services.accounts.session_user)."""
        return f"{self.id}:{self.session_generation or 0}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Group(Base):
    """A queue of agents: a support tier (1-3) or a skill group."""

    __tablename__ = "groups"
    __table_args__ = (
        # At most one default group: a unique index over the rows that are it.
        Index("uq_groups_is_default", "is_default", unique=True, sqlite_where=text("is_default"),
              postgresql_where=text("is_default")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    tier: Mapped[int | None] = mapped_column(Integer)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # New tickets go to an available member automatically; guided groups hand out work with "Next ticket".
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    guided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Tickets that arrive without a group (mail, the API, a phone call without a category) go here
    # (services.routing); at most one group is the default.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    members: Mapped[list[User]] = relationship(secondary=group_members, back_populates="groups")

    def __repr__(self) -> str:
        return f"<Group {self.name}>"
