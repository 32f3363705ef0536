"""Departments report their service requests: validate, upsert, keep the daily aggregates.

One rule, one place: the reporting API (``POST /api/v1/service-requests``), the CSV import
command and the demo history all go through ``service_requests_ingest``.

Deadlines are computed on ingest and stored with each request, from the commitment in force on
the WIB day the request was received (the service's commitment history; its current commitment
when the history is empty) and the working calendar as administrators amend it
(``calendar_current()``). When the calendar or a (possibly backdated) commitment changes,
``service_requests_recompute`` recomputes the stored deadlines of the requests it can affect
and corrects the ``service_day`` on-time counts and the statuses: calendar_day_set/unset and
service_commitment_change call it, and ``flask --app wsgi requests recompute`` runs it by hand.

First response: only a service that commits to a first response (its ``first_response_value``
and ``first_response_unit`` in the commitment in force) gets a first-response deadline, computed
from that commitment alone; its first responses count in ``first_responses`` and
``first_responses_on_time``. A request of a service without that commitment has no
first-response deadline and counts in neither, so its first_response_on_time_rate is null
(docs/definitions.md: the rate is for services that commit to a first response).

Speed (the reporting API must take >= 5,000 requests/s): the batch's existing rows are read
with one query (on PostgreSQL, joined to the keys sent as arrays; elsewhere one query per 900
(service, id) pairs), new rows are bulk-inserted, changed rows bulk-updated, and each
request's contribution to the ``service_day`` aggregates is computed in memory (the old
contribution of a changed request subtracted, the new one added) before the touched aggregate
rows are read once (the same way) and written once (INSERT .. ON CONFLICT DO UPDATE). On
PostgreSQL both inserts send one binary array per column (INSERT .. SELECT unnest): one
statement for a whole report. The statuses of the touched services are then evaluated and
stored together, with a fixed number of statements (``status_store``). An unchanged re-sent
request writes nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from portal.domain.calendar import (
    UTC,
    WorkingCalendar,
    due_date,
    utc_now,
    wib_date,
    wib_midnight,
)
from portal.extensions import db
from portal.models.catalogue import CommitmentChange, Department, Service
from portal.models.metrics import CHANNELS, ServiceDay, ServiceReport, ServiceRequest
from portal.services.errors import DomainError, FieldError, NotAuthorized, ValidationError
from portal.services.metrics.calendar_days import calendar_current
from portal.services.metrics.figures import (
    completion_seconds,
    histogram_apply,
    histogram_dump,
    histogram_load,
)
from portal.services.metrics.status import status_store

log = logging.getLogger(__name__)
# Sent once a report is stored, with its department and the ReportSummary as ``summary``
# (the operations metrics count batches and rows from it).
report_stored = Namespace().signal("report-stored")

MAX_BATCH = 5000
# No service request the portal measures is older than this (the reporting systems' start).
EARLIEST_REQUEST_YEAR = 2000
MAX_EXTERNAL_ID = 100
REQUEST_FIELDS = ("service", "id", "received_at", "first_response_at", "completed_at", "channel")
CSV_COLUMNS = REQUEST_FIELDS
# Rows per IN (...) list: well under every database's bound-parameter limit.
_CHUNK = 900


class BatchTooLarge(DomainError):
    """A report holds more requests than one call may carry."""

    def __init__(self, count: int, limit: int = MAX_BATCH) -> None:
        super().__init__(f"{count} requests in one report; at most {limit}")
        self.count, self.limit = count, limit


class ForeignServices(NotAuthorized):
    """A report names services of another department."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = sorted(set(codes))
        super().__init__("services of another department: " + ", ".join(self.codes))


@dataclass
class ReportSummary:
    """What one report changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    services: list[str] = field(default_factory=list)


@dataclass
class _Item:
    """One validated request of a report."""

    service_id: int
    external_id: str
    received_at: datetime
    first_response_at: datetime | None
    completed_at: datetime | None
    channel: str | None


class _DayDelta:
    """The change a report makes to one service_day row."""

    __slots__ = ("counts", "due_histogram", "histogram")

    FIELDS = ("received", "received_online", "completed", "completed_on_time",
              "first_responses", "first_responses_on_time", "due", "due_on_time",
              "first_response_due", "first_response_due_on_time")

    def __init__(self) -> None:
        self.counts = [0] * len(self.FIELDS)
        # Completion seconds -> change: plain dicts, cheaper to make and fill than Counters
        # (a report makes a delta for about every second request).
        self.histogram: dict[int, int] = {}
        self.due_histogram: dict[int, int] = {}

    def add(self, name: str, sign: int) -> None:
        """Add sign to one counted field."""
        self.counts[_FIELD_INDEX[name]] += sign

    def add_completion(self, seconds: int, sign: int, *, due: bool = False) -> None:
        """Add sign to one completion time: of the day's completions, or of its due requests."""
        histogram = self.due_histogram if due else self.histogram
        histogram[seconds] = histogram.get(seconds, 0) + sign

    def is_empty(self) -> bool:
        """Tell whether the changes cancel out (nothing to write)."""
        return (not any(self.counts) and not any(self.histogram.values())
                and not any(self.due_histogram.values()))


