"""Links in e-mails are absolute, on the portal's public address (`BASE_URL`).

A page can say `/kb/en/router/lights`; a mail client has no site to resolve that against, so the link is dead.
Replies written before the composer inserted absolute links, and links an agent pastes from the address bar's
path, are made absolute when the mail is rendered: Markdown link targets, reference definitions and bare
`/kb/...` paths in the text, `href`/`src` attributes in the HTML. Only root-relative paths (one leading `/`) are
touched: absolute links, `mailto:`, `#anchors` and protocol-relative `//host` links stay as written.

The address is always the configured one, never the request's Host header: a forged Host must not be able to
put its own domain into the links of the mails a request sends."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A root-relative path: "/" not followed by another "/" (that would be another host), up to a space or a closer.
_PATH = r"/(?!/)[^\s)<>\"']*"
_MARKDOWN_TARGET = re.compile(r"(\]\(\s*<?)(" + _PATH + r")")
_REFERENCE_DEFINITION = re.compile(r"^(\s{0,3}\[[^\]\n]+\]:[ \t]*<?)(" + _PATH + r")", re.MULTILINE)
# A bare knowledge-base path, as pasted from a page: at the start of a line, after a space or an opening bracket.
_BARE_ARTICLE = re.compile(r"(^|[\s(\[])(/kb/[^\s)<>\"'\]]+)", re.MULTILINE)
_HTML_ATTRIBUTE = re.compile(r"(\s(?:href|src)\s*=\s*)([\"'])(" + _PATH + r")\2", re.IGNORECASE)


def site_url(base_url: str, path: str) -> str:
    """`path` (from the site's root) on the public address. A base with a prefix (`https://h/help`) is not
    repeated when the path already starts with it (a link built inside a request served under that prefix)."""
    base = base_url.rstrip("/")
    prefix = urlsplit(base).path
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        origin = base[: len(base) - len(prefix)]
        return origin + path
    return base + path


def absolute_text(text: str, base_url: str, *, markdown: bool = False) -> str:
    """Plain text (or, with `markdown`, Markdown about to be rendered) with every root-relative link of the site
    made absolute. In Markdown a bare path becomes an autolink (`<https://...>`), so the HTML links it too."""
    if not text or "/" not in text:
        return text or ""
    text = _MARKDOWN_TARGET.sub(lambda m: m.group(1) + site_url(base_url, m.group(2)), text)
    text = _REFERENCE_DEFINITION.sub(lambda m: m.group(1) + site_url(base_url, m.group(2)), text)
    bare = "{0}<{1}>" if markdown else "{0}{1}"
    return _BARE_ARTICLE.sub(lambda m: bare.format(m.group(1), site_url(base_url, m.group(2))), text)


def absolute_html(html: str, base_url: str) -> str:
    """HTML with every root-relative `href` and `src` made absolute (the attribute's value is already escaped:
    the path goes back as it was, only the address is put in front)."""
    if not html:
        return html or ""
    return _HTML_ATTRIBUTE.sub(lambda m: f"{m.group(1)}{m.group(2)}{site_url(base_url, m.group(3))}{m.group(2)}",
                               html)
