"""Support administration: groups, agents, plans, categories and fields, SLA policies, calendars, timers."""

from __future__ import annotations

from datetime import date

import pytest

from portal.models import BusinessCalendar, Category, Group, SlaPolicy
from tests.conftest import login

PAGES = ["/admin/groups", "/admin/agents", "/admin/categories", "/admin/sla", "/admin/timers", "/admin/statuses"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_for_admins(client, admin_user, path):
    login(client, admin_user)
    response = client.get(path)
    assert response.status_code == 200 and 'class="admin-nav"' in response.text


def test_groups_with_tier_skills_modes_and_members(client, db, admin_user, agnes):
    login(client, admin_user)
    response = client.post("/admin/groups", data={"name": "Tier 2", "tier": "2", "skills": "Connection, es",
                                                  "auto_assign": "y"})
    assert response.status_code == 303
    group = db.query(Group).filter_by(name="Tier 2").one()
    assert (group.tier, group.skills, group.auto_assign, group.guided) == (2, ["connection", "es"], True, False)
    client.post(f"/admin/groups/{group.id}", data={"name": "Tier 2", "tier": "2", "skills": "es", "guided": "y",
                                                    "members": [str(agnes.id)]})
    db.refresh(group)
    assert group.guided and not group.auto_assign and group.members == [agnes]
    clash = client.post("/admin/groups", data={"name": "tier 2"})
    assert clash.status_code == 422 and "already has this name" in clash.text


def test_agent_skills_capacity_and_availability(client, db, admin_user, agnes):
    login(client, admin_user)
    client.post(f"/admin/agents/{agnes.id}", data={"skills": "billing, en", "capacity": "7"})
    db.refresh(agnes)
    assert (agnes.skills, agnes.capacity, agnes.available) == (["billing", "en"], 7, False)
    assert "billing, en" in client.get("/admin/agents").text


def test_customer_plan(client, db, admin_user, alice):
    login(client, admin_user)
    client.post("/admin/plans", data={"email": "ALICE@example.com", "plan": "premium"})
    db.refresh(alice)
    assert alice.plan == "premium"


def test_categories_and_custom_fields(client, db, admin_user):
    login(client, admin_user)
    group = Group(name="Billing")
    db.add(group)
    db.commit()
    client.post("/admin/categories", data={"name_en": "Invoices", "name_es": "Facturas", "group_id": str(group.id),
                                           "skill": "billing", "active": "y"})
    category = db.query(Category).filter_by(name_en="Invoices").one()
    assert category.group == group and category.skill == "billing"
    client.post(f"/admin/categories/{category.id}/fields", data={"key": "invoice_number", "label_en": "Invoice number",
                                                                 "kind": "text", "required": "y"})
    client.post(f"/admin/categories/{category.id}/fields", data={"key": "month", "label_en": "Month",
                                                                 "kind": "select", "options": "January, February"})
    db.refresh(category)
    assert [(f.key, f.required, f.options) for f in category.fields] == [
        ("invoice_number", True, []), ("month", False, ["January", "February"])]
    client.post(f"/admin/fields/{category.fields[0].id}/active", data={"active": "0"})
    db.refresh(category.fields[0])
    assert not category.fields[0].active


def test_sla_policies_and_business_calendars(client, db, admin_user):
    login(client, admin_user)
    response = client.post("/admin/calendars", data={"name": "Madrid", "timezone": "Europe/Madrid",
                                                     "open0": "09:00", "close0": "18:00"})
    calendar = db.query(BusinessCalendar).one()
    assert response.headers["Location"].endswith(f"/admin/calendars/{calendar.id}")
    assert calendar.hours == {"0": ["09:00", "18:00"]}
    client.post(f"/admin/calendars/{calendar.id}/holidays", data={"day": "2026-12-08", "name": "Inmaculada"})
    db.refresh(calendar)
    assert [h.day for h in calendar.holidays] == [date(2026, 12, 8)]
    assert "Inmaculada" in client.get(f"/admin/calendars/{calendar.id}").text
    bad = client.post(f"/admin/calendars/{calendar.id}", data={"name": "Madrid", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "Europe/Madrid" in bad.text
    client.post("/admin/sla", data={"plan": "premium", "priority": "urgent", "first_reply": "30",
                                    "resolution": "240", "business_hours": "y", "calendar_id": str(calendar.id)})
    policy = db.query(SlaPolicy).one()
    assert (policy.first_reply_minutes, policy.resolution_minutes, policy.calendar) == (30, 240, calendar)
    client.post("/admin/sla", data={"plan": "premium", "priority": "urgent", "first_reply": "15"})
    db.expire_all()
    assert db.query(SlaPolicy).one().first_reply_minutes == 15  # the same priority and plan: replaced
    client.post(f"/admin/sla/{policy.id}/delete")
    assert db.query(SlaPolicy).count() == 0


ALL_URLS = [("get", p) for p in PAGES] + [
    ("post", "/admin/groups"), ("get", "/admin/groups/1"), ("post", "/admin/groups/1"), ("post", "/admin/agents/1"),
    ("post", "/admin/plans"), ("post", "/admin/categories"), ("get", "/admin/categories/1"),
    ("post", "/admin/categories/1/fields"), ("post", "/admin/fields/1/active"), ("post", "/admin/sla"),
    ("post", "/admin/sla/1/delete"), ("post", "/admin/calendars"), ("get", "/admin/calendars/1"),
    ("post", "/admin/calendars/1/holidays"), ("post", "/admin/holidays/1/delete"), ("post", "/admin/statuses"),
    ("post", "/admin/statuses/1/active"),
]


@pytest.mark.parametrize("method,path", ALL_URLS)
def test_customers_and_agents_get_403(client, alice, agnes, method, path):
    for person in (alice, agnes):
        login(client, person)
        assert getattr(client, method)(path).status_code == 403
        client.post("/logout")


def test_custom_statuses_admin_and_the_agents_label(client, db, make, admin_user, agnes):
    login(client, admin_user)
    client.post("/admin/statuses", data={"status": "on_hold", "label_en": "Waiting for vendor",
                                         "label_es": "Esperando al proveedor"})
    assert "Waiting for vendor" in client.get("/admin/statuses").text
    from portal.models import CustomStatus

    vendor = db.query(CustomStatus).one()
    ticket = make.ticket(assignee=agnes, status="on_hold")
    login(client, agnes)
    panel = client.post(f"/agent/tickets/{ticket.ref}/custom-status", data={"custom_status": str(vendor.id)},
                        headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "selected>Waiting for vendor" in panel.text
    db.refresh(ticket)
    assert ticket.custom_status_id == vendor.id
