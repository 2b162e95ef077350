"""Domain errors. Services raise them; `views/errors.py` turns each into one HTTP answer.

A message is an English message id with `%(name)s` placeholders filled from the error's details; the web layer
translates it. Mark message ids with `N_` so `make i18n-extract` finds them.
"""


def N_(message: str) -> str:
    """Marks a message id for extraction (`pybabel extract -k N_`) without translating it here."""
    return message


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """Missing, or not yours: the same answer, so nothing is revealed."""

    status_code = 404


class NotAllowed(DomainError):
    status_code = 403


class InvalidTransition(DomainError):
    status_code = 409


class Conflict(DomainError):
    """Someone else changed the record since you loaded it."""

    status_code = 409


class LimitExceeded(DomainError):
    status_code = 413


class Invalid(DomainError):
    status_code = 422


class Malformed(DomainError):
    """The request itself cannot be read: a body that is not JSON, or nested or sized past our bounds."""

    status_code = 400
