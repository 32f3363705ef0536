"""Pointers: where to go for services the province does not provide (catalogue data).

People search the province's portal for a KTP, a family card or a birth certificate, which the
regency or city Disdukcapil issues. A pointer says so: what people look for (``topic``), who
provides it instead (``where``), an optional web address, and the keywords that find it. The
list is imported from its own CSV (``flask --app wsgi catalogue import FILE.csv --pointers
POINTERS.csv``) and replaces the stored list whole: a pointer missing from the file is removed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlparse

from flask_babel import gettext as _
from sqlalchemy import select

from portal.domain.search import search_text
from portal.extensions import db
from portal.models.catalogue import ServicePointer
from portal.services.catalogue.directory import (
    CODE_RE,
    MAX_NAME,
    MAX_TEXT,
    UNSTORABLE,
    bump_catalogue_version,
)
from portal.services.errors import FieldError, ValidationError

POINTER_COLUMNS = ("code", "topic_id", "topic_en", "where_id", "where_en", "url",
                   "keywords_id", "keywords_en")
POINTER_REQUIRED = ("code", "topic_id", "where_id")

__all__ = ["POINTER_COLUMNS", "PointerSummary", "pointer_import_file", "pointer_list"]


@dataclass
class PointerSummary:
    """What a pointer import changed."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


def _row_errors(line: int, value: dict[str, str], codes: dict[str, int]) -> list[FieldError]:
    """Return the problems of one pointer row."""
    errors: list[FieldError] = []

    def bad(column: str, message: str) -> None:
        errors.append(FieldError(column, message, line))

    for column, text in value.items():
        if UNSTORABLE.search(text):
            bad(column, _("must not contain control characters"))
    if not CODE_RE.match(value["code"]):
        bad("code", _("must be 2 to 64 characters: lowercase letters, digits, hyphens"))
    elif value["code"] in codes:
        bad("code", _("repeats the pointer of line %(n)d", n=codes[value["code"]]))
    codes.setdefault(value["code"], line)
    for column in POINTER_REQUIRED[1:]:
        if not value[column]:
            bad(column, _("is required"))
    for column in ("topic_id", "topic_en"):
        if len(value[column]) > MAX_NAME:
            bad(column, _("is longer than %(n)d characters", n=MAX_NAME))
    for column in ("where_id", "where_en", "keywords_id", "keywords_en"):
        if len(value[column]) > MAX_TEXT:
            bad(column, _("is longer than %(n)d characters", n=MAX_TEXT))
    if value["url"]:
        parsed = urlparse(value["url"])
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(value["url"]) > 500:
            bad("url", _("must be a web address starting with https://"))
    return errors


def pointer_parse(stream: Iterable[str]) -> list[dict[str, str]]:
    """Read and validate a whole pointer CSV; raise ValidationError listing every problem."""
    reader = csv.DictReader(stream)
    header = list(reader.fieldnames or [])
    errors: list[FieldError] = []
    missing = [c for c in POINTER_REQUIRED if c not in header]
    unknown = [c for c in header if c not in POINTER_COLUMNS]
    if missing:
        errors.append(FieldError("header", _("missing columns: %(c)s", c=", ".join(missing)), 1))
    if unknown:
        errors.append(FieldError("header", _("unknown columns: %(c)s", c=", ".join(unknown)), 1))
    if len(set(header)) != len(header):
        errors.append(FieldError("header", _("a column appears twice"), 1))
    if errors:
        raise ValidationError(errors)
    rows: list[dict[str, str]] = []
    codes: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw or any(v is None for v in raw.values()):
            errors.append(FieldError("row", _("has a different number of fields than the header"),
                                     line))
            continue
        value = {c: (raw.get(c) or "").strip() for c in POINTER_COLUMNS}
        row_errors = _row_errors(line, value, codes)
        errors += row_errors
        if not row_errors:
            rows.append(value)
    if errors:
        raise ValidationError(errors)
    return rows


def pointer_import(rows: list[dict[str, str]]) -> PointerSummary:
    """Make the stored pointers exactly the rows (upsert by code, remove the others); commit."""
    summary = PointerSummary()
    stored = {p.code: p for p in db.session.scalars(select(ServicePointer))}
    for value in rows:
        fields = {**value, "search_names": search_text(
            [value["topic_id"], value["topic_en"], value["code"],
             value["keywords_id"].replace(",", " "), value["keywords_en"].replace(",", " ")])}
        pointer = stored.pop(value["code"], None)
        if pointer is None:
            db.session.add(ServicePointer(**fields))
            summary.created += 1
            continue
        changed = False
        for name, new in fields.items():
            if getattr(pointer, name) != new:
                setattr(pointer, name, new)
                changed = True
        summary.updated += changed
        summary.unchanged += not changed
    for pointer in stored.values():
        db.session.delete(pointer)
        summary.removed += 1
    if summary.created or summary.updated or summary.removed:
        bump_catalogue_version()
    db.session.commit()
    return summary


def pointer_import_file(text: str | io.TextIOBase) -> PointerSummary:
    """Validate a whole pointer CSV and import it, or write nothing and raise ValidationError."""
    stream = io.StringIO(text) if isinstance(text, str) else text
    return pointer_import(pointer_parse(stream))


def pointer_list() -> list[ServicePointer]:
    """List every pointer, by Indonesian topic."""
    return list(db.session.scalars(select(ServicePointer).order_by(ServicePointer.topic_id)))
