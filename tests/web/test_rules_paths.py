"""One engine on every path: the same rule fires exactly once for one change, whichever door the change came
through: the portal, the agent desk (composer, side panel, bulk, merge, escalation), e-mail, phone, the REST
API and the automations that replaced the timers."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.models import Group, Rule, RuleFiring, Ticket, TicketEvent
from portal.services import tickets
from portal.services.mail import inbound
from portal.services.rules import automations, catalog, manage
from portal.services.rules.defaults import default_automations
from tests.conftest import login
from tests.web.api_support import bearer, token_for

EVERY_EVENT = list(catalog.EVENTS)


@pytest.fixture
def watcher(db, admin_user):
    """A rule listening to every event, with no conditions: it tags the ticket "ruled"."""
    def create():
        rule = manage.create_rule(db, {"name": "Watcher", "events": EVERY_EVENT,
                                       "actions": [{"type": "add_tags", "value": "ruled"}]},
                                  actor=admin_user, now=utcnow())
        db.commit()
        return rule
    return create


def firings(db, ticket_id: int) -> list[str]:
    """The triggers' firings (an automation's own, on the timer paths, are the change itself)."""
    db.expire_all()
    return list(db.scalars(select(RuleFiring.event).where(RuleFiring.ticket_id == ticket_id,
                                                          RuleFiring.event != automations.FIRING_EVENT)
                           .order_by(RuleFiring.id)))


def rule_events(db, ticket_id: int) -> int:
    """Events made by the triggers (not by the automation whose change it is)."""
    return db.scalar(select(func.count()).select_from(TicketEvent).join(Rule, Rule.id == TicketEvent.rule_id).where(
        TicketEvent.ticket_id == ticket_id, Rule.kind == "trigger"))


def newest_ticket(db) -> Ticket:
    db.expire_all()
    return db.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))


def mail(subject: str, *, sender: str = "carol@example.net", message_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"], message["Subject"] = sender, subject
    message["Message-ID"] = message_id or f"<{subject.replace(' ', '.')}@example.net>"
    message.set_content("Body text")
    return message.as_bytes()


# Each path arranges (before the rule exists), yields, then acts and returns the tickets the act changed.


def portal_files(ctx):
    yield
    login(ctx.client, ctx.alice)
    response = ctx.client.post("/tickets", data={"subject": "Printer", "description": "It jams.", "priority": "normal",
                                                 "language": "en", "client_token": "", "suggestions_shown": "1"})
    assert response.status_code == 303, response.text
    return [newest_ticket(ctx.db)]


def customer_replies(ctx):
    ticket = ctx.make.ticket(requester=ctx.alice)
    login(ctx.client, ctx.alice)
    yield
    response = ctx.client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Any news?"})
    assert response.status_code == 303
    return [ticket]


def agent_replies(ctx):
    ticket = ctx.make.ticket(requester=ctx.alice)
    login(ctx.client, ctx.agnes)
    yield
    response = ctx.client.post(f"/agent/tickets/{ticket.ref}/messages",
                               data={"body": "Try again now.", "visibility": "public", "submit_as": "pending"})
    assert response.status_code in (200, 303), response.text
    return [ticket]


def side_panel(field: str, value):
    def path(ctx):
        ticket = ctx.make.ticket(requester=ctx.alice, assignee=ctx.agnes, status="open")
        group = Group(name="Billing")
        ctx.db.add(group)
        ctx.db.commit()
        login(ctx.client, ctx.agnes)
        yield
        response = ctx.client.post(f"/agent/tickets/{ticket.ref}/fields", data={
            "field": field, "value": str(group.id) if value == "group" else value})
        assert response.status_code in (200, 303), response.text
        return [ticket]
    path.__name__ = f"side_panel_{field}"
    return path


def bulk_action(ctx):
    ticket = ctx.make.ticket(requester=ctx.alice)
    login(ctx.client, ctx.agnes)
    yield
    response = ctx.client.post("/agent/bulk", data={"refs": [ticket.ref], "action": "priority",
                                                    "set_priority": "urgent"})
    assert response.status_code in (200, 303), response.text
    return [ticket]


def merge(ctx):
    source = ctx.make.ticket(requester=ctx.alice)
    target = ctx.make.ticket(requester=ctx.alice)
    login(ctx.client, ctx.agnes)
    yield
    response = ctx.client.post(f"/agent/tickets/{source.ref}/merge", data={"target": target.ref})
    assert response.status_code == 303, response.text
    return [source, target]


def escalation(ctx):
    ticket = ctx.make.ticket(requester=ctx.alice)
    tiers = [Group(name=f"Tier {n}", tier=n) for n in (1, 2)]
    ctx.db.add_all(tiers)
    ticket.group = tiers[0]
    ctx.db.commit()
    login(ctx.client, ctx.agnes)
    yield
    response = ctx.client.post(f"/agent/tickets/{ticket.ref}/escalate", data={"note": "Needs tier 2."})
    assert response.status_code == 303, response.text
    return [ticket]


def email_new_ticket(ctx):
    yield
    settings = inbound.InboundSettings.from_config(ctx.app.config)
    inbound.ingest(ctx.db, mail("Router broken"), settings=settings, now=utcnow())
    ctx.db.commit()
    return [newest_ticket(ctx.db)]


def email_reply(ctx):
    settings = inbound.InboundSettings.from_config(ctx.app.config)
    inbound.ingest(ctx.db, mail("Router broken"), settings=settings, now=utcnow())
    ctx.db.commit()
    ticket = newest_ticket(ctx.db)
    yield
    inbound.ingest(ctx.db, mail(f"Re: [{ticket.ref}] Router broken", message_id="<again@example.net>"),
                   settings=settings, now=utcnow())
    ctx.db.commit()
    return [ticket]


def phone_ticket(ctx):
    yield
    login(ctx.client, ctx.agnes)
    response = ctx.client.post("/agent/tickets/new", data={
        "subject": "Cannot print invoices", "description": "Called at 10:05.", "priority": "high",
        "channel": "phone", "category": "", "customer": str(ctx.alice.id)})
    assert response.status_code == 303, response.text
    return [newest_ticket(ctx.db)]


def api_create(ctx):
    yield
    headers = bearer(token_for(ctx.db, ctx.alice))
    response = ctx.client.post("/api/v1/tickets", json={"subject": "Wifi down", "description": "Since 9am."},
                               headers=headers)
    assert response.status_code == 201, response.json
    return [newest_ticket(ctx.db)]


def api_update(ctx):
    ticket = ctx.make.ticket(requester=ctx.alice)
    headers = bearer(token_for(ctx.db, ctx.agnes))
    yield
    response = ctx.client.patch(f"/api/v1/tickets/{ticket.ref}", json={"version": ticket.version,
                                                                        "priority": "high"}, headers=headers)
    assert response.status_code == 200, response.json
    return [ticket]


def _install_defaults(ctx) -> None:
    admin = ctx.make.user(role="admin")
    for data in default_automations():
        manage.create_rule(ctx.db, data, actor=admin, now=utcnow())
    ctx.db.commit()


def timer_auto_close(ctx):
    ticket = ctx.make.ticket(requester=ctx.alice, status="solved", now=utcnow() - timedelta(days=30))
    _install_defaults(ctx)
    yield
    assert automations.run(ctx.db, now=utcnow()).fired == {"Close solved tickets after 28 days": [ticket.ref]}
    return [ticket]


def timer_pending_reminder(ctx):
    then = utcnow() - timedelta(days=4)
    ticket = ctx.make.ticket(requester=ctx.alice, now=then)
    tickets.agent_reply(ctx.db, ticket, body="Which light is red?", submit_as="pending", actor=ctx.agnes, now=then)
    ctx.db.commit()
    _install_defaults(ctx)
    yield
    report = automations.run(ctx.db, now=utcnow())
    assert report.fired == {"Remind the customer of a pending ticket after 3 days": [ticket.ref]}
    return [ticket]


PATHS = [
    (portal_files, ["ticket_created"]),
    (customer_replies, ["customer_replied"]),
    (agent_replies, ["agent_replied"]),
    (side_panel("status", "pending"), ["status_changed"]),
    (side_panel("priority", "high"), ["ticket_updated"]),
    (side_panel("group", "group"), ["ticket_updated"]),
    (bulk_action, ["ticket_updated"]),
    (merge, ["agent_replied", "ticket_updated"]),  # the source closes with a public pointer to the target
    (escalation, ["ticket_updated"]),
    (email_new_ticket, ["ticket_created"]),
    (email_reply, ["customer_replied"]),
    (phone_ticket, ["ticket_created"]),
    (api_create, ["ticket_created"]),
    (api_update, ["ticket_updated"]),
    (timer_auto_close, ["status_changed"]),
    (timer_pending_reminder, ["ticket_updated"]),
]


class Ctx:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


@pytest.mark.parametrize(("path", "expected"), PATHS, ids=[p.__name__ for p, _ in PATHS])
def test_a_rule_fires_exactly_once_for_one_change_on_every_path(path, expected, app, client, db, make, alice,
                                                                 agnes, watcher):
    ctx = Ctx(app=app, client=client, db=db, make=make, alice=alice, agnes=agnes)
    steps = path(ctx)
    next(steps)  # arranged: the rule exists only from now on
    watcher()
    with pytest.raises(StopIteration) as done:
        next(steps)
    changed = done.value.value
    for ticket, event in zip(changed, expected, strict=True):
        assert firings(db, ticket.id) == [event], ticket.ref
        if db.get(Ticket, ticket.id).status == "closed":  # closed is read-only, for rules too
            assert rule_events(db, ticket.id) == 0
            assert "skipped: the ticket is closed" in db.scalar(select(RuleFiring.summary).where(
                RuleFiring.ticket_id == ticket.id, RuleFiring.event != automations.FIRING_EVENT))
        else:
            assert "ruled" in db.get(Ticket, ticket.id).tag_names
            assert rule_events(db, ticket.id) == 1  # one "tag added" event, by the rule
