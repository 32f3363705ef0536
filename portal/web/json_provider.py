"""Read JSON bodies so that no input can crash a request: depth and lone surrogates."""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

# A UTF-16 half with no partner ("\ud800" in JSON): no database can store it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate_in(value: Any) -> bool:
    """Tell whether any text in a decoded JSON value holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing as invalid what would otherwise fail later with a 500.

    A body nested so deep that the decoder recurses out of the stack, and texts with lone
    surrogates, raise ValueError: ``request.get_json(silent=True)`` then gives None and every
    endpoint answers its usual "the body is not valid JSON" refusal.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode a JSON document, refusing unstorable or unreadable ones with ValueError."""
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error
        if _lone_surrogate_in(value):
            raise ValueError("JSON text holds a lone surrogate")
        return value
