"""The OpenAPI document matches the implementation: schemathesis generates calls from the document and runs
them against the app with all its checks (as `schemathesis run --checks all`): no 500, every answer one the
document describes, schema-violating input refused, schema-valid input accepted, 405 with `Allow` for other
methods, 401 without a token."""

from __future__ import annotations

import io

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from werkzeug.security import generate_password_hash

from portal.services import accounts
from tests.browser.conftest import live_server  # noqa: F401
from tests.web.api_support import bearer, token_for


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


# Generated examples per operation and phase: enough to find each class of mismatch (limits, enums, ranges,
# undocumented answers, methods), little enough for CI (about 20 s per role on a quiet machine).
MAX_EXAMPLES = 10
SEED = 20240611
# `positive_data_acceptance` expects every schema-valid request to succeed. These operations also depend on
# what JSON Schema cannot express: rows that exist (a category id, an assignee), state (an e-mail address not
# yet taken, an action the ticket's status allows, "reopen" with a reason) or a file's kind, read from its
# content (an attachment we refuse). They answer 422 naming the field when it does not hold. Everywhere else a
# 422 for schema-valid input is a failure.
REFERENCES_ROWS = ("createTicket", "updateTicket", "createUser", "addMessage")
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429"]


@pytest.fixture(params=["admin", "customer"])
def api_world(request, kb_app, db, make, alice, agnes, admin_user):
    """A ticket of Alice's with an attachment, and a token of the role under test."""
    ticket = make.ticket(requester=alice, subject="Printer on fire", description="Smoke everywhere.")
    make.category(name="Printers")
    client = kb_app.test_client()
    agent = bearer(token_for(db, agnes))
    note = client.post(f"/api/v1/tickets/{ticket.ref}/messages", headers=agent, content_type="multipart/form-data",
                       data={"body": "log attached", "attachments": [(io.BytesIO(b"log"), "log.txt")]})
    assert note.status_code == 201
    caller = admin_user if request.param == "admin" else alice
    kb_app.config["KB_SYNC_INTERVAL"] = 3600  # the test KB does not change: one sync, not one per request
    return {"token": bearer(token_for(db, caller)), "ref": ticket.ref,
            "attachment_id": note.json["attachments"][0]["id"]}


def _config(world) -> SchemathesisConfig:
    """What `schemathesis run --checks all` does, with the caller's token and a fixed seed."""
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "workers": 1,
        "headers": world["token"],
        # A cursor is an opaque token only the API issues; the generator cannot make one, so it sends the
        # first page's (none). Real cursors are tested in test_api_tickets.py.
        "parameters": {"query.cursor": ""},
        "generation": {"max-examples": MAX_EXAMPLES},
        "operations": [{"include-operation-id": list(REFERENCES_ROWS), "checks": {
            "positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "422"]}}}],
    })
    config.projects.override.checks.update(included_check_names=["all"])
    return config


def _failures(stream) -> list[str]:
    found: dict[tuple, str] = {}
    for event in stream:
        if isinstance(event, events.FatalError | events.NonFatalError):
            found[("error", str(event.info)[:200])] = f"error: {event.info}"
        if not isinstance(event, events.ScenarioFinished) or event.status != Status.FAILURE:
            continue
        for nodes in event.recorder.checks.values():
            for node in nodes:
                if node.status == Status.FAILURE and node.failure_info is not None:
                    failure = node.failure_info.failure
                    key = (event.recorder.label, failure.title)
                    found.setdefault(key, f"{event.phase.value} {event.recorder.label}: {failure.title}: "
                                          f"{failure.message[:300]}\n    {node.failure_info.code_sample[-700:]}")
    return list(found.values())


def test_the_api_answers_as_documented_under_every_check(kb_app, api_world, live_server, monkeypatch):  # noqa: F811
    """`schemathesis run --checks all` against the app on a real port: the examples, coverage (boundaries and
    schema-violating input), fuzzing and stateful phases, every check. Served over HTTP as the CLI would:
    schemathesis' in-process WSGI transport fails on its own probes (an unexpected `max_redirects`)."""
    # Creating accounts is most of the admin's calls; a deliberately slow password hash would be most of the time.
    monkeypatch.setattr(accounts, "generate_password_hash",
                        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"))
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json", config=_config(api_world))
    failures = _failures(schemathesis.engine.from_schema(schema).execute())
    assert not failures, "\n".join(failures)
