"""Settings come from defaults, then PORTAL_* variables, then the test's own config."""

from __future__ import annotations

from portal import create_app


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
