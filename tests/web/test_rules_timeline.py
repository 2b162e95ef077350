"""A change a rule made reads, in the agent's timeline, as the rule's doing, in English and in Spanish."""

from __future__ import annotations

from portal.clock import utcnow
from portal.models import Group
from portal.services.rules import manage
from tests.conftest import login


def test_the_timeline_names_the_rule_in_both_languages(client, app, db, make, admin_user, agnes):
    group = Group(name="Tier 2")
    db.add(group)
    db.commit()
    manage.create_rule(db, {"name": "VIP <routing>", "events": ["ticket_created"], "actions": [
        {"type": "set_priority", "value": "high"}, {"type": "set_group", "value": group.id},
        {"type": "add_tags", "value": "vip"}, {"type": "set_status", "value": "open"}]},
        actor=admin_user, now=utcnow())
    db.commit()
    ticket = make.ticket()
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "Rule “VIP &lt;routing&gt;” set the priority to High" in page
    assert "Rule “VIP &lt;routing&gt;” moved the ticket to the group Tier 2" in page
    assert "Rule “VIP &lt;routing&gt;” added the tag vip" in page
    assert "Rule “VIP &lt;routing&gt;” set the status to Open" in page

    diego = make.user(role="agent", email="diego@example.com", locale="es")
    spanish = app.test_client()
    login(spanish, diego)
    page = spanish.get(f"/agent/tickets/{ticket.ref}").text
    assert "La regla «VIP &lt;routing&gt;» cambió la prioridad a Alta" in page
    assert "La regla «VIP &lt;routing&gt;» pasó la solicitud al grupo Tier 2" in page
    assert "La regla «VIP &lt;routing&gt;» cambió el estado a Abierta" in page
