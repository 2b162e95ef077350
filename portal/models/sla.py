"""Service level agreements: targets per priority and customer plan, and the business calendars they count in."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base

PLANS = ("standard", "premium")


class BusinessCalendar(Base):
    """Working hours per weekday (0 = Monday) in a time zone, and the holidays when nobody works."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Madrid")
    # {"0": ["09:00", "18:00"], ...}; a missing weekday is closed.
    hours: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="Holiday.day"
    )


class Holiday(Base):
    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_holidays_calendar_id_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(80), default="")

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")


class SlaPolicy(Base):
    """Targets in minutes for one priority and plan; counted in business hours when a calendar is set."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("priority", "plan", name="uq_sla_policies_priority_plan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(8))
    plan: Mapped[str] = mapped_column(String(16), default="standard")
    first_reply_minutes: Mapped[int | None] = mapped_column(Integer)
    next_reply_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    calendar: Mapped[BusinessCalendar | None] = relationship()
