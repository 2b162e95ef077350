"""Issue 19, feedback and nothing lost, in a real browser served by gunicorn: every request shows progress and is
sent once, every failure is shown on the page, typed text survives "I still need help", a too-large file, a
reload and a lost connection, and no page of the journeys logs a console error or a CSP violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.models import Message, Ticket
from tests.factories import DEFAULT_PASSWORD

BIG = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF" + b"x" * (1024 * 1024)}


@pytest.fixture
def app_config():
    return {"MAX_ATTACHMENT_MB": 1}  # a file over the limit stays small enough for a quick test


class Console:
    """Every console error and uncaught exception of the pages it watches. A test names the few it causes on
    purpose (the browser logs a refused request, e.g. "status of 422"); anything else fails the test, and a CSP
    violation ("Refused to apply inline style ...") is never expected."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    def unexpected(self, *expected: str) -> list[str]:
        return [text for text in self.errors if not any(part in text for part in expected)]


@pytest.fixture
def console() -> Console:
    return Console()


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def bodies(db, ticket: Ticket) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Message.body).where(Message.ticket_id == ticket.id).order_by(Message.id)))


def test_a_customer_loses_nothing_typed_and_sees_every_refusal(gunicorn_server, open_context, console, step, db,
                                                               make, alice):
    base = gunicorn_server
    page = console.watch(open_context().new_page())
    log_in(page, base, alice.email)

    # Suggestions while typing; "This answered my question", then "I still need help": the form comes back as it was.
    page.goto(base + "/tickets/new")
    page.fill("#description", "I cannot log in any more.")
    page.locator("#subject").press_sequentially("I forgot my password", delay=20)
    suggestions = page.locator("#suggestions")
    # the first search opens the knowledge base's index: give it time
    expect(suggestions.get_by_role("link", name="Reset your password")).to_be_visible(timeout=30_000)
    suggestions.locator(".suggestion", has_text="Reset your password").get_by_role(
        "button", name="This answered my question").click()
    expect(page.get_by_role("heading", name="Glad that helped!")).to_be_visible()
    page.get_by_role("button", name="I still need help").click()
    expect(page.locator("#subject")).to_have_value("I forgot my password")
    expect(page.locator("#description")).to_have_value("I cannot log in any more.")
    step("still-need-help", page)

    # A file over the limit is refused before the upload, with a message; the text stays.
    page.set_input_files("#attachments", files=[BIG])
    expect(page.get_by_role("alert").filter(has_text="“scan.pdf” is larger than 1 MB")).to_be_visible()
    assert page.locator("#attachments").evaluate("input => input.files.length") == 0
    expect(page.locator("#description")).to_have_value("I cannot log in any more.")
    step("file-refused", page)
    page.locator(".form-actions").get_by_role("button", name="Send ticket").click()
    expect(page.get_by_role("heading", level=1, name="I forgot my password")).to_be_visible()
    db.expire_all()
    [ticket] = db.scalars(select(Ticket)).all()

    # A reply being written survives a reload; once sent, it is gone from the box.
    reply_box = page.locator(".reply-box").get_by_label("Your reply")
    reply_box.fill("The reset e-mail never arrived.")
    page.reload()
    expect(reply_box).to_have_value("The reset e-mail never arrived.")
    expect(page.get_by_text("We restored what you had typed and not sent yet.")).to_be_visible()
    step("draft-restored", page)
    page.locator(".reply-box").get_by_role("button", name="Send reply").click()
    expect(page.locator(".msg-customer", has_text="The reset e-mail never arrived.")).to_be_visible()
    page.reload()
    expect(page.locator(".reply-box").get_by_label("Your reply")).to_have_value("")
    assert bodies(db, ticket).count("The reset e-mail never arrived.") == 1

    # "Send my rating" with nothing chosen says why, on the page.
    solved = make.ticket(requester=alice, subject="Printer offline", status="solved")
    page.goto(f"{base}/tickets/{solved.ref}")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.locator("#satisfaction").get_by_role("alert")).to_have_text("Choose Good or Bad.")
    step("rating-refused", page)

    assert console.unexpected("status of 422") == []


