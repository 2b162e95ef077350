"""`_()` in templates: the request's language, the recipient's inside force_locale, variables escaped where the
template escapes and only there, "%%" read as "%"."""

from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale


def test_strings_follow_the_language_in_force(app):
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert render_template_string("{{ _('Select') }}") == "Seleccionar"
        with force_locale("en"):
            assert render_template_string("{{ _('Select') }}") == "Select"
        assert render_template_string("{{ _('Select') }} {{ _('Take') }}") == "Seleccionar Asignarme"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Select') }}") == "Select"


def test_variables_are_escaped_only_where_the_template_escapes(app):
    with app.test_request_context("/"):
        page = "{{ _('Hello %(name)s', name=who) }}"
        assert render_template_string(page, who="<b>Ann</b>") == "Hello &lt;b&gt;Ann&lt;/b&gt;"
        text = "{% autoescape false %}" + page + "{% endautoescape %}"
        assert render_template_string(text, who="<b>Ann</b>") == "Hello <b>Ann</b>"
        assert render_template_string("{{ _('100%% sure') }} {{ _('100%% sure') }}") == "100% sure 100% sure"
        assert render_template_string("{{ _('%(n)s%% done', n=5) }}") == "5% done"
