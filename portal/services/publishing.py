"""Writing knowledge-base files from the web: safe paths, atomic writes, the index updated at once.

A published article is `<kb_dir>/<lang>/<section>/<slug>.md` with YAML front matter. Every write goes to a
temporary file in the same folder, is fsync'ed and then renamed over the target (`os.replace`), so readers see
the old file or the new one, never half of one. Only after the rename is the article indexed (through the
`index` callback the caller passes, e.g. `kb_access.index_now`); when indexing fails, the previous file (or no
file) is put back. Whatever fails half way raises `PublishFailed` and leaves the folder and the index as they
were.

With `git_commit=True` and a KB folder that is a git work tree, the file is also committed with the agent as
author (plain `git` through subprocess, no shell); a failing commit is logged, the article stays published.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import yaml

from portal.articles import SUPPORTED_LANGUAGES, Article, content_hash, is_safe_relative_path, parse_article
from portal.errors import N_, Conflict, DomainError, Invalid, NotFound

log = logging.getLogger(__name__)

SLUG_MAX = 80
SECTION_MAX = 120
_SEGMENT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LOCK_FILE = ".mesa-publish.lock"
_thread_lock = threading.Lock()
FRONT_MATTER_ORDER = ("title", "summary", "tags", "status", "updated", "author", "source_tickets",
                      "translation_key", "related")


class PublishFailed(DomainError):
    """The file could not be written (disk full, read-only folder, rename refused) or indexed."""

    status_code = 503


@dataclass(frozen=True)
class KbTarget:
    """Where and how to publish: the KB folder, the index callbacks and the git option."""

    kb_dir: Path
    default_lang: str = "en"
    index: Callable[[Article], None] | None = None
    unindex: Callable[[str], None] | None = None
    git_commit: bool = False


# ---- Names ---------------------------------------------------------------------------------------------


def slugify(text: str, *, fallback: str = "article") -> str:
    """ASCII, lower case, hyphens: "¿Cómo cambio mi router?" → "como-cambio-mi-router"."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:SLUG_MAX].strip("-")
    return slug or fallback


def check_segment(value: str, *, field: str) -> str:
    if not isinstance(value, str) or not _SEGMENT.match(value) or len(value) > SLUG_MAX:
        raise Invalid(N_("Use only lower-case letters, digits and hyphens here."), field=field)
    return value


def check_section(section: str) -> str:
    """A section is one or more safe segments separated by "/" (e.g. `guides/setup`)."""
    section = (section or "").strip()
    if not section or len(section) > SECTION_MAX:
        raise Invalid(N_("Use only lower-case letters, digits and hyphens here."), field="section")
    for part in section.split("/"):
        check_segment(part, field="section")
    return section


def check_lang(lang: str) -> str:
    if lang not in SUPPORTED_LANGUAGES:
        raise Invalid(N_("Choose one of the languages offered."), field="lang")
    return lang


def inside_kb(kb_dir: Path, relative: str) -> Path:
    """The absolute file for a KB path; refuses anything that would resolve outside the KB folder."""
    if not is_safe_relative_path(relative):
        raise Invalid(N_("That path is not inside the knowledge base."), field="path")
    root = Path(kb_dir).resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root:
        raise Invalid(N_("That path is not inside the knowledge base."), field="path")
    return target


def new_article_path(kb_dir: Path, *, lang: str, section: str, title: str, slug: str | None = None) -> str:
    """A free `<lang>/<section>/<slug>.md`: `-2`, `-3` … appended when the name is taken."""
    lang, section = check_lang(lang), check_section(section)
    base = check_segment(slug, field="slug") if slug else slugify(title)
    for number in range(1, 1000):
        candidate = base if number == 1 else f"{base[:SLUG_MAX - 4]}-{number}"
        relative = f"{lang}/{section}/{candidate}.md"
        if not inside_kb(kb_dir, relative).exists():
            return relative
    raise Conflict(N_("Too many articles share this title. Choose another one."))


# ---- Files ---------------------------------------------------------------------------------------------


def render_file(meta: dict[str, object], body: str) -> str:
    ordered = {key: meta[key] for key in FRONT_MATTER_ORDER if meta.get(key) not in (None, "", [])}
    ordered.update({key: value for key, value in meta.items() if key not in ordered and value not in (None, "")})
    front = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, default_flow_style=None, width=1000)
    return f"---\n{front}---\n\n{body.strip()}\n"


def read_raw(kb_dir: Path, relative: str) -> bytes:
    try:
        return inside_kb(kb_dir, relative).read_bytes()
    except OSError as exc:
        raise NotFound(N_("We could not find that article.")) from exc


