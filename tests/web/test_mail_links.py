"""Links in e-mails work in a mail client: absolute, on the configured public address (its port and prefix too),
whatever the reply's Markdown said and whatever Host header the request that sent them carried (issue 19)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.models import Macro, SentArticle, Ticket
from tests.conftest import login
from tests.outbox import outbox_messages

BASE = "http://help.example.org:8080/support"
URL = re.compile(r"""https?://[^\s"'<>)\]]+""")
HREF = re.compile(r"""(?:href|src)=["']([^"']*)["']""")


@pytest.fixture
def app_config():
    return {"BASE_URL": BASE}


def parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def all_links(app, recipient: str) -> tuple[list[str], list[str]]:
    """Every address in the text parts and every href/src of the HTML parts of the mails `recipient` got."""
    text_links, html_links = [], []
    for message in outbox_messages(app, recipient):
        text, html = parts(message)
        text_links += URL.findall(text)
        html_links += HREF.findall(html)
    return text_links, html_links


def open_ticket(client, db, subject: str, **request) -> Ticket:
    client.post("/tickets", data={"subject": subject, "description": "No light on the box", "priority": "normal",
                                  "language": "en", "client_token": "", "suggestions_shown": "1"}, **request)
    db.expire_all()
    return db.scalar(select(Ticket).where(Ticket.subject == subject))


def reply(client, ticket, body: str, *, submit_as: str = "", **request):
    return client.post(f"/agent/tickets/{ticket.ref}/messages",
                       data={"body": body, "visibility": "public", "submit_as": submit_as,
                             "version": str(ticket.version)}, **request)


def test_every_link_in_the_customers_mails_is_absolute_on_the_configured_address(client, db, alice, agnes):
    login(client, alice)
    ticket = open_ticket(client, db, "Fibre down")
    client.post("/logout")
    login(client, agnes)
    assert reply(client, ticket, "Fixed on our side, please check.", submit_as="solved").status_code == 303

    text_links, html_links = all_links(client.application, alice.email)
    subjects = [str(m["Subject"]) for m in outbox_messages(client.application, alice.email)]
    assert any("We received" in s for s in subjects) and any("solved" in s.lower() for s in subjects), subjects
    # the ticket page, the signed confirm / reopen links and the rating links, in both parts
    assert f"{BASE}/tickets/{ticket.ref}" in text_links and f"{BASE}/tickets/{ticket.ref}" in html_links
    others = {link for link in html_links if link.startswith(f"{BASE}/") and link != f"{BASE}/tickets/{ticket.ref}"}
    assert len(others) >= 4, html_links  # confirm, reopen, good, bad
    for link in text_links + html_links:
        assert link.startswith(BASE), link


def test_a_forged_host_header_does_not_change_the_links_in_mails_sent_during_that_request(client, db, alice, agnes):
    # every request of this visit says it is for evil.example (the login too, so the session cookie goes along)
    client.environ_base.update(HTTP_HOST="evil.example", HTTP_X_FORWARDED_HOST="evil.example",
                               HTTP_X_FORWARDED_PROTO="https")
    login(client, alice)
    ticket = open_ticket(client, db, "Router blinks")
    assert ticket is not None
    client.post("/logout")
    login(client, agnes)
    assert reply(client, ticket, "See [the guide](/kb/en/account/reset-your-password).",
                 submit_as="solved").status_code == 303
    client.post("/logout")
    client.post("/forgot-password", data={"email": alice.email})

    mails = outbox_messages(client.application, alice.email)
    assert any("password" in str(m["Subject"]).lower() for m in mails), [str(m["Subject"]) for m in mails]
    for message in mails:
        text, html = parts(message)
        assert "evil.example" not in text and "evil.example" not in html
    text_links, html_links = all_links(client.application, alice.email)
    assert f"{BASE}/kb/en/account/reset-your-password" in text_links + html_links
    assert any("/reset-password/" in link for link in text_links)
    for link in text_links + html_links:
        assert link.startswith(BASE), link


def test_a_relative_article_link_in_a_reply_becomes_absolute_in_the_mail(client, db, alice, agnes, make):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    body = ("Try [Reset your password](/kb/en/account/reset-your-password), or paste /kb/en/billing/read-your-invoice "
            "into the address bar. Our status page: https://status.example.com/now")
    assert reply(client, ticket, body).status_code == 303

    [mail] = [m for m in outbox_messages(client.application, alice.email) if "New reply" in str(m["Subject"])]
    text, html = parts(mail)
    for part in (text, html):
        assert f"{BASE}/kb/en/account/reset-your-password" in part
        assert f"{BASE}/kb/en/billing/read-your-invoice" in part
        assert "https://status.example.com/now" in part
    assert "](/kb/" not in text and 'href="/kb/' not in html
    assert f'href="{BASE}/kb/en/billing/read-your-invoice"' in html  # the bare path is a link in the HTML too
    # the old relative link still counts as an article sent
    recorded = db.scalars(select(SentArticle.article_path).where(SentArticle.ticket_id == ticket.id)).all()
    assert recorded == ["en/account/reset-your-password"]


def test_the_composer_inserts_an_absolute_article_link_that_counts_as_sent(kb_app, db, make, alice, agnes):
    client = kb_app.test_client()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    found = client.post(
        f"/agent/tickets/{ticket.ref}/messages",
        data={"body": "Try this:", "visibility": "public", "version": str(ticket.version), "action": "articles",
              "article_query": "password"}, headers={"HX-Request": "true"})
    path = re.search(r'value="article:([^"]+)"', found.text)
    assert path, found.text
    inserted = client.post(f"/agent/tickets/{ticket.ref}/messages",
                           data={"body": "Try this:", "visibility": "public", "version": str(ticket.version),
                                 "action": f"article:{path.group(1)}"}, headers={"HX-Request": "true"})
    link = re.search(r"\[[^\]]+\]\(([^)]+)\)", inserted.text)
    assert link and link.group(1).startswith(f"{BASE}/kb/"), inserted.text

    assert reply(client, ticket, f"Try this: [the article]({link.group(1)})").status_code == 303
    recorded = db.scalars(select(SentArticle.article_path).where(SentArticle.ticket_id == ticket.id)).all()
    assert recorded == [link.group(1).removeprefix(f"{BASE}/kb/")]
    [mail] = [m for m in outbox_messages(kb_app, alice.email) if "New reply" in str(m["Subject"])]
    text, html = parts(mail)
    assert link.group(1) in text and f'href="{link.group(1)}"' in html


def test_another_sites_kb_link_is_not_an_article_sent(client, db, alice, agnes, make):
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    assert reply(client, ticket, "Their manual: [router](https://vendor.example/kb/en/router)").status_code == 303
    assert db.scalars(select(SentArticle).where(SentArticle.ticket_id == ticket.id)).all() == []


def test_a_macros_ticket_url_is_the_absolute_ticket_page(client, db, alice, agnes, make):
    ticket = make.ticket(requester=alice)
    macro = Macro(title="Where to follow", body_en="Follow it at {{ ticket.url }}", actions=[])
    db.add(macro)
    db.commit()
    login(client, agnes)
    page = client.post(f"/agent/tickets/{ticket.ref}/macros/preview", data={
        "macro": str(macro.id), "body": "", "visibility": "public", "version": str(ticket.version)})
    assert f"Follow it at {BASE}/tickets/{ticket.ref}" in page.text, page.text[:2000]
