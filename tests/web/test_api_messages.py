"""The REST API's conversation: replies, private notes customers never see, attachments and their limits."""

from __future__ import annotations

import io

import pytest

from tests.web.api_support import bearer, token_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def app_config():
    return {"MAX_ATTACHMENT_MB": 1, "MAX_CONTENT_LENGTH": 3 * 1024 * 1024}


@pytest.fixture
def ticket_of_alice(make, alice):
    return make.ticket(requester=alice, subject="Printer on fire", description="Smoke everywhere.")


@pytest.fixture
def alice_token(db, alice):
    return bearer(token_for(db, alice))


@pytest.fixture
def bob_token(db, bob):
    return bearer(token_for(db, bob))


@pytest.fixture
def agent_token(db, agnes):
    return bearer(token_for(db, agnes))


def _multipart(body: str, name: str, content: bytes) -> tuple[bytes, str]:
    """Built by hand: Werkzeug's test client spools big bodies to a temporary file it never closes."""
    boundary = "----mesa-api-test"
    payload = (f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n\r\n{body}\r\n'
               f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{name}"\r\n'
               "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return payload, f"multipart/form-data; boundary={boundary}"


def _messages(client, ticket, token) -> list[dict]:
    response = client.get(f"/api/v1/tickets/{ticket.ref}/messages", headers=token)
    assert response.status_code == 200
    return response.json["messages"]


def test_customers_never_see_private_notes(client, ticket_of_alice, alice_token, agent_token):
    note = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                       json={"body": "refund approved by finance", "public": False})
    assert note.status_code == 201 and note.json["public"] is False
    reply = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                        json={"body": "We are on it.", "submit_as": "pending"})
    assert reply.status_code == 201
    assert [m["body"] for m in _messages(client, ticket_of_alice, alice_token)] == [
        "Smoke everywhere.", "We are on it."]
    assert [m["body"] for m in _messages(client, ticket_of_alice, agent_token)] == [
        "Smoke everywhere.", "refund approved by finance", "We are on it."]
    assert client.get(f"/api/v1/tickets/{ticket_of_alice.ref}", headers=alice_token).json["status"] == "pending"


def test_customer_reply_moves_a_pending_ticket_back_to_the_agents(client, db, make, alice, alice_token, agnes):
    pending = make.ticket(requester=alice, status="pending", assignee=agnes)
    response = client.post(f"/api/v1/tickets/{pending.ref}/messages", json={"body": "Here is the log."},
                           headers=alice_token)
    assert response.status_code == 201
    assert response.json["author"]["id"] == alice.id
    db.refresh(pending)
    assert pending.status == "open"


def test_customers_cannot_write_private_notes_or_change_the_status(client, ticket_of_alice, alice_token):
    for extra in ({"public": False}, {"submit_as": "solved"}):
        response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=alice_token,
                               json={"body": "psst", **extra})
        assert response.status_code == 403
    assert len(_messages(client, ticket_of_alice, alice_token)) == 1


def test_a_reply_to_a_closed_ticket_is_a_409(client, make, alice, alice_token):
    closed = make.ticket(requester=alice, status="closed")
    response = client.post(f"/api/v1/tickets/{closed.ref}/messages", json={"body": "One more thing"},
                           headers=alice_token)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"


def test_an_agent_reply_based_on_a_stale_version_is_a_409(client, ticket_of_alice, agent_token):
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                           json={"body": "Answer", "version": ticket_of_alice.version + 5})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "version_conflict"


@pytest.mark.parametrize(("payload", "field"), [({}, "body"), ({"body": "   "}, "body"), ({"body": 3}, "body"),
                                                ({"body": "x", "public": "no"}, "public"),
                                                ({"body": "x", "submit_as": "closed"}, "status"),
                                                ({"body": "x", "submit_as": ""}, "status")])
def test_invalid_messages_are_422(client, ticket_of_alice, agent_token, payload, field):
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", json=payload, headers=agent_token)
    assert response.status_code == 422
    assert response.json["error"]["field"] == field


