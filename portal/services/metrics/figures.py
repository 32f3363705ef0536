"""Service-level metrics over a window of WIB days, exactly as docs/definitions.md defines them.

Every figure except backlog and overdue is read from the ``service_day`` aggregates (one row
per service and WIB day, maintained on ingest), so a 30-day figure reads about 30 rows
whatever the length of history. Backlog and overdue at a window's end read only the requests
still open or completed after that end, through the (service_id, completed_at) index.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from portal.domain.calendar import utc_now, wib_date, wib_midnight
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.metrics import ServiceDay, ServiceRequest
from portal.services.errors import FieldError
from portal.services.metrics.availability import availability_for_service

ONE_DAY = timedelta(days=1)
# Ids per IN (...) list: well under every database's bound-parameter limit.
_IN_CHUNK = 900
# Longest window the metrics API accepts: a year, leap day included.
MAX_WINDOW_DAYS = 366

# Completion-time histogram (see portal/models/metrics.py): keys >= 0 are exact durations in
# whole seconds; a day with more than EXACT_KEYS_PER_DAY distinct durations is coarsened, its
# durations of COARSE_FROM seconds or more kept in log buckets 0.1 % wide, stored as negative
# keys: key -(k+1) is [COARSE_FROM·1.001^k, COARSE_FROM·1.001^(k+1)) seconds.
EXACT_KEYS_PER_DAY = 1000
COARSE_FROM = 1000
COARSE_RATIO = 1.001
_LOG_RATIO = math.log(COARSE_RATIO)
MEDIAN = Fraction(1, 2)
P90 = Fraction(9, 10)


def completion_seconds(received_at: datetime, completed_at: datetime) -> int:
    """Return a completion time in whole seconds (sub-second parts are dropped)."""
    return int((completed_at - received_at).total_seconds())


def coarse_key(seconds: int) -> int:
    """Return the coarse (0.1 %) bucket key of a duration; exact below COARSE_FROM seconds."""
    if seconds < COARSE_FROM:
        return seconds
    return -(int(math.log(seconds / COARSE_FROM) / _LOG_RATIO) + 1)


def key_seconds(key: int) -> float:
    """Return the duration a key stands for: itself, or a coarse bucket's geometric middle."""
    if key >= 0:
        return float(key)
    return COARSE_FROM * COARSE_RATIO ** (-key - 1 + 0.5)


def histogram_apply(histogram: Counter[int], changes: Mapping[int, int]) -> Counter[int]:
    """Add exact-second changes (negative counts remove) to a day's histogram, in place.

    A coarsened day takes new durations in its coarse buckets, and removes a duration from
    its exact key when still present, else from its coarse bucket. A day that passes
    EXACT_KEYS_PER_DAY distinct keys is coarsened.
    """
    coarse = any(key < 0 for key in histogram)
    for seconds, change in changes.items():
        if not change:
            continue
        if change > 0:
            histogram[coarse_key(seconds) if coarse else seconds] += change
            continue
        exact_left = histogram.get(seconds, 0)
        take = min(exact_left, -change)
        if take:
            histogram[seconds] -= take
        if -change > take:
            histogram[coarse_key(seconds)] -= -change - take
    for key in [k for k, v in histogram.items() if v == 0]:
        del histogram[key]
    if len(histogram) > EXACT_KEYS_PER_DAY:
        coarsened: Counter[int] = Counter()
        for key, count in histogram.items():
            coarsened[coarse_key(key) if key >= 0 else key] += count
        histogram.clear()
        histogram.update(coarsened)
    return histogram


def histogram_load(text: str | None) -> Counter[int]:
    """Read a stored histogram ({"bucket": count} JSON) into a Counter."""
    if not text:
        return Counter()
    return Counter({int(k): v for k, v in json.loads(text).items()})


def histogram_dump(histogram: Mapping[int, int]) -> str:
    """Write a histogram as compact JSON, dropping empty buckets."""
    return json.dumps(
        {str(k): v for k, v in sorted(histogram.items()) if v}, separators=(",", ":")
    )


