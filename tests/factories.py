"""Test data with sensible defaults: say only what matters to the test."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.services import accounts

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


class Factory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def user(self, *, email: str | None = None, name: str | None = None, role: str = "customer",
             password: str = DEFAULT_PASSWORD, locale: str | None = None):
        n = next(_counter)
        user = accounts.create_user(
            self.session,
            email=email or f"person{n}@example.com",
            name=name or f"Person {n}",
            password=password,
            role=role,
            locale=locale,
            now=utcnow(),
        )
        self.session.commit()
        return user
