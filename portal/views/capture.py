"""Knowledge capture for agents: article drafts from tickets, the Markdown editor with live preview, review
and publishing, editing and translating published articles, and the content-gaps report (`/agent/knowledge`)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.articles import AGENT_STATUSES, SUPPORTED_LANGUAGES, article_url
from portal.clock import utcnow
from portal.errors import Conflict, DomainError, Invalid
from portal.extensions import db_session
from portal.markdown_render import render_markdown
from portal.search import QueryTooLong
from portal.services import capture, content_gaps, kb_search, publishing, tickets
from portal.services.publishing import KbTarget, PublishFailed
from portal.views.access import admin_required, agent_required
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.kb_access import articles_by_path, kb_index

bp = Blueprint("capture", __name__, url_prefix="/agent")

LANGUAGE_CHOICES = [SelectChoice("en", _l("English")), SelectChoice("es", _l("Spanish"))]
SIMILAR = 5


class DraftForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=capture.TITLE_MAX)])
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=capture.SUMMARY_MAX)])
    body = TextAreaField(_l("Article (Markdown)"), validators=[Length(max=capture.BODY_MAX)])
    section = StringField(_l("Section"), validators=[DataRequired(), Length(max=publishing.SECTION_MAX)])
    lang = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    tags = StringField(_l("Tags (comma separated)"), validators=[Optional(), Length(max=500)])


class ActionForm(FlaskForm):
    """Buttons that only post (publish, archive, translate …): the CSRF token is all they carry."""


class SendBackForm(FlaskForm):
    comment = TextAreaField(_l("What should change?"), validators=[DataRequired(), Length(max=2000)])


class AppendForm(FlaskForm):
    path = HiddenField()


class GapDraftForm(FlaskForm):
    query = HiddenField()
    refs = HiddenField()
    lang = HiddenField()


class SectionReviewForm(FlaskForm):
    section = StringField(_l("Section"), validators=[DataRequired(), Length(max=publishing.SECTION_MAX)])
    review_required = BooleanField(_l("Review before publishing"))


def init_app(app) -> None:
    @app.context_processor
    def _capture_helpers() -> dict[str, object]:
        # `templates/agent/_capture_button.html` asks which drafts and articles a ticket became.
        return {"capture_drafts_for": lambda ticket: capture.drafts_for_ticket(db_session(), ticket)}


def _target() -> KbTarget:
    from portal.views.kb_access import index_now

    def unindex(path: str) -> None:
        kb_index().remove(path)

    return KbTarget(kb_dir=Path(current_app.config["KB_DIR"]), default_lang=current_app.config["DEFAULT_LANGUAGE"],
                    index=index_now, unindex=unindex, git_commit=bool(current_app.config.get("KB_GIT_COMMIT")))


def _similar(draft) -> tuple[list, bool]:
    """Articles that may already cover the draft's problem (internal ones too); True when they match weakly."""
    query = " ".join(filter(None, [draft.title, " ".join(draft.tags)]))[:200]
    if not query.strip():
        return [], False
    try:
        results = kb_search.search_articles(db_session(), kb_index(), query, lang=draft.lang, actor=current_user,
                                            per_page=SIMILAR + 1, visible_statuses=AGENT_STATUSES)
    except QueryTooLong:
        return [], False
    hits = [hit for hit in results.hits if hit.path != draft.published_path][:SIMILAR]
    return hits, bool(hits) and not results.confident


def _original(draft) -> tuple | None:
    if not draft.translation_of_path:
        return None
    try:
        article, _body = capture.article_for_agent(draft.translation_of_path, target=_target())
    except DomainError:
        return None
    return article, render_markdown(article.body, lang=article.lang)


def _draft_form(draft) -> DraftForm:
    """The editor's form filled from the saved draft (not from the request)."""
    form = DraftForm(formdata=None, obj=draft)
    form.tags.data = ", ".join(draft.tags)
    return form


def _editor(draft, form: DraftForm | None = None, *, error: str | None = None, status: int = 200):
    form = form or _draft_form(draft)
    similar, similar_weak = _similar(draft) if draft.is_open else ([], False)
    return render_template(
        "agent/draft_edit.html", draft=draft, form=form, action_form=ActionForm(), send_back_form=SendBackForm(),
        append_form=AppendForm(), preview=render_markdown(form.body.data or "", lang=draft.lang),
        similar=similar, similar_weak=similar_weak, original=_original(draft), error=error,
        review_required=capture.review_required(db_session(), draft.section),
        can_approve=capture.can_approve(draft, current_user), article_url=article_url,
    ), status


# ---- From a ticket --------------------------------------------------------------------------------------


