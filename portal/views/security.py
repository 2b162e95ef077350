"""Security headers on every response, and the Secure cookie flag whenever the request came over HTTPS."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


class SchemeAwareSessionInterface(SecureCookieSessionInterface):
    """`PORTAL_SESSION_COOKIE_SECURE` forces the flag; otherwise it follows the request's scheme."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = app.config.get("SESSION_COOKIE_SECURE")
        if forced is not None:
            return bool(forced)
        return bool(request) and request.is_secure


def init_app(app: Flask) -> None:
    app.session_interface = SchemeAwareSessionInterface()
    trust_proxies(app)
    app.before_request(refuse_nul_characters)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, the client's address, the scheme and the host are the ones the proxies saw.

    Only the last N hops of `X-Forwarded-*` are believed: anything a client writes into those headers itself is
    ignored, so nobody can pose as another address to get round a rate limit, or as HTTPS to get a Secure
    cookie on plain HTTP. With 0 (the default, Mesa served directly) no forwarded header is believed."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def refuse_nul_characters() -> None:
    """Nobody types a NUL character, and PostgreSQL cannot store one: a query or form value carrying it is
    refused here with a 400, instead of failing deep inside whichever query meets it first."""
    for values in (request.args, request.form):
        if any("\x00" in value for _key, value in values.items(multi=True)):
            abort(400)
