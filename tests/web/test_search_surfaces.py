"""Every place that searches the help center goes through `kb_search.search_articles`, and shows what it answers:
weak matches (`confident` false) are not offered before a ticket is filed and are announced elsewhere, and an
article in another language than the reader's says which language it is in.

The search itself is replaced by `answer` (a spy returning the results a test sets), so these tests depend on no
ranking detail."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from portal.models import Ticket
from portal.search import Hit, SearchResults
from portal.services import kb_search
from tests.conftest import login

WEAK_NEW_TICKET = "No article matches this well — tell us what happened."
WEAK_NEW_TICKET_ES = "Ningún artículo responde bien a esto: cuéntanos qué ha pasado."
WEAK_SEARCH = "No article matches this well."
CLOSEST = "These are the closest articles we have:"

INVOICE = Hit(path="en/billing/read-your-invoice.md", url="/kb/en/billing/read-your-invoice",
              title="How to read your invoice", lang="en", section="billing", summary="Every line of your invoice.",
              snippet_html='How to read your <b class="match">invoice</b>', score=2.0)
FACTURA = Hit(path="es/facturacion/leer-tu-factura.md", url="/kb/es/facturacion/leer-tu-factura",
              title="Cómo leer tu factura", lang="es", section="facturacion", summary="Cada línea de tu factura.",
              snippet_html='Cómo leer tu <b class="match">factura</b>', score=1.0)
LANGUAGE_LABEL = '<span class="badge lang-label"'


@dataclass
class Answer:
    """What every search answers until a test changes it, and the searches made."""

    hits: list[Hit] = field(default_factory=lambda: [INVOICE])
    confident: bool = True
    calls: list[dict] = field(default_factory=list)


@pytest.fixture
def answer(monkeypatch) -> Answer:
    forced = Answer()

    def search_articles(session, index, query, *, lang, actor, only_lang=None, section=None, page=1, per_page=10,
                        visible_statuses=None):
        forced.calls.append({"query": query, "lang": lang, "visible_statuses": visible_statuses})
        return SearchResults(query=query, total=len(forced.hits), suggestion=None, hits=list(forced.hits), page=page,
                             per_page=per_page, confident=forced.confident)

    monkeypatch.setattr(kb_search, "search_articles", search_articles)
    return forced


def item(text: str, title: str) -> str:
    """The list item that shows `title`, from the title to the end of its item."""
    start = text.index(title)
    return text[start:text.index("</li>", start)]


def ticket_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Ticket))


NEW_TICKET = {"subject": "Strange charge on my bill", "description": "There is a line I do not understand."}


# ---- New-ticket suggestions ----------------------------------------------------------------------------


def test_weak_matches_are_not_offered_beside_the_new_ticket_form(kb_client, alice, answer):
    login(kb_client, alice)
    answer.confident = False
    weak = kb_client.post("/tickets/suggestions", data=NEW_TICKET, headers={"HX-Request": "true"})
    assert WEAK_NEW_TICKET in weak.text
    assert "How to read your invoice" not in weak.text and "This answered my question" not in weak.text
    assert "suggestions-shown" not in weak.text  # a plain submit is not held back for a second look
    answer.confident = True
    good = kb_client.post("/tickets/suggestions", data=NEW_TICKET, headers={"HX-Request": "true"})
    assert "How to read your invoice" in good.text and "This answered my question" in good.text
    assert WEAK_NEW_TICKET not in good.text


def test_weak_matches_are_not_offered_on_the_suggestions_page_without_javascript(kb_client, alice, answer):
    login(kb_client, alice)
    answer.confident = False
    page = kb_client.post("/tickets/suggestions", data=NEW_TICKET)
    assert "<html" in page.text and WEAK_NEW_TICKET in page.text
    assert "How to read your invoice" not in page.text and "This answered my question" not in page.text


def test_the_weak_match_message_is_in_spanish_for_a_spanish_customer(kb_client, make, answer):
    login(kb_client, make.user(email="maria@example.com", locale="es"))
    answer.confident = False
    fragment = kb_client.post("/tickets/suggestions", data=NEW_TICKET, headers={"HX-Request": "true"})
    assert WEAK_NEW_TICKET_ES in fragment.text and WEAK_NEW_TICKET not in fragment.text


def test_filing_without_javascript_skips_the_articles_step_when_they_match_weakly(kb_client, db, alice, answer):
    login(kb_client, alice)
    data = {"priority": "normal", "language": "en", **NEW_TICKET}
    answer.confident = True
    step = kb_client.post("/tickets", data={**data, "client_token": "surfaces-1"})
    assert step.status_code == 200 and "Did one of these answer your question?" in step.text
    assert "How to read your invoice" in step.text and ticket_count(db) == 0
    answer.confident = False
    filed = kb_client.post("/tickets", data={**data, "client_token": "surfaces-2"})
    assert filed.status_code == 303 and ticket_count(db) == 1
    assert "How to read your invoice" not in kb_client.get(filed.location).text


# ---- The help center's search -----------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "live search"])
def test_search_says_no_article_matches_well_above_the_closest_ones(kb_client, answer, htmx):
    headers = {"Accept-Language": "en", **({"HX-Request": "true"} if htmx else {})}
    answer.confident = False
    weak = kb_client.get("/kb/search?q=strange+charge", headers=headers).text
    assert WEAK_SEARCH in weak and CLOSEST in weak
    assert weak.index(WEAK_SEARCH) < weak.index(CLOSEST) < weak.index("How to read your invoice")
    answer.confident = True
    good = kb_client.get("/kb/search?q=strange+charge", headers=headers).text
    assert "How to read your invoice" in good and WEAK_SEARCH not in good and CLOSEST not in good


def test_search_says_it_in_spanish_too(kb_client, answer):
    answer.confident = False
    page = kb_client.get("/kb/search?q=cargo+raro", headers={"Accept-Language": "es"}).text
    assert "Ningún artículo responde bien a tu búsqueda." in page
    assert "Estos son los artículos más parecidos que tenemos:" in page


# ---- The API ----------------------------------------------------------------------------------------------


def test_the_api_says_whether_it_is_confident(kb_client, answer):
    answer.confident = False
    weak = kb_client.get("/api/v1/kb/search?q=strange+charge").get_json()
    assert weak["confident"] is False
    assert set(weak) == {"query", "total", "suggestion", "confident", "results"}
    assert [result["title"] for result in weak["results"]] == ["How to read your invoice"]
    answer.confident = True
    assert kb_client.get("/api/v1/kb/search?q=strange+charge").get_json()["confident"] is True


def test_the_api_document_describes_confident(kb_client):
    schema = kb_client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["KbSearchResults"]
    assert "confident" in schema["required"] and schema["properties"]["confident"]["type"] == "boolean"


# ---- Agents -----------------------------------------------------------------------------------------------


def find_article(client, ticket, query="invoice"):
    data = {"body": "", "visibility": "public", "submit_as": "", "version": str(ticket.version),
            "action": "articles", "article_query": query}
    return client.post(f"/agent/tickets/{ticket.ref}/messages", data=data, headers={"HX-Request": "true"})


def test_find_article_notes_weak_matches(kb_app, make, alice, agnes, answer):
    client = kb_app.test_client()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    answer.confident = False
    weak = find_article(client, ticket)
    assert "How to read your invoice" in weak.text and "Weak matches" in weak.text
    answer.confident = True
    good = find_article(client, ticket)
    assert "How to read your invoice" in good.text and "Weak matches" not in good.text


def open_draft_editor(client, make, alice, agnes) -> str:
    """A solved ticket made into an article draft; the editor's URL."""
    ticket = make.ticket(requester=alice, subject="Strange charge on my bill", status="solved", assignee=agnes)
    created = client.post(f"/agent/tickets/{ticket.ref}/article")
    assert created.status_code == 303, created.text
    return created.location


