"""How one value is written into a CSV cell, safely for spreadsheets.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
tab or carriage return can smuggle one in (CSV injection, OWASP). Every text cell of every
CSV the portal writes goes through :func:`formula_safe`, which puts a single quote in front
of such a text: the spreadsheet then shows the text as it is, and a program reading the CSV
sees a leading quote it can strip. Numbers, dates and booleans are written by the portal
itself and are never texts.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from portal.domain.calendar import to_wib

# The first characters that make a spreadsheet evaluate a cell (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """Return a text cell that no spreadsheet evaluates: quoted when it starts like a formula."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_cell(value: object) -> str:
    """Write one value as a CSV cell: ISO dates, WIB timestamps with offset, safe texts.

    None is the empty cell (a missing value); booleans are ``true``/``false``.
    """
    kind = type(value)
    # The commonest cells first: a download writes millions of them.
    if kind is int or kind is float:
        return str(value)
    if kind is str:
        return formula_safe(value)  # type: ignore[arg-type]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        return to_wib(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return formula_safe(str(value))


def csv_text_cell(text: str) -> str:
    """Return a text cell as it stands in a line of the portal's CSV files: formula-safe,
    and quoted by the CSV writer when it holds a comma, a quote or a line break."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([formula_safe(text), ""])
    return buffer.getvalue()[:-len(",\r\n")]
