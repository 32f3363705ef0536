"""Stored accountability figures: write them once per data change, read them per visit.

The accountability table and the department scorecards of the standard periods are computed
by the jobs that change the data and stored whole (:class:`AccountabilitySnapshot`), so that
a page, the API or a download reads one row instead of seconds of figures. Each snapshot is
the objects the live computation returns, written and read by this code only (Python's
pickle; the catalogue rows they name, departments, services and their changes, are stored as
:class:`StoredRow`: their columns as they were but long texts, no relationship), and
served only

- for the same period (WIB dates): the standard periods end today, so yesterday's never is;
- by the same code: ``code_version`` digests the modules that define the figures and their
  objects, so a deployment that changes them never reads what older code stored.

A snapshot's figures are exact as of its ``computed_at`` (the table's ``generated_at``); the
jobs refresh them at least every 10 minutes. Only they write snapshots: a visit that finds
none computes its figures without storing them (every GET is replica-safe).
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Text, bindparam, case, delete, func, inspect, select, text

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models.accountability import AccountabilitySnapshot
from portal.models.feedback import Feedback, FeedbackEvent
from portal.models.metrics import ServiceReport
from portal.models.survey import SurveyResponse

log = logging.getLogger(__name__)

_PORTAL = Path(__file__).resolve().parents[2]
# The code whose objects and rules a snapshot holds: the figures and the models they name.
_CODE = ("domain", "models", "services/accountability", "services/metrics",
         "services/feedback", "services/survey")
# Text columns a stored row keeps (names); the other long texts stay out of snapshots.
_KEPT_TEXTS = ("name", "short_name", "reason")
# Any number: the PostgreSQL advisory lock that keeps two refreshes from writing at once.
_WRITE_LOCK = 0x5AFE_AC00


@lru_cache(maxsize=1)
def code_version() -> str:
    """Return a digest of the source of the modules that define the stored figures."""
    digest = hashlib.sha1(usedforsecurity=False)
    for folder in _CODE:
        for path in sorted((_PORTAL / folder).rglob("*.py")):
            digest.update(path.relative_to(_PORTAL).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class StoredRow(SimpleNamespace):
    """A database row as it was when its snapshot was stored: its columns, by name."""


def _stored_row(columns: dict[str, Any]) -> StoredRow:
    return StoredRow(**columns)


def _columns(obj: Any) -> dict[str, Any]:
    """Return a row's columns the figures' pages show: long texts (a service's published
    standard) are left out, names kept."""
    found = {}
    for attr in inspect(obj).mapper.column_attrs:
        column = attr.columns[0]
        if isinstance(column.type, Text) and not attr.key.startswith(_KEPT_TEXTS):
            continue
        found[attr.key] = getattr(obj, attr.key)
    return found


class _SnapshotPickler(pickle.Pickler):
    """Pickle figures, writing each ORM object as a StoredRow of its columns."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, db.Model):
            return _stored_row, (_columns(obj),)
        return NotImplemented


def _dumps(figures: Any) -> bytes:
    out = io.BytesIO()
    _SnapshotPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(figures)
    return out.getvalue()


@lru_cache(maxsize=1)
def _body_sql() -> Any:
    """Build the statement that reads a snapshot once (a page runs it per visit).

    It returns when the snapshot was computed, and its body only when that is not the one
    this process read last (``known``): a visit of figures already read transfers no body.
    """
    table = AccountabilitySnapshot.__table__
    known = bindparam("known", type_=table.c.computed_at.type)
    return select(
        table.c.computed_at,
        case((table.c.computed_at == known, None), else_=table.c.body),
    ).where(
        table.c.key == bindparam("key"),
        table.c.from_date == bindparam("from_date"),
        table.c.to_date == bindparam("to_date"),
        table.c.code_version == bindparam("code_version"),
    )


# The figures of the snapshots this process read last, unpickled: keyed by the database and
# the snapshot, with when it was computed. A visit still reads the row's computed_at, and
# reads and unpickles the body again whenever it differs (a refresh stored new figures), so
# nothing kept can go stale: what is kept is what the row holds. A snapshot is replaced only
# with another computed_at (the refresh jobs store figures as of their own now); a store in
# this process forgets them all (tests store twice with one fixed now). Unpickling a
# scorecard cost more CPU than the rest of its figures' reading, and made thousands of
# objects per visit for the garbage collector. The figures are read, never changed.
_KEPT_SNAPSHOTS = 16
_kept: OrderedDict[tuple, tuple[datetime, Any]] = OrderedDict()
_kept_lock = threading.Lock()


