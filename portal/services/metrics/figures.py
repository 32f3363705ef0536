"""Service-level metrics over a window of WIB days, exactly as docs/definitions.md defines them.

Every figure except backlog and overdue is read from the ``service_day`` aggregates (one row
per service and WIB day, maintained on ingest), so a 30-day figure reads about 30 rows
whatever the length of history. Backlog and overdue at a window's end read only the requests
still open or completed after that end, through the (service_id, completed_at) index.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)

from portal.domain.calendar import utc_now, wib_date, wib_midnight
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.metrics import ServiceDay, ServiceRequest
from portal.services.errors import FieldError
from portal.services.metrics.availability import (
    availability_counts_statement as _checks_statement,
)
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
    (found,) = histogram_percentiles(histogram, (p,))
    return found


def histogram_percentiles(
    histogram: Mapping[int, int], ps: Iterable[Fraction]
) -> list[float | None]:
    """Return several nearest-rank percentiles (in seconds) of a histogram, sorted once."""
    return [None if key is None else key_seconds(key)
            for key in percentile_keys(list(histogram), list(histogram.values()), list(ps))]


def percentile_keys(
    keys: list[int], counts: list[int], ps: Sequence[Fraction]
) -> list[int | None]:
    """Return the key of the nearest-rank percentile of each p (docs/definitions.md: the
    value at rank ceil(p·n), 1-based) of the durations keys and counts stand for; None for
    each when they count nothing.

    The one place the percentiles are found: of a histogram, of a window's stored days, of
    each day of a download (:func:`percentile_keys_each`). ``keys[i]`` is counted
    ``counts[i]`` times; keys may repeat (their counts are added up), come in any order and
    be coarse (ordered by the durations they stand for); a key counted 0 times or less counts
    nothing.
    """
    return _keys_at_ranks(keys, counts, _ratios(ps))


def percentile_keys_each(
    histograms: Iterable[Mapping[Any, int]], ps: Sequence[Fraction]
) -> list[list[int | None]]:
    """Return :func:`percentile_keys` of each histogram, its keys numbers or texts that
    spell one (as parsed from the stored JSON).

    A download does this for every day of every service: the ps are read once for them all,
    and a day of one key or none answered without ranking.
    """
    ratios = _ratios(ps)
    size = len(ratios)
    found: list[list[int | None]] = []
    append = found.append
    for histogram in histograms:
        if len(histogram) > 1:
            append(_keys_at_ranks(list(map(int, histogram)), list(histogram.values()), ratios))
        elif not histogram:
            append([None] * size)
        else:  # one key: every rank's, when it counts anything
            for key, count in histogram.items():
                append([int(key)] * size if count > 0 else [None] * size)
    return found


def _ratios(ps: Sequence[Fraction]) -> list[tuple[int, int]]:
    """Return each p as (numerator, denominator): rank ceil(p·n) is -(-numerator·n //
    denominator), in integers."""
    return [(p.numerator, p.denominator) for p in ps]


def _keys_at_ranks(
    keys: list[int], counts: list[int], ratios: list[tuple[int, int]]
) -> list[int | None]:
    """Return the keys at the nearest ranks of a histogram given as keys and counts.

    Exact keys with positive counts, what :func:`histogram_dump` writes, are walked by C
    loops (``sorted``, ``accumulate``, ``bisect``), not a Python step per key.
    """
    # The first key whose running count reaches the rank: counts are positive, so a rank
    # below 1 (p = 0) falls on the first key as rank 1 does.
    if keys and min(counts) > 0:
        if keys == sorted(keys):  # a day as histogram_dump writes it
            if keys[0] >= 0:
                running = list(accumulate(counts))
                n = running[-1]
                return [keys[bisect_left(running, -(-num * n // den))] for num, den in ratios]
        elif min(keys) >= 0:
            # Equal keys are neighbours once sorted: each rank falls on the right key
            # without their counts added up first.
            order = sorted(range(len(keys)), key=keys.__getitem__)
            running = list(accumulate(map(counts.__getitem__, order)))
            n = running[-1]
            return [keys[order[bisect_left(running, -(-num * n // den))]]
                    for num, den in ratios]
    # Coarse keys, or counts of 0 or less: equal keys' counts added up, the keys that count
    # something ordered by the durations they stand for.
    totals: dict[int, int] = {}
    for key, count in zip(keys, counts, strict=True):
        totals[key] = totals.get(key, 0) + count
    pairs = sorted((key_seconds(key), key) for key, count in totals.items() if count > 0)
    if not pairs:
        return [None] * len(ratios)
    running = list(accumulate(totals[key] for _seconds, key in pairs))
    n = running[-1]
    return [pairs[bisect_left(running, -(-num * n // den))][1] for num, den in ratios]


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


# The kinds of deadline due_counts_today's statement returns rows of.
_COMPLETION, _FIRST_RESPONSE = 0, 1


def due_counts_today(
    service_ids: list[int], today: date, now: datetime
) -> dict[int, DueCounts]:
    """Count what fell due today so far (deadline after today 00:00 WIB, at or before now).

    Today's aggregate row also holds requests due later today, which have not fallen due yet:
    today is read from the requests, through the (service_id, deadline) indexes, in one
    statement: the completion deadlines passed (kind 0), then the first-response ones (1).
    """
    found: dict[int, DueCounts] = {}
    for chunk_start in range(0, len(service_ids), _IN_CHUNK):
        values = {"ids": service_ids[chunk_start:chunk_start + _IN_CHUNK],
                  "start": wib_midnight(today), "now": now}
        for kind, service_id, received_at, done_at, deadline in db.session.execute(
                _due_today_statement(), values):
            counts = found.setdefault(service_id, DueCounts())
            if kind == _FIRST_RESPONSE:
                counts.first_response_due += 1
                counts.first_response_on_time += done_at is not None and done_at <= deadline
                continue
            counts.due += 1
            if done_at is not None:
                counts.on_time += done_at <= deadline
                counts.histogram[completion_seconds(received_at, done_at)] += 1
    return found


@lru_cache(maxsize=1)
def _due_today_statement() -> CompoundSelect:
    """Build due_counts_today's statement once (its values bound when it runs).

    Rows of (kind, service, received, completed or first answered, the deadline passed).
    Of the table's columns, as :func:`_days_statement` (requests too are only ever written
    by statements).
    """
    request = ServiceRequest.__table__.c
    return _due_today_ranges(request.service_id.in_(bindparam("ids", expanding=True)), "start",
                             request.service_id, request.received_at)


def _due_today_ranges(services: Any, start_name: str, *columns: Any) -> CompoundSelect:
    """Select the requests of some services whose deadline passed today so far (after the
    start bound as ``start_name``, today 00:00 WIB, at or before ``now``), through the
    (service_id, deadline) indexes: rows of (kind, the columns given, done, deadline), the
    completion deadlines (kind 0, done: completed) then the first-response ones (kind 1,
    done: first answered).

    The ranges :func:`due_counts_today` counts in Python and :func:`_due_today_sums` in
    the database.
    """
    request = ServiceRequest.__table__.c
    start = bindparam(start_name, type_=request.completion_deadline.type)
    now = bindparam("now", type_=request.completion_deadline.type)

    def passed(kind: int, done: Any, deadline: Any) -> Select:
        return select(literal_column(str(kind), Integer).label("kind"), *columns,
                      done.label("done"), deadline.label("deadline")).where(
            services, deadline > start, deadline <= now)

    return union_all(passed(_COMPLETION, request.completed_at, request.completion_deadline),
                     passed(_FIRST_RESPONSE, request.first_response_at,
                            request.first_response_deadline))


def due_totals(
    service_ids: Iterable[int], from_date: date, to_date: date, now: datetime
) -> dict[int, tuple[int, int]]:
    """Return (due, on time) per service over the WIB due dates from..to, as of now.

    The due counts of :func:`metrics_for_service`, for many services: the days before today
    are summed by the database, one row per service.
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
    _add_counts(totals, json.loads(text))


