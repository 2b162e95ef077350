"""The customer's tickets: filing one (with matching articles first), following them, replying, reopening,
confirming, follow-ups, people in copy and attachments. Each view parses a form, calls one service and
commits once; what a customer may see is decided by `tickets.get_for`."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from portal.articles import PUBLIC_STATUSES
from portal.clock import utcnow
from portal.errors import DomainError, InvalidTransition
from portal.extensions import db_session
from portal.integers import whole_number
from portal.markdown_render import render_markdown
from portal.search import QueryTooLong, SearchResults
from portal.search.text_query import MAX_QUERY_CHARS
from portal.services import categories, customer_tickets, deflection, kb_search, ticket_ccs, tickets
from portal.services.attachments import AttachmentStore, Upload, delivery
from portal.status import Action, allowed_actions, customer_status
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.input_bounds import query_int
from portal.views.kb_access import kb_index
from portal.views.ticket_forms import (
    PRIORITY_LABELS,
    CcForm,
    ConfirmForm,
    DeflectForm,
    FollowUpForm,
    NewTicketForm,
    PreviewForm,
    ReopenForm,
    ReplyForm,
    new_ticket_form,
    new_token,
)

bp = Blueprint("tickets", __name__)

Page = str | Response | tuple[str, int]
SUGGESTIONS = 4
# What a customer may do, in their words, for "this is no longer possible; you can ..." messages.
ACTION_WORDS = {
    Action.CUSTOMER_REPLY: _l("reply"),
    Action.REOPEN: _l("reopen it"),
    Action.CONFIRM: _l("confirm the solution"),
    Action.FOLLOW_UP: _l("create a follow-up"),
}


bp.add_app_template_global(customer_status, "customer_label")
bp.add_app_template_global(PRIORITY_LABELS, "priority_labels")


# ---- Filing ------------------------------------------------------------------------------------------


@bp.get("/tickets/new")
@login_required
def new() -> Page:
    form = _new_form(formdata=None, data={"client_token": new_token(), "language": _lang(),
                                          "category": request.args.get("category", "")})
    return _new_page(form)


@bp.post("/tickets")
@login_required
def create() -> Page:
    """File the ticket; without JavaScript, matching articles are offered once first."""
    form = _new_form()
    earlier = tickets.by_client_token(db_session(), form.client_token.data, _me())
    if earlier is not None:
        return _already_filed(earlier)
    action = request.form.get("action", "file")
    if action == "refresh" or not form.validate_on_submit():
        form.client_token.data = form.client_token.data or new_token()
        return _new_page(form), (200 if action == "refresh" else 422)
    if action == "preview":
        return _new_page(form, preview=render_markdown(form.description.data, lang=_lang()))
    uploads = _uploads(form.attachments.data)
    if not uploads and form.suggestions_shown.data != "1":
        hits = _confident_hits(kb_suggestions(_query(form.subject.data, form.description.data)))
        if hits:
            form.suggestions_shown.data = "1"
            return _new_page(form, suggestions=hits, step=True)
    session = db_session()
    try:
        filed = tickets.create_ticket(
            session, requester=_me(), subject=form.subject.data, description=form.description.data,
            category=categories.get_active(session, _int(form.category.data)), priority=form.priority.data,
            language=form.language.data, field_values=form.custom_values(), client_token=form.client_token.data,
            uploads=uploads, store=_store(), actor=_me(), now=utcnow(),
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        if not _show_on_form(form, exc):
            raise
        return _new_page(form), exc.status_code
    except IntegrityError:  # the same form, sent twice at the same moment: the other request filed it
        session.rollback()
        earlier = tickets.by_client_token(session, form.client_token.data, _me())
        if earlier is None:
            raise
        return _already_filed(earlier)
    flash(_("Thank you! Your ticket %(ref)s is filed. We have sent you a confirmation e-mail.",
            ref=filed.ticket.ref), "success")
    return redirect(url_for("tickets.show", ref=filed.ticket.ref), 303)


def _already_filed(ticket) -> Response:
    flash(_("You had already sent this: here is your ticket %(ref)s.", ref=ticket.ref), "info")
    return redirect(url_for("tickets.show", ref=ticket.ref), 303)


def _new_form(**kwargs) -> NewTicketForm:
    selected = _int(request.form.get("category") if request.method == "POST" else request.args.get("category"))
    return new_ticket_form(categories.active_categories(db_session()), selected, lang=_lang(), **kwargs)


def _new_page(form: NewTicketForm, *, suggestions=None, step: bool = False, preview: str | None = None) -> str:
    return render_template("tickets/new.html", form=form, suggestions=suggestions, step=step, preview=preview,
                           max_mb=current_app.config["MAX_ATTACHMENT_MB"])


@bp.get("/tickets/new/fields")
@login_required
def category_fields() -> Response:
    """The custom fields of the chosen category (htmx swaps them in when the category changes)."""
    form = _new_form(formdata=None)
    return vary_on_htmx(Response(render_template("tickets/_category_fields.html", form=form)))


@bp.post("/tickets/preview")
@login_required
def preview() -> Response:
    """The Markdown of a description or reply as it will look (htmx)."""
    form = PreviewForm()
    text = (form.description.data or form.body.data or "") if form.validate_on_submit() else ""
    html = render_markdown(text, lang=_lang()) if text.strip() else ""
    return Response(render_template("tickets/_preview.html", preview=html))


@bp.route("/tickets/suggestions", methods=["GET", "POST"])
@login_required
def suggestions() -> Response:
    """Articles matching what the customer is typing: a fragment for htmx, else a page of its own. Weak matches
    are not offered: the customer is asked to tell us what happened instead."""
    values = request.form if request.method == "POST" else request.args
    query = _query(values.get("subject", ""), values.get("description", ""))
    results = kb_suggestions(query)
    weak_match = results is not None and bool(results.hits) and not results.confident
    template = "tickets/_suggestions.html" if is_htmx() else "tickets/suggestions.html"
    return vary_on_htmx(Response(render_template(template, suggestions=_confident_hits(results), query=query,
                                                 weak_match=weak_match, live=True,
                                                 typed_subject=values.get("subject", ""),
                                                 typed_description=values.get("description", ""))))


@bp.post("/tickets/deflect")
@login_required
def deflect() -> Response:
    """"This answered my question": remember it and end the attempt kindly. No ticket is filed."""
    form = DeflectForm()
    article = _article(form.article.data) if form.validate_on_submit() else None
    if article is None:
        abort(404)
    session = db_session()
    deflection.record(session, query=form.query.data or "", article_path=article.path,
                      category=_category_or_none(form.category.data), actor=_me(), now=utcnow())
    session.commit()
    if (form.subject.data or "").strip() or (form.description.data or "").strip():
        # the page itself, not a redirect: its "I still need help" carries the ticket being written back
        return render_template("tickets/deflected.html", article=article, still=form)
    return redirect(url_for("tickets.deflected", article=article.path), 303)


@bp.get("/tickets/answered")
@login_required
def deflected() -> str:
    return render_template("tickets/deflected.html", article=_article(request.args.get("article", "")))


# ---- Following tickets ------------------------------------------------------------------------------


@bp.get("/tickets")
@login_required
def index() -> str:
    status = request.args.get("status", "")
    status = status if status in customer_tickets.CUSTOMER_FILTERS else ""
    search = request.args.get("q", "").strip()[: customer_tickets.MAX_SEARCH]
    page = customer_tickets.list_for_customer(db_session(), _me(), status=status or None, search=search,
                                              page=query_int("page", 1))
    return render_template("tickets/index.html", page=page, status=status, search=search)


@bp.get("/tickets/<ref>")
@login_required
def show(ref: str) -> Page:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    page = _ticket_page(ticket)
    customer_tickets.mark_seen(session, ticket, _me(), now=utcnow())
    session.commit()  # the read marker: agent replies seen now are no longer marked unread
    return page


@bp.post("/tickets/<ref>/replies")
@login_required
def reply(ref: str) -> Page:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    form = ReplyForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, reply_form=form), 422
    if tickets.just_sent(session, ticket, body=form.body.data, author=_me(), now=utcnow(),
                         uploads=_uploads(form.attachments.data)) is not None:
        return _reply_added(ticket)  # the same reply sent twice (a double click): answered as the first
    try:
        tickets.customer_reply(session, ticket, body=form.body.data, uploads=_uploads(form.attachments.data),
                               store=_store(), actor=_me(), now=utcnow())
        session.commit()
    except InvalidTransition as exc:
        session.rollback()
        return _refused(ticket, exc, carried_text=form.body.data)
    except DomainError as exc:
        session.rollback()
        if not _show_on_form(form, exc):
            raise
        return _ticket_page(ticket, reply_form=form), exc.status_code
    return _reply_added(ticket)


def _reply_added(ticket) -> Response:
    flash(_("Your reply has been added."), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref, _anchor="latest"), 303)


@bp.post("/tickets/<ref>/reopen")
@login_required
def reopen(ref: str) -> Page:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    form = ReopenForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, reopen_form=form), 422
    try:
        tickets.reopen(session, ticket, reason=form.reason.data, actor=_me(), now=utcnow())
        session.commit()
    except InvalidTransition as exc:
        session.rollback()
        return _refused(ticket, exc)
    flash(_("Ticket reopened. We will get back to you."), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref), 303)


@bp.post("/tickets/<ref>/confirm")
@login_required
def confirm(ref: str) -> Page:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        tickets.confirm(session, ticket, actor=_me(), now=utcnow())
        session.commit()
    except InvalidTransition as exc:
        session.rollback()
        return _refused(ticket, exc)
    flash(_("Thank you for confirming. The ticket is now closed."), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref), 303)


@bp.post("/tickets/<ref>/follow-up")
@login_required
def follow_up(ref: str) -> Page:
    session = db_session()
    closed = tickets.get_for(session, ref, _me())
    form = FollowUpForm()
    earlier = tickets.by_client_token(session, form.client_token.data, closed.requester)
    if earlier is not None:
        return _already_filed(earlier)
    if not form.validate_on_submit():
        return _ticket_page(closed, follow_up_form=form), 422
    try:
        filed = tickets.create_follow_up(
            session, closed, subject=form.subject.data, description=form.description.data,
            client_token=form.client_token.data, uploads=_uploads(form.attachments.data), store=_store(),
            actor=_me(), now=utcnow(),
        )
        session.commit()
    except InvalidTransition as exc:
        session.rollback()
        return _refused(closed, exc)
    except DomainError as exc:
        session.rollback()
        if not _show_on_form(form, exc):
            raise
        return _ticket_page(closed, follow_up_form=form), exc.status_code
    flash(_("Your follow-up %(ref)s is filed, linked to %(old)s.", ref=filed.ticket.ref, old=closed.ref), "success")
    return redirect(url_for("tickets.show", ref=filed.ticket.ref), 303)


@bp.post("/tickets/<ref>/ccs")
@login_required
def add_cc(ref: str) -> Page:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    form = CcForm()
    if not form.validate_on_submit():
        return _ticket_page(ticket, cc_form=form), 422
    try:
        cc = ticket_ccs.add_cc(session, ticket, form.email.data, actor=_me(), now=utcnow())
        session.commit()
    except InvalidTransition as exc:
        session.rollback()
        return _refused(ticket, exc)
    except DomainError as exc:
        session.rollback()
        if not _show_on_form(form, exc):
            raise
        return _ticket_page(ticket, cc_form=form), 422
    flash(_("%(email)s will receive the e-mails about this ticket.", email=cc.email), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref, _anchor="people"), 303)


@bp.post("/tickets/<ref>/ccs/<int:cc_id>/delete")
@login_required
def remove_cc(ref: str, cc_id: int) -> Page:
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        email = ticket_ccs.remove_cc(session, ticket, cc_id, actor=_me(), now=utcnow())
        session.commit()
    except InvalidTransition as exc:
        session.rollback()
        return _refused(ticket, exc)
    flash(_("%(email)s is no longer in copy.", email=email), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref, _anchor="people"), 303)


@bp.get("/tickets/<ref>/attachments/<int:attachment_id>")
@login_required
def attachment(ref: str, attachment_id: int) -> Response:
    """A file, after the same access check as its ticket. Only four image kinds are ever shown inline."""
    session = db_session()
    ticket = tickets.get_for(session, ref, _me())
    stored = tickets.attachment_for(session, ticket, attachment_id, actor=_me())
    sent = delivery(_store(), stored)
    response = send_file(sent.path, mimetype=sent.mimetype, as_attachment=not sent.inline,
                         download_name=sent.filename, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- The ticket page ----------------------------------------------------------------------------------


def _ticket_page(ticket, **forms) -> str:
    """The public conversation and the forms the status table allows for the customer."""
    session = db_session()
    allowed = set(allowed_actions(ticket, "customer"))
    follow_up_form = forms.get("follow_up_form") or FollowUpForm(formdata=None, data={
        "subject": _("Follow-up: %(subject)s", subject=ticket.subject)[: tickets.SUBJECT_MAX],
        "client_token": new_token(),
    })
    return render_template(
        "tickets/show.html", ticket=ticket, timeline=customer_tickets.public_timeline(session, ticket),
        allowed=allowed, Action=Action, is_requester=ticket.requester_id == current_user.id,
        reply_form=forms.get("reply_form") or ReplyForm(formdata=None),
        reopen_form=forms.get("reopen_form") or ReopenForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None), follow_up_form=follow_up_form,
        cc_form=forms.get("cc_form") or CcForm(formdata=None), refusal=forms.get("refusal"),
        max_mb=current_app.config["MAX_ATTACHMENT_MB"], render_markdown=render_markdown,
    )


def _refused(ticket, exc: InvalidTransition, *, carried_text: str | None = None) -> tuple[str, int]:
    """The ticket changed under the customer (or the request was crafted): say what is possible now. A reply
    refused because the ticket closed meanwhile is offered as a follow-up, text and all."""
    session = db_session()
    session.refresh(ticket)
    possible = [str(ACTION_WORDS[a]) for a in allowed_actions(ticket, "customer") if a in ACTION_WORDS]
    refusal = _("This ticket is now “%(status)s”, so this is no longer possible.",
                status=_(customer_status(ticket.status)))
    if possible:
        refusal += " " + _("You can: %(actions)s.", actions=", ".join(possible))
    forms: dict[str, object] = {"refusal": refusal}
    if carried_text:
        forms["follow_up_form"] = FollowUpForm(formdata=None, data={
            "subject": _("Follow-up: %(subject)s", subject=ticket.subject)[: tickets.SUBJECT_MAX],
            "description": carried_text, "client_token": new_token()})
    return _ticket_page(ticket, **forms), 409


# ---- Helpers ------------------------------------------------------------------------------------------


def _me():
    """The logged-in user itself (not Flask-Login's proxy), for the services and the ORM."""
    return current_user._get_current_object()


def _lang() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LANGUAGE"])


def _int(value: object) -> int | None:
    return whole_number(value, minimum=1)


def _category_or_none(value: object):
    try:
        return categories.get_active(db_session(), _int(value))
    except DomainError:
        return None


def _uploads(files: list[FileStorage] | None) -> list[Upload]:
    """The files actually chosen (an empty file input still sends one nameless part)."""
    return [Upload(f.filename or "", f.stream) for f in (files or []) if isinstance(f, FileStorage) and f.filename]


def _store() -> AttachmentStore:
    return AttachmentStore.from_config(current_app.config)


def _show_on_form(form, exc: DomainError) -> bool:
    """Put a service's refusal on the field it names, in the user's language; False when it names none."""
    name = str(exc.details.get("field", ""))
    if not name or name not in form:
        return False
    form[name].errors = [*form[name].errors, translate_domain_message(exc) or ""]
    return True


def _query(subject: str | None, description: str | None) -> str:
    """What to search for: the subject, then the start of the description, cut at a word."""
    text = " ".join(f"{subject or ''} {description or ''}".split())
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return text


# ---- The knowledge base (the KB's own accessor, `views.kb_access.kb_index`) ----------------------------


def kb_suggestions(query: str, *, limit: int = SUGGESTIONS) -> SearchResults | None:
    """The best public articles for what the customer wrote, in their language first; None for nothing to search."""
    if not query.strip():
        return None
    try:
        return kb_search.search_articles(db_session(), kb_index(), query, lang=_lang(), actor=_me(), per_page=limit,
                                         visible_statuses=PUBLIC_STATUSES)
    except QueryTooLong:
        return None


def _confident_hits(results: SearchResults | None) -> list:
    """The articles worth offering before a ticket is filed: none when no article matches well."""
    return results.hits if results is not None and results.confident else []


def _article(path: str | None):
    """The published article at `path`, or None."""
    if not path:
        return None
    found = kb_index().articles(paths=[path])
    return found[0] if found else None
