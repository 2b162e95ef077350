"""Upload abuse: too big (413, nothing lost), active content (always a download, never a page), hostile names."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from portal.models import Attachment, Ticket
from portal.services.attachments import AttachmentStore
from tests.conftest import login
from tests.web.test_attachments import multipart

HOSTILE_FILES = [
    ("invoice.html", b"<html><body><script>alert(document.cookie)</script></body></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'),
    ("photo.png", b"<script>alert('not a png')</script>"),  # a lying extension
    ("page.xhtml", b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'),
    ("data.xml", b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>'),
    ("notes.txt", b"<html><script>alert('sniff me')</script></html>"),
]
HOSTILE_NAMES = {
    "../../../etc/passwd": "passwd",
    "..\\..\\windows\\win.ini": None,  # how the backslashes arrive depends on the client's quoting
    "evil\x00.html.txt": "evil_.html.txt",
    "/absolute/path/report.txt": "report.txt",
    "....//....//x.txt": "x.txt",
    "tab\tand\x7fdel.txt": "tab_and_del.txt",
    ".htaccess": "htaccess",
    "..": "attachment",
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_ATTACHMENT_MB": 1}


def post_files(client, url: str, fields: dict, files: list[tuple[str, bytes]]):
    if sum(len(content) for _name, content in files) > 400_000:
        payload, content_type = multipart(fields, files)  # bytes: the test client leaks big spooled bodies
        return client.post(url, data=payload, content_type=content_type)
    data = {**fields, "attachments": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(url, data=data, content_type="multipart/form-data")


def newest_attachments(db, count: int) -> list[Attachment]:
    db.expire_all()
    return list(reversed(db.scalars(select(Attachment).order_by(Attachment.id.desc()).limit(count)).all()))


def test_an_oversize_file_on_a_new_ticket_is_refused_and_the_text_kept(app, db, world):
    client = app.test_client()
    login(client, world.users["bob"])
    before = db.scalars(select(Ticket)).all()
    response = post_files(client, "/tickets", {"subject": "Router broken", "description": "Keep these words safe",
                                                "priority": "normal", "language": "en",
                                                "category": str(world.category_id)},
                          [("huge.bin", b"x" * (1024 * 1024 + 1))])
    assert response.status_code == 413
    assert "huge.bin is larger than 1 MB." in response.text
    assert "Keep these words safe" in response.text and 'value="Router broken"' in response.text
    db.expire_all()
    assert db.scalars(select(Ticket)).all() == before


def test_an_oversize_file_from_an_agent_keeps_the_reply(app, db, world):
    client = app.test_client()
    login(client, world.users["agent"])
    response = post_files(client, f"/agent/tickets/{world.ticket.ref}/messages",
                          {"body": "An agent's careful answer", "visibility": "public"},
                          [("huge.bin", b"x" * (1024 * 1024 + 1))])
    assert response.status_code == 413
    assert "An agent&#39;s careful answer" in response.text or "An agent's careful answer" in response.text


def test_active_content_is_always_a_download_never_a_page(app, db, world):
    client = app.test_client()
    login(client, world.users["alice"])
    for batch in (HOSTILE_FILES[:3], HOSTILE_FILES[3:]):  # at most five files per message
        response = post_files(client, f"/tickets/{world.ticket.ref}/replies", {"body": "Files attached"}, batch)
        assert response.status_code == 303
    rows = newest_attachments(db, len(HOSTILE_FILES))
    assert [r.filename for r in rows] == [name for name, _ in HOSTILE_FILES]
    for viewer in ("alice", "agent"):
        other = app.test_client()
        login(other, world.users[viewer])
        for row, (name, content) in zip(rows, HOSTILE_FILES, strict=True):
            with other.get(f"/tickets/{world.ticket.ref}/attachments/{row.id}") as download:
                assert download.status_code == 200 and download.data == content
                assert download.mimetype == "application/octet-stream", name
                assert download.headers["Content-Disposition"].startswith("attachment"), name
                assert download.headers["X-Content-Type-Options"] == "nosniff"
                assert "sandbox" in download.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name,shown", list(HOSTILE_NAMES.items()))
def test_hostile_file_names_are_cleaned_and_stay_in_the_storage_folder(app, db, world, name, shown):
    client = app.test_client()
    login(client, world.users["alice"])
    response = post_files(client, f"/tickets/{world.ticket.ref}/replies", {"body": "A file"}, [(name, b"content")])
    assert response.status_code == 303
    [row] = newest_attachments(db, 1)
    if shown is not None:
        assert row.filename == shown
    assert not re.search(r"[/\\\x00-\x1f\x7f]|\.\.|^\.", row.filename), row.filename
    store = AttachmentStore.from_config(app.config)
    assert store.path_for(row).resolve().is_relative_to(store.folder.resolve())
    with client.get(f"/tickets/{world.ticket.ref}/attachments/{row.id}") as download:
        disposition = download.headers["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition and "/" not in disposition
    assert re.search(r"\.\.|\x00", disposition) is None