def histogram_totals(texts: Iterable[str]) -> dict[str, int]:
    """Return the counts of stored histograms added up by their stored (text) keys, as
    :func:`histogram_accumulate` adds them one by one, the texts read as one JSON array:
    one parse instead of one a day."""
    totals: dict[str, int] = {}
    for histogram in json.loads(f"[{','.join(texts)}]"):
        _add_counts(totals, histogram)
    return totals


def histogram_texts_percentiles(
    texts: list[str], ps: Iterable[Fraction]
) -> list[float | None]:
    """Return nearest-rank percentiles (in seconds) of the durations stored histograms count
    together: what ``histogram_percentiles(histogram_from_totals(histogram_totals(texts)),
    ps)`` returns, for less.

    The texts' keys and counts are read as one flat JSON array of numbers (no string and no
    dictionary per key) and ranked by :func:`percentile_keys`: a key that appears in several
    histograms need not be added up first. Texts whose keys or counts are not whole numbers
    written plainly take the long way (added up as text keys first).
    """
    ps = list(ps)
    stored = [text for text in texts if text and text != "{}"]
    if not stored:
        return [None] * len(ps)
    flat = histogram_texts_flat(stored)
    if flat is None:
        return histogram_percentiles(histogram_from_totals(histogram_totals(stored)), ps)
    return [None if key is None else key_seconds(key)
            for key in percentile_keys(flat[0::2], flat[1::2], ps)]


