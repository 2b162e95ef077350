"""Helpers for the REST API tests: a real token made through the service, and its header."""

from __future__ import annotations

from portal.clock import utcnow
from portal.services import api_tokens


def token_for(db, user, name: str = "test script") -> str:
    _token, secret = api_tokens.create(db, name=name, actor=user, now=utcnow())
    db.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
