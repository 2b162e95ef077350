"""Issue 19, on a phone 390 px wide: no page is wider than the screen, the header folds into a menu that holds the
links and the language, the new-ticket form shows its matching articles right under the subject, and an article's
table of contents comes before the article rather than after it. On a wide screen: the header in one row, and the
agent desk's grid lined up with it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.clock import utcnow
from portal.models import Message
from tests.browser.test_accessibility import log_in

PHONE = {"width": 390, "height": 844}
LONG_ADDRESS = "https://support.example.com/downloads/" + "firmware-" * 14 + "AX3000.bin"


@pytest.fixture
def lucia(make):
    return make.user(email="lucia@example.com", name="Lucía Cliente", locale="es")


@pytest.fixture
def long_ticket(make, db, alice, agnes):
    """A ticket with what widens a page on a phone: a long unbroken subject word, an address, code and a table."""
    ticket = make.ticket(requester=alice, assignee=agnes, status="open",
                         subject="Router AX3000 shows error ROUTER_FIRMWARE_UPDATE_FAILED_CHECKSUM_MISMATCH",
                         description=f"The download page {LONG_ADDRESS} fails.\n\n"
                                     "    $ curl --verbose --retry 5 --output firmware.bin " + LONG_ADDRESS + "\n")
    db.add(Message(ticket=ticket, author=agnes, public=True, created_at=utcnow(),
                   body="| Light | Colour | Meaning | What to do next |\n|---|---|---|---|\n"
                        "| Internet | Flashing orange | The firmware is being updated | Wait ten minutes, do not "
                        "unplug |\n| Power | Red | Hardware fault | Call us |"))
    db.commit()
    return ticket


def scroll_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# The element that sticks out furthest, outside any box that scrolls by itself: says what to fix.
WIDEST = """() => {
  let widest = null, right = 0;
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.right > right && !element.closest(".table-scroll, .overflow-auto, details:not([open])")) {
      widest = element; right = box.right;
    }
  }
  return widest ? `${widest.tagName.toLowerCase()}.${widest.className} (${Math.round(right)} px)` : "";
}"""


def too_wide(page: Page, base: str, paths: list[str]) -> dict[str, str]:
    """The pages, among `paths`, that the person would have to scroll sideways: how wide, and what sticks out."""
    wide = {}
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response.status if response else 'no answer'}"
        page.wait_for_load_state("networkidle")
        if (width := scroll_width(page)) > PHONE["width"]:
            wide[path] = f"{width} px: {page.evaluate(WIDEST)}"
    return wide


def test_no_customer_page_is_wider_than_a_phone(journey_kb, live_server, open_context, alice, lucia, long_ticket):
    visitor = open_context(viewport=PHONE).new_page()
    wide = too_wide(visitor, live_server, [
        "/", "/kb", "/kb/search?section=account", "/kb/en/account/reset-your-password",
        "/kb/en/billing/read-your-invoice", "/kb/search?q=password", "/login", "/register"])

    spanish = open_context(viewport=PHONE, locale="es-ES").new_page()
    wide |= {f"{path} (es)": width for path, width in too_wide(spanish, live_server, [
        "/", "/kb", "/kb/es/facturacion/leer-tu-factura", "/kb/search?q=contraseña", "/login", "/register"]).items()}

    customer = open_context(viewport=PHONE).new_page()
    log_in(customer, live_server, alice.email)
    wide |= too_wide(customer, live_server, [
        "/", "/kb", "/tickets", "/tickets/new", f"/tickets/{long_ticket.ref}", "/account"])

    spanish_customer = open_context(viewport=PHONE, locale="es-ES").new_page()
    log_in(spanish_customer, live_server, lucia.email)
    wide |= {f"{path} (es)": width for path, width in too_wide(spanish_customer, live_server, [
        "/", "/tickets", "/tickets/new", "/account"]).items()}
    assert wide == {}


def test_no_agent_or_admin_page_is_wider_than_a_phone(journey_kb, live_server, open_context, agnes, admin_user,
                                                     long_ticket):
    agent = open_context(viewport=PHONE).new_page()
    log_in(agent, live_server, agnes.email)
    wide = too_wide(agent, live_server, ["/agent", f"/agent/tickets/{long_ticket.ref}"])

    admin = open_context(viewport=PHONE, locale="es-ES").new_page()
    log_in(admin, live_server, admin_user.email)
    wide |= {f"{path} (admin)": width for path, width in too_wide(admin, live_server, [
        "/agent", f"/agent/tickets/{long_ticket.ref}", "/admin/", "/admin/users"]).items()}
    assert wide == {}


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_on_a_phone_the_header_is_a_menu_with_the_links_and_the_language(javascript, journey_kb, live_server,
                                                                        open_context, alice):
    page = open_context(viewport=PHONE, java_script_enabled=javascript).new_page()
    log_in(page, live_server, alice.email)
    page.goto(live_server + "/kb")
    header = page.get_by_role("navigation", name="Main")
    menu = header.locator("summary", has_text="Menu")
    my_tickets = header.get_by_role("link", name="My tickets")
    language = header.get_by_label("Language")

    # Folded: the brand and the menu button, nothing that widens the page.
    expect(header.get_by_role("link", name="Mesa")).to_be_visible()
    expect(menu).to_be_visible()
    expect(my_tickets).to_be_hidden()
    expect(language).to_be_hidden()

    # From the keyboard, like any button.
    menu.focus()
    page.keyboard.press("Enter")
    for link in ("Help center", "My tickets", "Alice Customer"):
        expect(header.get_by_role("link", name=link)).to_be_visible()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()
    expect(language).to_be_visible()
    box = language.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert scroll_width(page) <= PHONE["width"]

    # The language chosen in the menu changes the interface, with or without JavaScript.
    language.select_option("es")
    if not javascript:
        header.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="¿Cómo podemos ayudarte?")).to_be_visible()
    header = page.get_by_role("navigation", name="Principal")
    menu = header.locator("summary", has_text="Menú")
    expect(menu).to_be_visible()
    menu.click()
    expect(header.get_by_role("link", name="Mis solicitudes")).to_be_visible()
    my_tickets = header.get_by_role("link", name="Mis solicitudes")
    my_tickets.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mis solicitudes")


def test_escape_closes_the_phone_menu(journey_kb, live_server, open_context):
    page = open_context(viewport=PHONE).new_page()
    page.goto(live_server + "/")
    header = page.get_by_role("navigation", name="Main")
    header.locator("summary").click()
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    page.keyboard.press("Escape")
    expect(header.get_by_role("link", name="Log in")).to_be_hidden()
    expect(header.locator("summary")).to_be_focused()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_on_a_wide_screen_the_header_is_one_row_without_a_menu_button(javascript, journey_kb, live_server,
                                                                      open_context, agnes):
    page = open_context(viewport={"width": 1366, "height": 800}, java_script_enabled=javascript).new_page()
    log_in(page, live_server, agnes.email)
    page.goto(live_server + "/kb")
    header = page.get_by_role("navigation", name="Main")
    expect(header.locator("summary")).to_be_hidden()
    brand = header.get_by_role("link", name="Mesa").bounding_box()
    for link in ("Help center", "My tickets", "Agent desk"):
        box = header.get_by_role("link", name=link).bounding_box()
        assert box is not None and abs(box["y"] - brand["y"]) < 20, link
    expect(header.get_by_label("Language")).to_be_visible()


def test_new_ticket_suggestions_appear_under_the_subject_on_a_phone(journey_kb, live_server, open_context, alice):
    page = open_context(viewport=PHONE).new_page()
    log_in(page, live_server, alice.email)
    page.goto(live_server + "/tickets/new")
    page.locator("#subject").press_sequentially("forgot password", delay=10)
    suggestion = page.locator("#suggestions .suggestion").first
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text("Reset your password")

    subject = page.locator("#subject").bounding_box()
    box = page.locator("#suggestions").bounding_box()
    description = page.locator("#description").bounding_box()
    send = page.locator(".form-actions").get_by_role("button", name="Send ticket").bounding_box()
    # Right under the subject, where the customer is looking while typing: before the description and far above
    # the send button.
    assert subject["y"] + subject["height"] <= box["y"] < description["y"] < send["y"]
    assert box["y"] - (subject["y"] + subject["height"]) < 120
    assert scroll_width(page) <= PHONE["width"]

    # The subject still belongs to the ticket form: Enter in it files the ticket (here: asks for the description).
    page.locator("#subject").press("Enter")
    expect(page.locator("#description-error")).to_be_visible()
    expect(page.locator("#subject")).to_have_value("forgot password")


def test_the_article_table_of_contents_comes_first_on_a_phone_and_beside_it_on_a_wide_screen(
        journey_kb, live_server, open_context):
    phone = open_context(viewport=PHONE).new_page()
    phone.goto(live_server + "/kb/en/account/reset-your-password")
    contents = phone.locator("summary", has_text="On this page")
    steps_link = phone.get_by_role("navigation", name="On this page").get_by_role("link", name="Steps")
    expect(contents).to_be_visible()
    expect(steps_link).to_be_hidden()  # folded until opened
    body = phone.locator(".kb-body").bounding_box()
    title = phone.get_by_role("heading", level=1, name="Reset your password").bounding_box()
    toc = contents.bounding_box()
    assert title["y"] < toc["y"] < body["y"]
    contents.click()
    expect(steps_link).to_be_visible()
    steps_link.click()
    expect(phone.locator("#steps, [id$='steps']").first).to_be_in_viewport()

    desk = open_context(viewport={"width": 1366, "height": 800}).new_page()
    desk.goto(live_server + "/kb/en/account/reset-your-password")
    expect(desk.locator("summary", has_text="On this page")).to_be_hidden()
    sidebar = desk.get_by_role("navigation", name="On this page")
    expect(sidebar.get_by_role("link", name="Steps")).to_be_visible()
    article = desk.locator("article.kb-article").bounding_box()
    assert sidebar.bounding_box()["x"] >= article["x"] + article["width"]


@pytest.mark.parametrize("width", [1366, 1920])
def test_the_agent_desk_lines_up_with_the_header_on_a_wide_screen(width, journey_kb, live_server, open_context,
                                                                 agnes, long_ticket):
    page = open_context(viewport={"width": width, "height": 900}).new_page()
    log_in(page, live_server, agnes.email)
    for path, grid in (("/agent", ".desk-layout"), (f"/agent/tickets/{long_ticket.ref}", ".ws-layout")):
        page.goto(live_server + path)
        brand = page.get_by_role("navigation", name="Main").get_by_role("link", name="Mesa").bounding_box()
        language = page.locator("#lang-select").bounding_box()
        layout = page.locator(grid).bounding_box()
        assert abs(layout["x"] - brand["x"]) <= 1, path
        assert abs((layout["x"] + layout["width"]) - (language["x"] + language["width"])) <= 1, path