def test_the_similar_articles_check_notes_weak_matches(kb_client, make, alice, agnes, answer):
    login(kb_client, agnes)
    editor = open_draft_editor(kb_client, make, alice, agnes)
    answer.confident = False
    weak = kb_client.get(editor).text
    assert "Similar articles" in weak and "How to read your invoice" in weak and "Weak matches" in weak
    answer.confident = True
    good = kb_client.get(editor).text
    assert "How to read your invoice" in good and "Weak matches" not in good


# ---- The article's language -------------------------------------------------------------------------------


def test_search_results_name_the_language_of_articles_in_the_other_language(kb_client, answer):
    answer.hits = [INVOICE, FACTURA]
    english_reader = kb_client.get("/kb/search?q=invoice", headers={"Accept-Language": "en"}).text
    assert LANGUAGE_LABEL not in item(english_reader, "How to read your invoice")
    assert ">Spanish</span>" in item(english_reader, "Cómo leer tu factura")
    spanish_reader = kb_client.get("/kb/search?q=factura", headers={"Accept-Language": "es",
                                                                        "HX-Request": "true"}).text
    assert ">Inglés</span>" in item(spanish_reader, "How to read your invoice")
    assert LANGUAGE_LABEL not in item(spanish_reader, "Cómo leer tu factura")


