"""A signed-in person who opens a part of the portal their account has no role for is told so, and where to go:
the same answer for every address under it, whether what it names exists or not."""

from __future__ import annotations

import pytest

from tests.conftest import login


@pytest.mark.parametrize("path", ["/agent", "/agent/tickets/MSA-0000-0000", "/agent/reports", "/admin/",
                                  "/admin/rules"])
def test_a_customer_is_told_the_area_is_for_the_support_team(client, alice, path):
    login(client, alice)
    page = client.get(path)
    assert page.status_code == 403
    assert "alice@example.com" in page.text and "not an" in page.text
    assert 'href="/tickets"' in page.text and "Log out to sign in with another account" in page.text


def test_an_existing_and_a_missing_ticket_answer_alike(client, make, alice, bob):
    ticket = make.ticket(requester=bob)
    login(client, alice)
    real = client.get(f"/agent/tickets/{ticket.ref}")
    made_up = client.get("/agent/tickets/MSA-9999-9999")
    assert real.status_code == made_up.status_code == 403
    assert real.text.replace(ticket.ref, "X") == made_up.text.replace("MSA-9999-9999", "X")


def test_an_agent_opening_admin_is_sent_to_the_desk(client, agnes):
    login(client, agnes)
    page = client.get("/admin/")
    assert page.status_code == 403 and "for administrators" in page.text and 'href="/agent"' in page.text


def test_in_spanish(client, make):
    lucia = make.user(email="lucia@example.com", name="Lucía", locale="es")
    login(client, lucia)
    page = client.get("/agent", headers={"Accept-Language": "es"})
    assert page.status_code == 403 and "equipo de soporte" in page.text and "lucia@example.com" in page.text


def test_visitors_are_still_asked_to_log_in(client):
    answer = client.get("/agent")
    assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
