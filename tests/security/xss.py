"""XSS payloads and the checks that none of them took effect, shared by the server-side and the browser tests.

Every payload, if it ever worked, would create an element or attribute marked `xssmark`, run `alert`, or put a
`javascript:` URL into a link: the checks look for exactly those effects, in the HTML and in the live DOM."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

MARK = "xssmark"

PAYLOADS = [
    "<script id=xssmark>alert(1)</script>",
    "<img src=x id=xssmark onerror=alert(1)>",
    "<svg id=xssmark onload=alert(1)>",
    "<svg><script id=xssmark>alert(1)</script></svg>",
    "<svg><a id=xssmark xlink:href=javascript:alert(1)><text x=20 y=20>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img id=xssmark src=x onerror=alert(1)>",
    "<iframe id=xssmark src=javascript:alert(1)></iframe>",
    "<iframe id=xssmark srcdoc='<script>alert(1)</script>'></iframe>",
    "<object id=xssmark data=javascript:alert(1)></object>",
    "<embed id=xssmark src=javascript:alert(1)>",
    "<a id=xssmark href=javascript:alert(1)>click</a>",
    "<a id=xssmark href=' javascript:alert(1)'>click</a>",
    "<a id=xssmark href=&#106;avascript:alert(1)>click</a>",
    "<details id=xssmark open ontoggle=alert(1)>",
    "<body id=xssmark onload=alert(1)>",
    "<input id=xssmark autofocus onfocus=alert(1)>",
    "<form id=xssmark action=javascript:alert(1)><button>go</button></form>",
    "<meta id=xssmark http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base id=xssmark href=//evil.example/>",
    "<style id=xssmark>*{background:url(javascript:alert(1))}</style>",
    "<div id=xssmark style=\"background:url(javascript:alert(1))\">x</div>",
    "\"><img src=x id=xssmark onerror=alert(1)>",
    "'><svg id=xssmark onload=alert(1)>",
    "\" autofocus onfocus=alert(1) id=xssmark x=\"",
    "' autofocus onfocus=alert(1) id=xssmark x='",
    "</textarea><img src=x id=xssmark onerror=alert(1)>",
    "</title><img src=x id=xssmark onerror=alert(1)>",
    "</script><script id=xssmark>alert(1)</script>",
    "<!--<img src=\"--><img src=x id=xssmark onerror=alert(1)//\">",
    "<noscript><p title=\"</noscript><img src=x id=xssmark onerror=alert(1)>\">",
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1) \"xssmark\")",
    "[click me](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![xssmark](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x](<javascript:alert(1)>)",
    "{{7*7}}xssmark{{ config.SECRET_KEY }}",
    "{% for x in range(3) %}xssmark{% endfor %}",
    "${7*7}xssmark#{7*7}",
    "hx-get=/logout hx-trigger=load <div id=xssmark hx-post=/logout hx-trigger=load>x</div>",
]
assert len(PAYLOADS) >= 30

SECRET_KEY = "test-secret-key"  # tests/conftest.py's app: a template injection would print it
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "background", "poster"}


class _Effects(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            # Exactly the payload's id: slugs made from the text (heading anchors) legitimately contain it.
            if name == "id" and value.strip().lower() == MARK or name in (MARK, f"data-{MARK}"):
                self.found.append(f"<{tag}> marked {name}={value!r}")
            if name.startswith("on") and "alert" in value:
                self.found.append(f"<{tag}> handler {name}={value!r}")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith(("javascript:", "vbscript:", "data:text")):
                self.found.append(f"<{tag}> {name}={value!r}")
            if name.startswith("hx-") and value in ("/logout",) and tag != "form":
                self.found.append(f"<{tag}> {name}={value!r}")
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and ("alert" in data or MARK in data):
            self.found.append(f"<script> running {data[:60]!r}")


def effects_in(html: str) -> list[str]:
    """What an injected payload would have left in this HTML; empty when everything was escaped."""
    parser = _Effects()
    parser.feed(html)
    found = parser.found
    for payload in PAYLOADS:
        if "<" in payload and payload in html:
            found.append(f"raw payload {payload[:60]!r}")
    if SECRET_KEY in html or "49xssmark" in html or "xssmarkxssmark" in html:
        found.append("a template evaluated user text")
    return found


def write_article(kb_dir: Path, n: int, payload: str) -> str:
    """A KB article whose title, summary, tags and Markdown all carry the payload; returns its URL."""
    folder = kb_dir / "en" / "security"
    folder.mkdir(parents=True, exist_ok=True)
    front = (f"---\ntitle: {json.dumps('Article ' + str(n) + ' ' + payload)}\nsummary: {json.dumps(payload)}\n"
             f"tags: [{json.dumps(payload[:40])}]\n---\n")
    body = f"# Heading {payload}\n\n{payload}\n\nA paragraph with {payload} inline.\n\n- {payload}\n\n> {payload}\n"
    (folder / f"xss-{n}.md").write_text(front + body, encoding="utf-8")
    return f"/kb/en/security/xss-{n}"


# What the browser checks after loading a page: the same effects, in the live DOM.
DOM_EFFECTS_JS = """() => {
  const found = [];
  for (const el of document.querySelectorAll('[id="xssmark" i], [xssmark], [data-xssmark]')) {
    found.push('marked ' + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const v = (attr.value || '').trim().toLowerCase();
      if (attr.name.startsWith('on') && v.includes('alert')) found.push('handler ' + el.outerHTML.slice(0, 80));
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href'].includes(attr.name)
          && (v.startsWith('javascript:') || v.startsWith('data:text'))) found.push('url ' + el.outerHTML.slice(0, 80));
    }
  }
  if (window.__xss_ran) found.push('a payload ran');
  return found;
}"""
