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
catalogue's services and work-mode histories, the reporting starts, one read of the daily due
and on-time counts per cluster of overlapping windows (usually one; each service's from the
first to the last day of the windows it is read for, a statement per hundred services), kept
per service as running totals a day each so that a window's sum is two look-ups and a group's
two sums, and one read of the completion-time histograms limited to the moved services' own
windows (a comparison group shows no median, so its histograms are never read). These reads
take the driver's rows as they come: SQLAlchemy's rows would cost several times more.
Comparison groups are pooled when asked, per department and for the province. Each
service's work-mode history is ordered once into spans (:class:`WorkModeTimeline`), and the
services on-site since before their records began qualify for a comparison group by their
reporting start alone.

One service's impact (the API's, :func:`wfa_impact_for_code`) reads less: its department's
services, its own days, and its department's comparison group's counts summed by the
database; the rest of the province only when that group has too few due requests.

A history entry counts as a change when it has a date and its mode differs from the entry
before it; the first dated entry of a history (no older entry) counts too, with an unknown
``from_mode`` (the importer records "wfa since 1 March" as a single entry).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from operator import itemgetter
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
    histogram_texts_flat,
    histogram_totals,
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
    """Running totals of services' due and on-time counts over one span of days, a day each.

    Entry k of a service's totals counts the span's days before its first day + k, so the sum
    over a run of days is the difference of two entries found by position (no search), and a
    group's sum is two sums of entries. A service's days outside those it needs are not read
    (left at 0): no window it is asked about includes them.
    """

    def __init__(self, first: date, last: date, today: date) -> None:
        self.first, self.last = first, last
        self._base = first.toordinal()
        self.length = last.toordinal() - self._base + 1
        # Where today is, when in the span: what fell due today so far is counted there.
        self.today_at = self.offset(today) if first <= today <= last else None
        self.due: dict[int, array] = {}
        self.on_time: dict[int, array] = {}

    def covers(self, first: date, last: date) -> bool:
        """Tell whether first..last lies within the span."""
        return self.first <= first and last <= self.last

    def offset(self, day: date) -> int:
        """Return the position of a day of the span (or of the day after it)."""
        return day.toordinal() - self._base

    def add(self, service_id: int, due: list[int], on_time: list[int],
            today: DueCounts | None = None) -> None:
        """Keep a service's due and on-time counts of each day of the span as running totals,
        with what fell due today (when today is in the span) in place of today's."""
        if today is not None and self.today_at is not None:
            due[self.today_at] = today.due
            on_time[self.today_at] = today.on_time
        self.due[service_id] = _running_totals(due)
        self.on_time[service_id] = _running_totals(on_time)

    def counts(self, service_id: int, first: date, last: date) -> DueCounts:
        """Return due and on-time counts of a service over first..last (no histogram)."""
        due = self.due.get(service_id)
        if last < first or due is None:
            return DueCounts()
        on_time = self.on_time[service_id]
        start, end = self.offset(first), self.offset(last) + 1
        return DueCounts(due[end] - due[start], on_time[end] - on_time[start])

    def pooled(self, ids: Iterable[int], first: date, change: date,
               last: date) -> tuple[DueCounts, DueCounts]:
        """Return services' pooled due and on-time counts over first..change−1 and
        change..last."""
        positions = (self.offset(first), self.offset(change), self.offset(last) + 1)
        found = []
        for totals_of in (self.due, self.on_time):
            totals = [totals_of[i] for i in ids if i in totals_of]
            start, middle, end = (sum(map(itemgetter(p), totals)) for p in positions)
            found.append((middle - start, end - middle))
        (before_due, after_due), (before_on_time, after_on_time) = found
        return DueCounts(before_due, before_on_time), DueCounts(after_due, after_on_time)


