"""WFA impact: did a service get slower after it moved to WFA or hybrid work?

The rules are those of docs/definitions.md, section 6.

For a service whose work mode changed to ``wfa`` or ``hybrid`` on date S (its latest such
change in the public work-mode history), compare the requests that fell **due** in two windows
of WIB dates:

- before: S−90 … S−1 (90 days);
- after: S … S+89, cut at today when shorter (empty while S is still ahead).

Per side: ``due``, ``on_time``, ``on_time_rate`` and the median completion hours of the due
requests that were completed, exactly as the service metrics define them (read from the same
due-date aggregates as :func:`portal.services.metrics.figures.metrics_for_service`). A request
nobody closes counts as late on its due date, so leaving slow requests open cannot help.

The verdict, first rule that applies:

- ``not_enough_data`` / ``partial_history``: the service's reporting start (the WIB date of
  its first request) is after S−90, so the data do not cover the before window;
- ``not_enough_data`` / ``too_few_requests``: fewer than 30 due requests on either side (a
  service with no request at all has 0 on both sides and lands here);
- otherwise Newcombe's hybrid score interval (z = 1.959964) of after − before: ``decline``
  when it lies wholly below zero, ``improvement`` wholly above, else ``no_significant_change``.
No difference and no interval are given with ``not_enough_data``, so that nothing can be read
as a verdict.

**Comparison group**: the services whose work mode was ``onsite`` on every day from S−90 to the
after window's last day (by their public history: a service with no history is never assumed
on-site) and whose reporting start is on or before S−90. Those of the service's department
when they pool at least 30 due requests on each side, else those of the whole province when
they reach the same 30 on each side, else there is no comparison (``comparison`` null).
Their pooled change d2 (interval l2, u2) is subtracted from the service's change d1 (l1, u1):
the net difference d1 − d2 with the MOVER interval (Zou & Donner 2008), read into
``adjusted_verdict`` like the verdict, and ``not_enough_data`` whenever the verdict is or
there is no comparison.

**Department and province figures** pool, side by side, the counts of their services whose
verdict is not ``not_enough_data`` (each around its own S), and the pooled medians come from
the merged completion-time histograms, never from averaging medians. The pooled comparison is
given only when every pooled service moved on the same date S: then the treated services and
the comparison group share the same weeks, and the comparison is chosen by the rule above
(a department's own on-site services when they pool 30 due requests on each side, else the
province's; the province's figure always uses the province's). With different dates the
comparison groups cover different weeks: adding them up would weigh each period's general
trend differently on the two sides, and a service on-site throughout several services'
windows would be counted more than once, which makes the interval too narrow. So no pooled
comparison is made then (``adjusted_verdict_reason`` ``different_change_dates``); each
service's own adjusted verdict stands.

Everything is computed in a handful of queries whatever the number of services: the
catalogue's services and work-mode histories, the reporting starts, one streamed read of the
daily due and on-time counts per cluster of overlapping windows (usually one), kept per
service as running totals so that a window's sum is two bisections, and one read of the
completion-time histograms limited to the moved services' own windows (a comparison group
shows no median, so its histograms are never read). Each service's work-mode history is
ordered once into spans (:class:`WorkModeTimeline`), and the services on-site since before
their records began qualify for a comparison group by their reporting start alone.

One service's impact (the API's, :func:`wfa_impact_for_code`) reads less: its department's
services, its own days, and its department's comparison group's counts summed by the
database; the rest of the province only when that group has too few due requests.

A history entry counts as a change when it has a date and its mode differs from the entry
before it; the first dated entry of a history (no older entry) counts too, with an unknown
``from_mode`` (the importer records "wfa since 1 March" as a single entry).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from portal.domain.calendar import utc_now, wib_date
from portal.domain.statistics import (
    Interval,
    mover_difference_interval,
    newcombe_difference_interval,
)
from portal.extensions import db
from portal.models.catalogue import Service, WorkModeChange
from portal.models.metrics import ServiceDay
from portal.services.errors import NotFound
from portal.services.metrics.figures import (
    MEDIAN,
    DueCounts,
    due_counts_today,
    histogram_accumulate,
    histogram_from_totals,
    histogram_percentile,
    reporting_starts,
)

WFA_MODES = ("wfa", "hybrid")
WINDOW_DAYS = 90
# Due requests needed on each side for a verdict, and for a department's comparison group.
MIN_DUE = 30
VERDICTS = ("decline", "improvement", "no_significant_change", "not_enough_data")
VERDICT_REASONS = ("partial_history", "too_few_requests")
# Why a department's or the province's figure has no verdict: none of its services has one.
POOLED_VERDICT_REASONS = ("no_service_with_verdict",)
ADJUSTED_VERDICT_REASONS = ("no_verdict", "no_comparison_group", "different_change_dates")
COMPARISON_SCOPES = ("department", "province")


@dataclass(frozen=True)
class WorkModeMove:
    """A service's latest move to WFA or hybrid work."""

    service_id: int
    change_date: date
    from_mode: str | None
    to_mode: str


