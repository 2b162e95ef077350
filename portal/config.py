"""Defaults for every setting. Each can be overridden by a `PORTAL_<NAME>` environment variable."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from portal import ratelimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


class SettingError(ValueError):
    """A setting whose value cannot work: the portal refuses to start and says which and why."""

# name -> (default, description). The README's configuration table is generated from this mapping,
# so a new setting is documented where it is defined.
SETTINGS: dict[str, tuple[object, str]] = {
    "INSTANCE_PATH": (
        str(PROJECT_ROOT / "instance"),
        "Folder for the database, search index, secret key, outbox and attachments",
    ),
    "SECRET_KEY": (
        None,
        "Signs sessions and tokens; when unset a random key is generated once and kept in the instance folder",
    ),
    "DATABASE_URL": (None, "SQLAlchemy URL; default: SQLite file `portal.db` in the instance folder"),
    "KB_DIR": (
        str(PROJECT_ROOT / "kb_articles"),
        "Folder of Markdown knowledge-base articles (`<lang>/<section>/<slug>.md`)",
    ),
    "KB_INDEX_DIR": (None, "Whoosh index folder; default `kb_index` in the instance folder"),
    "KB_SYNC_INTERVAL": (0.5, "Seconds between checks of the KB folder for added, changed or deleted files"),
    "KB_GIT_COMMIT": (False, "Commit each article published from the web, with the agent as author, when the KB "
                             "folder is a git repository"),
    "DEFAULT_LANGUAGE": ("en", "Language used when neither the user nor the browser asks for one (`en` or `es`)"),
    "TIMEZONE": ("Europe/Madrid", "Time zone in which dates and times are shown"),
    "SMTP_HOST": (None, "SMTP server for outgoing mail; when unset, mails are written to the outbox folder"),
    "SMTP_PORT": (25, "SMTP port"),
    "SMTP_USERNAME": (None, "SMTP user name (optional)"),
    "SMTP_PASSWORD": (None, "SMTP password (optional)"),
    "SMTP_STARTTLS": (False, "Use STARTTLS with the SMTP server"),
    "MAIL_FROM": ("Mesa Support <support@mesa.example>", "Sender of every notification"),
    "OUTBOX_DIR": (None, "Where mails go without SMTP; default `outbox` in the instance folder"),
    "MAIL_REPLY_TO": (None, "Reply-To of notifications: the support mailbox that `mail serve` / `mail poll` read; "
                            "default `MAIL_FROM`"),
    "MAIL_TRUSTED_AUTHSERV_ID": (None, "authserv-id of your MTA's Authentication-Results header; with DMARC pass "
                                       "there, an agent's mail is their reply (docs/email-channel.md)"),
    "MAIL_LISTEN": ("127.0.0.1:2525", "host:port on which `flask mail serve` accepts incoming mail (SMTP)"),
    "MAIL_MAX_PER_SENDER_PER_HOUR": (20, "New tickets one e-mail address may open per hour"),
    "IMAP_HOST": (None, "IMAP server that `flask mail poll` reads incoming mail from"),
    "IMAP_PORT": (993, "IMAP port"),
    "IMAP_USER": (None, "IMAP user name"),
    "IMAP_PASSWORD": (None, "IMAP password"),
    "IMAP_FOLDER": ("INBOX", "IMAP folder to read; processed messages are marked as seen"),
    "IMAP_SSL": (True, "Connect to the IMAP server over TLS"),
    "ATTACHMENTS_DIR": (None, "Attachment storage; default `attachments` in the instance folder"),
    "BASE_URL": ("http://127.0.0.1:5000", "Public address of the portal, `http(s)://host[:port][/prefix]`: every "
                                          "link in an e-mail starts with it (`make run` sets it from `HOST` and "
                                          "`PORT` when unset). Set it in production: a request's Host header is "
                                          "never used"),
    "MAX_CONTENT_LENGTH": (25 * 1024 * 1024, "Largest request body in bytes (413 beyond it)"),
    "MAX_ATTACHMENT_MB": (10, "Largest attachment in megabytes"),
    "AUTO_CLOSE_DAYS": (28, "Days after which a solved ticket closes by itself, read once when the default "
                            "automations are installed; afterwards edit the rule (Admin → Rules)"),
    "QUEUE_COUNTS_MAX_AGE": (5.0, "Seconds the agent desk's shared figures and lists (queue counts, unread counts, "
                                  "agents, groups, categories, macro titles) are kept per server process "
                                  "(changes made in the same process show at once)"),
    "PENDING_REMINDER_DAYS": (3, "Days before a pending ticket's customer is reminded, read once when the default "
                                 "automations are installed; afterwards edit the rule"),
    "PENDING_AUTO_SOLVE_DAYS": (7, "Days after which a pending ticket is set solved, read once when the default "
                                   "automations are installed; afterwards edit the rule"),
    "RATELIMIT_STORAGE_URI": (
        None,
        "Where rate-limit counters are kept, shared by every server process; default: SQLite file `ratelimits.db` "
        "in the instance folder (one host). With several hosts, a Redis they all reach, e.g. "
        "`redis://127.0.0.1:6379`. `memory://` counts per process (tests only)",
    ),
    "RATELIMIT_KEY_PREFIX": ("mesa", "Prefix of the rate-limit keys, so several sites can share one Redis"),
    "LOGIN_RATE_LIMIT": ("10 per minute", "Login and password-reset attempts allowed per IP and per account"),
    "API_RATE_LIMIT": ("300/minute", "REST API calls allowed per API token (and per address without a valid token)"),
    "PASSWORD_RESET_MAX_AGE": (3600, "Seconds a password-reset link stays valid"),
    "CONFIRMATION_MAX_AGE": (3 * 86400, "Seconds the link that confirms a new account's e-mail address stays valid"),
    "SESSION_LIFETIME": (12 * 3600, "Seconds a login lasts, however active (then the person logs in again); "
                                    "logging out, a new password, deactivation and a role change end it sooner"),
    "SESSION_COOKIE_SECURE": (
        None,
        "Force the Secure cookie flag; by default it follows the request scheme (HTTPS)",
    ),
    "TRUSTED_PROXIES": (0, "How many reverse proxies (TLS terminators, load balancers) stand in front of Mesa; each "
                           "sets `X-Forwarded-For`/`-Proto`/`-Host`, which Mesa believes only from that many hops "
                           "(0: none is believed)"),
    "WEBHOOKS_ALLOW_PRIVATE": (False, "Let webhooks reach private, loopback and link-local addresses and plain "
                                      "`http://` (tests and closed networks only)"),
    "WEBHOOKS_MAX_ATTEMPTS": (8, "Attempts at sending one webhook delivery before giving up"),
    "WEBHOOKS_RETRY_SECONDS": (60, "Wait before the first webhook retry; doubled after each failure (at most a day)"),
    "WEBHOOKS_TIMEOUT": (10.0, "Seconds a webhook receiver has to answer"),
    # The background worker (`flask --app app worker`, started by `make run`): seconds between the runs of each
    # job; 0 switches a job off in the worker (cron runs its command instead).
    "WORKER_AUTOMATIONS_INTERVAL": (300, "Seconds between two runs of the automations (Admin → Rules), which first "
                                         "bring back postponed tickets whose time has come, in the background worker"),
    "WORKER_SLA_INTERVAL": (60, "Seconds between two SLA checks (breaches recorded, assignees warned) in the worker"),
    "WORKER_WEBHOOKS_INTERVAL": (10, "Seconds between two sends of the due webhook deliveries in the worker"),
    "WORKER_MAIL_FLUSH_INTERVAL": (60, "Seconds between two sends of the e-mails still queued (after an SMTP outage) "
                                       "in the worker"),
    "WORKER_IMAP_INTERVAL": (60, "Seconds between two reads of the IMAP mailbox in the worker, when `IMAP_HOST` is "
                                 "set"),
    "WORKER_ROLLUP_INTERVAL": (600, "Seconds between two catch-ups of the report rollup (tickets not measured yet) "
                                    "in the worker"),
}


def defaults() -> dict[str, object]:
    values = {name: default for name, (default, _doc) in SETTINGS.items()}
    values.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        LANGUAGES=["en", "es"],
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).resolve().parent / "translations"),
        RATELIMIT_HEADERS_ENABLED=True,
        # When the storage does not answer, count in the process's memory (the limits hold per process) until
        # it answers again, rather than refuse every login or let every guess through: see docs/architecture.md.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    return values


def apply_environment(config: dict[str, object], environ: os._Environ[str] | dict[str, str]) -> None:
    """Copy `PORTAL_*` variables over the defaults, converting to the default's type."""
    for name, (default, _doc) in SETTINGS.items():
        raw = environ.get(f"PORTAL_{name}")
        if raw is None:
            continue
        if isinstance(default, bool) or name == "SESSION_COOKIE_SECURE":
            config[name] = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif isinstance(default, int):
            config[name] = int(raw)
        elif isinstance(default, float):
            config[name] = float(raw)
        else:
            config[name] = raw


