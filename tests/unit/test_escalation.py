"""Tiers: escalation moves the ticket to the next tier's group with a required private note."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.errors import Invalid
from portal.models import Group
from portal.services import escalation

NOW = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def tiers(db):
    groups = [Group(name=f"Tier {n}", tier=n) for n in (1, 2, 3)]
    db.add_all(groups)
    db.commit()
    return groups


def test_escalation_moves_one_tier_up_with_a_private_note(db, make, tiers, agnes):
    tier1, tier2, _ = tiers
    tier1.members.append(agnes)
    db.commit()
    ticket = make.ticket(assignee=agnes, status="open")
    ticket.group = tier1
    db.commit()
    history = len(ticket.events)
    assert escalation.escalate(db, ticket, note="Line tests fine, needs a field check.", actor=agnes, now=NOW) == tier2
    db.commit()
    assert ticket.group == tier2 and ticket.status == "open"
    assert ticket.assignee is None  # Agnes is not in tier 2
    assert ticket.messages[-1].body == "Line tests fine, needs a field check." and not ticket.messages[-1].public
    change = next(e for e in ticket.events if e.kind == "group_changed")
    assert (change.field, change.old_value, change.new_value) == ("group_id", str(tier1.id), str(tier2.id))
    assert len(ticket.events) > history  # the history is kept, and grows


def test_escalation_requires_a_note(db, make, tiers, agnes):
    ticket = make.ticket()
    ticket.group = tiers[0]
    db.commit()
    with pytest.raises(Invalid):
        escalation.escalate(db, ticket, note="  ", actor=agnes, now=NOW)
    db.rollback()
    assert ticket.group == tiers[0]


def test_there_is_nothing_above_tier_three_and_nothing_below_tier_one(db, make, tiers, agnes):
    ticket = make.ticket()
    ticket.group = tiers[2]
    db.commit()
    with pytest.raises(Invalid):
        escalation.escalate(db, ticket, note="More", actor=agnes, now=NOW)
    assert escalation.de_escalate(db, ticket, note="Fixed on our side, tier 2 can follow up.", actor=agnes,
                                  now=NOW) == tiers[1]
    ticket.group = tiers[0]
    with pytest.raises(Invalid):
        escalation.de_escalate(db, ticket, note="Less", actor=agnes, now=NOW)


def test_a_ticket_outside_the_tiers_escalates_to_tier_one(db, make, tiers, agnes):
    ticket = make.ticket()
    assert escalation.escalate(db, ticket, note="For the first line", actor=agnes, now=NOW) == tiers[0]


def test_custom_status_labels_live_inside_a_core_status(db, make, agnes, admin_user):
    from portal.models import CustomStatus
    from portal.services import custom_statuses, tickets

    vendor = custom_statuses.create(db, status="on_hold", label_en="Waiting for vendor",
                                    label_es="Esperando al proveedor", actor=admin_user)
    db.commit()
    ticket = make.ticket(assignee=agnes, status="open")
    with pytest.raises(Invalid):
        custom_statuses.set_for(db, ticket, vendor.id, actor=agnes, now=NOW)  # open has no such label
    tickets.set_status(db, ticket, "on_hold", actor=agnes, now=NOW)
    custom_statuses.set_for(db, ticket, vendor.id, actor=agnes, now=NOW)
    assert ticket.custom_status == vendor and vendor.label("es") == "Esperando al proveedor"
    tickets.set_status(db, ticket, "open", actor=agnes, now=NOW)
    assert ticket.custom_status_id is None  # the label belonged to on hold
    assert db.get(CustomStatus, vendor.id).active
