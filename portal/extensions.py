"""Flask extensions and the per-request database session: the only glue between Flask and the rest."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from portal.db import make_engine

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_database(app: Flask) -> None:
    """One engine per app; one session per request (or CLI command), closed at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    app.extensions["sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        db = g.pop("db_session", None)
        if db is not None:
            if exc is not None:
                db.rollback()
            db.close()


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["sessionmaker"]()
    return g.db_session


def select_locale() -> str:
    """A logged-in user's preference, then an explicit choice, then the browser's languages."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def init_extensions(app: Flask) -> None:
    init_database(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["RATELIMIT_STORAGE_URI"])
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = app.config["LOGIN_MESSAGE"]
    login_manager.localize_callback = str  # the lazy message, in the visitor's language, when flashed

    @login_manager.user_loader
    def _load_user(user_id: str):
        from portal.models import User

        user = db_session().get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None
