"""The README tells a newcomer every setting and the two commands."""

from __future__ import annotations

from pathlib import Path

from portal.config import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_setting():
    missing = [name for name in SETTINGS if f"`PORTAL_{name}`" not in README]
    assert missing == []


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