def _running_totals(counts: list[int]) -> array:
    """Return the running totals of counts, from 0 (4 bytes an entry when they fit)."""
    totals = list(accumulate(counts, initial=0))  # an array is filled faster from a list
    try:
        return array("i", totals)
    except OverflowError:
        return array("q", totals)


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
    """The on-site services of one pair of windows, pooled when asked: per department and in
    all, each pool once."""

    before_dates: tuple[date, date]
    after_dates: tuple[date, date]
    ids: list[int]
    # The due counts of the span of days the windows lie in (set once read).
    index: _DueIndex | None = None
    # Pools by department id (None: the province's), and comparison groups by the department
    # asking (None: the province asking).
    pools: dict[int | None, _Pool] = field(default_factory=dict)
    groups: dict[int | None, ComparisonGroup | None] = field(default_factory=dict)

    def pool(self, catalogue: _Catalogue, department_id: int | None) -> _Pool:
        """Return the pooled counts of a department's services (None: all of them)."""
        pool = self.pools.get(department_id)
        if pool is None:
            ids = self.ids if department_id is None else [
                i for i in self.ids if catalogue.department_of[i] == department_id]
            pool = _Pool(ids)
            if ids and self.index is not None:
                pool.before, pool.after = self.index.pooled(
                    ids, self.before_dates[0], self.after_dates[0], self.after_dates[1])
            self.pools[department_id] = pool
        return pool

    def group(self, catalogue: _Catalogue, department_id: int | None) -> ComparisonGroup | None:
        """Return the department's group when it has enough, else the province's, or None."""
        if department_id in self.groups:
            return self.groups[department_id]
        found = None
        scopes = [("province", None)]
        if department_id is not None:
            scopes.insert(0, ("department", department_id))
        for scope, key in scopes:
            pool = self.pool(catalogue, key)
            if pool.enough():
                found = comparison_group(scope, (catalogue.code_of[i] for i in pool.ids),
                                         pool.before, pool.after, self.before_dates,
                                         self.after_dates)
                break
        self.groups[department_id] = found
        return found


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
) -> list[tuple[date, date, dict[int, tuple[date, date]]]]:
    """Return the spans of days to read, one per cluster of overlapping windows, in order,
    each with the days each of its services needs: from the first to the last day of the
    windows it is read for (its own, and those whose comparison group it may join).

    Moves usually cluster around a policy date, so this is one span; moves years apart do not
    make every service's whole history between them be read.
    """
    spans: dict[tuple[date, date], tuple[date, date, list[int], list[int]]] = {}
    for target in targets:
        key = (target.move.change_date, target.after_dates[1])
        if key not in spans:
            spans[key] = (target.before_dates[0],
                          max(target.before_dates[1], target.after_dates[1]),
                          references[key].ids, [])
        spans[key][3].append(target.service_id)
    clusters: list[list] = []
    for first, last, ids, moved in sorted(spans.values(), key=lambda span: span[:2]):
        if clusters and first <= clusters[-1][1] + timedelta(days=1):
            clusters[-1][1] = max(clusters[-1][1], last)
            clusters[-1][2].append((first, last, ids, moved))
        else:
            clusters.append([first, last, [(first, last, ids, moved)]])
    found = []
    for first, last, cluster_spans in clusters:
        # A later change date never gives an earlier last day (both windows' ends follow it),
        # so the spans in order of their first days are in order of their last days too: the
        # last span naming a service gives its last day, the first its first day.
        last_of: dict[int, date] = {}
        for _first, span_last, ids, moved in cluster_spans:
            last_of.update(dict.fromkeys(ids, span_last))
            last_of.update(dict.fromkeys(moved, span_last))
        first_of: dict[int, date] = {}
        for span_first, _last, ids, moved in reversed(cluster_spans):
            first_of.update(dict.fromkeys(ids, span_first))
            first_of.update(dict.fromkeys(moved, span_first))
        found.append((first, last, {i: (first_of[i], last_of[i]) for i in last_of}))
    return found


# Rows taken at a time from the driver's cursor.
_FETCH_ROWS = 5000
# Services whose days one statement reads: the driver holds a statement's rows until they are
# taken (a client-side cursor: far cheaper than streaming from the server), so a few tens of
# thousands at a time.
_SERVICES_PER_READ = 100
# Window ranges (each one IN list and two dates) per statement of the histogram read.
_RANGES_PER_STATEMENT = 100


