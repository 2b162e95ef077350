"""The OpenAPI 3 contract of /api/v1, served at /api/v1/openapi.json.

It describes what `views/api.py` and `views/api_kb.py` do, status codes included. Every limit here is the
validator's own constant (lengths, id and version ranges, enums, patterns), imported rather than restated, and
tests/web/test_api_schema.py runs schemathesis with all its checks against the app to keep the two in step.
"""

from __future__ import annotations

from portal.integers import DB_INT_MAX
from portal.models import PRIORITIES, ROLES
from portal.search import MAX_QUERY_CHARS
from portal.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from portal.services.agent_desk import TAG_MAX
from portal.services.api_tickets import (
    AGENT_ACTIONS,
    CURSOR_MAX,
    CUSTOMER_ACTIONS,
    DEFAULT_LIMIT,
    IDEMPOTENCY_KEY_MAX,
    MAX_LIMIT,
    MAX_TAGS,
)
from portal.services.categories import MAX_FIELD_ANSWERS, MAX_FIELD_VALUE
from portal.services.refs import REF_PATTERN
from portal.services.tickets import BODY_MAX, SUBJECT_MAX, SUBMIT_AS
from portal.status import Status
from portal.views.api_kb import MAX_LIMIT as KB_MAX_LIMIT
from portal.views.input_bounds import positive_up_to

