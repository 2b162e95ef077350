"""Webhooks: events queued with the ticket change, signed deliveries to a real HTTP receiver, retries with
backoff, giving up, the guard against private targets, and nothing private in a payload."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.models import Ticket, WebhookDelivery, WebhookEndpoint
from portal.services import agent_desk, tickets, webhooks
from portal.status import Action
from tests.conftest import _free_port

NOW = datetime(2026, 11, 23, 9, 0, 0)
SETTINGS = webhooks.DeliverySettings(max_attempts=3, retry_seconds=60, timeout=5.0, allow_private=True)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each request and answers with the next queued status."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: deque[int] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.answers.popleft() if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mesa"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def app_config():
    return {"WEBHOOKS_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(db, admin_user, receiver):
    return add_endpoint(db, admin_user, receiver.url)


def add_endpoint(db, admin, url, events=webhooks.WEBHOOK_EVENTS) -> WebhookEndpoint:
    found = webhooks.create_endpoint(db, url=url, description="CRM", events=events, allow_private=True,
                                     actor=admin, now=NOW)
    db.commit()
    return found


def deliveries(db, endpoint=None) -> list[WebhookDelivery]:
    db.expire_all()
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint.id)
    return list(db.scalars(query))


def file_ticket(db, requester, subject="Router blinks red") -> Ticket:
    ticket = tickets.create_ticket(db, requester=requester, subject=subject, description="Since this morning.",
                                   actor=requester, now=NOW).ticket
    db.commit()
    return ticket


def expected_signature(secret: str, header: str, body: bytes) -> bool:
    """The receiver's side, written out independently of the service."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    mac = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, fields["v1"])


def signed_at(request: dict) -> int:
    fields = dict(part.split("=", 1) for part in request["headers"]["X-Mesa-Signature"].split(","))
    return int(fields["t"])