def _driver_rows(statement: Select, values: dict | None = None) -> Iterator[list[tuple]]:
    """Yield a statement's rows in batches as the database driver returns them: plain tuples.

    A read of hundreds of thousands of rows costs several times more as SQLAlchemy's rows;
    the driver's values are those of the columns' database types (see :class:`_DayOrdinals`).
    """
    result = db.session.connection().execute(statement, values)
    try:
        cursor = result.cursor
        while rows := cursor.fetchmany(_FETCH_ROWS):
            yield rows
    finally:
        result.close()


class _DayOrdinals(dict):
    """The ordinals of days as the database driver returns them (dates; texts on SQLite),
    each converted once, by the date column's own conversion."""

    def __init__(self) -> None:
        super().__init__()
        dialect = db.session.connection().dialect
        self._convert = ServiceDay.day.type.dialect_impl(dialect).result_processor(dialect,
                                                                                   None)

    def __missing__(self, raw: Any) -> int:
        day = raw if self._convert is None else self._convert(raw)
        self[raw] = ordinal = day.toordinal()
        return ordinal


def _read_due_counts(
    clusters: list[tuple[date, date, dict[int, tuple[date, date]]]],
    today_counts: Mapping[int, DueCounts], today: date,
) -> list[_DueIndex]:
    """Read the due and on-time counts of the days each service needs, histograms left out:
    one index per cluster, in the clusters' order.

    Days before today come from the aggregates; today (what fell due so far) from
    ``today_counts``, read from the requests.
    """
    indexes = []
    ordinals = _DayOrdinals()
    last_aggregate_day = today - timedelta(days=1)
    for first, last, needs in clusters:
        index = _DueIndex(first, last, today)
        indexes.append(index)
        base = first.toordinal()
        zeros = [0] * index.length
        ordered = sorted(needs)
        for chunk_start in range(0, len(ordered), _SERVICES_PER_READ):
            chunk = ordered[chunk_start:chunk_start + _SERVICES_PER_READ]
            ranges: dict[tuple[date, date], list[int]] = defaultdict(list)
            for service_id in chunk:
                need_first, need_last = needs[service_id]
                need_last = min(need_last, last_aggregate_day)
                if need_first <= need_last:
                    ranges[(need_first, need_last)].append(service_id)
            # Each day's counts go to their place, so the rows may come in any order (the
            # database need not sort them).
            due_of = {service_id: zeros.copy() for service_id in chunk}
            on_time_of = {service_id: zeros.copy() for service_id in chunk}
            if ranges:
                values = _ranges_values(ranges.items())
                for rows in _driver_rows(_days_statement("counts", len(ranges)), values):
                    for service_id, day, due, on_time in rows:
                        at = ordinals[day] - base
                        due_of[service_id][at] = due
                        on_time_of[service_id][at] = on_time
            for service_id in chunk:
                index.add(service_id, due_of[service_id], on_time_of[service_id],
                          today_counts.get(service_id))
    return indexes


def _ranges_values(ranges: Iterable[tuple[tuple[date, date], list[int]]]) -> dict:
    """Return the values of :func:`_days_statement` for some ranges of days and their ids."""
    values: dict = {}
    for n, ((first, last), ids) in enumerate(ranges):
        values[f"ids_{n}"], values[f"first_{n}"], values[f"last_{n}"] = ids, first, last
    return values


# A statement per kind and number of ranges: at most _RANGES_PER_STATEMENT numbers of each.
@lru_cache(maxsize=2 * _RANGES_PER_STATEMENT)
def _days_statement(columns: str, ranges: int) -> Select:
    """Build the statement reading services' days with requests due in some ranges of days
    once per kind and number of ranges: their due and on-time ``counts`` or their completion
    times (``histograms``). Range n's ids and days are bound as ``ids_n``, ``first_n`` and
    ``last_n``.

    The values are written into the statement's text: the driver prepares a statement run
    often (every chunk of a read has the same text when bound), and PostgreSQL's generic plan
    of a prepared IN list reads these rows at about twice the cost of a plan for the values.
    """
    day = ServiceDay
    selected = ((day.due, day.due_on_time) if columns == "counts"
                else (day.due_completion_histogram,))

    def bound(name: str) -> Any:
        return bindparam(name, type_=day.day.type, literal_execute=True)

    return select(day.service_id, day.day, *selected).where(
        or_(*(and_(day.service_id.in_(bindparam(f"ids_{n}", expanding=True,
                                                literal_execute=True)),
                   day.day >= bound(f"first_{n}"), day.day <= bound(f"last_{n}"))
              for n in range(ranges))),
        day.due > 0)