def test_an_empty_submit_as_in_a_multipart_reply_is_refused_like_in_json(client, ticket_of_alice, agent_token):
    """The document lists the statuses a reply may set; an empty one is not "keep the status" but a mistake."""
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                           data={"body": "Answer", "submit_as": ""}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["error"]["field"] == "status"


@pytest.mark.parametrize("public", ["yes", "0", "TRUE", ""])
def test_a_multipart_public_flag_other_than_true_or_false_is_422_not_a_private_note(client, ticket_of_alice,
                                                                                    agent_token, public):
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                           data={"body": "Answer", "public": public}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["error"]["field"] == "public"


def test_more_file_parts_than_the_limit_are_refused_even_when_some_have_no_name(client, ticket_of_alice,
                                                                                 agent_token):
    parts = [(io.BytesIO(b"x"), f"f{n}.txt") for n in range(5)] + [(io.BytesIO(b"x"), "")]
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                           data={"body": "Logs", "attachments": parts}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["error"]["field"] == "attachments"


def test_attachments_sent_as_text_instead_of_files_are_refused_not_silently_dropped(client, ticket_of_alice,
                                                                                    agent_token):
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                           data={"body": "See the log", "attachments": "2.25e+115"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.json["error"]["field"] == "attachments"


def test_attachments_upload_and_download_with_the_tickets_access_rules(client, ticket_of_alice, alice_token,
                                                                       bob_token, agent_token):
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=alice_token,
                           content_type="multipart/form-data",
                           data={"body": "Screenshot attached", "attachments": [(io.BytesIO(PNG), "shot.png"),
                                                                                 (io.BytesIO(b"a,b\n"), "log.csv")]})
    assert response.status_code == 201, response.json
    files = response.json["attachments"]
    assert [(f["filename"], f["size"]) for f in files] == [("shot.png", len(PNG)), ("log.csv", 4)]
    with client.get(files[0]["url"], headers=alice_token) as image:
        assert image.status_code == 200 and image.data == PNG and image.mimetype == "image/png"
    with client.get(files[1]["url"], headers=agent_token) as csv:
        assert csv.mimetype == "application/octet-stream" and csv.data == b"a,b\n"
        assert csv.headers["Content-Disposition"].startswith("attachment")
    assert client.get(files[0]["url"], headers=bob_token).status_code == 404
    assert client.get(files[0]["url"]).status_code == 401


def test_files_of_private_notes_are_not_found_for_customers(client, ticket_of_alice, alice_token, agent_token):
    note = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=agent_token,
                       content_type="multipart/form-data",
                       data={"body": "internal", "public": "false", "attachments": [(io.BytesIO(b"x"), "a.txt")]})
    assert note.status_code == 201 and note.json["public"] is False
    url = note.json["attachments"][0]["url"]
    with client.get(url, headers=agent_token) as download:
        assert download.status_code == 200 and download.data == b"x"
    assert client.get(url, headers=alice_token).status_code == 404


def test_an_attachment_over_the_limit_is_a_413_and_nothing_is_added(client, ticket_of_alice, alice_token):
    payload, content_type = _multipart("big", "b.bin", b"x" * (1024 * 1024 + 1))
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=alice_token,
                           content_type=content_type, data=payload)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert "1 MB" in response.json["error"]["message"]
    assert len(_messages(client, ticket_of_alice, alice_token)) == 1


def test_a_request_over_the_body_limit_is_a_json_413(client, ticket_of_alice, alice_token):
    payload, content_type = _multipart("huge", "h.bin", b"x" * (3 * 1024 * 1024 + 10))
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=alice_token,
                           content_type=content_type, data=payload)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_blocked_file_types_are_422(client, ticket_of_alice, alice_token):
    response = client.post(f"/api/v1/tickets/{ticket_of_alice.ref}/messages", headers=alice_token,
                           content_type="multipart/form-data",
                           data={"body": "run me", "attachments": [(io.BytesIO(b"MZ"), "setup.exe")]})
    assert response.status_code == 422
    assert response.json["error"]["field"] == "attachments"