def documented_receiver_accepts(secret: str, header: str, body: bytes) -> bool:
    """The receiver of docs/webhooks.md, as a customer would copy it."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, received = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


# ---- Delivering --------------------------------------------------------------------------------------------


def test_a_new_ticket_reaches_the_receiver_signed_with_the_endpoint_secret(db, alice, endpoint, receiver):
    ticket = file_ticket(db, alice)
    report = webhooks.deliver_due(db, SETTINGS, now=NOW)

    assert len(receiver.requests) == 1 and len(report.delivered) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/mesa"
    assert request["headers"]["X-Mesa-Event"] == "ticket.created"
    assert expected_signature(endpoint.secret, request["headers"]["X-Mesa-Signature"], request["body"])
    assert not expected_signature("whsec_someone-else", request["headers"]["X-Mesa-Signature"], request["body"])
    assert abs(signed_at(request) - time.time()) <= 2  # the real clock, not the run's `now`
    payload = json.loads(request["body"])
    assert payload["event"] == "ticket.created" and payload["occurred_at"] == "2026-11-23T09:00:00Z"
    assert payload["ticket"]["ref"] == ticket.ref
    assert payload["ticket"]["subject"] == "Router blinks red"
    assert payload["ticket"]["requester_email"] == "alice@example.com"
    assert payload["ticket"]["status"] == "new"
    [delivery] = deliveries(db)
    assert request["headers"]["X-Mesa-Delivery"] == delivery.uid
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert [(a.status_code, a.error) for a in delivery.attempt_log] == [(200, None)]
    assert webhooks.deliver_due(db, SETTINGS, now=NOW + timedelta(hours=1)).delivered == []
    assert len(receiver.requests) == 1


def test_the_published_verification_accepts_fresh_signatures_and_refuses_old_or_forged_ones():
    body = b'{"event":"ticket.created"}'
    header = webhooks.sign("whsec_abc", 1_800_000_000, body)
    assert webhooks.verify("whsec_abc", header, body, now=1_800_000_010)
    assert not webhooks.verify("whsec_abc", header, body + b" ", now=1_800_000_010)
    assert not webhooks.verify("whsec_other", header, body, now=1_800_000_010)
    assert not webhooks.verify("whsec_abc", header, body, now=1_800_000_000 + 3600)


def test_a_failing_receiver_gets_a_retry_after_the_backoff(db, alice, endpoint, receiver):
    receiver.answers.extend([500, 200])
    file_ticket(db, alice)

    first = webhooks.deliver_due(db, SETTINGS, now=NOW)
    assert first.retrying and len(receiver.requests) == 1
    [delivery] = deliveries(db)
    assert delivery.status == "pending" and delivery.next_attempt_at == NOW + timedelta(seconds=60)

    webhooks.deliver_due(db, SETTINGS, now=NOW + timedelta(seconds=59))
    assert len(receiver.requests) == 1  # not before the backoff

    second = webhooks.deliver_due(db, SETTINGS, now=NOW + timedelta(seconds=60))
    assert second.delivered and len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    [delivery] = deliveries(db)
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log] == [500, 200]
    assert all(a.duration_ms >= 0 for a in delivery.attempt_log)


def test_the_delay_doubles_and_the_delivery_is_given_up_after_the_last_attempt(db, alice, endpoint, receiver):
    receiver.answers.extend([503, 503, 503, 503])
    file_ticket(db, alice)
    moment = NOW
    for expected_delay in (60, 120):
        webhooks.deliver_due(db, SETTINGS, now=moment)
        [delivery] = deliveries(db)
        assert delivery.next_attempt_at - moment == timedelta(seconds=expected_delay)
        moment = delivery.next_attempt_at
    report = webhooks.deliver_due(db, SETTINGS, now=moment)

    assert report.failed and len(receiver.requests) == 3
    [delivery] = deliveries(db)
    assert delivery.status == "failed" and delivery.attempts == 3 and delivery.finished_at == moment
    assert webhooks.deliver_due(db, SETTINGS, now=moment + timedelta(days=3)).failed == []
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_is_logged_with_the_error(db, alice, admin_user):
    add_endpoint(db, admin_user, f"http://127.0.0.1:{_free_port()}/nobody-listens")
    file_ticket(db, alice)
    webhooks.deliver_due(db, SETTINGS, now=NOW)
    [delivery] = deliveries(db)
    [attempt] = delivery.attempt_log
    assert attempt.status_code is None and "Connection" in attempt.error
    assert delivery.status == "pending"


def test_a_claimed_delivery_is_not_sent_by_a_second_host(app, db, alice, endpoint, receiver):
    file_ticket(db, alice)
    [delivery] = deliveries(db)
    other_host = app.extensions["sessionmaker"]()
    try:
        assert webhooks.claim(db, delivery.id, SETTINGS, now=NOW) is not None
        assert webhooks.claim(other_host, delivery.id, SETTINGS, now=NOW) is None
        assert webhooks.deliver_due(other_host, SETTINGS, now=NOW).delivered == []
        assert receiver.requests == []
        # A host that died while sending: once its lease is over, someone else sends it.
        later = NOW + timedelta(minutes=5)
        assert webhooks.deliver_due(other_host, SETTINGS, now=later).delivered == [delivery.uid]
    finally:
        other_host.close()
    assert len(receiver.requests) == 1


def test_the_cli_sends_what_is_due(runner, db, alice, endpoint, receiver):
    file_ticket(db, alice)
    result = runner.invoke(args=["webhooks", "deliver", "--now", "2026-11-23T09:00"])
    assert result.exit_code == 0, result.output
    assert "Delivered 1" in result.output and len(receiver.requests) == 1


@pytest.mark.parametrize("run_as", ["2031-01-01T00:00", "2026-11-23T09:00"])
def test_a_run_with_another_now_signs_with_the_real_clock(runner, db, alice, endpoint, receiver, run_as):
    """`--now` decides what is due (catching up); the signature must still pass a receiver that follows
    docs/webhooks.md, whose tolerance is five minutes around its own clock."""
    file_ticket(db, alice)
    result = runner.invoke(args=["webhooks", "deliver", "--now", run_as])
    assert result.exit_code == 0, result.output
    [request] = receiver.requests
    assert abs(signed_at(request) - time.time()) <= 2
    header = request["headers"]["X-Mesa-Signature"]
    assert documented_receiver_accepts(endpoint.secret, header, request["body"])
    assert webhooks.verify(endpoint.secret, header, request["body"], now=time.time())


# ---- Which events are queued -------------------------------------------------------------------------------


def test_created_updated_solved_and_closed_are_queued_by_the_ticket_services(db, alice, agnes, endpoint):
    ticket = file_ticket(db, alice)
    tickets.change_status(db, ticket, Action.TAKE, actor=agnes, role="agent", now=NOW + timedelta(minutes=1))
    db.commit()
    tickets.change_status(db, ticket, Action.SOLVE, actor=agnes, role="agent", now=NOW + timedelta(minutes=2))
    db.commit()
    tickets.change_status(db, ticket, Action.CONFIRM, actor=alice, role="customer", now=NOW + timedelta(minutes=3))
    db.commit()

    queued = deliveries(db)
    assert [d.event for d in queued] == ["ticket.created", "ticket.updated", "ticket.solved", "ticket.closed"]
    bodies = [json.loads(d.body) for d in queued]
    assert [b["ticket"]["status"] for b in bodies] == ["new", "open", "solved", "closed"]
    assert bodies[1]["ticket"]["assignee"] == {"name": "Agnes Agent", "email": "agnes@example.com"}
    assert bodies[3]["occurred_at"] == "2026-11-23T09:03:00Z"
    assert all(d.ticket_id == ticket.id for d in queued)


def test_several_changes_in_one_transaction_make_one_update(db, alice, agnes, endpoint):
    ticket = file_ticket(db, alice)
    agent_desk.set_priority(db, ticket, "urgent", actor=agnes, now=NOW)
    db.flush()
    agent_desk.add_tag(db, ticket, "outage", actor=agnes, now=NOW)
    db.commit()

    updates = [d for d in deliveries(db) if d.event == "ticket.updated"]
    assert len(updates) == 1
    body = json.loads(updates[0].body)["ticket"]
    assert (body["priority"], body["tags"]) == ("urgent", ["outage"])


def test_a_rolled_back_change_queues_nothing(db, alice, agnes, endpoint):
    ticket = file_ticket(db, alice)
    before = len(deliveries(db))
    agent_desk.set_priority(db, ticket, "high", actor=agnes, now=NOW)
    db.flush()
    db.rollback()
    db.commit()
    assert len(deliveries(db)) == before


def test_a_change_rolled_back_to_a_savepoint_queues_nothing(db, alice, agnes, endpoint):
    kept, undone = file_ticket(db, alice, "Kept"), file_ticket(db, alice, "Undone")
    before = len(deliveries(db))
    with pytest.raises(RuntimeError), db.begin_nested():
        agent_desk.set_priority(db, undone, "high", actor=agnes, now=NOW)
        db.flush()
        raise RuntimeError("this ticket's change is abandoned")
    agent_desk.set_priority(db, kept, "low", actor=agnes, now=NOW)
    db.commit()
    queued = deliveries(db)[before:]
    assert [(d.event, d.ticket_id) for d in queued] == [("ticket.updated", kept.id)]


def test_an_endpoint_gets_only_the_events_it_chose_and_a_disabled_one_gets_none(db, alice, agnes, admin_user,
                                                                                  receiver):
    solved_only = add_endpoint(db, admin_user, receiver.url, events=["ticket.solved"])
    switched_off = add_endpoint(db, admin_user, receiver.url)
    webhooks.set_enabled(db, switched_off, False, actor=admin_user)
    db.commit()
    ticket = file_ticket(db, alice)
    tickets.change_status(db, ticket, Action.TAKE, actor=agnes, role="agent", now=NOW)
    tickets.change_status(db, ticket, Action.SOLVE, actor=agnes, role="agent", now=NOW)
    db.commit()
    assert [d.event for d in deliveries(db, solved_only)] == ["ticket.solved"]
    assert deliveries(db, switched_off) == []


def test_no_private_note_ever_reaches_a_payload(db, alice, agnes, endpoint):
    ticket = file_ticket(db, alice)
    before = len(deliveries(db))
    tickets.add_message(db, ticket, body="Refund approved by finance, do not tell", author=agnes, public=False,
                        now=NOW)
    db.commit()
    assert len(deliveries(db)) == before  # a note alone is not announced
    tickets.add_message(db, ticket, body="Internal: customer is on the watch list", author=agnes, public=False,
                        now=NOW)
    tickets.change_status(db, ticket, Action.TAKE, actor=agnes, role="agent", now=NOW)
    db.commit()
    everything = " ".join(d.body for d in deliveries(db))
    assert len(deliveries(db)) == before + 1
    assert "Refund approved" not in everything and "watch list" not in everything
    assert "Since this morning" not in everything  # nor the public conversation: only the ticket's state


# ---- Where deliveries may go -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost:8443/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://0.0.0.0/hook",
])
def test_private_loopback_link_local_and_metadata_targets_are_refused(url):
    with pytest.raises(webhooks.Invalid) as refused:
        webhooks.check_target(url, allow_private=False)
    assert "private or reserved" in refused.value.message


def test_every_address_of_a_name_is_checked():
    def resolves_to_public_and_private(host, port, type=0):
        return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.7", port))]

    with pytest.raises(webhooks.Invalid) as refused:
        webhooks.check_target("https://crm.example.com/hook", allow_private=False,
                              resolve=resolves_to_public_and_private)
    assert refused.value.details["address"] == "10.0.0.7"


@pytest.mark.parametrize("url", ["http://93.184.216.34/hook", "ftp://93.184.216.34/", "crm.example.com/hook", ""])
def test_plain_http_and_other_schemes_are_refused(url):
    with pytest.raises(webhooks.Invalid):
        webhooks.check_target(url, allow_private=False)


def test_a_public_https_address_is_accepted_and_the_setting_opens_local_http():
    target = webhooks.check_target("https://93.184.216.34:8443/hooks?x=1", allow_private=False)
    assert target == ("https", "93.184.216.34", 8443, "/hooks?x=1", ("93.184.216.34",))
    assert webhooks.check_target("http://127.0.0.1:9000/h", allow_private=True).addresses == ("127.0.0.1",)


def test_the_guard_also_runs_when_sending(db, alice, endpoint, receiver):
    file_ticket(db, alice)
    strict = webhooks.DeliverySettings(max_attempts=3, retry_seconds=60, timeout=5.0, allow_private=False)
    webhooks.deliver_due(db, strict, now=NOW)
    assert receiver.requests == []
    [delivery] = deliveries(db)
    assert "https://" in delivery.attempt_log[0].error and delivery.status == "pending"
