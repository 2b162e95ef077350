"""The ticket workspace: conversation, replies and notes, optimistic locking, side panel, presence,
macros (which replaced canned responses) and articles, and the agents' notifications."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import AgentNotification, Group, Macro, Message, Notification, SentArticle, TicketEvent
from portal.services import agent_notifications, tickets
from tests.conftest import login


@pytest.fixture
def diego(make):
    return make.user(email="diego@example.com", name="Diego Agent", role="agent")


def send(client, ticket, body, *, version=None, visibility="public", submit_as="", htmx=False, **extra):
    data = {"body": body, "visibility": visibility, "submit_as": submit_as,
            "version": str(version if version is not None else ticket.version), **extra}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/agent/tickets/{ticket.ref}/messages", data=data, headers=headers)


def test_the_workspace_shows_the_conversation_notes_events_and_mail_log(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="Fibre down", description="No light on the box")
    tickets.add_note(db, ticket, body="Checked the OLT, port 7 is dark", actor=agnes, now=utcnow())
    db.commit()
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert page.status_code == 200
    for text in ("Fibre down", "No light on the box", "Checked the OLT", "Private note", "msg-note",
                 "created the ticket", 'id="notification-log"', alice.email, 'id="composer"', 'id="side-panel"',
                 'id="presence"', 'hx-trigger="every 3s"'):
        assert text in page.text, text


def test_a_public_reply_reaches_the_customer_a_note_never_does(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    assert send(client, ticket, "Please restart the router", submit_as="pending").status_code == 303
    db.refresh(ticket)
    assert send(client, ticket, "Secret: customer owes 3 invoices", visibility="private").status_code == 303
    db.refresh(ticket)
    assert ticket.status == "pending"
    messages = db.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)).all()
    assert [(m.body, m.public) for m in messages][1:] == [("Please restart the router", True),
                                                          ("Secret: customer owes 3 invoices", False)]
    mails = db.scalars(select(Notification).where(Notification.ticket_id == ticket.id)).all()
    assert all("Secret" not in str(m.context) for m in mails)
    client.post("/logout")
    login(client, alice)
    customer_page = client.get(f"/tickets/{ticket.ref}")
    assert "Please restart the router" in customer_page.text
    assert "Secret" not in customer_page.text and "owes 3 invoices" not in customer_page.text


def test_submit_as_solved_and_the_reply_route_fields(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    client.post(f"/agent/tickets/{ticket.ref}/take", data={"version": ticket.version})
    db.refresh(ticket)
    assert send(client, ticket, "Fixed on our side", submit_as="solved").status_code == 303
    db.refresh(ticket)
    assert ticket.status == "solved"


def test_a_stale_reply_is_refused_with_409_and_the_text_stays(client, db, make, alice, agnes, diego, app):
    ticket = make.ticket(requester=alice)
    opened_version = ticket.version
    other = app.test_client()
    login(client, agnes)
    login(other, diego)
    assert other.post(f"/agent/tickets/{ticket.ref}/fields",
                      data={"field": "priority", "value": "urgent", "version": opened_version}).status_code == 303
    response = send(client, ticket, "My long, careful answer", version=opened_version, htmx=True)
    assert response.status_code == 409
    assert "My long, careful answer" in response.text  # back in the composer
    assert "Someone else changed this ticket" in response.text and "Diego Agent" in response.text
    assert response.text.lstrip().startswith('<section id="composer"')
    # the side panel comes along out of band, showing the other agent's change
    assert '<aside id="side-panel"' in response.text and 'hx-swap-oob="true"' in response.text
    assert '<option value="urgent" selected>' in response.text
    db.expire_all()
    assert ticket.priority == "urgent"  # the other change was kept
    assert not db.scalars(select(Message).where(Message.body == "My long, careful answer")).all()
    # the re-rendered composer carries the current version: sending again now works
    assert send(client, ticket, "My long, careful answer", version=ticket.version).status_code == 303

    plain = send(client, ticket, "Another stale one", version=opened_version)
    assert plain.status_code == 409 and "Another stale one" in plain.text and "<html" in plain.text


def test_side_panel_changes_are_audited_and_version_checked(client, db, make, alice, agnes, diego):
    group = Group(name="Tier 2", tier=2)
    db.add(group)
    db.commit()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    url = f"/agent/tickets/{ticket.ref}/fields"
    hx = {"HX-Request": "true"}
    version = ticket.version
    for field, value in (("assignee", str(diego.id)), ("group", str(group.id)), ("priority", "high"),
                         ("add_tag", "VIP"), ("status", "on_hold")):
        response = client.post(url, data={"field": field, "value": value, "version": version}, headers=hx)
        assert response.status_code == 200, (field, response.text)
        assert response.text.lstrip().startswith('<aside id="side-panel"')
        assert "ticketVersion" in response.headers["HX-Trigger"]
        version += 1
    db.expire_all()
    assert (ticket.assignee_id, ticket.group_id, ticket.priority, ticket.tag_names, ticket.status) == (
        diego.id, group.id, "high", ["vip"], "on_hold")
    fields = [e.field for e in db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                                     TicketEvent.actor_id == agnes.id))]
    assert fields == ["assignee_id", "group_id", "priority", "tags", "status"]
    stale = client.post(url, data={"field": "priority", "value": "low", "version": version - 2}, headers=hx)
    assert stale.status_code == 409 and "Someone else changed" in stale.text
    db.expire_all()
    assert ticket.priority == "high"
    # diego was told about the assignment
    assert db.scalar(select(AgentNotification).where(AgentNotification.user_id == diego.id)).kind == "assigned"


def test_presence_shows_who_else_is_viewing_and_typing(client, app, make, alice, agnes, diego):
    ticket = make.ticket(requester=alice)
    other = app.test_client()
    login(client, agnes)
    login(other, diego)
    url = f"/agent/tickets/{ticket.ref}/presence"
    assert "also viewing" not in client.post(url, headers={"HX-Request": "true"}).text
    other.post(url, data={"typing": "1"}, headers={"HX-Request": "true"})
    seen = client.post(url, data={"seen_version": str(ticket.version)}, headers={"HX-Request": "true"})
    assert "Diego Agent is typing" in seen.text
    other.post(f"/agent/tickets/{ticket.ref}/fields", data={"field": "priority", "value": "high"})
    changed = client.post(url, data={"seen_version": str(ticket.version)}, headers={"HX-Request": "true"})
    assert "Diego Agent changed this ticket (priority → High)." in changed.text
    assert "Load the changes" in changed.text


def test_presence_expires(db, make, alice, agnes, diego):
    from portal.services import agent_desk

    ticket = make.ticket(requester=alice)
    then = utcnow() - timedelta(minutes=1)
    agent_desk.touch_presence(db, ticket, diego, typing=True, now=then)
    assert agent_desk.others_present(db, ticket, agnes, now=then + timedelta(seconds=2))[0].typing
    assert agent_desk.others_present(db, ticket, agnes, now=utcnow()) == []


def use_macro(client, ticket, body, macro, *, htmx=False):
    """The composer's one picker: choose a macro and press "Use"."""
    data = {"body": body, "visibility": "public", "submit_as": "", "version": str(ticket.version),
            "macro": str(macro.id), "action": "macro"}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/agent/tickets/{ticket.ref}/macros/preview", data=data, headers=headers)


