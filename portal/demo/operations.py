"""Demo operations: a Madrid business calendar with Spanish holidays, SLA policies for both plans, categories
routed to the demo groups, and two custom statuses. Adds only what is missing (by name, or by priority and
plan); changes nothing else."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo.people import BILLING, TIER_1
from portal.models import BusinessCalendar, Category, CustomStatus, Group, Holiday, SlaPolicy, Ticket
from portal.services import sla

CALENDAR = "Alto Fibra office"
HOURS = {str(day): ["09:00", "19:00"] for day in range(5)} | {"5": ["10:00", "14:00"]}
HOLIDAYS = [
    (date(2026, 12, 8), "Inmaculada Concepción"), (date(2026, 12, 25), "Navidad"),
    (date(2027, 1, 1), "Año Nuevo"), (date(2027, 1, 6), "Reyes"),
]
# priority -> (first reply, next reply, resolution) in minutes; premium gets calendar hours and tighter targets
STANDARD = {"urgent": (60, 120, 8 * 60), "high": (4 * 60, 8 * 60, 2 * 600), "normal": (8 * 60, 16 * 60, 5 * 600),
            "low": (16 * 60, 24 * 60, 10 * 600)}
PREMIUM = {"urgent": (30, 60, 4 * 60), "high": (60, 4 * 60, 12 * 60), "normal": (4 * 60, 8 * 60, 48 * 60),
           "low": (8 * 60, 16 * 60, 96 * 60)}
LABELS = [("on_hold", "Waiting for vendor", "Esperando al proveedor"),
          ("on_hold", "Technician visit booked", "Visita técnica programada")]
CATEGORIES = [
    ("Connection problems", "Problemas de conexión", TIER_1, "connection"),
    ("Billing and payments", "Facturación y pagos", BILLING, "billing"),
    ("Router and devices", "Router y dispositivos", TIER_1, "devices"),
    ("Something else", "Otra consulta", TIER_1, None),
]


def ensure_operations(session: Session, *, now: datetime) -> int:
    """Returns how many rows it added."""
    added = 0
    calendar = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == CALENDAR))
    if calendar is None:
        calendar = BusinessCalendar(name=CALENDAR, timezone="Europe/Madrid", hours=HOURS, created_at=now,
                                    holidays=[Holiday(day=day, name=name) for day, name in HOLIDAYS])
        session.add(calendar)
        added += 1
    existing = {(p.priority, p.plan) for p in session.scalars(select(SlaPolicy))}
    for plan, table, business in (("standard", STANDARD, True), ("premium", PREMIUM, False)):
        for priority, (first, following, resolution) in table.items():
            if (priority, plan) not in existing:
                session.add(SlaPolicy(priority=priority, plan=plan, first_reply_minutes=first,
                                      next_reply_minutes=following, resolution_minutes=resolution,
                                      business_hours=business, calendar=calendar if business else None,
                                      created_at=now))
                added += 1
    names = set(session.scalars(select(Category.name_en)))
    groups = {g.name: g for g in session.scalars(select(Group))}
    for position, (name_en, name_es, group_name, skill) in enumerate(CATEGORIES):
        if name_en not in names:
            session.add(Category(name_en=name_en, name_es=name_es, group=groups.get(group_name), skill=skill,
                                 position=position, created_at=now))
            added += 1
    labels = set(session.scalars(select(CustomStatus.label_en)))
    for status, label_en, label_es in LABELS:
        if label_en not in labels:
            session.add(CustomStatus(status=status, label_en=label_en, label_es=label_es, active=True, position=0,
                                     created_at=now))
            added += 1
    if added:
        session.flush()
        for ticket in session.scalars(select(Ticket).where(Ticket.status.not_in(sla.DONE))):
            sla.refresh(session, ticket, now)
    return added