JSON = "application/json"
STATUSES = [s.value for s in Status]
LANGUAGES = ["en", "es"]
ERROR_DESCRIPTIONS = {
    "400": "The request is malformed: a body that is not JSON (or nested deeper than 32 levels), or a NUL "
           "character in a query or form value",
    "401": "No valid API token (missing, unknown, revoked, or its owner deactivated)",
    "403": "The token's owner may not do this",
    "404": "Missing, or not visible to the token's owner (the same answer for both)",
    "409": "A status action the status table refuses, or `version` is stale",
    "413": "The request or an attachment is larger than allowed",
    "422": "Invalid input; `field` names the culprit",
    "429": "Too many requests with this token",
    "503": "The attachment storage is unavailable",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _query(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


# Text as the validators take it: no NUL anywhere (refused with 400 in a query or form, 422 in JSON: PostgreSQL
# cannot store it), and, where blank text is refused, at least one character that is not white space.
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


def _text(max_length: int, *, blank: bool = True, **extra: object) -> dict:
    return {"type": "string", "maxLength": max_length, "pattern": NO_NUL if blank else NOT_BLANK, **extra}


def _optional(schema: dict) -> dict:
    """An optional field the API also takes as null (the same as leaving it out). OpenAPI 3.0 wants null in
    the enum too."""
    return {**schema, "nullable": True, **({"enum": [*schema["enum"], None]} if "enum" in schema else {})}


def _id(**extra: object) -> dict:
    """A row's id: the range of the INTEGER columns (views/input_bounds.py answers 404 outside it)."""
    return {"type": "integer", "minimum": 1, "maximum": DB_INT_MAX, **extra}


VERSION = {"type": "integer", "minimum": 0, "maximum": DB_INT_MAX}
ID_TEXT = positive_up_to(DB_INT_MAX)  # an id written in a query: 1..DB_INT_MAX, no leading zero
TAG = {"type": "string", "minLength": 1, "maxLength": TAG_MAX, "pattern": "^[\\w][\\w.-]*$"}


REF = _path("ref", {"type": "string", "pattern": REF_PATTERN.pattern})
TIME = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid_transition"},
                "message": {"type": "string", "description": "In the caller's language (Accept-Language)"},
                "field": {"type": "string", "description": "422: the input that is wrong"},
                "allowed_actions": {"type": "array", "items": {"type": "string"},
                                    "description": "409 invalid_transition: what the ticket allows now"},
                "current_version": {"type": "integer", "description": "409 version_conflict"},
            },
        }},
    },
    "Person": {"type": "object", "required": ["id", "name"],
               "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "Group": {"type": "object", "required": ["id", "name"],
              "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "Category": {"type": "object", "required": ["id", "name"],
                 "properties": {"id": {"type": "integer"},
                                "name": {"type": "string",
                                         "description": "In the caller's language (Accept-Language)"}}},
    "Ticket": {
        "type": "object",
        "required": ["ref", "subject", "status", "priority", "channel", "language", "category", "requester",
                     "assignee", "created_at", "updated_at", "version", "fields", "allowed_actions", "url"],
        "properties": {
            "ref": {"type": "string", "example": "MSA-7K3Q-9XPD"},
            "subject": {"type": "string"},
            "status": {"type": "string", "enum": STATUSES,
                       "description": "Customers see open, pending, solved or closed (new and on hold show as open)"},
            "priority": {"type": "string", "enum": list(PRIORITIES)},
            "channel": {"type": "string", "enum": ["web", "email", "api", "phone"]},
            "language": {"type": "string", "enum": LANGUAGES,
                         "description": "What the customer is answered in, e-mails included"},
            "category": _nullable(_ref("Category")),
            "requester": _ref("Person"),
            "assignee": _nullable(_ref("Person")),
            "group": _nullable(_ref("Group")),
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Agents only"},
            "postponed_until": _nullable({**TIME, "description": "Agents only: out of the working queues until "
                                                                 "then, when it comes back open (UTC)"}),
            "created_at": TIME,
            "updated_at": TIME,
            "version": {"type": "integer", "description": "Send it back with PATCH (optimistic locking)"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "The answers to its category's custom fields, by field key, as text "
                                      "(a ticked checkbox is `yes`)"},
            "allowed_actions": {"type": "array", "items": {"type": "string"},
                                "description": "The status actions the caller may send now"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "TicketList": {
        "type": "object",
        "required": ["tickets", "next_cursor"],
        "properties": {"tickets": {"type": "array", "items": _ref("Ticket")},
                       "next_cursor": {"type": "string", "nullable": True,
                                       "description": "Pass as `cursor` for the next page; null on the last"}},
    },
    "TicketCreate": {
        "type": "object",
        "required": ["subject", "description"],
        "properties": {
            "subject": _text(SUBJECT_MAX, blank=False),
            "description": _text(BODY_MAX, blank=False),
            "priority": _optional({"type": "string", "enum": list(PRIORITIES), "default": "normal"}),
            "language": _optional({"type": "string", "enum": LANGUAGES,
                                   "description": "Left out: read from the subject and description, else the "
                                                  "requester's language, else the portal's default"}),
            "category_id": _id(nullable=True, description="One of the categories customers are offered"),
            "requester_id": _id(nullable=True,
                                description="Agents may file for someone else; customers only for themselves"),
            "fields": _optional({
                "type": "object",
                "maxProperties": MAX_FIELD_ANSWERS,
                "additionalProperties": {"oneOf": [_text(MAX_FIELD_VALUE), {"type": "number"}, {"type": "boolean"}]},
                "description": "Answers to the category's custom fields, by field key. Its required fields must be "
                               "answered; a key it does not ask, a value of the wrong kind or not among a select "
                               "field's options is 422 with `field` `fields.<key>`",
            }),
        },
    },
    "TicketUpdate": {
        "type": "object",
        "required": ["version"],
        "properties": {
            "version": {**VERSION, "description": "The version you last read"},
            "action": {"type": "string", "enum": [*AGENT_ACTIONS, *CUSTOMER_ACTIONS, None], "nullable": True,
                       "description": "Agents: " + ", ".join(AGENT_ACTIONS) + ". Customers: "
                                      + ", ".join(CUSTOMER_ACTIONS) + " (reopen needs `reason`)."},
            "reason": _text(BODY_MAX, nullable=True),
            "priority": _optional({"type": "string", "enum": list(PRIORITIES)}),
            "assignee_id": _id(nullable=True),
            "group_id": _id(nullable=True),
            "category_id": _id(nullable=True, description="Agents: one of the categories offered, or null for none"),
            "language": _optional({"type": "string", "enum": LANGUAGES, "description": "Agents"}),
            "tags": {"type": "array", "items": TAG, "maxItems": MAX_TAGS, "nullable": True,
                     "description": "The complete new set of tags"},
            "postponed_until": _nullable({**TIME, "description": "Agents: postpone until then (in the future, at "
                                                                 "most a year ahead); null: resume now"}),
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["id", "filename", "content_type", "size", "url"],
        "properties": {"id": {"type": "integer"}, "filename": {"type": "string"},
                       "content_type": {"type": "string"}, "size": {"type": "integer"},
                       "url": {"type": "string", "format": "uri"}},
    },
    "Message": {
        "type": "object",
        "required": ["id", "author", "body", "public", "channel", "created_at", "attachments"],
        "properties": {
            "id": {"type": "integer"},
            "author": _nullable(_ref("Person")),
            "body": {"type": "string"},
            "public": {"type": "boolean", "description": "false: a private note (never shown to customers)"},
            "channel": {"type": "string"},
            "created_at": TIME,
            "attachments": {"type": "array", "items": _ref("Attachment")},
        },
    },
    "MessageList": {"type": "object", "required": ["messages"],
                    "properties": {"messages": {"type": "array", "items": _ref("Message")}}},
    "MessageCreate": {
        "type": "object",
        "required": ["body"],
        "properties": {
            "body": _text(BODY_MAX, blank=False),
            "public": {"type": "boolean", "default": True, "description": "false: a private note (agents only)"},
            "submit_as": {"type": "string", "enum": [*SUBMIT_AS, None], "nullable": True,
                          "description": "Agents: change the status with the reply"},
            "version": {**VERSION, "nullable": True},
        },
    },
    "MessageUpload": {
        "type": "object",
        "required": ["body"],
        "properties": {
            "body": _text(BODY_MAX, blank=False),
            "public": {"type": "string", "enum": ["true", "false"]},
            "submit_as": {"type": "string", "enum": list(SUBMIT_AS)},
            "version": {"type": "string", "pattern": f"^(?:0|{ID_TEXT})$"},
            "attachments": {"type": "array", "maxItems": 5, "items": {"type": "string", "format": "binary"}},
        },
    },
    "User": {
        "type": "object",
        "required": ["id", "email", "name", "role", "locale", "active", "created_at"],
        "properties": {"id": {"type": "integer"}, "email": {"type": "string"}, "name": {"type": "string"},
                       "role": {"type": "string", "enum": list(ROLES)},
                       "locale": {"type": "string", "nullable": True}, "active": {"type": "boolean"},
                       "created_at": TIME},
    },
    "UserCreate": {
        "type": "object",
        "required": ["email", "name"],
        "properties": {"email": {"type": "string", "format": "email", "maxLength": 254},
                       "name": _text(120, blank=False),
                       "role": _optional({"type": "string", "enum": list(ROLES), "default": "customer"}),
                       "locale": _optional({"type": "string", "enum": LANGUAGES}),
                       "password": _text(MAX_PASSWORD_LENGTH, minLength=MIN_PASSWORD_LENGTH, nullable=True)},
    },
    "KbSearchResults": {
        "type": "object",
        "required": ["query", "total", "suggestion", "confident", "results"],
        "properties": {
            "query": {"type": "string"}, "total": {"type": "integer"},
            "suggestion": {"type": "string", "nullable": True},
            "confident": {"type": "boolean", "description": "false when no article matches well: the results are "
                                                            "only the closest the help center has"},
            "results": {"type": "array", "items": {
                "type": "object",
                "required": ["path", "url", "title", "lang", "section", "snippet", "score"],
                "properties": {"path": {"type": "string"}, "url": {"type": "string"}, "title": {"type": "string"},
                               "lang": {"type": "string"}, "section": {"type": "string"},
                               "snippet": {"type": "string", "description": "HTML, sanitised"},
                               "score": {"type": "number"}},
            }},
        },
    },
    "KbArticle": {
        "type": "object",
        "required": ["path", "url", "title", "lang", "section", "summary", "updated", "html"],
        "properties": {"path": {"type": "string"}, "url": {"type": "string"}, "title": {"type": "string"},
                       "lang": {"type": "string"}, "section": {"type": "string"},
                       "summary": {"type": "string", "nullable": True},
                       "updated": {"type": "string", "nullable": True}, "html": {"type": "string"}},
    },
}

DOWNLOAD_TYPES = ["application/octet-stream", "image/png", "image/jpeg", "image/gif", "image/webp"]

PATHS: dict[str, dict] = {
    "/tickets": {
        "get": {
            "operationId": "listTickets",
            "summary": "Tickets the caller may see, most recently updated first, one page at a time",
            "parameters": [
                {**_query("status", {"type": "array", "items": {"type": "string", "enum": STATUSES}, "minItems": 1},
                          "Comma-separated statuses (customers see new and on hold as open)"),
                 "style": "form", "explode": False},
                _query("priority", {"type": "string", "enum": list(PRIORITIES)}, "Only this priority"),
                _query("assignee", {"type": "string", "pattern": f"^(?:me|none|{ID_TEXT})$"},
                       "Agents: a user id, `me` or `none`"),
                _query("group", {"type": "string", "pattern": f"^(?:none|{ID_TEXT})$"}, "Agents: a group id or `none`"),
                _query("tag", _text(TAG_MAX), "Agents: only tickets with this tag"),
                _query("updated_since", TIME, "Only tickets updated at or after this time"),
                _query("sort", {"type": "string", "enum": ["-updated_at", "updated_at"], "default": "-updated_at"},
                       "Newest first (default) or oldest first"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                       "Page size"),
                _query("cursor", _text(CURSOR_MAX), "`next_cursor` of the previous page, with the same `sort` "
                       "(any other is refused with 422)"),
            ],
            "responses": {"200": _json(_ref("TicketList"), "One page"), **_errors(401, 403, 422, 429)},
        },
        "post": {
            "operationId": "createTicket",
            "summary": "File a ticket (channel `api`)",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string", "pattern": f"^[!-~]{{1,{IDEMPOTENCY_KEY_MAX}}}$"},
                            "description": "The same key from the same token files one ticket: a retry "
                                           "answers 200 with it (header Idempotent-Replayed: true)"}],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("TicketCreate")}}},
            "responses": {"201": _json(_ref("Ticket"), "Filed"),
                          "200": _json(_ref("Ticket"), "Filed earlier with this Idempotency-Key"),
                          **_errors(401, 403, 413, 422, 429)},
        },
    },
    "/tickets/{ref}": {
        "parameters": [REF],
        "get": {"operationId": "getTicket", "summary": "One ticket",
                "responses": {"200": _json(_ref("Ticket"), "The ticket"), **_errors(401, 404, 429)}},
        "patch": {
            "operationId": "updateTicket",
            "summary": "Change fields and apply one status action, all or nothing",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("TicketUpdate")}}},
            "responses": {"200": _json(_ref("Ticket"), "The changed ticket"),
                          **_errors(401, 403, 404, 409, 413, 422, 429)},
        },
    },
    "/tickets/{ref}/messages": {
        "parameters": [REF],
        "get": {"operationId": "listMessages",
                "summary": "The conversation (customers: public replies only)",
                "responses": {"200": _json(_ref("MessageList"), "Oldest first"), **_errors(401, 404, 429)}},
        "post": {
            "operationId": "addMessage",
            "summary": "Reply, or (agents) add a private note; multipart/form-data to attach files",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("MessageCreate")},
                                                          "multipart/form-data": {"schema": _ref("MessageUpload")}}},
            "responses": {"201": _json(_ref("Message"), "Added"),
                          **_errors(401, 403, 404, 409, 413, 422, 429, 503)},
        },
    },
    "/tickets/{ref}/attachments/{attachment_id}": {
        "parameters": [REF, _path("attachment_id", _id())],
        "get": {
            "operationId": "downloadAttachment",
            "summary": "A file; the four web image kinds inline, anything else as bytes to download",
            "responses": {"200": {"description": "The file",
                                  "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                              for t in DOWNLOAD_TYPES}},
                          **_errors(401, 404, 429)},
        },
    },
    "/users/me": {
        "get": {"operationId": "getMe", "summary": "The token's owner",
                "responses": {"200": _json(_ref("User"), "You"), **_errors(401, 429)}},
    },
    "/users/{user_id}": {
        "parameters": [_path("user_id", _id())],
        "get": {"operationId": "getUser", "summary": "Yourself; agents also customers; admins anyone",
                "responses": {"200": _json(_ref("User"), "The person"), **_errors(401, 404, 429)}},
    },
    "/users": {
        "post": {
            "operationId": "createUser",
            "summary": "Admins: create an account (without a password, the person uses “Forgot your password?”)",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("UserCreate")}}},
            "responses": {"201": _json(_ref("User"), "Created"), **_errors(401, 403, 413, 422, 429)},
        },
    },
    "/kb/search": {
        "get": {
            "operationId": "searchKb",
            "summary": "Search the public knowledge base (no token needed)",
            "security": [],
            "parameters": [
                _query("q", _text(MAX_QUERY_CHARS, blank=False), "Words to look for", required=True),
                _query("lang", {"type": "string", "enum": LANGUAGES}, "Language of the articles"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": KB_MAX_LIMIT, "default": 10}, "How many"),
            ],
            "responses": {"200": _json(_ref("KbSearchResults"), "Matching public articles"), **_errors(400, 429)},
        },
    },
    "/kb/articles/{path}": {
        "get": {
            "operationId": "getKbArticle",
            "summary": "One public article by its path (e.g. en/billing/refunds)",
            "security": [],
            "parameters": [_path("path", _text(200))],
            "responses": {"200": _json(_ref("KbArticle"), "The article"), **_errors(404, 429)},
        },
    },
}


def _every_operation_may_be_malformed(paths: dict[str, dict]) -> None:
    """A NUL in a query (views/security.py) or a body that is not JSON is a 400 on any operation."""
    for operations in paths.values():
        for method, operation in operations.items():
            if method != "parameters":
                operation["responses"].setdefault("400", {"$ref": "#/components/responses/E400"})


_every_operation_may_be_malformed(PATHS)


def openapi_document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Mesa API",
            "version": "1.0.0",
            "description": "Tickets, their conversation and attachments, people, and the knowledge base. "
                           "Authenticate with a personal API token (Account → API tokens): "
                           "`Authorization: Bearer <token>`. See docs/api.md.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {f"E{code}": _json(_ref("Error"), text) for code, text in ERROR_DESCRIPTIONS.items()},
        },
    }