@dataclass(frozen=True)
class SideFigures:
    """One side (before or after) of a comparison, as shown."""

    from_date: date | None
    to_date: date | None
    due: int
    on_time: int
    on_time_rate: float | None
    median_completion_hours: float | None

    @classmethod
    def of(cls, counts: DueCounts, from_date: date | None = None,
           to_date: date | None = None) -> SideFigures:
        """Turn due counts into figures (rate None when nothing fell due)."""
        seconds = histogram_percentile(counts.histogram, MEDIAN)
        return cls(
            from_date=from_date,
            to_date=to_date,
            due=counts.due,
            on_time=counts.on_time,
            on_time_rate=counts.on_time / counts.due if counts.due else None,
            median_completion_hours=None if seconds is None else seconds / 3600,
        )

    def as_json(self, median: bool = True) -> dict:
        """Return the API's side object (rate to 0.0001, hours to 0.01)."""
        data: dict = {
            "due": self.due,
            "on_time": self.on_time,
            "on_time_rate": _round(self.on_time_rate, 4),
        }
        if median:
            data["median_completion_hours"] = _round(self.median_completion_hours, 2)
        return data


@dataclass(frozen=True)
class ComparisonGroup:
    """The services that stayed on-site over the same weeks, pooled, and their change."""

    scope: str  # "department" or "province"
    services: tuple[str, ...]
    before: SideFigures
    after: SideFigures
    difference: float
    ci_low: float
    ci_high: float

    def as_json(self) -> dict:
        """Return the API's comparison object."""
        return {
            "scope": self.scope,
            "services": list(self.services),
            "before": self.before.as_json(median=False),
            "after": self.after.as_json(median=False),
            "difference": _round(self.difference, 4),
            "ci_low": _round(self.ci_low, 4),
            "ci_high": _round(self.ci_high, 4),
        }

    @property
    def interval(self) -> Interval:
        """The change d2 with its Newcombe interval."""
        return Interval(self.difference, self.ci_low, self.ci_high)


@dataclass(frozen=True)
class Comparison:
    """Before against after, the comparison group, the net difference and both verdicts."""

    before: SideFigures
    after: SideFigures
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str
    verdict_reason: str | None
    comparison: ComparisonGroup | None
    net_difference: float | None
    net_ci_low: float | None
    net_ci_high: float | None
    adjusted_verdict: str
    # Why there is no adjusted verdict (None when there is one); see ADJUSTED_VERDICT_REASONS.
    adjusted_verdict_reason: str | None

    def figures_json(self) -> dict:
        """Return the comparison's part of the API object (without adjusted_verdict_reason)."""
        return {
            "before": self.before.as_json(),
            "after": self.after.as_json(),
            "difference": _round(self.difference, 4),
            "ci_low": _round(self.ci_low, 4),
            "ci_high": _round(self.ci_high, 4),
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "comparison": None if self.comparison is None else self.comparison.as_json(),
            "net_difference": _round(self.net_difference, 4),
            "net_ci_low": _round(self.net_ci_low, 4),
            "net_ci_high": _round(self.net_ci_high, 4),
            "adjusted_verdict": self.adjusted_verdict,
        }


@dataclass(frozen=True)
class WfaImpact(Comparison):
    """The WFA impact of one service."""

    service_code: str = ""
    change_date: date | None = None
    from_mode: str | None = None
    to_mode: str = ""
    reporting_since: date | None = None

    def as_json(self) -> dict:
        """Return exactly the object of GET /api/v1/services/CODE/wfa-impact."""
        return {
            "change_date": _iso(self.change_date),
            "from_mode": self.from_mode,
            "to_mode": self.to_mode,
            "reporting_since": _iso(self.reporting_since),
            **self.figures_json(),
        }


