"""The XSS payloads in Debian's Chromium: pages that show them back run nothing (no dialog, no `alert`, no
injected element or handler in the live DOM), as an agent, a customer and an anonymous reader."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from playwright.sync_api import Page

from portal.clock import utcnow
from portal.models import ArticleDraft, TicketFieldValue, TicketTag
from portal.services import tickets
from portal.services.attachments import AttachmentStore, Upload
from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import person
from tests.security.xss import DOM_EFFECTS_JS, PAYLOADS, write_article

pytestmark = pytest.mark.browser

# Runs before any page script: a payload that reaches `alert` (or friends) leaves a trace even if the
# dialog were somehow suppressed.
TRAP_JS = """for (const name of ['alert', 'confirm', 'prompt']) {
  const original = window[name];
  window[name] = function (...args) { window.__xss_ran = true; return original.apply(this, args); };
}"""


@pytest.fixture
def hostile(app, db, world, kb_dir):
    """One ticket carrying every payload (requester name, subject, messages, files, tags, a custom field),
    one article and one draft with all of them."""
    requester = person(db, "hostile@example.com", PAYLOADS[1])
    ticket = tickets.create_ticket(db, requester=requester, subject=PAYLOADS[21], description=PAYLOADS[0],
                                   category=None, priority="normal", language="en", actor=requester,
                                   now=utcnow()).ticket
    store = AttachmentStore.from_config(app.config)
    for n, payload in enumerate(PAYLOADS):
        files = store.save([Upload(f"{payload[:100]}.txt", io.BytesIO(b"x"))], now=utcnow()) if n < 5 else []
        tickets.add_message(db, ticket, body=payload, author=requester, public=True, now=utcnow(), attachments=files)
    for payload in PAYLOADS[:6]:
        ticket.tags.append(TicketTag(tag=payload[:40]))
    db.add(TicketFieldValue(ticket_id=ticket.id, field_id=world.field_id, value=PAYLOADS[23]))
    draft = ArticleDraft(owner=world.users["agent"], title=PAYLOADS[22][:200], body="\n\n".join(PAYLOADS),
                         section="general")
    db.add(draft)
    db.commit()
    article = write_article(kb_dir, 0, "\n\n".join(PAYLOADS))
    return {"requester": requester, "ticket": ticket, "draft": draft, "article": article}


def log_in(page: Page, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url


def visit_all(page: Page, live_server: str, paths: list[str]) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(f"{dialog.type}: {dialog.message}"), dialog.dismiss()))
    page.add_init_script(TRAP_JS)
    problems = []
    for path in paths:
        response = page.goto(live_server + path)
        assert response is not None and response.status < 500, path
        page.wait_for_timeout(150)  # onload / onfocus / ontoggle handlers and htmx triggers get their chance
        problems += [f"{path}: {found}" for found in page.evaluate(DOM_EFFECTS_JS)]
        problems += [f"{path}: dialog {d}" for d in dialogs]
        dialogs.clear()
    return problems


def test_an_agent_sees_every_stored_payload_inert(page: Page, live_server, world, hostile):
    log_in(page, live_server, world.users["agent"].email)
    ref = hostile["ticket"].ref
    paths = ["/agent", f"/agent/tickets/{ref}", f"/tickets/{ref}", f"/agent/drafts/{hostile['draft'].id}",
             "/agent/drafts", hostile["article"]]
    assert visit_all(page, live_server, paths) == []
    assert page.url.startswith(live_server)  # no injected refresh or base sent us elsewhere


def test_the_requester_and_an_anonymous_reader_see_them_inert(page: Page, browser, live_server, hostile):
    log_in(page, live_server, hostile["requester"].email)
    ref = hostile["ticket"].ref
    assert visit_all(page, live_server, ["/tickets", f"/tickets/{ref}", "/account"]) == []
    reader = browser.new_context(locale="en-GB").new_page()
    paths = [hostile["article"], "/kb/search?q=heading"]
    paths += [f"/kb/search?q={quote(p)}" for p in (PAYLOADS[1], PAYLOADS[21], PAYLOADS[23], PAYLOADS[30])]
    assert visit_all(reader, live_server, paths) == []
    reader.context.close()


def test_reflected_payloads_typed_into_the_live_search_stay_text(page: Page, live_server, hostile):
    problems = visit_all(page, live_server, ["/kb"])
    search = page.locator("input[name=q]").first
    for payload in PAYLOADS[:12]:
        search.fill(payload)
        page.wait_for_timeout(400)  # the live search's debounce and its htmx swap
        problems += [f"typed {payload[:30]!r}: {found}" for found in page.evaluate(DOM_EFFECTS_JS)]
    assert problems == []


def test_the_checks_see_a_payload_that_was_not_escaped(page: Page):
    """Guard against a blind check: the same payloads, deliberately unescaped, are all caught."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(TRAP_JS)
    for payload in (PAYLOADS[1], PAYLOADS[2], PAYLOADS[10], PAYLOADS[21]):
        page.set_content(f"<html><body><p>{payload}</p></body></html>")
        page.wait_for_timeout(100)
        assert page.evaluate(DOM_EFFECTS_JS), payload
    assert dialogs  # the unescaped <img onerror> and <svg onload> really ran
