"""The layout in a real browser: the language switcher, and no script blocked by our CSP."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_language_switcher_changes_the_interface(page: Page, live_server):
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    # With JavaScript the select submits itself; its fallback button is hidden.
    expect(page.locator(".language-form button")).to_be_hidden()
    page.select_option("#lang-select", "es")
    expect(page.get_by_role("heading", name="¿Cómo podemos ayudarte?")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    assert console_errors == []


def test_language_switcher_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(live_server + "/")
    page.select_option("#lang-select", "es")
    page.locator(".language-form button").click()
    expect(page.get_by_role("heading", name="¿Cómo podemos ayudarte?")).to_be_visible()
    context.close()
