"""Knowledge-base articles: Markdown files under the KB folder, read into `Article` values.

The files are the source of truth. Any folder of real-world help articles must import without an error:
front matter is optional (title from front matter, else the first level-1 heading, else the file name, never a
lower heading: `## Settings` names a part of the article, not the article), template
tags left over from static-site generators are stripped (see `markdown_text`), and the language comes
from the front matter, else from a language-code folder anywhere in the path, else the default.

No Flask and no Whoosh here: the index, the renderer, the services and the benchmarks all use it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

import yaml

from portal import markdown_text

log = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("en", "es")
STATUSES = ("published", "draft", "internal", "archived")
PUBLIC_STATUSES = ("published",)
AGENT_STATUSES = ("published", "internal")
URL_PREFIX = "/kb/"

# Notices that sit beside the articles of an imported help center (kb-corpus keeps SOURCE.md and
# LICENSE.md next to its `en/` and `es/` folders). They are skipped unless they live inside a language folder.
NOTICE_NAMES = frozenset({"readme", "license", "licence", "source", "copying", "notice", "changelog",
                          "contributing", "authors", "code_of_conduct", "security"})
MARKDOWN_SUFFIXES = (".md", ".markdown")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NAME_SEPARATORS = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class Article:
    """One article file, parsed. `path` is the posix path relative to the KB folder: the article's identity."""

    path: str
    lang: str
    section: str
    slug: str
    title: str
    summary: str
    tags: list[str]
    status: str
    updated: date | None
    translation_key: str
    related: list[str]
    source_tickets: list[str]
    headings: list[str]
    body: str
    content_hash: str
    explicit_summary: bool = False
    title_source: str = "front matter"  # or "heading" (the first level-1 heading) or "file name"
    promoted: bool = False  # front matter `promoted: true`: listed first on the help center's home
    extra: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def plain_body(self) -> str:
        """The article as plain words: what search indexes and snippets quote."""
        return markdown_text.plain_text(self.body)


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def article_url(article_or_path: Article | str) -> str:
    """`/kb/<path without .md>`, each segment percent-encoded. `path_from_url` is the exact inverse.

    For the standard layout this is `/kb/<lang>/<section>/<slug>`; nested sections, spaces, `&` and `%`
    in file names survive the round trip because the URL is the file path itself. Only a plain `.md` is left
    out: `x.markdown`, `x.MD` or `x.md.md` keep their whole name, or their URL would name another file.
    """
    path = article_or_path.path if isinstance(article_or_path, Article) else article_or_path
    stem = path.removesuffix(".md")
    if stem == path or stem.lower().endswith(MARKDOWN_SUFFIXES):
        stem = path
    return URL_PREFIX + "/".join(quote(part, safe="") for part in stem.split("/"))


def path_from_url(route_path: str) -> str:
    """The article path for the part of an article URL after `/kb/`, as the router hands it to the view (decoded
    once: decoding again would turn a `%41` in a file name into `A`)."""
    stem = route_path.strip("/")
    return stem if stem.lower().endswith(MARKDOWN_SUFFIXES) else stem + ".md"


def is_article_path(path: str) -> bool:
    """Whether `path` (posix, relative to the KB folder) can name an article, by the name alone: a Markdown file
    (`.md`, `.markdown`, any case); no file or folder whose name starts with `_` or `.` (`_drafts/`, `_internal/`,
    `_synonyms.txt`, `.git/`); no README/LICENSE/SOURCE-style notice outside a language folder; nothing empty,
    absolute, `..`, with a backslash or a NUL. Plain string work: the index's walk asks it of every file.

    With `article_file` this is the one definition of an article: the index's walk keeps exactly these files,
    and the article page and API read nothing else (`load_article`), so they can never disagree."""
    if not path or "\\" in path or "\x00" in path or path[0] == "/":
        return False
    parts = path.split("/")
    if any(not part or part[0] in "._" for part in parts):
        return False
    name = parts[-1].lower()
    if not name.endswith(MARKDOWN_SUFFIXES):
        return False
    return name.rsplit(".", 1)[0] not in NOTICE_NAMES or _language_folder_index(tuple(parts[:-1])) is not None


