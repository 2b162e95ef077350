"""Journey 2, served by gunicorn: a new customer registers (confirming the address from the e-mail), is helped
by a suggested article while typing (no ticket filed), then files a ticket with an attachment and finds it in
their list. Then the same without JavaScript: the suggestions come as a step of the plain form."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Attachment, Deflection, Ticket, User
from tests.outbox import last_confirmation_path

PASSWORD = "a long enough passphrase"
SCREENSHOT = {"name": "router-lights.txt", "mimeType": "text/plain", "buffer": b"power: green\ninternet: red\n"}


def register(page, base: str, app, *, name: str, email: str) -> None:
    """Sign up, then open the link of the confirmation e-mail (from the outbox) as the person would."""
    page.goto(base + "/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(base + last_confirmation_path(app, email))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and log in").click()
    expect(page.get_by_text(f"Welcome, {name}! Your account is ready.")).to_be_visible()


def _tickets(db) -> list[Ticket]:
    db.expire_all()
    return list(db.scalars(select(Ticket)))


def test_customer_is_helped_by_a_suggestion_then_files_a_ticket(gunicorn_server, open_context, step, db, app):
    page = open_context().new_page()
    register(page, gunicorn_server, app, name="Carla Customer", email="carla@example.com")
    step("registered", page)

    page.goto(gunicorn_server + "/tickets/new")
    page.locator("#subject").press_sequentially("I forgot my password", delay=20)
    suggestions = page.locator("#suggestions")
    expect(suggestions.get_by_role("link", name="Reset your password")).to_be_visible()
    step("suggestions-while-typing", page)
    suggestions.locator(".suggestion", has_text="Reset your password").get_by_role(
        "button", name="This answered my question").click()
    expect(page.get_by_role("heading", name="Glad that helped!")).to_be_visible()
    step("deflected", page)
    assert _tickets(db) == []
    [deflection] = db.scalars(select(Deflection)).all()
    assert deflection.article_path == "en/account/reset-your-password.md"

    page.get_by_role("button", name="I still need help").click()  # a link styled as a button
    page.fill("#subject", "Internet light is red")
    page.fill("#description", "Since this morning the internet light on my router is red.")
    page.set_input_files("#attachments", files=[SCREENSHOT])
    step("filled", page)
    page.locator(".form-actions").get_by_role("button", name="Send ticket").click()
    expect(page.get_by_text("Thank you! Your ticket")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Internet light is red")).to_be_visible()
    expect(page.get_by_role("link", name="router-lights.txt")).to_be_visible()
    step("filed", page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    expect(page.locator(".ticket-row", has_text="Internet light is red")).to_be_visible()
    step("my-tickets", page)
    [ticket] = _tickets(db)
    assert ticket.requester.email == "carla@example.com"
    assert [a.filename for a in db.scalars(select(Attachment))] == ["router-lights.txt"]


def test_customer_files_a_ticket_without_javascript(gunicorn_server, open_context, step, db, app):
    page = open_context(java_script_enabled=False).new_page()
    register(page, gunicorn_server, app, name="Nora NoScript", email="nora@example.com")

    page.goto(gunicorn_server + "/tickets/new")
    expect(page.locator("#suggestions")).to_be_hidden()  # the live panel needs JavaScript
    page.fill("#subject", "I forgot my password")
    page.fill("#description", "I cannot log in any more.")
    page.locator(".form-actions").get_by_role("button", name="Send ticket").click()
    step_box = page.locator(".suggestion-step")
    expect(step_box.get_by_role("link", name="Reset your password")).to_be_visible()
    step("suggestions-step", page)
    assert _tickets(db) == []

    page.get_by_role("button", name="No, send my ticket").click()
    expect(page.get_by_role("heading", level=1, name="I forgot my password")).to_be_visible()
    step("filed", page)
    page.goto(gunicorn_server + "/tickets")
    expect(page.locator(".ticket-row", has_text="I forgot my password")).to_be_visible()
    [ticket] = _tickets(db)
    assert ticket.requester == db.scalar(select(User).where(User.email == "nora@example.com"))
