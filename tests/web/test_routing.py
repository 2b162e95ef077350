"""Routing through the screens and the wires: a mail in Spanish over real SMTP becomes a Spanish ticket in the
default group, assigned to an agent who speaks Spanish and answered in Spanish over real SMTP; the API's tickets
show and take a category and a language; agents change both in the side panel; admins choose the default group;
an agent's phone ticket without a category lands in it too."""

from __future__ import annotations

import re
import smtplib
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.cli.mail_inbound import start_server
from portal.models import Group, Ticket, TicketEvent, User
from portal.services import assignment_rules, support_admin
from tests.conftest import login
from tests.web.api_support import bearer, token_for
from tests.web.test_mail_channel import SUPPORT, _free_port, mail

SPANISH_BODY = ("Buenos días. Desde esta mañana no tengo internet en casa y la luz del router está en rojo. "
                "Ya lo he reiniciado dos veces. ¿Pueden revisar la línea?")
ENGLISH_BODY = "Good morning. Since this morning I have no internet at home and the router light is red."


@pytest.fixture
def app_config(smtp_config):
    return smtp_config  # the portal's mail goes to a real SMTP server


@pytest.fixture
def front_line(db, make, admin_user):
    """An auto-assigning group with an English-only agent and a bilingual one (who is busier, so only the
    ticket's language can make them the choice), chosen as the default group."""
    english = make.user(name="Eve English", email="eve@example.com", role="agent", locale="en")
    bilingual = make.user(name="Beto Bilingüe", email="beto@example.com", role="agent", locale="en")
    english.skills, bilingual.skills = ["en"], ["en", "es"]
    group = Group(name="Front line", tier=1, auto_assign=True, members=[english, bilingual])
    db.add(group)
    db.flush()
    support_admin.set_default_group(db, group.id, actor=admin_user)
    db.commit()
    return SimpleNamespace(group=group, english=english, bilingual=bilingual)


@pytest.fixture
def smtp_in(app):
    """The listener of `flask mail serve`, and a function that sends it a message as an MTA would."""
    port = _free_port()
    controller = start_server(app, "127.0.0.1", port)

    def send(raw: bytes, sender: str) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            assert client.sendmail(sender, [SUPPORT], raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")) == {}

    yield send
    controller.stop()


def mails_to(smtp_server, address: str, *, count: int = 1, wait: float = 10.0) -> list:
    """The messages the portal sent to `address`, once `count` of them have arrived."""
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in smtp_server.messages if m.envelope_to == [address]]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def only_ticket_of(db, email: str) -> Ticket:
    db.expire_all()
    return db.scalars(select(Ticket).join(User, User.id == Ticket.requester_id).where(User.email == email)).one()


# ---- Mail in, mail out ------------------------------------------------------------------------------------


def test_a_spanish_mail_is_a_spanish_ticket_routed_assigned_and_answered_in_spanish(
        app, db, client, front_line, smtp_in, smtp_server):
    smtp_in(mail(sender="Carmen Núñez <carmen@example.net>", subject="Sin conexión a internet", body=SPANISH_BODY),
            "carmen@example.net")

    ticket = only_ticket_of(db, "carmen@example.net")
    assert (ticket.channel, ticket.language, ticket.group_id) == ("email", "es", front_line.group.id)
    assert ticket.assignee_id == front_line.bilingual.id  # the one agent of the group who speaks Spanish
    [receipt] = mails_to(smtp_server, "carmen@example.net")
    assert receipt["Content-Language"] == "es"
    assert receipt["Subject"] == f"[{ticket.ref}] Hemos recibido tu solicitud: Sin conexión a internet"
    assert "Hemos recibido tu solicitud y un agente te responderá pronto." in text_of(receipt)

    # The agent's screens are in English; what the customer gets stays in the ticket's language.
    login(client, front_line.bilingual)
    sent = client.post(f"/agent/tickets/{ticket.ref}/messages",
                       data={"body": "Hemos revisado la línea: ya debería funcionar.", "visibility": "public",
                             "submit_as": "solved", "version": str(ticket.version)})
    assert sent.status_code == 303
    _receipt, solved = mails_to(smtp_server, "carmen@example.net", count=2)
    assert solved["Content-Language"] == "es" and '<html lang="es">' in solved.get_body(("html",)).get_content()
    assert "Hemos revisado la línea" in text_of(solved) and "We received" not in text_of(solved)


