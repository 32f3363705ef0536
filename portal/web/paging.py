"""Reading the page number of a paged list from the query string."""

from __future__ import annotations

from collections.abc import Mapping

# Beyond this a page number is treated as nonsense rather than a real page.
MAX_PAGE = 100000


def page_number(args: Mapping[str, str]) -> int:
    """Return the page asked for with ``?page=N`` (1 when absent or not a sensible number)."""
    value = args.get("page", "1")
    # isascii(): str.isdigit() also accepts digits int() cannot read, such as "²".
    if value.isascii() and value.isdigit() and 0 < int(value) < MAX_PAGE:
        return int(value)
    return 1
