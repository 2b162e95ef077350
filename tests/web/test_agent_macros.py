"""Macros in the agent desk: the composer's picker (without JavaScript and with htmx), "Apply macro" on a queue
selection, and the macros page (personal ones are their owner's, shared ones the admins')."""

from __future__ import annotations

import html

from sqlalchemy import select

from portal.models import Macro, Message
from tests.conftest import login


def _macro(db, *, owner=None, title="Refund issued", body_en="Hi {{ requester.name }}, refund on its way.",
           body_es="Hola {{ requester.name }}, el reembolso está en camino.", actions=None) -> Macro:
    macro = Macro(title=title, body_en=body_en, body_es=body_es, owner_id=owner.id if owner else None,
                  actions=actions if actions is not None else [{"type": "set_priority", "value": "high"},
                                                               {"type": "add_tags", "value": ["refund"]}])
    db.add(macro)
    db.commit()
    return macro


def _composer(ticket, **data) -> dict:
    return {"body": "", "visibility": "public", "submit_as": "", "version": str(ticket.version), **data}


def test_the_picker_previews_then_applies_without_javascript(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, language="es")
    macro = _macro(db)
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert f'<option value="{macro.id}"' in page.text and "Refund issued" in page.text

    preview = client.post(f"/agent/tickets/{ticket.ref}/macros/preview",
                          data=_composer(ticket, body="Thanks for waiting.", macro=str(macro.id)))
    assert preview.status_code == 200
    text = html.unescape(preview.text)
    assert "Would do this: Set the priority: High." in text and "Would do this: Add tags: refund." in text
    assert "Hola Alice Customer, el reembolso está en camino." in text
    db.refresh(ticket)
    assert ticket.priority == "normal" and ticket.tag_names == []  # the preview changed nothing

    applied = client.post(f"/agent/tickets/{ticket.ref}/macros/apply",
                          data=_composer(ticket, body="Thanks for waiting.", macro_id=str(macro.id)))
    assert applied.status_code == 200
    db.refresh(ticket)
    assert (ticket.priority, ticket.tag_names) == ("high", ["refund"])
    textarea = html.unescape(applied.text.split('id="composer-body"')[1].split("</textarea>")[0])
    assert "Thanks for waiting.\n\nHola Alice Customer, el reembolso está en camino." in textarea
    assert not db.scalars(select(Message).where(Message.ticket_id == ticket.id,
                                                Message.author_id == agnes.id)).all()  # not sent


