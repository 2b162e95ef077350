"""The automations that ship with Mesa: what the hard-coded timers used to do, now rules an admin can read, edit,
switch off or delete under Admin → Rules like any other.

1. Close solved tickets after 28 days (the system's auto-close: "The ticket was closed automatically").
2. Solve pending tickets after 7 days without an answer, with a public message in the ticket's language.
3. Remind the customer of a pending ticket after 3 days, once per pending period.

They are installed once, by the migration that made them possible (c6e2f4a8b411), for new databases and existing
ones alike, with the delays of the install's PORTAL_AUTO_CLOSE_DAYS, PORTAL_PENDING_REMINDER_DAYS and
PORTAL_PENDING_AUTO_SOLVE_DAYS at that moment. Afterwards the rules are the place to change them: a rule an admin
deleted is never put back. Solving comes before reminding, so a ticket that is already due to be solved (cron did
not run for days) is solved without a reminder first, as the timers did.

Rule names are data, written once in English, like any name an admin gives a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

REMINDER_EVENT = "pending_reminder_sent"  # the ticket event the reminder leaves (as the timers' did)

# The public message of an auto-solved ticket, as the timers wrote it (the Spanish is the catalog's translation).
AUTO_SOLVE_MESSAGE = {
    "en": ("We have not heard from you for {days} days, so we have marked this ticket as solved. If you still need "
           "help, reply and we will pick it up again."),
    "es": ("Como no sabemos nada de ti desde hace {days} días, hemos marcado esta solicitud como resuelta. Si aún "
           "necesitas ayuda, responde y la retomaremos."),
}


@dataclass(frozen=True)
class Delays:
    auto_close_days: int = 28
    reminder_days: int = 3
    auto_solve_days: int = 7

    @classmethod
    def from_config(cls, config) -> Delays:
        """The delays an install configured (PORTAL_* variables), else the defaults."""
        def days(key: str, default: int) -> int:
            try:
                return max(1, int(config.get(key, default)))
            except (TypeError, ValueError):
                return default
        return cls(days("AUTO_CLOSE_DAYS", 28), days("PENDING_REMINDER_DAYS", 3), days("PENDING_AUTO_SOLVE_DAYS", 7))


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def default_automations(delays: Delays = Delays()) -> list[dict]:
    """The three automations as rule data (what `rules export` writes), in the order they run."""
    solved = {"field": "status", "op": "is", "value": "solved"}
    pending = {"field": "status", "op": "is", "value": "pending"}
    return [
        {"name": f"Close solved tickets after {_days(delays.auto_close_days)}", "kind": "automation",
         "enabled": True, "once_per_ticket": False, "events": [],
         "conditions_all": [solved, {"field": "hours_since_solved", "op": "greater_than",
                                     "value": 24 * delays.auto_close_days}],
         "conditions_any": [], "actions": [{"type": "set_status", "value": "closed"}]},
        {"name": f"Solve pending tickets after {_days(delays.auto_solve_days)}", "kind": "automation",
         "enabled": True, "once_per_ticket": False, "events": [],
         "conditions_all": [pending, {"field": "hours_since_status_changed", "op": "greater_than",
                                      "value": 24 * delays.auto_solve_days}],
         "conditions_any": [],
         "actions": [{"type": "set_status", "value": "solved"},
                     {"type": "add_public_message",
                      "body_en": AUTO_SOLVE_MESSAGE["en"].format(days=delays.auto_solve_days),
                      "body_es": AUTO_SOLVE_MESSAGE["es"].format(days=delays.auto_solve_days)}]},
        {"name": f"Remind the customer of a pending ticket after {_days(delays.reminder_days)}",
         "kind": "automation", "enabled": True, "once_per_ticket": False, "events": [],
         "conditions_all": [pending, {"field": "hours_since_status_changed", "op": "greater_than",
                                      "value": 24 * delays.reminder_days},
                            {"field": "reminder_sent", "op": "is_false"}],
         "conditions_any": [], "actions": [{"type": "send_pending_reminder"}]},
    ]


@dataclass(frozen=True)
class Timer:
    """One of the former timers as the enabled automations now do it: after how many days, by which rule."""

    days: float
    rule_id: int
    rule_name: str

    @property
    def whole_days(self) -> int:
        return max(1, round(self.days))


@dataclass(frozen=True)
class Timers:
    auto_close: Timer | None = None
    reminder: Timer | None = None
    auto_solve: Timer | None = None


def current_timers(session) -> Timers:
    """What the enabled automations do of the former timers, for the e-mails that announce them ("it will close
    by itself in 28 days") and the admin's overview: whichever rules do it, edited or not; None when no enabled
    automation does. The earliest wins when several do."""
    from sqlalchemy import select

    from portal.models import Rule

    found: dict[str, Timer] = {}
    rules = session.scalars(select(Rule).where(Rule.kind == "automation", Rule.enabled.is_(True))
                            .order_by(Rule.position, Rule.id))
    for rule in rules:
        what = _timer_of(rule.conditions_all or [], rule.actions or [])
        if what is not None:
            name, hours = what
            if name not in found or hours / 24 < found[name].days:
                found[name] = Timer(hours / 24, rule.id, rule.name)
    return Timers(**found)


def _timer_of(conditions: list[dict], actions: list[dict]) -> tuple[str, int] | None:
    statuses = {c.get("value") for c in conditions if c.get("field") == "status" and c.get("op") == "is"}
    waits = {c.get("field"): c.get("value") for c in conditions if c.get("op") == "greater_than"}
    kinds = {(a.get("type"), a.get("value")) for a in actions}
    if statuses == {"solved"} and ("set_status", "closed") in kinds and "hours_since_solved" in waits:
        return "auto_close", waits["hours_since_solved"]
    if statuses == {"pending"} and "hours_since_status_changed" in waits:
        if ("set_status", "solved") in kinds:
            return "auto_solve", waits["hours_since_status_changed"]
        if ("send_pending_reminder", None) in kinds:
            return "reminder", waits["hours_since_status_changed"]
    return None
