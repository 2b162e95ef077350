"""Issue 19, "feedback and nothing lost", on the server: a reply sent twice is added once, an expired form comes
back with what was typed, a body too large to read points back to the form, "I still need help" after a
suggestion keeps the ticket being written, and a refused rating says why."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from portal.models import Deflection, Message, Ticket
from tests.conftest import login


def messages_of(db, ticket) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Message.body).where(Message.ticket_id == ticket.id).order_by(Message.id)))


def expire_forms(app) -> None:
    """From now on every form needs its CSRF token, as in production: a post without one is an expired page."""
    app.config["WTF_CSRF_ENABLED"] = True


# ---- Sent twice, added once ----


def test_a_customer_reply_sent_twice_is_added_once(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    first = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "The light is still red."})
    second = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "The light is still red."})
    assert first.status_code == second.status_code == 303
    assert second.location == first.location
    assert messages_of(db, ticket).count("The light is still red.") == 1
    assert "Your reply has been added." in client.get(second.location).text


def test_a_different_reply_right_after_is_added(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    client.post(f"/tickets/{ticket.ref}/replies", data={"body": "The light is still red."})
    client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Now it is orange."})
    assert messages_of(db, ticket)[-2:] == ["The light is still red.", "Now it is orange."]


def test_an_agent_double_click_on_send_sends_one_reply_and_answers_the_second_as_the_first(client, db, make, alice,
                                                                                          agnes):
    ticket = make.ticket(requester=alice)
    version = ticket.version
    login(client, agnes)
    data = {"body": "Please restart the router.", "visibility": "public", "submit_as": "", "version": str(version)}
    headers = {"HX-Request": "true"}
    first = client.post(f"/agent/tickets/{ticket.ref}/messages", data=data, headers=headers)
    second = client.post(f"/agent/tickets/{ticket.ref}/messages", data=data, headers=headers)  # the stale version
    assert first.status_code == second.status_code == 200
    assert second.headers["HX-Retarget"] == "#workspace"
    assert 'id="conflict"' not in second.text and "flash-error" not in second.text
    assert messages_of(db, ticket).count("Please restart the router.") == 1
    plain = client.post(f"/agent/tickets/{ticket.ref}/messages", data=data)
    assert plain.status_code == 303 and "Reply sent." in client.get(plain.location).text
    assert messages_of(db, ticket).count("Please restart the router.") == 1


# ---- An expired form keeps what was typed ----


def test_an_expired_reply_form_comes_back_with_the_text_and_a_fresh_token(client, db, make, alice, app):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    expire_forms(app)
    response = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Two pages of careful explanation"})
    assert response.status_code == 400
    assert "Your form expired; we kept what you typed. Check it and send it again." in response.text
    assert "Two pages of careful explanation</textarea>" in response.text
    assert f'action="/tickets/{ticket.ref}/replies"' in response.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
    again = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Two pages of careful explanation",
                                                                "csrf_token": token})
    assert again.status_code == 303
    assert messages_of(db, ticket)[-1] == "Two pages of careful explanation"


def test_an_expired_new_ticket_form_keeps_subject_and_description(client, db, alice, app):
    login(client, alice)
    expire_forms(app)
    response = client.post("/tickets", data={"subject": "Router dead", "description": "Nothing lights up at all.",
                                             "priority": "normal", "language": "en"})
    assert response.status_code == 400
    assert "Nothing lights up at all.</textarea>" in response.text
    assert "Router dead</textarea>" in response.text
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0


def test_an_expired_composer_replaces_the_page_for_htmx(client, make, alice, agnes, app):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    expire_forms(app)
    response = client.post(f"/agent/tickets/{ticket.ref}/messages", headers={"HX-Request": "true"},
                           data={"body": "A long answer for the customer", "version": "1", "visibility": "public"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "body"
    assert "A long answer for the customer</textarea>" in response.text


def test_the_expired_form_message_is_in_spanish(client, make, alice, app):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    expire_forms(app)
    response = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "Texto largo"},
                           headers={"Accept-Language": "es"})
    assert response.status_code == 400
    assert "El formulario caducó" in response.text and "Texto largo</textarea>" in response.text


def test_an_expired_form_with_nothing_typed_is_the_plain_error(client, make, alice, app):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    expire_forms(app)
    response = client.post(f"/tickets/{ticket.ref}/confirm", data={})
    assert response.status_code == 400
    assert "Your form expired or was sent from elsewhere" in response.text
    assert "we kept what you typed" not in response.text


# ---- Too large to read ----


def test_a_body_too_large_to_read_points_back_to_the_form(app, client, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "x" * 4000},
                           headers={"Referer": f"http://localhost/tickets/{ticket.ref}"})
    assert response.status_code == 413
    assert f'href="/tickets/{ticket.ref}"' in response.text and "Back to your form" in response.text
    elsewhere = client.post(f"/tickets/{ticket.ref}/replies", data={"body": "x" * 4000},
                            headers={"Referer": "https://evil.example/phish"})
    assert elsewhere.status_code == 413 and "Back to your form" not in elsewhere.text


def test_every_page_tells_the_browser_the_upload_limits_and_its_words(app, client, alice):
    app.config.update(MAX_ATTACHMENT_MB=3, MAX_CONTENT_LENGTH=7 * 1024 * 1024)
    login(client, alice)
    page = client.get("/tickets/new").text
    assert f'data-file-bytes="{3 * 1048576}"' in page and f'data-request-bytes="{7 * 1048576}"' in page
    assert "is larger than 3 MB, the most we accept" in page
    assert 'data-draft="new-ticket:' in page


# ---- "I still need help" ----


def test_i_still_need_help_after_a_suggestion_gives_the_form_back_as_it_was(client, db, alice):
    login(client, alice)
    answered = client.post("/tickets/deflect", data={
        "article": "en/connection/internet-not-working.md", "query": "internet not working",
        "subject": "Internet down since Monday", "description": "The red light blinks\nand nothing loads."})
    assert answered.status_code == 200 and "Glad that helped!" in answered.text
    assert db.scalar(select(func.count()).select_from(Deflection)) == 1
    form = re.search(r'<form[^>]*still-need-help.*?</form>', answered.text, re.S).group(0)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert fields["subject"] == "Internet down since Monday"
    back = client.post("/tickets", data={**fields, "action": "refresh",
                                         "description": "The red light blinks\nand nothing loads."})
    assert back.status_code == 200
    assert 'value="Internet down since Monday"' in back.text
    assert "The red light blinks\nand nothing loads.</textarea>" in back.text
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0


def test_the_suggestions_carry_what_is_being_written(client, alice):
    login(client, alice)
    panel = client.post("/tickets/suggestions", headers={"HX-Request": "true"},
                        data={"subject": "My internet is not working", "description": "Red light"})
    assert 'name="subject" value="My internet is not working"' in panel.text
    assert 'name="description" value="Red light"' in panel.text


# ---- A refused rating says why ----


def test_a_rating_sent_with_nothing_chosen_answers_with_the_reason_in_the_swappable_part(client, db, make, alice):
    ticket = make.ticket(requester=alice, status="solved")
    login(client, alice)
    response = client.post(f"/tickets/{ticket.ref}/satisfaction", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert 'id="satisfaction"' in response.text and "data-swap-errors" in response.text
    assert 'role="alert"' in response.text


def test_a_note_then_the_same_words_as_a_public_reply_are_both_kept(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    for visibility in ("private", "public"):
        db.refresh(ticket)
        client.post(f"/agent/tickets/{ticket.ref}/messages", data={
            "body": "Router replaced.", "visibility": visibility, "submit_as": "", "version": str(ticket.version)})
    db.expire_all()
    assert [(m.body, m.public) for m in db.scalars(select(Message).where(Message.ticket_id == ticket.id))][-2:] == [
        ("Router replaced.", False), ("Router replaced.", True)]


def test_the_same_words_with_other_files_are_a_new_reply_with_the_same_files_a_double_send(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)

    def send(name: str):
        return client.post(f"/tickets/{ticket.ref}/replies", content_type="multipart/form-data",
                           data={"body": "Files attached", "attachments": [(io.BytesIO(b"hello"), name)]})

    assert send("one.txt").status_code == send("one.txt").status_code == send("two.txt").status_code == 303
    db.expire_all()
    replies = db.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.body == "Files attached"))
    assert [[a.filename for a in m.attachments] for m in replies] == [["one.txt"], ["two.txt"]]