_FIELD_INDEX = {name: i for i, name in enumerate(_DayDelta.FIELDS)}
_EMPTY_HISTOGRAM = histogram_dump({})
# The columns an upsert of a service_day row sets (all but its key).
_DAY_VALUE_COLUMNS = (*_DayDelta.FIELDS, "completion_histogram", "due_completion_histogram")


def _delta(deltas: dict[tuple[int, date], _DayDelta], service_id: int, day: date) -> _DayDelta:
    """Return the delta of one service and day, created empty when new."""
    key = (service_id, day)
    delta = deltas.get(key)
    if delta is None:
        delta = deltas[key] = _DayDelta()
    return delta


def _contribute(
    deltas: dict[tuple[int, date], _DayDelta],
    request: _Item | Any,
    *,
    completion_deadline: datetime,
    first_response_deadline: datetime | None,
    sign: int,
) -> None:
    """Add (sign=1) or remove (sign=-1) one request's contribution to the daily aggregates.

    ``request`` has the reported fields (service_id, received_at, first_response_at,
    completed_at, channel). A request counts on the day it was received, the day it was
    completed, the day it was first answered, and on its due date(s), where it is counted
    whether or not it was ever completed.
    """
    _contribute_completion(deltas, request, completion_deadline, sign)
    if first_response_deadline is not None:
        _contribute_first_response(deltas, request, first_response_deadline, sign)


def _contribute_completion(
    deltas: dict[tuple[int, date], _DayDelta],
    request: _Item | Any,
    deadline: datetime,
    sign: int,
) -> None:
    """Count a request on the days it was received, completed and due for completion."""
    service_id, completed_at = request.service_id, request.completed_at
    received = _delta(deltas, service_id, wib_date(request.received_at))
    received.add("received", sign)
    if request.channel == "online":
        received.add("received_online", sign)
    seconds = (completion_seconds(request.received_at, completed_at)
               if completed_at is not None else None)
    on_time = completed_at is not None and completed_at <= deadline
    if completed_at is not None:
        completed = _delta(deltas, service_id, wib_date(completed_at))
        completed.add("completed", sign)
        if on_time:
            completed.add("completed_on_time", sign)
        completed.add_completion(seconds, sign)
    due = _delta(deltas, service_id, due_date(deadline))
    due.add("due", sign)
    if on_time:
        due.add("due_on_time", sign)
    if seconds is not None:
        due.add_completion(seconds, sign, due=True)


def _contribute_first_response(
    deltas: dict[tuple[int, date], _DayDelta],
    request: _Item | Any,
    deadline: datetime,
    sign: int,
) -> None:
    """Count a request on the days its first response was due and was given."""
    service_id, answered_at = request.service_id, request.first_response_at
    answered_on_time = answered_at is not None and answered_at <= deadline
    first_due = _delta(deltas, service_id, due_date(deadline))
    first_due.add("first_response_due", sign)
    if answered_on_time:
        first_due.add("first_response_due_on_time", sign)
    if answered_at is not None:
        answered = _delta(deltas, service_id, wib_date(answered_at))
        answered.add("first_responses", sign)
        if answered_on_time:
            answered.add("first_responses_on_time", sign)


# Validation ------------------------------------------------------------------------------------


def _parse_timestamp(
    value: Any, now: datetime
) -> tuple[datetime | None, tuple[str, str] | None]:
    """Parse an ISO 8601 timestamp with offset: (UTC datetime, None) or (None, (error, code))."""
    if not isinstance(value, str):
        return None, (_("must be an ISO 8601 date and time, e.g. 2025-08-15T10:00:00+07:00"),
                      "invalid_type")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, (_("must be an ISO 8601 date and time, e.g. 2025-08-15T10:00:00+07:00"),
                      "invalid_format")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None, (_("must carry a time zone offset, e.g. +07:00"), "invalid_format")
    if parsed.year < EARLIEST_REQUEST_YEAR:
        # Also keeps clear of the calendar's first day, where converting to UTC overflows.
        return None, (_("must not be before %(year)d", year=EARLIEST_REQUEST_YEAR),
                      "out_of_range")
    parsed = parsed.astimezone(UTC)
    if parsed > now:
        return None, (_("is in the future"), "out_of_range")
    return parsed, None


# Reports a problem of one field of the item being validated: (field, message[, code]).
_Complain = Callable[..., None]


