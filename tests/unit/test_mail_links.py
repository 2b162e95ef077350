"""Root-relative site links become absolute on the public address; nothing else in a text or HTML changes."""

from __future__ import annotations

from portal.services.mail.links import absolute_html, absolute_text, site_url

BASE = "https://help.acme.example:8443/support"


def test_a_site_path_goes_on_the_public_address_without_doubling_its_prefix():
    assert site_url(BASE, "/kb/en/router") == f"{BASE}/kb/en/router"
    assert site_url(BASE + "/", "/kb/en/router") == f"{BASE}/kb/en/router"
    assert site_url(BASE, "/support/tickets/MSA-1") == f"{BASE}/tickets/MSA-1"
    assert site_url("http://127.0.0.1:8080", "/kb/x") == "http://127.0.0.1:8080/kb/x"


def test_relative_links_in_markdown_and_plain_text_become_absolute():
    text = ("See [the guide](/kb/en/router), [ref][1] and /kb/es/router pasted bare.\n"
            "[1]: /kb/en/billing\n")
    assert absolute_text(text, BASE) == (
        f"See [the guide]({BASE}/kb/en/router), [ref][1] and {BASE}/kb/es/router pasted bare.\n"
        f"[1]: {BASE}/kb/en/billing\n")
    assert absolute_text("Open /kb/en/router now", BASE, markdown=True) == f"Open <{BASE}/kb/en/router> now"


def test_what_is_not_a_site_path_stays_as_written():
    text = ("[vendor](https://vendor.example/kb/en/x) [other](//evil.example/kb) [mail](mailto:a@b.example) "
            "[top](#steps) a file at /etc/hosts, a/kb/b, https://x.example/kb/y")
    assert absolute_text(text, BASE) == text
    assert absolute_text(absolute_text(text + " /kb/a", BASE), BASE) == absolute_text(text + " /kb/a", BASE)


def test_html_hrefs_and_srcs_become_absolute_and_others_stay():
    html = ('<a href="/kb/en/router">guide</a> <img src="/static/logo.png"> <a href="//evil.example/x">x</a> '
            "<a href='/tickets/MSA-1'>t</a> <a href=\"https://vendor.example/\">v</a> <a href=\"#top\">top</a>")
    assert absolute_html(html, BASE) == (
        f'<a href="{BASE}/kb/en/router">guide</a> <img src="{BASE}/static/logo.png"> '
        f'<a href="//evil.example/x">x</a> <a href=\'{BASE}/tickets/MSA-1\'>t</a> '
        '<a href="https://vendor.example/">v</a> <a href="#top">top</a>')