def nearest_rank(sorted_values: list[float], p: Fraction) -> float | None:
    """Return the value at rank ceil(p·n) (1-based) of a sorted list; None when it is empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(p * n))
    return sorted_values[rank - 1]


def histogram_percentile(histogram: Mapping[int, int], p: Fraction) -> float | None:
    """Return the nearest-rank percentile (in seconds) of the durations a histogram counts."""
    counted = {k: c for k, c in histogram.items() if c > 0}
    n = sum(counted.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(p * n))
    seen = 0
    # Exact keys are their own seconds; only coarse (negative) keys need converting to sort.
    for key in sorted(counted, key=lambda k: k if k >= 0 else key_seconds(k)):
        seen += counted[key]
        if seen >= rank:
            return key_seconds(key)
    raise AssertionError("unreachable: rank is at most n")


def _rate(part: int, whole: int) -> float | None:
    """Return part / whole, or None when whole is 0."""
    return part / whole if whole else None


def _hours(seconds: float | None) -> float | None:
    """Convert seconds to hours."""
    return None if seconds is None else seconds / 3600


@dataclass
class DueCounts:
    """What fell due: requests whose due date is in a span and whose deadline has passed."""

    due: int = 0
    on_time: int = 0
    # Completion times (histogram keys of this module) of the due requests that were completed.
    histogram: Counter[int] = field(default_factory=Counter)
    first_response_due: int = 0
    first_response_on_time: int = 0

    def add(self, other: DueCounts) -> None:
        """Add another span's counts to these."""
        self.due += other.due
        self.on_time += other.on_time
        self.histogram.update(other.histogram)
        self.first_response_due += other.first_response_due
        self.first_response_on_time += other.first_response_on_time


def due_counts_today(
    service_ids: list[int], today: date, now: datetime
) -> dict[int, DueCounts]:
    """Count what fell due today so far (deadline after today 00:00 WIB, at or before now).

    Today's aggregate row also holds requests due later today, which have not fallen due yet:
    today is read from the requests, through the (service_id, deadline) indexes.
    """
    found: dict[int, DueCounts] = {}
    start = wib_midnight(today)
    request = ServiceRequest
    for chunk_start in range(0, len(service_ids), _IN_CHUNK):
        ids = service_ids[chunk_start:chunk_start + _IN_CHUNK]
        rows = db.session.execute(
            select(request.service_id, request.received_at, request.completed_at,
                   request.completion_deadline).where(
                request.service_id.in_(ids),
                request.completion_deadline > start,
                request.completion_deadline <= now,
            )
        )
        for service_id, received_at, completed_at, deadline in rows:
            counts = found.setdefault(service_id, DueCounts())
            counts.due += 1
            if completed_at is not None:
                counts.on_time += completed_at <= deadline
                counts.histogram[completion_seconds(received_at, completed_at)] += 1
        rows = db.session.execute(
            select(request.service_id, request.first_response_at,
                   request.first_response_deadline).where(
                request.service_id.in_(ids),
                request.first_response_deadline > start,
                request.first_response_deadline <= now,
            )
        )
        for service_id, answered_at, deadline in rows:
            counts = found.setdefault(service_id, DueCounts())
            counts.first_response_due += 1
            counts.first_response_on_time += answered_at is not None and answered_at <= deadline
    return found


