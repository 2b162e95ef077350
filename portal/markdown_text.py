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
_BACKTICKS = re.compile(r"`+")
_FENCE_OPEN_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*(?:\n|$)", re.M)
_FENCE_CLOSE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t\r]*(?:\n|$)", re.M)

# Liquid/Jinja leftovers of static-site generators, and kramdown attribute lists.
_INCLUDE_LIST = re.compile(r"\{%-?\s*include\b[^%]*?\bitems=page\.(\w+)[^%]*?-?%\}")
_TEMPLATE_TAG = re.compile(r"\{%.{0,2000}?%\}", re.S)
_TEMPLATE_OUTPUT = re.compile(r"\{\{.{0,500}?\}\}", re.S)
_TEMPLATE_COMMENT = re.compile(r"\{#.{0,2000}?#\}", re.S)
_ATTRIBUTE_LIST = re.compile(r"\{:[^{}\n]*\}|\{[.#][\w-][^{}\n]*\}")

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HTML_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h[1-6]>", re.S | re.I)

# Each pattern below stops at the next character that could open another match (`[` and `(` in links, `<` in
# tags and autolinks): a span that may run over such a character makes every unclosed opener scan to the end of
# the text, and 64 KB of `[` took 30 seconds.
_DROP_BLOCK_OPEN = re.compile(r"<(script|style|template)\b|<!--", re.I)
_DROP_BLOCK_CLOSE = {name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "template")}
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^()]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_REF_LINK = re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]")
_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ALERT_MARKER = re.compile(r"\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.I)
_LINE_MARKERS = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t>]*|[*+-][ \t]+|\d+[.)][ \t]+|!!!\s*\w+|\?\?\?\+?\s*\w+)+")
_RULE_OR_TABLE_RULE = re.compile(r"^[ \t|:=*_-]+$")
_EMPHASIS = re.compile(r"\*{1,3}|_{2,3}|~~|`")
_SPACES = re.compile(r"[ \t\u00a0]+")


def map_outside_fences(text: str, transform: Callable[[str], str]) -> str:
    """Apply `transform` to each stretch of text outside fenced code blocks, which stay untouched. Each fence
    line is looked at once (regular expressions from one to the next), so thousands of fences stay fast."""
    out: list[str] = []
    position = 0
    while opener := _FENCE_OPEN_LINE.search(text, position):
        if opener.start() > position:
            out.append(transform(text[position : opener.start()]))
        fence = opener.group(1)
        end = len(text)
        search_from = opener.end()
        while closer := _FENCE_CLOSE_LINE.search(text, search_from):
            if closer.group(1)[0] == fence[0] and len(closer.group(1)) >= len(fence):
                end = closer.end()
                break
            search_from = closer.end()
        out.append(text[opener.start() : end])
        position = end
    if position < len(text):
        out.append(transform(text[position:]))
    return "".join(out)


def map_outside_code(text: str, transform: Callable[[str], str]) -> str:
    """Apply `transform` to the prose of `text`, leaving fenced code blocks and inline code untouched."""
    return map_outside_fences(text, lambda prose: _map_prose(prose, transform))


def _map_prose(prose: str, transform: Callable[[str], str]) -> str:
    pieces, last = [], 0
    for start, end in inline_code_spans(prose):
        pieces.append(transform(prose[last:start]))
        pieces.append(prose[start:end])
        last = end
    pieces.append(transform(prose[last:]))
    return "".join(pieces)


def inline_code_spans(prose: str) -> list[tuple[int, int]]:
    """Where the code spans are: a run of backticks up to the next run of the same length (CommonMark's rule).
    Linear: a regular expression searching forward from every run took quadratic time on runs of rising length."""
    runs = [(match.start(), match.end()) for match in _BACKTICKS.finditer(prose)]
    next_same: list[int | None] = [None] * len(runs)
    last_of_length: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        next_same[index] = last_of_length.get(length)
        last_of_length[length] = index
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        closer = next_same[index]
        if closer is None:
            index += 1
            continue
        spans.append((runs[index][0], runs[closer][1]))
        index = closer + 1
    return spans


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
    """The plain text of every heading (ATX `#`, setext underlines, and HTML `<hN>`) outside code, in order."""
    return [text for _level, text in leveled_headings(markdown)]


