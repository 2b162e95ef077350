"""A form posted after the login ended keeps its text: the login page carries it (401, not a redirect that drops
it), and after logging in "Send what you wrote" shows it, ready to send once, by the person's own click."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.clock import utcnow
from portal.models import Message
from portal.services import accounts
from portal.views.carried_forms import CARRY_MAX_CHARS
from tests.factories import DEFAULT_PASSWORD

REPLY = "The router blinks red <b>again</b> & \"twice\"\nsince Monday."
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else ""  # none when the app's CSRF check is off


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(html.unescape(name), html.unescape(value)) for name, value in HIDDEN.findall(page)]


def log_in(client, user) -> None:
    page = client.get("/login").text
    answer = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD,
                                         "csrf_token": csrf_of(page)})
    assert answer.status_code == 303, answer.text


def end_sessions(db, user) -> None:
    accounts.end_sessions(user)  # what a logout elsewhere or a password change does
    db.commit()


def log_in_again_from(client, user, login_page: str):
    """What the person does on the 401 page: types e-mail and password into the form that carries the text."""
    form = re.search(r'<form method="post" action="(/login[^"]*)"[^>]*>(.*?)</form>', login_page, re.S)
    data = MultiDict([*hidden_fields(form.group(2)), ("email", user.email), ("password", DEFAULT_PASSWORD),
                      ("csrf_token", csrf_of(form.group(2)))])
    return client.post(html.unescape(form.group(1)), data=data)


def send_carried(client, page: str, *, edit: dict[str, str] | None = None):
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*data-carried-send>(.*?)</form>', page, re.S)
    data = dict(hidden_fields(form.group(2)))
    data.update({name: html.unescape(text) for name, text in
                 re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form.group(2), re.S)})
    data.update(edit or {})
    return client.post(html.unescape(form.group(1)), data=data)


def test_a_customers_reply_after_the_session_ended_is_carried_through_the_login(app, db, make, alice, csrf_client):
    ticket = make.ticket(requester=alice)
    log_in(csrf_client, alice)
    token = csrf_of(csrf_client.get(f"/tickets/{ticket.ref}").text)
    end_sessions(db, alice)

    answer = csrf_client.post(f"/tickets/{ticket.ref}/replies", data={"body": REPLY, "csrf_token": token})
    assert answer.status_code == 401
    assert "Your session ended. Log in again and what you wrote will be waiting." in answer.text
    carried = hidden_fields(answer.text)
    assert ("carried.body", REPLY) in carried
    assert ("carried_action", f"/tickets/{ticket.ref}/replies") in carried
    assert not [name for name, _value in carried if name.startswith("carried.") and "csrf" in name]
    assert len(ticket.messages) == 1

    page = log_in_again_from(csrf_client, alice, answer.text)
    assert page.status_code == 200 and "Send what you wrote" in page.text
    shown = [html.unescape(text) for text in re.findall(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S)]
    assert shown == [REPLY]  # visible, in a text area
    assert "data-carried-send" in page.text and "<script" not in page.text.split("data-carried-send")[1]

    sent = send_carried(csrf_client, page.text)
    assert sent.status_code == 303
    bodies = [m.body for m in db.scalars(select(Message).where(Message.ticket_id == ticket.id))]
    assert bodies.count(REPLY) == 1


def test_an_expired_lifetime_carries_the_text_too_and_never_a_password(app, db, make, alice, client, monkeypatch):
    app.config["SESSION_LIFETIME"] = 3600
    log_in(client, alice)
    monkeypatch.setattr("portal.extensions.utcnow", lambda: utcnow() + timedelta(minutes=61))
    answer = client.post("/tickets", data={"subject": "No internet", "description": "Since the storm.",
                                           "password": "hunter2", "new_password": "x", "csrf_token": "t"})
    assert answer.status_code == 401
    names = [name for name, _value in hidden_fields(answer.text)]
    assert "carried.subject" in names and "carried.description" in names
    assert not [name for name in names if "password" in name or name == "carried.csrf_token"]
    assert "hunter2" not in answer.text


def test_an_agents_htmx_reply_is_carried_and_shown_in_place_of_the_page(app, db, make, alice, agnes, client):
    ticket = make.ticket(requester=alice)
    log_in(client, agnes)
    end_sessions(db, agnes)
    data = {"body": "We replaced the card.\nPlease try again.", "visibility": "private",
            "version": str(ticket.version), "action": "send"}
    answer = client.post(f"/agent/tickets/{ticket.ref}/messages", data=data, headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Retarget"] == "body" and answer.headers["HX-Reswap"] == "innerHTML"
    assert ("carried.body", data["body"]) in hidden_fields(answer.text)

    page = log_in_again_from(client, agnes, answer.text)
    assert "Send what you wrote" in page.text and data["body"] + "</textarea>" in page.text
    sent = send_carried(client, page.text)
    assert sent.status_code == 303
    notes = [m for m in db.scalars(select(Message).where(Message.ticket_id == ticket.id)) if not m.public]
    assert [m.body for m in notes] == [data["body"]]


def test_someone_else_logging_in_with_the_carried_text_is_refused_by_the_target(app, db, make, alice, bob, client):
    ticket = make.ticket(requester=alice)
    log_in(client, alice)
    end_sessions(db, alice)
    answer = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "mine"})
    page = log_in_again_from(client, bob, answer.text)
    assert page.status_code == 200
    assert send_carried(client, page.text).status_code == 404
    assert len(ticket.messages) == 1


def test_a_carried_address_of_another_site_is_refused(app, db, alice, client):
    page = client.get("/login").text
    for target in ("https://evil.example/steal", "//evil.example/x", "/\\evil.example"):
        answer = client.post("/login", data={"email": alice.email, "password": DEFAULT_PASSWORD,
                                             "csrf_token": csrf_of(page), "carried_action": target,
                                             "carried.body": "text"})
        assert answer.status_code == 303 and "evil" not in answer.headers["Location"], target
        assert "Send what you wrote" not in answer.text
        client.post("/logout")


def test_text_beyond_the_cap_is_refused_clearly_and_shown_whole_to_copy(app, db, make, alice, client):
    ticket = make.ticket(requester=alice)
    log_in(client, alice)
    end_sessions(db, alice)
    text = "x" * (CARRY_MAX_CHARS + 1)
    answer = client.post(f"/tickets/{ticket.ref}/replies", data={"body": text})
    assert answer.status_code == 401
    assert "too long to keep through the login" in answer.text
    assert text in answer.text  # whole, to copy; not cut short
    assert not [name for name, _value in hidden_fields(answer.text) if name.startswith("carried")]


def test_files_cannot_be_carried_and_the_page_asks_for_them_again(app, db, make, alice, client):
    import io

    ticket = make.ticket(requester=alice)
    log_in(client, alice)
    end_sessions(db, alice)
    answer = client.post(f"/tickets/{ticket.ref}/replies", content_type="multipart/form-data",
                         data={"body": "See the photo", "attachments": (io.BytesIO(b"PNG..."), "photo.png")})
    assert answer.status_code == 401
    assert "PNG..." not in answer.text
    page = log_in_again_from(client, alice, answer.text)
    assert "attach your files again" in page.text and 'type="file"' in page.text


def test_an_empty_post_or_a_get_still_goes_to_the_login_page(app, make, alice, client):
    ticket = make.ticket(requester=alice)
    assert client.post(f"/tickets/{ticket.ref}/replies", data={"body": "  "}).status_code == 302
    assert client.get(f"/tickets/{ticket.ref}").status_code == 302
