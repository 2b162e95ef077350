"""Markdown as text: template-tag cleaning, headings, and the plain words that search indexes.

Pure string functions (regular expressions, no Markdown parser), so that indexing 10,000 articles stays
fast. Code (fenced blocks and inline spans) is never altered by the cleaning: `{{ name }}` inside
backticks is an example the reader must see.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

SUMMARY_CHARS = 200

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)

# Liquid/Jinja leftovers of static-site generators, and kramdown attribute lists.
_INCLUDE_LIST = re.compile(r"\{%-?\s*include\b[^%]*?\bitems=page\.(\w+)[^%]*?-?%\}")
_TEMPLATE_TAG = re.compile(r"\{%.{0,2000}?%\}", re.S)
_TEMPLATE_OUTPUT = re.compile(r"\{\{.{0,500}?\}\}", re.S)
_TEMPLATE_COMMENT = re.compile(r"\{#.{0,2000}?#\}", re.S)
_ATTRIBUTE_LIST = re.compile(r"\{:[^{}\n]*\}|\{[.#][\w-][^{}\n]*\}")

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HTML_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.S | re.I)

_DROP_BLOCKS = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ALERT_MARKER = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.I)
_LINE_MARKERS = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t>]*|[*+-][ \t]+|\d+[.)][ \t]+|!!!\s*\w+|\?\?\?\+?\s*\w+)+")
_RULE_OR_TABLE_RULE = re.compile(r"^[ \t|:=*_-]+$")
_EMPHASIS = re.compile(r"\*{1,3}|_{2,3}|~~|`")
_SPACES = re.compile(r"[ \t\u00a0]+")


def map_outside_code(text: str, transform: Callable[[str], str]) -> str:
    """Apply `transform` to the prose of `text`, leaving fenced code blocks and inline code untouched."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        opener = _FENCE_OPEN.match(line)
        if fence is None and opener:
            out.append(_map_prose("".join(prose), transform))
            prose = []
            fence = opener.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
        else:
            prose.append(line)
    out.append(_map_prose("".join(prose), transform))
    return "".join(out)


def _map_prose(prose: str, transform: Callable[[str], str]) -> str:
    if not prose:
        return prose
    pieces, last = [], 0
    for match in _INLINE_CODE.finditer(prose):
        pieces.append(transform(prose[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(transform(prose[last:]))
    return "".join(pieces)


def clean_template_syntax(markdown: str, front_matter: Mapping[str, object] | None = None) -> str:
    """Strip Liquid/Jinja tags (`{% … %}`, `{{ … }}`, `{# … #}`) and kramdown attribute lists (`{: .x}`,
    `{.x}`, `{#id}`) outside code. The text between `{% capture %}` tags stays. A Jekyll include that
    lists a front-matter array (`items=page.do_list`) becomes that Markdown list, so its words survive."""
    meta = front_matter or {}

    def include_list(match: re.Match[str]) -> str:
        items = meta.get(match.group(1))
        if not isinstance(items, list):
            return ""
        lines = [f"* {item}" for item in items if isinstance(item, str | int | float)]
        return "\n\n" + "\n".join(lines) + "\n\n"

    def clean(prose: str) -> str:
        prose = _INCLUDE_LIST.sub(include_list, prose)
        prose = _TEMPLATE_TAG.sub("", prose)
        prose = _TEMPLATE_OUTPUT.sub("", prose)
        prose = _TEMPLATE_COMMENT.sub("", prose)
        return _ATTRIBUTE_LIST.sub("", prose)

    return map_outside_code(markdown, clean)


def headings(markdown: str) -> list[str]:
    """The plain text of every heading (ATX `#`, setext underlines, and HTML `<hN>`) outside code."""
    found: list[str] = []

    def collect(prose: str) -> str:
        lines = prose.splitlines()
        for index, line in enumerate(lines):
            atx = _ATX_HEADING.match(line)
            if atx:
                found.append(inline_text(atx.group(2)))
            elif (
                index + 1 < len(lines)
                and line.strip()
                and not _LINE_MARKERS.match(line)
                and _SETEXT_UNDERLINE.match(lines[index + 1])
                and (index == 0 or not lines[index - 1].strip())
            ):
                found.append(inline_text(line))
        found.extend(inline_text(match.group(1)) for match in _HTML_HEADING.finditer(prose))
        return prose

    map_outside_code(markdown, collect)
    return [heading for heading in found if heading]


def first_heading(markdown: str) -> str:
    found = headings(markdown)
    return found[0] if found else ""


def drop_leading_heading(markdown: str, title: str) -> str:
    """Remove a first heading that only repeats the title: the page shows the title already."""
    lines = markdown.splitlines(keepends=True)
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None:
        return markdown
    atx = _ATX_HEADING.match(lines[index])
    if atx and inline_text(atx.group(2)).casefold() == title.casefold():
        return "".join(lines[index + 1 :]).lstrip("\n")
    is_setext = index + 1 < len(lines) and _SETEXT_UNDERLINE.match(lines[index + 1])
    if is_setext and inline_text(lines[index]).casefold() == title.casefold():
        return "".join(lines[index + 2 :]).lstrip("\n")
    return markdown


def inline_text(markdown: str) -> str:
    """One line of Markdown/HTML as plain text."""
    text = _IMAGE.sub(r"\1", markdown)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _EMPHASIS.sub("", text)
    return _SPACES.sub(" ", html.unescape(text)).strip()


def plain_text(markdown: str) -> str:
    """The words of an article without Markdown or HTML syntax: one line per non-empty source line.
    Code is kept (customers paste error messages); link targets and HTML attributes are dropped."""
    text = _DROP_BLOCKS.sub(" ", markdown)
    text = _REF_DEFINITION.sub("", text)
    text = _ALERT_MARKER.sub("", text)
    lines = []
    for raw_line in text.splitlines():
        if _FENCE_OPEN.match(raw_line) or _RULE_OR_TABLE_RULE.match(raw_line):
            continue
        line = inline_text(_LINE_MARKERS.sub("", raw_line).replace("|", " "))
        if line:
            lines.append(line)
    return "\n".join(lines)


def first_paragraph_text(markdown: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraph of prose, shortened at a word boundary: the summary when none is given."""
    for block in re.split(r"\n[ \t]*\n", map_outside_code(markdown, lambda prose: prose)):
        stripped = block.strip()
        if not stripped or stripped.startswith(("#", "<", "|", "```", "~~~", "!!!", "![")):
            continue
        if _SETEXT_UNDERLINE.match(stripped.splitlines()[-1]):
            continue
        text = plain_text(stripped).replace("\n", " ").strip()
        if text:
            return shorten(text, limit)
    return ""


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",.;:")
    return cut + "…"
