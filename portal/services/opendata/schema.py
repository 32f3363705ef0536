"""What a dataset is: its columns (the data dictionary), keys, filters and rows.

The descriptions are lazy translatable strings with English source text: the data package
renders each one in English and in Indonesian, the data page in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# The filters a download may take (query parameters of /data/<dataset>.csv).
FILTERS = ("service", "department", "from", "to")
# Column types, as the Frictionless Table Schema names them.
FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
# How often a dataset changes, as DCAT's frequency vocabulary (EU authority table) names it.
FREQUENCIES = ("CONT", "DAILY", "IRREG")
SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# Rows are read from the database in pages of this many (keyset pagination).
PAGE_ROWS = 2000


@dataclass(frozen=True)
class Field:
    """One column: its stable snake_case name, type, unit and description."""

    name: str
    type: str
    description: Any  # a lazy string (flask_babel.lazy_gettext), English source
    unit: str | None = None
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if not SNAKE_CASE.fullmatch(self.name):
            raise ValueError(f"column names are snake_case: {self.name!r}")
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r}")


@dataclass(frozen=True)
class ForeignKey:
    """Columns of a dataset that name rows of another dataset."""

    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Selection:
    """What a download asks for: some services or departments, some WIB dates, as of now.

    ``service_ids`` and ``department_ids`` are None when the download names none (all of
    them); the dates are None when open-ended.
    """

    now: datetime
    service_ids: tuple[int, ...] | None = None
    department_ids: tuple[int, ...] | None = None
    from_date: date | None = None
    to_date: date | None = None


@dataclass(frozen=True)
class Dataset:
    """One downloadable table of the portal's open data."""

    name: str
    title: Any  # lazy string
    description: Any  # lazy string
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    rows: Callable[[Selection], Iterator[Sequence[object]]]
    frequency: str
    filters: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Returns the first and last WIB dates the data covers (None while there is no data).
    # No function: the dataset is a snapshot of the present.
    coverage: Callable[[datetime], tuple[date, date] | None] | None = None
    # The rows already written as CSV lines (each ending in CRLF), byte for byte what the
    # download makes of ``rows`` cell by cell: for the largest tables, written without a call
    # per cell. None: the download writes ``rows``.
    lines: Callable[[Selection], Iterator[str]] | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column")
        if not set(self.primary_key) <= set(names):
            raise ValueError(f"{self.name}: primary key names an unknown column")
        if not set(self.filters) <= set(FILTERS):
            raise ValueError(f"{self.name}: unknown filter")
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"{self.name}: unknown frequency {self.frequency!r}")

    @property
    def header(self) -> list[str]:
        """Return the column names in order (the CSV's header row)."""
        return [f.name for f in self.fields]
