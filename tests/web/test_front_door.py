"""The help center's front doors, / and /kb (issue 19): the search hero, the sections as cards with their article
counts, promoted and popular articles in the reader's language, and "Contact us" one step away."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.clock import utcnow
from portal.models import ArticleView
from portal.services import kb_front
from tests.conftest import login

EN, ES = {"Accept-Language": "en"}, {"Accept-Language": "es"}


def _card(page_text: str, title: str) -> str:
    """The text of the section card titled `title` (tags dropped, spaces squeezed)."""
    cards = re.findall(r'<a class="section-card".*?</a>', page_text, re.S)
    for card in cards:
        text = " ".join(re.sub(r"<[^>]+>", " ", card).split())
        if text.startswith(title + " "):
            return text
    raise AssertionError(f"no card titled {title!r} among {len(cards)} cards")


def _section_titles(page_text: str) -> list[str]:
    return re.findall(r'<strong class="section-card-title">([^<]*)</strong>', page_text)


def _list(page_text: str, heading_id: str) -> list[str]:
    """The article titles listed under the heading with `heading_id`, in order."""
    match = re.search(rf'id="{heading_id}".*?<(ol|ul) class="front-articles">(.*?)</\1>', page_text, re.S)
    return re.findall(r'<a href="[^"]*">([^<]*)</a>', match.group(2)) if match else []


def _view(db, path: str, lang: str, at, times: int = 1) -> None:
    db.add_all(ArticleView(path=path, lang=lang, visitor_id=f"v{n}", created_at=at) for n in range(times))
    db.commit()


@pytest.mark.parametrize("url", ["/", "/kb"])
def test_both_front_doors_have_the_search_hero_that_works_as_a_plain_form_and_live(kb_client, url):
    page = kb_client.get(url, headers=EN)
    assert page.status_code == 200
    form = re.search(r'<form method="get" action="/kb/search"[^>]*>', page.text).group(0)
    assert 'hx-get="/kb/search"' in form and 'hx-target="#kb-results"' in form
    assert 'hx-push-url="false"' in form if url == "/" else 'hx-push-url="true"' in form
    assert '<h1 id="front-title">How can we help?</h1>' in page.text
    assert 'id="kb-results"' in page.text and "data-live-search" in page.text
    spanish = kb_client.get(url, headers=ES)
    assert "¿Cómo podemos ayudarte?" in spanish.text


def test_section_cards_name_each_section_with_its_count_in_the_readers_language(kb_client):
    english = kb_client.get("/", headers=EN).text
    assert _section_titles(english) == ["Account", "Billing", "Guides", "Misc"]
    # only what a customer can open is counted: the draft and the agents' article in account/ are not
    assert _card(english, "Account").endswith("1 article")
    assert "Sign in, passwords" in _card(english, "Account")  # the section's description
    assert _card(english, "Guides").endswith("2 articles")  # guides/setup/ counts for guides/
    assert 'href="/static/icons.svg#account"' in english and 'href="/static/icons.svg#book"' in english
    assert 'href="/kb/search?section=billing"' in english

    spanish = kb_client.get("/kb", headers=ES).text
    assert _section_titles(spanish) == ["Cuenta", "Facturacion", "Guias"]
    assert _card(spanish, "Cuenta").endswith("2 artículos")
    assert _card(spanish, "Facturacion").endswith("1 artículo")


def test_agents_count_the_internal_articles_too(kb_client, agnes):
    login(kb_client, agnes)
    assert _card(kb_client.get("/kb", headers=EN).text, "Account").endswith("2 articles")


def test_promoted_articles_are_listed_in_the_readers_language(kb_client, kb_dir):
    assert "Featured articles" not in kb_client.get("/kb", headers=EN).text  # nothing promoted: no empty list
    invoice = kb_dir / "en/billing/read-your-invoice.md"
    invoice.write_text(invoice.read_text().replace("status: published", "status: published\npromoted: true"))
    (kb_dir / "en/billing/hidden.md").write_text("---\ntitle: Hidden promotion\nstatus: draft\npromoted: true\n---\nx")
    home = kb_client.get("/", headers=EN).text
    assert _list(home, "front-promoted-title") == ["How to read your invoice"]
    assert "Destacados" not in kb_client.get("/kb", headers=ES).text  # no Spanish article is promoted


def test_popular_lists_this_months_most_read_in_the_readers_language(kb_client, db):
    now = utcnow()
    last_month = kb_front.month_start(now) - timedelta(days=2)
    _view(db, "en/account/reset-your-password.md", "en", last_month, times=5)
    _view(db, "en/billing/read-your-invoice.md", "en", now, times=2)
    _view(db, "es/cuenta/domiciliacion-bancaria.md", "es", now, times=9)
    _view(db, "en/account/refund-policy-for-agents.md", "en", now, times=9)  # internal: not for customers
    # this month first, then the rest by all-time views; reads in either language count, and each article is
    # shown in the reader's language (an English favourite as its Spanish version), never in another one
    assert _list(kb_client.get("/kb", headers=EN).text, "front-popular-title") == [
        "How to read your invoice", "Reset your password"]
    spanish = _list(kb_client.get("/", headers=ES).text, "front-popular-title")
    assert spanish[:2] == ["Domiciliación bancaria", "Cómo leer tu factura"]
    assert not {"How to read your invoice", "Reset your password"} & set(spanish)


def test_popular_falls_back_to_all_time_views_when_this_month_has_none(kb_client, db):
    long_ago = kb_front.month_start(utcnow()) - timedelta(days=40)
    _view(db, "en/account/reset-your-password.md", "en", long_ago, times=1)
    _view(db, "en/billing/read-your-invoice.md", "en", long_ago, times=3)
    assert _list(kb_client.get("/", headers=EN).text, "front-popular-title") == [
        "How to read your invoice", "Reset your password"]


def test_popular_paths_is_one_ordering_of_this_month_then_all_time(app, db):
    now = utcnow().replace(day=15)
    _view(db, "en/a.md", "en", now - timedelta(days=40), times=4)
    _view(db, "en/b.md", "en", now, times=1)
    _view(db, "en/c.md", "en", now - timedelta(days=40), times=2)
    _view(db, "es/d.md", "es", now, times=7)
    assert kb_front.popular_paths(db, lang="en", now=now, limit=5) == ["es/d.md", "en/b.md", "en/a.md", "en/c.md"]
    next_month = (now + timedelta(days=31)).replace(day=2)
    assert kb_front.popular_paths(db, lang="en", now=next_month, limit=5) == [
        "es/d.md", "en/a.md", "en/c.md", "en/b.md"]


def test_nothing_read_yet_says_so(kb_client):
    assert "No article has been read yet." in kb_client.get("/kb", headers=EN).text


@pytest.mark.parametrize("url", ["/", "/kb", "/kb/en/account/reset-your-password"])
def test_a_visitor_is_one_step_from_contacting_us_through_the_login(kb_client, url):
    page = kb_client.get(url, headers=EN).text
    button = re.search(r'<a role="button" class="contact-cta-button" href="([^"]*)">Contact us</a>', page)
    assert button, "no Contact us button"
    target = urlsplit(button.group(1).replace("&amp;", "&"))
    assert target.path == "/login" and parse_qs(target.query)["next"][0].startswith("/tickets/new")
    assert "Still need help?" in page
    landing = kb_client.get(button.group(1).replace("&amp;", "&"), headers=EN)
    assert landing.status_code == 200 and 'name="password"' in landing.text


def test_a_customer_goes_straight_to_the_new_request_form_with_the_article_they_read(kb_client, alice):
    login(kb_client, alice)
    home = kb_client.get("/", headers=ES).text
    assert re.search(r'class="contact-cta-button" href="/tickets/new">Contacta con nosotros</a>', home)
    article = kb_client.get("/kb/en/account/reset-your-password", headers=EN).text
    assert 'class="contact-cta-button" href="/tickets/new?article=en/account/reset-your-password.md"' in article
    assert kb_client.get("/tickets/new", headers=EN).status_code == 200
