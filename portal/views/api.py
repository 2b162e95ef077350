"""The REST API (`/api/v1`, JSON), for programs acting as a person through that person's API token.

Only `Authorization: Bearer <token>` authenticates here: a browser's session cookie never does, which is why
CSRF does not apply. Each call is a thin view: parse the JSON, call one service, commit once, answer JSON.
The contract is `api_schema.py`, served at /api/v1/openapi.json; docs/api.md explains it with examples.
"""

from __future__ import annotations

import json
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, current_app, g, jsonify, request, send_file, url_for
from flask_babel import get_locale
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response

from portal.clock import utcnow
from portal.errors import N_, DomainError, Invalid, Malformed, NotAllowed
from portal.extensions import csrf, db_session, limiter
from portal.integers import whole_number
from portal.models import ROLES, Attachment, Category, Message, Ticket, User
from portal.services import accounts, api_tickets, api_tokens, postpone, tickets
from portal.services.attachments import MAX_PER_MESSAGE, AttachmentStore, Upload, delivery
from portal.status import can
from portal.views.api_schema import openapi_document
from portal.views.errors import EXPLANATIONS, limit_mb, translate_domain_message, with_exception_headers
from portal.views.input_bounds import JSON_MAX_DEPTH, query_int

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # a bearer token is not sent by browsers on their own, so there is nothing to forge

PUBLIC_ENDPOINTS = ("api.openapi",)
CUSTOMER_STATUS_WORDS = {"new": "open", "open": "open", "on_hold": "open", "pending": "pending",
                         "solved": "solved", "closed": "closed"}
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "not_allowed", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "rate_limited", 500: "server_error", 503: "unavailable"}
DOMAIN_CODES = {"InvalidTransition": "invalid_transition", "Conflict": "version_conflict",
                "LimitExceeded": "too_large", "NotFound": "not_found", "NotAllowed": "not_allowed",
                "Invalid": "invalid", "AttachmentNotSaved": "unavailable", "Malformed": "bad_request"}


# ---- Who is calling ----------------------------------------------------------------------------------------


def _bearer_secret() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def _token():
    """The caller's token, looked up once per request (the rate limiter needs it before the view runs)."""
    if "api_token" not in g:
        g.api_token = api_tokens.authenticate(db_session(), _bearer_secret())
    return g.api_token


def _me() -> User:
    return g.api_token.user


def _rate_key() -> str:
    """One budget per token; calls without a valid token share their address's budget."""
    token = _token()
    return f"api-token:{token.id}" if token is not None else f"api-ip:{get_remote_address()}"


def _rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


limiter.shared_limit(_rate_limit, scope="api", key_func=_rate_key)(bp)


@bp.before_request
def _authenticate() -> Response | tuple[Response, int] | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = _token()
    if token is None:
        response, status = _error(401, "unauthorized",
                                  _t(N_("Send a valid API token: Authorization: Bearer <token>.")))
        response.headers["WWW-Authenticate"] = 'Bearer realm="mesa"'
        return response, status
    if api_tokens.record_use(token, now=utcnow()):
        db_session().commit()
    return None


# ---- Errors: {"error": {"code", "message", ...}} like the rest of /api/ -----------------------------------


def _t(message: str, **values: object) -> str:
    return translate_domain_message(DomainError(message, **values)) or message


def _error(status: int, code: str, message: str, **extra: object) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message, **extra}), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db_session().rollback()
    extra: dict[str, object] = {}
    if isinstance(exc.details.get("field"), str):
        extra["field"] = exc.details["field"]
    if isinstance(exc.details.get("allowed"), list):
        extra["allowed_actions"] = exc.details["allowed"]
    if isinstance(exc.details.get("version"), int):
        extra["current_version"] = exc.details["version"]
    message = translate_domain_message(exc) or str(EXPLANATIONS.get(exc.status_code, EXPLANATIONS[500]))
    return _error(exc.status_code, DOMAIN_CODES.get(type(exc).__name__, "error"), message, **extra)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db_session().rollback()
    status = exc.code or 500
    message = str(EXPLANATIONS.get(status, EXPLANATIONS[400]))
    if status == 413:
        message = _t(N_("Requests are limited to %(mb)s MB."), mb=limit_mb())
    elif status == 429:
        message = _t(N_("Too many requests with this token. Wait a little and try again."))
    return with_exception_headers(_error(status, ERROR_CODES.get(status, "error"), message), exc)


# ---- Reading the request -------------------------------------------------------------------------------------


