"""Webhooks: admins register HTTPS endpoints; ticket events are queued for them and sent, signed, with retries.

Queuing happens in the transaction of the ticket change, with no call from the ticket services: `watch` hooks
the session so that, when a transaction commits, every ticket that gained `TicketEvent` rows (or was created)
gets one `WebhookDelivery` per subscribed endpoint. A rolled-back change leaves no delivery; a committed one
always has its delivery. `deliver_due` (run by `flask --app app webhooks deliver`) claims due rows, sends them
and logs each attempt. Unlike other services it commits: once per claim, once per attempt, so two hosts never
send one delivery twice and a crash loses at most a lease.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import inspect, or_, select, update
from sqlalchemy.orm import Session, selectinload

from portal.errors import N_, Invalid, NotFound
from portal.integers import whole_number
from portal.models import (
    WEBHOOK_EVENTS,
    Group,
    Ticket,
    TicketEvent,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.services import commit_hooks

TEST_EVENT = "webhook.test"
RULE_EVENT = "rule.fired"  # a business rule's "call a webhook" action (services.rules)
# When one transaction brings several events for a ticket, an endpoint receives one delivery: the most
# specific event it subscribed to. Solving or closing is also an update.
PRECEDENCE = ("ticket.created", "ticket.closed", "ticket.solved", "ticket.updated")
# A private note is the team's business: its existence is not announced outside.
SILENT_KINDS = frozenset({"note_added"})
MAX_RETRY_DELAY = timedelta(days=1)


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int = 8
    retry_seconds: int = 60
    timeout: float = 10.0
    allow_private: bool = False


class Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


@dataclass
class DeliveryReport:
    delivered: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# ---- Which addresses we send to ---------------------------------------------------------------------------


def check_target(url: str, *, allow_private: bool, resolve: Callable = socket.getaddrinfo) -> Target:
    """A webhook may only reach the public internet over HTTPS: every address the host name resolves to must be
    public, so nobody can point the portal at the database, the cloud metadata service or the admin's router."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Invalid(N_("Enter a full address starting with https://."), field="url")
    if parts.scheme == "http" and not allow_private:
        raise Invalid(N_("Use an https:// address: webhooks carry ticket data."), field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Invalid(N_("Enter a full address starting with https://."), field="url") from None
    host = parts.hostname
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Invalid(N_("We could not find the host %(host)s."), field="url", host=host) from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Invalid(N_("We could not find the host %(host)s."), field="url", host=host)
    if not allow_private:
        for address in addresses:
            if is_internal(address):
                raise Invalid(N_("%(host)s leads to a private or reserved address (%(address)s); webhooks only go to "
                                 "public addresses."), field="url", host=host, address=address)
    path = parts.path or "/"
    return Target(parts.scheme, host, port, f"{path}?{parts.query}" if parts.query else path, addresses)


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified or not ip.is_global)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to the address that was checked, not to whatever the name resolves to a moment later (DNS
    rebinding); TLS still verifies the host name. Redirects are not followed: they could lead inside."""
    connection_class = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(target.host, target.port, timeout=timeout)
    address = target.addresses[0]

    def connect_to_checked_address(host_port, timeout=None, source_address=None):
        return socket.create_connection((address, host_port[1]), timeout, source_address)

    connection._create_connection = connect_to_checked_address
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        connection.close()


# ---- Signing ----------------------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`: the time is signed too, so an old request
    cannot be replayed later."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md): recompute the HMAC and refuse stale timestamps."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    sent_at = whole_number(fields.get("t"), maximum=10**10 - 1)  # Unix seconds: ten digits reach the year 2286
    if sent_at is None or abs(now - sent_at) > tolerance:
        return False
    expected = sign(secret, sent_at, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


# ---- Queuing deliveries with the ticket change ------------------------------------------------------------


def watch(session_factory) -> None:
    """Queue deliveries in every transaction of sessions made by this factory (a sessionmaker)."""
    commit_hooks.before_commit(session_factory, _new_changes, queue_changes)


def _new_changes(session: Session) -> list[Ticket | TicketEvent]:
    return [obj for obj in session.new if isinstance(obj, Ticket | TicketEvent)]


def queue_changes(session: Session, changes: Iterable[Ticket | TicketEvent]) -> list[WebhookDelivery]:
    """One delivery per changed ticket and subscribed endpoint, carrying the ticket as it is now."""
    events: dict[Ticket, set[str]] = {}
    occurred: dict[Ticket, datetime] = {}
    for obj in changes:
        if not inspect(obj).persistent:  # rolled back with a savepoint
            continue
        if isinstance(obj, Ticket):
            ticket, names, when = obj, {"ticket.created"}, obj.created_at
        elif obj.kind in SILENT_KINDS:
            continue
        else:
            ticket, names, when = obj.ticket or session.get(Ticket, obj.ticket_id), _event_names(obj), obj.created_at
        events.setdefault(ticket, set()).update(names)
        occurred[ticket] = max(occurred.get(ticket, when), when)
    if not events:
        return []
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))))
    queued = []
    for ticket, names in events.items():
        if "ticket.created" in names:
            names = {"ticket.created"}
        for endpoint in endpoints:
            name = next((n for n in PRECEDENCE if n in names and n in endpoint.events), None)
            if name is not None:
                body = {"event": name, "occurred_at": _iso(occurred[ticket]), "ticket": ticket_payload(session, ticket)}
                queued.append(_new_delivery(endpoint, name, body, ticket=ticket, now=occurred[ticket]))
    session.add_all(queued)
    return queued


def queue_for_rule(session: Session, endpoint: WebhookEndpoint, ticket: Ticket, *, rule_name: str,
                   now: datetime) -> WebhookDelivery:
    """A business rule calls this endpoint about the ticket, whichever events the endpoint subscribed to."""
    body = {"event": RULE_EVENT, "occurred_at": _iso(now), "rule": rule_name,
            "ticket": ticket_payload(session, ticket)}
    delivery = _new_delivery(endpoint, RULE_EVENT, body, ticket=ticket, now=now)
    session.add(delivery)
    return delivery


def _event_names(ticket_event: TicketEvent) -> set[str]:
    if ticket_event.kind == "created":
        return {"ticket.created"}
    if ticket_event.field == "status" and ticket_event.new_value in ("solved", "closed"):
        return {"ticket.updated", f"ticket.{ticket_event.new_value}"}
    return {"ticket.updated"}


def ticket_payload(session: Session, ticket: Ticket) -> dict[str, object]:
    """What a receiver learns about a ticket: its state, never the conversation (and so never a private note)."""
    # By id: a relationship loaded before the change (e.g. `take` sets only assignee_id) may still be stale.
    assignee = session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    group = session.get(Group, ticket.group_id) if ticket.group_id else None
    return {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "requester_email": session.get(User, ticket.requester_id).email,
        "assignee": {"name": assignee.name, "email": assignee.email} if assignee else None,
        "group": group.name if group else None,
        "tags": sorted(ticket.tag_names),
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _new_delivery(endpoint: WebhookEndpoint, name: str, body: dict, *, ticket: Ticket | None,
                  now: datetime) -> WebhookDelivery:
    return WebhookDelivery(endpoint=endpoint, uid=str(uuid.uuid4()), event=name, ticket=ticket,
                           body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), status="pending",
                           attempts=0, next_attempt_at=now, created_at=now)


# ---- Sending ----------------------------------------------------------------------------------------------


def deliver_due(session: Session, settings: DeliverySettings, *, now: datetime, limit: int = 200,
                send: Callable = post) -> DeliveryReport:
    """Send every pending delivery whose time has come, to enabled endpoints. Safe on several hosts at once."""
    due = session.scalars(
        select(WebhookDelivery.id).join(WebhookDelivery.endpoint)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.enabled.is_(True), _unclaimed(now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)
    ).all()
    session.rollback()
    report = DeliveryReport()
    for delivery_id in due:
        delivery = claim(session, delivery_id, settings, now=now)
        if delivery is not None:
            attempt(session, delivery, settings, now=now, send=send)
            outcome = {"delivered": report.delivered, "failed": report.failed}.get(delivery.status, report.retrying)
            outcome.append(delivery.uid)
    return report


def _unclaimed(now: datetime):
    return or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now)


def claim(session: Session, delivery_id: int, settings: DeliverySettings, *, now: datetime) -> WebhookDelivery | None:
    """Take a pending delivery for one lease, or None when another sender got it first: the loser's UPDATE
    matches no row (on PostgreSQL it waits for the winner's commit, then re-checks the condition)."""
    lease = timedelta(seconds=settings.timeout * 2 + 30)
    token = secrets.token_hex(16)
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending", _unclaimed(now))
        .values(claim_token=token, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount != 1:
        return None
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    return delivery if delivery is not None and delivery.claim_token == token else None


def attempt(session: Session, delivery: WebhookDelivery, settings: DeliverySettings, *, now: datetime,
            send: Callable = post, wall_clock: Callable[[], float] = time.time) -> None:
    """One try at a claimed delivery: a 2xx answer delivers it; anything else is retried after a delay that
    doubles each time, until `max_attempts` tries have failed. Every try is logged. `now` places the try in the
    schedule; the signature carries `wall_clock()`, the time it is really sent."""
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Mesa-Webhooks/1",
        "X-Mesa-Event": delivery.event,
        "X-Mesa-Delivery": delivery.uid,
        # The real clock, never `now`: `now` only decides what is due (`--now` runs catch up or test), while
        # the receiver compares this time with its own clock and refuses it outside a few minutes.
        "X-Mesa-Signature": sign(delivery.endpoint.secret, int(wall_clock()), body),
    }
    status_code, error = None, None
    started = time.monotonic()
    try:
        target = check_target(delivery.endpoint.url, allow_private=settings.allow_private)
        status_code = send(target, body, headers, settings.timeout)
    except Invalid as exc:
        error = exc.message % {k: v for k, v in exc.details.items() if k != "field"}
    except Exception as exc:  # a refused connection, a timeout, TLS, a malformed answer: one failed attempt
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    duration_ms = round((time.monotonic() - started) * 1000)
    delivery.attempt_log.append(WebhookAttempt(started_at=now, duration_ms=duration_ms, status_code=status_code,
                                                  error=error[:500] if error else None))
    delivery.attempts += 1
    delivery.claim_token, delivery.claimed_until = None, None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.finished_at = "delivered", now
    elif delivery.attempts >= settings.max_attempts:
        delivery.status, delivery.finished_at = "failed", now
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts, settings)
    session.commit()


