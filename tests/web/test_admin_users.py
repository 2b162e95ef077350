"""The admin area: who may enter, and managing people (create, role, deactivate, reactivate)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from tests.conftest import login
from tests.factories import DEFAULT_PASSWORD


def admin_routes(app):
    """Every URL of the admin blueprint with sample arguments, and the methods it answers."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = rule.rule.replace("<int:user_id>", "1")
            yield path, sorted(rule.methods & {"GET", "POST"})


def test_admin_area_exists_behind_admin_index(app):
    assert "admin.index" in app.view_functions
    assert len(list(admin_routes(app))) >= 5


@pytest.mark.parametrize("who", ["alice", "agnes"])
def test_customers_and_agents_get_403_everywhere_in_admin(request, app, client, admin_user, who):
    login(client, request.getfixturevalue(who))
    for path, methods in admin_routes(app):
        for method in methods:
            answer = client.open(path, method=method, data={"role": "admin", "name": "x", "email": "x@example.com"})
            assert answer.status_code == 403, (method, path)
    assert 'href="/admin/"' not in client.get("/").text


def test_anonymous_visitors_are_sent_to_login(app, client):
    for path, methods in admin_routes(app):
        for method in methods:
            answer = client.open(path, method=method)
            assert answer.status_code == 302, (method, path)
            assert answer.headers["Location"].startswith("/login?next=")


def test_admin_sees_the_landing_page_and_the_nav_link(client, admin_user, alice, agnes):
    login(client, admin_user)
    assert 'href="/admin/"' in client.get("/").text
    page = client.get("/admin/")
    assert page.status_code == 200
    assert 'href="/admin/users"' in page.text


def test_users_list_searches_and_filters_by_role(client, admin_user, alice, bob, agnes):
    login(client, admin_user)
    page = client.get("/admin/users").text
    for person in (alice, bob, agnes, admin_user):
        assert person.email in page
    page = client.get("/admin/users?q=ALICE").text
    assert alice.email in page and bob.email not in page
    page = client.get("/admin/users?role=agent").text
    assert agnes.email in page and alice.email not in page
    page = client.get("/admin/users?q=%25").text  # a literal %, not a wildcard
    assert "Nobody matches this search." in page


def test_search_answers_htmx_with_the_table_only(client, admin_user, alice):
    login(client, admin_user)
    answer = client.get("/admin/users?q=alice", headers={"HX-Request": "true"})
    assert answer.text.lstrip().startswith('<div id="users-table">')
    assert "<html" not in answer.text and alice.email in answer.text
    assert "HX-Request" in answer.headers["Vary"]


def test_admin_creates_an_agent_who_can_log_in(app, client, admin_user):
    login(client, admin_user)
    answer = client.post("/admin/users/new", data={
        "name": "Diego Agent", "email": "Diego@Example.com", "role": "agent", "locale": "es",
        "password": "diegos first password",
    })
    assert answer.status_code == 303
    assert "diego@example.com" in client.get("/admin/users").text
    client.post("/logout")

    agent = app.test_client()
    answer = agent.post("/login", data={"email": "diego@example.com", "password": "diegos first password"})
    assert answer.status_code == 303
    assert '<html lang="es"' in agent.get("/").text  # the language the admin chose
    assert agent.get("/admin/").status_code == 403


def test_admin_form_errors_keep_what_was_typed(client, admin_user, alice):
    login(client, admin_user)
    answer = client.post("/admin/users/new", data={
        "name": "Someone", "email": "alice@example.com", "role": "agent", "locale": "en",
        "password": "a valid password",
    })
    assert answer.status_code == 422
    assert "An account with this e-mail already exists." in answer.text
    assert 'value="Someone"' in answer.text

    answer = client.post("/admin/users/new", data={"name": "Someone", "email": "new@example.com",
                                                   "role": "agent", "locale": "en"})
    assert answer.status_code == 422
    assert "Give an initial password" in answer.text


def test_set_password_link_goes_to_the_outbox_without_smtp(app, client, admin_user, tmp_path):
    login(client, admin_user)
    answer = client.post("/admin/users/new", data={
        "name": "Tomás Tier", "email": "tomas@example.com", "role": "agent", "locale": "en", "send_link": "y",
    })
    assert answer.status_code == 303
    outbox = tmp_path / "instance" / "outbox"
    [eml] = list(outbox.glob("*.eml"))
    mail = message_from_bytes(eml.read_bytes(), policy=default_policy)
    assert mail["To"] == "Tomás Tier <tomas@example.com>"
    assert "choose a password" in mail["Subject"]
    link = mail.get_body(("plain",)).get_content().split("http://portal.test", 1)[1].split()[0]
    client.post("/logout")

    newcomer = app.test_client()
    assert newcomer.post(link, data={"password": "tomas chose this"}).status_code == 303
    newcomer.post("/logout")
    login(newcomer, type("Person", (), {"email": "tomas@example.com"}), "tomas chose this")


def test_deactivated_person_cannot_log_in_and_their_session_ends(app, client, admin_user, bob):
    bobs_browser = app.test_client()
    login(bobs_browser, bob)
    assert bobs_browser.get("/account").status_code == 200

    login(client, admin_user)
    users_page = client.get("/admin/users").text
    assert f'action="/admin/users/{bob.id}/deactivate"' in users_page
    answer = client.post(f"/admin/users/{bob.id}/deactivate", data={"next": "/admin/users?q=bob"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/users?q=bob"
    assert "Deactivated" in client.get("/admin/users?q=bob").text

    assert bobs_browser.get("/account").status_code == 302  # logged out
    refused = app.test_client().post("/login", data={"email": bob.email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 422 and "Wrong e-mail or password." in refused.text

    client.post(f"/admin/users/{bob.id}/reactivate")
    login(app.test_client(), bob)


def test_admin_changes_a_role(app, client, admin_user, alice):
    login(client, admin_user)
    answer = client.post(f"/admin/users/{alice.id}/role", data={"role": "agent"})
    assert answer.status_code == 303
    assert "Alice Customer is now Agent." in client.get("/admin/users").text
    alices = app.test_client()
    login(alices, alice)
    assert alices.get("/admin/").status_code == 403
    client.post(f"/admin/users/{alice.id}/role", data={"role": "admin"})
    assert alices.get("/admin/").status_code == 302  # a new role ends her sessions: she logs in again
    login(alices, alice)
    assert alices.get("/admin/").status_code == 200


def test_admin_cannot_lock_themselves_out(app, client, admin_user):
    login(client, admin_user)
    client.post(f"/admin/users/{admin_user.id}/deactivate")
    client.post(f"/admin/users/{admin_user.id}/role", data={"role": "customer"})
    page = client.get("/admin/users")
    assert page.status_code == 200  # still an active admin
    assert "You cannot change your own role." in page.text or "You cannot deactivate" in page.text


def test_unknown_user_is_404(client, admin_user):
    login(client, admin_user)
    assert client.post("/admin/users/9999/deactivate").status_code == 404
