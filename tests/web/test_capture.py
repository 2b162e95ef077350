"""Knowledge capture through the web: draft from a ticket, editor, review, publish, edit, translate."""

from __future__ import annotations

import os

import pytest
import yaml
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import ArticleDraft, ArticleRevision, Message, SectionReview
from tests.conftest import login


def _solved_ticket(make, db, *, requester, agent, language="en", subject="Router keeps dropping Wi-Fi at night",
                   description=None, reply=None, note="Customer sounds annoyed; line checked OK.", status="solved"):
    description = description or ("Hi Agnes,\nMy router drops Wi-Fi every night. My account number is 4839201 "
                                  "and you can call me on +44 20 7946 0958.\n\nThanks,\nAlice Customer")
    reply = reply or ("Hi Alice,\nOpen the router settings at 192.168.1.1, change the Wi-Fi channel to 6 and "
                      "restart the router.\n\nKind regards,\nAgnes Agent")
    ticket = make.ticket(requester=requester, subject=subject, description=description, status=status,
                         assignee=agent, language=language)
    db.add(Message(ticket=ticket, author=agent, body=reply, public=True, created_at=utcnow()))
    db.add(Message(ticket=ticket, author=agent, body=note, public=False, created_at=utcnow()))
    db.commit()
    return ticket