def retry_delay(failed_attempts: int, settings: DeliverySettings) -> timedelta:
    """60 s, 2 min, 4 min, 8 min ... (with the default setting), never more than a day."""
    delay = timedelta(seconds=settings.retry_seconds * 2 ** min(failed_attempts - 1, 20))
    return min(delay, MAX_RETRY_DELAY)


# ---- Administration ---------------------------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotFound(N_("We could not find that page."))


def endpoints(session: Session, *, actor: User) -> list[WebhookEndpoint]:
    _require_admin(actor)
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(session: Session, endpoint_id: int, *, actor: User) -> WebhookEndpoint:
    _require_admin(actor)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(N_("We could not find that page."))
    return endpoint


def create_endpoint(session: Session, *, url: str, description: str, events: Iterable[str], allow_private: bool,
                    actor: User, now: datetime) -> WebhookEndpoint:
    """An admin registers an address for some ticket events. Its secret is shown to them once, now."""
    _require_admin(actor)
    url = (url or "").strip()
    if len(url) > 500:
        raise Invalid(N_("Use at most %(max)s characters."), field="url", max=500)
    check_target(url, allow_private=allow_private)
    chosen = [name for name in WEBHOOK_EVENTS if name in set(events or ())]
    if not chosen:
        raise Invalid(N_("Choose at least one event."), field="events")
    endpoint = WebhookEndpoint(url=url, description=(description or "").strip()[:200], secret=new_secret(),
                               events=chosen, enabled=True, created_by=actor, created_at=now)
    session.add(endpoint)
    return endpoint


