"""Settings come from defaults, then PORTAL_* variables, then the test's own config."""

from __future__ import annotations

import logging

import pytest

from portal import create_app
from portal.config import SettingError


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("PORTAL_AUTO_CLOSE_DAYS", "14")
    app = create_app({"TESTING": True})
    assert app.config["AUTO_CLOSE_DAYS"] == 14
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'elsewhere' / 'portal.db'}"
    assert app.config["KB_INDEX_DIR"] == str(tmp_path / "elsewhere" / "kb_index")
    app.extensions["engine"].dispose()


def test_generated_secret_key_is_kept_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    for app in (first, second):
        app.extensions["engine"].dispose()


def test_test_config_beats_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_DEFAULT_LANGUAGE", "es")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DEFAULT_LANGUAGE": "en"})
    assert app.config["DEFAULT_LANGUAGE"] == "en"
    app.extensions["engine"].dispose()


@pytest.mark.parametrize("value", ["127.0.0.1:5000", "ftp://help.example.com", "https://", "http://help example.com",
                                   "http://help.example.com:99999", "https://help.example.com/?next=x",
                                   "https://help.example.com/#top", "https://user:pw@help.example.com",
                                   "https://help.example.com/sup port", 'https://help.example.com/"x'])
def test_a_malformed_base_url_stops_the_start_and_says_why(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PORTAL_BASE_URL", value)
    with pytest.raises(SettingError, match=r"PORTAL_BASE_URL must be .*http\(s\)://host\[:port\]\[/prefix\]"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize(("value", "kept"), [("https://help.example.com/", "https://help.example.com"),
                                             ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
                                             ("https://example.com/help/desk/", "https://example.com/help/desk"),
                                             ("http://[::1]:5000", "http://[::1]:5000")])
def test_a_good_base_url_is_kept_without_its_trailing_slash(tmp_path, monkeypatch, value, kept):
    monkeypatch.setenv("PORTAL_BASE_URL", value)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["BASE_URL"] == kept
    app.extensions["engine"].dispose()


def test_gunicorn_without_a_base_url_warns_at_start_and_uses_the_default(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    with caplog.at_level(logging.WARNING, logger="portal.config"):
        app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert any("PORTAL_BASE_URL is not set" in record.getMessage() for record in caplog.records)
    app.extensions["engine"].dispose()

    caplog.clear()
    monkeypatch.setenv("PORTAL_BASE_URL", "https://help.example.com")
    with caplog.at_level(logging.WARNING, logger="portal.config"):
        app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not any("PORTAL_BASE_URL" in record.getMessage() for record in caplog.records)
    app.extensions["engine"].dispose()
