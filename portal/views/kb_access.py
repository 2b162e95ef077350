"""The app's one `KbIndex`, and the visitor's anonymous id: the KB's glue between Flask and the search."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from urllib.parse import unquote

from flask import Flask, current_app, session

from portal.articles import Article, path_from_url
from portal.search import KbIndex

_lock = threading.Lock()
VISITOR_KEY = "visitor_id"
# Seconds between two checks of the KB folder per worker: a saved article is searchable within about
# this plus the time to index it (0.2–0.4 s at 10,000 articles), i.e. within a second.
SYNC_INTERVAL = 0.5


def kb_index(app: Flask | None = None) -> KbIndex:
    """This app's index (`app.extensions["kb_index"]`): built or synced on first use, then kept fresh by a
    throttled check (`KB_SYNC_INTERVAL` seconds, default 0.5) so a new or changed file is found without a
    restart."""
    app = app or current_app._get_current_object()
    index = app.extensions.get("kb_index")
    if index is None:
        with _lock:
            index = app.extensions.get("kb_index")
            if index is None:
                index = KbIndex(app.config["KB_INDEX_DIR"], app.config["KB_DIR"], app.config["DEFAULT_LANGUAGE"])
                index.ensure()
                app.extensions["kb_index"] = index
    index.refresh(interval=float(app.config.get("KB_SYNC_INTERVAL", SYNC_INTERVAL)))
    return index


def index_now(article: Article) -> None:
    """For code that publishes an article: make it searchable at once, in every worker."""
    kb_index().index_article(article)


def kb_dir() -> Path:
    return Path(current_app.config["KB_DIR"])


def visitor_id() -> str:
    """A random id kept in the visitor's session: votes and analytics without personal data."""
    if VISITOR_KEY not in session:
        session[VISITOR_KEY] = secrets.token_urlsafe(16)
    return session[VISITOR_KEY]


def articles_by_path(paths) -> dict[str, object]:
    """The index's entries (title, url, language) for these article paths, in one look-up: lists of paths
    (most viewed, sent in replies, content gaps) show titles. Archived and draft ones are included, for
    agents: a path that names nothing any more is simply absent."""
    # A link's path (`en/billing/refunds`, as replies store it) and a file's path name the same article.
    wanted = {p: path_from_url(unquote(p)) for p in paths if p}
    if not wanted:
        return {}
    hits = kb_index().articles(paths=sorted(set(wanted.values())),
                               visible_statuses=("published", "internal", "draft", "archived"))
    by_file = {hit.path: hit for hit in hits}
    return {given: by_file[file] for given, file in wanted.items() if file in by_file}
