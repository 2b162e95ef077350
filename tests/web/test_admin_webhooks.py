"""The webhooks admin pages: admins only, a secret shown once, private targets refused with a message, deliveries
with their attempts, test events, redelivery, enable/disable, delete, CSRF."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from portal.models import WebhookDelivery, WebhookEndpoint
from portal.services import tickets, webhooks
from tests.conftest import login
from tests.unit.test_webhooks import NOW, SETTINGS, Receiver, add_endpoint


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def endpoints(db) -> list[WebhookEndpoint]:
    db.expire_all()
    return list(db.scalars(select(WebhookEndpoint)))


def test_customers_and_agents_never_see_the_webhook_pages(client, db, alice, agnes, admin_user):
    endpoint = add_endpoint(db, admin_user, "https://93.184.216.34/hook")
    for person in (alice, agnes):
        login(client, person)
        assert client.get("/admin/webhooks").status_code == 403
        assert client.get(f"/admin/webhooks/{endpoint.id}").status_code == 403
        assert client.post("/admin/webhooks", data={"url": "https://93.184.216.34/x",
                                                    "events": ["ticket.created"]}).status_code == 403
        assert client.post(f"/admin/webhooks/{endpoint.id}/delete").status_code == 403
        client.post("/logout")
    assert len(endpoints(db)) == 1
    anonymous = client.get("/admin/webhooks")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_admin_nav_links_to_webhooks(client, admin_user):
    login(client, admin_user)
    page = client.get("/admin/")
    assert 'href="/admin/webhooks"' in page.text


def test_a_private_address_is_refused_with_a_message_and_the_form_keeps_its_input(client, db, admin_user):
    login(client, admin_user)
    for url, message in (("https://169.254.169.254/latest/meta-data/", "private or reserved address"),
                         ("https://10.0.0.8/hook", "private or reserved address"),
                         ("https://localhost/hook", "private or reserved address"),
                         ("http://93.184.216.34/hook", "Use an https:// address")):
        response = client.post("/admin/webhooks", data={"url": url, "description": "Billing sync",
                                                        "events": ["ticket.created"]})
        assert response.status_code == 422
        assert message in response.text
        assert f'value="{url}"' in response.text and 'value="Billing sync"' in response.text
    no_events = client.post("/admin/webhooks", data={"url": "https://93.184.216.34/hook"})
    assert no_events.status_code == 422 and "Choose at least one event" in no_events.text
    assert endpoints(db) == []


def test_creating_shows_the_secret_once(client, db, admin_user, app):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    login(client, admin_user)
    response = client.post("/admin/webhooks", data={"url": "http://127.0.0.1:9/hook", "description": "CRM",
                                                    "events": ["ticket.created", "ticket.closed"]})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    [endpoint] = endpoints(db)
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.text
    assert endpoint.events == ["ticket.created", "ticket.closed"] and endpoint.enabled
    assert endpoint.secret not in client.get(f"/admin/webhooks/{endpoint.id}").text
    assert endpoint.secret not in client.get("/admin/webhooks").text


def test_deliveries_with_attempts_test_event_and_redelivery(client, db, app, alice, admin_user, receiver):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True
    endpoint = add_endpoint(db, admin_user, receiver.url)
    ticket = tickets.create_ticket(db, requester=alice, subject="Printer on fire", description="Really.",
                                   actor=alice, now=NOW).ticket
    db.commit()
    receiver.answers.append(500)
    webhooks.deliver_due(db, SETTINGS, now=NOW)
    login(client, admin_user)

    page = client.get(f"/admin/webhooks/{endpoint.id}")
    assert page.status_code == 200
    assert "ticket.created" in page.text and ticket.ref in page.text and "500" in page.text

    tested = client.post(f"/admin/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert "Test event delivered (HTTP 200)" in tested.text
    assert receiver.requests[-1]["headers"]["X-Mesa-Event"] == "webhook.test"
    assert json.loads(receiver.requests[-1]["body"])["endpoint"]["url"] == receiver.url

    original = db.scalars(select(WebhookDelivery).where(WebhookDelivery.event == "ticket.created")).one()
    client.post(f"/admin/webhooks/deliveries/{original.id}/redeliver")
    db.expire_all()
    copies = db.scalars(select(WebhookDelivery).where(WebhookDelivery.event == "ticket.created")
                        .order_by(WebhookDelivery.id)).all()
    assert len(copies) == 2 and copies[1].body == original.body and copies[1].uid != original.uid
    assert copies[1].status == "pending" and copies[1].attempts == 0


def test_disable_enable_and_delete(client, db, admin_user, alice):
    endpoint = add_endpoint(db, admin_user, "https://93.184.216.34/hook")
    login(client, admin_user)
    response = client.post(f"/admin/webhooks/{endpoint.id}/enabled", data={"enabled": "0"}, follow_redirects=True)
    assert "Webhook disabled" in response.text
    db.refresh(endpoint)
    assert not endpoint.enabled
    tickets.create_ticket(db, requester=alice, subject="Quiet", description="Nobody hears.", actor=alice, now=NOW)
    db.commit()
    assert db.scalars(select(WebhookDelivery)).all() == []
    client.post(f"/admin/webhooks/{endpoint.id}/enabled", data={"enabled": "1"})
    db.refresh(endpoint)
    assert endpoint.enabled
    client.post(f"/admin/webhooks/{endpoint.id}/delete")
    assert endpoints(db) == []


def test_the_forms_need_a_csrf_token(csrf_client, db, admin_user):
    endpoint = add_endpoint(db, admin_user, "https://93.184.216.34/hook")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', csrf_client.get("/login").text).group(1)
    csrf_client.post("/login", data={"email": admin_user.email, "password": "correct-horse-battery",
                                     "csrf_token": token})
    assert csrf_client.post("/admin/webhooks", data={"url": "https://93.184.216.34/x",
                                                     "events": ["ticket.created"]}).status_code == 400
    assert csrf_client.post(f"/admin/webhooks/{endpoint.id}/delete").status_code == 400
    assert csrf_client.post(f"/admin/webhooks/{endpoint.id}/enabled", data={"enabled": "0"}).status_code == 400
    assert len(endpoints(db)) == 1 and endpoints(db)[0].enabled
    page = csrf_client.get("/admin/webhooks").text
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    deleted = csrf_client.post(f"/admin/webhooks/{endpoint.id}/delete", data={"csrf_token": form_token})
    assert deleted.status_code == 303 and endpoints(db) == []