def finish(config: dict[str, object]) -> None:
    """Fill the values that depend on the instance folder, creating what must exist."""
    instance = Path(str(config["INSTANCE_PATH"]))
    instance.mkdir(parents=True, exist_ok=True)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance / 'portal.db'}"
    if not config.get("RATELIMIT_STORAGE_URI"):
        config["RATELIMIT_STORAGE_URI"] = ratelimits.uri_for(instance / "ratelimits.db")
    for key, folder in (("KB_INDEX_DIR", "kb_index"), ("OUTBOX_DIR", "outbox"), ("ATTACHMENTS_DIR", "attachments")):
        if not config.get(key):
            config[key] = str(instance / folder)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    # Flask refuses a session cookie signed longer ago than this (31 days by default): no older cookie, of a
    # logged-in person or not, is read at all.
    config["PERMANENT_SESSION_LIFETIME"] = int(config["SESSION_LIFETIME"])
    config["BABEL_DEFAULT_LOCALE"] = config["DEFAULT_LANGUAGE"]
    config["BABEL_DEFAULT_TIMEZONE"] = config["TIMEZONE"]
    config["BASE_URL"] = checked_base_url(config["BASE_URL"])


# host: a name or an IPv4 address (letters, digits, dots, hyphens), or an IPv6 address in brackets; a prefix:
# path segments of the characters a URL path may carry unescaped.
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$")
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*/?$")


