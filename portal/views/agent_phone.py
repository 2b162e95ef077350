"""Agents file tickets for customers (a phone call, a mail forwarded by hand): find the customer or create
them, then subject, description, category, priority, channel and language. The customer search updates with htmx as
the agent types; without JavaScript the "Search" button posts the form and the page comes back with the
matches and everything typed so far."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.clock import utcnow
from portal.errors import DomainError
from portal.extensions import db_session
from portal.integers import whole_number
from portal.models import User
from portal.services import categories, phone_tickets
from portal.services.tickets import BODY_MAX, SUBJECT_MAX
from portal.views.access import agent_required
from portal.views.agent_forms import PRIORITY_CHOICES
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.ticket_forms import CustomFieldsForm, new_token, with_custom_fields

bp = Blueprint("agent_phone", __name__, url_prefix="/agent")

CHANNEL_CHOICES = [SelectChoice("phone", _l("Phone")), SelectChoice("email", _l("E-mail"))]
# Empty: the portal reads it from what the agent wrote (services.routing), else the customer's setting.
LANGUAGE_CHOICES = [SelectChoice("", _l("Detect from the text")), SelectChoice("en", _l("English")),
                    SelectChoice("es", _l("Spanish"))]


class PhoneTicketForm(CustomFieldsForm):
    q = StringField(_l("Find the customer"), validators=[Optional(), Length(max=phone_tickets.SEARCH_MAX)])
    customer = StringField(validators=[Optional()])
    new_name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    new_email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    subject = StringField(_l("Subject"), validators=[DataRequired(message=_l("This field is required.")),
                                                     Length(max=SUBJECT_MAX)])
    description = TextAreaField(_l("Description"), validators=[
        DataRequired(message=_l("This field is required.")), Length(max=BODY_MAX)])
    category = SelectField(_l("Category"), choices=[], validate_choice=False, coerce=str)
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES, default="normal")
    channel = SelectField(_l("Channel"), choices=CHANNEL_CHOICES, default="phone")
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="")
    client_token = HiddenField()


@bp.get("/tickets/new")
@agent_required
def new() -> str:
    form = _form(formdata=None, data={"client_token": new_token(), "q": request.args.get("q", "")})
    return _page(form)


@bp.get("/tickets/new/fields")
@agent_required
def category_fields() -> Response:
    """The custom fields of the chosen category (htmx swaps them in when the category changes)."""
    form = _form(formdata=None)
    return vary_on_htmx(Response(render_template("tickets/_category_fields.html", form=form)))


@bp.get("/customers")
@agent_required
def customers() -> Response:
    """The matching customers as a fragment (htmx); without htmx, the new-ticket page with the matches."""
    query = request.args.get("q", "")
    if not is_htmx():
        return redirect(url_for("agent_phone.new", q=query), 303)
    session = db_session()
    html = render_template("agent_phone/_customer_results.html", query=query,
                           selected=_customer_or_none(_int(request.args.get("customer"))),
                           matches=phone_tickets.find_customers(session, query, actor=_me()))
    return vary_on_htmx(Response(html))


@bp.post("/tickets/new")
@agent_required
def create() -> Response | tuple[str, int]:
    form = _form()
    if request.form.get("action") in ("search", "refresh"):  # no JavaScript: the matches, or the questions
        return _page(form), 200
    if not form.validate_on_submit():
        return _page(form), 422
    session = db_session()
    try:
        filed = phone_tickets.file_for_customer(
            session, customer_id=_int(form.customer.data), new_name=form.new_name.data or "",
            new_email=form.new_email.data or "", subject=form.subject.data, description=form.description.data,
            category=categories.get_active(session, _int(form.category.data)), priority=form.priority.data,
            channel=form.channel.data, client_token=form.client_token.data or None, field_values=form.custom_values(),
            language=form.language.data or None, default_language=str(current_app.config["DEFAULT_LANGUAGE"]),
            actor=_me(), now=utcnow(),
        )
        session.commit()
    except DomainError as exc:
        session.rollback()
        if exc.status_code not in (413, 422):
            raise
        _show_error(form, exc)
        return _page(form), exc.status_code
    if filed.created:
        flash(_("Ticket %(ref)s filed for %(name)s.", ref=filed.ticket.ref, name=filed.ticket.requester.name),
              "success")
    return redirect(url_for("agent.workspace", ref=filed.ticket.ref), 303)


def _form(**kwargs) -> PhoneTicketForm:
    """The form with the chosen category's custom fields (posted, or in the query when htmx asks for them)."""
    lang = str(current_app.config["DEFAULT_LANGUAGE"]) if not current_user.locale else str(current_user.locale)
    offered = categories.active_categories(db_session())
    chosen = _int(request.form.get("category") if request.method == "POST" else request.args.get("category"))
    form = with_custom_fields(PhoneTicketForm, next((c for c in offered if c.id == chosen), None), lang=lang,
                              **kwargs)
    form.category.choices = [SelectChoice("", _l("No category")), *(SelectChoice(str(c.id), c.name(lang))
                                                                     for c in offered)]
    if not form.client_token.data:
        form.client_token.data = new_token()
    return form


def _page(form: PhoneTicketForm) -> str:
    matches = phone_tickets.find_customers(db_session(), form.q.data or "", actor=_me())
    return render_template("agent_phone/new.html", form=form, matches=matches,
                           selected=_customer_or_none(_int(form.customer.data)),
                           query=form.q.data or "", customer_error=getattr(form, "customer_error", None))


def _customer_or_none(user_id: int | None) -> User | None:
    user = db_session().get(User, user_id) if user_id else None
    return user if user is not None and user.role == "customer" else None


def _show_error(form: PhoneTicketForm, exc: DomainError) -> None:
    message = translate_domain_message(exc)
    field = getattr(form, str(exc.details.get("field")), None) if exc.details.get("field") else None
    if exc.details.get("field") == "customer" or field is None:
        form.customer_error = message
    else:
        field.errors = [*field.errors, message]


def _int(value: object) -> int | None:
    return whole_number(value, minimum=1)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]