def test_the_picker_with_htmx_answers_the_composer_then_the_workspace(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    macro = _macro(db)
    login(client, agnes)
    headers = {"HX-Request": "true"}
    preview = client.post(f"/agent/tickets/{ticket.ref}/macros/preview",
                          data=_composer(ticket, macro=str(macro.id)), headers=headers)
    assert preview.text.lstrip().startswith('<section id="composer"')
    assert 'id="side-panel"' not in preview.text and "Hi Alice Customer, refund on its way." in preview.text
    applied = client.post(f"/agent/tickets/{ticket.ref}/macros/apply",
                          data=_composer(ticket, macro_id=str(macro.id)), headers=headers)
    assert applied.status_code == 200
    assert applied.headers["HX-Retarget"] == "#workspace"
    db.refresh(ticket)
    assert str(ticket.version) in applied.headers["HX-Trigger"]
    assert 'id="side-panel"' in applied.text and "Hi Alice Customer, refund on its way.</textarea>" in applied.text


def test_applying_on_an_old_version_is_refused_and_changes_nothing(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    macro = _macro(db)
    login(client, agnes)
    stale = _composer(ticket, macro_id=str(macro.id), version=str(ticket.version - 1), body="my draft")
    response = client.post(f"/agent/tickets/{ticket.ref}/macros/apply", data=stale)
    assert response.status_code == 409
    assert "Someone else changed this ticket" in html.unescape(response.text) and "my draft" in response.text
    db.refresh(ticket)
    assert ticket.priority == "normal" and ticket.tag_names == []


def test_a_refused_change_is_shown_in_the_composer(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="closed")
    macro = _macro(db)
    login(client, agnes)
    response = client.post(f"/agent/tickets/{ticket.ref}/macros/apply", data=_composer(ticket, macro_id=str(macro.id)),
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "This ticket is closed" in response.text and 'id="composer"' in response.text


def test_bulk_apply_previews_the_count_then_replies_to_each_ticket(client, db, make, alice, agnes):
    first, second = make.ticket(requester=alice), make.ticket(requester=alice, language="es")
    untouched = make.ticket(requester=alice)
    macro = _macro(db)
    login(client, agnes)
    queue = client.get("/agent")
    assert 'formaction="/agent/bulk/macro"' in queue.text

    data = {"refs": [first.ref, second.ref], "macro": str(macro.id), "action": "macro", "next": "/agent/"}
    preview = client.post("/agent/bulk/macro", data=data)
    assert preview.status_code == 200
    assert "Apply “Refund issued” to 2 tickets?" in html.unescape(preview.text)
    assert not db.scalars(select(Message).where(Message.author_id == agnes.id)).all()
    fragment = client.post("/agent/bulk/macro", data=data, headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="bulk-result"') and "<form" not in fragment.text

    done = client.post("/agent/bulk/macro/apply", data={"refs": [first.ref, second.ref], "macro_id": str(macro.id),
                                                         "next": "/agent/"}, follow_redirects=True)
    assert "applied to 2 tickets" in html.unescape(done.text)
    db.expire_all()
    replies = {m.ticket_id: m.body for m in db.scalars(select(Message).where(Message.author_id == agnes.id,
                                                                              Message.public.is_(True)))}
    assert replies == {first.id: "Hi Alice Customer, refund on its way.",
                       second.id: "Hola Alice Customer, el reembolso está en camino."}
    assert first.priority == second.priority == "high" and untouched.priority == "normal"


def test_an_agent_sees_shared_and_own_macros_never_a_colleagues(client, db, make, agnes):
    colleague = make.user(role="agent")
    _macro(db, title="Everyone's")
    _macro(db, owner=agnes, title="Agnes's own")
    theirs = _macro(db, owner=colleague, title="Colleague's secret")
    login(client, agnes)
    page = html.unescape(client.get("/agent/macros").text)
    assert "Everyone's" in page and "Agnes's own" in page and "Colleague's secret" not in page
    ticket = make.ticket()
    response = client.post(f"/agent/tickets/{ticket.ref}/macros/preview", data=_composer(ticket, macro=str(theirs.id)))
    assert response.status_code == 404


def test_an_agent_keeps_personal_macros_but_cannot_touch_shared_or_others(client, db, make, agnes):
    shared = _macro(db, title="Shared one")
    theirs = _macro(db, owner=make.user(role="agent"), title="Theirs")
    login(client, agnes)
    created = client.post("/agent/macros/new", data={
        "title": "Chase the courier", "body_en": "We chased it, {{ requester.name }}.", "body_es": "",
        "set_priority": "urgent", "add_tags": "courier late", "shared": "y"})
    assert created.status_code == 303
    mine = db.scalar(select(Macro).where(Macro.title == "Chase the courier"))
    assert mine.owner_id == agnes.id  # not an admin: "shared" is not hers to give, the macro stays personal
    assert mine.actions == [{"type": "set_priority", "value": "urgent"},
                            {"type": "add_tags", "value": ["courier", "late"]}]
    form = client.get(f"/agent/macros/{mine.id}/edit")
    assert form.status_code == 200 and 'value="courier late"' in form.text
    assert client.get(f"/agent/macros/{shared.id}/edit").status_code == 403
    assert client.post(f"/agent/macros/{shared.id}/delete").status_code == 403
    assert client.post(f"/agent/macros/{theirs.id}/edit", data={"title": "mine now"}).status_code == 404
    assert client.post(f"/agent/macros/{theirs.id}/delete").status_code == 404
    db.expire_all()
    assert db.get(Macro, shared.id) is not None and db.get(Macro, theirs.id).title == "Theirs"


def test_an_admin_shares_a_macro_and_a_bad_value_is_shown_by_its_field(client, db, admin_user):
    login(client, admin_user)
    bad = client.post("/agent/macros/new", data={"title": "Bad", "body_en": "x", "add_tags": "not/a/tag"})
    assert bad.status_code == 422 and "A tag is one word" in bad.text
    ok = client.post("/agent/macros/new", data={"title": "For all", "body_en": "x", "shared": "y"})
    assert ok.status_code == 303
    assert db.scalar(select(Macro).where(Macro.title == "For all")).owner_id is None


def test_preview_without_a_chosen_macro_says_so_and_keeps_the_text(client, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    response = client.post(f"/agent/tickets/{ticket.ref}/macros/preview",
                           data=_composer(ticket, body="half a reply", macro=""), headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Choose one of the macros offered." in response.text and "half a reply" in response.text