def due_counts_by_day(
    service_ids: Iterable[int], from_date: date, to_date: date, now: datetime
) -> dict[tuple[int, date], DueCounts]:
    """Return what fell due per (service id, WIB due date) between two dates inclusive, as of now.

    Days before today are read from the aggregates (everything due on them has fallen due);
    today from the requests whose deadline has passed; later days have nothing due yet.
    Days with nothing due are absent.
    """
    ids = sorted(set(service_ids))
    today = wib_date(now)
    found: dict[tuple[int, date], DueCounts] = {}
    last_aggregate_day = min(to_date, today - ONE_DAY)
    if ids and from_date <= last_aggregate_day:
        for chunk_start in range(0, len(ids), _IN_CHUNK):
            stmt = select(
                ServiceDay.service_id, ServiceDay.day, ServiceDay.due, ServiceDay.due_on_time,
                ServiceDay.due_completion_histogram, ServiceDay.first_response_due,
                ServiceDay.first_response_due_on_time,
            ).where(
                ServiceDay.service_id.in_(ids[chunk_start:chunk_start + _IN_CHUNK]),
                ServiceDay.day >= from_date,
                ServiceDay.day <= last_aggregate_day,
                (ServiceDay.due > 0) | (ServiceDay.first_response_due > 0),
            )
            for service_id, day, due, on_time, histogram, first_due, first_on_time in (
                    db.session.execute(stmt)):
                found[(service_id, day)] = DueCounts(
                    due=due, on_time=on_time, histogram=histogram_load(histogram),
                    first_response_due=first_due, first_response_on_time=first_on_time,
                )
    if ids and from_date <= today <= to_date:
        for service_id, counts in due_counts_today(ids, today, now).items():
            found[(service_id, today)] = counts
    return found


def due_counts(
    service_ids: Iterable[int], from_date: date, to_date: date, now: datetime
) -> dict[int, DueCounts]:
    """Return what fell due per service over the WIB due dates from..to, as of now."""
    totals: dict[int, DueCounts] = {}
    for (service_id, _day), counts in due_counts_by_day(
            service_ids, from_date, to_date, now).items():
        totals.setdefault(service_id, DueCounts()).add(counts)
    return totals


def due_totals(
    service_ids: Iterable[int], from_date: date, to_date: date, now: datetime
) -> dict[int, tuple[int, int]]:
    """Return (due, on time) per service over the WIB due dates from..to, as of now.

    The same counts as :func:`due_counts` without the completion times: the days before
    today are summed by the database, one row per service.
    """
    ids = sorted(set(service_ids))
    today = wib_date(now)
    found: dict[int, tuple[int, int]] = {}
    last_aggregate_day = min(to_date, today - ONE_DAY)
    if ids and from_date <= last_aggregate_day:
        for chunk_start in range(0, len(ids), _IN_CHUNK):
            stmt = select(
                ServiceDay.service_id, func.sum(ServiceDay.due), func.sum(ServiceDay.due_on_time),
            ).where(
                ServiceDay.service_id.in_(ids[chunk_start:chunk_start + _IN_CHUNK]),
                ServiceDay.day >= from_date,
                ServiceDay.day <= last_aggregate_day,
                ServiceDay.due > 0,
            ).group_by(ServiceDay.service_id)
            for service_id, due, on_time in db.session.execute(stmt):
                found[service_id] = (int(due), int(on_time))
    if ids and from_date <= today <= to_date:
        for service_id, counts in due_counts_today(ids, today, now).items():
            due, on_time = found.get(service_id, (0, 0))
            found[service_id] = (due + counts.due, on_time + counts.on_time)
    return found


def histogram_accumulate(totals: dict[str, int], text: str | None) -> None:
    """Add a stored histogram's counts to totals keyed by the stored (text) keys, in place.

    Cheaper than building a Counter per stored row; :func:`histogram_from_totals` turns the
    totals into a histogram once.
    """
    if not text or text == "{}":
        return
    get = totals.get
    for key, count in json.loads(text).items():
        totals[key] = get(key, 0) + count


def histogram_from_totals(totals: Mapping[str, int]) -> Counter[int]:
    """Return the histogram of text-keyed totals (keys that spell one number are added)."""
    histogram: Counter[int] = Counter()
    for key, count in totals.items():
        histogram[int(key)] += count
    return histogram