def histogram_texts_flat(texts: list[str]) -> list[int] | None:
    """Return stored histograms' keys and counts as one flat list (key, count, key, count…),
    read as one JSON array of numbers: no string and no dictionary per key.

    None when a key or a count is not a whole number written plainly: the caller then takes
    the long way (:func:`histogram_totals`, :func:`histogram_from_totals`).
    """
    joined = ",".join(texts)
    try:
        flat = json.loads("[" + joined.replace('"', "").replace("{", "").replace("}", "")
                          .replace(":", ",") + "]")
    except ValueError:
        return None
    if len(flat) != 2 * joined.count(":") or (flat and set(map(type, flat)) != {int}):
        return None
    return flat


def _add_counts(totals: dict[str, int], histogram: dict[str, int]) -> None:
    """Add a parsed histogram's counts to totals keyed by the stored (text) keys."""
    get = totals.get
    for key, count in histogram.items():
        totals[key] = get(key, 0) + count


def histogram_from_totals(totals: Mapping[str, int]) -> Counter[int]:
    """Return the histogram of text-keyed totals (keys that spell one number are added)."""
    merged: dict[int, int] = {}
    for key, count in totals.items():
        number = int(key)
        merged[number] = merged.get(number, 0) + count
    return Counter(merged)


def reporting_starts(service_ids: Iterable[int] | None = None) -> dict[int, date]:
    """Return each service's reporting start: the WIB date of its earliest received request.

    Of the services given, or of every service (None). Services with no request are absent.
    Read from the aggregates (the first day a request was received), one row per service:
    each service's first such day is found by walking its (service_id, day) key in order, a
    few index pages, never its whole history.
    """
    first_day = (
        select(ServiceDay.day)
        .where(ServiceDay.service_id == Service.id, ServiceDay.received > 0)
        .order_by(ServiceDay.day)
        .limit(1)
        .scalar_subquery()
    )
    stmt = select(Service.id, first_day)
    if service_ids is None:
        statements = [stmt]
    else:
        ids = sorted(set(service_ids))
        statements = [stmt.where(Service.id.in_(ids[start:start + _IN_CHUNK]))
                      for start in range(0, len(ids), _IN_CHUNK)]
    found: dict[int, date] = {}
    for chunk in statements:
        found.update({service_id: day for service_id, day in db.session.execute(chunk)
                      if day is not None})
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
        # The fields' values, all plain (asdict would copy each, deeply, for nothing).
        data = dict(vars(self))
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
    values: dict[str, Any] = {"service_id": service_id, "at": at}
    if due_from is not None:
        values["due_from"] = due_from
    found = db.session.execute(_open_at_statement(due_from is not None), values).one()
    return OpenAt(*(int(value) for value in found))


@lru_cache(maxsize=2)
def _open_at_statement(windowed: bool) -> Select:
    """Build open_at's statement once, its values bound: one statement, both index ranges
    (of the table's columns, as :func:`_due_today_statement`)."""
    request = ServiceRequest.__table__.c
    at = bindparam("at", type_=request.completed_at.type)
    service = request.service_id == bindparam("service_id")
    columns = (request.received_at, request.completion_deadline, request.completed_at)
    ranges = union_all(
        select(*columns).where(service, request.completed_at.is_(None)),
        select(*columns).where(service, request.completed_at >= at),
    ).subquery()
    fell_due = ranges.c.completion_deadline <= at
    if windowed:
        due_from = bindparam("due_from", type_=request.completion_deadline.type)
        fell_due = fell_due & (ranges.c.completion_deadline > due_from)
    not_done_by_at = ranges.c.completed_at.is_(None) | (ranges.c.completed_at > at)

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(
        total(ranges.c.received_at < at),
        total((ranges.c.received_at < at) & (ranges.c.completion_deadline < at)),
        total(fell_due & not_done_by_at),
    )


