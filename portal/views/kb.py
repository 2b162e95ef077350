"""The help center: `/kb` (sections, popular, recent), `/kb/search` (full page, or the results fragment for
htmx live search), article pages and "Was this helpful?" votes."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from portal.articles import SUPPORTED_LANGUAGES, article_url, path_from_url
from portal.clock import utcnow
from portal.extensions import db_session
from portal.integers import whole_number
from portal.markdown_render import render_article
from portal.search import MAX_QUERY_CHARS, QueryTooLong, SearchResults
from portal.services import kb, kb_search
from portal.views import kb_front
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.input_bounds import query_int
from portal.views.kb_access import kb_dir, kb_index, visitor_id

bp = Blueprint("kb", __name__)

PER_PAGE = 10
LISTED = 5


class VoteForm(FlaskForm):
    helpful = HiddenField(validators=[DataRequired(), AnyOf(["yes", "no"])])
    comment = TextAreaField(_l("What was missing?"), validators=[Length(max=kb.MAX_COMMENT)])


def _actor():
    return current_user if current_user.is_authenticated else None


def _lang() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def init_app(app) -> None:
    kb_front.init_app(app)


@bp.get("/kb")
def index() -> str:
    """The help center's home: the search hero, the sections as cards, promoted, popular and recent articles."""
    statuses = kb.visible_statuses(_actor())
    recent = kb_index().recent(_lang(), limit=LISTED, visible_statuses=statuses)
    return render_template("kb/index.html", recent=recent, **kb_front.front_door(_actor()))


@bp.get("/kb/search")
def search() -> Response:
    """The same URL serves the page (no JavaScript) and the live-search fragment (HX-Request)."""
    query = request.args.get("q", "").strip()
    only_lang = request.args.get("lang") if request.args.get("lang") in SUPPORTED_LANGUAGES else None
    section = request.args.get("section", "").strip() or None
    page = query_int("page", 1)
    results, error, search_id, status, other_languages = None, None, None, 200, 0
    if query:
        try:
            results = kb_search.search_articles(db_session(), kb_index(), query, lang=_lang(), actor=_actor(),
                                                only_lang=only_lang, section=section, page=page, per_page=PER_PAGE)
        except QueryTooLong:
            error, status = _("Please shorten your search to %(count)d characters or fewer.",
                              count=MAX_QUERY_CHARS), 400
    elif section:
        results, other_languages = _section_listing(section, page, every_language=request.args.get("all") == "1")
    if results is not None and query and page == 1:
        search_id = kb.log_search(db_session(), query=query, lang=_lang(), result_count=results.total,
                                  actor=_actor(), visitor_id=visitor_id(), now=utcnow())
        db_session().commit()
    context = {"query": query, "results": results, "error": error, "search_id": search_id, "only_lang": only_lang,
               "section": section, "languages": SUPPORTED_LANGUAGES, "other_languages": other_languages}
    if is_htmx():
        # htmx leaves 4xx answers unswapped: the fragment says what is wrong with a 200.
        return vary_on_htmx(make_response(render_template("kb/_results.html", **context), 200))
    return vary_on_htmx(make_response(render_template("kb/search.html", **context), status))


@bp.get("/kb/<path:article_path>")
def article(article_path: str) -> str:
    actor, statuses = _actor(), kb.visible_statuses(_actor())
    current = kb.get_article(kb_dir(), path_from_url(article_path), actor=actor,
                             default_lang=current_app.config["DEFAULT_LANGUAGE"])
    search_index = kb_index()
    translations = [hit for hit in search_index.articles(translation_keys=[current.translation_key],
                                                          visible_statuses=statuses) if hit.path != current.path]
    kb.record_view(db_session(), article=current, actor=actor, visitor_id=visitor_id(),
                   search_id=whole_number(request.args.get("from"), minimum=1), now=utcnow())
    db_session().commit()
    return render_template(
        "kb/article.html",
        article=current,
        rendered=render_article(current),
        translations=translations,
        related=_related(current, statuses),
        vote=kb.current_vote(db_session(), path=current.path, actor=actor, visitor_id=visitor_id()),
        form=VoteForm(),
        url=article_url(current),
    )


@bp.post("/kb/<path:article_path>/vote")
def vote(article_path: str) -> Response:
    """"Was this helpful? Yes / No", with an optional "what was missing?"; voting again changes the vote."""
    actor = _actor()
    current = kb.get_article(kb_dir(), path_from_url(article_path), actor=actor,
                             default_lang=current_app.config["DEFAULT_LANGUAGE"])
    form = VoteForm()
    if not form.validate_on_submit():
        if is_htmx():
            return make_response(render_template("kb/_vote.html", article=current, url=article_url(current),
                                                 form=form, vote=None), 422)
        flash(_("Please choose Yes or No."), "error")
        return redirect(article_url(current) + "#kb-feedback", 303)
    saved = kb.vote(db_session(), article=current, helpful=form.helpful.data == "yes", comment=form.comment.data,
                    actor=actor, visitor_id=visitor_id(), now=utcnow())
    db_session().commit()
    if is_htmx():
        return make_response(render_template("kb/_vote.html", article=current, url=article_url(current),
                                             form=VoteForm(formdata=None), vote=saved, just_voted=True))
    flash(_("Thank you for your feedback."))
    return redirect(article_url(current) + "#kb-feedback", 303)


def _section_listing(section: str, page: int, *, every_language: bool) -> tuple[SearchResults, int]:
    """A section's articles in the reader's language, most recently updated first (browsing without a
    query), and how many more the section has in other languages (the page offers them with a link)."""
    statuses = kb.visible_statuses(_actor())
    hits = kb_index().recent(None, limit=1000, section=section, visible_statuses=statuses)
    mine = hits if every_language else [hit for hit in hits if hit.lang == _lang()]
    shown = mine[(page - 1) * PER_PAGE : page * PER_PAGE]
    listing = SearchResults(query="", total=len(mine), suggestion=None, hits=shown, page=page, per_page=PER_PAGE)
    return listing, len(hits) - len(mine)


def _related(current, statuses) -> list:
    """Front matter `related`: translation keys (or paths), shown in the article's language when possible."""
    if not current.related:
        return []
    hits = kb_index().articles(paths=current.related, translation_keys=current.related, visible_statuses=statuses)
    chosen: dict[str, object] = {}
    for hit in sorted(hits, key=lambda hit: hit.lang != current.lang):
        key = hit.translation_key or hit.path
        if key not in chosen and hit.path != current.path:
            chosen[key] = hit
    return list(chosen.values())