def set_enabled(session: Session, endpoint: WebhookEndpoint, enabled: bool, *, actor: User) -> None:
    """A disabled endpoint gets no new deliveries, and its pending ones wait until it is enabled again."""
    _require_admin(actor)
    endpoint.enabled = enabled


def delete_endpoint(session: Session, endpoint: WebhookEndpoint, *, actor: User) -> None:
    _require_admin(actor)
    session.delete(endpoint)


def recent_deliveries(session: Session, endpoint: WebhookEndpoint, *, actor: User,
                      limit: int = 30) -> list[WebhookDelivery]:
    _require_admin(actor)
    return list(session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(selectinload(WebhookDelivery.attempt_log), selectinload(WebhookDelivery.ticket))
        .order_by(WebhookDelivery.id.desc()).limit(limit)
    ))


def get_delivery(session: Session, delivery_id: int, *, actor: User) -> WebhookDelivery:
    _require_admin(actor)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(N_("We could not find that page."))
    return delivery


def queue_test(session: Session, endpoint: WebhookEndpoint, *, actor: User, now: datetime) -> WebhookDelivery:
    """A harmless event, so an admin can check the receiver and its signature check before real tickets flow."""
    _require_admin(actor)
    body = {"event": TEST_EVENT, "occurred_at": _iso(now), "endpoint": {"id": endpoint.id, "url": endpoint.url}}
    delivery = _new_delivery(endpoint, TEST_EVENT, body, ticket=None, now=now)
    session.add(delivery)
    return delivery


def send_test(session: Session, endpoint: WebhookEndpoint, settings: DeliverySettings, *, actor: User,
              now: datetime) -> WebhookDelivery:
    """Queue a test event and try it at once, so the admin sees the receiver's answer on the page. Commits."""
    delivery = queue_test(session, endpoint, actor=actor, now=now)
    session.commit()
    claimed = claim(session, delivery.id, settings, now=now)
    if claimed is not None:
        attempt(session, claimed, settings, now=now)
    return delivery


def redeliver(session: Session, delivery: WebhookDelivery, *, actor: User, now: datetime) -> WebhookDelivery:
    """Send the same body again as a new delivery (a new id, so the receiver does not discard it as seen)."""
    _require_admin(actor)
    copy = WebhookDelivery(endpoint=delivery.endpoint, uid=str(uuid.uuid4()), event=delivery.event,
                           ticket_id=delivery.ticket_id, body=delivery.body, status="pending", attempts=0,
                           next_attempt_at=now, created_at=now)
    session.add(copy)
    return copy