def _histogram_of(texts: list[str]) -> Counter[int]:
    """Return the histogram stored histograms count together, as
    ``histogram_from_totals(histogram_totals(texts))`` does, for less.

    The texts' keys and counts are read at once (:func:`histogram_texts_flat`); texts whose
    keys or counts are not whole numbers written plainly take the long way.
    """
    if not texts:
        return Counter()
    flat = histogram_texts_flat(texts)
    if flat is None:
        return histogram_from_totals(histogram_totals(texts))
    merged: dict[int, int] = {}
    get = merged.get
    for key, count in zip(flat[0::2], flat[1::2], strict=True):
        merged[key] = get(key, 0) + count
    return Counter(merged)


def _index_of(indexes: list[_DueIndex], day: date) -> _DueIndex | None:
    """Return the index whose span holds a day (spans are disjoint and in order), or None."""
    found = bisect_right([index.first for index in indexes], day) - 1
    if found >= 0 and indexes[found].covers(day, day):
        return indexes[found]
    return None


def _target_histograms(
    targets: list[_Target], today_counts: Mapping[int, DueCounts], today: date,
) -> dict[int, tuple[Counter[int], Counter[int]]]:
    """Return the completion times of each moved service's due requests, before and after.

    Only the moved services' own windows are read with their histograms: a comparison group
    shows no median. Each side's stored histograms are added up in one parse.
    """
    ranges: dict[tuple[date, date], list[int]] = defaultdict(list)
    for target in targets:
        first = target.before_dates[0]
        last = min(max(target.before_dates[1], target.after_dates[1]),
                   today - timedelta(days=1))
        if first <= last:
            ranges[(first, last)].append(target.service_id)
    change_at = {t.service_id: t.move.change_date.toordinal() for t in targets}
    texts: dict[int, tuple[list[str], list[str]]] = {t.service_id: ([], []) for t in targets}
    ordinals = _DayOrdinals()
    items = sorted(ranges.items())
    for chunk_start in range(0, len(items), _RANGES_PER_STATEMENT):
        chunk = items[chunk_start:chunk_start + _RANGES_PER_STATEMENT]
        for rows in _driver_rows(_days_statement("histograms", len(chunk)),
                                 _ranges_values(chunk)):
            for service_id, day, text in rows:
                if text and text != "{}":
                    texts[service_id][ordinals[day] >= change_at[service_id]].append(text)
    found = {}
    for target in targets:
        before, after = (_histogram_of(side_texts) for side_texts in texts[target.service_id])
        counts = today_counts.get(target.service_id)
        if counts is not None:
            for (first, last), histogram in ((target.before_dates, before),
                                             (target.after_dates, after)):
                if first <= today <= last:
                    histogram.update(counts.histogram)
        found[target.service_id] = (before, after)
    return found


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
    today_ids = sorted({i for first, last, needs in clusters if first <= today <= last
                        for i in needs})
    today_counts = due_counts_today(today_ids, today, now) if today_ids else {}
    indexes = _read_due_counts(clusters, today_counts, today)
    for reference in references.values():
        reference.index = _index_of(indexes, reference.before_dates[0])
    histograms = _target_histograms(targets, today_counts, today) if targets else {}

    impacts: dict[int, WfaImpact] = {}
    sides: dict[int, tuple[_Target, DueCounts, DueCounts]] = {}
    for target in targets:
        service_id = target.service_id
        reference = references[(target.move.change_date, target.after_dates[1])]
        index = reference.index
        before, after = (DueCounts() if index is None else index.counts(service_id, *dates)
                         for dates in (target.before_dates, target.after_dates))
        before.histogram, after.histogram = histograms[service_id]
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
