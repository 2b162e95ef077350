"""Identifiers never reach the reader: sections have names and dates are short, in the reader's language."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, format_datetime

from portal.views.labels import section_label


def test_known_sections_have_translated_names(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert section_label("connection") == "Connection"
        assert section_label("guides/setup-wizard") == "Setup wizard"
        assert section_label(None) == ""


def test_datetimes_show_minutes_in_the_portal_time_zone(app):
    with app.test_request_context(), force_locale("en"):
        # 09:05 UTC in November is 10:05 in Madrid.
        assert format_datetime(datetime(2026, 11, 23, 9, 5, 42), "medium") == "23 Nov 2026, 10:05"
