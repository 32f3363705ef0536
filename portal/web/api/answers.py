"""How the API writes its answers: compact UTF-8 JSON, and every timestamp in WIB.

Timestamps are stored in UTC; every API answer writes them as ISO 8601 with the WIB offset
(``2025-08-15T10:00:00+07:00``), to the second, whichever module built them.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _

from portal.domain.calendar import to_wib
from portal.services.errors import FieldError

# A date parameter: YYYY-MM-DD in this century (no figure of the portal is older, and the
# far ends of the calendar cannot be turned into WIB midnights).
API_DATE = re.compile(r"20[0-9]{2}-[0-9]{2}-[0-9]{2}")


def api_timestamp(value: datetime | None) -> str | None:
    """Write a timestamp as the API does: ISO 8601 in WIB with its offset, to the second."""
    return None if value is None else to_wib(value).isoformat(timespec="seconds")


def api_json(value: Any) -> Any:
    """Return a value with every timestamp in it written by :func:`api_timestamp`.

    Dicts, lists and tuples are walked; dates become ``YYYY-MM-DD``; everything else is kept.
    """
    if isinstance(value, datetime):
        return api_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: api_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [api_json(item) for item in value]
    return value


def api_date_problem(name: str, raw: str) -> FieldError | None:
    """Return what is wrong with a date parameter (YYYY-MM-DD, 2000 to 2099), or None."""
    try:
        valid = bool(API_DATE.fullmatch(raw)) and date.fromisoformat(raw) is not None
    except ValueError:
        valid = False
    if not valid:
        return FieldError(name, _("must be a date from 2000 to 2099 written YYYY-MM-DD"),
                          code="invalid_format")
    return None


def _api_value(value: Any) -> Any:
    """Write a value JSON has no spelling for as :func:`api_json` does (timestamps, dates)."""
    if isinstance(value, date):  # a datetime too
        return api_json(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_answer(body: object, status: int = 200) -> Response:
    """Answer JSON (UTF-8, compact); a 200 gets a strong ETag and 304 when the client has it.

    The body is written as ``api_json(body)`` would be, by the encoder itself: the values it
    cannot spell (timestamps and dates) are handed to :func:`_api_value`, so that a body of
    thousands of values is not walked and copied first.
    """
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_api_value),
        status=status,
        mimetype="application/json",
    )
    if status == 200:
        response.add_etag()
        return response.make_conditional(request)
    return response