def _json_object() -> dict:
    data = None
    if request.is_json:
        try:
            data = request.get_json()
        except BadRequest:  # a 413 (RequestEntityTooLarge) is not a BadRequest and stays a 413
            raise Malformed(N_("The body is not valid JSON, or is nested deeper than %(depth)s levels."),
                            field="body", depth=JSON_MAX_DEPTH) from None
    if not isinstance(data, dict):
        raise Invalid(N_("Send a JSON object with Content-Type: application/json."), field="body")
    return data


def _string(data: dict, name: str, *, required: bool = False, max_length: int = 50_000) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise Invalid(N_("%(field)s is required."), field=name)
        return None
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        raise Invalid(N_("%(field)s must be text of at most %(max)s characters."), field=name, max=max_length)
    return value


def _integer(data: dict, name: str, *, required: bool = False) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or whole_number(value) is None:  # whole_number refuses bools and the range
        raise Invalid(N_("%(field)s must be a whole number."), field=name)
    return value


def _boolean(data: dict, name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise Invalid(N_("%(field)s must be true or false."), field=name)
    return value


def _optional_id(data: dict, name: str) -> object:
    """Absent: unchanged; null: nobody; a number: that one."""
    if name not in data:
        return api_tickets.UNCHANGED
    return None if data[name] is None else _integer(data, name, required=True)


def _optional_time(data: dict, name: str) -> object:
    """Absent: unchanged; null: none; an ISO 8601 time (UTC without an offset)."""
    if name not in data:
        return api_tickets.UNCHANGED
    if data[name] is None:
        return None
    return api_tickets.parse_timestamp(_string(data, name, required=True, max_length=40) or "", name=name)


def _store() -> AttachmentStore:
    return AttachmentStore.from_config(current_app.config)


# ---- What the API returns --------------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def _person(user: User | None) -> dict | None:
    return None if user is None else {"id": user.id, "name": user.name}


def _category(category: Category | None) -> dict | None:
    """Its id and its name in the caller's language (Accept-Language, like the error messages)."""
    if category is None:
        return None
    return {"id": category.id, "name": category.name(str(get_locale() or current_app.config["DEFAULT_LANGUAGE"]))}


def _ticket(ticket: Ticket) -> dict:
    me = _me()
    role = tickets.role_of(me).value
    actions = api_tickets.AGENT_ACTIONS if me.is_agent else api_tickets.CUSTOMER_ACTIONS
    data = {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status if me.is_agent else CUSTOMER_STATUS_WORDS[ticket.status],
        "priority": ticket.priority,
        "channel": ticket.channel,
        "language": ticket.language,
        "category": _category(ticket.category),
        "requester": _person(ticket.requester),
        "assignee": _person(ticket.assignee),
        "created_at": _time(ticket.created_at),
        "updated_at": _time(ticket.updated_at),
        "version": ticket.version,
        "fields": {value.field.key: value.value for value in ticket.field_values},
        "allowed_actions": [action for action in actions if can(ticket, action, role)],
        "url": url_for("api.get_ticket", ref=ticket.ref, _external=True),
    }
    if me.is_agent:
        data["group"] = None if ticket.group is None else {"id": ticket.group.id, "name": ticket.group.name}
        data["tags"] = sorted(ticket.tag_names)
        data["postponed_until"] = _time(ticket.postponed_until) if postpone.is_postponed(ticket, now=utcnow()) \
            else None
    return data


def _attachment(ticket: Ticket, attachment: Attachment) -> dict:
    return {"id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
            "size": attachment.size,
            "url": url_for("api.download_attachment", ref=ticket.ref, attachment_id=attachment.id, _external=True)}


def _message(ticket: Ticket, message: Message) -> dict:
    return {"id": message.id, "author": _person(message.author), "body": message.body, "public": message.public,
            "channel": message.channel, "created_at": _time(message.created_at),
            "attachments": [_attachment(ticket, a) for a in message.attachments]}


def _user(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "locale": user.locale,
            "active": user.active, "created_at": _time(user.created_at)}


# ---- The contract ----------------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


# ---- Tickets ----------------------------------------------------------------------------------------------------


@bp.get("/tickets")
def list_tickets() -> Response:
    args = request.args
    if any("\x00" in value for value in args.values()):
        raise Invalid(N_("Query parameters cannot contain NUL characters."), field="query")
    updated_since = args.get("updated_since")
    filters = api_tickets.TicketFilters(
        statuses=tuple(s.strip() for s in args["status"].split(",")) if "status" in args else (),
        priority=args.get("priority"), assignee=args.get("assignee"), group=args.get("group"), tag=args.get("tag"),
        updated_since=api_tickets.parse_timestamp(updated_since, name="updated_since") if updated_since else None,
        sort=args.get("sort", "-updated_at"),
    )
    found = api_tickets.list_tickets(db_session(), filters, cursor=args.get("cursor") or None,
                                     limit=query_int("limit", api_tickets.DEFAULT_LIMIT, maximum=api_tickets.MAX_LIMIT),
                                     actor=_me())
    return jsonify(tickets=[_ticket(t) for t in found.tickets], next_cursor=found.next_cursor)


@bp.post("/tickets")
def create_ticket() -> tuple[Response, int]:
    """File a ticket (channel api). With an Idempotency-Key, a retried call answers 200 with the same ticket."""
    session, me, now = db_session(), _me(), utcnow()
    data = _json_object()
    key = request.headers.get("Idempotency-Key")
    fingerprint = api_tickets.request_fingerprint(json.dumps(data, sort_keys=True).encode())
    if key is not None:
        key = api_tickets.check_idempotency_key(key)
        earlier = api_tickets.replay(session, g.api_token, key, fingerprint)
        if earlier is not None:
            return _created(earlier, replayed=True)
    category = api_tickets.new_ticket_category(session, _integer(data, "category_id"))
    requester = api_tickets.requester_for(session, _integer(data, "requester_id"), actor=me)
    with api_tickets.custom_field_errors():
        filed = tickets.create_ticket(
            session, requester=requester,
            subject=_string(data, "subject", required=True, max_length=1000) or "",
            description=_string(data, "description", required=True) or "",
            priority=_string(data, "priority", max_length=20) or "normal",
            language=_string(data, "language", max_length=8),  # None: read from the text (services.routing)
            default_language=str(current_app.config["DEFAULT_LANGUAGE"]),
            category=category, field_values=api_tickets.field_answers(category, data.get("fields")),
            channel="api", actor=me, now=now,
        )
    if key is not None:
        api_tickets.remember(session, g.api_token, key, fingerprint, filed.ticket, now=now)
    try:
        session.commit()
    except IntegrityError:
        # The same key arrived twice at once: the other call filed the ticket.
        session.rollback()
        earlier = api_tickets.replay(session, g.api_token, key, fingerprint) if key is not None else None
        if earlier is None:
            raise
        return _created(earlier, replayed=True)
    return _created(filed.ticket, replayed=False)


def _created(ticket: Ticket, *, replayed: bool) -> tuple[Response, int]:
    response = jsonify(_ticket(ticket))
    response.headers["Location"] = url_for("api.get_ticket", ref=ticket.ref, _external=True)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 200 if replayed else 201


@bp.get("/tickets/<ref>")
def get_ticket(ref: str) -> Response:
    return jsonify(_ticket(tickets.get_for(db_session(), ref, _me())))


@bp.patch("/tickets/<ref>")
def update_ticket(ref: str) -> Response:
    """Fields and one status action, all or nothing, based on `version` (409 when someone changed it since)."""
    session, me = db_session(), _me()
    ticket = tickets.get_for(session, ref, me)
    data = _json_object()
    tags = data.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise Invalid(N_("tags must be a list of words."), field="tags")
    changes = api_tickets.TicketChanges(
        version=_integer(data, "version", required=True) or 0,
        action=_string(data, "action", max_length=40), reason=_string(data, "reason"),
        priority=_string(data, "priority", max_length=20), assignee_id=_optional_id(data, "assignee_id"),
        group_id=_optional_id(data, "group_id"), category_id=_optional_id(data, "category_id"),
        language=_string(data, "language", max_length=8), tags=tags,
        postponed_until=_optional_time(data, "postponed_until"),
    )
    api_tickets.update_ticket(session, ticket, changes, actor=me, now=utcnow())
    session.commit()
    return jsonify(_ticket(ticket))


# ---- The conversation --------------------------------------------------------------------------------------------


@bp.get("/tickets/<ref>/messages")
def list_messages(ref: str) -> Response:
    session, me = db_session(), _me()
    ticket = tickets.get_for(session, ref, me)
    return jsonify(messages=[_message(ticket, m) for m in api_tickets.visible_messages(session, ticket, actor=me)])


@bp.post("/tickets/<ref>/messages")
def add_message(ref: str) -> tuple[Response, int]:
    """A reply (or, for agents, a private note), as JSON or as multipart/form-data with `attachments` files."""
    session, me, now = db_session(), _me(), utcnow()
    ticket = tickets.get_for(session, ref, me)
    data, uploads = _message_input()
    body = _string(data, "body", required=True) or ""
    public = _boolean(data, "public", True)
    submit_as = _string(data, "submit_as", max_length=20)
    version = _integer(data, "version")
    api_tickets.check_message_options(public=public, submit_as=submit_as, actor=me)
    if submit_as is not None and submit_as not in tickets.SUBMIT_AS:
        # The document lists the statuses; an empty one is refused like an unknown one, not read as "keep it".
        raise Invalid(N_("Choose open, pending, on hold or solved."), field="status")
    if me.is_agent:
        message = tickets.agent_reply(session, ticket, body=body, public=public, submit_as=submit_as,
                                      uploads=uploads, store=_store(), actor=me, now=now, expected_version=version)
    else:
        tickets.check_version(ticket, version)
        message = tickets.customer_reply(session, ticket, body=body, uploads=uploads, store=_store(), actor=me,
                                         now=now)
    try:
        session.commit()
    except BaseException:
        _store().discard(message.attachments)
        raise
    return jsonify(_message(ticket, message)), 201


def _message_input() -> tuple[dict, list[Upload]]:
    if request.mimetype != "multipart/form-data":
        return _json_object(), []
    form = request.form
    data: dict[str, object] = {"body": form.get("body")}
    if "public" in form:
        # Exactly what the OpenAPI document promises: "yes" or "0" is a client's mistake, not a private note.
        if form["public"] not in ("true", "false"):
            raise Invalid(N_("%(field)s must be true or false."), field="public")
        data["public"] = form["public"] == "true"
    if "submit_as" in form:
        data["submit_as"] = form["submit_as"]
    if "version" in form:
        data["version"] = whole_number(form["version"])
        if data["version"] is None:
            raise Invalid(N_("%(field)s must be a whole number."), field="version")
    if "attachments" in form:
        # Attachments are files; a text field of that name is a client's mistake that would otherwise be dropped
        # without a word (schemathesis found it).
        raise Invalid(N_("Attachments must be sent as files."), field="attachments")
    files = request.files.getlist("attachments")
    if len(files) > MAX_PER_MESSAGE:  # counted before nameless parts are dropped: the document's maxItems
        raise Invalid(N_("Attach at most %(count)s files to one message."), field="attachments",
                      count=MAX_PER_MESSAGE)
    uploads = [Upload(f.filename or "", f.stream) for f in files if isinstance(f, FileStorage) and f.filename]
    return data, uploads


@bp.get("/tickets/<ref>/attachments/<int:attachment_id>")
def download_attachment(ref: str, attachment_id: int) -> Response:
    """The file, after the same checks as the web page: customers never get the files of private notes."""
    session, me = db_session(), _me()
    ticket = tickets.get_for(session, ref, me)
    sent = delivery(_store(), tickets.attachment_for(session, ticket, attachment_id, actor=me))
    response = send_file(sent.path, mimetype=sent.mimetype, as_attachment=not sent.inline,
                         download_name=sent.filename, conditional=True, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- People ------------------------------------------------------------------------------------------------------


@bp.get("/users/me")
def get_me() -> Response:
    return jsonify(_user(_me()))


@bp.get("/users/<int:user_id>")
def get_user(user_id: int) -> Response:
    return jsonify(_user(api_tickets.visible_user(db_session(), user_id, actor=_me())))


@bp.post("/users")
def create_user() -> tuple[Response, int]:
    """Admins create accounts. Without a password the person uses "Forgot your password?" to choose one."""
    if not _me().is_admin:
        raise NotAllowed(N_("Only admins manage accounts."))
    data = _json_object()
    email = _string(data, "email", required=True, max_length=254) or ""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid(N_("Enter an e-mail address like name@example.com."), field="email") from None
    name = (_string(data, "name", required=True, max_length=120) or "").strip()
    if not name:
        raise Invalid(N_("A name is required."), field="name")
    role = _string(data, "role", max_length=16) or "customer"
    if role not in ROLES:
        raise Invalid(N_("Unknown role %(role)s."), field="role", role=role)
    locale = _string(data, "locale", max_length=8)
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        raise Invalid(N_("Choose one of the languages offered."), field="locale")
    user = accounts.create_by_admin(db_session(), email=email, name=name, role=role, locale=locale,
                                    password=_string(data, "password", max_length=500), actor=_me(), now=utcnow())
    db_session().commit()
    response = jsonify(_user(user))
    response.headers["Location"] = url_for("api.get_user", user_id=user.id, _external=True)
    return response, 201