@dataclass(frozen=True)
class PooledWfaImpact(Comparison):
    """The WFA impact of a group of services (a department, the province), pooled."""

    # Services pooled (those with a verdict of their own), and all that moved.
    services: int = 0
    services_moved: int = 0
    # The pooled services' common date of change; None when they moved on different dates.
    change_date: date | None = None

    def as_json(self) -> dict:
        """Return the pooled object of the accountability API."""
        return {
            "services": self.services,
            "services_moved": self.services_moved,
            "change_date": _iso(self.change_date),
            **self.figures_json(),
            "adjusted_verdict_reason": self.adjusted_verdict_reason,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def read_interval(interval: Interval) -> str:
    """Return the verdict an interval gives: wholly below zero, wholly above, or neither."""
    if interval.high < 0:
        return "decline"
    if interval.low > 0:
        return "improvement"
    return "no_significant_change"


def comparison_group(
    scope: str, codes: Iterable[str], before: DueCounts, after: DueCounts,
    before_dates: tuple[date | None, date | None] = (None, None),
    after_dates: tuple[date | None, date | None] = (None, None),
) -> ComparisonGroup | None:
    """Return a comparison group's pooled change, or None when a side has nothing due."""
    if not before.due or not after.due:
        return None
    interval = newcombe_difference_interval(after.on_time, after.due, before.on_time, before.due)
    return ComparisonGroup(
        scope=scope,
        services=tuple(sorted(codes)),
        before=SideFigures.of(DueCounts(before.due, before.on_time), *before_dates),
        after=SideFigures.of(DueCounts(after.due, after.on_time), *after_dates),
        difference=interval.estimate,
        ci_low=interval.low,
        ci_high=interval.high,
    )


def compare(
    before: DueCounts,
    after: DueCounts,
    *,
    reporting_since: date | None = None,
    before_dates: tuple[date | None, date | None] = (None, None),
    after_dates: tuple[date | None, date | None] = (None, None),
    comparison: ComparisonGroup | None = None,
    no_comparison_reason: str = "no_comparison_group",
    check_history: bool = True,
) -> dict:
    """Apply the verdict rules to two windows' due counts; return the Comparison fields.

    ``check_history`` applies the partial-history rule (a service's reporting start after
    the before window's first day); pooled figures skip it, as each of their services passed
    it already.
    """
    window_start = before_dates[0]
    interval = None
    if (check_history and reporting_since is not None and window_start is not None
            and reporting_since > window_start):
        verdict, reason = "not_enough_data", "partial_history"
    elif before.due < MIN_DUE or after.due < MIN_DUE:
        verdict, reason = "not_enough_data", "too_few_requests"
    else:
        interval = newcombe_difference_interval(after.on_time, after.due, before.on_time,
                                                before.due)
        verdict, reason = read_interval(interval), None
    net = None
    if interval is None:
        adjusted, adjusted_reason = "not_enough_data", "no_verdict"
    elif comparison is None:
        adjusted, adjusted_reason = "not_enough_data", no_comparison_reason
    else:
        net = mover_difference_interval(interval, comparison.interval)
        adjusted, adjusted_reason = read_interval(net), None
    return {
        "before": SideFigures.of(before, *before_dates),
        "after": SideFigures.of(after, *after_dates),
        "difference": None if interval is None else interval.estimate,
        "ci_low": None if interval is None else interval.low,
        "ci_high": None if interval is None else interval.high,
        "verdict": verdict,
        "verdict_reason": reason,
        "comparison": comparison,
        "net_difference": None if net is None else net.estimate,
        "net_ci_low": None if net is None else net.low,
        "net_ci_high": None if net is None else net.high,
        "adjusted_verdict": adjusted,
        "adjusted_verdict_reason": adjusted_reason,
    }


# Work-mode histories -----------------------------------------------------------------------


def _ordered(history: Iterable[WorkModeChange]) -> list[WorkModeChange]:
    """Sort a history oldest first: undated entries ("since before records") lead."""
    return sorted(
        history,
        key=lambda c: (c.effective_from is not None, c.effective_from or date.min, c.id or 0),
    )


def latest_move(history: Iterable[WorkModeChange]) -> WorkModeMove | None:
    """Return the latest dated change to wfa or hybrid in one service's history, or None."""
    found = None
    previous_mode: str | None = None
    for entry in _ordered(history):
        if (entry.effective_from is not None and entry.work_mode in WFA_MODES
                and entry.work_mode != previous_mode):
            found = WorkModeMove(entry.service_id, entry.effective_from, previous_mode,
                                 entry.work_mode)
        previous_mode = entry.work_mode
    return found


def mode_on(history: Iterable[WorkModeChange], day: date) -> str | None:
    """Return a service's work mode on a WIB date by its history (None when it is unknown).

    The entry in force is the last one dated on or before the day (an undated entry holds
    since before the records begin); of several entries of one date, the last recorded wins.
    """
    mode = None
    for entry in _ordered(history):
        if entry.effective_from is not None and entry.effective_from > day:
            break
        mode = entry.work_mode
    return mode


def onsite_throughout(history: Iterable[WorkModeChange], first: date, last: date) -> bool:
    """Tell whether a service's history says it was on-site on every day from first to last."""
    return WorkModeTimeline(history).onsite_throughout(first, last)


class WorkModeTimeline:
    """A service's work modes as spans of days, ordered once, asked by bisection.

    The mode of a day is that of :func:`mode_on`; consecutive spans of one mode are merged,
    so a span that starts on or before a day and whose successor starts after another covers
    every day between them.
    """

    def __init__(self, history: Iterable[WorkModeChange]) -> None:
        initial: str | None = None
        by_day: dict[date, str] = {}
        for entry in _ordered(history):
            if entry.effective_from is None:
                initial = entry.work_mode
            else:
                by_day[entry.effective_from] = entry.work_mode  # the last recorded wins
        self.initial = initial
        self.starts: list[date] = []
        self.modes: list[str | None] = []
        current = initial
        for day in sorted(by_day):
            if by_day[day] != current:
                self.starts.append(day)
                self.modes.append(by_day[day])
                current = by_day[day]

    def onsite_throughout(self, first: date, last: date) -> bool:
        """Tell whether the mode is onsite on every day from first to last."""
        i = bisect_right(self.starts, first)
        mode = self.initial if i == 0 else self.modes[i - 1]
        return mode == "onsite" and (i == len(self.starts) or self.starts[i] > last)

    def always_onsite(self) -> bool:
        """Tell whether the mode is onsite on every day there is."""
        return self.initial == "onsite" and not self.starts


def windows(change_date: date, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """Return ((before from, to), (after from, to)); the after side ends today at the latest.

    While the change is still ahead, the after window is empty (its end precedes its start).
    """
    # Stored dates at the ends of the calendar (refused on entry, but a database may hold one)
    # give empty or clipped windows, never an overflow.
    span = timedelta(days=WINDOW_DAYS)
    before_start = change_date - span if change_date - date.min >= span else date.min
    before = (before_start, change_date - timedelta(days=1) if change_date > date.min
              else date.min)
    after_end = today if change_date > today else min(change_date + (span - timedelta(days=1)),
                                                       today)
    return before, (change_date, after_end)


# Reading the data ----------------------------------------------------------------------------


@dataclass
class _Catalogue:
    """The province's services, their work-mode histories and reporting starts."""

    department_of: dict[int, int]
    code_of: dict[int, str]
    # Each service's history as rows of WorkModeChange's id, service_id, work_mode and
    # effective_from (what the rules read).
    histories: dict[int, list[Any]]
    starts: dict[int, date]
    timelines: dict[int, WorkModeTimeline] = field(default_factory=dict)


def _catalogue() -> _Catalogue:
    """Read every service, every work-mode history and every reporting start (3 queries).

    The comparison group may come from anywhere in the province, so the whole catalogue is
    read, whichever services are asked about. The histories are read as plain rows (the
    columns the rules use), not as model objects: a province has thousands of entries.
    """
    department_of, code_of = {}, {}
    for service_id, department_id, code in db.session.execute(
            select(Service.id, Service.department_id, Service.code)):
        department_of[service_id] = department_id
        code_of[service_id] = code
    histories: dict[int, list[Any]] = defaultdict(list)
    change = WorkModeChange
    for entry in db.session.execute(select(change.id, change.service_id, change.work_mode,
                                           change.effective_from)):
        histories[entry.service_id].append(entry)
    timelines = {service_id: WorkModeTimeline(history)
                 for service_id, history in histories.items()}
    return _Catalogue(department_of, code_of, dict(histories), reporting_starts(), timelines)


class _DueIndex:
    """Each service's days with requests due, with running totals of due and on-time counts.

    Days are kept as ordinals and the totals in arrays (a few bytes a day); the sum over a
    span of days is the difference of two running totals found by bisection.
    """

    def __init__(self) -> None:
        self._days: dict[int, array] = {}
        self._due: dict[int, array] = {}
        self._on_time: dict[int, array] = {}

    def _arrays(self, service_id: int) -> tuple[array, array, array]:
        if service_id not in self._days:
            self._days[service_id] = array("l")
            self._due[service_id] = array("q", [0])
            self._on_time[service_id] = array("q", [0])
        return self._days[service_id], self._due[service_id], self._on_time[service_id]

    def extend(self, rows: Iterable[tuple[int, date, int, int]]) -> None:
        """Add (service id, day, due, on time) rows, each service's days in increasing order
        and after the days it already has."""
        current = None
        days = dues = on_times = array("l")
        for service_id, day, due, on_time in rows:
            if service_id != current:
                current = service_id
                days, dues, on_times = self._arrays(service_id)
            days.append(day.toordinal())
            dues.append(dues[-1] + due)
            on_times.append(on_times[-1] + on_time)

    def sums(self, service_id: int, *bounds: int) -> list[tuple[int, int]]:
        """Return (due, on time) between consecutive day ordinals of bounds (end excluded)."""
        days = self._days.get(service_id)
        if days is None:
            return [(0, 0)] * (len(bounds) - 1)
        dues, on_times = self._due[service_id], self._on_time[service_id]
        found = []
        previous = bisect_left(days, bounds[0])
        for bound in bounds[1:]:
            index = bisect_left(days, bound, previous)
            found.append((dues[index] - dues[previous], on_times[index] - on_times[previous]))
            previous = index
        return found

    def arrays(self) -> tuple[dict[int, array], dict[int, array], dict[int, array]]:
        """Return the days, running due and running on-time totals by service id."""
        return self._days, self._due, self._on_time

    def counts(self, service_id: int, first: date, last: date) -> DueCounts:
        """Return due and on-time counts of a service over first..last (no histogram)."""
        if last < first:
            return DueCounts()
        ((due, on_time),) = self.sums(service_id, first.toordinal(), last.toordinal() + 1)
        return DueCounts(due, on_time)


@dataclass
class _Pool:
    """Pooled due counts of some services over one pair of windows."""

    ids: list[int] = field(default_factory=list)
    before: DueCounts = field(default_factory=DueCounts)
    after: DueCounts = field(default_factory=DueCounts)

    def enough(self) -> bool:
        """Tell whether the pool has MIN_DUE due requests on each side."""
        return self.before.due >= MIN_DUE and self.after.due >= MIN_DUE


@dataclass
class _Reference:
    """The on-site services of one pair of windows: pooled per department and in all."""

    before_dates: tuple[date, date]
    after_dates: tuple[date, date]
    ids: list[int]
    by_department: dict[int, _Pool] = field(default_factory=dict)
    province: _Pool = field(default_factory=_Pool)

    def group(self, catalogue: _Catalogue, department_id: int | None) -> ComparisonGroup | None:
        """Return the department's group when it has enough, else the province's, or None."""
        own = self.by_department.get(department_id) if department_id is not None else None
        for scope, pool in (("department", own), ("province", self.province)):
            if pool is not None and pool.enough():
                return comparison_group(scope, (catalogue.code_of[i] for i in pool.ids),
                                        pool.before, pool.after, self.before_dates,
                                        self.after_dates)
        return None


@dataclass
class _Target:
    """A service that moved, with its two windows."""

    service_id: int
    move: WorkModeMove
    before_dates: tuple[date, date]
    after_dates: tuple[date, date]


def _references(
    catalogue: _Catalogue, targets: Iterable[_Target]
) -> dict[tuple[date, date], _Reference]:
    """Find, per pair of windows, the services that qualify as its comparison group."""
    # Services on-site since before their records began qualify by their reporting start
    # alone: a prefix of them sorted by start. The others are asked by their timeline.
    always: list[tuple[date, int]] = []
    others: list[tuple[int, date, WorkModeTimeline]] = []
    for service_id, start in catalogue.starts.items():
        timeline = catalogue.timelines.get(service_id)
        if timeline is None:
            continue  # no history: never assumed on-site
        if timeline.always_onsite():
            always.append((start, service_id))
        elif timeline.initial == "onsite" or "onsite" in timeline.modes:
            others.append((service_id, start, timeline))
    always.sort()
    always_starts = [start for start, _id in always]
    references: dict[tuple[date, date], _Reference] = {}
    for target in targets:
        key = (target.move.change_date, target.after_dates[1])
        if key in references:
            continue
        window_start, window_end = target.before_dates[0], target.after_dates[1]
        ids: list[int] = []
        if window_end >= target.after_dates[0]:
            ids = [service_id for _start, service_id in
                   always[:bisect_right(always_starts, window_start)]]
            ids += [service_id for service_id, start, timeline in others
                    if start <= window_start
                    and timeline.onsite_throughout(window_start, window_end)]
        references[key] = _Reference(target.before_dates, target.after_dates, sorted(ids))
    return references


def _clusters(
    targets: list[_Target], references: dict[tuple[date, date], _Reference]
) -> list[tuple[date, date, set[int]]]:
    """Return the spans of days to read, one per cluster of overlapping windows, in order.

    Moves usually cluster around a policy date, so this is one span; moves years apart do not
    make every service's whole history between them be read.
    """
    spans = []
    for target in targets:
        reference = references[(target.move.change_date, target.after_dates[1])]
        last = max(target.before_dates[1], target.after_dates[1])
        spans.append((target.before_dates[0], last, {target.service_id, *reference.ids}))
    spans.sort(key=lambda span: span[0])
    clusters: list[list] = []
    for first, last, ids in spans:
        if clusters and first <= clusters[-1][1] + timedelta(days=1):
            clusters[-1][1] = max(clusters[-1][1], last)
            clusters[-1][2] |= ids
        else:
            clusters.append([first, last, set(ids)])
    return [(first, last, ids) for first, last, ids in clusters]


# Rows fetched at a time from the database: the reads stream instead of holding every row.
_YIELD_PER = 5000
# Window ranges (each one IN list and two dates) per statement of the histogram read.
_RANGES_PER_STATEMENT = 100


def _read_due_counts(
    clusters: list[tuple[date, date, set[int]]], today_counts: Mapping[int, DueCounts],
    today: date,
) -> _DueIndex:
    """Read the due and on-time counts of every day the windows need, histograms left out.

    Days before today come from the aggregates, streamed in order of service and day; today
    (what fell due so far) from ``today_counts``, read from the requests.
    """
    index = _DueIndex()
    last_aggregate_day = today - timedelta(days=1)
    # Core rows through the session's connection: the ORM's result handling would cost more
    # than the rows' own reading.
    connection = db.session.connection()
    for first, last, ids in clusters:
        last = min(last, last_aggregate_day)
        if first > last:
            continue
        ordered = sorted(ids)
        for chunk_start in range(0, len(ordered), 900):
            stmt = select(
                ServiceDay.service_id, ServiceDay.day, ServiceDay.due, ServiceDay.due_on_time,
            ).where(
                ServiceDay.service_id.in_(ordered[chunk_start:chunk_start + 900]),
                ServiceDay.day >= first,
                ServiceDay.day <= last,
                ServiceDay.due > 0,
            ).order_by(ServiceDay.service_id, ServiceDay.day)
            result = connection.execute(stmt.execution_options(yield_per=_YIELD_PER))
            for rows in result.partitions():
                index.extend(rows)
    index.extend((service_id, today, counts.due, counts.on_time)
                 for service_id, counts in sorted(today_counts.items()))
    return index


def _target_histograms(
    targets: list[_Target], today_counts: Mapping[int, DueCounts], today: date,
) -> dict[int, tuple[Counter[int], Counter[int]]]:
    """Return the completion times of each moved service's due requests, before and after.

    Only the moved services' own windows are read with their histograms: a comparison group
    shows no median.
    """
    ranges: dict[tuple[date, date], list[int]] = defaultdict(list)
    for target in targets:
        first = target.before_dates[0]
        last = min(max(target.before_dates[1], target.after_dates[1]),
                   today - timedelta(days=1))
        if first <= last:
            ranges[(first, last)].append(target.service_id)
    change_date = {t.service_id: t.move.change_date for t in targets}
    totals: dict[int, tuple[dict[str, int], dict[str, int]]] = {
        t.service_id: ({}, {}) for t in targets}
    items = sorted(ranges.items())
    for chunk_start in range(0, len(items), _RANGES_PER_STATEMENT):
        chunk = items[chunk_start:chunk_start + _RANGES_PER_STATEMENT]
        stmt = select(
            ServiceDay.service_id, ServiceDay.day, ServiceDay.due_completion_histogram,
        ).where(
            or_(*(and_(ServiceDay.service_id.in_(ids), ServiceDay.day >= first,
                       ServiceDay.day <= last) for (first, last), ids in chunk)),
            ServiceDay.due > 0,
        )
        result = db.session.connection().execute(stmt.execution_options(yield_per=_YIELD_PER))
        for rows in result.partitions():
            for service_id, day, text in rows:
                before, after = totals[service_id]
                histogram_accumulate(before if day < change_date[service_id] else after, text)
    found = {}
    for target in targets:
        before, after = (histogram_from_totals(t) for t in totals[target.service_id])
        counts = today_counts.get(target.service_id)
        if counts is not None:
            for (first, last), histogram in ((target.before_dates, before),
                                             (target.after_dates, after)):
                if first <= today <= last:
                    histogram.update(counts.histogram)
        found[target.service_id] = (before, after)
    return found


def _pool_references(
    catalogue: _Catalogue, references: dict[tuple[date, date], _Reference], index: _DueIndex
) -> None:
    """Pool each reference's services' due counts, per department and for the province."""
    department_of = catalogue.department_of
    # The inner loop runs once per (pair of windows, on-site service): it reads the arrays
    # directly instead of through _DueIndex.sums.
    days_of, due_of, on_time_of = index.arrays()
    for reference in references.values():
        start = reference.before_dates[0].toordinal()
        change = reference.after_dates[0].toordinal()
        end = reference.after_dates[1].toordinal() + 1
        totals: dict[int, list[int]] = {}
        ids_of: dict[int, list[int]] = defaultdict(list)
        for service_id in reference.ids:
            department_id = department_of[service_id]
            ids_of[department_id].append(service_id)
            days = days_of.get(service_id)
            if days is None:
                totals.setdefault(department_id, [0, 0, 0, 0])
                continue
            first = bisect_left(days, start)
            middle = bisect_left(days, change, first)
            last = bisect_left(days, end, middle)
            due, on_time = due_of[service_id], on_time_of[service_id]
            total = totals.get(department_id)
            if total is None:
                total = totals[department_id] = [0, 0, 0, 0]
            total[0] += due[middle] - due[first]
            total[1] += on_time[middle] - on_time[first]
            total[2] += due[last] - due[middle]
            total[3] += on_time[last] - on_time[middle]
        province = reference.province
        for department_id, (before_due, before_on_time, after_due, after_on_time) in (
                totals.items()):
            pool = _Pool(ids_of[department_id], DueCounts(before_due, before_on_time),
                         DueCounts(after_due, after_on_time))
            reference.by_department[department_id] = pool
            province.ids.extend(pool.ids)
            province.before.due += before_due
            province.before.on_time += before_on_time
            province.after.due += after_due
            province.after.on_time += after_on_time


@dataclass
class WfaFigures:
    """Every moved service's WFA impact, and the pooled impact of each group asked for."""

    impacts: dict[int, WfaImpact]
    pooled: dict[Hashable, PooledWfaImpact | None]


def wfa_figures(
    groups: Mapping[Hashable, tuple[int | None, Iterable[int]]], now: datetime | None = None
) -> WfaFigures:
    """Compute the WFA impact of every service of some groups and each group's pooled impact.

    A group is (department id, or None for the province; its service ids). Its pooled
    comparison is chosen like a service's: a department's own on-site services first.
    """
    now = now or utc_now()
    today = wib_date(now)
    groups = {key: (department_id, list(ids)) for key, (department_id, ids) in groups.items()}
    wanted = {service_id for _d, ids in groups.values() for service_id in ids}
    catalogue = _catalogue()
    targets = []
    for service_id in sorted(wanted):
        move = latest_move(catalogue.histories.get(service_id, ()))
        if move is not None:
            before, after = windows(move.change_date, today)
            targets.append(_Target(service_id, move, before, after))
    references = _references(catalogue, targets)
    clusters = _clusters(targets, references)
    today_ids = sorted({i for first, last, ids in clusters if first <= today <= last
                        for i in ids})
    today_counts = due_counts_today(today_ids, today, now) if today_ids else {}
    index = _read_due_counts(clusters, today_counts, today)
    _pool_references(catalogue, references, index)
    histograms = _target_histograms(targets, today_counts, today) if targets else {}

    impacts: dict[int, WfaImpact] = {}
    sides: dict[int, tuple[_Target, DueCounts, DueCounts]] = {}
    for target in targets:
        service_id = target.service_id
        before = index.counts(service_id, *target.before_dates)
        after = index.counts(service_id, *target.after_dates)
        before.histogram, after.histogram = histograms[service_id]
        reference = references[(target.move.change_date, target.after_dates[1])]
        sides[service_id] = (target, before, after)
        impacts[service_id] = WfaImpact(
            **compare(
                before, after,
                reporting_since=catalogue.starts.get(service_id),
                before_dates=target.before_dates,
                after_dates=target.after_dates,
                comparison=reference.group(catalogue, catalogue.department_of[service_id]),
            ),
            service_code=catalogue.code_of[service_id],
            change_date=target.move.change_date,
            from_mode=target.move.from_mode,
            to_mode=target.move.to_mode,
            reporting_since=catalogue.starts.get(service_id),
        )

    pooled: dict[Hashable, PooledWfaImpact | None] = {}
    for key, (department_id, ids) in groups.items():
        moved = [i for i in ids if i in impacts]
        included = [i for i in moved if impacts[i].verdict != "not_enough_data"]
        pooled[key] = _pool(catalogue, department_id, moved, included, sides, references)
    return WfaFigures(impacts, pooled)


def _pool(
    catalogue: _Catalogue,
    department_id: int | None,
    moved: list[int],
    included: list[int],
    sides: dict[int, tuple[_Target, DueCounts, DueCounts]],
    references: dict[tuple[date, date], _Reference],
) -> PooledWfaImpact | None:
    """Pool the services with a verdict of one group (None when none of the group moved)."""
    if not moved:
        return None
    before, after = DueCounts(), DueCounts()
    keys = set()
    for service_id in included:
        target, service_before, service_after = sides[service_id]
        before.add(service_before)
        after.add(service_after)
        keys.add((target.move.change_date, target.after_dates[1]))
    change_date = comparison = None
    dates: dict = {}
    no_comparison_reason = "no_comparison_group"
    if len(keys) == 1:
        (key,) = keys
        reference = references[key]
        change_date = key[0]
        dates = {"before_dates": reference.before_dates, "after_dates": reference.after_dates}
        comparison = reference.group(catalogue, department_id)
    elif len(keys) > 1:
        no_comparison_reason = "different_change_dates"
    fields = compare(before, after, check_history=False, comparison=comparison,
                     no_comparison_reason=no_comparison_reason, **dates)
    if not included:
        fields["verdict_reason"] = "no_service_with_verdict"
    return PooledWfaImpact(**fields, services=len(included), services_moved=len(moved),
                           change_date=change_date)


def wfa_impacts(services: Iterable[Service], now: datetime | None = None) -> dict[int, WfaImpact]:
    """Return the WFA impact of every service that moved, by service id (a few queries)."""
    ids = [s.id for s in services]
    return wfa_figures({None: (None, ids)}, now).impacts


# One service's WFA impact --------------------------------------------------------------------


def wfa_impact_for_service(service: Service, now: datetime | None = None) -> WfaImpact | None:
    """Return a service's WFA impact, or None if it never moved to wfa or hybrid.

    The figures of :func:`wfa_figures` for one service, without reading the whole province:
    its department's services and histories first (one statement), its own days with their
    completion times (one), its department's on-site services' due counts summed by the
    database (one); the rest of the province only when the department's group has too few
    due requests, and then only the services reporting since the before window began.
    """
    department = _ServiceSet.read(_department_statement(),
                                  {"department_id": service.department_id})
    return _impact_in_department(service.id, service.department_id, department, now)


def wfa_impact_for_code(code: str, now: datetime | None = None) -> WfaImpact | None:
    """Return the WFA impact of the service of a code, as :func:`wfa_impact_for_service`.

    The service is read with its department's services (no statement of its own); raises
    NotFound when no service has the code.
    """
    department = _ServiceSet.read(_department_of_code_statement(), {"code": code})
    service_id = department.id_of.get(code)
    if service_id is None:
        raise NotFound(code)
    return _impact_in_department(service_id, department.department_id, department, now)


def _impact_in_department(
    service_id: int, department_id: int, department: _ServiceSet, now: datetime | None
) -> WfaImpact | None:
    """Return a service's WFA impact, its department's services read already."""
    now = now or utc_now()
    today = wib_date(now)
    move = latest_move(department.histories.get(service_id, ()))
    if move is None:
        return None
    before_dates, after_dates = windows(move.change_date, today)
    target = _Target(service_id, move, before_dates, after_dates)
    span = (before_dates[0], max(before_dates[1], after_dates[1]))
    today_in_span = span[0] <= today <= span[1]
    own_ids = department.onsite_ids(target)
    today_counts = due_counts_today(sorted({service_id, *own_ids}), today, now) if (
        today_in_span) else {}
    before, after = _target_sides(target, today_counts, today)
    own = _Pool(own_ids, *_pooled_sums(target, own_ids, today_counts, today))
    scope, pool, code_of = "department", own, department.code_of
    if not own.enough() and after_dates[0] <= after_dates[1]:
        pool, others = _province_pool(target, department_id, own, now, today_in_span)
        scope, code_of = "province", {**department.code_of, **others}
    comparison = comparison_group(scope, (code_of[i] for i in pool.ids), pool.before,
                                  pool.after, before_dates, after_dates) if pool.enough() else None
    start = department.starts.get(service_id)
    return WfaImpact(
        **compare(before, after, reporting_since=start, before_dates=before_dates,
                  after_dates=after_dates, comparison=comparison),
        service_code=department.code_of[service_id],
        change_date=move.change_date,
        from_mode=move.from_mode,
        to_mode=move.to_mode,
        reporting_since=start,
    )



def _province_pool(
    target: _Target, department_id: int, own: _Pool, now: datetime, today_in_span: bool
) -> tuple[_Pool, dict[int, str]]:
    """Pool the province's on-site services over the target's windows, the department's
    (``own``) included; return the pool and the other services' codes.

    What fell due today is read when today is in the windows' span.
    """
    others = _ServiceSet.read(_province_statement(), {
        "department_id": department_id, "reporting_by": target.before_dates[0]})
    other_ids = others.onsite_ids(target)
    today = wib_date(now)
    today_counts = due_counts_today(other_ids, today, now) if (
        today_in_span and other_ids) else {}
    before, after = _pooled_sums(target, other_ids, today_counts, today)
    before.add(own.before)
    after.add(own.after)
    return _Pool(own.ids + other_ids, before, after), others.code_of


@dataclass
class _ServiceSet:
    """Some services' codes, work-mode histories (as timelines) and reporting starts."""

    code_of: dict[int, str] = field(default_factory=dict)
    id_of: dict[str, int] = field(default_factory=dict)
    histories: dict[int, list[Any]] = field(default_factory=dict)
    starts: dict[int, date] = field(default_factory=dict)
    # The department of the services read (when they are one department's).
    department_id: int | None = None

    @classmethod
    def read(cls, statement: Any, values: dict) -> _ServiceSet:
        """Read the rows of a statement of :func:`_services_statement` (one per history entry,
        or one with no entry for a service without history)."""
        found = cls()
        for row in db.session.execute(statement, values):
            found.code_of[row.sid] = row.code
            found.id_of[row.code] = row.sid
            found.department_id = row.department_id
            if row.start is not None:
                found.starts[row.sid] = row.start
            if row.id is not None:
                found.histories.setdefault(row.sid, []).append(row)
        return found

    def onsite_ids(self, target: _Target) -> list[int]:
        """Return those of the services that qualify for the target's comparison group.

        The rule of :func:`_references`: reporting by the before window's first day and
        on-site on every day of both windows (none when the after window is still ahead).
        """
        first, last = target.before_dates[0], target.after_dates[1]
        if last < target.after_dates[0]:
            return []
        return sorted(
            service_id for service_id, history in self.histories.items()
            if service_id in self.starts and self.starts[service_id] <= first
            and WorkModeTimeline(history).onsite_throughout(first, last))


def _services_statement() -> Select:
    """Select services' ids, codes, reporting starts and work-mode history entries."""
    change = WorkModeChange
    first_day = (select(ServiceDay.day)
                 .where(ServiceDay.service_id == Service.id, ServiceDay.received > 0)
                 .order_by(ServiceDay.day).limit(1).scalar_subquery())
    return select(Service.id.label("sid"), Service.code, Service.department_id,
                  first_day.label("start"), change.id, change.service_id, change.work_mode,
                  change.effective_from)


@lru_cache(maxsize=1)
def _department_statement() -> Select:
    """Build the statement reading a department's services once (the department bound)."""
    change = WorkModeChange
    return _services_statement().outerjoin(change, change.service_id == Service.id).where(
        Service.department_id == bindparam("department_id"))


@lru_cache(maxsize=1)
def _department_of_code_statement() -> Select:
    """Build the statement reading the department of a service's code once (the code bound)."""
    change, asked = WorkModeChange, aliased(Service)
    department_id = select(asked.department_id).where(
        asked.code == bindparam("code")).scalar_subquery()
    return _services_statement().outerjoin(change, change.service_id == Service.id).where(
        Service.department_id == department_id)


@lru_cache(maxsize=1)
def _province_statement() -> Select:
    """Build the statement reading the other departments' services once.

    Only those with history that reported by a day (bound as ``reporting_by``): no other
    service can join a comparison group whose before window begins that day.
    """
    change = WorkModeChange
    reported = select(ServiceDay.day).where(
        ServiceDay.service_id == Service.id, ServiceDay.received > 0,
        ServiceDay.day <= bindparam("reporting_by", type_=ServiceDay.day.type)).exists()
    return _services_statement().join(change, change.service_id == Service.id).where(
        Service.department_id != bindparam("department_id"), reported)


@lru_cache(maxsize=1)
def _target_days_statement() -> Select:
    """Build the statement reading one service's due days with completion times once."""
    day = ServiceDay
    return select(day.day, day.due, day.due_on_time, day.due_completion_histogram).where(
        day.service_id == bindparam("service_id"),
        day.day >= bindparam("first_day", type_=day.day.type),
        day.day <= bindparam("last_day", type_=day.day.type),
        day.due > 0)


@lru_cache(maxsize=1)
def _sums_statement() -> Select:
    """Build the statement summing services' due and on-time counts before and after a date
    once (the ids, the date and the days bound)."""
    day = ServiceDay
    before = day.day < bindparam("change_date", type_=day.day.type)

    def total(column: Any, side: Any) -> Any:
        return func.sum(case((side, column), else_=0))

    return select(
        day.service_id, total(day.due, before), total(day.due_on_time, before),
        total(day.due, ~before), total(day.due_on_time, ~before),
    ).where(
        day.service_id.in_(bindparam("ids", expanding=True)),
        day.day >= bindparam("first_day", type_=day.day.type),
        day.day <= bindparam("last_day", type_=day.day.type),
        day.due > 0,
    ).group_by(day.service_id)


def _aggregate_days(target: _Target, today: date) -> tuple[date, date]:
    """Return the first and last day of the aggregates the target's windows read."""
    last = min(max(target.before_dates[1], target.after_dates[1]), today - timedelta(days=1))
    return target.before_dates[0], last


def _today_side(target: _Target, today: date) -> int | None:
    """Return which side today is on (0 before, 1 after), or None when on neither."""
    for side, (first, last) in enumerate((target.before_dates, target.after_dates)):
        if first <= today <= last:
            return side
    return None


def _target_sides(
    target: _Target, today_counts: Mapping[int, DueCounts], today: date
) -> tuple[DueCounts, DueCounts]:
    """Return the target's own due counts with completion times, before and after."""
    first, last = _aggregate_days(target, today)
    sides = (DueCounts(), DueCounts())
    totals: tuple[dict[str, int], dict[str, int]] = ({}, {})
    if first <= last:
        values = {"service_id": target.service_id, "first_day": first, "last_day": last}
        change_date = target.move.change_date
        for on, due, on_time, text in db.session.execute(_target_days_statement(), values):
            side = 0 if on < change_date else 1
            sides[side].due += due
            sides[side].on_time += on_time
            histogram_accumulate(totals[side], text)
    for counts, side_totals in zip(sides, totals, strict=True):
        counts.histogram = histogram_from_totals(side_totals)
    _add_today(sides, target, today_counts.get(target.service_id), today, histogram=True)
    return sides


def _add_today(sides: tuple[DueCounts, DueCounts], target: _Target, counts: DueCounts | None,
               today: date, histogram: bool = False) -> None:
    """Add what fell due today to the side of the target's windows today is on, if any."""
    side = _today_side(target, today)
    if counts is None or side is None:
        return
    sides[side].due += counts.due
    sides[side].on_time += counts.on_time
    if histogram:
        sides[side].histogram.update(counts.histogram)


def _pooled_sums(
    target: _Target, ids: list[int], today_counts: Mapping[int, DueCounts], today: date
) -> tuple[DueCounts, DueCounts]:
    """Return the pooled due counts of services over the target's windows (one statement a
    900 ids), without completion times."""
    sides = (DueCounts(), DueCounts())
    first, last = _aggregate_days(target, today)
    if ids and first <= last:
        for chunk_start in range(0, len(ids), 900):
            values = {"ids": ids[chunk_start:chunk_start + 900], "first_day": first,
                      "last_day": last, "change_date": target.move.change_date}
            for _id, before_due, before_on_time, after_due, after_on_time in db.session.execute(
                    _sums_statement(), values):
                sides[0].due += int(before_due)
                sides[0].on_time += int(before_on_time)
                sides[1].due += int(after_due)
                sides[1].on_time += int(after_on_time)
    for service_id in ids:
        _add_today(sides, target, today_counts.get(service_id), today)
    return sides
