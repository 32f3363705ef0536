"""Reading a large table in pages, each after the last key seen (keyset pagination).

A download of three years of daily figures at 1,000 services is about a million rows: it is
read a page at a time, never whole, and each page is found through the table's index on its
key (no OFFSET, whose cost grows with every page). Between pages the read-only transaction is
ended, so a slow client downloading for minutes holds no database connection meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, func, inspect, or_, select

from portal.extensions import db
from portal.models.catalogue import Service
from portal.services.opendata.schema import PAGE_ROWS


def _after(keys: Sequence[Any], last: Sequence[Any]) -> Any:
    """Return the condition "key after last" in the order of the keys (all ascending)."""
    branches = []
    for position, column in enumerate(keys):
        equal = [keys[i] == last[i] for i in range(position)]
        branches.append(and_(*equal, column > last[position]))
    if len(keys) == 1:
        return branches[0]
    # Implied by the branches, but a range the database can find through an index on the
    # first key (a row-value comparison cannot span the tables of a join).
    return and_(keys[0] >= last[0], or_(*branches))


def keyset_rows(stmt: Select, keys: Sequence[Any], page_rows: int | None = None
                ) -> Iterator[Row]:
    """Yield every row of a query in ascending key order, one page of rows at a time.

    ``keys`` are columns the query selects and that together identify a row (a primary key,
    or a unique column), so no row is skipped or repeated between pages. ``page_rows``
    defaults to PAGE_ROWS.
    """
    for page in keyset_pages(stmt, keys, page_rows):
        yield from page


def keyset_pages(stmt: Select, keys: Sequence[Any], page_rows: int | None = None
                 ) -> Iterator[list[Row]]:
    """Yield the pages of :func:`keyset_rows`, each as the list of its rows (none empty)."""
    page_rows = page_rows or PAGE_ROWS
    # The key columns as a Core result names them (keys may be ORM attributes).
    key_columns = [inspect(column).expression for column in keys]
    last: tuple | None = None
    while True:
        page = stmt.order_by(*keys).limit(page_rows)
        if last is not None:
            page = page.where(_after(keys, last))
        # Core rows through the session's connection: the ORM's handling of the result would
        # cost more than reading the rows (plain columns, no objects).
        rows = db.session.connection().execute(page).all()
        # Read-only: end the transaction, giving the connection back while the client reads.
        db.session.rollback()
        if rows:
            yield rows
        if len(rows) < page_rows:
            return
        last = tuple(rows[-1]._mapping[column] for column in key_columns)


def batched(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Group an iterator's items into lists of at most ``size`` (the last may be shorter)."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def span_per_service(service_column: Any, value_column: Any,
                     last_condition: Any = None) -> tuple[Any, Any]:
    """Return the smallest and the largest value of a column over every service's rows.

    Read as one probe per service of an index that leads with the service id (a plain
    min/max over the whole table would scan it: no index leads with the value). Only rows
    meeting ``last_condition`` count for the largest value. (None, None) when no row.
    """
    first = select(func.min(value_column)).where(service_column == Service.id)
    last = select(func.max(value_column)).where(service_column == Service.id)
    if last_condition is not None:
        last = last.where(last_condition)
    per_service = select(first.scalar_subquery().label("first"),
                         last.scalar_subquery().label("last")).select_from(Service).subquery()
    row = db.session.execute(select(func.min(per_service.c.first),
                                    func.max(per_service.c.last))).one()
    return row[0], row[1]
