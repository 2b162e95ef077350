"""Attachments: stored outside static under a random key, served only after the ticket's access check, and
never rendered unless they are one of four image kinds proven by their bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.models import Attachment, Ticket
from portal.services import tickets
from portal.services.attachments import AttachmentStore, Upload
from tests.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def app_config(tmp_path):
    return {"ATTACHMENTS_DIR": str(tmp_path / "files"), "MAX_ATTACHMENT_MB": 1}


def reply_with(client, ticket, *files, body="See the attached file"):
    if sum(len(content) for _name, content in files) > 400_000:
        # Werkzeug's test client spools big bodies to a temporary file it never closes: send bytes instead.
        payload, content_type = multipart({"body": body}, files)
        return client.post(f"/tickets/{ticket.ref}/replies", data=payload, content_type=content_type)
    data = {"body": body, "attachments": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/tickets/{ticket.ref}/replies", data=data, content_type="multipart/form-data")


def multipart(fields: dict[str, str], files) -> tuple[bytes, str]:
    boundary = "----mesa-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for name, content in files:
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def stored(db) -> list[Attachment]:
    db.expire_all()
    return list(db.scalars(select(Attachment).order_by(Attachment.id)))


def test_files_are_stored_outside_static_under_a_random_name(client, db, app, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    assert reply_with(client, ticket, ("screen shot.png", PNG), ("notes.txt", b"hello")).status_code == 303
    image, text = stored(db)
    assert (image.filename, image.content_type, image.size) == ("screen shot.png", "image/png", len(PNG))
    assert text.content_type == "text/plain"
    path = AttachmentStore.from_config(app.config).path_for(image)
    assert path.read_bytes() == PNG and "screen" not in path.name
    assert "static" not in path.parts
    page = client.get(f"/tickets/{ticket.ref}").text
    assert "screen shot.png" in page and f"/tickets/{ticket.ref}/attachments/{image.id}" in page


def test_a_new_ticket_carries_its_attachments(client, db, alice):
    login(client, alice)
    response = client.post("/tickets", content_type="multipart/form-data", data={
        "subject": "With a photo", "description": "Look", "priority": "normal", "language": "en",
        "attachments": [(io.BytesIO(PNG), "router.png")]})
    assert response.status_code == 303
    [attachment] = stored(db)
    assert attachment.message.ticket.subject == "With a photo"


def test_images_are_served_inline_with_their_sniffed_type(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    reply_with(client, ticket, ("photo.png", PNG))
    [image] = stored(db)
    with client.get(f"/tickets/{ticket.ref}/attachments/{image.id}") as response:
        assert response.status_code == 200 and response.data == PNG
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("inline")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("name", "content"), [
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("fake.png", b"<html><script>alert(1)</script></html>"),
    ("report.pdf", b"%PDF-1.4"),
])
def test_everything_else_is_downloaded_never_rendered(client, db, make, alice, name, content):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    reply_with(client, ticket, (name, content))
    [attachment] = stored(db)
    with client.get(f"/tickets/{ticket.ref}/attachments/{attachment.id}") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert name in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_file_names_are_sanitised(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    reply_with(client, ticket, ("../../etc/passwd", b"x"), ("factura ñandú.pdf", b"%PDF"))
    names = [a.filename for a in stored(db)]
    assert names == ["passwd", "factura ñandú.pdf"]
    with client.get(f"/tickets/{ticket.ref}/attachments/{stored(db)[1].id}") as response:
        assert "filename*=UTF-8''factura%20%C3%B1and%C3%BA.pdf" in response.headers["Content-Disposition"]


def test_another_customer_gets_404_for_an_attachment(client, db, make, alice, bob):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    reply_with(client, ticket, ("photo.png", PNG))
    [image] = stored(db)
    client.post("/logout")
    login(client, bob)
    assert client.get(f"/tickets/{ticket.ref}/attachments/{image.id}").status_code == 404
    own = make.ticket(requester=bob)
    assert client.get(f"/tickets/{own.ref}/attachments/{image.id}").status_code == 404


def test_files_of_private_notes_are_never_served_to_customers(client, db, app, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    store = AttachmentStore.from_config(app.config)
    tickets.add_note(db, ticket, body="internal scan", uploads=[Upload("id-card.png", io.BytesIO(PNG))],
                     store=store, actor=agnes, now=utcnow())
    db.commit()
    [scan] = stored(db)
    login(client, alice)
    assert client.get(f"/tickets/{ticket.ref}/attachments/{scan.id}").status_code == 404
    assert "id-card.png" not in client.get(f"/tickets/{ticket.ref}").text
    client.post("/logout")
    login(client, agnes)
    with client.get(f"/tickets/{ticket.ref}/attachments/{scan.id}") as response:
        assert response.status_code == 200


def test_an_oversize_file_is_refused_keeping_the_text(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    response = reply_with(client, ticket, ("big.pdf", b"x" * (1024 * 1024 + 1)), body="My long explanation")
    assert response.status_code == 413
    assert "big.pdf is larger than 1 MB." in response.text
    assert "My long explanation</textarea>" in response.text
    assert stored(db) == [] and len(db.get(Ticket, ticket.id).messages) == 1


def test_a_forbidden_kind_or_too_many_files_are_refused_keeping_the_text(client, db, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    response = reply_with(client, ticket, ("setup.exe", b"MZ"), body="Kept words")
    assert response.status_code == 422 and "Files of type .exe cannot be attached." in response.text
    assert "Kept words</textarea>" in response.text
    six = [(f"f{n}.txt", b"x") for n in range(6)]
    response = reply_with(client, ticket, *six, body="Kept again")
    assert response.status_code == 413 and "at most 5 files" in response.text
    assert stored(db) == []


def test_a_failed_write_leaves_no_row_and_tells_the_user(client, db, app, make, alice, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    app.config["ATTACHMENTS_DIR"] = str(blocker)
    ticket = make.ticket(requester=alice)
    login(client, alice)
    response = reply_with(client, ticket, ("photo.png", PNG), body="Typed with care")
    assert response.status_code == 503
    assert "We could not store photo.png" in response.text and "Typed with care</textarea>" in response.text
    assert stored(db) == []
    assert db.scalar(select(func.count()).select_from(Attachment)) == 0


def test_an_attachment_whose_file_vanished_is_404(client, db, app, make, alice):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    reply_with(client, ticket, ("photo.png", PNG))
    [image] = stored(db)
    Path(AttachmentStore.from_config(app.config).path_for(image)).unlink()
    assert client.get(f"/tickets/{ticket.ref}/attachments/{image.id}").status_code == 404


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    ('my "quoted"; name.txt', "my _quoted_ name.txt"),
    ("line\r\nbreak.txt", "line_break.txt"),
    (".htaccess", "htaccess"),
    ("", "attachment"),
    ("a" * 300 + ".png", "a" * 116 + ".png"),
])
def test_safe_filename(raw, safe):
    from portal.services.attachments import safe_filename

    assert safe_filename(raw) == safe


def test_the_workspace_shows_each_messages_own_attachments(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, alice)
    reply_with(client, ticket, ("first.txt", b"one"), body="First message with a file")
    reply_with(client, ticket, ("second.png", PNG), ("third.txt", b"three"), body="Second message with two")
    client.post("/logout")
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    first, second = page.index("First message with a file"), page.index("Second message with two")
    assert first < page.index("first.txt") < second < page.index("second.png") < page.index("third.txt")
    assert page.count("first.txt") == 1
