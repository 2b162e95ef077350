"""Every CSV Mesa hands out is written here, so no export can forget the defence against formula injection.

A spreadsheet opening a CSV runs a cell that starts with `=`, `+`, `-` or `@` as a formula (`=HYPERLINK(…)` sends
the sheet's other cells to a stranger's site when clicked, DDE payloads start programs in old Excel), and treats a
leading tab, carriage return or line feed as space before one. Full-width `＝＋－＠` are treated the same, as some
spreadsheet set-ups read them as their ASCII forms. Whatever text reaches an export (a customer's search,
a ticket subject, a satisfaction comment, a name, an article's file name) is therefore written, when it starts
with one of those characters, after any spaces or invisible characters, with a leading apostrophe, OWASP's rule:
spreadsheets show it as the text it is. Numbers that Mesa computes are passed as numbers (int, float, Decimal) and
written as they are, so a figure stays a figure; only text is ever changed.

Every field is quoted (OWASP too): a spreadsheet that splits on `;` or a tab, as Excel does in many locales, cannot
start a new cell in the middle of a text that contains one.

Written by hand rather than with `defusedcsv`: that library leaves tab, CR, LF, full-width signs and leading spaces
through, and rewrites `|` inside the text.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from flask import Response

FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def cell(value: object) -> object:
    """What to write for one value: numbers as they are, None as empty, text made inert."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if _starts_a_formula(text) else text


def _starts_a_formula(text: str) -> bool:
    for char in text:
        if char in FORMULA_STARTS:
            return True
        # Spaces, control and format characters (zero-width space, BOM, direction marks) can be trimmed by an
        # import, leaving what follows them first.
        if not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")):
            return False
    return False


def write_rows(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()


def csv_response(rows: Iterable[Iterable[object]], *, filename: str) -> Response:
    """A CSV download of `rows` (the heading row first)."""
    response = Response(write_rows(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