def backlog_at(service_id: int, at: datetime) -> tuple[int, int]:
    """Return (backlog, overdue) of a service at an instant (see open_at)."""
    found = open_at(service_id, at)
    return found.backlog, found.overdue


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
    days = ServiceDays.read(service, from_date, to_date, now or utc_now(),
                            histograms_from=from_date)
    return days.metrics(from_date, to_date)


class DayPoint(NamedTuple):
    """One WIB day of a service's daily series, for charts: received, completed, and due.

    A named tuple: a service page makes 90 of them on every view.
    """

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
    return ServiceDays.read(service, first_day, today, now).points(first_day, today)


class _Day(NamedTuple):
    """One WIB day of a service's aggregates, with what fell due on it as of an instant.

    A named tuple, made straight from the row read: a service page reads hundreds of days.
    """

    received: int
    online: int
    completed: int
    # The completion times of the day's completed requests, as stored (None: not read).
    completion_histogram: str | None
    # What fell due (as DueCounts, without completion times: hundreds of days are read).
    due: int
    on_time: int
    first_response_due: int
    first_response_on_time: int


_NONE_DUE = (0, 0, 0, 0)
_NO_DAY = _Day(0, 0, 0, None, *_NONE_DUE)


def fallen_due_columns(*columns: Any) -> list[Any]:
    """Select service_day's due counts as what had fallen due before the day ``today`` (a
    bound value): 0 from today on, as those rows also hold requests not due yet (today's is
    counted from the requests, ``due_counts_today``)."""
    day = ServiceDay.__table__.c
    before_today = day.day < bindparam("today", type_=day.day.type)
    return [case((before_today, column), else_=0) for column in columns]


@lru_cache(maxsize=1)
def _days_statement() -> Select:
    """Build ServiceDays.read's statement once (its values bound when it runs).

    Of the table's columns, not the model's: the session then returns the rows as the
    database gives them, without the ORM's handling of each row (a third of the read's time
    for a WFA trend's hundreds of days). The aggregates are only ever written by statements,
    never through the session, so it has nothing of them to flush first. What fell due is
    read as 0 from ``today`` on (those rows also hold requests not due yet), so that each
    row is a day as it is.
    """
    day = ServiceDay.__table__.c
    return select(
        day.day, day.received, day.received_online, day.completed,
        case((day.day >= bindparam("histograms_from", type_=day.day.type),
              day.completion_histogram), else_=null()),
        *fallen_due_columns(day.due, day.due_on_time, day.first_response_due,
                            day.first_response_due_on_time),
    ).where(day.service_id == bindparam("service_id"),
            day.day >= bindparam("first_day", type_=day.day.type),
            day.day <= bindparam("last_day", type_=day.day.type))


@lru_cache(maxsize=8)
def _now_statement(today: bool, window: bool, checks: bool) -> Select:
    """Build ServiceDays.read's second statement once for what it counts (its values bound
    when it runs): one row of today's due counts (due, on time, first responses due, on
    time), then a window's requests still open (as :func:`open_at`) and its availability
    checks (all, successful: as
    :func:`~portal.services.metrics.availability.availability_counts`).

    Each part a one-row subquery over the index ranges its own statement reads.
    """
    parts = []
    if today:
        parts.append(_due_today_sums().subquery("due_today"))
    if window:
        parts.append(_open_at_statement(True).subquery("still_open"))
    if checks:
        parts.append(_checks_statement().subquery("checks"))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, true())
    return select(*(column for part in parts for column in part.c)).select_from(joined)


@lru_cache(maxsize=1)
def _due_today_sums() -> Select:
    """Build the statement summing one service's due requests of today so far, as
    :func:`due_counts_today` counts them: the same two index ranges."""
    request = ServiceRequest.__table__.c
    ranges = _due_today_ranges(request.service_id == bindparam("service_id"),
                               "today_start").subquery("due_ranges")
    kind, done, deadline = ranges.c.kind, ranges.c.done, ranges.c.deadline

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(
        total(kind == _COMPLETION),
        total((kind == _COMPLETION) & (done <= deadline)),
        total(kind == _FIRST_RESPONSE),
        total((kind == _FIRST_RESPONSE) & (done <= deadline)),
    )


