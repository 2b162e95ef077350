"""Markdown → safe HTML: pulldown-cmark (through pyromark), then the nh3 allow-list sanitiser.

The rule: whoever wrote the Markdown (an agent, an imported help center, a customer in a ticket), no raw
HTML reaches a page unsanitised. Only the tags and attributes below survive; links and images may only
use http(s), mailto and tel URLs (no `javascript:`, `data:`, `vbscript:`); external links get
rel="noopener nofollow"; every id is prefixed with `kb-` so article headings cannot clobber the ids of
the page around them. Rendered HTML is cached by content hash.

Rendering is bounded (docs/knowledge-base.md, "How rendering is bounded"): any text a customer can send renders
in time linear in its length, or falls back to its escaped text, and never raises. pulldown-cmark is a CommonMark
parser written against pathological input (no recursion, no backtracking); Python-Markdown, used before, was
quadratic on unclosed links and tags and hit RecursionError on long `*` runs. The sanitiser (html5ever) is
itself quadratic in the nesting depth of the HTML it gets, so HTML nested deeper than `MAX_NESTING` is shown as
text instead.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import nh3
import pyromark
from markdown.extensions.toc import slugify_unicode, unique

from portal.markdown_text import map_outside_fences

if TYPE_CHECKING:
    from portal.articles import Article

ID_PREFIX = "kb-"
# Rendered articles and messages kept per process. A workspace renders every message of its ticket: 512 held
# the conversations of fewer than 200 tickets of three messages.
CACHE_SIZE = 2048
TOC_LEVELS = (2, 3)
# Open elements the sanitiser may be handed at once. html5ever scans its stack of open elements for every block
# tag, so 13,000 nested `<div>`s (64 KB) took it a second; real articles nest a dozen deep.
MAX_NESTING = 100
# Headings that get an id (and a TOC entry); each costs a few microseconds of Python, and 64 KB of `a\n=\n`
# made 16,000 of them. Real articles have a few dozen.
MAX_HEADING_IDS = 300
# HTML the sanitiser may be handed per character of Markdown (plus a small allowance). nh3 takes time per byte
# of HTML, and a table header of 8,000 columns over 16,000 one-word lines made 2.4 MB of cells from 64 KB;
# articles make at most twice their length.
MAX_HTML_PER_CHARACTER = 8
HTML_ALLOWANCE = 4096
# Admonitions inside admonitions, each four spaces deeper; deeper ones stay indented text.
MAX_ADMONITION_DEPTH = 4
PARSER_OPTIONS = pyromark.Options.ENABLE_TABLES

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
_GITHUB_ALERT = re.compile(
    r"^ {0,3}>[ \t]*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t\r]*(?:\n|$)((?: {0,3}>[^\n]*(?:\n|$))*)", re.I | re.M
)
_QUOTE_LINE = re.compile(r"^ {0,3}>[ \t]?(.*)$")
# Python-Markdown's admonition syntax, which the KB's articles use: `!!! type "Title"` and a body indented 4.
_ADMONITION = re.compile(
    r'^!!![ \t]*([\w-]+(?:[ \t]+[\w-]+)*)(?:[ \t]+"([^"\n]*)")?[ \t\r]*(?:\n|$)((?:(?:    [^\n]*|[ \t\r]*)(?:\n|$))*)',
    re.M,
)
_BODY_INDENT = re.compile(r"^    ", re.M)
_HEADING_OPEN = re.compile(r"<h([1-6])>")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*?(/?)>")
# An element with only text inside (`<td>1</td>`, `<h2>x</h2>`) leaves the depth as it was: removing those
# first, in C, leaves the Python loop a few tags instead of every table cell.
_LEAF_ELEMENT = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)[^<>]*>[^<]*</\1>")
_STRIP_TAGS = re.compile(r"<[^<>]*>")
# Elements that never hold others, and those that a parser closes by itself when a sibling opens (so that
# repeating them does not nest): neither makes the sanitiser's stack deeper.
_FLAT_ELEMENTS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rb", "rt", "rp",
    "caption", "colgroup",
})
_log = logging.getLogger(__name__)


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


def _render(text: str, lang: str) -> tuple[str, list[TocEntry]]:
    """Never raises: whatever goes wrong, the reader still gets the words that were written."""
    try:
        source = github_alerts_to_admonitions(text, lang) if "[!" in text else text
        source = admonitions_to_html(source) if "!!!" in source else source
        raw_html, toc = _with_heading_ids(pyromark.html(source, options=PARSER_OPTIONS))
        too_big = len(raw_html) > MAX_HTML_PER_CHARACTER * len(text) + HTML_ALLOWANCE
        if too_big or nests_deeper_than(raw_html, MAX_NESTING):
            _log.info("Markdown of %d characters makes HTML too large or deep to sanitise: shown as text", len(text))
            return plain_text_html(text), []
        return sanitize_html(raw_html), toc
    except Exception:  # a parser or sanitiser bug must not make a ticket unopenable
        _log.exception("Markdown of %d characters could not be rendered: shown as text", len(text))
        return plain_text_html(text), []


def plain_text_html(text: str) -> str:
    """The text escaped, a paragraph per blank-line-separated block and a `<br>` per line break."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip("\n"))
    return "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block.strip()
    )