@bp.post("/tickets/<ref>/article")
@agent_required
def create_from_ticket(ref: str) -> Response:
    ActionForm().validate_on_submit()
    ticket = tickets.get_for(db_session(), ref, actor=current_user)
    draft = capture.draft_from_ticket(db_session(), ticket, actor=current_user, now=utcnow())
    db_session().commit()
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


# ---- Drafts ---------------------------------------------------------------------------------------------


@bp.get("/drafts")
@agent_required
def drafts() -> str:
    scope = "all" if request.args.get("scope") == "all" else "mine"
    state = request.args.get("state", "open")
    states = {"open": ("draft", "in_review"), "in_review": ("in_review",), "published": ("published",),
              "archived": ("archived",)}.get(state, ("draft", "in_review"))
    items = capture.list_drafts(db_session(), actor=current_user, mine=scope == "mine", states=states)
    return render_template("agent/drafts.html", drafts=items, scope=scope, state=state)


@bp.get("/drafts/<int:draft_id>")
@agent_required
def edit(draft_id: int):
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    return _editor(draft)


@bp.post("/drafts/<int:draft_id>")
@agent_required
def save(draft_id: int):
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    form = DraftForm()
    if not form.validate_on_submit():
        return _editor(draft, form, status=422)
    try:
        _save(draft, form)
    except Invalid as exc:
        db_session().rollback()
        return _editor(capture.get_draft(db_session(), draft_id, actor=current_user), form,
                       error=translate_domain_message(exc), status=422)
    db_session().commit()
    flash(_("Draft saved."))
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


def _save(draft, form: DraftForm) -> None:
    capture.save_draft(db_session(), draft, title=form.title.data, body=form.body.data or "",
                       section=form.section.data, lang=form.lang.data, tags=form.tags.data or "",
                       summary=form.summary.data or "", actor=current_user, now=utcnow())


@bp.post("/drafts/<int:draft_id>/preview")
@agent_required
def preview(draft_id: int) -> Response:
    """The live preview (htmx, debounced): the public site's renderer and sanitiser."""
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    body = request.form.get("body", "")[: capture.BODY_MAX]
    lang = request.form.get("lang") if request.form.get("lang") in SUPPORTED_LANGUAGES else draft.lang
    html = render_template("agent/_draft_preview.html", preview=render_markdown(body, lang=lang), lang=lang)
    if is_htmx():
        return vary_on_htmx(current_app.make_response(html))
    return _editor(draft, DraftForm())


@bp.post("/drafts/<int:draft_id>/publish")
@agent_required
def publish(draft_id: int):
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    form = DraftForm()
    if "title" in request.form:  # the editor's form: save what was typed, then publish it
        if not form.validate_on_submit():
            return _editor(draft, form, status=422)
        try:
            _save(draft, form)
        except Invalid as exc:
            db_session().rollback()
            return _editor(capture.get_draft(db_session(), draft_id, actor=current_user), form,
                           error=translate_domain_message(exc), status=422)
    try:
        state = capture.publish_draft(db_session(), draft, target=_target(), actor=current_user, now=utcnow())
    except Invalid as exc:
        db_session().rollback()
        draft = capture.get_draft(db_session(), draft_id, actor=current_user)
        return _editor(draft, form if "title" in request.form else _draft_form(draft),
                       error=translate_domain_message(exc), status=422)
    except (PublishFailed, Conflict) as exc:
        # Nothing reached the folder or the index; what the agent typed is kept in the draft.
        db_session().commit()
        return _editor(draft, _draft_form(draft), error=translate_domain_message(exc), status=exc.status_code)
    db_session().commit()
    if state == "in_review":
        flash(_("Sent for review. Another agent or an administrator will publish it."))
        return redirect(url_for("capture.edit", draft_id=draft.id), 303)
    flash(_("Published. Customers can find it now."))
    return redirect(url_for("capture.article", path=draft.published_path), 303)


@bp.post("/drafts/<int:draft_id>/send-back")
@agent_required
def send_back(draft_id: int):
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    form = SendBackForm()
    if not form.validate_on_submit():
        return _editor(draft, error=_("Tell the author what to change."), status=422)
    capture.send_back(db_session(), draft, comment=form.comment.data, actor=current_user, now=utcnow())
    db_session().commit()
    flash(_("Sent back to the author with your comment."))
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


@bp.post("/drafts/<int:draft_id>/append")
@agent_required
def append(draft_id: int) -> Response:
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    form = AppendForm()
    form.validate_on_submit()
    capture.choose_append_target(db_session(), draft, form.path.data or None, target=_target(),
                                 actor=current_user, now=utcnow())
    db_session().commit()
    if draft.append_to_path:
        flash(_("Publishing will add the solution to the chosen article as a new section."))
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