def _front_matter(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    meta_text, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(meta_text), body


def _create_draft(client, ticket):
    response = client.post(f"/agent/tickets/{ticket.ref}/article")
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def test_draft_from_a_solved_english_ticket_is_scrubbed_and_prefilled(kb_client, make, db, alice, agnes):
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
    login(kb_client, agnes)
    editor = kb_client.get(_create_draft(kb_client, ticket))
    assert editor.status_code == 200
    page = editor.text
    assert "How to fix: router keeps dropping Wi-Fi at night" in page
    assert "## Problem" in page and "## Solution" in page
    assert "change the Wi-Fi channel to 6" in page
    assert "line checked OK" not in page.split("Scrubbing removed")[0]  # private notes never reach the draft
    draft = db.scalars(select(ArticleDraft)).one()
    assert "4839201" not in draft.body and "7946" not in draft.body and "192.168.1.1" not in draft.body
    assert "Alice" not in draft.body and "Agnes" not in draft.body and "Kind regards" not in draft.body
    assert {item["kind"] for item in draft.removed} >= {"greeting", "signature", "reference", "phone", "ip"}
    assert "+44 20 7946 0958" in page  # the agent sees what was removed
    assert draft.source_tickets == [ticket.ref] and draft.owner_id == agnes.id and draft.lang == "en"
    # The ticket's workspace points to the draft instead of offering another one.
    workspace = kb_client.get(f"/agent/tickets/{ticket.ref}").text
    assert "Draft made from this ticket:" in workspace and f"/drafts/{draft.id}" in workspace
    assert "Create article" not in workspace


def test_draft_from_a_spanish_ticket_uses_spanish_headings(kb_client, make, db, agnes):
    lucia = make.user(email="lucia@example.es", name="Lucía García")
    ticket = _solved_ticket(
        make, db, requester=lucia, agent=agnes, language="es", subject="No puedo ver la factura de octubre",
        description="Hola Agnes:\nNo veo mi factura FAC-2026-0123 en el área de clientes. Mi móvil es 612 345 678."
                    "\n\nUn saludo,\nLucía García",
        reply="Hola Lucía:\nEntra en Mis facturas, elige el año 2026 y pulsa Descargar.\n\nSaludos,\nAgnes",
    )
    login(kb_client, agnes)
    kb_client.get(_create_draft(kb_client, ticket))
    draft = db.scalars(select(ArticleDraft)).one()
    assert draft.lang == "es" and draft.title == "¿Qué hacer si no puedes ver la factura de octubre?"
    assert "## Problema" in draft.body and "## Solución" in draft.body and "pulsa Descargar" in draft.body
    for secret in ("FAC-2026-0123", "612 345 678", "Lucía", "Hola", "Un saludo"):
        assert secret not in draft.body


def test_only_solved_or_closed_tickets_and_only_agents(kb_client, make, db, alice, agnes):
    open_ticket = make.ticket(requester=alice, status="open", assignee=agnes)
    login(kb_client, agnes)
    assert kb_client.post(f"/agent/tickets/{open_ticket.ref}/article").status_code == 409
    solved = _solved_ticket(make, db, requester=alice, agent=agnes)
    kb_client.post("/logout")
    login(kb_client, alice)
    assert kb_client.post(f"/agent/tickets/{solved.ref}/article").status_code == 403
    assert kb_client.get("/agent/drafts").status_code == 403
    assert db.scalars(select(ArticleDraft)).all() == []


def test_publish_writes_the_file_and_search_finds_it_at_once(kb_client, kb_dir, make, db, alice, agnes):
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
    login(kb_client, agnes)
    editor_url = _create_draft(kb_client, ticket)
    draft_id = int(editor_url.rstrip("/").rsplit("/", 1)[1])
    body = ("## Problem\n\nThe Wi-Fi drops every night.\n\n## Solution\n\nChange the zorblax channel to 6.\n\n"
            "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>")
    response = kb_client.post(f"/agent/drafts/{draft_id}/publish", data={
        "title": "Wi-Fi drops every night", "body": body, "section": "connection", "lang": "en",
        "tags": "wifi, Router", "summary": "Change the Wi-Fi channel."})
    assert response.status_code == 303, response.text
    file = kb_dir / "en" / "connection" / "wi-fi-drops-every-night.md"
    meta, written = _front_matter(file)
    assert meta["title"] == "Wi-Fi drops every night" and meta["status"] == "published"
    assert meta["tags"] == ["wifi", "router"] and meta["source_tickets"] == [ticket.ref]
    assert meta["author"] == "Agnes Agent" and meta["translation_key"] and meta["summary"]
    assert str(meta["updated"]) == utcnow().date().isoformat()
    assert "zorblax" in written
    found = kb_client.get("/api/v1/kb/search?q=zorblax").get_json()
    assert [hit["path"] for hit in found["results"]] == ["en/connection/wi-fi-drops-every-night.md"]
    public = kb_client.get("/kb/en/connection/wi-fi-drops-every-night")
    assert public.status_code == 200
    # CommonMark reads the `<script>` line as an HTML block: the link after it stays inert text, never an href.
    assert "<script>alert" not in public.text and '="javascript:' not in public.text and "onerror" not in public.text
    db.expire_all()
    assert db.get(ArticleDraft, draft_id).state == "published"
    # The ticket's panel shows the article made from it.
    with kb_client.application.test_request_context():
        from flask import render_template
        from flask_login import login_user

        login_user(agnes)
        html = render_template("agent/_capture_button.html", ticket=db.merge(ticket))
    assert "Wi-Fi drops every night" in html and "Create article" not in html


def test_a_second_publish_gets_a_unique_slug(kb_client, kb_dir, make, db, alice, agnes):
    login(kb_client, agnes)
    for _ in range(2):
        ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
        draft_url = _create_draft(kb_client, ticket)
        kb_client.post(draft_url + "/publish", data={"title": "Same title", "body": "Text.", "section": "connection",
                                                    "lang": "en", "tags": ""})
    assert (kb_dir / "en/connection/same-title.md").exists() and (kb_dir / "en/connection/same-title-2.md").exists()


@pytest.mark.parametrize("section", ["../../etc", "/tmp", "..", "a/../../b", "Billing Stuff", "a\\b", "x/./y", ""])
def test_sections_that_escape_or_look_odd_are_refused(kb_client, kb_dir, make, db, alice, agnes, section, tmp_path):
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
    login(kb_client, agnes)
    draft_url = _create_draft(kb_client, ticket)
    before = sorted(p for p in tmp_path.rglob("*.md"))
    response = kb_client.post(draft_url + "/publish", data={"title": "Escape", "body": "x", "section": section,
                                                           "lang": "en", "tags": ""})
    assert response.status_code == 422
    assert sorted(p for p in tmp_path.rglob("*.md")) == before


def test_a_failing_rename_leaves_no_file_and_no_index_entry(kb_client, kb_dir, make, db, alice, agnes, monkeypatch):
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
    login(kb_client, agnes)
    draft_url = _create_draft(kb_client, ticket)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    response = kb_client.post(draft_url + "/publish", data={"title": "Quuxfrob guide", "body": "quuxfrob steps",
                                                           "section": "connection", "lang": "en", "tags": ""})
    monkeypatch.undo()
    assert response.status_code == 503
    assert "could not be saved" in response.text and "No space left on device" in response.text
    assert not list((kb_dir / "en" / "connection").glob("*")) if (kb_dir / "en" / "connection").exists() else True
    assert kb_client.get("/api/v1/kb/search?q=quuxfrob").get_json()["total"] == 0
    db.expire_all()
    assert db.scalars(select(ArticleDraft)).one().state == "draft"


def test_review_flow_needs_a_different_agent_or_an_admin(kb_client, kb_dir, make, db, alice, agnes, admin_user):
    db.add(SectionReview(section="connection", review_required=True))
    db.commit()
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
    login(kb_client, agnes)
    draft_url = _create_draft(kb_client, ticket)
    data = {"title": "Reviewed article", "body": "Blorptastic fix.", "section": "connection", "lang": "en", "tags": ""}
    assert kb_client.post(draft_url + "/publish", data=data).status_code == 303
    draft = db.scalars(select(ArticleDraft)).one()
    assert draft.state == "in_review" and not (kb_dir / "en/connection/reviewed-article.md").exists()
    # The author cannot approve their own draft, nor send it back.
    assert kb_client.post(draft_url + "/publish").status_code == 403
    kb_client.post("/logout")
    login(kb_client, diego)
    assert "Approve and publish" in kb_client.get(draft_url).text
    comment = {"comment": "Add a screenshot of the settings."}
    assert kb_client.post(draft_url + "/send-back", data=comment).status_code == 303
    db.expire_all()
    assert draft.state == "draft" and draft.review_comment == "Add a screenshot of the settings."
    kb_client.post("/logout")
    login(kb_client, agnes)
    assert "Add a screenshot of the settings." in kb_client.get(draft_url).text
    kb_client.post(draft_url + "/publish", data=data)
    kb_client.post("/logout")
    login(kb_client, admin_user)
    assert kb_client.post(draft_url + "/publish").status_code == 303
    assert (kb_dir / "en/connection/reviewed-article.md").exists()
    assert kb_client.get("/api/v1/kb/search?q=blorptastic").get_json()["total"] == 1


def test_editing_a_published_article_keeps_history_and_refuses_concurrent_edits(kb_client, kb_dir, make, agnes, db):
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    path = "en/billing/read-your-invoice.md"
    login(kb_client, agnes)
    first = kb_client.post(f"/agent/articles/{path}/edit")
    assert first.status_code == 303
    kb_client.post("/logout")
    other = kb_client.application.test_client()
    login(other, diego)
    second = other.post(f"/agent/articles/{path}/edit")
    # Diego saves first.
    published = other.post(second.headers["Location"] + "/publish", data={
        "title": "How to read your invoice", "body": "Diego's flibbertigibbet version.", "section": "billing",
        "lang": "en", "tags": "billing"})
    assert published.status_code == 303
    assert "flibbertigibbet" in (kb_dir / path).read_text()
    assert other.get("/api/v1/kb/search?q=flibbertigibbet").get_json()["total"] == 1
    # Agnes opened the same article before Diego's change: refused, not overwritten.
    login(kb_client, agnes)
    refused = kb_client.post(first.headers["Location"] + "/publish", data={
        "title": "How to read your invoice", "body": "Agnes's version.", "section": "billing", "lang": "en",
        "tags": ""})
    assert refused.status_code == 409
    assert "Someone else changed this article" in refused.text
    assert "flibbertigibbet" in (kb_dir / path).read_text()
    db.expire_all()
    kept = db.scalars(select(ArticleDraft).where(ArticleDraft.owner_id == agnes.id)).one()
    assert kept.body == "Agnes's version." and kept.state == "draft"  # her text is not lost
    revisions = db.scalars(select(ArticleRevision).where(ArticleRevision.path == path)).all()
    assert len(revisions) == 1 and revisions[0].author_id == diego.id
    assert "Section 1" in revisions[0].body or "invoice" in revisions[0].body.lower()
    history = kb_client.get(f"/agent/articles/{path}")
    assert history.status_code == 200 and "Diego Agent" in history.text and "Earlier versions" in history.text


def test_archive_hides_the_article_and_republish_brings_it_back(kb_client, kb_dir, agnes):
    path = "en/billing/read-your-invoice.md"
    login(kb_client, agnes)
    assert kb_client.post(f"/agent/articles/{path}/status/archive").status_code == 303
    assert "status: archived" in (kb_dir / path).read_text()
    assert all(hit["path"] != path for hit in kb_client.get("/api/v1/kb/search?q=invoice").get_json()["results"])
    assert kb_client.get("/kb/en/billing/read-your-invoice").status_code == 404
    kb_client.post(f"/agent/articles/{path}/status/republish")
    assert any(hit["path"] == path for hit in kb_client.get("/api/v1/kb/search?q=invoice").get_json()["results"])


def test_translate_opens_a_draft_in_the_other_language_with_the_original_beside(kb_client, kb_dir, agnes, db):
    login(kb_client, agnes)
    response = kb_client.post("/agent/articles/en/account/reset-your-password.md/translate")
    assert response.status_code == 303
    page = kb_client.get(response.headers["Location"]).text
    assert "Original" in page and "Forgot password" in page
    draft = db.scalars(select(ArticleDraft)).one()
    assert draft.lang == "es" and draft.translation_key == "reset-password"
    kb_client.post(response.headers["Location"] + "/publish", data={
        "title": "Restablece tu contraseña (nueva)", "body": "Pasos.", "section": "cuenta", "lang": "es", "tags": ""})
    meta, _body = _front_matter(kb_dir / "es/cuenta/restablece-tu-contrasena-nueva.md")
    assert meta["translation_key"] == "reset-password"


def test_live_preview_uses_the_public_sanitiser(kb_client, make, db, alice, agnes):
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes)
    login(kb_client, agnes)
    draft_url = _create_draft(kb_client, ticket)
    answer = kb_client.post(draft_url + "/preview", data={"body": "**bold** <script>x()</script> [a](javascript:y)",
                                                         "lang": "en"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "<strong>bold</strong>" in answer.text
    assert "<script>" not in answer.text and "javascript:" not in answer.text
    assert 'id="draft-preview"' in answer.text and "HX-Request" in answer.headers.get("Vary", "")


def test_drafts_list_mine_and_all_and_append_to_similar(kb_client, kb_dir, make, db, alice, agnes):
    diego = make.user(email="diego@example.com", name="Diego Agent", role="agent")
    ticket = _solved_ticket(make, db, requester=alice, agent=agnes, subject="How do I read my invoice")
    login(kb_client, agnes)
    draft_url = _create_draft(kb_client, ticket)
    assert "How do I read my invoice?" in kb_client.get("/agent/drafts").text
    editor = kb_client.get(draft_url).text
    assert "Similar articles" in editor and "How to read your invoice" in editor
    kb_client.post("/logout")
    login(kb_client, diego)
    assert "How do I read my invoice?" not in kb_client.get("/agent/drafts").text
    assert "How do I read my invoice?" in kb_client.get("/agent/drafts?scope=all").text
    kb_client.post("/logout")
    login(kb_client, agnes)
    kb_client.post(draft_url + "/append", data={"path": "en/billing/read-your-invoice.md"})
    kb_client.post(draft_url + "/publish", data={
        "title": "Downloading older invoices", "body": "## Solution\n\nPick the year and press Snarfdownload.",
        "section": "billing", "lang": "en", "tags": ""})
    text = (kb_dir / "en/billing/read-your-invoice.md").read_text()
    assert "## Downloading older invoices" in text and "Snarfdownload" in text
    assert not (kb_dir / "en/billing/downloading-older-invoices.md").exists()
    meta, _ = _front_matter(kb_dir / "en/billing/read-your-invoice.md")
    assert ticket.ref in meta["source_tickets"]