def reporting_starts(service_ids: Iterable[int]) -> dict[int, date]:
    """Return each service's reporting start: the WIB date of its earliest received request.

    Services with no request are absent. Read from the aggregates (the first day a request
    was received), one row per service.
    """
    ids = sorted(set(service_ids))
    found: dict[int, date] = {}
    for chunk_start in range(0, len(ids), _IN_CHUNK):
        stmt = select(ServiceDay.service_id, func.min(ServiceDay.day)).where(
            ServiceDay.service_id.in_(ids[chunk_start:chunk_start + _IN_CHUNK]),
            ServiceDay.received > 0,
        ).group_by(ServiceDay.service_id)
        found.update({service_id: day for service_id, day in db.session.execute(stmt)})
    return found


@dataclass(frozen=True)
class ServiceMetrics:
    """The metrics of one service over the WIB dates from..to inclusive (docs/definitions.md)."""

    service: str
    from_date: date
    to_date: date
    received: int
    completed: int
    due: int
    on_time: int
    late: int
    late_open: int
    on_time_rate: float | None
    median_completion_hours: float | None
    p90_completion_hours: float | None
    backlog: int
    overdue: int
    first_response_due: int
    first_response_on_time: int
    first_response_on_time_rate: float | None
    digital_share: float | None
    availability: float | None

    ORDER = ("service", "from", "to", "received", "completed", "due", "on_time", "late",
             "late_open", "on_time_rate", "median_completion_hours", "p90_completion_hours",
             "backlog", "overdue", "first_response_due", "first_response_on_time",
             "first_response_on_time_rate", "digital_share", "availability")

    def as_json(self) -> dict:
        """Return the API's metrics object (dates ISO, hours to 0.01, fractions to 0.0001)."""
        data = asdict(self)
        data["from"] = data.pop("from_date").isoformat()
        data["to"] = data.pop("to_date").isoformat()
        for key in ("median_completion_hours", "p90_completion_hours"):
            if data[key] is not None:
                data[key] = round(data[key], 2)
        for key in ("on_time_rate", "first_response_on_time_rate", "digital_share",
                    "availability"):
            if data[key] is not None:
                data[key] = round(data[key], 4)
        return {key: data[key] for key in self.ORDER}


def window_bounds(from_date: date, to_date: date) -> tuple[datetime, datetime]:
    """Return [from 00:00 WIB, to+1 00:00 WIB) as aware UTC datetimes."""
    return wib_midnight(from_date), wib_midnight(to_date + ONE_DAY)


@dataclass(frozen=True)
class OpenAt:
    """Requests not completed at an instant: backlog, overdue, and late ones of a window."""

    backlog: int
    overdue: int
    late_open: int


def open_at(service_id: int, at: datetime, due_from: datetime | None = None) -> OpenAt:
    """Count a service's requests still open at an instant.

    Backlog: received before ``at`` and not completed before it. Overdue: of those, the ones
    whose deadline is before ``at``. Late and open: requests whose deadline is after
    ``due_from`` and at or before ``at`` (they fell due in the window ending at ``at``) with no
    completion at or before ``at``. Reads only open requests and those completed at or after
    ``at`` (two ranges of the (service_id, completed_at) index), never the whole history.
    """
    request = ServiceRequest
    fell_due = request.completion_deadline <= at
    if due_from is not None:
        fell_due = fell_due & (request.completion_deadline > due_from)
    not_done_by_at = request.completed_at.is_(None) | (request.completed_at > at)

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    counts = (
        total(request.received_at < at),
        total((request.received_at < at) & (request.completion_deadline < at)),
        total(fell_due & not_done_by_at),
    )
    open_now = db.session.execute(
        select(*counts).where(request.service_id == service_id, request.completed_at.is_(None))
    ).one()
    completed_later = db.session.execute(
        select(*counts).where(request.service_id == service_id, request.completed_at >= at)
    ).one()
    return OpenAt(*(int(a + b) for a, b in zip(open_now, completed_later, strict=True)))


def backlog_at(service_id: int, at: datetime) -> tuple[int, int]:
    """Return (backlog, overdue) of a service at an instant (see open_at)."""
    found = open_at(service_id, at)
    return found.backlog, found.overdue


