"""Stored and reflected XSS, checked on the server's HTML: every field that is shown back (names, subjects,
messages, custom fields, tags, attachment names, KB Markdown, drafts, search queries) is escaped or sanitised."""

from __future__ import annotations

import io

from portal.clock import utcnow
from portal.models import ArticleDraft, TicketFieldValue, TicketTag
from portal.services import tickets
from portal.services.attachments import AttachmentStore, Upload
from tests.conftest import login
from tests.security.conftest import person
from tests.security.xss import PAYLOADS, effects_in, write_article


def seed_hostile_tickets(app, db, world) -> list:
    """One ticket per payload: the requester's name, subject, first message, a reply, an attachment name,
    a tag and a custom field answer all carry it."""
    field_id = world.field_id
    store = AttachmentStore.from_config(app.config)
    made = []
    for n, payload in enumerate(PAYLOADS):
        requester = person(db, f"hostile{n}@example.com", payload[:120])
        ticket = tickets.create_ticket(db, requester=requester, subject=payload[:200], description=payload,
                                       category=None, priority="normal", language="en", actor=requester,
                                       now=utcnow()).ticket
        files = store.save([Upload(f"{payload[:100]}.txt", io.BytesIO(b"x"))], now=utcnow())
        tickets.add_message(db, ticket, body=f"Reply: {payload}", author=requester, public=True, now=utcnow(),
                            attachments=files)
        ticket.tags.append(TicketTag(tag=payload[:40]))
        db.add(TicketFieldValue(ticket_id=ticket.id, field_id=field_id, value=payload))
        made.append(ticket)
    db.commit()
    return made


def assert_clean(response, where: str) -> None:
    assert response.status_code < 500, where
    found = effects_in(response.text)
    assert not found, f"{where}: {found[:5]}"


def test_stored_payloads_in_tickets_are_inert_for_agents_and_requesters(app, db, world):
    made = seed_hostile_tickets(app, db, world)
    agent, admin = app.test_client(), app.test_client()
    login(agent, world.users["agent"])
    login(admin, world.users["admin"])
    for page in ("/agent", "/agent?q=xssmark", "/agent?view=all", "/agent/notifications"):
        assert_clean(agent.get(page), page)
    for page in ("/admin/users", "/admin/users?q=hostile", "/admin/agents"):
        assert_clean(admin.get(page), page)
    for ticket in made:
        ref = ticket.ref
        for page in (f"/agent/tickets/{ref}", f"/tickets/{ref}", f"/agent/tickets/{ref}/operations",
                     f"/agent/tickets/{ref}/similar"):
            assert_clean(agent.get(page), page)
    requester = app.test_client()
    login(requester, made[0].requester)
    for page in ("/tickets", f"/tickets/{made[0].ref}", "/account", "/"):
        assert_clean(requester.get(page), page)


def test_stored_payloads_in_kb_articles_are_sanitised(app, db, world, kb_dir):
    urls = [write_article(kb_dir, n, payload) for n, payload in enumerate(PAYLOADS)]
    client = app.test_client()
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        assert_clean(page, url)
    for page in ("/kb", "/kb/en/security", "/kb/search?q=heading", "/kb/search?q=paragraph&page=2"):
        assert_clean(client.get(page), page)
    assert_clean(client.get("/kb/search?q=heading", headers={"HX-Request": "true"}), "live search")
    api = client.get("/api/v1/kb/articles/en/security/xss-0.md").get_json()
    assert not effects_in(api["html"])


def test_stored_payloads_in_drafts_and_their_preview_are_inert(app, db, world):
    agent = app.test_client()
    login(agent, world.users["agent"])
    body = "\n\n".join(PAYLOADS)
    draft = ArticleDraft(owner=world.users["agent"], title=PAYLOADS[1][:200], summary=PAYLOADS[22][:300], body=body,
                         section="general", tags=[p[:40] for p in PAYLOADS[:5]])
    db.add(draft)
    db.commit()
    assert_clean(agent.get(f"/agent/drafts/{draft.id}"), "draft editor")
    assert_clean(agent.get("/agent/drafts"), "draft list")
    assert_clean(agent.get("/agent/knowledge"), "knowledge page")
    preview = agent.post(f"/agent/drafts/{draft.id}/preview", data={"body": body, "title": PAYLOADS[0]},
                         headers={"HX-Request": "true"})
    assert_clean(preview, "draft preview")
    customer = app.test_client()
    login(customer, world.users["alice"])
    assert_clean(customer.post("/tickets/preview", data={"description": body}), "ticket preview")


def test_reflected_payloads_in_searches_and_forms_are_escaped(app, db, world):
    anonymous, alice, agent = app.test_client(), app.test_client(), app.test_client()
    login(alice, world.users["alice"])
    login(agent, world.users["agent"])
    for payload in PAYLOADS:
        reflect_everywhere(anonymous, alice, agent, payload)


def reflect_everywhere(anonymous, alice, agent, payload: str) -> None:
    checks = [
        (anonymous, "/kb/search", {"q": payload}, {}),
        (anonymous, "/kb/search", {"q": payload}, {"HX-Request": "true"}),
        (anonymous, "/login", {"next": payload}, {}),
        (anonymous, "/register", {"next": payload}, {}),
        (alice, "/tickets", {"q": payload}, {}),
        (alice, "/tickets/suggestions", {"subject": payload, "description": payload}, {"HX-Request": "true"}),
        (alice, "/tickets/new", {"subject": payload, "q": payload}, {}),
        (agent, "/agent", {"q": payload}, {}),
    ]
    for client, path, query, headers in checks:
        assert_clean(client.get(path, query_string=query, headers=headers), f"{path} {query}")
    # Forms that come back with errors echo what was typed.
    assert_clean(anonymous.post("/login", data={"email": payload, "password": payload}), "login form")
    assert_clean(anonymous.post("/register", data={"email": payload, "name": payload, "password": "x"}), "register")
    assert_clean(anonymous.post("/forgot-password", data={"email": payload}), "forgot form")
    assert_clean(alice.post("/tickets", data={"subject": payload, "description": ""}), "new ticket form")


def test_the_checks_see_a_payload_that_was_not_escaped():
    """Guard against a blind check: every HTML payload, left raw in a page, is reported."""
    for payload in PAYLOADS:
        if "<" in payload:
            assert effects_in(f"<p>{payload}</p>"), payload
    assert effects_in('<a href="javascript:alert(1)">x</a>') and effects_in("<p>49xssmark</p>")
