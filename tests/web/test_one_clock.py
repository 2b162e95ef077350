"""One ticket, one time: the agent queue, the workspace, the customer's page and the receipt mail all show the
first-reply target in the portal's time zone (never UTC beside local), in the reader's language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.models import SlaPolicy, Ticket
from tests.conftest import login
from tests.outbox import outbox_messages


@pytest.fixture
def app_config():
    return {"TIMEZONE": "America/Bogota"}  # UTC-5 all year: a UTC time is five hours off


def test_the_queue_the_workspace_and_the_receipt_agree(app, client, db, alice, agnes):
    db.add(SlaPolicy(priority="normal", plan="standard", first_reply_minutes=600))
    db.commit()
    login(client, alice)
    client.post("/tickets", data={"subject": "My phone bill", "description": "Charged twice", "priority": "normal",
                                  "language": "en", "client_token": "", "suggestions_shown": "1"})
    db.expire_all()
    ticket = db.scalar(select(Ticket).where(Ticket.subject == "My phone bill"))
    assert ticket.sla_due_at is not None
    local = ticket.sla_due_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("America/Bogota"))
    local_time, utc_time = local.strftime("%H:%M"), ticket.sla_due_at.strftime("%H:%M")
    assert local_time != utc_time

    [receipt] = [m for m in outbox_messages(app, "alice@example.com") if "We received" in str(m["Subject"])]
    text = receipt.get_body(("plain",)).get_content()
    assert f"{local_time} -05" in text or f"{local_time} GMT-5" in text or f"{local_time} COT" in text, text
    assert utc_time not in text

    client.post("/logout")
    login(client, agnes)
    queue = client.get("/agent").text
    row = queue[queue.index(f'id="ticket-{ticket.ref}"'):]
    row = row[:row.index("</tr>")]
    assert local_time in row and utc_time not in row and "UTC" not in row
    workspace = client.get(f"/agent/tickets/{ticket.ref}").text
    assert local_time in workspace and "UTC" not in workspace
