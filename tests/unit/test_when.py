"""The one formatting layer for dates and times: the portal's zone, the reader's language, one style each."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.clock import utcnow
from portal.views.when import ago, csv_time, time_tag, when


@pytest.fixture
def app_config():
    return {"TIMEZONE": "Europe/Madrid"}


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def this_year(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(utcnow().year, month, day, hour, minute)


def test_times_are_shown_in_the_portals_zone_not_utc(ctx):
    stored = this_year(12, 7, 12, 28)  # naive UTC, as the database holds it; Madrid is UTC+1 in winter
    with force_locale("en"):
        assert when(stored) == "7 Dec, 13:28"
        assert when(stored, "time") == "13:28"
        assert csv_time(stored) == f"{stored.year}-12-07 13:28"
    with force_locale("es"):
        assert when(stored) == "7 dic, 13:28"


def test_summer_time_and_another_year(ctx):
    with force_locale("en"):
        assert when(this_year(7, 1, 8, 0)) == "1 Jul, 10:00"  # UTC+2 in summer
        assert when(datetime(2019, 3, 4, 9, 5)) == "4 Mar 2019, 10:05"
        assert when(date(2019, 3, 4)) == "4 Mar 2019"
        assert when(None) == ""
        assert when("2019-03-04") == "4 Mar 2019" and when("last spring") == "last spring"  # front matter


def test_relative_times_in_both_languages(ctx):
    now = utcnow()
    with force_locale("en"):
        assert ago(now - timedelta(hours=2), now=now) == "2 hr. ago"
        assert ago(now - timedelta(seconds=20), now=now) == "just now"
        assert ago(now + timedelta(minutes=90), now=now) == "in 2 hr."
    with force_locale("es"):
        assert ago(now - timedelta(minutes=3), now=now) == "hace 3 min"
        assert ago(now - timedelta(seconds=5), now=now) == "justo ahora"


def test_the_time_tag_names_the_exact_time_and_utc_for_machines(ctx):
    stored = this_year(12, 7, 12, 28)
    with force_locale("en"):
        tag = str(time_tag(stored))
    assert f'datetime="{stored.year}-12-07T12:28:00Z"' in tag
    assert ">7 Dec, 13:28</time>" in tag and f"7 Dec {stored.year}, 13:28 CET" in tag
    assert "—" in str(time_tag(None))
