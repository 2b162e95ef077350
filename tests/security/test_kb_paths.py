"""Files that are not articles are never served: the article pages and the API answer 200 for exactly the articles
the search index holds as visible to the reader, and 404 for everything else in the KB folder (drafts and internal
folders, notices, other file types, links out of the folder) and for every trick of the URL.

The KB is a temporary folder built here; nothing is written into the project's kb_articles/."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest

from portal.articles import article_url
from tests.conftest import login

PUBLISHED = {
    "en/billing/invoice.md", "es/facturacion/factura.md", "guides/no-language-folder.md", "en/README.md",
    "en/long-name.markdown", "en/Upper.MD", "en/odd 100%41 & more.md",
}
INTERNAL = {"en/agents-only.md"}
HIDDEN = {
    "_drafts/x.md", "en/_internal/x.md", "en/_underscore.md", "en/.hidden/x.md", ".dotted.md", "README.md",
    "LICENSE.md", "en/draft-flag.md", "en/unpublished.md", "en/status-draft.md", "en/archived.md",
    "en/unknown-status.md", "en/notes.txt", "en/back\\slash.md", "en/outside-link.md", "en/draft-link.md",
    "en/linked-folder/x.md", "en/linked-folder/invoice.md",
}
FRONT_MATTER = {
    "en/agents-only.md": "status: internal", "en/draft-flag.md": "draft: true",
    "en/unpublished.md": "published: false", "en/status-draft.md": "status: draft",
    "en/archived.md": "status: archived", "en/unknown-status.md": "status: secret",
}
SECRET = "NOT-FOR-READERS"


def _article(title: str, meta: str, body: str) -> str:
    return f"---\ntitle: {title}\n{meta}\n---\n\n{body}\n"


@pytest.fixture
def kb_folder(tmp_path) -> Path:
    kb = tmp_path / "kb"
    for path in PUBLISHED | INTERNAL | HIDDEN:
        if path in {"en/outside-link.md", "en/draft-link.md"} or path.startswith("en/linked-folder/"):
            continue
        file = kb / path
        file.parent.mkdir(parents=True, exist_ok=True)
        shown = path in PUBLISHED or path in INTERNAL
        file.write_text(_article(f"Article {path}", FRONT_MATTER.get(path, "status: published"),
                                 f"Words about invoices. {'Shown' if shown else SECRET} text."), encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(_article("Outside", "", f"Invoices {SECRET}"), encoding="utf-8")
    (outside / "invoice.md").write_text(_article("Outside", "", f"Invoices {SECRET}"), encoding="utf-8")
    os.symlink(outside / "secret.md", kb / "en" / "outside-link.md")
    os.symlink(Path("..") / "_drafts" / "x.md", kb / "en" / "draft-link.md")
    os.symlink(outside, kb / "en" / "linked-folder")
    os.symlink(outside / "invoice.md", kb / "en" / "linked-folder-invoice.md.lnk")
    return kb


@pytest.fixture
def app_config(tmp_path, kb_folder):
    return {"ATTACHMENTS_DIR": str(tmp_path / "files"), "KB_DIR": str(kb_folder), "KB_SYNC_INTERVAL": 0}


def indexed(app, statuses: tuple[str, ...]) -> set[str]:
    from portal.views.kb_access import kb_index

    with app.app_context():
        return {hit.path for hit in kb_index(app).recent(None, limit=1000, visible_statuses=statuses)}


def every_path_in(kb: Path) -> set[str]:
    """Everything under the folder, links and folders included, as the path an attacker would ask for."""
    found = set()
    for folder, folders, files in os.walk(kb):
        for name in folders + files:
            found.add(Path(folder, name).relative_to(kb).as_posix())
    return found | HIDDEN | PUBLISHED | INTERNAL


def test_the_index_holds_the_articles_and_nothing_else(app):
    assert indexed(app, ("published",)) == PUBLISHED
    assert indexed(app, ("published", "internal")) == PUBLISHED | INTERNAL


@pytest.mark.parametrize("reader", ["visitor", "customer", "agent"])
def test_pages_and_api_serve_exactly_what_the_index_shows_the_reader(app, make, kb_folder, reader):
    client = app.test_client()
    if reader != "visitor":
        login(client, make.user(role="customer" if reader == "customer" else "agent"))
    on_pages = indexed(app, ("published", "internal") if reader == "agent" else ("published",))
    in_api = indexed(app, ("published",))  # the API is public: no internal article, whoever asks
    for path in sorted(every_path_in(kb_folder)):
        page = client.get(article_url(path))
        api = client.get("/api/v1/kb/articles/" + "/".join(quote(part, safe="") for part in path.split("/")))
        assert page.status_code == (200 if path in on_pages else 404), (reader, path, page.status_code)
        assert api.status_code == (200 if path in in_api else 404), (reader, path, api.status_code)
        assert SECRET not in page.text and SECRET not in api.text, path


@pytest.mark.parametrize("url", [
    "/kb/_drafts/x", "/kb/en/_internal/x", "/kb/en/billing/../../_drafts/x", "/kb/en/%2e%2e/_drafts/x",
    "/kb/en/..%2F_drafts/x", "/kb/_drafts%2Fx", "/kb/_drafts%252Fx", "/kb/%5Fdrafts/x", "/kb/%255Fdrafts/x",
    "/kb/en/billing/..%252F..%252F_drafts/x", "/kb/en\\..\\_drafts\\x", "/kb/en%5C..%5C_drafts%5Cx",
    "/kb/EN/billing/invoice", "/kb/en/billing/INVOICE", "/kb/en/billing/invoice.MD", "/kb/en/billing/invoice.markdown",
    "/kb/en/billing/invoice.md.md", "/kb/en/billing/invoice%00", "/kb/en/billing/invoice.md%00.txt",
    "/kb/en//billing/invoice", "/kb/./en/billing/invoice", "/kb/en/billing/./invoice", "/kb/en/notes.txt",
    "/kb/en/notes", "/kb/en/outside-link", "/kb/en/draft-link", "/kb/en/linked-folder/x",
    "/kb/en/linked-folder/invoice", "/kb/en/linked-folder-invoice.md.lnk", "/kb/" + "a/" * 300 + "x",
    "/kb/%2Fetc%2Fpasswd", "/kb//etc/passwd", "/kb/~/x", "/kb/en/agents-only.md/..",
])
def test_path_tricks_are_not_found(client, url):
    for candidate in (url, url.replace("/kb/", "/api/v1/kb/articles/", 1) + ".md"):
        response = client.get(candidate, follow_redirects=True)  # the router's merged slashes redirect first
        assert response.status_code == 404, (candidate, response.status_code)
        assert SECRET not in response.text


def test_a_vote_on_a_file_that_is_not_an_article_is_not_found(client):
    assert client.post("/kb/_drafts/x/vote", data={"helpful": "yes"}).status_code == 404
    assert client.post("/kb/en/billing/invoice/vote", data={"helpful": "yes"}).status_code in (200, 303)


def test_internal_articles_keep_working_for_agents_only(app, make):
    agent, customer, visitor = app.test_client(), app.test_client(), app.test_client()
    login(agent, make.user(role="agent"))
    login(customer, make.user(role="customer"))
    assert agent.get("/kb/en/agents-only").status_code == 200
    assert "Article en/agents-only.md" in agent.get("/kb/search?q=invoices").text
    for reader in (customer, visitor):
        assert reader.get("/kb/en/agents-only").status_code == 404
        assert "agents-only" not in reader.get("/kb/search?q=invoices").text
    assert agent.get("/api/v1/kb/articles/en/agents-only.md").status_code == 404
