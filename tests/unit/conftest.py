"""A scratch copy of the fixture help center and an index over it, for the search tests (a module may define its
own `kb_dir` with more articles)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal.search import KbIndex
from tests.kb_fixtures import FIXTURE_KB


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture
def index(kb_dir, tmp_path):
    kb_index = KbIndex(tmp_path / "index", kb_dir, "en")
    kb_index.ensure()
    yield kb_index
    kb_index.close()
