"""The OpenAPI document matches the implementation: schemathesis generates calls from the document and runs
them against the app; no answer may be a 500, and every answer must be one the document describes."""

from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.api_support import bearer, token_for

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def app_config():
    return {"API_RATE_LIMIT": "100000/minute"}


def _as_openapi_path(rule: str) -> str:
    return rule.replace("<int:", "{").replace("<path:", "{").replace("<", "{").replace(">", "}")


def test_the_document_is_served_and_covers_every_api_route_and_method(kb_client, app):
    response = kb_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    served = {(_as_openapi_path(rule.rule), method) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and "openapi" not in rule.rule
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(f"/api/v1{path}", method.upper()) for path, operations in document["paths"].items()
                  for method in operations if method != "parameters"}
    assert served == documented
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "parameters" and operation.get("security") != []:
                assert "401" in operation["responses"], (method, path)


@pytest.fixture(params=["admin", "customer"])
def api_world(request, kb_app, db, make, alice, agnes, admin_user):
    """A ticket of Alice's with an attachment, and a token of the role under test."""
    ticket = make.ticket(requester=alice, subject="Printer on fire", description="Smoke everywhere.")
    client = kb_app.test_client()
    agent = bearer(token_for(db, agnes))
    note = client.post(f"/api/v1/tickets/{ticket.ref}/messages", headers=agent, content_type="multipart/form-data",
                       data={"body": "log attached", "attachments": [(io.BytesIO(b"log"), "log.txt")]})
    assert note.status_code == 201
    caller = admin_user if request.param == "admin" else alice
    return {"token": bearer(token_for(db, caller)), "ref": ticket.ref,
            "attachment_id": note.json["attachments"][0]["id"]}


# Schemathesis' WSGI transport reads a downloaded file's body without closing the response.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_api_answers_as_documented(kb_app, api_world):
    """Every documented operation, a bounded number of generated calls each (schemathesis' own pytest loader
    does not run on pytest 9, so the operations are driven through its Python API and Hypothesis)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", kb_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12
    for operation in operations:
        _exercise(operation, api_world)


def _exercise(operation, world) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None)
    def run(case) -> None:
        # Half the calls aim at the real ticket and file, so they reach past "not found" into the real work.
        parameters = case.path_parameters or {}
        if "ref" in parameters and len(str(parameters["ref"])) % 2 == 0:
            parameters["ref"] = world["ref"]
            if "attachment_id" in parameters:
                parameters["attachment_id"] = world["attachment_id"]
        case.call_and_validate(headers=world["token"], checks=CHECKS)

    run()
