"""Markdown → safe HTML: Python-Markdown, then the nh3 allow-list sanitiser.

The rule: whoever wrote the Markdown (an agent, an imported help center, a customer in a ticket), no raw
HTML reaches a page unsanitised. Only the tags and attributes below survive; links and images may only
use http(s), mailto and tel URLs (no `javascript:`, `data:`, `vbscript:`); external links get
rel="noopener nofollow"; every id is prefixed with `kb-` so article headings cannot clobber the ids of
the page around them. Rendered HTML is cached by content hash.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

from portal.markdown_text import map_outside_code

if TYPE_CHECKING:
    from portal.articles import Article

ID_PREFIX = "kb-"
# Rendered articles and messages kept per process. A workspace renders every message of its ticket: 512 held
# the conversations of fewer than 200 tickets of three messages.
CACHE_SIZE = 2048
TOC_LEVELS = (2, 3)

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "details": {"open"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
ADMONITION_TYPES = ("note", "tip", "important", "warning", "caution", "danger", "info", "hint", "attention")
CODE_LANGUAGES = (
    "arduino", "bash", "c", "console", "cpp", "css", "diff", "html", "ini", "java", "javascript", "js",
    "json", "makefile", "markdown", "md", "powershell", "ps1", "py", "python", "sh", "shell", "sql",
    "text", "toml", "ts", "txt", "typescript", "xml", "yaml", "yml",
)
ALLOWED_CLASSES = {
    "div": {"admonition", *ADMONITION_TYPES},
    "p": {"admonition-title"},
    "code": {f"language-{name}" for name in CODE_LANGUAGES},
}
ALERT_TITLES = {
    "en": {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"},
    "es": {"note": "Nota", "tip": "Consejo", "important": "Importante", "warning": "Advertencia",
           "caution": "Precaución"},
}

_EXTERNAL_LINK = re.compile(r'<a href="(?:https?:)?//[^"]*"')
_GITHUB_ALERT = re.compile(r"^ {0,3}>[ \t]*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*$", re.I)
_QUOTE_LINE = re.compile(r"^ {0,3}>[ \t]?(.*)$")


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class RenderedArticle:
    html: str
    toc: list[TocEntry]


def _keep_internal_anchors(tag: str, attribute: str, value: str) -> str | None:
    """In-page links (`#section`) must follow the prefixed heading ids."""
    if tag == "a" and attribute == "href" and value.startswith("#") and not value.startswith("#" + ID_PREFIX):
        return "#" + ID_PREFIX + value[1:]
    return value


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "embed", "textarea"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_keep_internal_anchors,
    link_rel=None,
    url_schemes=set(URL_SCHEMES),
    allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
    id_prefix=ID_PREFIX,
)


def sanitize_html(untrusted_html: str) -> str:
    """The allow-list sanitiser alone, for HTML that did not come from `render_markdown`."""
    cleaned = _cleaner.clean(untrusted_html)
    return _EXTERNAL_LINK.sub(lambda match: match.group(0) + ' rel="noopener nofollow"', cleaned)


class _LruCache:
    """A small thread-safe LRU of rendered results keyed by content hash."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_cache = _LruCache(CACHE_SIZE)
_local = threading.local()


def render_markdown(text: str, *, lang: str = "en") -> str:
    """Safe HTML for any Markdown (articles, ticket messages)."""
    key = hashlib.sha256(f"{lang}\x00{text}".encode()).hexdigest()
    cached = _cache.get(key)
    if isinstance(cached, str):
        return cached
    html_out, _toc = _render(text, lang)
    _cache.put(key, html_out)
    return html_out


def render_article(article: Article) -> RenderedArticle:
    """The article's body as safe HTML plus its table of contents (h2/h3), cached by the file's hash."""
    key = f"article:{article.content_hash}:{article.lang}"
    cached = _cache.get(key)
    if isinstance(cached, RenderedArticle):
        return cached
    html_out, toc = _render(article.body, article.lang)
    rendered = RenderedArticle(html=html_out, toc=toc)
    _cache.put(key, rendered)
    return rendered


def _slugify(value: str, separator: str) -> str:
    return ID_PREFIX + (slugify_unicode(value, separator) or "section")


def _converter() -> markdown.Markdown:
    """One Markdown instance per thread (they are not thread-safe), reset between documents."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown.Markdown(
            extensions=["tables", "fenced_code", "toc", "admonition", "sane_lists"],
            extension_configs={"toc": {"slugify": _slugify, "toc_depth": "2-3"}},
            output_format="html",
        )
        _local.converter = converter
    converter.reset()
    return converter


def _render(text: str, lang: str) -> tuple[str, list[TocEntry]]:
    converter = _converter()
    raw_html = converter.convert(github_alerts_to_admonitions(text, lang))
    toc = list(_flatten_toc(getattr(converter, "toc_tokens", [])))
    return sanitize_html(raw_html), toc


def _flatten_toc(tokens: list[dict]) -> list[TocEntry]:
    entries = []
    for token in tokens:
        if token.get("level") in TOC_LEVELS:
            title = html.unescape(re.sub(r"<[^>]+>", "", str(token.get("name", "")))).strip()
            entries.append(TocEntry(level=int(token["level"]), anchor=str(token["id"]), title=title))
        entries.extend(_flatten_toc(token.get("children", [])))
    return entries


def github_alerts_to_admonitions(text: str, lang: str = "en") -> str:
    """GitHub alert blocks (`> [!NOTE]` + quoted lines) become Python-Markdown admonitions."""
    titles = ALERT_TITLES.get(lang, ALERT_TITLES["en"])

    def convert(prose: str) -> str:
        if "[!" not in prose:
            return prose
        lines = prose.splitlines(keepends=True)
        out: list[str] = []
        index = 0
        while index < len(lines):
            alert = _GITHUB_ALERT.match(lines[index].rstrip("\n"))
            if not alert:
                out.append(lines[index])
                index += 1
                continue
            kind = alert.group(1).lower()
            out.append(f'\n!!! {kind} "{titles[kind]}"\n')
            index += 1
            while index < len(lines) and (quoted := _QUOTE_LINE.match(lines[index].rstrip("\n"))):
                out.append(("    " + quoted.group(1)).rstrip() + "\n")
                index += 1
            out.append("\n")
        return "".join(out)

    return map_outside_code(text, convert)
