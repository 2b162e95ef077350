"""The desk's agents, groups and categories are kept for a few seconds per process, and an admin's change
committed in this process shows at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from portal.clock import utcnow
from portal.models import Category, CustomStatus, Group
from tests.conftest import login


def test_lists_are_kept_until_people_groups_or_categories_change(app, db, make, agnes):
    lists = app.extensions["desk_lists"]
    now = utcnow()
    assert [a.name for a in lists.current(db, now=now).agents] == [agnes.name]

    # A change the cache cannot see (another process's commit, here raw SQL) waits for max_age ...
    db.execute(text("UPDATE users SET name = 'Agnes Renamed' WHERE id = :id"), {"id": agnes.id})
    db.commit()
    assert [a.name for a in lists.current(db, now=now + timedelta(seconds=1)).agents] == [agnes.name]
    later = now + lists.max_age + timedelta(seconds=1)
    assert [a.name for a in lists.current(db, now=later).agents] == ["Agnes Renamed"]

    # ... while a commit through the ORM in this process drops them at once.
    diego = make.user(email="diego@example.com", name="Diego Duty", role="agent")
    assert [a.name for a in lists.current(db, now=later).agents] == ["Agnes Renamed", "Diego Duty"]
    group = Group(name="Hardware")
    diego.groups.append(group)
    db.add(Category(name_en="Returns", name_es="Devoluciones"))
    db.commit()
    kept = lists.current(db, now=later)
    assert [g.name for g in kept.groups_of(diego.id)] == ["Hardware"]
    assert kept.groups_of(agnes.id) == ()
    assert "Devoluciones" in [c.name("es") for c in kept.categories]
    diego.active = False
    db.commit()
    assert [a.name for a in lists.current(db, now=later).agents] == ["Agnes Renamed"]


def test_tiers_and_custom_status_labels_are_kept_too(app, db):
    lists = app.extensions["desk_lists"]
    first, later = Group(name="Tier 2 (Madrid)", tier=2), Group(name="Tier 2 (Austin)", tier=2)
    db.add_all([first, Group(name="Tier 3", tier=3)])
    db.flush()
    db.add_all([later, CustomStatus(status="on_hold", label_en="Waiting for vendor", label_es="Esperando al proveedor",
                                    position=1),
                CustomStatus(status="on_hold", label_en="Retired", label_es="Retirada", active=False, position=0)])
    db.commit()
    kept = lists.current(db, now=utcnow())
    assert kept.tiers[2].name == "Tier 2 (Madrid)"  # the first made, as escalation.tier_group picks
    assert kept.tiers[3].name == "Tier 3" and 1 not in kept.tiers
    assert [label.label("es") for label in kept.labels_for("on_hold")] == ["Esperando al proveedor"]
    assert kept.labels_for("pending") == []


def test_a_new_agent_and_group_show_on_the_next_queue_page(client, db, make, agnes):
    login(client, agnes)
    assert "Hardware" not in client.get("/agent").text
    group = Group(name="Hardware")
    agnes.groups.append(group)
    make.user(email="diego@example.com", name="Diego Duty", role="agent")
    db.commit()
    page = client.get("/agent").text
    # Agnes's new group is a queue of her sidebar, and Diego is offered as an assignee
    assert f'href="/agent?view=group:{group.id}"' in page and "<span>Hardware</span>" in page
    assert ">Diego Duty</option>" in page