def test_a_reply_only_macro_fills_the_composer_in_the_tickets_language_as_canned_responses_did(client, db, make,
                                                                                               alice, agnes):
    restart = Macro(title="Restart", body_en="Hi {{ requester.name }}, restart please. {{ agent.name }}",
                    body_es="Hola {{ requester.name }}, reinicie el router ({{ ticket.ref }}).", actions=[])
    db.add(restart)
    db.commit()
    english = make.ticket(requester=alice)
    spanish = make.ticket(requester=alice, language="es")
    login(client, agnes)
    page = client.get(f"/agent/tickets/{english.ref}").text
    assert 'name="canned"' not in page and page.count('name="macro"') == 1  # one picker
    version = english.version
    response = use_macro(client, english, "", restart, htmx=True)
    assert response.status_code == 200 and response.text.lstrip().startswith('<section id="composer"')
    textarea = html.unescape(response.text.split('id="composer-body"')[1].split("</textarea>")[0])
    assert textarea.endswith(">Hi Alice Customer, restart please. Agnes Agent")
    assert "Inserted “Restart”" in html.unescape(response.text) and "Apply macro" not in response.text
    response = use_macro(client, spanish, "Buenos días.", restart)  # a plain form post: the whole page
    assert response.status_code == 200 and 'id="side-panel"' in response.text
    assert f"Buenos días.\n\nHola Alice Customer, reinicie el router ({spanish.ref})." in html.unescape(response.text)
    db.expire_all()
    assert english.version == version  # inserting changed nothing on the ticket
    sent = send(client, english, "Hi Alice, restart please.", submit_as="pending")
    assert sent.status_code == 303
    db.expire_all()
    assert english.status == "pending"


def test_a_macro_that_changes_the_ticket_is_previewed_first(client, db, make, alice, agnes):
    macro = Macro(title="Escalate", body_en="We are on it.", actions=[{"type": "set_priority", "value": "high"}])
    db.add(macro)
    db.commit()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    response = use_macro(client, ticket, "", macro)
    assert "Apply macro" in response.text and "Would do this: Set the priority: High." in html.unescape(response.text)
    db.expire_all()
    assert ticket.priority == "normal"