def _validate_item(
    index: int,
    raw: Any,
    services: dict[str, Service],
    now: datetime,
    errors: list[FieldError],
) -> _Item | None:
    """Validate one request object, appending its problems to errors."""
    before = len(errors)

    def bad(name: str, message: str, code: str = "invalid") -> None:
        errors.append(FieldError(field=name, error=message, index=index, code=code))

    if not isinstance(raw, dict):
        bad("request", _("must be an object"), "invalid_type")
        return None
    for name in raw:
        if name not in REQUEST_FIELDS:
            bad(str(name), _("is not a known field"), "unknown_field")
    service = _item_service(raw.get("service"), services, bad)
    external_id = _item_external_id(raw.get("id"), bad)
    received_at = _item_received_at(raw.get("received_at"), now, bad)
    first_response_at = _item_later_time(raw, "first_response_at", received_at, now, bad)
    completed_at = _item_later_time(raw, "completed_at", received_at, now, bad)
    if first_response_at is not None and completed_at is not None \
            and first_response_at > completed_at:
        bad("first_response_at", _("is after completed_at"), "out_of_range")
    channel = raw.get("channel")
    if channel is not None and channel not in CHANNELS:
        bad("channel", _("must be one of online, counter, phone, other"), "invalid_choice")
    if len(errors) > before:
        return None
    assert service is not None and received_at is not None and external_id is not None
    return _Item(
        service_id=service.id,
        external_id=external_id,
        received_at=received_at,
        first_response_at=first_response_at,
        completed_at=completed_at,
        channel=channel,
    )


def _item_service(code: Any, services: dict[str, Service], bad: _Complain) -> Service | None:
    """Return the catalogue service an item names, or None after complaining."""
    service = services.get(code) if isinstance(code, str) else None
    if code is None or code == "":
        bad("service", _("is required"), "required")
    elif service is None:
        bad("service", _("is not a service of the catalogue"), "not_found")
    return service


def _item_external_id(value: Any, bad: _Complain) -> str | None:
    """Return an item's id as a string (a whole number is accepted), or None after complaining."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        bad("id", _("is required"), "required")
    elif not isinstance(value, str) or not value.strip():
        bad("id", _("must be a non-empty string"),
            "invalid_type" if not isinstance(value, str) else "required")
    elif len(value) > MAX_EXTERNAL_ID:
        bad("id", _("is longer than %(n)d characters", n=MAX_EXTERNAL_ID), "too_long")
    else:
        return value
    return None


def _item_received_at(value: Any, now: datetime, bad: _Complain) -> datetime | None:
    """Return an item's required received_at in UTC, or None after complaining."""
    if value is None:
        bad("received_at", _("is required"), "required")
        return None
    received_at, problem = _parse_timestamp(value, now)
    if problem:
        bad("received_at", *problem)
    return received_at


def _item_later_time(
    raw: dict[str, Any], name: str, received_at: datetime | None, now: datetime, bad: _Complain
) -> datetime | None:
    """Return an optional timestamp of an item that may not precede received_at, in UTC."""
    if raw.get(name) is None:
        return None
    value, problem = _parse_timestamp(raw[name], now)
    if problem:
        bad(name, *problem)
        return None
    assert value is not None
    if received_at is not None and value < received_at:
        bad(name, _("is before received_at"), "out_of_range")
        return None
    return value


def _load_services(codes: Iterable[str]) -> dict[str, Service]:
    """Return the services with these codes, by code."""
    wanted = sorted({c for c in codes if isinstance(c, str)})
    found: dict[str, Service] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        for service in db.session.scalars(select(Service).where(Service.code.in_(chunk))):
            found[service.code] = service
    return found


def _report_services(
    department: Department, requests: Sequence[Any], reported_services: Sequence[Any]
) -> dict[str, Service]:
    """Load the services a report names, by code; refuse services of another department."""
    codes = [r.get("service") for r in requests if isinstance(r, dict)]
    codes += [c for c in reported_services if isinstance(c, str)]
    services = _load_services(c for c in codes if isinstance(c, str))
    foreign = [s.code for s in services.values() if s.department_id != department.id]
    if foreign:
        raise ForeignServices(foreign)
    return services


def _validate_items(
    requests: Sequence[Any],
    indexes: Sequence[int],
    services: dict[str, Service],
    now: datetime,
    errors: list[FieldError],
) -> list[_Item]:
    """Validate each request of a report; a request sent twice in one report is a problem."""
    items: list[_Item] = []
    first_seen: dict[tuple[int, str], int] = {}
    for position, raw in enumerate(requests):
        index = indexes[position]
        item = _validate_item(index, raw, services, now, errors)
        if item is None:
            continue
        key = (item.service_id, item.external_id)
        if key in first_seen:
            errors.append(FieldError("id", _("repeats the request at %(n)d", n=first_seen[key]),
                                     index, code="duplicate"))
            continue
        first_seen[key] = index
        items.append(item)
    return items


