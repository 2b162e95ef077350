"""Bounds on what a request can make the app parse: integer route parameters, integer query parameters and
JSON bodies. Each turns a hostile input into a clear 4xx before it reaches a query or a recursive parser.

- `<int:...>` in every route is `DatabaseIdConverter`: it matches 1..2**31-1 only (the range of our INTEGER
  id columns), so `/api/v1/users/1000000000000000000000000000000` is a 404 like any missing id, not an
  OverflowError from the database driver.
- `query_int` reads an integer query parameter (page numbers, limits) the same way everywhere.
- `BoundedJSONProvider` refuses JSON nested deeper than `JSON_MAX_DEPTH` before `json.loads` recurses into it
  (the standard library raises RecursionError, not ValueError, on 50,000 `[`; Flask's `get_json` only
  catches ValueError), and JSON bodies are limited to `JSON_MAX_BYTES` (413), far above any valid API call.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.routing import IntegerConverter, Map

from portal.errors import N_, Invalid
from portal.integers import DB_INT_MAX, whole_number

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
JSON_MAX_DEPTH = 32  # the API's bodies are two levels deep
JSON_MAX_BYTES = 1024 * 1024  # the longest valid call (50,000-character texts, escaped) is a fraction of it


def positive_up_to(maximum: int) -> str:
    """A regular expression matching exactly the decimal numbers 1..maximum, without leading zeros."""
    digits = str(maximum)
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            options.append(f"{digits[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{len(digits) - position - 1}}}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class DatabaseIdConverter(IntegerConverter):
    """`<int:name>`: the ASCII digits of 1..DB_INT_MAX; anything else does not match the route (404). Werkzeug's
    own accepts any length (and any Unicode digit), so a 31-digit id reached the database. The range is in the
    regular expression itself: Werkzeug checks a rule's methods before its converter, so a converter that only
    refused in `to_python` turned `POST /agent/drafts/0` into a 405 (the GET rule of that path matched)."""

    regex = positive_up_to(DB_INT_MAX)

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = DB_INT_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def query_int(name: str, default: int, *, minimum: int = 1, maximum: int = DB_INT_MAX) -> int:
    """An integer query parameter: `default` when absent or empty; a whole number in minimum..maximum; anything
    else is refused (422, naming the parameter) rather than silently replaced or sent on to a query."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    number = whole_number(raw, minimum=minimum, maximum=maximum)
    if number is None:
        raise Invalid(N_("%(field)s must be a whole number from %(min)s to %(max)s."), field=name, min=minimum,
                      max=maximum)
    return number


# A JSON string (escapes included) or one bracket: the only tokens that matter for nesting.
_NESTING_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def nesting_exceeds(text: str, limit: int) -> bool:
    """True as soon as `text` opens more than `limit` arrays or objects inside one another. Strings are skipped
    whole, so brackets inside them do not count. Malformed text is left for the parser to refuse."""
    depth = 0
    for token in _NESTING_TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """`app.json`: what `request.get_json()` (and Flask-WTF, for a JSON body sent to a form) parses with."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8") if isinstance(s, bytes | bytearray) else s
        if nesting_exceeds(text, JSON_MAX_DEPTH):
            raise ValueError(f"JSON nested deeper than {JSON_MAX_DEPTH} levels")
        try:
            return super().loads(text, **kwargs)
        except RecursionError:  # cannot happen below the depth limit; kept so it stays a ValueError
            raise ValueError("JSON nested too deeply") from None


def body_limit(configured: int | None, *, is_json: bool) -> int | None:
    """A request's body limit: JSON bodies get `JSON_MAX_BYTES`, everything else the app's limit."""
    if is_json and (configured is None or configured > JSON_MAX_BYTES):
        return JSON_MAX_BYTES
    return configured


def init_app(app: Flask) -> None:
    """Before any blueprint: rules are bound to the converter in force when they are added. The JSON body
    limit is applied by `extensions.PortalRequest` (it must hold when the body stream is first opened)."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.json = BoundedJSONProvider(app)

    @app.before_request
    def _pages_take_forms() -> None:
        """Only /api/ reads JSON. Flask-WTF would otherwise build any page's form from a JSON body, and crash on
        one that is not an object (`[1, 2]`, `5`): the pages (htmx included) send forms, so JSON is refused."""
        if request.is_json and request.method not in SAFE_METHODS and not request.path.startswith("/api/"):
            raise UnsupportedMediaType()
