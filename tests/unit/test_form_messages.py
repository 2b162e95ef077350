"""WTForms' own messages (a required field left empty) come in the visitor's language, from a catalog loaded
once per language rather than once per request."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from portal.views.forms import LanguageForm


def test_wtforms_messages_follow_the_request_language(app):
    for language, required in (("es", "Este campo es obligatorio."), ("en", "This field is required.")):
        for _ in range(2):  # the second request reuses the catalog
            with app.test_request_context("/", headers={"Accept-Language": language}):
                form = LanguageForm(formdata=MultiDict({"lang": ""}), meta={"csrf": False})
                assert not form.validate()
                assert form.lang.errors == [required]
