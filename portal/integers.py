"""Whole numbers typed or sent from outside: ids, versions, page numbers, minutes.

Every id, version and count column is a 32-bit INTEGER on PostgreSQL (SQLite stores 64 bits). A number past that
range reaching a query is not "not found" but a crash: SQLite's driver raises OverflowError and PostgreSQL's
"integer out of range". Python's `int()` also reads far more than ASCII digits ("١٢" is 12; `"²".isdigit()` is
true but `int("²")` raises) and refuses strings past 4,300 digits with a ValueError. So text from a request
becomes a number here, and only here: ASCII digits, at most ten of them, within the column's range.
"""

from __future__ import annotations

import re

DB_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER
# A number as numbers are written: no sign, no spaces, no leading zero; ten digits hold DB_INT_MAX.
_DIGITS = re.compile(r"0|[1-9][0-9]{0,9}")


def whole_number(value: object, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int | None:
    """`value` (text, or an int from JSON or a form) as an int in minimum..maximum, or None when it is anything
    else: empty, signed, spaced, zero-padded, non-ASCII digits, a bool, a float, or out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if minimum <= number <= maximum else None


def is_id(value: object) -> bool:
    """True for an int a row's id could be (1..DB_INT_MAX)."""
    return whole_number(value, minimum=1) is not None
