"""An admin builds a rule in the editor with JavaScript on (rows redraw as fields are chosen), tries it on a
ticket, saves it; then a customer files a ticket through the portal and the rule acts on it. Served by gunicorn
(two workers, CSRF on), as in production."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.models import Rule, RuleFiring, Ticket
from tests.factories import DEFAULT_PASSWORD


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.locator("main form").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def choose(page: Page, select_id: str, label: str) -> None:
    """Pick an option of a select that redraws its row, and wait until htmx has put the new row in place."""
    with page.expect_response(lambda r: "/admin/rules/row" in r.url):
        page.locator(select_id).select_option(label=label)
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def test_an_admin_builds_tests_and_saves_a_rule_that_then_fires_on_a_new_ticket(gunicorn_server, open_context, step,
                                                                                db, make, admin_user, alice):
    base = gunicorn_server
    earlier = make.ticket(requester=alice, subject="Please refund my last invoice", description="Charged twice.")
    admin = open_context().new_page()
    errors: list[str] = []
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(admin, base, admin_user.email)

    admin.get_by_role("link", name="Admin", exact=True).click()
    admin.get_by_role("navigation", name="Admin").get_by_role("link", name="Rules").click()
    expect(admin.get_by_role("heading", level=1, name="Rules")).to_be_visible()
    admin.get_by_role("button", name="New rule").click()  # a link styled as a button
    admin.get_by_label("Name").fill("Refunds are urgent")
    expect(admin.get_by_label("A ticket is created")).to_be_checked()

    # Choosing a field redraws its row: the operators and the value input fit it (no page load).
    admin.evaluate("window.stillTheSamePage = true")
    choose(admin, "#rule-conditions_all-0-field", "Subject or description")
    expect(admin.locator("#rule-conditions_all-0-op")).to_have_value("contains_any_word")
    admin.locator("#rule-conditions_all-0-value").fill("refund reembolso")
    choose(admin, "#rule-actions-0-type", "Set the priority")
    expect(admin.locator("#rule-actions-0-value option", has_text="Urgent")).to_be_attached()
    admin.locator("#rule-actions-0-value").select_option(label="Urgent")
    choose(admin, "#rule-conditions_any-0-field", "Channel")
    expect(admin.locator("#rule-conditions_any-0-value option", has_text="Web portal")).to_be_attached()
    choose(admin, "#rule-conditions_any-0-field", "— choose a field —")  # changed my mind
    expect(admin.locator("#rule-conditions_any-0-op")).to_have_value("")
    assert admin.evaluate("window.stillTheSamePage") is True
    step("rows-drawn", admin)

    # One more action through the button; what was typed stays.
    admin.get_by_role("button", name="Add an action").click()
    expect(admin.locator("#rule-actions-1-type")).to_be_visible()
    assert admin.url.endswith("#list-actions")
    expect(admin.locator("#rule-conditions_all-0-value")).to_have_value("refund reembolso")
    choose(admin, "#rule-actions-1-type", "Add tags")
    admin.locator("#rule-actions-1-value").fill("refund")

    # Tried on the earlier ticket first: it would fire, and nothing changes yet.
    admin.locator("#rule-test-ticket").select_option(earlier.ref)
    admin.get_by_role("button", name="Test on this ticket").click()
    result = admin.locator(".rule-test-result")
    expect(result).to_contain_text(f"The rule would fire on {earlier.ref}.")
    expect(result).to_contain_text("Would do this: Set the priority: Urgent.")
    step("tested", admin)
    db.expire_all()
    assert db.get(Ticket, earlier.id).priority == "normal"

    admin.get_by_role("button", name="Create rule").click()
    expect(admin.locator(".flash", has_text="Rule “Refunds are urgent” created")).to_be_visible()
    card = admin.locator(".rule-card", has_text="Refunds are urgent")
    expect(card).to_contain_text("Subject or description contains any of the words refund reembolso")
    expect(card).to_contain_text("Set the priority: Urgent")
    step("listed", admin)
    [rule] = db.scalars(select(Rule)).all()
    assert rule.conditions_any == [] and rule.actions == [{"type": "set_priority", "value": "urgent"},
                                                          {"type": "add_tags", "value": ["refund"]}]

    customer = open_context().new_page()
    log_in(customer, base, alice.email)
    customer.goto(base + "/tickets/new")
    customer.fill("#subject", "Refund for a double charge")
    customer.fill("#description", "You charged my card twice this month.")
    customer.locator(".form-actions").get_by_role("button", name="Send ticket").click()
    no_thanks = customer.get_by_role("button", name="No, send my ticket")
    expect(customer.get_by_role("heading", level=1, name="Refund for a double charge").or_(no_thanks)).to_be_visible()
    if no_thanks.is_visible():
        no_thanks.click()
    expect(customer.get_by_role("heading", level=1, name="Refund for a double charge")).to_be_visible()
    step("filed", customer)

    db.expire_all()
    ticket = db.scalar(select(Ticket).where(Ticket.subject == "Refund for a double charge"))
    assert ticket.priority == "urgent"
    assert [f.ticket_id for f in db.scalars(select(RuleFiring).where(RuleFiring.rule_id == rule.id))] == [ticket.id]
    admin.reload()
    expect(admin.locator(".rule-card", has_text="Refunds are urgent")).to_contain_text(
        "Fired 1 time in the last 7 days")
    assert errors == []


def test_without_javascript_the_editor_is_a_plain_form_that_keeps_everything(gunicorn_server, open_context, step,
                                                                             db, admin_user):
    base = gunicorn_server
    page = open_context(java_script_enabled=False).new_page()
    log_in(page, base, admin_user.email)
    page.goto(base + "/admin/rules/new")
    page.get_by_label("Name").fill("Phone tickets first")
    page.locator("#rule-conditions_all-0-field").select_option(label="Channel")
    # Without JavaScript the operators and values come with the next page: this button asks for them.
    page.locator("#list-conditions_all").get_by_role("button", name="Show the choices for what I picked").click()
    assert page.url.endswith("#list-conditions_all")
    expect(page.get_by_label("Name")).to_have_value("Phone tickets first")
    page.locator("#rule-conditions_all-0-value").select_option(label="Phone")
    page.locator("#rule-actions-0-type").select_option(label="Set the priority")
    page.get_by_role("button", name="Add an action").click()
    page.locator("#rule-actions-0-value").select_option(label="High")
    page.locator("#rule-actions-1-type").select_option(label="Add tags")
    page.locator("#rule-actions-1-value").fill("phone")
    step("filled", page)
    page.get_by_role("button", name="Create rule").click()
    expect(page.locator(".flash", has_text="Rule “Phone tickets first” created")).to_be_visible()
    [rule] = db.scalars(select(Rule)).all()
    assert rule.conditions_all == [{"field": "channel", "op": "is", "value": "phone"}]
    assert rule.actions == [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["phone"]}]


def test_the_rules_pages_have_no_serious_accessibility_violations(live_server, open_context, db, admin_user):
    from portal.clock import utcnow
    from portal.services.rules import manage
    from tests.browser.test_accessibility import axe_violations, check_pages
    from tests.browser.test_accessibility import log_in as axe_log_in

    rule = manage.create_rule(db, {"name": "Phone first", "events": ["ticket_created"], "conditions_any": [],
                                   "conditions_all": [{"field": "channel", "op": "is", "value": "phone"}],
                                   "actions": [{"type": "add_tags", "value": ["phone"]}]}, actor=admin_user,
                              now=utcnow())
    db.commit()
    page = open_context(bypass_csp=True).new_page()
    axe_log_in(page, live_server, admin_user.email)
    problems = check_pages(page, live_server, ["/admin/rules", "/admin/rules/new", f"/admin/rules/{rule.id}",
                                               f"/admin/rules/{rule.id}/delete", "/admin/rules/import",
                                               "/admin/rules/changes"])
    page.goto(live_server + "/admin/rules/new")
    page.locator(".rule-save button").click()  # refused: every message on the page
    assert problems == {}
    assert axe_violations(page) == []
