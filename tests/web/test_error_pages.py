"""Every error a visitor can meet is a page in their language, and JSON for API clients."""

from __future__ import annotations

import pytest
from flask import abort

STATUSES = [400, 403, 404, 405, 409, 413, 422, 429, 500]


@pytest.fixture
def failing_app(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/fail/<int:status>")
    def fail(status: int):
        if status == 500:
            raise RuntimeError("internal detail")
        abort(status)

    @app.get("/api/v1/fail/<int:status>")
    def api_fail(status: int):
        abort(status)

    return app


@pytest.mark.parametrize("status", STATUSES)
def test_error_page_in_english(failing_app, status):
    page = failing_app.test_client().get(f"/fail/{status}", headers={"Accept-Language": "en"})
    assert page.status_code == status
    assert f'<p class="error-code">{status}</p>' in page.text
    assert "Back to the help center" in page.text
    assert "internal detail" not in page.text


@pytest.mark.parametrize("status", STATUSES)
def test_error_page_in_spanish(failing_app, status):
    page = failing_app.test_client().get(f"/fail/{status}", headers={"Accept-Language": "es"})
    assert page.status_code == status
    assert "Volver al centro de ayuda" in page.text
    assert '<html lang="es"' in page.text


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422, 429])
def test_api_errors_are_json_with_code_and_message(failing_app, status):
    answer = failing_app.test_client().get(f"/api/v1/fail/{status}")
    assert answer.status_code == status
    assert answer.is_json
    assert set(answer.json["error"]) == {"code", "message"}


def test_htmx_request_gets_an_error_fragment_not_a_page(client):
    fragment = client.get("/missing", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert "<html" not in fragment.text
    assert 'id="error-message"' in fragment.text