def metrics_from_counts(
    service: Service, from_date: date, to_date: date, *, received: int, online: int,
    completed: int, due: DueCounts, completion_totals: dict[str, int] | None = None,
    completion_texts: list[str] | None = None, still_open: OpenAt,
    availability: float | None,
) -> ServiceMetrics:
    """Assemble a service's metrics over a window from its counts (docs/definitions.md):
    the one place for what they derive (late, the rates, median and 90th percentile), for
    one service (ServiceDays) and for many (status_metrics).

    The completion times are the stored histograms of the window, added up by their keys
    (``completion_totals``) or as stored (``completion_texts``, one a day).
    """
    if completion_texts is not None:
        median, p90 = histogram_texts_percentiles(completion_texts, (MEDIAN, P90))
    else:
        median, p90 = histogram_percentiles(histogram_from_totals(completion_totals or {}),
                                            (MEDIAN, P90))
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
        median_completion_hours=_hours(median),
        p90_completion_hours=_hours(p90),
        backlog=still_open.backlog,
        overdue=still_open.overdue,
        first_response_due=due.first_response_due,
        first_response_on_time=due.first_response_on_time,
        first_response_on_time_rate=_rate(due.first_response_on_time,
                                          due.first_response_due),
        digital_share=_rate(online, received),
        availability=availability,
    )


