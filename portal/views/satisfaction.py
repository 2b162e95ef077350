"""Satisfaction ratings and the signed links of ticket e-mails.

- `POST /tickets/<ref>/satisfaction`: the requester rates from the ticket page (`tickets/_satisfaction.html`,
  which the page includes; htmx swaps the fragment in place, without JavaScript the page reloads).
- `GET /s/<token>`: the rating link of an e-mail: the rating preselected and a comment box; its POST saves.
- `GET /t/<token>`: the confirm / reopen link of the "solved" e-mail: a confirmation page; its POST acts for
  the requester. A GET never writes.

A link works without logging in (it was sent to the requester's address). When someone else is logged in,
the ticket is not theirs: 404, the same answer as for a forged link.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.clock import utcnow
from portal.errors import N_, Invalid, NotFound
from portal.extensions import db_session
from portal.models import Ticket
from portal.services import satisfaction, tickets
from portal.services.ticket_links import LinkExpired
from portal.views import notify_dispatch
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx

bp = Blueprint("satisfaction", __name__)

Page = str | Response | tuple[str, int]
RATING_LABELS = {"good": _l("Good, I'm satisfied"), "bad": _l("Bad, I'm unsatisfied")}


class SatisfactionForm(FlaskForm):
    rating = RadioField(_l("How did we do?"), choices=[SelectChoice(v, label) for v, label in RATING_LABELS.items()],
                        validators=[DataRequired(message=_l("Choose Good or Bad."))])
    comment = TextAreaField(_l("Anything you would like to tell us? (optional)"), validators=[
        Optional(), Length(max=satisfaction.MAX_COMMENT, message=_l("Use at most %(max)d characters."))])


class ReopenLinkForm(FlaskForm):
    reason = TextAreaField(_l("What is still not working?"),
                           validators=[DataRequired(message=_l("This field is required.")), Length(max=50_000)])


class ConfirmLinkForm(FlaskForm):
    pass


def init_app(app: Flask) -> None:
    notify_dispatch.init_app(app)  # the outbox is sent after each request (see notify_dispatch)

    @app.context_processor
    def _satisfaction_helpers() -> dict[str, object]:
        return {"satisfaction_state": satisfaction_state}


def satisfaction_state(ticket: Ticket) -> dict[str, object] | None:
    """What `_satisfaction.html` needs, or None when the current user may not rate this ticket now."""
    if not current_user.is_authenticated or ticket.requester_id != current_user.id:
        return None
    if not satisfaction.window_open(ticket, now=utcnow()):
        return None
    existing = satisfaction.rating_for(db_session(), ticket)
    form = SatisfactionForm(formdata=None, data={"rating": existing.rating if existing else None,
                                                 "comment": existing.comment if existing else ""})
    return {"form": form, "rating": existing}


# ---- From the ticket page ---------------------------------------------------------------------------


@bp.post("/tickets/<ref>/satisfaction")
@login_required
def rate(ref: str) -> Page:
    session = db_session()
    ticket = satisfaction.ticket_of_requester(session, ref, current_user._get_current_object())
    form = SatisfactionForm()
    saved = False
    if form.validate_on_submit():
        satisfaction.rate(session, ticket, rating=form.rating.data, comment=form.comment.data,
                          actor=current_user._get_current_object(), now=utcnow())
        session.commit()
        saved = True
    if is_htmx():
        state = {"form": form, "rating": satisfaction.rating_for(session, ticket)}
        html = render_template("tickets/_satisfaction.html", ticket=ticket, state=state, saved=saved)
        return vary_on_htmx(Response(html, status=200 if saved else 422))
    if not saved:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors) or _("Choose Good or Bad."), "error")
    else:
        flash(_("Thank you for your feedback."), "success")
    return redirect(url_for("tickets.show", ref=ticket.ref, _anchor="satisfaction"), 303)


# ---- The rating link of an e-mail ------------------------------------------------------------------


@bp.route("/s/<token>", methods=["GET", "POST"])
def rating_link(token: str) -> Page:
    session = db_session()
    try:
        link = notify_dispatch.ticket_links().rating_link(session, token, now=utcnow())
    except LinkExpired as exc:
        return _link_invalid(exc)
    ticket = link.ticket
    _refuse_other_users(ticket)
    if not satisfaction.window_open(ticket, now=utcnow()):
        return render_template("satisfaction/closed.html", ticket=ticket), 410
    existing = satisfaction.rating_for(session, ticket)
    if request.method == "GET":
        form = SatisfactionForm(formdata=None, data={"rating": link.rating,
                                                     "comment": existing.comment if existing else ""})
        return render_template("satisfaction/rate.html", ticket=ticket, form=form, token=token)
    form = SatisfactionForm()
    if not form.validate_on_submit():
        return render_template("satisfaction/rate.html", ticket=ticket, form=form, token=token), 422
    satisfaction.rate(session, ticket, rating=form.rating.data, comment=form.comment.data,
                      actor=ticket.requester, now=utcnow())
    session.commit()
    return render_template("satisfaction/thanks.html", ticket=ticket, rating=form.rating.data)


# ---- Confirm or reopen from the "solved" e-mail -------------------------------------------------------


@bp.route("/t/<token>", methods=["GET", "POST"])
def ticket_link(token: str) -> Page:
    session = db_session()
    try:
        link = notify_dispatch.ticket_links().action_link(session, token, now=utcnow())
    except LinkExpired as exc:
        return _link_invalid(exc)
    ticket, action = link.ticket, link.action
    _refuse_other_users(ticket)
    form = ConfirmLinkForm() if action == "confirm" else ReopenLinkForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("satisfaction/ticket_link.html", ticket=ticket, action=action, form=form,
                               token=token), status
    requester = ticket.requester
    try:
        if action == "confirm":
            tickets.confirm(session, ticket, actor=requester, now=utcnow())
        else:
            tickets.reopen(session, ticket, reason=form.reason.data, actor=requester, now=utcnow())
    except Invalid as exc:
        session.rollback()
        form.reason.errors = [translate_domain_message(exc) or _("This field is required.")]
        return render_template("satisfaction/ticket_link.html", ticket=ticket, action=action, form=form,
                               token=token), 422
    session.commit()
    rating_form = None
    rating_token = None
    if action == "confirm" and satisfaction.window_open(ticket, now=utcnow()):
        rating_token = notify_dispatch.ticket_links().rating_token(ticket, "good")
        rating_form = SatisfactionForm(formdata=None)
    return render_template("satisfaction/ticket_link_done.html", ticket=ticket, action=action,
                           rating_form=rating_form, rating_token=rating_token)


def _refuse_other_users(ticket: Ticket) -> None:
    """A logged-in person who is not the requester gets what a forged link gets."""
    if current_user.is_authenticated and current_user.id != ticket.requester_id:
        raise NotFound(N_("This link is not valid."))


def _link_invalid(exc: LinkExpired) -> tuple[str, int]:
    return render_template("satisfaction/link_invalid.html", message=translate_domain_message(exc)), 400