def _reported_service_ids(
    reported_services: Sequence[Any], services: dict[str, Service], errors: list[FieldError]
) -> set[int]:
    """Return the ids of the services reported (with or without requests) by code."""
    ids: set[int] = set()
    for position, code in enumerate(reported_services):
        service = services.get(code) if isinstance(code, str) else None
        if service is None:
            errors.append(FieldError(
                "reported_services", _("is not a service of the catalogue"), position,
                code="not_found" if isinstance(code, str) else "invalid_type",
            ))
        else:
            ids.add(service.id)
    return ids


def _validate_report(
    requests: Sequence[Any],
    reported_services: Sequence[Any],
    indexes: Sequence[int],
    services: dict[str, Service],
    now: datetime,
) -> tuple[list[_Item], set[int]]:
    """Return a report's valid requests and the ids of the services it touches.

    Raises ValidationError listing every problem of every request and reported service.
    """
    errors: list[FieldError] = []
    items = _validate_items(requests, indexes, services, now, errors)
    touched = _reported_service_ids(reported_services, services, errors)
    if errors:
        raise ValidationError(errors)
    return items, touched | {item.service_id for item in items}


# Deadlines ------------------------------------------------------------------------------------


# (completion value, unit, first-response value or None, first-response unit or None)
_Terms = tuple[int, str, int | None, str | None]


class _Commitments:
    """The commitment in force on a given day, from each service's commitment history."""

    def __init__(self, services: Iterable[Service]) -> None:
        self._current: dict[int, _Terms] = {
            s.id: (s.commitment_value, s.commitment_unit, s.first_response_value,
                   s.first_response_unit)
            for s in services
        }
        history: dict[int, list[tuple[date, int, _Terms]]] = defaultdict(list)
        ids = list(self._current)
        change = CommitmentChange
        for start in range(0, len(ids), _CHUNK):
            stmt = select(
                change.service_id, change.effective_from, change.id, change.commitment_value,
                change.commitment_unit, change.first_response_value, change.first_response_unit,
            ).where(change.service_id.in_(ids[start:start + _CHUNK]))
            for service_id, since, row_id, *terms in db.session.execute(stmt):
                history[service_id].append((since or date.min, row_id, tuple(terms)))
        self._history = {k: sorted(v) for k, v in history.items()}
        self._starts = {k: [(e[0], e[1]) for e in v] for k, v in self._history.items()}

    def on(self, service_id: int, day: date) -> _Terms:
        """Return the terms of the commitment in force on a WIB day."""
        entries = self._history.get(service_id)
        if not entries:
            return self._current[service_id]
        i = bisect_right(self._starts[service_id], (day, float("inf")))
        # A request received before the first dated entry (a history that does not start
        # "before records", e.g. one written by hand): no commitment is known for that day,
        # and the earliest recorded one is the best available, so it applies (decided in the
        # domain review). The importer always starts a history "before records" (None).
        return entries[max(i - 1, 0)][2]


def _deadlines(
    calendar: WorkingCalendar, commitments: _Commitments, service_id: int, received_at: datetime
) -> tuple[datetime, datetime | None]:
    """Return (completion deadline, first-response deadline or None) of a request."""
    value, unit, first_value, first_unit = commitments.on(service_id, wib_date(received_at))
    completion = calendar.deadline_for(received_at, value, unit)
    if first_value is None or first_unit is None:
        return completion, None
    return completion, calendar.deadline_for(received_at, first_value, first_unit)


# Ingest ---------------------------------------------------------------------------------------


def _lock_services(service_ids: Iterable[int]) -> None:
    """Lock the rows of these services, in id order, until the commit."""
    db.session.execute(
        select(Service.id).where(Service.id.in_(sorted(set(service_ids)))).order_by(Service.id)
        .with_for_update()
    )


def _existing_rows(items: Sequence[_Item]) -> dict[tuple[int, str], Any]:
    """Read the stored rows of a batch's requests, one query per chunk of (service, id) pairs."""
    keys = sorted({(item.service_id, item.external_id) for item in items})
    request = ServiceRequest
    columns = (request.id, request.service_id, request.external_id, request.received_at,
               request.first_response_at, request.completed_at, request.channel,
               request.completion_deadline, request.first_response_deadline)
    found: dict[tuple[int, str], Any] = {}
    for stmt in _pair_lookups(select(*columns), request.service_id, request.external_id, keys):
        for row in db.session.execute(stmt):
            found[(row.service_id, row.external_id)] = row
    return found