@dataclass(frozen=True)
class ServiceDays:
    """A service's aggregate rows over a span of WIB days as of an instant, read once.

    :func:`metrics_for_service` and :func:`daily_series` compute from it; a page that shows
    the metrics of a window, the days of that window and more days around them reads the
    span once: one statement for the days, and one more (when today is in the span, or the
    completion times were read) for what is counted from the requests as of the instant:
    today's due requests, and the requests still open at the end of the window from
    ``histograms_from`` to the last day with its availability checks (the window a page
    shows; another window's are read when its metrics are asked).
    """

    service: Service
    first_day: date
    last_day: date
    now: datetime
    # The completion times are read for the days from this one on (None: not read).
    histograms_from: date | None
    days: dict[date, _Day]
    # The window from histograms_from to last_day: its requests still open and its
    # availability (None: not read).
    window_now: tuple[OpenAt, float | None] | None = None

    @classmethod
    def read(
        cls, service: Service, first_day: date, last_day: date, now: datetime,
        histograms_from: date | None = None,
    ) -> ServiceDays:
        """Read a service's days between two WIB dates inclusive, as of now.

        What fell due on a day before today is the row's (everything due on it has fallen
        due); today's is read from the requests whose deadline has passed (the row also
        holds requests due later today); later days have nothing due yet. The completion
        times of the due requests are never read, those of the completed requests only
        from ``histograms_from`` on.
        """
        today = wib_date(now)
        values = {"service_id": service.id, "first_day": first_day, "last_day": last_day,
                  "histograms_from": date.max if histograms_from is None else histograms_from,
                  "today": today}
        # Fetched at once, each row made a day as it is (tuple.__new__: _make without its
        # checks): row by row costs more than making the days.
        new = tuple.__new__
        days: dict[date, _Day] = {row[0]: new(_Day, row[1:]) for row in db.session.execute(
            _days_statement(), values).all()}
        with_today = first_day <= today <= last_day
        window = histograms_from is not None and first_day <= histograms_from <= last_day
        checks = window and bool(service.online_url)
        window_now = None
        if with_today or window:
            values = {"service_id": service.id}
            if with_today:
                values.update(today_start=wib_midnight(today), now=now)
            if window:
                start, end = window_bounds(histograms_from, last_day)
                values.update(at=min(end, now), due_from=start)
            if checks:
                # The checks made by as_of: those made later were not known then.
                values.update(ids=[service.id], start=start, end=min(end, now))
            found = list(db.session.execute(
                _now_statement(with_today, window, checks), values).one())
            if with_today:
                due, on_time, first_due, first_on_time = (int(n) for n in found[:4])
                del found[:4]
                if due or first_due:
                    days[today] = days.get(today, _NO_DAY)._replace(
                        due=due, on_time=on_time, first_response_due=first_due,
                        first_response_on_time=first_on_time)
            if window:
                still_open = OpenAt(*(int(n) for n in found[:3]))
                total, succeeded = (int(n) for n in found[3:5]) if checks else (0, 0)
                window_now = (still_open, succeeded / total if total else None)
        return cls(service, first_day, last_day, now, histograms_from, days, window_now)

    @classmethod
    def from_counts(
        cls, service: Service, first_day: date, last_day: date, now: datetime,
        counts: Mapping[date, tuple[int, int, int, int]],
    ) -> ServiceDays:
        """Make a service's days from (received, completed, due, on time) counts read with
        other services' (portal/services/metrics/page_figures.py), as :meth:`read` would
        read them as of now: for :meth:`points` and :meth:`due_by_span`, without
        completion times (the metrics of a window are not computed from these)."""
        new = tuple.__new__
        return cls(service, first_day, last_day, now, None,
                   {on: new(_Day, (received, 0, completed, None, due, on_time, 0, 0))
                    for on, (received, completed, due, on_time) in counts.items()})

    def _check_read(self, from_date: date, to_date: date) -> None:
        """Refuse a span of days that was not read (or that ends before it starts)."""
        if from_date < self.first_day or to_date > self.last_day or to_date < from_date:
            raise ValueError("the days asked for were not read")

    def _within(self, from_date: date, to_date: date) -> list[_Day]:
        """Return the days read between two WIB dates inclusive (which must have been read)."""
        self._check_read(from_date, to_date)
        return [row for on, row in self.days.items() if from_date <= on <= to_date]

    def metrics(self, from_date: date, to_date: date) -> ServiceMetrics:
        """Compute the metrics over the WIB dates from..to inclusive (docs/definitions.md).

        ``due`` counts the requests whose due date is in the window and whose deadline has
        passed, completed or not: a request nobody closes counts as late. Backlog, overdue
        and late-and-open are counted as of the earlier of the window's end and now.
        """
        if self.histograms_from is None or from_date < self.histograms_from:
            raise ValueError("the completion times of the window were not read")
        service = self.service
        start, end = window_bounds(from_date, to_date)
        received = online = completed = 0
        histograms = []
        due = DueCounts()
        for row in self._within(from_date, to_date):
            received += row.received
            online += row.online
            completed += row.completed
            if row.completion_histogram:
                histograms.append(row.completion_histogram)
            due.due += row.due
            due.on_time += row.on_time
            due.first_response_due += row.first_response_due
            due.first_response_on_time += row.first_response_on_time
        if self.window_now is not None and (from_date, to_date) == (self.histograms_from,
                                                                    self.last_day):
            still_open, availability = self.window_now
        else:
            still_open = open_at(service.id, min(end, self.now), due_from=start)
            availability = (availability_for_service(service, start, min(end, self.now))
                            if service.online_url else None)
        return metrics_from_counts(
            service, from_date, to_date, received=received, online=online,
            completed=completed, due=due, completion_texts=histograms,
            still_open=still_open, availability=availability,
        )

    def points(self, first_day: date, last_day: date) -> list[DayPoint]:
        """Return one point per WIB day from first_day to last_day, oldest first.

        A day's on-time rate is over the requests due that day (today: those due so far).
        """
        self._check_read(first_day, last_day)
        points, get, new = [], self.days.get, tuple.__new__
        for offset in range((last_day - first_day).days + 1):
            on = first_day + timedelta(days=offset)
            row = get(on, _NO_DAY)
            due, on_time = row.due, row.on_time
            # (day, received, completed, due, on time, on-time rate): DayPoint's fields.
            points.append(new(DayPoint, (on, row.received, row.completed, due, on_time,
                                         on_time / due if due else None)))
        return points

    def due_by_span(
        self, first_day: date, last_day: date, span: int
    ) -> list[tuple[date, date, int, int]]:
        """Sum what fell due in consecutive spans of ``span`` WIB days from first_day to
        last_day (the last span may be shorter), oldest first: (first day, last day, due,
        on time) of each, every span listed, empty ones too.

        The sums of :meth:`points` over each span, without a point for each of the hundreds of
        days a WFA trend covers.
        """
        self._check_read(first_day, last_day)
        # Days as ordinals (plain numbers): no date arithmetic for each of the hundreds.
        base, length = first_day.toordinal(), (last_day - first_day).days + 1
        count = (length - 1) // span + 1
        due, on_time = [0] * count, [0] * count
        for ordinal, row in zip(map(date.toordinal, self.days), self.days.values(), strict=True):
            offset = ordinal - base
            if 0 <= offset < length:
                index = offset // span
                due[index] += row.due
                on_time[index] += row.on_time
        day, last = date.fromordinal, base + length - 1
        return [(day(start), day(min(start + span - 1, last)), due[i], on_time[i])
                for i, start in enumerate(range(base, last + 1, span))]
