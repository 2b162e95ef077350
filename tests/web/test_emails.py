"""Every e-mail template renders in both languages, with the subject from the text version."""

from __future__ import annotations

import pytest

from portal.views.mailer import absolute_url, recipient_language, render_email

TEMPLATES = {
    "password_reset": {"reset_url": "http://portal.test/reset-password/t", "minutes": 60, "invited": False},
    "confirm_address": {"confirm_url": "http://portal.test/confirm/t", "days": 3},
    "registration_exists": {"login_url": "http://portal.test/login", "forgot_url": "http://portal.test/forgot"},
}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_each_email_renders_in_each_language(app, alice, template, language):
    with app.app_context():
        email = render_email(template, language, user=alice, **TEMPLATES[template])
    assert email.subject and "\n" not in email.subject
    assert email.language == language
    assert f'<html lang="{language}">' in email.html
    assert f"<title>{email.subject}</title>" in email.html
    assert "Alice Customer" in email.text and "Alice Customer" in email.html
    assert "http://portal.test" in email.text


def test_html_is_escaped_but_text_is_not(app, make):
    odd = make.user(name="Tom <b>&</b> Jerry")
    with app.app_context():
        email = render_email("confirm_address", "en", user=odd, confirm_url="http://portal.test/confirm/t", days=3)
    assert "Tom &lt;b&gt;&amp;&lt;/b&gt; Jerry" in email.html
    assert "Tom <b>&</b> Jerry" in email.text


def test_links_use_base_url_outside_requests(app):
    app.config["BASE_URL"] = "https://help.acme.example/support"
    with app.app_context():
        assert absolute_url("auth.reset_password", token="abc") == \
            "https://help.acme.example/support/reset-password/abc"


def test_recipient_language_is_their_choice_else_the_default(app, make):
    with app.app_context():
        assert recipient_language(make.user(locale="es")) == "es"
        assert recipient_language(make.user(locale=None)) == "en"
        app.config["DEFAULT_LANGUAGE"] = "es"
        assert recipient_language(make.user(locale=None)) == "es"


def test_a_mail_in_the_recipients_language_leaves_the_page_in_the_agents(app, alice):
    # An agent working in Spanish answers an English customer: the page goes on in Spanish, the mail is English.
    with app.test_request_context(headers={"Accept-Language": "es"}):
        page = app.jinja_env.from_string("{{ _('Log out') }} · {{ ngettext('%(num)d ticket', '%(num)d tickets', 2) }}")
        before = page.render()
        email = render_email("confirm_address", "en", user=alice, **TEMPLATES["confirm_address"])
        after = page.render()
    assert before == after == "Cerrar sesión · 2 solicitudes"
    assert email.subject == "Confirm your e-mail address for Mesa"