def _kept_figures(where: tuple) -> tuple[datetime, Any] | None:
    with _kept_lock:
        found = _kept.get(where)
        if found is not None:
            _kept.move_to_end(where)
        return found


def _keep_figures(where: tuple, computed_at: datetime, figures: Any) -> None:
    with _kept_lock:
        _kept[where] = (computed_at, figures)
        _kept.move_to_end(where)
        while len(_kept) > _KEPT_SNAPSHOTS:
            _kept.popitem(last=False)


def _forget_kept() -> None:
    with _kept_lock:
        _kept.clear()


def snapshot_read(key: str, from_date: date, to_date: date) -> Any | None:
    """Return the stored figures of a key for a period, or None when there are none."""
    # A Core statement through the session's connection: the ORM's handling of a statement
    # and its result costs more than the one row it reads.
    connection = db.session.connection()
    version = code_version()
    where = (connection.engine, key, from_date, to_date, version)
    kept = _kept_figures(where)
    row = connection.execute(_body_sql(), {
        "key": key, "from_date": from_date, "to_date": to_date, "code_version": version,
        "known": None if kept is None else kept[0]}).first()
    if row is None:
        return None
    computed_at, body = row
    if body is None and kept is not None and kept[0] == computed_at:
        return kept[1]
    if body is None:
        return None
    try:
        # Written by snapshot_store below from our own objects, never from a visitor's input.
        figures = pickle.loads(body)  # noqa: S301
    except Exception:  # a class moved without the digest noticing: compute afresh
        log.exception("accountability snapshot %s unreadable", key)
        return None
    _keep_figures(where, computed_at, figures)
    return figures


def snapshot_store(
    entries: Iterable[tuple[str, date, date, Any]], computed_at: datetime
) -> bool:
    """Store figures under their keys, replacing older ones (the caller commits).

    Returns False without writing when another refresh is writing at this moment (it stores
    figures as fresh as these).
    """
    if db.session.get_bind().dialect.name == "postgresql" and not db.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _WRITE_LOCK}):
        return False
    _forget_kept()
    rows = [
        {"key": key, "from_date": from_date, "to_date": to_date, "computed_at": computed_at,
         "code_version": code_version(),
         "body": _dumps(figures)}
        for key, from_date, to_date, figures in entries
    ]
    keys = [row["key"] for row in rows]
    for start in range(0, len(keys), 500):
        db.session.execute(delete(AccountabilitySnapshot).where(
            AccountabilitySnapshot.key.in_(keys[start:start + 500])))
    if rows:
        db.session.execute(AccountabilitySnapshot.__table__.insert(), rows)
    return True


def snapshot_newest() -> datetime | None:
    """Return when the newest snapshot was computed (None when there is none)."""
    return db.session.scalar(select(func.max(AccountabilitySnapshot.computed_at)))


@lru_cache(maxsize=1)
def _version_sql() -> Any:
    """Build the accountability data-version statement once (plain, portable SQL)."""
    def most(model: Any, column: str = "id") -> str:
        return f"(SELECT max({column}) FROM {model.__tablename__})"

    def count(model: Any) -> str:
        return f"(SELECT count(*) FROM {model.__tablename__})"

    parts = [
        most(AccountabilitySnapshot, "computed_at"), count(AccountabilitySnapshot),
        most(Feedback), count(Feedback), most(FeedbackEvent), count(FeedbackEvent),
        most(SurveyResponse), count(SurveyResponse), most(ServiceReport, "last_reported_at"),
    ]
    return text("SELECT " + ", ".join(parts))


def accountability_data_version() -> str:
    """Return a short digest that changes whenever an accountability figure may change.

    Beyond the public data version (statuses, catalogue, staff edits), the figures read the
    stored snapshots (a refresh stores new ones), feedback and its handling steps, survey
    responses and the departments' reports; the standard periods end today (WIB), so the
    date is part of it. What changes with time alone (feedback falling overdue in a period
    computed on the visit) is bounded by the page cache's time-to-live.
    """
    row = db.session.execute(_version_sql()).one()
    key = (wib_date(utc_now()).isoformat(), code_version(), *row)
    return hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:16]


def snapshots_forget() -> None:
    """Delete every stored snapshot (the caller commits)."""
    _forget_kept()
    db.session.execute(delete(AccountabilitySnapshot))


__all__ = ["StoredRow", "accountability_data_version", "code_version", "snapshot_newest",
           "snapshot_read", "snapshot_store", "snapshots_forget"]