def leveled_headings(markdown: str) -> list[tuple[int, str]]:
    """(level, plain text) of every heading outside fenced code, in the order they appear. A heading line is
    read whole, inline code included (`## The `mesa` command`); an HTML heading inside inline code is not one."""
    found: list[tuple[int, str]] = []

    def collect(prose: str) -> str:
        lines = prose.splitlines()
        here: list[tuple[int, int, str]] = []  # (line, level, text): HTML headings sorted in among the others
        for index, line in enumerate(lines):
            atx = _ATX_HEADING.match(line)
            if atx:
                here.append((index, len(atx.group(1)), inline_text(atx.group(2))))
            elif (
                index + 1 < len(lines)
                and line.strip()
                and not _LINE_MARKERS.match(line)
                and (underline := _SETEXT_UNDERLINE.match(lines[index + 1]))
                and (index == 0 or not lines[index - 1].strip())
            ):
                here.append((index, 1 if underline.group(1)[0] == "=" else 2, inline_text(line)))
        if "<" in prose:
            line, counted_to = 0, 0
            for match in _HTML_HEADING.finditer(_blank_inline_code(prose)):
                line += prose.count("\n", counted_to, match.start())  # counted forward once: linear
                counted_to = match.start()
                here.append((line, int(match.group(1)), inline_text(match.group(2))))
        here.sort(key=lambda item: item[0])
        found.extend((level, text) for _index, level, text in here if text)
        return prose

    map_outside_fences(markdown, collect)
    return found


def _blank_inline_code(prose: str) -> str:
    """The prose with each inline code span replaced by spaces (newlines kept): offsets and lines stay."""
    pieces, last = [], 0
    for start, end in inline_code_spans(prose):
        pieces.append(prose[last:start])
        pieces.append(re.sub(r"[^\n]", " ", prose[start:end]))
        last = end
    pieces.append(prose[last:])
    return "".join(pieces)


def top_heading(markdown: str) -> str:
    """The first level-1 heading (`# Title`, or a line underlined with `===`), wherever it is: an article
    whose first heading is `## Settings` is not titled "Settings"."""
    return next((text for level, text in leveled_headings(markdown) if level == 1), "")


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


def plain_text(markdown: str, *, paragraphs: bool = False) -> str:
    """The words of an article without Markdown or HTML syntax: one line per non-empty source line (with
    `paragraphs`, a blank line where the source starts a new block, for cutting the text into pieces).
    Code is kept (customers paste error messages); link targets and HTML attributes are dropped."""
    text = drop_blocks(markdown)
    text = _REF_DEFINITION.sub("", text)
    text = _ALERT_MARKER.sub("", text)
    lines = []
    for raw_line in text.splitlines():
        if _FENCE_OPEN.match(raw_line) or _RULE_OR_TABLE_RULE.match(raw_line):
            continue
        line = inline_text(_LINE_MARKERS.sub("", raw_line).replace("|", " "))
        if line:
            if paragraphs and raw_line.lstrip().startswith("#") and lines and lines[-1]:
                lines.append("")  # a heading starts a new block even without a blank line before it
            lines.append(line)
        elif paragraphs and not raw_line.strip() and lines and lines[-1]:
            lines.append("")
    return "\n".join(lines).strip("\n")


def drop_blocks(text: str) -> str:
    """Script, style and template elements and HTML comments, each replaced by a space. Linear: when one kind
    has no end after some opener, no later opener of that kind has one either, so it is not searched again."""
    out: list[str] = []
    position = search_from = 0
    unclosed: set[str] = set()
    while opener := _DROP_BLOCK_OPEN.search(text, search_from):
        kind = (opener.group(1) or "!--").lower()
        if kind in unclosed:
            search_from = opener.end()
            continue
        if kind == "!--":
            end = text.find("-->", opener.end())
            end = end + 3 if end >= 0 else -1
        else:
            closer = _DROP_BLOCK_CLOSE[kind].search(text, opener.end())
            end = closer.end() if closer else -1
        if end < 0:
            unclosed.add(kind)
            search_from = opener.end()
            continue
        out.append(text[position : opener.start()])
        out.append(" ")
        position = search_from = end
    out.append(text[position:])
    return "".join(out)


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
