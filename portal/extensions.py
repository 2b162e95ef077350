"""Flask extensions and the per-request database session: the only glue between Flask and the rest."""

from __future__ import annotations

import functools
import logging
from datetime import UTC
from typing import TYPE_CHECKING

from babel import support
from flask import Flask, Request, current_app, g, has_app_context, has_request_context, request, session, url_for
from flask.logging import default_handler
from flask_babel import Babel, get_locale, get_translations
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, user_logged_in, user_logged_out
from flask_wtf.csrf import CSRFProtect
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from sqlalchemy.orm import Session, sessionmaker
from wtforms.i18n import messages_path

from portal import ratelimits  # noqa: F401  (registers the mesa-sqlite:// storage with `limits`)
from portal.clock import utcnow
from portal.db import make_engine

if TYPE_CHECKING:
    from portal.services.desk_lists import Lists

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_database(app: Flask) -> None:
    """One engine per app; one session per request (or CLI command), closed at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    app.extensions["sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    # The business rules run in every transaction that changes a ticket; hooked first, so that webhooks and the
    # report rollup (hooked by their blueprints) see what the rules changed.
    from portal.services.rules import engine as rules_engine

    base_url = str(app.config.get("BASE_URL") or "").rstrip("/")
    app.extensions["rules_settings"] = rules_engine.Settings(ticket_url=lambda ref: f"{base_url}/tickets/{ref}")
    rules_engine.watch(app.extensions["sessionmaker"], app.extensions["rules_settings"])

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


def desk_lists() -> Lists:
    """The agent desk's short lists (agents, groups, categories...), kept per process: services.desk_lists."""
    return current_app.extensions["desk_lists"].current(db_session(), now=utcnow())


def select_locale() -> str:
    """A logged-in user's preference, then an explicit choice, then the browser's languages."""
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def request_translations():
    """The catalog of the locale in force, as `flask_babel.get_translations()` gives it, found faster.

    Flask-Babel resolves its per-request state through `g` four times for every string, and an agent page
    translates about 250 strings: a tenth of the workspace's time went there. The catalog is remembered
    beside Flask-Babel's own locale and found again only when that locale object changes (`force_locale`,
    used for e-mails in the recipient's language, puts another one in place and restores the first)."""
    state = getattr(g._get_current_object(), "_flask_babel", None) if has_app_context() else None
    locale = getattr(state, "babel_locale", None)
    if locale is None:  # the request's first string: Flask-Babel picks the locale
        return get_translations()
    remembered = state.__dict__.get("mesa_translations")
    if remembered is None or remembered[0] is not locale:
        remembered = state.mesa_translations = (locale, get_translations())
    return remembered[1]


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: object) -> str:
    """`_()` in templates, as Jinja's newstyle gettext gives it (translated, marked safe where the template
    escapes, then formatted with the variables escaped), in one call instead of three. A string without
    variables is translated once per catalog: a queue page says about 120 of them, at 5 µs each. The catalogs
    are ours and trusted as markup, as Jinja trusts them (the variables are escaped)."""
    translations = request_translations()
    if variables:
        text = translations.ugettext(string)
        return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704
    memo = translations.__dict__.setdefault("mesa_template_strings", {})
    key = (string, eval_ctx.autoescape)
    found = memo.get(key)
    if found is None:
        text = translations.ugettext(string)
        # % {}: "%%" reads "%", as with newstyle
        found = memo[key] = (Markup(text) if eval_ctx.autoescape else text) % {}  # noqa: S704
    return found


_BUILT_URLS: dict[tuple, str] = {}
_BUILT_URLS_MAX = 20_000


def remembered_url_for(endpoint: str, **values: object) -> str:
    """`url_for` for templates, remembering the URLs it built: a workspace builds about 50 links, at 6 to 9 µs
    each through Werkzeug's router. A URL depends only on the endpoint, its values and the script root (no
    url_defaults here); external URLs, which depend on the request's host, are always built."""
    if values.get("_external") or not has_request_context():
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items()))
    try:
        found = _BUILT_URLS.get(key)
    except TypeError:  # a value that cannot be a key (a list): build it
        return url_for(endpoint, **values)
    if found is None:
        if len(_BUILT_URLS) >= _BUILT_URLS_MAX:
            _BUILT_URLS.clear()
        found = _BUILT_URLS[key] = url_for(endpoint, **values)
    return found


