"""axe-core (vendored, tests/browser/vendor/) on every main page: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from portal.clock import utcnow
from portal.models import Message
from tests.factories import DEFAULT_PASSWORD

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_violations(page: Page) -> list[str]:
    """The serious and critical violations of the page as it is now, one readable line per element."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{rule['id']} ({rule['impact']}): {rule['help']} — {node['target']} {node['html'][:120]}"
            for rule in result["violations"] if rule["impact"] in BLOCKING for node in rule["nodes"]]


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def check_pages(page: Page, base: str, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response.status if response else 'no answer'}"
        found[path] = axe_violations(page)
    return {path: lines for path, lines in found.items() if lines}


@pytest.fixture
def solved_ticket(make, db, alice, agnes):
    ticket = make.ticket(requester=alice, subject="Internet light is red", status="solved", assignee=agnes,
                         description="Since this morning the **internet** light is red.")
    db.add(Message(ticket=ticket, author=agnes, public=True, created_at=utcnow(),
                   body="Hello Alice,\n\n1. Unplug the router.\n2. Wait ten seconds.\n3. Plug it back in."))
    db.commit()
    return ticket


def test_main_pages_have_no_serious_accessibility_violations(journey_kb, live_server, open_context, alice, agnes,
                                                             solved_ticket):
    # bypass_csp: our Content-Security-Policy rightly refuses the injected axe script
    visitor = open_context(bypass_csp=True).new_page()
    problems = check_pages(visitor, live_server, [
        "/", "/kb", "/kb/en/account/reset-your-password", "/kb/search?q=password", "/kb/search?q=zzqqxx", "/login",
        "/register", "/register/check-email", "/forgot-password"])
    visitor.goto(live_server + "/kb/en/account/reset-your-password")
    visitor.locator("#kb-feedback button[value=no]").click()
    visitor.locator("#kb-comment").wait_for()
    problems["article, after voting No"] = axe_violations(visitor)
    visitor.goto(live_server + "/login")
    visitor.locator("main form button[type=submit]").click()
    visitor.locator(".field-error, .flash-error").first.wait_for()
    problems["/login, refused"] = axe_violations(visitor)

    spanish = open_context(bypass_csp=True, locale="es-ES").new_page()
    problems |= {f"{path} (es)": lines for path, lines in check_pages(
        spanish, live_server, ["/kb", "/kb/es/cuenta/restablecer-contrasena", "/kb/search?q=contraseña"]).items()}

    customer = open_context(bypass_csp=True).new_page()
    log_in(customer, live_server, alice.email)
    problems |= check_pages(customer, live_server, [
        "/tickets/new", f"/tickets/{solved_ticket.ref}", "/tickets"])
    customer.goto(live_server + "/tickets/new")
    customer.locator("#subject").press_sequentially("forgot password", delay=10)
    customer.locator("#suggestions .suggestion").first.wait_for()
    problems["/tickets/new, with suggestions"] = axe_violations(customer)
    customer.fill("#subject", "")
    customer.locator(".form-actions button[value=file]").click()
    customer.locator(".field-error").first.wait_for()
    problems["/tickets/new, with errors"] = axe_violations(customer)

    agent = open_context(bypass_csp=True).new_page()
    log_in(agent, live_server, agnes.email)
    problems |= check_pages(agent, live_server, ["/agent", f"/agent/tickets/{solved_ticket.ref}", "/agent/macros"])

    problems = {path: lines for path, lines in problems.items() if lines}
    assert not problems, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in problems.items())


def test_reports_page_has_no_serious_accessibility_violations(app, journey_kb, live_server, open_context, agnes,
                                                              solved_ticket):
    if "/agent/reports" not in {rule.rule for rule in app.url_map.iter_rules()}:
        pytest.skip("/agent/reports does not exist yet (another helper is building it)")
    agent = open_context(bypass_csp=True).new_page()
    log_in(agent, live_server, agnes.email)
    problems = check_pages(agent, live_server, ["/agent/reports"])
    assert not problems, "\n".join(f"{path}:\n  " + "\n  ".join(lines) for path, lines in problems.items())