def test_preview_renders_markdown_safely_and_keeps_the_text(client, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    response = send(client, ticket, "**bold** <script>alert(1)</script>", action="preview", htmx=True)
    assert "<strong>bold</strong>" in response.text and "<script>alert" not in response.text
    assert "**bold**" in response.text


def test_customer_reply_and_assignment_notify_the_agent_by_list_and_opt_in_mail(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="pending", assignee=agnes)
    login(client, agnes)
    assert client.get("/agent/preferences").status_code == 200
    client.post("/agent/preferences", data={"email_kinds": ["customer_reply"]})
    tickets.customer_reply(db, ticket, body="Still broken", actor=alice, now=utcnow())
    db.commit()
    rows = db.scalars(select(AgentNotification).where(AgentNotification.user_id == agnes.id)).all()
    assert [r.kind for r in rows] == ["customer_reply"]
    mail = db.scalars(select(Notification).where(Notification.recipient_id == agnes.id)).all()
    assert [m.kind for m in mail] == ["agent_customer_reply"]
    page = client.get("/agent/notifications")
    assert "The customer replied" in page.text and 'id="unread-count"' in page.text
    client.post("/agent/notifications/read")
    assert agent_notifications.unread_count(db, agnes) == 0


def test_agents_who_did_not_opt_in_get_no_mail(db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="solved", assignee=agnes)
    tickets.reopen(db, ticket, reason="It broke again", actor=alice, now=utcnow())
    db.commit()
    assert [n.kind for n in agent_notifications.recent(db, agnes)] == ["reopened"]
    assert db.scalars(select(Notification).where(Notification.recipient_id == agnes.id)).all() == []


def test_the_group_hears_of_new_unassigned_tickets(db, make, alice, agnes, diego):
    group = Group(name="Billing")
    group.members.extend([agnes, diego])
    db.add(group)
    db.commit()
    category = make.category(name="Billing", group=group)
    make.ticket(requester=alice, category=category)
    assert agent_notifications.unread_count(db, agnes) == 1 and agent_notifications.unread_count(db, diego) == 1


def test_agent_mail_is_rendered_and_sent(app, db, make, alice, agnes):
    from portal.views import notify_dispatch

    ticket = make.ticket(requester=alice, assignee=agnes, status="open")
    agent_notifications.set_email_kinds(db, agnes, ["sla_breached"])
    agent_notifications.notify(db, agnes, "sla_breached", ticket, now=utcnow())
    db.commit()
    row = db.scalar(select(Notification).where(Notification.kind == "agent_sla_breached"))
    with app.test_request_context():
        from portal.views.mailer import settings

        message = notify_dispatch.build(db, row, settings())
    assert message["Subject"] == f"[{ticket.ref}] SLA breached: {ticket.subject}"
    assert f"/agent/tickets/{ticket.ref}" in message.get_body(("plain",)).get_content()


def test_insert_article_searches_the_kb_and_records_what_was_sent(kb_app, db, make, alice, agnes):
    client = kb_app.test_client()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    found = send(client, ticket, "Try this:", action="articles", article_query="password", htmx=True)
    assert found.status_code == 200
    import re

    path = re.search(r'value="article:([^"]+)"', found.text)
    assert path, found.text
    inserted = send(client, ticket, "Try this:", action=f"article:{path.group(1)}", htmx=True)
    link = re.search(r"\[[^\]]+\]\((http://portal\.test/kb/[^)]+)\)", inserted.text)  # absolute: it goes by mail
    assert link
    body = f"Try this: [article]({link.group(1)})"
    assert send(client, ticket, body).status_code == 303
    rows = db.scalars(select(SentArticle).where(SentArticle.ticket_id == ticket.id)).all()
    assert [r.article_path for r in rows] == [link.group(1).removeprefix("http://portal.test/kb/")]


def test_full_page_and_fragment_answers(client, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    full = client.get(f"/agent/tickets/{ticket.ref}")
    assert "<html" in full.text and "HX-Request" in full.headers.get("Vary", "")
    sent = send(client, ticket, "Hello there", htmx=True)
    assert sent.status_code == 200 and sent.headers["HX-Retarget"] == "#workspace"
    assert sent.text.lstrip().startswith('<div id="workspace"') and "Hello there" in sent.text


def test_the_composer_offers_shared_and_own_macros_as_they_change(client, db, make, alice, agnes, diego):
    ticket = make.ticket(requester=alice)
    shared = Macro(title="Shared restart", body_en="Restart it.", actions=[])
    db.add_all([shared, Macro(title="Diego's own", body_en="Hi.", actions=[], owner_id=diego.id)])
    db.commit()
    login(client, agnes)

    def offered() -> list[str]:
        select = client.get(f"/agent/tickets/{ticket.ref}").text.split('name="macro"', 1)[1].split("</select>")[0]
        return [html.unescape(title) for title in re.findall(r'<option value="\d+" >([^<]+)</option>', select)]

    assert offered() == ["Shared restart"]
    db.add(Macro(title="Agnes's own", body_en="Hello.", actions=[], owner_id=agnes.id))
    shared.title = "Shared: restart the router"
    db.commit()
    assert offered() == ["Agnes's own", "Shared: restart the router"]
    db.delete(shared)
    db.commit()
    assert offered() == ["Agnes's own"]