@functools.cache
def _wtforms_catalog(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalRequest(Request):
    """Flask's request, with WTForms' own messages (Flask-WTF reads them from `request.wtforms_translations`)
    found in a catalog loaded once per language: Flask-WTF loads it from disk on every request that builds a
    form, a twentieth of the workspace's time."""

    @property
    def max_content_length(self) -> int | None:
        """JSON bodies are limited further than uploads (views/input_bounds.py)."""
        from portal.views.input_bounds import body_limit

        return body_limit(Request.max_content_length.fget(self), is_json=self.is_json)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        Request.max_content_length.fset(self, value)

    def __getattr__(self, name: str) -> object:
        if name != "wtforms_translations":
            raise AttributeError(name)
        catalog = self.__dict__[name] = _wtforms_catalog(str(get_locale()))
        return catalog


def init_rate_limits(app: Flask) -> None:
    """Flask-Limiter on the configured storage (`portal.ratelimits` registers the SQLite one it defaults to).
    A storage that does not answer at start is said in the log: the limits then hold per process only."""
    uri = str(app.config["RATELIMIT_STORAGE_URI"])
    if uri.startswith(("redis://", "rediss://")):
        # redis-py waits for ever by default: a Redis host gone from the network would hold every login until
        # the system's TCP timeout (minutes) instead of falling back at once.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter.init_app(app)
    # Flask-Limiter's own logger has only a NullHandler, so "storage unreachable - falling back" reached nobody:
    # without a logging configuration, it is written where the app's messages are.
    if not logging.getLogger().handlers and default_handler not in limiter.logger.handlers:
        limiter.logger.addHandler(default_handler)
    if uri.startswith("memory:") and not app.testing:
        app.logger.warning("Rate limits are counted per process (RATELIMIT_STORAGE_URI=memory://): with several "
                           "workers each one allows the full limit.")
    elif not uri.startswith("memory:") and not limiter.storage.check():
        app.logger.error("The rate-limit storage %s does not answer: limits are counted per process until it does.",
                         uri.split("://", 1)[0] + "://")


def init_extensions(app: Flask) -> None:
    app.request_class = PortalRequest
    init_database(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = template_gettext
    app.jinja_env.globals["url_for"] = remembered_url_for
    init_rate_limits(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.login_message = app.config["LOGIN_MESSAGE"]
    login_manager.localize_callback = str  # the lazy message, in the visitor's language, when flashed

    @login_manager.unauthorized_handler
    def _unauthorized():
        """A POST whose login ended keeps its text through the login (views/carried_forms.py)."""
        from portal.views import carried_forms

        return carried_forms.unauthorized()

    @login_manager.user_loader
    def _load_user(session_id: str):
        """Every request: the person the session names, while it is younger than SESSION_LIFETIME and nothing
        ended their sessions since it began (`User.get_id`, services.accounts.session_user)."""
        from portal.services import accounts

        if not _session_within_lifetime():
            return None
        return accounts.session_user(db_session(), session_id)


# When the login session began, in seconds since the epoch (portal.clock's time). A session is a signed cookie
# that Flask re-signs whenever it changes (a flashed message, the language), so the cookie's own age says nothing
# about when its owner logged in.
LOGIN_AT = "_login_at"


def _epoch_now() -> int:
    return int(utcnow().replace(tzinfo=UTC).timestamp())


def _session_within_lifetime() -> bool:
    login_at = session.get(LOGIN_AT)
    if not isinstance(login_at, int):
        return False
    # Only the upper bound: a server whose clock runs a little behind the one that logged the person in still
    # lets them in.
    return _epoch_now() - login_at <= int(current_app.config["SESSION_LIFETIME"])


@user_logged_in.connect
def _note_login_time(sender: Flask, **extra: object) -> None:
    session[LOGIN_AT] = _epoch_now()


@user_logged_out.connect
def _forget_login_time(sender: Flask, **extra: object) -> None:
    session.pop(LOGIN_AT, None)