def _day_rows(service_ids: Iterable[int], from_date: date, to_date: date) -> list[ServiceDay]:
    """Return the aggregate rows of some services between two WIB dates inclusive."""
    return list(
        db.session.scalars(
            select(ServiceDay).where(
                ServiceDay.service_id.in_(list(service_ids)),
                ServiceDay.day >= from_date,
                ServiceDay.day <= to_date,
            )
        )
    )


def metrics_window_problems(from_date: date, to_date: date) -> list[FieldError]:
    """Return what is wrong with a metrics window (empty when it is fine)."""
    if to_date < from_date:
        return [FieldError("to", _("must be on or after from"), code="out_of_range")]
    if (to_date - from_date).days + 1 > MAX_WINDOW_DAYS:
        return [FieldError("to", _("the window may span at most %(n)d days", n=MAX_WINDOW_DAYS),
                           code="out_of_range")]
    return []


def metrics_for_service(
    service: Service, from_date: date, to_date: date, now: datetime | None = None
) -> ServiceMetrics:
    """Compute a service's metrics over the WIB dates from..to inclusive.

    ``due`` counts the requests whose due date is in the window and whose deadline has
    passed, completed or not: a request nobody closes counts as late. Backlog, overdue and
    late-and-open are counted as of the earlier of the window's end and now.
    """
    if to_date < from_date:
        raise ValueError("to_date is before from_date")
    now = now or utc_now()
    start, end = window_bounds(from_date, to_date)
    received = online = completed = 0
    histogram: Counter[int] = Counter()
    for row in _day_rows([service.id], from_date, to_date):
        received += row.received
        online += row.received_online
        completed += row.completed
        histogram.update(histogram_load(row.completion_histogram))
    due = due_counts([service.id], from_date, to_date, now).get(service.id, DueCounts())
    as_of = min(end, now)
    still_open = open_at(service.id, as_of, due_from=start)
    return ServiceMetrics(
        service=service.code,
        from_date=from_date,
        to_date=to_date,
        received=received,
        completed=completed,
        due=due.due,
        on_time=due.on_time,
        late=due.due - due.on_time,
        late_open=still_open.late_open,
        on_time_rate=_rate(due.on_time, due.due),
        median_completion_hours=_hours(histogram_percentile(histogram, MEDIAN)),
        p90_completion_hours=_hours(histogram_percentile(histogram, P90)),
        backlog=still_open.backlog,
        overdue=still_open.overdue,
        first_response_due=due.first_response_due,
        first_response_on_time=due.first_response_on_time,
        first_response_on_time_rate=_rate(due.first_response_on_time, due.first_response_due),
        digital_share=_rate(online, received),
        availability=availability_for_service(service, start, end) if service.online_url
        else None,
    )


@dataclass(frozen=True)
class DayPoint:
    """One WIB day of a service's daily series, for charts: received, completed, and due."""

    day: date
    received: int
    completed: int
    due: int
    on_time: int
    on_time_rate: float | None


def daily_series(
    service: Service, days: int = 90, today: date | None = None, now: datetime | None = None
) -> list[DayPoint]:
    """Return one point per WIB day for the last ``days`` days up to today, oldest first.

    A day's on-time rate is over the requests due that day (today: those due so far).
    """
    now = now or utc_now()
    today = today or wib_date(now)
    first_day = today - timedelta(days=days - 1)
    rows = {row.day: row for row in _day_rows([service.id], first_day, today)}
    due = {day: counts for (_sid, day), counts in
           due_counts_by_day([service.id], first_day, today, now).items()}
    points = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        row = rows.get(day)
        counts = due.get(day, DueCounts())
        points.append(
            DayPoint(
                day=day,
                received=row.received if row else 0,
                completed=row.completed if row else 0,
                due=counts.due,
                on_time=counts.on_time,
                on_time_rate=_rate(counts.on_time, counts.due),
            )
        )
    return points
