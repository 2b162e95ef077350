"""KB fixtures: the app reads a copy of tests/data/kb."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_KB = Path(__file__).resolve().parents[1] / "data" / "kb"


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    target = tmp_path / "kb_articles"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture
def kb_app(app, kb_dir):
    """The app fixture pointed at the test KB, syncing on every request (no one-second throttle)."""
    app.config.update(KB_DIR=str(kb_dir), KB_SYNC_INTERVAL=0)
    yield app
    index = app.extensions.pop("kb_index", None)
    if index is not None:
        index.close()


@pytest.fixture
def kb_client(kb_app):
    return kb_app.test_client()
