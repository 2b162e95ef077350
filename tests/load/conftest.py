"""The portal served for real: gunicorn (several workers, several threads each) as a subprocess on
127.0.0.1:<free port>, configured only through `PORTAL_*` variables, on the test's own database (SQLite copy,
or PostgreSQL when TEST_DATABASE_URL is set), instance folder, KB copy and SMTP server. Clients are real HTTP
clients (`requests`), logging in through the form with the page's CSRF token, as a browser would.

Every test here is bounded (a fixed number of requests, timeouts everywhere) so that `make test` runs them."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO
from tests.factories import DEFAULT_PASSWORD

FIXTURE_KB = REPO / "tests" / "data" / "kb"
GUNICORN = Path(sys.executable).parent / "gunicorn"
FLASK = Path(sys.executable).parent / "flask"
WORKERS, THREADS = 3, 4
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CSRF_HEADER = re.compile(r'"X-CSRFToken":\s*"([^"]+)"')


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "load: serves the app with gunicorn and drives it with concurrent clients")


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "tests/load/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.load)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Portal:
    """One gunicorn master and its workers, in a process group of their own (so `kill()` can take them all)."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = WORKERS, threads: int = THREADS,
                 worker_class: str = "gthread", access_log: Path | None = None) -> None:
        self.env = env
        self.log_path = log_path
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.workers, self.threads, self.worker_class = workers, threads, worker_class
        self.access_log = access_log  # "<worker pid> <status> <method> <path>" per request, when given

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60.0) -> None:
        # --keep-alive: longer than any pause of these clients. With gunicorn's 2 s, a client that waited at a
        # barrier for the other 49 to log in could send its POST on a kept connection just as the server closed
        # it, and get "connection reset" (seen once on PostgreSQL); requests retries no POST.
        command = [str(GUNICORN), "--chdir", str(REPO), "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--threads", str(self.threads), "--worker-class", self.worker_class,
                   "--keep-alive", "75", "--graceful-timeout", "5", "--timeout", "60", "--log-level", "warning",
                   "app:app"]
        if self.access_log is not None:
            command[-1:-1] = ["--access-logfile", str(self.access_log), "--access-logformat", "%(p)s %(s)s %(m)s %(U)s"]
        log = open(self.log_path, "ab")  # noqa: SIM115  (kept open for the server's lifetime)
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.log()}")
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """`kill -9` the master and every worker at once: no shutdown code runs anywhere."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)
        deadline = time.monotonic() + 10  # workers are reaped by init: wait until none is left
        while time.monotonic() < deadline and _group_alive(self.process.pid):
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """A `flask --app app ...` command with the server's configuration (cron would run it like this)."""
        result = subprocess.run([str(FLASK), "--app", "app", *args], cwd=REPO, env=self.env, capture_output=True,
                                text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def load_kb_dir(tmp_path) -> Path:
    target = tmp_path / "kb_articles"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture
def app_config(smtp_config, load_kb_dir, tmp_path) -> dict:
    """The in-process app (used to arrange and check data) reads the same folders as the server."""
    return {**smtp_config, "KB_DIR": str(load_kb_dir), "KB_INDEX_DIR": str(tmp_path / "instance" / "kb_index")}


@pytest.fixture
def portal_env(app, smtp_server, load_kb_dir) -> dict[str, str]:
    config = app.config
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update({
        "PORTAL_DATABASE_URL": str(config["DATABASE_URL"]),
        "PORTAL_INSTANCE_PATH": str(config["INSTANCE_PATH"]),
        "PORTAL_KB_DIR": str(load_kb_dir),
        "PORTAL_KB_INDEX_DIR": str(config["KB_INDEX_DIR"]),
        "PORTAL_SECRET_KEY": "load-test-secret",
        "PORTAL_BASE_URL": "http://portal.test",
        "PORTAL_SMTP_HOST": smtp_server.host,
        "PORTAL_SMTP_PORT": str(smtp_server.port),
        "PORTAL_SMTP_STARTTLS": "false",
        # Every client of these tests comes from 127.0.0.1: the per-IP login limit would refuse most of them.
        "PORTAL_LOGIN_RATE_LIMIT": "10000 per minute",
        "PORTAL_KB_SYNC_INTERVAL": "0.2",
    })
    return env


@pytest.fixture
def portal(portal_env, tmp_path) -> Portal:
    server = Portal(portal_env, tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


class Visitor:
    """A person with a browser: a cookie jar, the form's CSRF token, no JavaScript."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf = ""

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self.base_url + path, timeout=30, allow_redirects=False, **kwargs)
        self._remember_token(response.text)
        return response

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.http.post(self.base_url + path, data={"csrf_token": self.csrf, **data}, timeout=30,
                              allow_redirects=False, **kwargs)

    def login(self, email: str, password: str = DEFAULT_PASSWORD) -> None:
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text[:500]

    def _remember_token(self, page: str) -> None:
        match = CSRF_FIELD.search(page) or CSRF_HEADER.search(page)
        if match:
            self.csrf = next(group for group in match.groups() if group)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def visitors(portal):
    """`visitors()` gives a new Visitor of the served portal; all are closed after the test."""
    made: list[Visitor] = []

    def new() -> Visitor:
        visitor = Visitor(portal.url)
        made.append(visitor)
        return visitor

    yield new
    for visitor in made:
        visitor.close()


@pytest.fixture
def crowd(db, make):
    """`crowd(count, role=...)` makes that many people at once, sharing one password hash (hashing 50
    passwords one by one would take longer than the test itself)."""
    from portal.models import User

    def people(count: int, *, role: str = "customer", prefix: str = "person") -> list[User]:
        template = make.user(role=role, email=f"{prefix}-0@example.com", name=f"{prefix.title()} 0")
        users = [template]
        for number in range(1, count):
            user = User(email=f"{prefix}-{number}@example.com", name=f"{prefix.title()} {number}", role=role,
                        password_hash=template.password_hash, created_at=template.created_at,
                        password_changed_at=template.password_changed_at)
            db.add(user)
            users.append(user)
        db.commit()
        return users

    return people
