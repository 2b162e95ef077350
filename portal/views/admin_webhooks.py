"""Webhooks administration (`/admin/webhooks`, admins only): register endpoints, switch them on and off, see the
recent deliveries with each attempt, send a test event, redeliver."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField

from portal.clock import utcnow
from portal.errors import Invalid
from portal.extensions import db_session
from portal.models import WEBHOOK_EVENTS, User
from portal.services import webhooks
from portal.views.access import admin_required
from portal.views.errors import translate_domain_message

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin")

EVENT_LABELS = {
    "ticket.created": _l("A ticket is created"),
    "ticket.updated": _l("A ticket changes"),
    "ticket.solved": _l("A ticket is solved"),
    "ticket.closed": _l("A ticket is closed"),
}
STATUS_LABELS = {"pending": _l("Pending"), "delivered": _l("Delivered"), "failed": _l("Gave up")}


def init_app(app: Flask) -> None:
    """Ticket changes committed through the app's sessions queue their deliveries."""
    webhooks.watch(app.extensions["sessionmaker"])


class EndpointForm(FlaskForm):
    url = StringField(_l("Address (https://…)"))
    description = StringField(_l("Description"))
    events = SelectMultipleField(_l("Send when"), choices=[SelectChoice(n, EVENT_LABELS[n]) for n in WEBHOOK_EVENTS],
                                 default=list(WEBHOOK_EVENTS))


class PlainForm(FlaskForm):
    """The buttons' forms: only the CSRF token (checked for every POST by CSRFProtect)."""


def _me() -> User:
    return current_user._get_current_object()


def delivery_settings() -> webhooks.DeliverySettings:
    config = current_app.config
    return webhooks.DeliverySettings(max_attempts=int(config["WEBHOOKS_MAX_ATTEMPTS"]),
                                     retry_seconds=int(config["WEBHOOKS_RETRY_SECONDS"]),
                                     timeout=float(config["WEBHOOKS_TIMEOUT"]),
                                     allow_private=bool(config["WEBHOOKS_ALLOW_PRIVATE"]))


def _list_page(form: EndpointForm, status: int = 200) -> tuple[str, int]:
    page = render_template("admin_webhooks/index.html", endpoints=webhooks.endpoints(db_session(), actor=_me()),
                           form=form, action_form=PlainForm(formdata=None), event_labels=EVENT_LABELS)
    return page, status


@bp.get("/webhooks")
@admin_required
def index() -> tuple[str, int]:
    return _list_page(EndpointForm(formdata=None))


@bp.post("/webhooks")
@admin_required
def create() -> Response | tuple[str, int]:
    form = EndpointForm()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    try:
        endpoint = webhooks.create_endpoint(
            db_session(), url=form.url.data, description=form.description.data, events=form.events.data,
            allow_private=current_app.config["WEBHOOKS_ALLOW_PRIVATE"], actor=_me(), now=utcnow(),
        )
    except Invalid as exc:
        db_session().rollback()
        getattr(form, exc.details.get("field", "url")).errors = [translate_domain_message(exc)]
        return _list_page(form, 422)
    db_session().commit()
    # The secret is shown on this page only: a redirect would have to carry it in the session cookie.
    response = make_response(render_template("admin_webhooks/created.html", endpoint=endpoint), 201)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/webhooks/<int:endpoint_id>")
@admin_required
def show(endpoint_id: int) -> str:
    endpoint = webhooks.get_endpoint(db_session(), endpoint_id, actor=_me())
    return render_template("admin_webhooks/show.html", endpoint=endpoint, event_labels=EVENT_LABELS,
                           status_labels=STATUS_LABELS, action_form=PlainForm(formdata=None),
                           deliveries=webhooks.recent_deliveries(db_session(), endpoint, actor=_me()))


@bp.post("/webhooks/<int:endpoint_id>/enabled")
@admin_required
def set_enabled(endpoint_id: int) -> Response:
    endpoint = webhooks.get_endpoint(db_session(), endpoint_id, actor=_me())
    enabled = request.form.get("enabled") == "1"
    webhooks.set_enabled(db_session(), endpoint, enabled, actor=_me())
    db_session().commit()
    flash(_("Webhook enabled.") if enabled else _("Webhook disabled: nothing is sent to it until you enable it."),
          "success")
    return redirect(url_for("admin_webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/webhooks/<int:endpoint_id>/delete")
@admin_required
def delete(endpoint_id: int) -> Response:
    endpoint = webhooks.get_endpoint(db_session(), endpoint_id, actor=_me())
    webhooks.delete_endpoint(db_session(), endpoint, actor=_me())
    db_session().commit()
    flash(_("Webhook deleted, with its deliveries."), "success")
    return redirect(url_for("admin_webhooks.index"), 303)


@bp.post("/webhooks/<int:endpoint_id>/test")
@admin_required
def send_test(endpoint_id: int) -> Response:
    endpoint = webhooks.get_endpoint(db_session(), endpoint_id, actor=_me())
    delivery = webhooks.send_test(db_session(), endpoint, delivery_settings(), actor=_me(), now=utcnow())
    last = delivery.attempt_log[-1] if delivery.attempt_log else None
    if last is not None and last.succeeded:
        flash(_("Test event delivered (HTTP %(code)s).", code=last.status_code), "success")
    else:
        reason = (last.error or f"HTTP {last.status_code}") if last is not None else "—"
        flash(_("The test event was not delivered: %(reason)s. It will be retried.", reason=reason), "error")
    return redirect(url_for("admin_webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/webhooks/deliveries/<int:delivery_id>/redeliver")
@admin_required
def redeliver(delivery_id: int) -> Response:
    delivery = webhooks.get_delivery(db_session(), delivery_id, actor=_me())
    webhooks.redeliver(db_session(), delivery, actor=_me(), now=utcnow())
    db_session().commit()
    flash(_("Queued again: it is sent on the next delivery run."), "success")
    return redirect(url_for("admin_webhooks.show", endpoint_id=delivery.endpoint_id), 303)