def nests_deeper_than(markup: str, limit: int) -> bool:
    """Whether some point of `markup` has more than `limit` elements open, counted so as never to undercount
    what an HTML parser keeps open: an end tag closes only the element opened last (a parser may close more)."""
    for _ in range(3):
        markup, removed = _LEAF_ELEMENT.subn("", markup)
        if not removed:
            break
    stack: list[str] = []
    for match in _TAG.finditer(markup):
        name = match.group(2).lower()
        if name in _FLAT_ELEMENTS or match.group(3):
            continue
        if not match.group(1):
            stack.append(name)
            if len(stack) > limit:
                return True
        elif stack and stack[-1] == name:
            stack.pop()
    return False


def _with_heading_ids(raw_html: str) -> tuple[str, list[TocEntry]]:
    """Give every heading the slug id Python-Markdown's `toc` extension gave it (links to sections keep working)
    and collect the h2/h3 ones for the table of contents. Linear: each closing tag is searched for once."""
    out: list[str] = []
    toc: list[TocEntry] = []  # every heading, until the TOC keeps only h2/h3
    used: set[str] = set()
    counters: dict[str, int] = {}  # without it, `unique` tries every suffix: 4,000 equal headings took seconds
    unclosed: set[str] = set()
    position = 0
    search_from = 0
    while len(toc) < MAX_HEADING_IDS and (match := _HEADING_OPEN.search(raw_html, search_from)):
        level = match.group(1)
        closer = f"</h{level}>"
        end = -1 if level in unclosed else raw_html.find(closer, match.end())
        if end < 0:
            unclosed.add(level)
            search_from = match.end()
            continue
        title = html.unescape(_STRIP_TAGS.sub("", raw_html[match.end() : end])).strip()
        anchor = unique(_slugify(title, "-"), used, counters)
        toc.append(TocEntry(level=int(level), anchor=anchor, title=title))
        out.append(raw_html[position : match.start()])
        out.append(f'<h{level} id="{html.escape(anchor)}">')
        position = search_from = match.end()
    out.append(raw_html[position:])
    return "".join(out), [entry for entry in toc if entry.level in TOC_LEVELS]


def github_alerts_to_admonitions(text: str, lang: str = "en") -> str:
    """GitHub alert blocks (`> [!NOTE]` + quoted lines) become Python-Markdown admonitions."""
    titles = ALERT_TITLES.get(lang, ALERT_TITLES["en"])

    def convert(alert: re.Match[str]) -> str:
        kind = alert.group(1).lower()
        body = "".join(
            ("    " + quoted.group(1)).rstrip() + "\n"
            for line in alert.group(2).splitlines()
            if (quoted := _QUOTE_LINE.match(line))
        )
        return f'\n!!! {kind} "{titles[kind]}"\n{body}\n'

    return map_outside_fences(text, lambda prose: _GITHUB_ALERT.sub(convert, prose) if "[!" in prose else prose)


def admonitions_to_html(text: str, depth: int = 0) -> str:
    """Python-Markdown admonitions (`!!! warning "Title"` + lines indented four spaces) become the HTML it made
    of them, around the body left as Markdown (a CommonMark HTML block ends at the blank line after it)."""

    def convert(found: re.Match[str]) -> str:
        kinds, title = found.group(1).lower().split(), found.group(2)
        title = kinds[0].capitalize() if title is None else title
        body = found.group(3)
        inner = _BODY_INDENT.sub("", body.rstrip(" \t\r\n") + "\n")
        if depth + 1 < MAX_ADMONITION_DEPTH and "!!!" in inner:
            inner = admonitions_to_html(inner, depth + 1)
        heading = f'<p class="admonition-title">{html.escape(title)}</p>\n' if title else ""
        trailing = body[len(body.rstrip(" \t\r\n")):]  # blank lines after the body belong to the page
        return f'\n<div class="admonition {" ".join(kinds)}">\n{heading}\n{inner}\n</div>\n' + trailing

    return map_outside_fences(text, lambda prose: _ADMONITION.sub(convert, prose) if "!!!" in prose else prose)