def _pair_lookups(
    stmt: Select, first: Any, second: Any, keys: Sequence[tuple[Any, Any]]
) -> Iterator[Select]:
    """Yield ``stmt`` restricted to the rows whose (first, second) columns are among keys.

    Each lookup must find its rows through the (first, second) unique index, whatever the
    length of history. On PostgreSQL one statement joins the keys as two arrays (unnest),
    whose text never changes: a row-value IN of 900 pairs made the driver and the server
    parse 1,800 placeholders a chunk (about 5x the CPU here, and longer on the server).
    Elsewhere (SQLite) a row-value IN scans the whole index (every request of every service
    for each chunk: 60 ms a chunk at 3 years of history), so each chunk asks for its keys
    grouped by first column, ``first = a AND second IN (...) OR ...``, each term an index
    search.
    """
    if not keys:
        return
    if _is_postgresql():
        pairs = func.unnest(
            bindparam("first_keys", [k[0] for k in keys], type_=ARRAY(first.type)),
            bindparam("second_keys", [k[1] for k in keys], type_=ARRAY(second.type)),
        ).table_valued(first.key, second.key).render_derived()
        yield stmt.join(pairs, (first == pairs.c[first.key]) & (second == pairs.c[second.key]))
        return
    # At most _CHUNK placeholders a statement: the keys' second values and a first per group.
    size = _CHUNK // 2
    for start in range(0, len(keys), size):
        groups: dict[Any, list[Any]] = defaultdict(list)
        for one, two in keys[start:start + size]:
            groups[one].append(two)
        yield stmt.where(or_(*(and_(first == one, second.in_(twos))
                               for one, twos in groups.items())))


def _touch_reports(service_ids: Iterable[int], now: datetime) -> None:
    """Record that these services reported now (the first write: it takes the write lock)."""
    ids = sorted(set(service_ids))
    if not ids:
        return
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        db.session.execute(
            update(ServiceReport)
            .where(ServiceReport.service_id.in_(chunk))
            .values(last_reported_at=now)
            .execution_options(synchronize_session=False)
        )
    existing: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        existing.update(db.session.scalars(
            select(ServiceReport.service_id).where(
                ServiceReport.service_id.in_(ids[start:start + _CHUNK])
            )
        ))
    missing = [{"service_id": i, "last_reported_at": now} for i in ids if i not in existing]
    if missing:
        db.session.execute(insert(ServiceReport), missing)