def test_an_agent_sends_once_sees_a_lost_connection_and_keeps_the_text(gunicorn_server, open_context, console,
                                                                       step, db, make, alice, agnes):
    base = gunicorn_server
    ticket = make.ticket(requester=alice, subject="Internet light is red", description="Red since this morning.")
    page = console.watch(open_context().new_page())
    log_in(page, base, agnes.email)
    page.goto(f"{base}/agent/tickets/{ticket.ref}")
    composer = page.locator("#composer")

    # The agent drags the composer taller (the browser writes a style attribute), then previews: the swap keeps
    # the page's look without applying any inline style (the CSP refuses those, and would say so in the console).
    page.locator("#composer-body").evaluate("area => { area.style.height = '260px'; }")
    composer.locator("textarea[name=body]").fill("**Hello** Alice")
    composer.get_by_role("button", name="Preview").click()
    expect(composer.locator(".composer-preview strong")).to_have_text("Hello")
    page.wait_for_timeout(300)  # htmx settles the swap 20 ms later
    assert console.unexpected() == [], "the preview's swap applied an inline style"
    composer.locator("textarea[name=body]").fill("")

    # The connection drops: the agent is told, the text stays, and the next Send goes through.
    page.route("**/agent/tickets/*/messages", lambda route: route.abort())
    composer.locator("textarea[name=body]").fill("Please unplug the router for ten seconds.")
    composer.get_by_role("button", name="Send", exact=True).click()
    expect(composer.get_by_role("alert")).to_contain_text("We could not reach Mesa")
    expect(composer.locator("textarea[name=body]")).to_have_value("Please unplug the router for ten seconds.")
    expect(composer.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    step("offline", page)
    page.unroute("**/agent/tickets/*/messages")

    # A reload keeps the unsent text too.
    page.reload()
    expect(page.locator("#composer textarea[name=body]")).to_have_value("Please unplug the router for ten seconds.")

    # A slow answer: the button shows progress and is disabled; a double click sends one reply.
    def slow(route):
        page.wait_for_timeout(600)
        route.continue_()

    page.route("**/agent/tickets/*/messages", slow)
    send = page.locator("#composer").get_by_role("button", name="Send", exact=True)
    send.dblclick()
    expect(page.locator("#composer form")).to_have_attribute("aria-busy", "true")
    expect(page.locator(".timeline, #workspace").get_by_text("Please unplug the router for ten seconds.").first
           ).to_be_visible()
    expect(page.locator("#composer form")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#composer textarea[name=body]")).to_have_value("")
    step("sent-once", page)
    assert bodies(db, ticket).count("Please unplug the router for ten seconds.") == 1
    page.reload()
    expect(page.locator("#composer textarea[name=body]")).to_have_value("")

    # the connection cut on purpose: the browser and htmx log it (and the page said it, above)
    assert console.unexpected("net::ERR_FAILED", "htmx:sendError", "htmx:afterRequest") == []


def test_the_journeys_in_spanish_show_the_refusals_in_spanish(gunicorn_server, open_context, console, make, alice):
    base = gunicorn_server
    page = console.watch(open_context(locale="es-ES").new_page())
    log_in_es(page, base, alice.email)
    page.goto(base + "/tickets/new")
    page.set_input_files("#attachments", files=[BIG])
    expect(page.get_by_role("alert").filter(has_text="«scan.pdf» ocupa más de 1 MB")).to_be_visible()
    solved = make.ticket(requester=alice, subject="Impresora", status="solved")
    page.goto(f"{base}/tickets/{solved.ref}")
    page.locator("#satisfaction").get_by_role("button").click()
    expect(page.locator("#satisfaction").get_by_role("alert")).to_be_visible()
    assert console.unexpected("status of 422") == []


def log_in_es(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.locator("main form input[type=email], main form input[name=email]").first.fill(email)
    page.locator("main form input[type=password]").fill(DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("form[action$='/logout']")).to_be_visible()
