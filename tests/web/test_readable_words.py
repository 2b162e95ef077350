"""Words people understand (issue 19): the timeline, channels, article lists and the customer's status say
things in sentences and names, in English and in Spanish, and never contradict each other."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import ArticleView, ArticleVote, Group, Message, TicketEvent
from portal.services import desk_lists, timeline_names
from tests.conftest import login
from tests.kb_fixtures import write


def _timeline(page: str) -> str:
    start = page.index('class="timeline agent-timeline"')
    return page[start:page.index("</ol>", start)]


def _changes(db, ticket, actor, *changes):
    for kind, field, old, new in changes:
        db.add(TicketEvent(ticket=ticket, actor=actor, created_at=utcnow(), kind=kind, field=field,
                           old_value=old, new_value=new))
    db.commit()


def test_the_timeline_names_people_groups_and_values_in_sentences(client, app, db, make, agnes):
    billing, network = Group(name="Billing"), Group(name="Network")
    db.add_all([billing, network])
    db.commit()
    category = make.category(name="Connection problems", name_es="Problemas de conexión", fields=(
        {"key": "connection_type", "label_en": "Connection type", "label_es": "Tipo de conexión", "kind": "select",
         "options": [{"value": "fibre", "label_en": "Fibre", "label_es": "Fibra"}]},))
    ticket = make.ticket(priority="urgent")
    gone = network.id + 100  # a group that was deleted since
    _changes(db, ticket, agnes,
             ("group_changed", "group_id", str(billing.id), str(network.id)),
             ("priority_changed", "priority", "urgent", "high"),
             ("assigned", "assignee_id", None, str(agnes.id)),
             ("category_changed", "category_id", None, str(category.id)),
             ("field_changed", "connection_type", None, "fibre"),
             ("group_changed", "group_id", str(network.id), str(gone)))
    login(client, agnes)
    timeline = _timeline(client.get(f"/agent/tickets/{ticket.ref}").text)
    assert "Agnes Agent moved it from Billing to Network" in timeline
    assert "Agnes Agent changed the priority from Urgent to High" in timeline
    assert "Agnes Agent took it" in timeline
    assert "Agnes Agent changed the category from no category to Connection problems" in timeline
    assert "Agnes Agent set “Connection type” to Fibre" in timeline
    assert "Agnes Agent moved it from Network to a deleted group" in timeline
    assert "group_id" not in timeline and "urgent" not in timeline and "fibre" not in timeline

    tomas = make.user(email="tomas@example.com", name="Tomás", role="agent", locale="es")
    spanish = app.test_client()
    login(spanish, tomas)
    timeline = _timeline(spanish.get(f"/agent/tickets/{ticket.ref}").text)
    assert "Agnes Agent la pasó de Billing a Network" in timeline
    assert "Agnes Agent cambió la prioridad de Urgente a Alta" in timeline
    assert "Agnes Agent cambió la categoría de sin categoría a Problemas de conexión" in timeline
    assert "Agnes Agent puso «Tipo de conexión» a Fibra" in timeline
    assert "Agnes Agent la pasó de Network a un grupo eliminado" in timeline
    assert "Agnes Agent creó la solicitud" not in timeline  # the customer filed it: their name, not the agent's
    assert "creó la solicitud" in timeline


def test_names_are_read_once_for_the_whole_timeline_not_once_per_event(app, db, make, agnes):
    """Forty changes by twenty former agents and twenty deleted groups: one query for the people and one for
    the groups, however long the timeline."""
    ticket = make.ticket()
    former = [make.user(role="agent", email=f"former{n}@example.com", name=f"Former {n}") for n in range(20)]
    for user in former:
        user.active = False  # no longer in the desk's kept list of agents
    db.commit()
    _changes(db, ticket, None, *[("assigned", "assignee_id", None, str(user.id)) for user in former])
    _changes(db, ticket, None, *[("group_changed", "group_id", None, str(9000 + n)) for n in range(20)])
    events = list(db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)))
    lists = desk_lists.read(db)
    statements = []
    engine = db.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        names = timeline_names.names_for(db, events, lists)
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= 2
    assert names.people[former[0].id] == "Former 0" and 9000 not in names.groups


def test_channels_show_in_the_readers_language(client, app, db, make, agnes):
    ticket = make.ticket()
    ticket.channel = "email"
    db.add(Message(ticket=ticket, author=agnes, body="Called back.", public=False, channel="phone",
                   created_at=utcnow()))
    db.commit()
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "· E-mail</span>" in page and '<small class="muted">Phone</small>' in page
    tomas = make.user(email="tomas@example.com", name="Tomás", role="agent", locale="es")
    spanish = app.test_client()
    login(spanish, tomas)
    page = spanish.get(f"/agent/tickets/{ticket.ref}").text
    assert "· Correo electrónico</span>" in page and '<small class="muted">Teléfono</small>' in page


def test_a_customer_waiting_to_reply_is_not_told_they_wait_for_an_agent(client, app, db, make, alice):
    ticket = make.ticket(requester=alice, status="pending")
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}").text
    assert "Waiting for your reply" in page and "Waiting for an agent" not in page
    alice.locale = "es"
    db.commit()
    spanish = app.test_client()
    login(spanish, alice)
    page = spanish.get(f"/tickets/{ticket.ref}").text
    assert "Esperando tu respuesta" in page and "Esperando a un agente" not in page
    waiting = make.ticket(requester=alice)  # still with us: then it is true
    assert "Esperando a un agente" in spanish.get(f"/tickets/{waiting.ref}").text


def test_most_viewed_articles_are_listed_by_title_on_the_dashboard(kb_client, db, admin_user):
    now = utcnow()
    db.add_all(ArticleView(path="en/billing/read-your-invoice.md", lang="en", created_at=now - timedelta(hours=n))
               for n in range(3))
    db.commit()
    login(kb_client, admin_user)
    page = kb_client.get("/agent/reports").text
    table = page[page.index('id="table-most_viewed"'):]
    table = table[:table.index("</table>")]
    assert ">How to read your invoice</a>" in table and "en/billing/read-your-invoice.md" not in table


def test_content_gaps_name_articles_by_title_with_the_path_as_a_hint(kb_client, db, agnes):
    db.add(ArticleVote(path="en/billing/read-your-invoice.md", voter="visitor:1", helpful=False))
    db.commit()
    login(kb_client, agnes)
    page = kb_client.get("/agent/knowledge").text
    votes = page[page.index('id="gap-votes-title"'):]
    votes = votes[:votes.index("</section>")]
    assert ">How to read your invoice</a>" in votes
    assert '<small class="muted"><code>en/billing/read-your-invoice.md</code></small>' in votes


def _popular(page: str) -> str:
    return page[page.index('id="front-popular-title"'):page.index('id="front-recent-title"')]


def test_the_spanish_help_center_lists_spanish_articles_as_most_read(kb_client, db):
    for _ in range(3):
        kb_client.get("/kb/en/billing/read-your-invoice", headers={"Accept-Language": "en"})
    english = _popular(kb_client.get("/kb", headers={"Accept-Language": "en"}).text)
    assert "How to read your invoice" in english
    spanish = _popular(kb_client.get("/kb", headers={"Accept-Language": "es"}).text)
    assert "Cómo leer tu factura" in spanish and "How to read your invoice" not in spanish


def test_a_section_page_has_its_title_and_the_readers_language(kb_client, kb_dir):
    write(kb_dir, "en/billing/paying-by-card.md", "---\ntitle: Paying by card\n---\n\nCards we take.\n")
    write(kb_dir, "es/billing/pagar-con-tarjeta.md", "---\ntitle: Pagar con tarjeta\n---\n\nTarjetas.\n")
    page = kb_client.get("/kb/search?section=billing", headers={"Accept-Language": "es"}).text
    assert "<h1>Facturación</h1>" in page and "Artículos de Facturación" in page
    assert "Pagar con tarjeta" in page and "Paying by card" not in page
    assert "más de esta sección" in page and "section=billing&amp;all=1" in page
    everything = kb_client.get("/kb/search?section=billing&all=1", headers={"Accept-Language": "es"}).text
    assert "Paying by card" in everything and "Pagar con tarjeta" in everything
    english = kb_client.get("/kb/search?section=billing", headers={"Accept-Language": "en"}).text
    assert "<h1>Billing</h1>" in english and "Paying by card" in english and "Pagar con tarjeta" not in english
