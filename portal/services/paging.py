"""One paginator for every paged list: Flask-SQLAlchemy's ``db.paginate``.

Services own the queries and return a :class:`Pagination` for the page a view asks for;
templates read ``.items``, ``.page``, ``.pages``, ``.total``, ``.has_prev``/``.prev_num`` and
``.has_next``/``.next_num``. A page past the last shows the last page rather than nothing: a
link kept from when the list was longer still lands somewhere useful.
"""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from portal.extensions import db

__all__ = ["LIST_PAGE_MAX", "LIST_PAGE_SIZE", "Pagination", "paginate"]

# The staff lists' page: long enough to scan at once, short enough to stay a light page.
LIST_PAGE_SIZE = 50
LIST_PAGE_MAX = 200


def paginate(stmt: Select, page: int, per_page: int, max_per_page: int) -> Pagination:
    """Return one page of a query's rows (per_page capped; a page past the last: the last)."""
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), max_per_page))
    result = db.paginate(
        stmt, page=page, per_page=per_page, max_per_page=max_per_page, error_out=False,
    )
    if page > 1 and not result.items and result.pages:
        result = db.paginate(
            stmt, page=result.pages, per_page=per_page, max_per_page=max_per_page,
            error_out=False,
        )
    return result