def split_file(kb_dir: Path, relative: str, *, default_lang: str) -> tuple[dict, str, Article]:
    """(front matter, body as written, parsed article) of a KB file."""
    raw = read_raw(kb_dir, relative)
    article = parse_article(relative, raw, default_lang=default_lang)
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    match = re.match(r"\A---[ \t]*\r?\n.*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", text, re.S)
    body = text[match.end():] if match else text
    meta = {key: value for key, value in article.extra.items()}
    return meta, body.strip(), article


@contextlib.contextmanager
def kb_write_lock(kb_dir: Path) -> Iterator[None]:
    """One writer at a time per KB folder, across threads and processes."""
    with _thread_lock:
        Path(kb_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(kb_dir) / _LOCK_FILE, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def atomic_write(target: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename over the target. On any failure: no temporary file
    left and the target untouched; raises PublishFailed."""
    temp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=target.parent)
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
        temp_name = None
        with contextlib.suppress(OSError):
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
    except OSError as exc:
        log.warning("Could not write %s: %s", target, exc)
        raise PublishFailed(N_("The article could not be saved (%(reason)s). Nothing was published; "
                               "your draft is kept."), reason=exc.strerror or str(exc)) from exc
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


def write_article(target: KbTarget, relative: str, *, meta: dict[str, object], body: str,
                  expected_hash: str | None = None, must_be_new: bool = False,
                  author: tuple[str, str] | None = None, message: str = "") -> tuple[Article, bytes | None]:
    """Write one article file and index it, all or nothing. Returns the article and the file's previous bytes
    (None when it is new). `expected_hash` refuses to overwrite a file someone changed meanwhile."""
    file = inside_kb(target.kb_dir, relative)
    data = render_file(meta, body).encode("utf-8")
    with kb_write_lock(target.kb_dir):
        previous = file.read_bytes() if file.exists() else None
        if must_be_new and previous is not None:
            raise Conflict(N_("An article with this name already exists."))
        if expected_hash is not None and (previous is None or content_hash(previous) != expected_hash):
            raise Conflict(N_("Someone else changed this article since you opened it. Your text is kept in "
                              "the draft: reload the article and apply your change again."))
        atomic_write(file, data)
        article = parse_article(relative, data, default_lang=target.default_lang)
        try:
            if target.index is not None:
                target.index(article)
        except Exception as exc:
            _undo(target, file, relative, previous)
            log.warning("Could not index %s: %s", relative, exc)
            raise PublishFailed(N_("The article could not be saved (%(reason)s). Nothing was published; "
                                   "your draft is kept."), reason="search index") from exc
    if target.git_commit and author is not None:
        git_commit(target.kb_dir, relative, author=author, message=message or f"Update {relative}")
    return article, previous


def _undo(target: KbTarget, file: Path, relative: str, previous: bytes | None) -> None:
    with contextlib.suppress(Exception):
        if previous is None:
            file.unlink(missing_ok=True)
            if target.unindex is not None:
                target.unindex(relative)
        else:
            atomic_write(file, previous)
            if target.index is not None:
                target.index(parse_article(relative, previous, default_lang=target.default_lang))


def article_meta(*, title: str, summary: str, tags: list[str], status: str, updated: datetime, author: str,
                 source_tickets: list[str], translation_key: str, extra: dict | None = None) -> dict[str, object]:
    meta = dict(extra or {})
    meta.update(title=title, summary=summary, tags=list(tags), status=status, updated=updated.date().isoformat(),
                author=author, source_tickets=list(source_tickets), translation_key=translation_key)
    return meta


# ---- Git -----------------------------------------------------------------------------------------------


def is_git_repository(kb_dir: Path) -> bool:
    try:
        answer = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", "-C", os.fspath(kb_dir), "rev-parse", "--is-inside-work-tree"],  # noqa: S607
            capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return answer.returncode == 0 and answer.stdout.strip() == "true"


def git_commit(kb_dir: Path, relative: str, *, author: tuple[str, str], message: str) -> bool:
    """Commit one file with the agent as author. Never raises: the article is already published."""
    if not is_git_repository(kb_dir):
        return False
    name, email = author
    base = ["git", "-C", os.fspath(kb_dir)]
    identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    try:
        subprocess.run([*base, "add", "--", relative], check=True, capture_output=True, timeout=30)  # noqa: S603
        commit = [*base, *identity, "commit", "--quiet", f"--author={name} <{email}>", "-m", message, "--", relative]
        subprocess.run(commit, check=True, capture_output=True, timeout=30)  # noqa: S603 - no shell
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("Could not commit %s to git: %s", relative, exc)
        return False
    return True


def relative_parts(relative: str) -> tuple[str, str, str]:
    """(lang, section, slug) of a standard `<lang>/<section>/<slug>.md` path."""
    parts = PurePosixPath(relative).parts
    return parts[0], "/".join(parts[1:-1]), PurePosixPath(relative).stem
