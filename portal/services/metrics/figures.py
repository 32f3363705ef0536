"""Service-level metrics over a window of WIB days, exactly as DOMAIN.md defines them.

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
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from portal.domain.calendar import utc_now, wib_date, wib_midnight
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.metrics import ServiceDay, ServiceRequest
from portal.services.errors import FieldError
from portal.services.metrics.availability import availability_for_service

ONE_DAY = timedelta(days=1)
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
    n = sum(v for v in histogram.values() if v > 0)
    if n == 0:
        return None
    rank = max(1, math.ceil(p * n))
    seen = 0
    for value, count in sorted((key_seconds(k), c) for k, c in histogram.items() if c > 0):
        seen += count
        if seen >= rank:
            return value
    raise AssertionError("unreachable: rank is at most n")


def _rate(part: int, whole: int) -> float | None:
    """Return part / whole, or None when whole is 0."""
    return part / whole if whole else None


def _hours(seconds: float | None) -> float | None:
    """Convert seconds to hours."""
    return None if seconds is None else seconds / 3600


@dataclass(frozen=True)
class ServiceMetrics:
    """The DOMAIN.md metrics of one service over the WIB dates from..to inclusive."""

    service: str
    from_date: date
    to_date: date
    received: int
    completed: int
    completed_on_time: int
    on_time_rate: float | None
    median_completion_hours: float | None
    p90_completion_hours: float | None
    backlog: int
    overdue: int
    first_response_on_time_rate: float | None
    digital_share: float | None
    availability: float | None

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
        order = ("service", "from", "to", "received", "completed", "completed_on_time",
                 "on_time_rate", "median_completion_hours", "p90_completion_hours", "backlog",
                 "overdue", "first_response_on_time_rate", "digital_share", "availability")
        return {key: data[key] for key in order}


def window_bounds(from_date: date, to_date: date) -> tuple[datetime, datetime]:
    """Return [from 00:00 WIB, to+1 00:00 WIB) as aware UTC datetimes."""
    return wib_midnight(from_date), wib_midnight(to_date + ONE_DAY)


def backlog_at(service_id: int, at: datetime) -> tuple[int, int]:
    """Return (backlog, overdue) of a service at an instant.

    Backlog: received before ``at`` and not completed before it. Overdue: of those, the ones
    whose deadline is before ``at``. Reads only open requests and those completed at or after
    ``at`` (two ranges of the (service_id, completed_at) index), never the whole history.
    """
    request = ServiceRequest
    counts = (
        func.count(),
        func.coalesce(func.sum(case((request.completion_deadline < at, 1), else_=0)), 0),
    )
    base = (request.service_id == service_id, request.received_at < at)
    open_now = db.session.execute(
        select(*counts).where(*base, request.completed_at.is_(None))
    ).one()
    completed_later = db.session.execute(
        select(*counts).where(*base, request.completed_at >= at)
    ).one()
    return int(open_now[0] + completed_later[0]), int(open_now[1] + completed_later[1])


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
        return [FieldError("to", _("must be on or after from"))]
    if (to_date - from_date).days + 1 > MAX_WINDOW_DAYS:
        return [FieldError("to", _("the window may span at most %(n)d days", n=MAX_WINDOW_DAYS))]
    return []


def metrics_for_service(
    service: Service, from_date: date, to_date: date, now: datetime | None = None
) -> ServiceMetrics:
    """Compute a service's metrics over the WIB dates from..to inclusive.

    Backlog and overdue are taken at the window's end, or now if the end is still ahead
    (the future backlog is unknown).
    """
    if to_date < from_date:
        raise ValueError("to_date is before from_date")
    now = now or utc_now()
    start, end = window_bounds(from_date, to_date)
    received = online = completed = on_time = first = first_on_time = 0
    histogram: Counter[int] = Counter()
    for row in _day_rows([service.id], from_date, to_date):
        received += row.received
        online += row.received_online
        completed += row.completed
        on_time += row.completed_on_time
        first += row.first_responses
        first_on_time += row.first_responses_on_time
        histogram.update(histogram_load(row.completion_histogram))
    # Kept on purpose (domain review): backlog and overdue are measured at min(window end,
    # now). For a window that has not ended yet (e.g. the status window ending today) that is
    # now: the backlog at a future instant is unknown. The public "How we measure" text says so.
    backlog, overdue = backlog_at(service.id, min(end, now))
    return ServiceMetrics(
        service=service.code,
        from_date=from_date,
        to_date=to_date,
        received=received,
        completed=completed,
        completed_on_time=on_time,
        on_time_rate=_rate(on_time, completed),
        median_completion_hours=_hours(histogram_percentile(histogram, MEDIAN)),
        p90_completion_hours=_hours(histogram_percentile(histogram, P90)),
        backlog=backlog,
        overdue=overdue,
        first_response_on_time_rate=_rate(first_on_time, first),
        digital_share=_rate(online, received),
        availability=availability_for_service(service, start, end) if service.online_url
        else None,
    )


@dataclass(frozen=True)
class DayPoint:
    """One WIB day of a service's daily series, for charts."""

    day: date
    received: int
    completed: int
    completed_on_time: int
    on_time_rate: float | None


def daily_series(service: Service, days: int = 90, today: date | None = None) -> list[DayPoint]:
    """Return one point per WIB day for the last ``days`` days up to today, oldest first."""
    today = today or wib_date(utc_now())
    first_day = today - timedelta(days=days - 1)
    rows = {row.day: row for row in _day_rows([service.id], first_day, today)}
    points = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        row = rows.get(day)
        completed = row.completed if row else 0
        on_time = row.completed_on_time if row else 0
        points.append(
            DayPoint(
                day=day,
                received=row.received if row else 0,
                completed=completed,
                completed_on_time=on_time,
                on_time_rate=_rate(on_time, completed),
            )
        )
    return points
