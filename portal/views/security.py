"""Security headers on every response, and the Secure cookie flag whenever the request came over HTTPS."""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

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
