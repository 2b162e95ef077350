"""Agent operations over HTTP: plain posts with redirects, htmx fragments, and customers kept out."""

from __future__ import annotations

import pytest

from portal.models import Group
from tests.conftest import login


@pytest.fixture
def tiers(db):
    groups = [Group(name=f"Tier {n}", tier=n) for n in (1, 2, 3)]
    db.add_all(groups)
    db.commit()
    return groups


def test_escalate_without_javascript_and_with_htmx(client, db, make, agnes, tiers):
    ticket = make.ticket()
    ticket.group = tiers[0]
    db.commit()
    login(client, agnes)
    refused = client.post(f"/agent/tickets/{ticket.ref}/escalate", data={"note": "", "version": ticket.version},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "private note" in refused.text
    done = client.post(f"/agent/tickets/{ticket.ref}/escalate", data={"note": "Needs tier 2.",
                                                                      "version": ticket.version})
    assert done.status_code == 303
    db.refresh(ticket)
    assert ticket.group == tiers[1]
    panel = client.post(f"/agent/tickets/{ticket.ref}/de-escalate", data={"note": "Back to you."},
                        headers={"HX-Request": "true"})
    assert panel.status_code == 204 and ticket.ref in panel.headers["HX-Redirect"]  # the whole workspace changes
    db.refresh(ticket)
    assert ticket.group == tiers[0]
    assert "Sent back to Tier 1" in client.get(panel.headers["HX-Redirect"]).text


def test_a_stale_version_is_refused(client, db, make, agnes, tiers):
    ticket = make.ticket()
    login(client, agnes)
    response = client.post(f"/agent/tickets/{ticket.ref}/escalate", data={"note": "x", "version": 99},
                           follow_redirects=True)
    assert "Someone else changed this ticket" in response.text
    db.refresh(ticket)
    assert ticket.group is None


def test_problem_link_update_and_solve(client, db, make, agnes, alice, bob):
    problem = make.ticket(subject="Outage", assignee=agnes, status="open")
    incident = make.ticket(requester=alice, subject="No internet")
    login(client, agnes)
    assert client.post(f"/agent/tickets/{incident.ref}/problem", data={"problem": problem.ref}).status_code == 303
    page = client.get(f"/agent/tickets/{problem.ref}/operations")
    assert incident.ref in page.text
    unlinked = client.post(f"/agent/tickets/{incident.ref}/problem/unlink", headers={"HX-Request": "true"})
    assert 'id="ops-panel"' in unlinked.text and "ticketVersion" in unlinked.headers["HX-Trigger"]
    client.post(f"/agent/tickets/{incident.ref}/problem", data={"problem": problem.ref})
    client.post(f"/agent/tickets/{problem.ref}/problem-update", data={"body": "Repaired.", "solve": "y"})
    db.refresh(incident)
    assert incident.status == "solved"
    login(client, alice)
    assert "Repaired." in client.get(f"/tickets/{incident.ref}").text


def test_merge_redirects_to_the_target(client, db, make, agnes, alice):
    target, source = make.ticket(requester=alice), make.ticket(requester=alice)
    login(client, agnes)
    response = client.post(f"/agent/tickets/{source.ref}/merge", data={"target": target.ref})
    assert response.status_code == 303 and target.ref in response.headers["Location"]
    db.refresh(source)
    assert source.status == "closed" and target.ref in source.messages[-1].body


def test_next_ticket_and_availability(client, db, make, agnes):
    group = Group(name="Guided desk", guided=True)
    group.members.append(agnes)
    agnes.skills = ["en"]  # "Next ticket" hands out only tickets in a language the agent has
    db.add(group)
    db.commit()
    category = make.category(group=group)
    ticket = make.ticket(category=category)
    login(client, agnes)
    response = client.post("/agent/next", headers={"HX-Request": "true"})
    assert response.status_code == 204 and ticket.ref in response.headers["HX-Redirect"]
    db.refresh(ticket)
    assert ticket.assignee == agnes
    assert client.post("/agent/next").status_code == 303  # nothing left: back, with a message
    fragment = client.post("/agent/availability", data={"available": "0"}, headers={"HX-Request": "true"})
    assert "Away" in fragment.text
    db.refresh(agnes)
    assert agnes.available is False


@pytest.mark.parametrize("method,path", [
    ("post", "/agent/tickets/{ref}/escalate"), ("post", "/agent/tickets/{ref}/de-escalate"),
    ("post", "/agent/tickets/{ref}/merge"), ("post", "/agent/tickets/{ref}/problem"),
    ("post", "/agent/tickets/{ref}/problem/unlink"), ("post", "/agent/tickets/{ref}/problem-update"),
    ("get", "/agent/tickets/{ref}/operations"), ("get", "/agent/tickets/{ref}/similar"),
    ("post", "/agent/next"), ("post", "/agent/availability"), ("get", "/agent/operations"),
    ("post", "/agent/tickets/{ref}/custom-status"),
])
def test_customers_get_403(client, make, alice, method, path):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    assert getattr(client, method)(path.format(ref=ticket.ref)).status_code == 403


def test_in_guided_groups_the_take_button_is_refused(client, db, make, agnes):
    group = Group(name="Guided desk", guided=True)
    group.members.append(agnes)
    db.add(group)
    db.commit()
    ticket = make.ticket(category=make.category(group=group))
    login(client, agnes)
    response = client.post(f"/agent/tickets/{ticket.ref}/take", follow_redirects=True)
    assert "hands out tickets in order" in response.text
    db.refresh(ticket)
    assert ticket.assignee is None


def test_posts_need_the_csrf_token(csrf_client, make):
    ticket = make.ticket()
    assert csrf_client.post(f"/agent/tickets/{ticket.ref}/escalate", data={"note": "x"}).status_code == 400
    assert csrf_client.post("/agent/next").status_code == 400


@pytest.mark.parametrize("count", [2, 51])  # 51: more than the side panel lists, so the panel reads them itself
def test_a_problems_workspace_lists_every_incident_in_its_operations_panel(client, db, make, agnes, alice, count):
    problem = make.ticket(subject="Outage", assignee=agnes, status="open")
    incidents = [make.ticket(requester=alice, subject=f"No internet {n}") for n in range(count)]
    for incident in incidents:
        incident.problem_id = problem.id
    db.commit()
    login(client, agnes)
    for url in (f"/agent/tickets/{problem.ref}", f"/agent/tickets/{problem.ref}/operations"):
        panel = client.get(url).text.split('id="ops-panel"', 1)[1].split("</section>", 1)[0]
        assert f"linked incident{'s' if count > 1 else ''}." in panel, url
        assert all(incident.ref in panel for incident in incidents), url
    unrelated = client.get(f"/agent/tickets/{incidents[0].ref}").text.split('id="ops-panel"', 1)[1]
    assert "linked incident" not in unrelated.split("</section>", 1)[0]
