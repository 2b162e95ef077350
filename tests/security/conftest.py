"""Security tests: a seeded world of two customers, an agent and an admin, plus everything a route can point at.

The browser fixtures (Chromium through Playwright, the live server) and the KB fixtures are the ones the browser
and web suites use, re-exported here so the XSS checks run in the same real browser."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date

import pytest

from portal.clock import utcnow
from portal.services.attachments import AttachmentStore, Upload
from tests.browser.conftest import browser_context_args, browser_type_launch_args, live_server  # noqa: F401
from tests.factories import DEFAULT_PASSWORD
from tests.web.conftest import kb_dir  # noqa: F401

# Distinctive enough that finding it in a page means the page revealed it.
SECRET_SUBJECT = "Alice-secret-subject-7Q4Z"
SECRET_BODY = "Alice-secret-body-9K2W"
SECRET_FILENAME = "alice-secret-file-3V8N.txt"


@pytest.fixture
def app_config(tmp_path, kb_dir):  # noqa: F811
    return {"ATTACHMENTS_DIR": str(tmp_path / "files"), "KB_DIR": str(kb_dir), "KB_SYNC_INTERVAL": 0}


@pytest.fixture(autouse=True)
def _close_kb_index(app):
    yield
    index = app.extensions.pop("kb_index", None)
    if index is not None:
        index.close()


@dataclass
class World:
    """Everything the authorisation matrix fills route parameters from."""

    users: dict[str, object]
    ticket: object
    attachment_id: int
    cc_id: int
    draft_id: int
    canned_id: int
    shared_canned_id: int
    group_id: int
    calendar_id: int
    holiday_id: int
    category_id: int
    field_id: int
    policy_id: int
    status_id: int
    spare_user_id: int
    rating_token: str
    action_token: str
    reset_token: str
    extra: dict[str, object] = field(default_factory=dict)


def attach(app, db, ticket, author, *, filename: str, content: bytes, public: bool = True):
    """A message with one stored file, as the upload form leaves it."""
    from portal.services import tickets

    now = utcnow()
    [row] = AttachmentStore.from_config(app.config).save([Upload(filename, io.BytesIO(content))], now=now)
    message = tickets.add_message(db, ticket, body="Here is the file", author=author, public=public, now=now,
                                  attachments=[row])
    db.commit()
    return message.attachments[0]


@functools.cache
def _default_password_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(DEFAULT_PASSWORD)


def person(db, email: str, name: str, *, role: str = "customer"):
    """A user who logs in with the default password; the slow hash is computed once per run, not per user."""
    from portal.services import accounts

    user = accounts.create_user(db, email=email, name=name, password=None, role=role, now=utcnow())
    user.password_hash = _default_password_hash()
    db.commit()
    return user


@pytest.fixture
def world(app, db, make) -> World:
    from portal.models import (
        ArticleDraft,
        BusinessCalendar,
        CannedResponse,
        CustomStatus,
        Group,
        Holiday,
        Macro,
        SlaPolicy,
    )
    from portal.services import password_reset, registration, ticket_ccs
    from portal.views import notify_dispatch

    alice = person(db, "alice@example.com", "Alice Customer")
    bob = person(db, "bob@example.com", "Bob Customer")
    agnes = person(db, "agnes@example.com", "Agnes Agent", role="agent")
    admin = person(db, "admin@example.com", "Ada Admin", role="admin")
    spare = person(db, "sam@example.com", "Sam Spare", role="agent")
    category = make.category(name="Security category", fields=({"key": "serial", "label_en": "Serial"},))
    ticket = make.ticket(requester=alice, subject=SECRET_SUBJECT, description=SECRET_BODY, status="solved",
                         assignee=agnes, category=category)
    attachment = attach(app, db, ticket, alice, filename=SECRET_FILENAME, content=b"alice only")
    cc = ticket_ccs.add_cc(db, ticket, "carol@example.com", actor=alice, now=utcnow())
    group = Group(name="Tier 1", tier=1)
    calendar = BusinessCalendar(name="Madrid", hours={"0": ["09:00", "18:00"]})
    holiday = Holiday(calendar=calendar, day=date(2030, 1, 1), name="New year")
    policy = SlaPolicy(priority="high", plan="standard", first_reply_minutes=60)
    status = CustomStatus(status="pending", label_en="Waiting for parts", label_es="Esperando piezas")
    canned = CannedResponse(title="Hello", body_en="Hello {{ name }}", owner=agnes)
    shared_canned = CannedResponse(title="Shared hello", body_en="Hello from all of us", owner=None)
    draft = ArticleDraft(owner=agnes, ticket=ticket, title="A draft", body="Body", section="account")
    db.add_all([group, calendar, holiday, policy, status, canned, shared_canned, draft])
    db.commit()
    extra = _seed_newer_areas(db, alice, admin)
    personal_macro = Macro(title="My macro", body_en="Hi {{ requester.name }}", owner_id=agnes.id, actions=[])
    shared_macro = Macro(title="Shared macro", body_en="Hello from all of us", owner_id=None, actions=[])
    db.add_all([personal_macro, shared_macro])
    db.commit()
    extra.update(macro_id=personal_macro.id, shared_macro_id=shared_macro.id)
    with app.app_context():
        links = notify_dispatch.ticket_links()
        rating_token = links.rating_token(ticket, "good")
        action_token = links.action_token(ticket, "confirm")
        reset_token = password_reset.ResetTokens(app.config["SECRET_KEY"],
                                                 int(app.config["PASSWORD_RESET_MAX_AGE"])).make(alice)
        newcomer = person(db, "nadia@example.com", "Nadia Newcomer")
        newcomer.verified = False  # signed up, not yet confirmed
        db.commit()
        extra["confirm_token"] = registration.ConfirmationLinks(
            app.config["SECRET_KEY"], int(app.config["CONFIRMATION_MAX_AGE"])).make(newcomer)
    return World(
        users={"alice": alice, "bob": bob, "agent": agnes, "admin": admin},
        ticket=ticket, attachment_id=attachment.id, cc_id=cc.id, draft_id=draft.id, canned_id=canned.id,
        shared_canned_id=shared_canned.id,
        group_id=group.id, calendar_id=calendar.id, holiday_id=holiday.id, category_id=category.id,
        field_id=category.fields[0].id, policy_id=policy.id, status_id=status.id, spare_user_id=spare.id,
        rating_token=rating_token, action_token=action_token, reset_token=reset_token, extra=extra,
    )


def _seed_newer_areas(db, alice, admin) -> dict[str, object]:
    """Route parameters of areas that may or may not be installed yet (API tokens, rules, webhooks), by parameter
    name."""
    extra: dict[str, object] = {}
    try:
        from portal.services import api_tokens
    except ImportError:
        pass
    else:
        token, secret = api_tokens.create(db, name="Alice's script", actor=alice, now=utcnow())
        db.commit()
        extra.update(token_id=token.id, alice_api_secret=secret)
    try:
        from portal.models.rules import Rule
    except ImportError:
        pass
    else:
        rule = Rule(name="Security rule", position=1, events=["ticket_created"], conditions_all=[],
                    conditions_any=[], actions=[{"type": "add_tags", "value": ["checked"]}], created_by_id=admin.id)
        db.add(rule)
        db.commit()
        extra.update(rule_id=rule.id)
    try:
        from portal.models.webhooks import WebhookDelivery, WebhookEndpoint
    except ImportError:
        return extra
    endpoint = WebhookEndpoint(url="http://127.0.0.1:9/mesa", secret="s" * 32, events=["ticket.created"],
                               created_by_id=admin.id)
    delivery = WebhookDelivery(endpoint=endpoint, uid="00000000-0000-4000-8000-000000000001",
                               event="ticket.created", body="{}", status="failed", attempts=8)
    db.add_all([endpoint, delivery])
    db.commit()
    extra.update(endpoint_id=endpoint.id, delivery_id=delivery.id)
    return extra
