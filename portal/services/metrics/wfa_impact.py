"""WFA impact: did a service get slower after it moved to WFA or hybrid work? (DOMAIN.md)

For a service whose work mode changed to ``wfa`` or ``hybrid`` on date S (its latest such
change in the public work-mode history), compare two metrics windows of WIB dates:

- before: S−90 … S−1 (90 days);
- after: S … S+89, cut at today when shorter (empty while S is still ahead).

Per side: ``completed``, ``completed_on_time``, ``on_time_rate`` and the median completion
hours, exactly as the service metrics define them (read from the same ``service_day``
aggregates as :func:`portal.services.metrics.figures.metrics_for_service`). The difference is
after − before with Newcombe's hybrid score interval (z = 1.959964). Verdicts:

- ``not_enough_data``: fewer than 30 completed requests on either side. No difference and
  no interval are given then, so that nothing can be read as a verdict;
- ``decline``: the whole interval lies below zero (a significant decline, flagged);
- ``improvement``: the whole interval lies above zero;
- ``no_significant_change``: the interval contains zero.

Department and province figures pool their services: counts are added side by side (each
service keeps its own date S) and the pooled medians come from the merged completion-time
histograms, never from averaging medians.

A history entry counts as a change when it has a date and its mode differs from the entry
before it; the first dated entry of a history (no older entry) counts too, with an unknown
``from_mode`` (the importer records "wfa since 1 March" as a single entry).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from portal.domain.calendar import utc_now, wib_date
from portal.domain.statistics import newcombe_difference_interval
from portal.extensions import db
from portal.models.catalogue import Service, WorkModeChange
from portal.models.metrics import ServiceDay
from portal.services.metrics.figures import MEDIAN, histogram_load, histogram_percentile

WFA_MODES = ("wfa", "hybrid")
WINDOW_DAYS = 90
MIN_COMPLETED = 30
VERDICTS = ("decline", "improvement", "no_significant_change", "not_enough_data")
_BATCH = 900


@dataclass(frozen=True)
class WorkModeMove:
    """A service's latest move to WFA or hybrid work."""

    service_id: int
    change_date: date
    from_mode: str | None
    to_mode: str


@dataclass
class SideCounts:
    """What was completed in one window: counts and the merged completion-time histogram."""

    completed: int = 0
    completed_on_time: int = 0
    histogram: Counter[int] = field(default_factory=Counter)

    def add(self, other: SideCounts) -> None:
        """Pool another window's counts and histogram into this one."""
        self.completed += other.completed
        self.completed_on_time += other.completed_on_time
        self.histogram.update(other.histogram)


@dataclass(frozen=True)
class SideFigures:
    """One side (before or after) of a comparison, as shown."""

    from_date: date | None
    to_date: date | None
    completed: int
    completed_on_time: int
    on_time_rate: float | None
    median_completion_hours: float | None

    @classmethod
    def of(cls, counts: SideCounts, from_date: date | None = None,
           to_date: date | None = None) -> SideFigures:
        """Turn counts into figures (rate None when nothing was completed)."""
        seconds = histogram_percentile(counts.histogram, MEDIAN)
        return cls(
            from_date=from_date,
            to_date=to_date,
            completed=counts.completed,
            completed_on_time=counts.completed_on_time,
            on_time_rate=(counts.completed_on_time / counts.completed) if counts.completed
            else None,
            median_completion_hours=None if seconds is None else seconds / 3600,
        )

    def as_json(self) -> dict:
        """Return the API's side object (rate to 0.0001, hours to 0.01)."""
        return {
            "completed": self.completed,
            "completed_on_time": self.completed_on_time,
            "on_time_rate": _round(self.on_time_rate, 4),
            "median_completion_hours": _round(self.median_completion_hours, 2),
        }