def test_an_english_mail_is_an_english_ticket_with_an_english_receipt(db, front_line, smtp_in, smtp_server):
    smtp_in(mail(sender="carol@example.net", subject="No internet", body=ENGLISH_BODY), "carol@example.net")

    ticket = only_ticket_of(db, "carol@example.net")
    assert ticket.language == "en" and ticket.group_id == front_line.group.id and ticket.assignee_id is not None
    [receipt] = mails_to(smtp_server, "carol@example.net")
    assert receipt["Content-Language"] == "en" and "We received your request" in receipt["Subject"]


def test_a_one_word_mail_is_in_the_senders_own_language_or_the_portals(db, make, front_line, smtp_in, smtp_server):
    make.user(email="lucia@example.com", name="Lucía", locale="es")
    smtp_in(mail(sender="lucia@example.com", subject="Hola", body="?"), "lucia@example.com")
    smtp_in(mail(sender="newcomer@example.net", subject="Hola", body="?"), "newcomer@example.net")

    assert only_ticket_of(db, "lucia@example.com").language == "es"  # her setting, not a guess from "Hola"
    assert only_ticket_of(db, "newcomer@example.net").language == "en"  # nobody knows: the portal's default
    assert mails_to(smtp_server, "lucia@example.com")[0]["Content-Language"] == "es"


# ---- The API ----------------------------------------------------------------------------------------------


@pytest.fixture
def agent_token(db, front_line):
    return bearer(token_for(db, front_line.bilingual))


@pytest.fixture
def invoices(make):
    return make.category(name="Invoices", name_es="Facturas")


def test_an_api_ticket_without_a_language_is_read_routed_and_assigned(client, db, front_line, agent_token):
    response = client.post("/api/v1/tickets", headers=agent_token,
                           json={"subject": "Sin conexión", "description": SPANISH_BODY})
    assert response.status_code == 201
    body = response.json
    assert (body["language"], body["category"]) == ("es", None)
    assert body["group"] == {"id": front_line.group.id, "name": "Front line"}
    assert body["assignee"]["id"] == front_line.bilingual.id


def test_an_api_ticket_keeps_the_language_and_category_it_was_given(client, db, alice, invoices):
    response = client.post("/api/v1/tickets", headers={**bearer(token_for(db, alice)), "Accept-Language": "es"},
                           json={"subject": "Sin conexión", "description": SPANISH_BODY, "language": "en",
                                 "category_id": invoices.id})
    assert response.status_code == 201
    body = response.json
    assert body["language"] == "en"  # the caller chose it: nothing is guessed
    assert body["category"] == {"id": invoices.id, "name": "Facturas"}  # named in the caller's language
    assert "group" not in body  # customers do not see the agents' groups


@pytest.mark.parametrize(("payload", "field"), [
    ({"category_id": 999_999}, "category_id"),
    ({"category_id": "retired"}, "category_id"),
    ({"language": "fr"}, "language"),
    ({"language": ""}, "language"),
])
def test_api_create_refuses_an_unknown_category_or_language(client, db, make, agent_token, payload, field):
    if payload.get("category_id") == "retired":
        payload = {"category_id": make.category(name="Old", active=False).id}
    response = client.post("/api/v1/tickets", headers=agent_token,
                           json={"subject": "S", "description": "D", **payload})
    assert response.status_code == 422 and response.json["error"]["field"] == field
    assert db.scalar(select(Ticket)) is None


def test_an_agent_changes_category_and_language_through_the_api(client, db, make, alice, invoices, agent_token):
    ticket = make.ticket(requester=alice)
    response = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=agent_token,
                            json={"version": ticket.version, "category_id": invoices.id, "language": "es"})
    assert response.status_code == 200
    assert (response.json["category"]["id"], response.json["language"]) == (invoices.id, "es")
    kinds = db.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)
                       .order_by(TicketEvent.id)).all()
    assert kinds[-2:] == ["category_changed", "language_changed"]
    cleared = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=agent_token,
                           json={"version": response.json["version"], "category_id": None})
    assert cleared.status_code == 200 and cleared.json["category"] is None
    stale = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=agent_token,
                         json={"version": response.json["version"], "language": "en"})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "version_conflict"


