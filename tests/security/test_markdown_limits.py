"""Pathological Markdown: any text up to the size limits renders in time linear in its length, as sanitised HTML
or as its escaped text, and never raises; a page showing it never answers 500.

The families are the inputs that made Python-Markdown quadratic (unclosed links: 50 KB took 30 s) or recursive
(`*` runs: RecursionError), and those that make the sanitiser (html5ever) quadratic (deep nesting) or slow (HTML
many times the size of the Markdown). Timings take the best of a few runs, since this machine is shared: a
quadratic renderer takes 16 times longer on 4 times the text, a linear one 4 times."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import markdown_render, markdown_text
from portal.articles import parse_article
from portal.clock import utcnow
from portal.markdown_render import render_article, render_markdown
from portal.services import tickets
from tests.conftest import login

SMALL, LARGE = 16 * 1024, 64 * 1024
RECURSION_INPUT = "*" * 2000 + "a" + "*" * 2000


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


FAMILIES = {
    "unclosed links": lambda n: _repeat("[a](", n),
    "unclosed brackets": lambda n: _repeat("[", n),
    "nested brackets": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "unclosed images": lambda n: _repeat("![a](", n),
    "brackets and parens": lambda n: _repeat("[](", n),
    "star runs": lambda n: "*" * (n // 2) + "a" + "*" * (n // 2),
    "underscore runs": lambda n: "_" * (n // 2) + "a" + "_" * (n // 2),
    "alternating emphasis": lambda n: _repeat("*a **b ", n),
    "emphasis around links": lambda n: _repeat("*[a](b* ", n),
    "backtick runs": lambda n: _repeat("`a``", n),
    "rising backtick runs": lambda n: "".join("`" * k + "a" for k in range(1, 400))[:n],
    "nested blockquotes": lambda n: _repeat("> ", n),
    "blockquoted lists": lambda n: _repeat("> - ", n),
    "nested lists": lambda n: "".join("  " * i + "- a\n" for i in range(n // 8))[:n],
    "unclosed tags": lambda n: _repeat("<a ", n),
    "nested divs": lambda n: _repeat("<div>", n),
    "distinct bold tags": lambda n: "".join(f"<b title={i}>" for i in range(n // 12))[:n],
    "unclosed comments": lambda n: _repeat("<!--", n),
    "unclosed autolinks": lambda n: _repeat("<http://", n),
    "less-than signs": lambda n: "<" * n,
    "reference definitions": lambda n: "[a]: /u\n" + _repeat("[a]", n),
    "pipes": lambda n: _repeat("|" * 200 + "\n", n),
    "wide table": lambda n: "|a" * (n // 8) + "\n" + "|-" * (n // 8) + "\n" + _repeat("x\n", n // 2),
    "entities": lambda n: _repeat("&amp;", n),
    "broken entities": lambda n: _repeat("&#", n),
    "a line without spaces": lambda n: "a" * n,
    "setext headings": lambda n: _repeat("a\n=\n", n),
    "fences": lambda n: _repeat("```\n", n),
    "admonitions": lambda n: _repeat('!!! note "x"\n    ', n),
    "alerts": lambda n: _repeat("> [!NOTE]\n", n),
    "admonitions and fences": lambda n: _repeat("!!! tip\n    a\n```\n", n),
    "a mix": lambda n: _repeat("[*_`<a> &amp; > - | ![x]( <!-- ~~ \n", n),
}
FORBIDDEN = re.compile(r"<script|<iframe|<svg|\son\w+=|javascript:", re.I)


def _best_seconds(render, text: str, runs: int = 3) -> float:
    best = float("inf")
    for run in range(runs):
        varied = f"{text}\n\n{run}"  # a new text each run: the cache must not answer
        started = time.perf_counter()
        render(varied)
        best = min(best, time.perf_counter() - started)
    return best


def _assert_linear(render, family) -> None:
    small, large = _best_seconds(render, family(SMALL)), _best_seconds(render, family(LARGE))
    # Linear: about 4 times longer; quadratic: 16 times. The allowance absorbs timer noise on tiny figures.
    assert large < 8 * small + 0.05, f"16 KB: {small * 1000:.1f} ms, 64 KB: {large * 1000:.1f} ms"
    assert large < 1.0, f"64 KB took {large * 1000:.0f} ms"


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_each_hostile_family_renders_in_linear_time(family):
    _assert_linear(render_markdown, family)


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_each_hostile_family_renders_to_safe_html_keeping_its_words(family):
    text = "zebra " + family(SMALL) + " <script>alert(1)</script>"
    html = render_markdown(text)
    assert "zebra" in html and not FORBIDDEN.search(html)


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_article_text_for_search_and_summaries_takes_linear_time(family):
    """Indexing a published article reads its words with regular expressions: none may backtrack."""

    def words(text: str) -> None:
        body = markdown_text.clean_template_syntax(text)
        markdown_text.plain_text(body)
        markdown_text.first_paragraph_text(body)
        markdown_text.headings(body)

    _assert_linear(words, family)


def test_the_recursion_input_renders_as_emphasis_or_text():
    html = render_markdown(RECURSION_INPUT)
    assert "a" in re.sub(r"<[^>]+>", "", html)


def test_an_article_of_hostile_markdown_renders():
    body = FAMILIES["star runs"](LARGE) + "\n\n## Still here\n\n" + FAMILIES["unclosed links"](LARGE)
    article = parse_article("en/x.md", f"---\ntitle: T\n---\n{body}".encode(), default_lang="en")
    started = time.perf_counter()
    rendered = render_article(article)
    assert time.perf_counter() - started < 1.0
    assert "Still here" in rendered.html  # as a heading, or as text when the stars nest too deep to sanitise


def test_html_too_deep_to_sanitise_is_shown_as_escaped_text():
    html = render_markdown("Hello <b>you</b>\n\n" + "> " * 500 + "deep")
    assert html.startswith("<p>Hello &lt;b&gt;you&lt;/b&gt;</p>") and "deep" in html


def test_a_renderer_failure_shows_the_escaped_text_with_its_line_breaks(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(markdown_render.pyromark, "html", broken)
    html = render_markdown("line one <b>\nline two\n\nnext")
    assert html == "<p>line one &lt;b&gt;<br>\nline two</p>\n<p>next</p>"


TOKENS = ["*", "**", "_", "__", "`", "```", "[", "]", "(", ")", "![", "](", "<", ">", "> ", "- ", "1. ", "#", "|",
          "&", "&#", ";", "\\", "!!! note", "> [!NOTE]", "<div>", "</div>", "<b x=1>", "<!--", "-->", "\n", "\n\n",
          "    ", "a", "word ", "http://x.y", "{{", "}}", "{%", "%}", "~~", "<h2>", "="]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TOKENS), st.integers(min_value=1, max_value=600)), max_size=12))
def test_any_mix_of_markdown_syntax_renders_quickly_and_safely(parts):
    text = "zebra " + "".join(token * count for token, count in parts)
    started = time.perf_counter()
    html = render_markdown(text)
    markdown_text.plain_text(text)
    assert time.perf_counter() - started < 1.0
    assert "zebra" in html and not FORBIDDEN.search(html)


# ---- through the web ----


def test_the_preview_answers_quickly_for_50_kb_of_unclosed_links(client, alice):
    login(client, alice)
    started = time.perf_counter()
    response = client.post("/tickets/preview", data={"description": FAMILIES["unclosed links"](50_000)},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert time.perf_counter() - started < 2.0


def test_a_stored_reply_of_pathological_markdown_opens_for_customer_and_agent(client, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="Stars", description=RECURSION_INPUT)
    tickets.customer_reply(db, ticket, body=FAMILIES["unclosed links"](40_000), actor=alice, now=utcnow())
    db.commit()
    login(client, alice)
    assert client.get(f"/tickets/{ticket.ref}").status_code == 200
    client.post("/logout")
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}")
    assert page.status_code == 200 and "Stars" in page.text
