"""Browser tests: the real app served on 127.0.0.1, driven by Playwright through Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal.config import SETTINGS

# Assertions wait as long as actions do (10 s, below): the first search of a fresh server loads the embedding
# model, which on a busy 2-core machine took longer than Playwright's default 5 s and failed a journey that works.
expect.set_options(timeout=10_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
FIXTURE_KB = REPO / "tests" / "data" / "kb"
SCREENSHOTS = Path("test-results") / "screenshots"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).parent.name == "browser":
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: `apt-get install chromium` (.ci/run does it as root)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def live_server(app):
    """The test's app on a free port, in a thread, for one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture
def journey_kb(app, tmp_path):
    """A copy of the test KB that the journey may write to (publishing), never kb_articles/."""
    kb = tmp_path / "kb_articles"
    shutil.copytree(FIXTURE_KB, kb)
    app.config.update(KB_DIR=str(kb), KB_SYNC_INTERVAL=0.2)
    yield kb
    index = app.extensions.pop("kb_index", None)
    if index is not None:
        index.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _portal_environment(config) -> dict[str, str]:
    """The test app's settings as the PORTAL_* variables a deployment would set."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    for name in SETTINGS:
        value = config.get(name)
        if value is not None:
            environment[f"PORTAL_{name}"] = str(value)
    return environment


@pytest.fixture
def gunicorn_server(app, journey_kb, tmp_path):
    """The test's app (its database copy, instance folder, KB copy, outbox) served by gunicorn with two
    workers, as in production: whatever one worker remembers in memory the other does not know. Only the
    PORTAL_* settings reach it, so CSRF and rate limits are on as in production."""
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        # several workers like `make run`, more threads each (the journeys poll presence and counts), a free port
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
         "--worker-class", "gthread", "--access-logfile", "-", "app:app"],
        cwd=REPO, env=_portal_environment(app.config), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                pytest.fail("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text()[-3000:])
            time.sleep(0.1)
    yield base
    process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no need to wait for Chromium's keep-alives
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.fixture
def open_context(browser):
    """`open_context(locale=..., java_script_enabled=...)`: browser contexts closed after the test (after the
    failure screenshots are taken)."""
    contexts = []

    def open_context(**options):
        context = browser.new_context(**{"locale": "en-GB", **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


class Steps:
    """A screenshot after each step of a journey, kept in memory and written out only if the journey fails."""

    def __init__(self) -> None:
        self.shots: list[tuple[str, bytes]] = []

    def __call__(self, name: str, page) -> None:
        with contextlib.suppress(Exception):
            self.shots.append((name, page.screenshot()))


@pytest.fixture
def step() -> Steps:
    return Steps()


def _open_pages(item) -> list:
    """Every page still open in the test: the `page` fixture's and those of any context it opened."""
    pages = []
    funcargs = getattr(item, "funcargs", {})
    if funcargs.get("page") is not None:
        pages.append(funcargs["page"])
    browser = funcargs.get("browser")
    with contextlib.suppress(Exception):
        for context in browser.contexts if browser is not None else []:
            pages.extend(p for p in context.pages if p not in pages)
    return pages


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test fails, keep under test-results/screenshots/<test>/ a screenshot of every open page (all
    contexts), the step-by-step screenshots of a journey, and gunicorn's log."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    folder = SCREENSHOTS / item.name.replace("/", "_")
    # A failed screenshot must not hide the real failure.
    with contextlib.suppress(Exception):
        folder.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(_open_pages(item), start=1):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(folder / f"final-page-{number}.png"), full_page=True)
        server_log = getattr(item, "funcargs", {}).get("tmp_path", Path("/nonexistent")) / "gunicorn.log"
        if server_log.exists():
            shutil.copyfile(server_log, folder / "gunicorn.log")
        steps = getattr(item, "funcargs", {}).get("step")
        for number, (name, png) in enumerate(steps.shots if steps else [], start=1):
            (folder / f"step-{number:02d}-{name}.png").write_bytes(png)