def checked_base_url(value: object) -> str:
    """`BASE_URL` as links are built from it (no trailing slash), or SettingError saying what is wrong: a link
    in a mail that points nowhere is found only when a customer clicks it."""
    raw = str(value or "").strip()
    expected = "PORTAL_BASE_URL must be the portal's public address, http(s)://host[:port][/prefix]"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise SettingError(f"{expected}; {raw!r} has an invalid port or host") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingError(f"{expected}; {raw!r} does not start with http:// or https:// and a host")
    if parts.username is not None or parts.password is not None:
        raise SettingError(f"{expected}; {raw!r} carries a user name or password")
    if not _valid_host(parts.hostname or "") or (port is not None and not 0 < port < 65536) \
            or parts.netloc.endswith(":"):
        raise SettingError(f"{expected}; {raw!r} has an invalid host or port")
    if parts.query or parts.fragment or "?" in raw or "#" in raw or not _PREFIX.match(parts.path):
        raise SettingError(f"{expected}; {raw!r} has something after the address (a query, a fragment, spaces "
                           "or other characters a path cannot carry)")
    return raw.rstrip("/")


def _valid_host(host: str) -> bool:
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return bool(_HOST.match(host))


def warn_about_unset_base_url(config: dict[str, object], environ: os._Environ[str] | dict[str, str], *,
                              explicit: bool) -> None:
    """Served by gunicorn without `PORTAL_BASE_URL`: the mails' links point at the default address, which is
    right for `make run` on one machine and wrong everywhere else. Said once, at start."""
    if explicit or "PORTAL_BASE_URL" in environ or not environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
        return
    log.warning("PORTAL_BASE_URL is not set: links in e-mails will point at %s, which only works on this machine. "
                "Set PORTAL_BASE_URL to the portal's public address, e.g. https://help.example.com",
                config["BASE_URL"])


def _instance_secret(path: Path) -> str:
    """A random key made once per instance, so sessions survive restarts without a key in the code."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key.encode())
    finally:
        os.close(fd)
    return key
