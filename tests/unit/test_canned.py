"""Canned responses: safe placeholders, both languages, who may edit what."""

from __future__ import annotations

import pytest

from portal.clock import utcnow
from portal.errors import Invalid, NotFound
from portal.models import CannedResponse
from portal.services import canned


def test_placeholders_are_plain_substitution_never_a_template(db, make, agnes):
    sneaky = make.user(name="{{ 7*7 }} {% if true %}x{% endif %}")
    ticket = make.ticket(requester=sneaky)
    response = CannedResponse(title="t", body_en="Hi {{ requester.name }}, {{ticket.ref}} by {{ agent.name }} "
                                                 "{{ config.SECRET_KEY }}")
    text = canned.render(response, ticket, agnes)
    expected = (f"Hi {{{{ 7*7 }}}} {{% if true %}}x{{% endif %}}, {ticket.ref} by Agnes Agent "
                "{{ config.SECRET_KEY }}")
    assert text == expected


@pytest.mark.parametrize(("language", "body_es", "expected"), [
    ("es", "Hola {{ requester.name }}", "Hola Alice Customer"),
    ("en", "Hola {{ requester.name }}", "Hello Alice Customer"),
    ("es", "  ", "Hello Alice Customer"),  # no Spanish text: the English one
])
def test_the_tickets_language_picks_the_body(db, make, alice, agnes, language, body_es, expected):
    ticket = make.ticket(requester=alice, language=language)
    response = CannedResponse(title="t", body_en="Hello {{ requester.name }}", body_es=body_es)
    assert canned.render(response, ticket, agnes) == expected


def test_shared_ones_are_admins_personal_ones_their_owners(db, make, agnes, admin_user):
    other = make.user(role="agent")
    now = utcnow()
    with pytest.raises(Invalid):
        canned.save(db, None, title="x", body_en="y", body_es="", shared=True, set_status=None, set_priority=None,
                    add_tags=[], actor=agnes, now=now)
    shared = canned.save(db, None, title="Shared", body_en="y", body_es="", shared=True, set_status="solved",
                         set_priority="high", add_tags=["Wifi"], actor=admin_user, now=now)
    mine = canned.save(db, None, title="Mine", body_en="y", body_es="", shared=False, set_status=None,
                       set_priority=None, add_tags=[], actor=agnes, now=now)
    db.commit()
    assert shared.owner_id is None and shared.add_tags == ["wifi"] and mine.owner_id == agnes.id
    assert [c.title for c in canned.available(db, agnes)] == ["Mine", "Shared"]
    assert [c.title for c in canned.available(db, other)] == ["Shared"]
    assert not canned.can_edit(shared, agnes) and canned.can_edit(shared, admin_user)
    with pytest.raises(NotFound):
        canned.get_usable(db, mine.id, other)
    with pytest.raises(NotFound):
        canned.save(db, shared, title="Changed", body_en="y", body_es="", shared=True, set_status=None,
                    set_priority=None, add_tags=[], actor=agnes, now=now)


def test_the_management_pages(client, db, agnes):
    from tests.conftest import login

    login(client, agnes)
    assert client.get("/agent/canned/new").status_code == 200
    response = client.post("/agent/canned/new", data={"title": "Thanks", "body_en": "Thanks {{ requester.name }}",
                                                      "body_es": "Gracias", "set_status": "solved",
                                                      "set_priority": "", "add_tags": "done, happy"})
    assert response.status_code == 303
    page = client.get("/agent/canned")
    assert "Thanks" in page.text and "Personal" in page.text and "happy" in page.text
    assert client.post("/agent/canned/new", data={"title": "", "body_en": ""}).status_code == 422
