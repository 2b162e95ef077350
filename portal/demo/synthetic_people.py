"""The customers, agents and groups that synthetic tickets need, added in bulk when missing.

Their e-mails depend only on their number, not on the seed, so every run (whatever its seed) shares
the same few hundred customers and twenty agents. They all have the demo password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select
from werkzeug.security import generate_password_hash

from portal.demo.people import BILLING, DEMO_PASSWORD, GROUPS, SPANISH_DESK, TIER_1, TIER_2, TIER_3
from portal.demo.synthetic_text import FIRST_NAMES, LAST_NAMES
from portal.models import Group, User, group_members

CUSTOMERS = 300
AGENTS = 20
TIER_GROUPS = {1: TIER_1, 2: TIER_2, 3: TIER_3}

users_table = User.__table__
groups_table = Group.__table__


@dataclass(frozen=True)
class Population:
    customers: dict[str, list[int]]  # ids by language
    agents: list[int]
    members: dict[str, list[int]]  # agent ids by group name
    groups: dict[str, int]  # group ids by name
    created: int


def _name(lang: str, n: int) -> str:
    first, last = FIRST_NAMES[lang], LAST_NAMES[lang]
    return f"{first[n % len(first)]} {last[(n // len(first)) % len(last)]}"


def customer_specs() -> list[dict]:
    specs = []
    for n in range(1, CUSTOMERS + 1):
        lang = "es" if n % 20 < 9 else "en"
        specs.append({"email": f"bench.customer{n:03d}@example.net", "name": _name(lang, n * 7), "role": "customer",
                      "locale": lang, "skills": [], "groups": ()})
    return specs


def agent_specs() -> list[dict]:
    specs = []
    for n in range(1, AGENTS + 1):
        tier = 1 if n <= 10 else 2 if n <= 16 else 3
        skills = ["en", "es"] if n % 2 else ["en"]
        skills += {1: ["billing"] if n <= 4 else [], 2: ["connection", "devices"], 3: ["network"]}[tier]
        groups = [TIER_GROUPS[tier]]
        if "billing" in skills:
            groups.append(BILLING)
        if tier == 1 and "es" in skills:
            groups.append(SPANISH_DESK)
        specs.append({"email": f"bench.agent{n:02d}@example.net", "name": _name("es" if n % 2 else "en", n * 5),
                      "role": "agent", "locale": "es" if n % 2 else "en", "skills": skills, "groups": tuple(groups)})
    return specs


def ensure_population(conn: Connection, *, now: datetime) -> Population:
    """Add the missing groups, agents and customers; memberships only for what was added now."""
    group_ids, new_groups = _ensure_groups(conn, now=now)
    specs = agent_specs() + customer_specs()
    emails = [s["email"] for s in specs]
    existing = set(conn.scalars(select(users_table.c.email).where(users_table.c.email.in_(emails))))
    missing = [s for s in specs if s["email"] not in existing]
    if missing:
        password_hash = generate_password_hash(DEMO_PASSWORD)
        conn.execute(insert(users_table), [
            {"email": s["email"], "name": s["name"], "password_hash": password_hash, "role": s["role"],
             "locale": s["locale"], "active": True, "verified": True, "skills": s["skills"], "created_at": now,
             "password_changed_at": now}
            for s in missing
        ])
    ids = dict(conn.execute(select(users_table.c.email, users_table.c.id)
                            .where(users_table.c.email.in_(emails))).all())
    memberships = [
        {"group_id": group_ids[name], "user_id": ids[s["email"]]}
        for s in specs if s["role"] == "agent"
        for name in s["groups"] if s["email"] not in existing or name in new_groups
    ]
    present = set(conn.execute(select(group_members.c.group_id, group_members.c.user_id)))
    memberships = [m for m in memberships if (m["group_id"], m["user_id"]) not in present]
    if memberships:
        conn.execute(insert(group_members), memberships)

    agents = sorted(ids[s["email"]] for s in specs if s["role"] == "agent")
    customers: dict[str, list[int]] = {"en": [], "es": []}
    for s in specs:
        if s["role"] == "customer":
            customers[s["locale"]].append(ids[s["email"]])
    names = {gid: name for name, gid in group_ids.items()}
    members: dict[str, list[int]] = {name: [] for name in group_ids}
    for gid, uid in conn.execute(select(group_members.c.group_id, group_members.c.user_id)
                                 .where(group_members.c.user_id.in_(agents))):
        if gid in names:
            members[names[gid]].append(uid)
    for name in members:
        # A group left without any of our agents still gets its tickets worked, by anyone.
        members[name] = sorted(members[name]) or agents
    return Population(customers=customers, agents=agents, members=members, groups=group_ids,
                      created=len(missing))


def _ensure_groups(conn: Connection, *, now: datetime) -> tuple[dict[str, int], set[str]]:
    wanted = [spec.name for spec in GROUPS]
    existing = set(conn.scalars(select(groups_table.c.name).where(groups_table.c.name.in_(wanted))))
    missing = [spec for spec in GROUPS if spec.name not in existing]
    if missing:
        conn.execute(insert(groups_table), [
            {"name": spec.name, "tier": spec.tier, "skills": list(spec.skills), "created_at": now} for spec in missing
        ])
    ids = dict(conn.execute(select(groups_table.c.name, groups_table.c.id)
                            .where(groups_table.c.name.in_(wanted))).all())
    return ids, {spec.name for spec in missing}