@dataclass(frozen=True)
class Comparison:
    """Before against after, with the difference, its interval and the verdict."""

    before: SideFigures
    after: SideFigures
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str

    def figures_json(self) -> dict:
        """Return the comparison's part of the API object."""
        return {
            "before": self.before.as_json(),
            "after": self.after.as_json(),
            "difference": _round(self.difference, 4),
            "ci_low": _round(self.ci_low, 4),
            "ci_high": _round(self.ci_high, 4),
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class WfaImpact(Comparison):
    """The WFA impact of one service."""

    service_code: str = ""
    change_date: date | None = None
    from_mode: str | None = None
    to_mode: str = ""

    def as_json(self) -> dict:
        """Return exactly the object of GET /api/v1/services/CODE/wfa-impact."""
        return {
            "change_date": self.change_date.isoformat() if self.change_date else None,
            "from_mode": self.from_mode,
            "to_mode": self.to_mode,
            **self.figures_json(),
        }


@dataclass(frozen=True)
class PooledWfaImpact(Comparison):
    """The WFA impact of a group of services (a department, the province), pooled."""

    services: int = 0

    def as_json(self) -> dict:
        """Return the pooled object of the accountability API."""
        return {"services": self.services, **self.figures_json()}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def compare(before: SideCounts, after: SideCounts,
            before_dates: tuple[date | None, date | None] = (None, None),
            after_dates: tuple[date | None, date | None] = (None, None)) -> dict:
    """Apply DOMAIN.md's rule to two windows' counts; return the Comparison fields."""
    if before.completed < MIN_COMPLETED or after.completed < MIN_COMPLETED:
        difference = low = high = None
        verdict = "not_enough_data"
    else:
        interval = newcombe_difference_interval(
            after.completed_on_time, after.completed, before.completed_on_time, before.completed
        )
        difference, low, high = interval.estimate, interval.low, interval.high
        if high < 0:
            verdict = "decline"
        elif low > 0:
            verdict = "improvement"
        else:
            verdict = "no_significant_change"
    return {
        "before": SideFigures.of(before, *before_dates),
        "after": SideFigures.of(after, *after_dates),
        "difference": difference,
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict,
    }


def latest_move(history: Iterable[WorkModeChange]) -> WorkModeMove | None:
    """Return the latest dated change to wfa or hybrid in one service's history, or None."""
    entries = sorted(
        history,
        key=lambda c: (c.effective_from is not None, c.effective_from or date.min, c.id or 0),
    )
    found = None
    previous_mode: str | None = None
    for entry in entries:
        if (entry.effective_from is not None and entry.work_mode in WFA_MODES
                and entry.work_mode != previous_mode):
            found = WorkModeMove(entry.service_id, entry.effective_from, previous_mode,
                                 entry.work_mode)
        previous_mode = entry.work_mode
    return found


def windows(change_date: date, today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """Return ((before from, to), (after from, to)); the after side ends today at the latest.

    While the change is still ahead, the after window is empty (its end precedes its start).
    """
    before = (change_date - timedelta(days=WINDOW_DAYS), change_date - timedelta(days=1))
    after_end = min(change_date + timedelta(days=WINDOW_DAYS - 1), today)
    return before, (change_date, after_end)


def moves_for(service_ids: Iterable[int]) -> dict[int, WorkModeMove]:
    """Return each service's latest move to wfa or hybrid (one query per 900 services)."""
    ids = list(service_ids)
    by_service: dict[int, list[WorkModeChange]] = defaultdict(list)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        stmt = select(WorkModeChange).where(WorkModeChange.service_id.in_(batch))
        for change in db.session.scalars(stmt):
            by_service[change.service_id].append(change)
    moves = {}
    for service_id, history in by_service.items():
        move = latest_move(history)
        if move is not None:
            moves[service_id] = move
    return moves


@dataclass
class _ServiceSides:
    move: WorkModeMove
    before_dates: tuple[date, date]
    after_dates: tuple[date, date]
    before: SideCounts = field(default_factory=SideCounts)
    after: SideCounts = field(default_factory=SideCounts)


def _sides_for(service_ids: Iterable[int], today: date) -> dict[int, _ServiceSides]:
    """Count every moved service's before and after windows from the daily aggregates.

    Two queries in all (histories, then the day rows of the span all windows cover), split
    per service and side in Python.
    """
    moves = moves_for(service_ids)
    sides = {}
    for service_id, move in moves.items():
        before, after = windows(move.change_date, today)
        sides[service_id] = _ServiceSides(move, before, after)
    if not sides:
        return sides
    first = min(s.before_dates[0] for s in sides.values())
    last = max(max(s.after_dates[1], s.before_dates[1]) for s in sides.values())
    ids = sorted(sides)
    for start in range(0, len(ids), _BATCH):
        stmt = select(
            ServiceDay.service_id, ServiceDay.day, ServiceDay.completed,
            ServiceDay.completed_on_time, ServiceDay.completion_histogram,
        ).where(
            ServiceDay.service_id.in_(ids[start:start + _BATCH]),
            ServiceDay.day >= first,
            ServiceDay.day <= last,
            ServiceDay.completed > 0,
        )
        for service_id, day, completed, on_time, histogram in db.session.execute(stmt):
            side = sides[service_id]
            if side.before_dates[0] <= day <= side.before_dates[1]:
                target = side.before
            elif side.after_dates[0] <= day <= side.after_dates[1]:
                target = side.after
            else:
                continue
            target.completed += completed
            target.completed_on_time += on_time
            target.histogram.update(histogram_load(histogram))
    return sides


def _impact(service: Service, side: _ServiceSides) -> WfaImpact:
    return WfaImpact(
        **compare(side.before, side.after, side.before_dates, side.after_dates),
        service_code=service.code,
        change_date=side.move.change_date,
        from_mode=side.move.from_mode,
        to_mode=side.move.to_mode,
    )


def _today(today: date | None) -> date:
    return today or wib_date(utc_now())


def wfa_impact_for_service(service: Service, today: date | None = None) -> WfaImpact | None:
    """Return a service's WFA impact, or None if it never moved to wfa or hybrid."""
    side = _sides_for([service.id], _today(today)).get(service.id)
    return None if side is None else _impact(service, side)


def wfa_impacts(services: Iterable[Service], today: date | None = None) -> dict[int, WfaImpact]:
    """Return the WFA impact of every service that moved, by service id (two queries)."""
    services = list(services)
    sides = _sides_for([s.id for s in services], _today(today))
    return {s.id: _impact(s, sides[s.id]) for s in services if s.id in sides}


def _pool(sides: Iterable[_ServiceSides]) -> PooledWfaImpact | None:
    before, after = SideCounts(), SideCounts()
    count = 0
    for side in sides:
        before.add(side.before)
        after.add(side.after)
        count += 1
    if not count:
        return None
    return PooledWfaImpact(**compare(before, after), services=count)


def wfa_impact_pooled(
    services: Iterable[Service], today: date | None = None
) -> PooledWfaImpact | None:
    """Pool the WFA impact of some services (None when none of them moved)."""
    services = list(services)
    return _pool(_sides_for([s.id for s in services], _today(today)).values())


def wfa_impact_pooled_by(
    groups: Mapping[Hashable, Iterable[int]], today: date | None = None
) -> dict[Hashable, PooledWfaImpact | None]:
    """Pool the WFA impact per group of service ids (e.g. per department), in two queries."""
    groups = {key: list(ids) for key, ids in groups.items()}
    all_ids = {i for ids in groups.values() for i in ids}
    sides = _sides_for(all_ids, _today(today))
    return {key: _pool(sides[i] for i in ids if i in sides) for key, ids in groups.items()}