@pytest.mark.parametrize(("payload", "field"), [
    ({"category_id": 999_999}, "category_id"), ({"category_id": "retired"}, "category_id"),
    ({"language": "de"}, "language"),
])
def test_api_update_refuses_an_unknown_category_or_language(client, db, make, alice, agent_token, payload, field):
    ticket = make.ticket(requester=alice)
    if payload.get("category_id") == "retired":
        payload = {"category_id": make.category(name="Old", active=False).id}
    response = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=agent_token,
                            json={"version": ticket.version, **payload})
    assert response.status_code == 422 and response.json["error"]["field"] == field
    db.refresh(ticket)
    assert (ticket.category_id, ticket.language) == (None, "en")


@pytest.mark.parametrize("payload", [{"language": "es"}, {"category_id": None}])
def test_customers_cannot_change_category_or_language(client, db, make, alice, payload):
    ticket = make.ticket(requester=alice)
    response = client.patch(f"/api/v1/tickets/{ticket.ref}", headers=bearer(token_for(db, alice)),
                            json={"version": ticket.version, "action": "confirm", **payload})
    assert response.status_code == 403
    db.refresh(ticket)
    assert ticket.language == "en" and ticket.version == 1


def test_the_contract_documents_category_and_language(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert "category" in schemas["Ticket"]["required"] and schemas["Category"]["required"] == ["id", "name"]
    assert {"category_id", "language"} <= set(schemas["TicketUpdate"]["properties"])


# ---- The side panel ---------------------------------------------------------------------------------------


HX = {"HX-Request": "true"}


def select_of(page: str, select_id: str) -> str:
    return re.search(rf'<select id="{select_id}".*?</select>', page, re.DOTALL).group(0)


def panel_post(client, ticket, field: str, value: str, *, version: int, htmx: bool = True):
    return client.post(f"/agent/tickets/{ticket.ref}/fields", data={"field": field, "value": value,
                                                                     "version": version},
                       headers=HX if htmx else {})


def test_agents_change_category_and_language_in_the_side_panel(client, db, make, alice, agnes, invoices):
    make.category(name="Old plans", active=False)
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    offered = select_of(page, "panel-category")
    assert f'<option value="{invoices.id}" >Invoices</option>' in offered
    assert "Old plans" not in offered  # no longer offered
    assert '<option value="en" selected>English</option>' in select_of(page, "panel-language")

    by_htmx = panel_post(client, ticket, "category", str(invoices.id), version=ticket.version)
    assert by_htmx.status_code == 200 and by_htmx.text.lstrip().startswith('<aside id="side-panel"')
    assert f'<option value="{invoices.id}" selected>' in by_htmx.text
    assert '"value": 2' in by_htmx.headers["HX-Trigger"]
    plain = panel_post(client, ticket, "language", "es", version=2, htmx=False)
    assert plain.status_code == 303
    db.refresh(ticket)
    assert (ticket.category_id, ticket.language, ticket.version) == (invoices.id, "es", 3)
    events = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                  TicketEvent.actor_id == agnes.id).order_by(TicketEvent.id)).all()
    assert [(e.kind, e.old_value, e.new_value) for e in events] == [
        ("category_changed", None, str(invoices.id)), ("language_changed", "en", "es")]
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "changed the category from no category to Invoices" in page
    assert "changed the language from English to Spanish" in page


def test_the_timeline_says_it_in_spanish_to_a_spanish_agent(client, db, make, alice, invoices):
    tomas = make.user(email="tomas@example.com", name="Tomás", role="agent", locale="es")
    ticket = make.ticket(requester=alice)
    login(client, tomas)
    panel_post(client, ticket, "category", str(invoices.id), version=1)
    panel_post(client, ticket, "language", "es", version=2)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "Tomás cambió la categoría de sin categoría a Facturas" in page
    assert "Tomás cambió el idioma de Inglés a Español" in page


def test_a_stale_side_panel_change_of_language_is_refused(client, app, db, make, alice, agnes, invoices):
    ticket = make.ticket(requester=alice)
    other = app.test_client()
    login(client, agnes)
    login(other, make.user(name="Diego Agent", role="agent"))
    assert panel_post(other, ticket, "category", str(invoices.id), version=1).status_code == 200
    stale = panel_post(client, ticket, "language", "es", version=1)
    assert stale.status_code == 409 and "Someone else changed this ticket" in stale.text
    db.refresh(ticket)
    assert (ticket.language, ticket.category_id) == ("en", invoices.id)


