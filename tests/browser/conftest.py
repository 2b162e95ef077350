"""Browser tests: the real app served on 127.0.0.1, driven by Playwright through Debian's Chromium."""

from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot of the page when a journey fails, under test-results/."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and page is not None:
        folder = Path("test-results") / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        # A failed screenshot must not hide the real failure.
        with contextlib.suppress(Exception):
            page.screenshot(path=str(folder / f"{item.name}.png"), full_page=True)
