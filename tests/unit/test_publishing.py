"""Publishing files: safe names, atomic writes, all-or-nothing with the index, optional git commits."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from portal.errors import Conflict, Invalid
from portal.services import publishing
from portal.services.publishing import KbTarget, PublishFailed

NOW = datetime(2026, 11, 23, 10, 0)


def _meta(title="Title"):
    return publishing.article_meta(title=title, summary="S", tags=["a"], status="published", updated=NOW,
                                   author="Agnes Agent", source_tickets=["MSA-AAAA-BBBB"], translation_key="k")


@pytest.mark.parametrize(("title", "slug"), [
    ("¿Cómo cambio mi router?", "como-cambio-mi-router"),
    ("Wi-Fi drops: at NIGHT!", "wi-fi-drops-at-night"),
    ("../../etc/passwd", "etc-passwd"),
    ("   ", "article"),
    ("Ñandú & co.", "nandu-co"),
])
def test_slugify(title, slug):
    assert publishing.slugify(title) == slug


@pytest.mark.parametrize("section", ["..", "../x", "/abs", "a/../b", "A", "a b", "a_b", "a//b", "a/", "é", "x" * 130])
def test_odd_sections_are_refused(section):
    with pytest.raises(Invalid):
        publishing.check_section(section)


@pytest.mark.parametrize("section", ["billing", "guides/setup", "connection-2"])
def test_plain_sections_pass(section):
    assert publishing.check_section(section) == section


@pytest.mark.parametrize("path", ["../outside.md", "/etc/x.md", "en/../../x.md", "en/.hidden.md", "en/x.txt", ""])
def test_paths_outside_the_kb_are_refused(tmp_path, path):
    with pytest.raises(Invalid):
        publishing.inside_kb(tmp_path, path)


def test_a_symlink_out_of_the_kb_is_refused(tmp_path):
    kb, outside = tmp_path / "kb", tmp_path / "outside"
    kb.mkdir(), outside.mkdir()
    (kb / "en").symlink_to(outside)
    with pytest.raises(Invalid):
        publishing.inside_kb(kb, "en/x.md")


def test_new_paths_are_unique(tmp_path):
    first = publishing.new_article_path(tmp_path, lang="en", section="billing", title="Pay your bill")
    assert first == "en/billing/pay-your-bill.md"
    (tmp_path / "en/billing").mkdir(parents=True)
    (tmp_path / first).write_text("x")
    assert publishing.new_article_path(tmp_path, lang="en", section="billing", title="Pay your bill") == \
        "en/billing/pay-your-bill-2.md"
    with pytest.raises(Invalid):
        publishing.new_article_path(tmp_path, lang="fr", section="billing", title="x")


def test_write_article_writes_front_matter_and_indexes(tmp_path):
    indexed = []
    target = KbTarget(kb_dir=tmp_path, index=indexed.append)
    article, previous = publishing.write_article(target, "en/billing/pay.md", meta=_meta("Pay"), body="Body text.")
    assert previous is None and [a.path for a in indexed] == ["en/billing/pay.md"]
    assert article.title == "Pay" and article.source_tickets == ["MSA-AAAA-BBBB"] and article.status == "published"
    text = (tmp_path / "en/billing/pay.md").read_text()
    assert text.startswith("---\ntitle: Pay\nsummary: S\n") and text.endswith("Body text.\n")
    assert [p.name for p in (tmp_path / "en/billing").iterdir()] == ["pay.md"]  # no temporary file left


def test_failing_rename_leaves_nothing(tmp_path, monkeypatch):
    indexed = []
    target = KbTarget(kb_dir=tmp_path, index=indexed.append)

    def refuse(*args):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PublishFailed) as failure:
        publishing.write_article(target, "en/billing/pay.md", meta=_meta(), body="x")
    assert failure.value.details["reason"] == "Read-only file system"
    assert list((tmp_path / "en/billing").iterdir()) == [] and indexed == []


def test_failing_index_puts_the_old_file_back(tmp_path):
    file = tmp_path / "en/billing/pay.md"
    file.parent.mkdir(parents=True)
    file.write_text("---\ntitle: Old\n---\n\nOld text.\n")
    calls = []

    def index(article):
        calls.append(article.title)
        if article.title == "New":
            raise RuntimeError("index locked")

    with pytest.raises(PublishFailed):
        publishing.write_article(KbTarget(kb_dir=tmp_path, index=index), "en/billing/pay.md", meta=_meta("New"),
                                 body="New text.")
    assert file.read_text() == "---\ntitle: Old\n---\n\nOld text.\n" and calls == ["New", "Old"]


def test_failing_index_of_a_new_file_removes_it(tmp_path):
    removed = []

    def index(article):
        raise RuntimeError("boom")

    with pytest.raises(PublishFailed):
        publishing.write_article(KbTarget(kb_dir=tmp_path, index=index, unindex=removed.append), "en/b/new.md",
                                 meta=_meta(), body="x")
    assert not (tmp_path / "en/b/new.md").exists() and removed == ["en/b/new.md"]


def test_an_unwritable_folder_raises_a_clear_error(tmp_path):
    """The section's folder cannot be created or written (a file stands where it should be: this fails even
    for root, which ignores permission bits)."""
    (tmp_path / "en").mkdir()
    (tmp_path / "en/billing").write_text("not a folder")
    with pytest.raises(PublishFailed):
        publishing.write_article(KbTarget(kb_dir=tmp_path), "en/billing/pay.md", meta=_meta(), body="x")
    assert sorted(p.name for p in (tmp_path / "en").iterdir()) == ["billing"]
    assert (tmp_path / "en/billing").read_text() == "not a folder"


def test_stale_hash_is_refused(tmp_path):
    file = tmp_path / "en/b/a.md"
    file.parent.mkdir(parents=True)
    file.write_text("# A\n\nOne.\n")
    with pytest.raises(Conflict):
        publishing.write_article(KbTarget(kb_dir=tmp_path), "en/b/a.md", meta=_meta(), body="Two.",
                                 expected_hash="0" * 64)
    assert file.read_text() == "# A\n\nOne.\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_names_the_agent_as_author(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    target = KbTarget(kb_dir=tmp_path, git_commit=True)
    publishing.write_article(target, "en/b/a.md", meta=_meta(), body="x", author=("Agnes Agent", "agnes@example.com"),
                             message="Publish en/b/a.md")
    log = subprocess.run(["git", "-C", str(tmp_path), "log", "--format=%an <%ae>|%s", "--name-only"],
                         capture_output=True, text=True, check=True).stdout
    assert "Agnes Agent <agnes@example.com>|Publish en/b/a.md" in log and "en/b/a.md" in log


def test_no_git_repository_means_no_commit(tmp_path):
    assert publishing.git_commit(Path(tmp_path), "en/a.md", author=("A", "a@example.com"), message="m") is False
