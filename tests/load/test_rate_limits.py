"""Rate limits across processes, on real gunicorn servers: the limit is the limit whichever worker, or whichever
host, answers. Each attempt comes on a connection of its own, several at once, so several workers answer (the
access log names each answer's worker, and the tests check that more than one did): with counters kept in each
process (`memory://`, the old default) every worker allowed the full limit.

Also the fault of this class: the shared storage does not answer. Logins then go on, limited per process.
And the one limit Mesa counts itself, the mail channel's tickets per sender, with two receivers at once."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.services import api_tokens
from tests.conftest import _free_port
from tests.factories import DEFAULT_PASSWORD
from tests.load.conftest import CSRF_FIELD, Portal

LIMIT = 5
ATTEMPTS = 24
AT_ONCE = 6
WRONG_PASSWORD = "not-the-password-1"


@pytest.fixture
def limited_env(portal_env) -> dict[str, str]:
    # No PORTAL_RATELIMIT_STORAGE_URI: the default a served portal gets.
    return {**portal_env, "PORTAL_LOGIN_RATE_LIMIT": f"{LIMIT} per minute", "PORTAL_API_RATE_LIMIT": f"{LIMIT}/minute"}


def _serve(env: dict[str, str], tmp_path, name: str, *, workers: int = 3):
    """Sync workers (one request at a time each): requests that arrive together are spread over them."""
    server = Portal(env, tmp_path / f"{name}.log", workers=workers, threads=1, worker_class="sync",
                    access_log=tmp_path / f"{name}-access.log")
    server.start()
    return server


@pytest.fixture
def workers_portal(limited_env, tmp_path):
    server = _serve(limited_env, tmp_path, "workers")
    yield server
    server.stop()


def _form_session(base_url: str, path: str) -> tuple[dict[str, str], str]:
    """The cookies and CSRF token a browser has after showing the form."""
    with requests.Session() as browser:
        page = browser.get(base_url + path, timeout=30)
        token = next(group for group in CSRF_FIELD.search(page.text).groups() if group)
        return browser.cookies.get_dict(), token


def _post_on_a_new_connection(url: str, data: dict, cookies: dict[str, str]) -> int:
    return requests.post(url, data=data, cookies=cookies, headers={"Connection": "close"}, timeout=30,
                         allow_redirects=False).status_code


def _at_once(calls) -> Counter:
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return Counter(pool.map(lambda call: call(), calls))


def _workers_that_answered(server: Portal, method: str, path: str) -> set[str]:
    lines = server.access_log.read_text().splitlines()
    return {line.split()[0] for line in lines if re.fullmatch(rf"\S+ \d+ {method} {re.escape(path)}", line)}


def test_login_password_reset_and_api_limits_hold_whichever_worker_answers(workers_portal, crowd, db):
    """One server for the three limits (a server takes seconds to start): each has its own counters."""
    (victim,) = crowd(1, prefix="victim")
    base = workers_portal.url

    cookies, token = _form_session(base, "/login")
    guess = {"csrf_token": token, "email": victim.email, "password": WRONG_PASSWORD}
    answers = _at_once([lambda: _post_on_a_new_connection(base + "/login", guess, cookies)] * ATTEMPTS)
    assert len(_workers_that_answered(workers_portal, "POST", "/login")) >= 2, workers_portal.access_log.read_text()
    assert answers == Counter({422: LIMIT, 429: ATTEMPTS - LIMIT}), "guesses allowed beyond the limit"

    cookies, token = _form_session(base, "/forgot-password")
    reset = {"csrf_token": token, "email": victim.email}
    answers = _at_once([lambda: _post_on_a_new_connection(base + "/forgot-password", reset, cookies)] * ATTEMPTS)
    assert len(_workers_that_answered(workers_portal, "POST", "/forgot-password")) >= 2
    assert answers == Counter({303: LIMIT, 429: ATTEMPTS - LIMIT}), "reset mails asked for beyond the limit"

    _token, secret = api_tokens.create(db, name="busy script", actor=victim, now=utcnow())
    db.commit()

    def call() -> int:
        return requests.get(base + "/api/v1/users/me", timeout=30,
                            headers={"Authorization": f"Bearer {secret}", "Connection": "close"}).status_code

    answers = _at_once([call] * ATTEMPTS)
    assert len(_workers_that_answered(workers_portal, "GET", "/api/v1/users/me")) >= 2
    assert answers == Counter({200: LIMIT, 429: ATTEMPTS - LIMIT}), "API calls allowed beyond the budget"


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_two_hosts_sharing_redis_share_the_limit(limited_env, tmp_path, crowd):
    """Two servers with instance folders of their own (two hosts), one database, one Redis: the guesses are
    sent to each in turn, and the limit is the limit of one."""
    if not _redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379: the limits across hosts cannot be shown")
    (victim,) = crowd(1, prefix="victim")
    # A prefix of its own: this run's counters are not any other run's (Redis keeps them for the minute).
    env = {**limited_env, "PORTAL_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
           "PORTAL_RATELIMIT_KEY_PREFIX": f"mesa-test-{uuid.uuid4().hex}"}
    hosts = []
    try:
        for name in ("host-a", "host-b"):
            (tmp_path / name).mkdir()
            hosts.append(_serve({**env, "PORTAL_INSTANCE_PATH": str(tmp_path / name)}, tmp_path, name, workers=1))
        cookies, token = _form_session(hosts[0].url, "/login")  # one secret key: the token is good on both
        guess = {"csrf_token": token, "email": victim.email, "password": WRONG_PASSWORD}
        answers = [_post_on_a_new_connection(hosts[number % 2].url + "/login", guess, cookies)
                   for number in range(4 * LIMIT)]
        assert answers == [422] * LIMIT + [429] * 3 * LIMIT
        assert all(_workers_that_answered(host, "POST", "/login") for host in hosts)
        assert not list(tmp_path.glob("host-*/ratelimits.db"))  # the counters were in Redis
    finally:
        for host in hosts:
            host.stop()


def test_with_the_storage_down_logins_go_on_limited_per_process(limited_env, tmp_path, crowd):
    """Redis down (nothing listens on its port): no 500, the right password still logs in, and guesses are still
    refused past the limit, counted by the worker itself until the storage answers again."""
    (victim,) = crowd(1, prefix="victim")
    env = {**limited_env, "PORTAL_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_free_port()}"}
    server = _serve(env, tmp_path, "storage-down", workers=1)
    try:
        cookies, token = _form_session(server.url, "/login")
        login = {"csrf_token": token, "email": victim.email}
        assert _post_on_a_new_connection(server.url + "/login", {**login, "password": DEFAULT_PASSWORD},
                                         cookies) == 303
        answers = [_post_on_a_new_connection(server.url + "/login", {**login, "password": WRONG_PASSWORD}, cookies)
                   for _ in range(2 * LIMIT)]
        assert answers == [422] * (LIMIT - 1) + [429] * (LIMIT + 1)
        log = server.log()
        assert "does not answer" in log and "falling back to in-memory storage" in log
    finally:
        server.stop()


def test_mail_from_one_address_received_twice_at_once_opens_tickets_only_up_to_the_limit(app, make, monkeypatch):
    """The mail channel's own limit (`PORTAL_MAIL_MAX_PER_SENDER_PER_HOUR`) is counted in the database, so it
    is shared by every process; but two receivers (MTA pipes, `mail serve` on two hosts) that both counted before
    either had committed both opened a ticket. The count is stretched here so that the two always overlap."""
    from email.message import EmailMessage

    from portal.models import Ticket
    from portal.services.mail import inbound

    sender = make.user(email="flood@example.net", name="Flood")
    settings = inbound.InboundSettings(**{**inbound.InboundSettings.from_config(app.config).__dict__,
                                          "max_new_per_hour": 1})
    counted = inbound._new_tickets_last_hour

    def slow_count(*args, **kwargs):
        count = counted(*args, **kwargs)
        time.sleep(0.5)  # the other receiver counts meanwhile
        return count

    monkeypatch.setattr(inbound, "_new_tickets_last_hour", slow_count)

    def receive(subject: str, outcomes: list[str]) -> None:
        message = EmailMessage()
        message["From"], message["Subject"] = sender.email, subject
        message.set_content("The printer is on fire.")
        session = app.extensions["sessionmaker"]()
        try:
            outcomes.append(inbound.ingest(session, message.as_bytes(), settings=settings, now=utcnow()).outcome)
            session.commit()
        finally:
            session.close()

    outcomes: list[str] = []
    receivers = [threading.Thread(target=receive, args=(f"Help {n}", outcomes)) for n in range(2)]
    for receiver in receivers:
        receiver.start()
    for receiver in receivers:
        receiver.join(timeout=30)
    assert sorted(outcomes) == ["created", "rate_limited"]
    session = app.extensions["sessionmaker"]()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    session.close()