@bp.post("/drafts/<int:draft_id>/archive")
@agent_required
def archive_draft(draft_id: int) -> Response:
    ActionForm().validate_on_submit()
    draft = capture.get_draft(db_session(), draft_id, actor=current_user)
    capture.archive_draft(db_session(), draft, actor=current_user, now=utcnow())
    db_session().commit()
    flash(_("Draft discarded."))
    return redirect(url_for("capture.drafts"), 303)


# ---- Published articles ---------------------------------------------------------------------------------


@bp.get("/articles/<path:path>")
@agent_required
def article(path: str) -> str:
    target = _target()
    found, _body = capture.article_for_agent(path, target=target)
    session = db_session()
    return render_template(
        "agent/article.html", article=found, rendered=render_markdown(found.body, lang=found.lang),
        action_form=ActionForm(), revisions=capture.revisions_for(session, found.path),
        source_tickets=capture.source_ticket_list(session, found.source_tickets),
        sent_in=capture.tickets_sent_in(session, found.path), public_url=article_url(found),
    )


@bp.post("/articles/<path:path>/edit")
@agent_required
def edit_article(path: str) -> Response:
    ActionForm().validate_on_submit()
    draft = capture.edit_published(db_session(), path, target=_target(), actor=current_user, now=utcnow())
    db_session().commit()
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


@bp.post("/articles/<path:path>/translate")
@agent_required
def translate(path: str) -> Response:
    ActionForm().validate_on_submit()
    draft = capture.translate(db_session(), path, target=_target(), actor=current_user, now=utcnow())
    db_session().commit()
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


@bp.post("/articles/<path:path>/status/<change>")
@agent_required
def article_status(path: str, change: str) -> Response:
    ActionForm().validate_on_submit()
    try:
        found = capture.change_article_status(db_session(), path, change, target=_target(), actor=current_user,
                                              now=utcnow())
    except PublishFailed as exc:
        db_session().rollback()
        flash(translate_domain_message(exc) or "", "error")
        return redirect(url_for("capture.article", path=path), 303)
    db_session().commit()
    flash({"archive": _("Archived: customers no longer see it."), "unpublish": _("Unpublished."),
           "republish": _("Published again.")}[change])
    return redirect(url_for("capture.article", path=found.path), 303)


# ---- Content gaps ---------------------------------------------------------------------------------------


@bp.get("/knowledge")
@agent_required
def knowledge() -> str:
    days = request.args.get("days", 30, type=int)
    days = days if days in content_gaps.PERIODS else 30
    lang = request.args.get("lang") if request.args.get("lang") in SUPPORTED_LANGUAGES else None
    since = content_gaps.since_for(days, utcnow())
    session = db_session()
    disputed = content_gaps.articles_voted_unhelpful(session, since=since)
    read_then_filed = content_gaps.articles_read_before_tickets(session, since=since, lang=lang)
    return render_template(
        "agent/knowledge.html", days=days, lang=lang, periods=content_gaps.PERIODS,
        no_results=content_gaps.searches_without_results(session, since=since, lang=lang),
        no_clicks=content_gaps.searches_without_clicks(session, since=since, lang=lang),
        ticket_groups=content_gaps.tickets_after_suggestions(session, since=since, lang=lang),
        disputed=disputed, read_then_filed=read_then_filed,
        articles=articles_by_path([e.path for e in disputed] + [e.path for e in read_then_filed]),
        gap_form=GapDraftForm(),
        section_form=SectionReviewForm(), section_reviews=capture.section_reviews(session),
    )


@bp.post("/knowledge/draft")
@agent_required
def draft_from_gap() -> Response:
    form = GapDraftForm()
    form.validate_on_submit()
    refs = [ref for ref in (form.refs.data or "").split(",") if ref.strip()][:20]
    found = [tickets.get_for(db_session(), ref.strip(), actor=current_user) for ref in refs]
    draft = capture.draft_from_gap(db_session(), query=(form.query.data or "")[:200], tickets=found,
                                   lang=form.lang.data or current_app.config["DEFAULT_LANGUAGE"],
                                   actor=current_user, now=utcnow())
    db_session().commit()
    return redirect(url_for("capture.edit", draft_id=draft.id), 303)


@bp.post("/knowledge/sections")
@admin_required
def section_review() -> Response:
    form = SectionReviewForm()
    if form.validate_on_submit():
        capture.set_section_review(db_session(), form.section.data.strip(), bool(form.review_required.data),
                                   actor=current_user, now=utcnow())
        db_session().commit()
        flash(_("Review setting saved."))
    else:
        flash(_("Name a section."), "error")
    return redirect(url_for("capture.knowledge"), 303)
