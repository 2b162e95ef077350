"""What the two front doors show, the home page (`/`) and the help center's (`/kb`): the search hero, the
sections as cards, promoted and popular articles, and the way to contact us. Both pages call `front_door()`."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app
from flask_babel import get_locale

from portal.clock import utcnow
from portal.extensions import db_session
from portal.services import kb, kb_front
from portal.services.kept import Kept
from portal.views.kb_access import kb_index

LISTED = 5
# Views are counted on every article page: a commit must not empty the list each time, so it is only kept for a
# minute (no watched classes). A minute late is fine for "popular".
POPULAR_MAX_AGE = timedelta(minutes=1)


def init_app(app: Flask) -> None:
    app.extensions["kb_popular"] = Kept(POPULAR_MAX_AGE, ())


def reader_lang() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def front_door(actor) -> dict[str, object]:
    lang, statuses, index, now = reader_lang(), kb.visible_statuses(actor), kb_index(), utcnow()
    paths = current_app.extensions["kb_popular"].get(
        (lang, kb_front.month_start(now)),
        lambda: kb_front.popular_paths(db_session(), lang=lang, now=now, limit=LISTED), now=now)
    return {
        "cards": kb_front.section_cards(index, lang, statuses),
        "promoted": index.promoted(lang, limit=LISTED, visible_statuses=statuses),
        "popular": kb_front.readable(index, paths, lang=lang, visible_statuses=statuses, limit=LISTED),
    }