def article_file(kb_dir: Path, path: str) -> Path | None:
    """The file of the article at `path`, or None when there is none: `is_article_path`, and a regular file
    reached through real folders. Symbolic links are not articles (to a file or to a folder), as the index's walk
    does not follow them: a link could lead out of the KB folder or into `_drafts/`."""
    if not is_article_path(path):
        return None
    current = os.fspath(kb_dir)
    parts = path.split("/")
    try:
        for part in parts[:-1]:
            current = os.path.join(current, part)
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                return None
        current = os.path.join(current, parts[-1])
        if not stat.S_ISREG(os.lstat(current).st_mode):
            return None
    except (OSError, ValueError):
        return None
    return Path(current)


def is_safe_relative_path(path: str) -> bool:
    """A KB path taken from a URL may only name a Markdown file inside the KB folder."""
    pure = PurePosixPath(path)
    return (
        bool(path)
        and not pure.is_absolute()
        and "\\" not in path
        and "\x00" not in path
        and all(part not in ("", ".", "..") and not part.startswith(".") for part in pure.parts)
        and path.endswith(MARKDOWN_SUFFIXES)
    )


def iter_article_paths(kb_dir: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every article file under `kb_dir`, as (posix relative path, stat), without reading the files: the files
    `article_file` accepts. Plain string work on purpose: the index walks the whole folder to notice changes."""
    root = os.fspath(kb_dir)
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name[0] in "._":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, prefix + name + "/"))
                elif entry.is_file(follow_symlinks=False) and is_article_path(prefix + name):
                    yield prefix + name, entry.stat(follow_symlinks=False)
            except OSError:
                continue


def scan_articles(kb_dir: Path, default_lang: str) -> list[Article]:
    """All articles under `kb_dir`, sorted by path. A file that cannot be read is logged and skipped."""
    articles = []
    for path, _stat in sorted(iter_article_paths(kb_dir)):
        article = load_article(kb_dir, path, default_lang)
        if article is not None:
            articles.append(article)
    return articles


def load_article(kb_dir: Path, path: str, default_lang: str) -> Article | None:
    """The article at `kb_dir / path`, or None when there is none: missing, unreadable, or a file that is not an
    article (`article_file`). The index and the article pages both read through here."""
    file = article_file(kb_dir, path)
    if file is None:
        return None
    try:
        # O_NOFOLLOW: a file swapped for a link since `article_file` looked is not read either.
        with os.fdopen(os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
            raw = handle.read()
            mtime = os.fstat(handle.fileno()).st_mtime
    except OSError:
        return None
    return parse_article(path, raw, default_lang=default_lang, mtime=mtime)


def parse_article(path: str, raw: bytes, *, default_lang: str, mtime: float | None = None) -> Article:
    """Build an `Article` from a file's bytes. Never raises on odd content: broken front matter is
    ignored (and logged), undecodable bytes are replaced."""
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    meta, content = _split_front_matter(text, path)
    relative = PurePosixPath(path)
    lang = _language(meta, relative, default_lang)
    body = markdown_text.clean_template_syntax(content, meta)
    title, title_source = _title(meta, body, relative.name)
    body = markdown_text.drop_leading_heading(body, title)
    explicit_summary = _text(meta.get("summary")) or _text(meta.get("description"))
    return Article(
        path=relative.as_posix(),
        lang=lang,
        section=_section(relative),
        slug=_strip_markdown_suffix(relative.name),
        title=title,
        title_source=title_source,
        summary=explicit_summary or markdown_text.first_paragraph_text(body),
        explicit_summary=bool(explicit_summary),
        tags=_string_list(meta.get("tags")) + _string_list(meta.get("keywords")),
        status=_status(meta),
        updated=_date(meta.get("updated") or meta.get("last_updated") or meta.get("date"), mtime),
        translation_key=_text(meta.get("translation_key")) or _derived_translation_key(relative),
        related=_string_list(meta.get("related")),
        source_tickets=_string_list(meta.get("source_tickets")),
        headings=markdown_text.headings(body),
        body=body,
        content_hash=content_hash(raw),
        promoted=_flag(meta.get("promoted")),
        extra={key: value for key, value in meta.items() if isinstance(key, str)},
    )


def _title(meta: dict, body: str, file_name: str) -> tuple[str, str]:
    """The title and where it came from: the front matter's, else the first level-1 heading, else the file name.
    Never a lower heading: in exported help centers most articles start at `##`."""
    if title := _text(meta.get("title")):
        return title, "front matter"
    if title := markdown_text.top_heading(body):
        return title, "heading"
    return title_from_file_name(file_name), "file name"


def _split_front_matter(text: str, path: str) -> tuple[dict, str]:
    """YAML front matter and the Markdown after it (libyaml's loader when present: 10,000 files import
    several seconds faster)."""
    if not text.startswith("---"):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    try:
        meta = yaml.load(match.group(1), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        log.warning("Ignoring unreadable front matter in %s: %s", path, exc)
        meta = {}
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


def _language_folder_index(folders: tuple[str, ...]) -> int | None:
    for index in range(len(folders) - 1, -1, -1):
        if folders[index].lower() in SUPPORTED_LANGUAGES:
            return index
    return None


def _normalise_language(value: object) -> str | None:
    """`es`, `ES`, `es-MX`, `es_ES` → `es`; unsupported languages → None."""
    code = _text(value).lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED_LANGUAGES else None


def _language(meta: dict, relative: PurePosixPath, default_lang: str) -> str:
    from_meta = _normalise_language(meta.get("lang") or meta.get("language") or meta.get("locale"))
    if from_meta:
        return from_meta
    index = _language_folder_index(relative.parts[:-1])
    return relative.parts[index].lower() if index is not None else default_lang


def _section(relative: PurePosixPath) -> str:
    """The folders below the language folder (or all folders when there is none), e.g. `guides/setup`."""
    folders = relative.parts[:-1]
    index = _language_folder_index(folders)
    return "/".join(folders[index + 1 :] if index is not None else folders)


def _derived_translation_key(relative: PurePosixPath) -> str:
    """Files at the same place under `en/` and `es/` are translations of each other."""
    parts = list(relative.parts)
    index = _language_folder_index(relative.parts[:-1])
    if index is not None:
        del parts[index]
    parts[-1] = _strip_markdown_suffix(parts[-1])
    return "/".join(parts)


def _status(meta: dict) -> str:
    """Front matter `status`; Jekyll's `draft: true` / `published: false` mean draft. An unknown status
    hides the article (draft) rather than publishing something its author did not mean to."""
    status = _text(meta.get("status")).lower()
    if status:
        return status if status in STATUSES else "draft"
    if meta.get("draft") is True or meta.get("published") is False:
        return "draft"
    return "published"


def _flag(value: object) -> bool:
    """YAML's `true`, or the words people write for it when they quote it (`"yes"`, `"true"`, `1`)."""
    if isinstance(value, bool):
        return value
    return _text(value).lower() in ("true", "yes", "1", "on")


def _date(value: object, mtime: float | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    return datetime.fromtimestamp(mtime, UTC).date() if mtime is not None else None


def _text(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _string_list(value: object) -> list[str]:
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = [_text(item) for item in value]
    else:
        items = [_text(value)] if value is not None and not isinstance(value, dict) else []
    return [item.strip() for item in items if item and item.strip()]


def _strip_markdown_suffix(name: str) -> str:
    for suffix in MARKDOWN_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def name_words(name: str) -> str:
    """A file or folder name as words: percent-escapes decoded once (`What%27s-new`), dashes, underscores and
    runs of spaces read as one space, control and unprintable characters dropped. Letters keep their case."""
    decoded = unquote(name, errors="replace")
    printable = "".join(_printable(char) for char in decoded)
    return " ".join(_NAME_SEPARATORS.split(printable)).strip()


def _printable(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":  # zero-width and soft-hyphen marks: inside a word, not between words
        return ""
    return " " if category[0] in "CZ" or char == "\ufffd" else char


def title_from_file_name(name: str) -> str:
    """The title of an article that has none: its file name as words (`Reset-the-password-for-your-Arduino-account.md`
    → "Reset the password for your Arduino account"). The case is the author's (`iPhone-setup` stays), except
    that an all-lower-case name gets a capital first letter (`forgot_your_password` → "Forgot your password").
    Never empty: a name with no words (`--.md`) is shown as it is."""
    stem = _strip_markdown_suffix(name)
    title = name_words(stem)
    if not title:
        return stem.strip() or name
    return title[:1].upper() + title[1:] if title == title.lower() else title