def test_new_ticket_suggestions_tell_a_spanish_customer_which_articles_are_in_english(kb_client, make, answer):
    login(kb_client, make.user(email="maria@example.com", locale="es"))
    answer.hits = [FACTURA, INVOICE]
    fragment = kb_client.post("/tickets/suggestions", data=NEW_TICKET, headers={"HX-Request": "true"}).text
    assert ">Inglés</span>" in item(fragment, "How to read your invoice")
    assert LANGUAGE_LABEL not in item(fragment, "Cómo leer tu factura")


def test_find_article_names_the_language_of_articles_in_the_other_language(kb_app, make, alice, agnes, answer):
    client = kb_app.test_client()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    answer.hits = [INVOICE, FACTURA]
    found = find_article(client, ticket).text
    assert ">Spanish</span>" in item(found, "Cómo leer tu factura")
    assert LANGUAGE_LABEL not in item(found, "How to read your invoice")


# ---- One search for all ---------------------------------------------------------------------------------


def test_every_surface_searches_through_the_shared_service(kb_app, make, alice, agnes, answer):
    """The help center, live search, the API, new-ticket suggestions (live and on filing), the agents' "Find
    article" and the similar-articles check: none bypasses `kb_search.search_articles`."""
    visitor, customer, agent = kb_app.test_client(), kb_app.test_client(), kb_app.test_client()
    login(customer, alice)
    login(agent, agnes)
    ticket = make.ticket(requester=alice)

    def searched(make_request) -> list[str]:
        answer.calls.clear()
        make_request()
        return [call["query"] for call in answer.calls]

    assert searched(lambda: visitor.get("/kb/search?q=invoice")) == ["invoice"]
    assert searched(lambda: visitor.get("/kb/search?q=invoice", headers={"HX-Request": "true"})) == ["invoice"]
    assert searched(lambda: visitor.get("/api/v1/kb/search?q=invoice")) == ["invoice"]
    query = f"{NEW_TICKET['subject']} {NEW_TICKET['description']}"
    assert searched(lambda: customer.post("/tickets/suggestions", data=NEW_TICKET,
                                          headers={"HX-Request": "true"})) == [query]
    assert searched(lambda: customer.post("/tickets", data={"priority": "normal", "language": "en",
                                                            "client_token": "spy", **NEW_TICKET})) == [query]
    assert searched(lambda: find_article(agent, ticket, "invoice")) == ["invoice"]
    editor = open_draft_editor(agent, make, alice, agnes)
    assert len(searched(lambda: agent.get(editor))) == 1