@pytest.mark.parametrize(("field", "value"), [("category", "999999"), ("category", "x"), ("language", "fr")])
def test_the_side_panel_refuses_what_it_does_not_offer(client, db, make, alice, agnes, field, value):
    retired = make.category(name="Old plans", active=False)
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    for bad in (value, str(retired.id)) if field == "category" else (value,):
        refused = panel_post(client, ticket, field, bad, version=1)
        assert refused.status_code == 422 and "Choose one of the" in refused.text
    plain = panel_post(client, ticket, field, value, version=1, htmx=False)
    assert plain.status_code == 303
    db.refresh(ticket)
    assert (ticket.category_id, ticket.language, ticket.version) == (None, "en", 1)


def test_a_changed_language_changes_who_fits(client, db, make, alice, front_line):
    ticket = make.ticket(requester=alice)
    assert assignment_rules.fits(front_line.english, ticket)
    login(client, front_line.bilingual)
    panel_post(client, ticket, "language", "es", version=ticket.version)
    db.refresh(ticket)
    assert not assignment_rules.fits(front_line.english, ticket)
    assert assignment_rules.fits(front_line.bilingual, ticket)


# ---- Admin: the default group -----------------------------------------------------------------------------


def test_admins_choose_the_default_group_without_javascript(csrf_client, db, admin_user):
    billing, tier1 = Group(name="Billing"), Group(name="Tier 1")
    db.add_all([billing, tier1])
    db.commit()
    login_page = csrf_client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    csrf_client.post("/login", data={"email": admin_user.email, "password": "correct-horse-battery",
                                     "csrf_token": token})
    page = csrf_client.get("/admin/groups").text
    assert "Default group for tickets that arrive without one" in page
    assert csrf_client.post("/admin/groups/default", data={"default_group": str(tier1.id)}).status_code == 400
    form_token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    saved = csrf_client.post("/admin/groups/default", data={"default_group": str(tier1.id), "csrf_token": form_token})
    assert saved.status_code == 303
    page = csrf_client.get("/admin/groups").text
    assert "New tickets without a group now go to Tier 1." in page
    assert f'<option selected value="{tier1.id}">Tier 1</option>' in page
    db.expire_all()
    assert db.scalars(select(Group.name).where(Group.is_default)).all() == ["Tier 1"]
    cleared = csrf_client.post("/admin/groups/default", data={"default_group": "", "csrf_token": form_token})
    assert cleared.status_code == 303
    db.expire_all()
    assert db.scalars(select(Group.name).where(Group.is_default)).all() == []


def test_an_unknown_default_group_is_refused(client, db, admin_user):
    login(client, admin_user)
    refused = client.post("/admin/groups/default", data={"default_group": "999999"})
    assert refused.status_code == 422 and "Choose one of the groups." in refused.text


@pytest.mark.parametrize("role", ["agent", "customer"])
def test_only_admins_reach_the_setting(client, db, make, role):
    group = Group(name="Tier 1")
    db.add(group)
    db.commit()
    login(client, make.user(role=role))
    assert client.post("/admin/groups/default", data={"default_group": str(group.id)}).status_code == 403
    db.refresh(group)
    assert not group.is_default


# ---- Phone tickets ----------------------------------------------------------------------------------------


def test_a_phone_ticket_without_a_category_lands_in_the_default_group(client, db, make, front_line):
    customer = make.user(name="Javier", locale="en")
    login(client, front_line.english)
    page = client.get("/agent/tickets/new").text
    assert 'name="language"' in page and "Detect from the text" in page
    response = client.post("/agent/tickets/new", data={
        "customer": str(customer.id), "subject": "Llamada: sin conexión", "description": SPANISH_BODY,
        "category": "", "priority": "normal", "channel": "phone", "language": "", "action": "file"})
    assert response.status_code == 303
    ticket = only_ticket_of(db, customer.email)
    assert (ticket.channel, ticket.language, ticket.group_id, ticket.assignee_id) == (
        "phone", "es", front_line.group.id, front_line.bilingual.id)
