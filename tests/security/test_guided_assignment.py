"""Guided groups cannot be cherry-picked: their agents get tickets only from "Next ticket", which hands each agent
the most urgent ticket they have the skills and language for. Every path that sets an assignee or moves a ticket
(side panel, bulk assign, Take, the API) asks the same rule (services/assignment_rules.py): an admin may assign,
the holder may let go or hand over to a member who fits, nobody else picks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.models import Group, Ticket
from tests.conftest import login
from tests.web.api_support import bearer, token_for

HTMX = {"HX-Request": "true"}
REFUSED = "hands out tickets in order"


@pytest.fixture
def guided(db, make, agnes):
    """A guided group with a "Billing" category (needs the billing skill) and a general one (needs nothing but
    the ticket's language). Agnes speaks English and does billing; Beto speaks Spanish and does billing; Carl
    speaks English only; Nora is in the group and speaks both, but does no billing."""
    group = Group(name="Guided desk", guided=True)
    db.add(group)
    db.commit()
    billing = make.category(name="Billing", group=group)
    billing.skill = "billing"
    general = make.category(name="General", group=group)
    beto, carl, nora = (make.user(role="agent", name=name) for name in ("Beto", "Carl", "Nora"))
    for agent, skills in ((agnes, ["billing", "en"]), (beto, ["billing", "es"]), (carl, ["en"]),
                          (nora, ["en", "es"])):
        agent.skills = skills
        group.members.append(agent)
    db.commit()
    return {"group": group, "billing": billing, "general": general, "beto": beto, "carl": carl, "nora": nora}


def _ticket(db, make, category, **kwargs) -> Ticket:
    ticket = make.ticket(category=category, **kwargs)
    assert ticket.assignee is None and ticket.group is not None and ticket.group.guided
    return ticket


def _panel(client, ticket, field: str, value: object, **headers: str):
    return client.post(f"/agent/tickets/{ticket.ref}/fields",
                       data={"field": field, "value": str(value), "version": ticket.version}, headers=headers)


# ---- The side panel ------------------------------------------------------------------------------------------


def test_the_side_panel_refuses_an_agent_picking_a_guided_ticket_for_themselves(client, db, make, agnes, guided):
    ticket = _ticket(db, make, guided["general"])
    login(client, agnes)
    answer = _panel(client, ticket, "assignee", agnes.id, **HTMX)
    assert answer.status_code == 403 and REFUSED in answer.text and 'id="side-panel"' in answer.text
    plain = _panel(client, ticket, "assignee", agnes.id)
    assert plain.status_code == 303
    assert REFUSED in client.get(plain.headers["Location"]).text  # the plain form post says it too
    db.refresh(ticket)
    assert ticket.assignee is None and not [e for e in ticket.events if e.kind == "assigned"]


def test_the_side_panel_refuses_an_agent_giving_a_guided_ticket_to_a_colleague(client, db, make, agnes, guided):
    ticket = _ticket(db, make, guided["general"])
    login(client, agnes)
    assert _panel(client, ticket, "assignee", guided["carl"].id, **HTMX).status_code == 403
    db.refresh(ticket)
    assert ticket.assignee is None


def test_the_side_panel_refuses_moving_a_guided_ticket_out_of_its_group(client, db, make, agnes, guided):
    """Out of the group, into one where Take works, and back: the round trip would be cherry-picking too."""
    elsewhere = Group(name="Open desk")
    elsewhere.members.append(agnes)
    db.add(elsewhere)
    db.commit()
    ticket = _ticket(db, make, guided["general"])
    login(client, agnes)
    answer = _panel(client, ticket, "group", elsewhere.id, **HTMX)
    assert answer.status_code == 403 and "or an admin can move it" in answer.text
    db.refresh(ticket)
    assert ticket.group == guided["group"]


def test_the_side_panel_does_not_offer_what_it_would_refuse(client, db, make, agnes, guided):
    ticket = _ticket(db, make, guided["general"])
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert 'id="panel-assignee"' not in page and 'id="panel-group"' not in page
    assert "only an admin assigns them" in page
    assert f"/agent/tickets/{ticket.ref}/take" not in page  # no Take button either


def test_an_admin_may_assign_a_guided_ticket(client, db, make, admin_user, guided):
    ticket = _ticket(db, make, guided["general"])
    login(client, admin_user)
    assert 'id="panel-assignee"' in client.get(f"/agent/tickets/{ticket.ref}").text
    assert _panel(client, ticket, "assignee", guided["carl"].id, **HTMX).status_code == 200
    db.refresh(ticket)
    assert ticket.assignee == guided["carl"]


def test_the_holder_may_hand_over_to_a_member_who_fits_or_let_go(client, db, make, agnes, guided):
    ticket = _ticket(db, make, guided["billing"])
    login(client, agnes)
    assert client.post("/agent/next").status_code == 303
    db.refresh(ticket)
    assert ticket.assignee == agnes
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert f'<option value="{guided["nora"].id}"' not in page  # Nora does no billing: not offered
    answer = _panel(client, ticket, "assignee", guided["nora"].id, **HTMX)
    assert answer.status_code == 403 and "Nora cannot take this ticket" in answer.text and "billing" in answer.text
    db.refresh(ticket)
    assert ticket.assignee == agnes
    assert _panel(client, ticket, "assignee", "", **HTMX).status_code == 200  # let go: back in the queue
    db.refresh(ticket)
    assert ticket.assignee is None
    assert _panel(client, ticket, "assignee", agnes.id, **HTMX).status_code == 403  # and not picked again


def test_a_holder_hands_over_to_a_member_with_the_skills(client, db, make, agnes, guided):
    ticket = _ticket(db, make, guided["general"])
    login(client, agnes)
    client.post("/agent/next")
    db.refresh(ticket)
    assert ticket.assignee == agnes
    assert _panel(client, ticket, "assignee", guided["carl"].id, **HTMX).status_code == 200
    db.refresh(ticket)
    assert ticket.assignee == guided["carl"]


# ---- Bulk assign ---------------------------------------------------------------------------------------------


def test_bulk_assign_changes_the_others_and_names_each_refused_guided_ticket(client, db, make, agnes, guided):
    free = make.ticket(subject="Anyone's")
    first, second = _ticket(db, make, guided["general"]), _ticket(db, make, guided["billing"])
    login(client, agnes)
    answer = client.post("/agent/bulk", data={"refs": [free.ref, first.ref, second.ref], "action": "assign",
                                              "assign_to": "me"}, headers=HTMX)
    assert answer.status_code == 200 and "flash-error" in answer.text
    assert "1 tickets updated." in answer.text
    assert first.ref in answer.text and second.ref in answer.text and REFUSED in answer.text
    plain = client.post("/agent/bulk", data={"refs": [first.ref], "action": "assign",
                                             "assign_to": str(guided["carl"].id)}, follow_redirects=True)
    assert f"Not changed: {first.ref}." in plain.text and REFUSED in plain.text
    db.expire_all()
    assert free.assignee == agnes and first.assignee is None and second.assignee is None


# ---- Take ----------------------------------------------------------------------------------------------------


def test_take_from_the_queue_is_refused_where_the_agent_sees_it(client, db, make, agnes, guided):
    ticket = _ticket(db, make, guided["general"])
    login(client, agnes)
    queue = client.get(f"/agent?view=group:{guided['group'].id}").text
    assert ticket.ref in queue and f"/agent/tickets/{ticket.ref}/take" not in queue  # no Take button offered
    answer = client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": ticket.version},
                         headers={**HTMX, "HX-Target": f"ticket-{ticket.ref}"})  # a page from before
    assert answer.status_code == 403 and answer.headers["HX-Retarget"] == "#bulk-result"
    assert REFUSED in answer.text
    plain = client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": ticket.version})
    assert plain.status_code == 303 and REFUSED in client.get(plain.headers["Location"]).text
    db.refresh(ticket)
    assert ticket.assignee is None


# ---- The API -------------------------------------------------------------------------------------------------


def test_the_api_refuses_an_agent_assigning_a_guided_ticket(client, db, make, agnes, admin_user, guided):
    ticket = _ticket(db, make, guided["general"])
    answer = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=bearer(token_for(db, agnes)),
                          json={"version": ticket.version, "assignee_id": agnes.id})
    assert answer.status_code == 403 and REFUSED in answer.json["error"]["message"]
    db.refresh(ticket)
    assert ticket.assignee is None
    answer = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=bearer(token_for(db, admin_user)),
                          json={"version": ticket.version, "assignee_id": agnes.id})
    assert answer.status_code == 200
    db.refresh(ticket)
    assert ticket.assignee == agnes


# ---- Next ticket ---------------------------------------------------------------------------------------------


def _next(client) -> str:
    answer = client.post("/agent/next", headers=HTMX)
    assert answer.status_code == 204
    return answer.headers["HX-Redirect"]


def test_next_ticket_hands_each_agent_the_most_urgent_ticket_they_have_the_skills_and_language_for(
        client, db, make, agnes, guided):
    now = utcnow()
    spanish_billing = _ticket(db, make, guided["billing"], language="es", priority="urgent",
                              now=now - timedelta(days=3))
    english_billing = _ticket(db, make, guided["billing"], priority="high", now=now - timedelta(days=2))
    spanish_general = _ticket(db, make, guided["general"], language="es", priority="high", now=now - timedelta(days=1))
    english_general = _ticket(db, make, guided["general"], priority="low", now=now)

    login(client, guided["carl"])  # English only, no billing: the least urgent ticket is the only one for him
    assert english_general.ref in _next(client)
    db.refresh(english_general)
    assert english_general.assignee == guided["carl"]
    client.post("/agent/next")
    message = client.get("/agent").text
    assert "No ticket you have the skills for is waiting. 3 others need a skill or language" in message
    db.expire_all()
    assert all(t.assignee is None for t in (spanish_billing, english_billing, spanish_general))

    login(client, agnes)  # English and billing: the Spanish tickets are not hers, however urgent
    assert english_billing.ref in _next(client)
    login(client, guided["nora"])  # both languages, no billing
    assert spanish_general.ref in _next(client)
    login(client, guided["beto"])  # Spanish and billing
    assert spanish_billing.ref in _next(client)
    db.expire_all()
    assert [english_billing.assignee, spanish_general.assignee, spanish_billing.assignee] == [
        agnes, guided["nora"], guided["beto"]]
