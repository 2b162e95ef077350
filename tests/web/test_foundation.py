"""The portal's ground rules: pages answer, headers protect, languages switch, errors stay friendly."""

from __future__ import annotations

import re

from tests.conftest import login


def test_home_and_login_pages_answer(client):
    assert client.get("/").status_code == 200
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="email"' in page.text and 'name="password"' in page.text


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_carry_no_inline_script(client):
    page = client.get("/").text
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag, tag
    assert " on" not in " ".join(re.findall(r"<[^>]+ on[a-z]+=", page))


def test_unknown_route_is_a_friendly_404(client):
    page = client.get("/definitely/not/here")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert "Traceback" not in page.text


def test_wrong_method_is_405(client):
    assert client.delete("/login").status_code == 405


def test_api_errors_are_json(client):
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json["error"]["message"]


def test_body_over_the_limit_is_refused_with_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    answer = client.post("/login", data={"email": "x@example.com", "password": "y" * 4000})
    assert answer.status_code == 413
    assert "MB" in answer.text


def test_unexpected_error_shows_no_stack_trace(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    page = client.get("/boom")
    assert page.status_code == 500
    assert "secret internals" not in page.text and "Traceback" not in page.text
    assert "unexpected error" in page.text


def test_accept_language_picks_spanish(client):
    page = client.get("/", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert '<html lang="es"' in page.text
    assert "¿Cómo podemos ayudarte?" in page.text


def test_language_switch_is_remembered(client):
    client.post("/language", data={"lang": "es", "next": "/login"})
    page = client.get("/", headers={"Accept-Language": "en"})
    assert "¿Cómo podemos ayudarte?" in page.text


def test_logged_in_users_preference_beats_the_browser(client, make, db):
    carmen = make.user(email="carmen@example.com", locale="es")
    login(client, carmen)
    page = client.get("/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="es"' in page.text


def test_language_switch_ignores_foreign_next(client):
    answer = client.post("/language", data={"lang": "es", "next": "https://evil.example/"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"


def test_forms_without_csrf_token_are_refused(csrf_client, alice):
    answer = csrf_client.post("/login", data={"email": alice.email, "password": "correct-horse-battery"})
    assert answer.status_code == 400
    assert "form expired" in answer.text


def test_htmx_requests_get_the_csrf_header_from_body(client):
    page = client.get("/").text
    assert re.search(r'<body[^>]+hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'', page)


def test_session_cookie_is_httponly_and_lax(client, alice):
    answer = login(client, alice)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app, alice):
    https_client = app.test_client()
    answer = https_client.post("/login", data={"email": alice.email, "password": "correct-horse-battery"},
                               base_url="https://portal.test")
    assert "Secure" in answer.headers["Set-Cookie"]
