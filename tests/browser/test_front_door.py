"""Issue 19, the front doors: on / and /kb the search is the hero, its results show under the box while the person
types and the arrow keys reach them; without JavaScript it is a plain search form; on a 390 px phone nothing
widens the page, the live results included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_phones import PHONE, WIDEST, scroll_width


def test_the_home_hero_shows_live_results_that_the_keyboard_reaches(journey_kb, live_server, open_context):
    page = open_context().new_page()
    page.goto(live_server + "/")
    box = page.get_by_role("searchbox", name="Search the help center")
    box.press_sequentially("invoice", delay=30)
    first = page.locator("#kb-results .kb-hit-title").first
    expect(first).to_have_text("How to read your invoice")
    expect(page).to_have_url(live_server + "/")  # the home page keeps its address

    box.press("ArrowDown")
    expect(first).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_be_focused()
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="How to read your invoice")).to_be_visible()
    expect(page.get_by_role("button", name="Contact us")).to_be_visible()


def test_without_javascript_the_hero_is_a_search_form(journey_kb, live_server, open_context):
    page = open_context(java_script_enabled=False, locale="es-ES").new_page()
    page.goto(live_server + "/")
    page.get_by_role("searchbox").fill("contraseña")
    page.get_by_role("button", name="Buscar").click()
    expect(page).to_have_url(f"{live_server}/kb/search?q=contrase%C3%B1a")
    expect(page.locator("#kb-results .kb-hit-title").first).to_have_text("Cómo restablecer tu contraseña")


@pytest.mark.parametrize("path", ["/", "/kb"])
@pytest.mark.parametrize("locale", ["en-GB", "es-ES"])
def test_on_a_phone_the_front_doors_never_scroll_sideways(path, locale, journey_kb, live_server, open_context):
    page = open_context(viewport=PHONE, locale=locale).new_page()
    page.goto(live_server + path)
    expect(page.locator(".section-card").first).to_be_visible()
    assert scroll_width(page) <= PHONE["width"], page.evaluate(WIDEST)
    page.locator("#kb-q").press_sequentially("router", delay=30)
    expect(page.locator("#kb-results .kb-hit-title").first).to_be_visible()
    assert scroll_width(page) <= PHONE["width"], page.evaluate(WIDEST)
    cards = page.locator(".section-card")
    for index in range(cards.count()):
        card = cards.nth(index).bounding_box()
        assert card is not None and card["x"] >= 0 and card["x"] + card["width"] <= PHONE["width"]