@dataclass
class _Upserted:
    """What writing a report's requests did, and the change it makes to the aggregates."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deltas: dict[tuple[int, date], _DayDelta] = field(default_factory=dict)


def _request_values(
    item: _Item, completion_deadline: datetime, first_deadline: datetime | None, now: datetime
) -> dict[str, Any]:
    """Return the columns of a reported request as stored, with its deadlines."""
    return {
        "service_id": item.service_id,
        "external_id": item.external_id,
        "received_at": item.received_at,
        "first_response_at": item.first_response_at,
        "completed_at": item.completed_at,
        "channel": item.channel,
        "completion_deadline": completion_deadline,
        "first_response_deadline": first_deadline,
        "reported_at": now,
    }


def _stored_as_reported(
    old: Any, item: _Item, completion_deadline: datetime, first_deadline: datetime | None
) -> bool:
    """Tell whether a stored request already has the reported facts and the same deadlines."""
    stored = (old.received_at, old.first_response_at, old.completed_at, old.channel,
              old.completion_deadline, old.first_response_deadline)
    return stored == (item.received_at, item.first_response_at, item.completed_at, item.channel,
                      completion_deadline, first_deadline)


def _upsert_requests(items: Sequence[_Item], services: list[Service], now: datetime) -> _Upserted:
    """Insert the new requests and update the changed ones, one bulk statement each.

    Deadlines come from today's calendar and each service's commitment history. Returns the
    counts and the change to the daily aggregates: a changed request's old contribution is
    subtracted and its new one added; an unchanged request writes and changes nothing.
    """
    calendar = calendar_current()
    commitments = _Commitments(services)
    existing = _existing_rows(items)
    result = _Upserted()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for item in items:
        completion_deadline, first_deadline = _deadlines(
            calendar, commitments, item.service_id, item.received_at
        )
        old = existing.get((item.service_id, item.external_id))
        if old is not None and _stored_as_reported(old, item, completion_deadline, first_deadline):
            result.unchanged += 1
            continue
        values = _request_values(item, completion_deadline, first_deadline, now)
        if old is None:
            inserts.append(values)
        else:
            _contribute(result.deltas, old, completion_deadline=old.completion_deadline,
                        first_response_deadline=old.first_response_deadline, sign=-1)
            values["id"] = old.id
            updates.append(values)
        _contribute(result.deltas, item, completion_deadline=completion_deadline,
                    first_response_deadline=first_deadline, sign=1)
    _bulk_write(ServiceRequest, inserts, updates)
    result.created, result.updated = len(inserts), len(updates)
    return result


def _bulk_write(
    model: type[ServiceRequest] | type[ServiceDay],
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
) -> None:
    """Insert new rows, and update rows by primary key, with one bulk statement each."""
    if inserts:
        if _is_postgresql():
            _insert_unnest(model.__table__, inserts)
        else:
            db.session.execute(insert(model), inserts)
    if updates:
        db.session.execute(update(model), updates)


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _insert_unnest(table: Any, rows: list[dict[str, Any]], suffix: str = "") -> None:
    """Insert rows on PostgreSQL as one statement of column arrays (INSERT .. SELECT unnest).

    An executemany would run one INSERT per row, and a multi-row VALUES statement makes the
    driver parse thousands of placeholders in Python: this sends one array per column, in
    a statement whose text never changes. The arrays go in psycopg's binary format (``%b``):
    its text format quotes and escapes every element in Python, about 10x the CPU. Values
    are sent as given (aware UTC datetimes, dates, numbers, texts), as a text() statement's
    would be.
    """
    dialect = db.session.get_bind().dialect
    names = list(rows[0])
    arrays = ", ".join(
        f"CAST(%({name})b AS {table.c[name].type.compile(dialect=dialect)}[])" for name in names)
    statement = (f"INSERT INTO {table.name} ({', '.join(names)}) "
                 f"SELECT * FROM unnest({arrays}) {suffix}")
    db.session.connection().exec_driver_sql(
        statement, {name: [row[name] for row in rows] for name in names})


def _upsert_days(rows: list[dict[str, Any]]) -> None:
    """Write service_day rows, new or stored, as INSERT .. ON CONFLICT DO UPDATE."""
    if not rows:
        return
    table = ServiceDay.__table__
    if _is_postgresql():
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _DAY_VALUE_COLUMNS)
        _insert_unnest(table, rows, f"ON CONFLICT (service_id, day) DO UPDATE SET {updates}")
        return
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    stmt = sqlite_insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.service_id, table.c.day],
        set_={name: stmt.excluded[name] for name in _DAY_VALUE_COLUMNS},
    )
    db.session.execute(stmt, rows)


def _service_days(keys: Iterable[tuple[int, date]]) -> dict[tuple[int, date], Any]:
    """Read the stored service_day rows of these (service id, day) keys, one query a chunk."""
    ordered = sorted(keys)
    columns = [ServiceDay.service_id, ServiceDay.day,
               *(getattr(ServiceDay, name) for name in _DayDelta.FIELDS),
               ServiceDay.completion_histogram, ServiceDay.due_completion_histogram]
    existing: dict[tuple[int, date], Any] = {}
    for stmt in _pair_lookups(select(*columns), ServiceDay.service_id, ServiceDay.day, ordered):
        for row in db.session.execute(stmt):
            existing[(row.service_id, row.day)] = row
    return existing


def _histogram_plus(stored: str | None, change: dict[int, int]) -> str:
    """Return a stored histogram with a change applied, ready to store again.

    A change that adds nothing (about a third of a report's histograms: a day with requests
    received or due but none completed) leaves the text as it is: stored histograms are
    ``histogram_dump``'s own text, which reading and writing again would give unchanged.
    """
    if not any(change.values()):
        return stored or _EMPTY_HISTOGRAM
    histogram = histogram_load(stored)
    histogram_apply(histogram, change)
    return histogram_dump(histogram)


def _day_values(
    service_id: int, day: date, row: Any | None, delta: _DayDelta
) -> dict[str, Any]:
    """Return the columns of a service_day row (zero when new) with a delta added."""
    values: dict[str, Any] = {"service_id": service_id, "day": day}
    for name, change in zip(_DayDelta.FIELDS, delta.counts, strict=True):
        values[name] = (getattr(row, name) if row is not None else 0) + change
    values["completion_histogram"] = _histogram_plus(
        row.completion_histogram if row is not None else None, delta.histogram
    )
    values["due_completion_histogram"] = _histogram_plus(
        row.due_completion_histogram if row is not None else None, delta.due_histogram
    )
    return values


def _apply_deltas(deltas: dict[tuple[int, date], _DayDelta]) -> None:
    """Read the touched service_day rows once, add the deltas, write them back once."""
    changed = {key: delta for key, delta in deltas.items() if not delta.is_empty()}
    existing = _service_days(changed)
    _upsert_days([_day_values(service_id, day, existing.get((service_id, day)), delta)
                  for (service_id, day), delta in changed.items()])


def service_requests_ingest(
    department: Department,
    requests: Sequence[Any],
    reported_services: Sequence[Any] = (),
    *,
    indexes: Sequence[int] | None = None,
    now: datetime | None = None,
    limit: int | None = MAX_BATCH,
) -> ReportSummary:
    """Validate a whole report and store it, or store nothing and raise.

    Raises BatchTooLarge above ``limit`` requests, ForeignServices (a NotAuthorized) when a
    service belongs to another department, and ValidationError listing every bad item, where
    ``index`` is the item's position (or ``indexes[position]``, e.g. a CSV line number).
    """
    now = (now or utc_now()).astimezone(UTC)
    if limit is not None and len(requests) > limit:
        raise BatchTooLarge(len(requests), limit)
    indexes = list(indexes) if indexes is not None else list(range(len(requests)))
    services = _report_services(department, requests, reported_services)
    items, touched_ids = _validate_report(requests, reported_services, indexes, services, now)
    touched = [s for s in services.values() if s.id in touched_ids]

    # Serialise concurrent reports on the same services: row locks on PostgreSQL, and the
    # write below takes SQLite's database write lock before anything is read.
    _lock_services(touched_ids)
    _touch_reports(touched_ids, now)
    upserted = _upsert_requests(items, touched, now)
    _apply_deltas(upserted.deltas)
    status_store(touched, now=now)
    # Read before the commit expires them: afterwards each service would be loaded again.
    summary = ReportSummary(
        created=upserted.created,
        updated=upserted.updated,
        unchanged=upserted.unchanged,
        services=sorted(s.code for s in touched),
    )
    department_code = department.code
    db.session.commit()
    log.info(
        "report of department %s: %d created, %d updated, %d unchanged, %d services",
        department_code, summary.created, summary.updated, summary.unchanged, len(touched),
    )
    report_stored.send(department, summary=summary)
    return summary


def service_requests_report(
    department: Department, payload: Any, now: datetime | None = None
) -> ReportSummary:
    """Store one API report ``{"requests": [...], "reported_services": [...]}`` all or nothing."""
    if not isinstance(payload, dict):
        raise ValidationError([FieldError("body", _("must be a JSON object"), code="invalid_type")])
    errors = [
        FieldError(str(name), _("is not a known field"), code="unknown_field")
        for name in payload if name not in ("requests", "reported_services")
    ]
    requests = payload.get("requests", [])
    reported = payload.get("reported_services", [])
    if "requests" not in payload and "reported_services" not in payload:
        errors.append(FieldError("requests", _("is required"), code="required"))
    if not isinstance(requests, list):
        errors.append(FieldError("requests", _("must be a list"), code="invalid_type"))
    if not isinstance(reported, list):
        errors.append(FieldError("reported_services", _("must be a list"),
                                 code="invalid_type"))
    if errors:
        raise ValidationError(errors)
    return service_requests_ingest(department, requests, reported, now=now)


def service_requests_import_csv(
    department_code: str, stream: Iterable[str] | str, now: datetime | None = None
) -> ReportSummary:
    """Import a CSV of requests for one department, all or nothing; errors carry line numbers.

    Columns: service,id,received_at,first_response_at,completed_at,channel (empty cells are
    null). A service of another department is an error of its line, not a refusal.
    """
    department = db.session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        raise ValidationError([FieldError("department", _("is not a known department"))])
    rows, lines = _csv_requests(io.StringIO(stream) if isinstance(stream, str) else stream)
    _refuse_foreign_lines(department, rows, lines)
    return service_requests_ingest(department, rows, indexes=lines, now=now, limit=None)


def _csv_requests(text: Iterable[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """Read a requests CSV into request objects (empty cells null) and their line numbers.

    Raises ValidationError for a wrong header or a row whose number of fields differs.
    """
    reader = csv.DictReader(text)
    errors = _csv_header_errors(reader.fieldnames or [])
    if errors:
        raise ValidationError(errors)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for raw in reader:
        if None in raw or any(v is None for v in raw.values()):
            errors.append(FieldError(
                "row", _("has a different number of fields than the header"), reader.line_num
            ))
            continue
        rows.append({k: (v.strip() or None) for k, v in raw.items()})
        lines.append(reader.line_num)
    if errors:
        raise ValidationError(errors)
    return rows, lines


def _csv_header_errors(header: Sequence[str]) -> list[FieldError]:
    """Check a requests CSV header: every column but channel present, no unknown column."""
    missing = [c for c in CSV_COLUMNS if c not in header and c != "channel"]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    errors = []
    if missing:
        errors.append(FieldError("header", _("missing columns: %(c)s", c=", ".join(missing)), 1))
    if unknown:
        errors.append(FieldError("header", _("unknown columns: %(c)s", c=", ".join(unknown)), 1))
    return errors


def _refuse_foreign_lines(
    department: Department, rows: Sequence[dict[str, Any]], lines: Sequence[int]
) -> None:
    """Raise ValidationError naming each line whose service belongs to another department."""
    services = _load_services(r.get("service") for r in rows)
    foreign_lines = [
        FieldError("service", _("belongs to another department"), line)
        for row, line in zip(rows, lines, strict=True)
        if (s := services.get(row.get("service") or "")) and s.department_id != department.id
    ]
    if foreign_lines:
        raise ValidationError(foreign_lines)


# Recomputing stored deadlines ------------------------------------------------------------------

# A changed calendar date moves the deadlines of requests received up to this many days before
# it: 90 days at least, more when a working-day commitment is long (3 calendar days per working
# day cover weekends and the longest runs of holidays, Idul Fitri with its cuti bersama).
CALENDAR_HORIZON_DAYS = 90
# Requests read, recomputed and written per round trip by service_requests_recompute.
RECOMPUTE_CHUNK = 5000


@dataclass
class RecomputeSummary:
    """What a recomputation of stored deadlines changed."""

    services: int = 0
    requests: int = 0
    changed: int = 0


def calendar_change_recompute_from(day: date) -> date:
    """Return the first WIB day whose requests a calendar change on ``day`` can affect."""
    longest = 0
    for value, unit in (
        (Service.commitment_value, Service.commitment_unit),
        (Service.first_response_value, Service.first_response_unit),
        (CommitmentChange.commitment_value, CommitmentChange.commitment_unit),
        (CommitmentChange.first_response_value, CommitmentChange.first_response_unit),
    ):
        found = db.session.scalar(select(func.max(value)).where(unit == "working_days"))
        longest = max(longest, found or 0)
    return day - timedelta(days=max(CALENDAR_HORIZON_DAYS, 3 * longest + 14))


def service_requests_recompute(
    service_ids: Iterable[int] | None = None,
    received_from: date | None = None,
    *,
    now: datetime | None = None,
    commit: bool = True,
    rebuild: bool = False,
) -> RecomputeSummary:
    """Recompute stored deadlines, the on-time aggregates and the statuses they change.

    ``rebuild`` (for all history only) drops the services' daily aggregates and counts every
    stored request again under the current definitions: the repair for aggregates that
    anything but ingest touched.

    Reads the requests of some services (all when None) received on or after the WIB day
    ``received_from`` (all history when None) in chunks, with today's calendar and
    commitment history; a request whose deadlines moved is rewritten, and its old
    contribution to the ``service_day`` on-time and first-response counts is replaced by the
    new one (the same bookkeeping as ingest, so the aggregates stay equal to the raw rows).
    Then the statuses of these services are stored again. ``commit=False`` leaves the commit
    to a calling service that writes in the same transaction.
    """
    now = (now or utc_now()).astimezone(UTC)
    stmt = select(Service).order_by(Service.id)
    if service_ids is not None:
        stmt = stmt.where(Service.id.in_(sorted(set(service_ids))))
    services = list(db.session.scalars(stmt))
    summary = RecomputeSummary(services=len(services))
    if not services:
        return summary
    # Serialise with ingest, which reads old deadlines to subtract their contribution.
    _lock_services(s.id for s in services)
    if rebuild and received_from is not None:
        raise ValueError("a rebuild reads all history: received_from must be None")
    calendar = calendar_current()
    commitments = _Commitments(services)
    for service in services:
        if rebuild:
            db.session.execute(delete(ServiceDay).where(ServiceDay.service_id == service.id))
        for rows in _stored_request_pages(service.id, received_from):
            summary.requests += len(rows)
            summary.changed += _recompute_rows(rows, calendar, commitments, rebuild=rebuild)
    for start in range(0, len(services), 500):
        status_store(services[start:start + 500], now=now)
    if commit:
        db.session.commit()
    log.info("recomputed deadlines of %d requests of %d services from %s: %d changed",
             summary.requests, summary.services, received_from or "the start", summary.changed)
    return summary


def _stored_request_pages(
    service_id: int, received_from: date | None
) -> Iterator[Sequence[Any]]:
    """Yield a service's stored requests (received from a WIB day) in pages, by id."""
    request = ServiceRequest
    columns = (request.id, request.service_id, request.received_at, request.first_response_at,
               request.completed_at, request.channel, request.completion_deadline,
               request.first_response_deadline)
    last_id = 0
    while True:
        page = select(*columns).where(request.service_id == service_id, request.id > last_id)
        if received_from is not None:
            page = page.where(request.received_at >= wib_midnight(received_from))
        rows = db.session.execute(page.order_by(request.id).limit(RECOMPUTE_CHUNK)).all()
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def _recompute_rows(
    rows: Sequence[Any], calendar: WorkingCalendar, commitments: _Commitments,
    *, rebuild: bool = False,
) -> int:
    """Rewrite the stored requests whose deadlines moved, and their aggregates; count them.

    In a rebuild the aggregates start empty: every request is counted afresh.
    """
    deltas: dict[tuple[int, date], _DayDelta] = {}
    updates: list[dict[str, Any]] = []
    for row in rows:
        completion, first = _deadlines(calendar, commitments, row.service_id, row.received_at)
        unchanged = (completion, first) == (row.completion_deadline, row.first_response_deadline)
        if rebuild:
            _contribute(deltas, row, completion_deadline=completion,
                        first_response_deadline=first, sign=1)
            if not unchanged:
                updates.append({"id": row.id, "completion_deadline": completion,
                                "first_response_deadline": first})
            continue
        if unchanged:
            continue
        _contribute(deltas, row, completion_deadline=row.completion_deadline,
                    first_response_deadline=row.first_response_deadline, sign=-1)
        _contribute(deltas, row, completion_deadline=completion,
                    first_response_deadline=first, sign=1)
        updates.append({"id": row.id, "completion_deadline": completion,
                        "first_response_deadline": first})
    if updates:
        _bulk_write(ServiceRequest, [], updates)
    if deltas:
        _apply_deltas(deltas)
    return len(updates)
