"""A service page's figures beyond its 30-day status: the 90-day window, the daily bar and the
WFA trend, computed with the status and stored beside it.

A service page shows one picture as of its status evaluation (``computed_at``): the 30-day
figures the status was judged on, and the 90-day figures, the 90 days of the daily bar and the
weeks of the WFA trend, all ending on the same WIB day and counting backlog at the same
instant. ``status_store`` evaluates them for every service it evaluates, at that instant, with
a fixed number of statements for all of them (:func:`page_figures_many`), and stores them as
JSON in ``service_page_figures`` (a row per service, beside its ``service_status`` row): the
page then reads one row instead of up to 546 days and 90 completion-time histograms.

The stored figures are the ones the page would compute at that instant (a test compares them
with :class:`~portal.services.metrics.figures.ServiceDays`), under one proviso the page checks
(:func:`page_figures_decode`): the WFA trend is drawn around the service's latest move as its
history gives it, so figures stored around another move (a work-mode change recorded since the
evaluation) are not used; nor are figures of another format or of another day.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models.catalogue import Service, WorkModeChange
from portal.models.metrics import ServiceDay
from portal.services.metrics.figures import (
    DayPoint,
    DueCounts,
    ServiceDays,
    ServiceMetrics,
    due_counts_today,
    fallen_due_columns,
)
from portal.services.metrics.wfa_impact import WorkModeMove, latest_move

# The longer window a service page shows beside the status's 30 days, in days ending on its
# anchor day; the daily bar's days.
LONG_WINDOW_DAYS = 90
DAILY_BAR_DAYS = 90
# The WFA trend: weekly buckets from 13 weeks before the move, at most 78 weeks in all, so
# the page reads at most 546 daily rows whatever the length of history.
TREND_WEEKS_BEFORE = 13
TREND_MAX_WEEKS = 78
# The stored JSON's layout: figures stored in another one are computed afresh.
PAGE_FIGURES_FORMAT = 1
# Services per IN (...) list: well under every database's bound-parameter limit.
_CHUNK = 900


class TrendWeek(NamedTuple):
    """One bucket (up to 7 WIB days) of the WFA trend.

    A named tuple: a trend has up to 78 weeks, made on every view of the page and hashed by
    the memo of their sentences (portal/web/charts.py).
    """

    first_day: date
    last_day: date
    due: int
    on_time: int
    on_time_rate: float | None
    after_move: bool


@dataclass(frozen=True)
class WfaTrend:
    """Weekly on-time rates around a service's latest move to WFA or hybrid work."""

    mode: str
    moved_on: date
    weeks: list[TrendWeek]
    starts_after_move: bool


def trend_start(move: WorkModeMove | None, end: date) -> date | None:
    """Return the first day of the WFA trend ending on ``end`` (None: no trend to show).

    Weeks are aligned on the move date, so no week mixes days before and after it; the
    trend starts 13 weeks before the move, or on the first aligned day of its 78 weeks.
    """
    if move is None or move.change_date > end:
        return None
    moved_on = move.change_date
    earliest = end - timedelta(days=7 * TREND_MAX_WEEKS - 1)
    # A move long ago (even a stored date on the calendar's first days) starts at ``earliest``.
    before = timedelta(days=7 * TREND_WEEKS_BEFORE)
    start = moved_on - before if moved_on - date.min >= before else date.min
    if start < earliest:
        # Keep the weeks aligned on the move: start on the first aligned day in range.
        weeks_late = -(-(earliest - moved_on).days // 7)
        start = moved_on + timedelta(days=7 * weeks_late)
    return start


def _trend_from_spans(
    move: WorkModeMove, start: date, spans: Iterable[tuple[date, date, int, int]]
) -> WfaTrend:
    """Make the trend of weekly (first day, last day, due, on time) spans from ``start``."""
    moved_on = move.change_date
    weeks = [TrendWeek(first_day, last_day, due, on_time, on_time / due if due else None,
                       first_day >= moved_on)
             for first_day, last_day, due, on_time in spans]
    return WfaTrend(mode=move.to_mode, moved_on=moved_on, weeks=weeks,
                    starts_after_move=start > moved_on)


def wfa_trend(move: WorkModeMove, start: date, end: date, days: ServiceDays) -> WfaTrend:
    """Sum the days from ``start`` to ``end`` into weeks aligned on the move (the last week
    may be shorter)."""
    return _trend_from_spans(move, start, days.due_by_span(start, end, 7))


@dataclass(frozen=True)
class PageFigures:
    """A service page's figures beyond its status, as of one instant."""

    # The long window's metrics: the API's metrics object and its length, "days".
    window: dict
    daily: list[DayPoint]
    trend: WfaTrend | None


def _move_key(move: WorkModeMove | None) -> list | None:
    """Return what the trend depends on of a move: its date and the mode moved to."""
    return None if move is None else [move.change_date.isoformat(), move.to_mode]


def page_figures_encode(
    window: dict, days: ServiceDays, as_of: datetime, move: WorkModeMove | None
) -> str:
    """Encode a page's figures as of an instant (the window's metrics as given, the daily
    bar's and the trend's days from ``days``) as the JSON stored with the status."""
    end = wib_date(as_of)
    first_daily = end - timedelta(days=DAILY_BAR_DAYS - 1)
    start = trend_start(move, end)
    weeks = ([[due, on_time] for _first, _last, due, on_time in days.due_by_span(start, end, 7)]
             if start is not None else None)
    return json.dumps({
        "format": PAGE_FIGURES_FORMAT,
        "as_of": as_of.isoformat(),
        "window": window,
        "daily": [[p.received, p.completed, p.due, p.on_time]
                  for p in days.points(first_daily, end)],
        "move": _move_key(move),
        "trend_start": None if start is None else start.isoformat(),
        "weeks": weeks,
    }, separators=(",", ":"))


def page_figures_decode(
    stored: str | None, as_of: datetime, move: WorkModeMove | None
) -> PageFigures | None:
    """Return the figures stored as of ``as_of`` (the status's evaluation) whose trend is
    drawn around ``move`` (the service's latest move now), or None when they cannot be used:
    none stored, another format, another instant (a status written without them), or
    another move."""
    if not stored:
        return None
    data = json.loads(stored)
    end = wib_date(as_of)
    start = trend_start(move, end)
    if (data.get("format") != PAGE_FIGURES_FORMAT or data.get("as_of") != as_of.isoformat()
            or data.get("move") != _move_key(move) or len(data["daily"]) != DAILY_BAR_DAYS
            or data["trend_start"] != (None if start is None else start.isoformat())):
        # Stored under other rules (a change of the bar's or the trend's length must also
        # change PAGE_FIGURES_FORMAT, as must a change of the metrics' definitions).
        return None
    first = (end - timedelta(days=DAILY_BAR_DAYS - 1)).toordinal()
    new, day = tuple.__new__, date.fromordinal
    daily = [new(DayPoint, (day(first + i), received, completed, due, on_time,
                            on_time / due if due else None))
             for i, (received, completed, due, on_time) in enumerate(data["daily"])]
    trend = None
    if move is not None and start is not None:
        base, last = start.toordinal(), end.toordinal()
        spans = ((day(base + 7 * i), day(min(base + 7 * i + 6, last)), due, on_time)
                 for i, (due, on_time) in enumerate(data["weeks"]))
        trend = _trend_from_spans(move, start, spans)
    return PageFigures(window=data["window"], daily=daily, trend=trend)


def _moves(ids: list[int]) -> dict[int, WorkModeMove | None]:
    """Return each service's latest move by its work-mode history (one statement a chunk)."""
    histories: dict[int, list[WorkModeChange]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        stmt = select(WorkModeChange).where(WorkModeChange.service_id.in_(chunk))
        for change in db.session.scalars(stmt):
            histories[change.service_id].append(change)
    return {i: latest_move(histories.get(i, ())) for i in ids}


@lru_cache(maxsize=1)
def _days_statement() -> Select:
    """Build the statement of many services' days once (its values bound when it runs): the
    columns the daily bar and the trend read, what fell due as ``ServiceDays.read`` reads
    it."""
    day = ServiceDay.__table__.c
    return select(
        day.service_id, day.day, day.received, day.completed,
        *fallen_due_columns(day.due, day.due_on_time),
    ).where(day.service_id.in_(bindparam("ids", expanding=True)),
            day.day >= bindparam("first_day", type_=day.day.type),
            day.day <= bindparam("last_day", type_=day.day.type))


def page_figures_many(
    services: Iterable[Service], now: datetime, windows: Mapping[int, ServiceMetrics],
    due_today: Mapping[int, DueCounts] | None = None,
) -> dict[int, str]:
    """Compute and encode the page figures of many services as of ``now``, by service id.

    ``windows`` holds each service's metrics over the long window ending today (from
    ``metrics_for_services``). The days are read for all services at once: the daily bar's
    for every service, the trend's older days only for the services that have a trend.
    What fell due today is counted from the requests, as ``ServiceDays.read`` counts it
    (``due_today``: as ``due_counts_today`` gives it, when the caller has read it).
    """
    services = list(services)
    if not services:
        return {}
    end = wib_date(now)
    ids = sorted({s.id for s in services})
    moves = _moves(ids)
    starts = {i: trend_start(moves[i], end) for i in ids}
    first_daily = end - timedelta(days=DAILY_BAR_DAYS - 1)
    # (received, completed, due, on time) by service and day.
    days: dict[int, dict[date, tuple[int, int, int, int]]] = defaultdict(dict)
    # The services with a trend reaching before the daily bar, and the others.
    long_ids = [i for i in ids if starts[i] is not None and starts[i] < first_daily]
    long_set = set(long_ids)
    short_ids = [i for i in ids if i not in long_set]
    groups = [(short_ids, first_daily)]
    if long_ids:
        groups.append((long_ids, min(starts[i] for i in long_ids)))
    for group, first_day in groups:
        for start in range(0, len(group), _CHUNK):
            values: dict[str, Any] = {"ids": group[start:start + _CHUNK], "first_day": first_day,
                                      "last_day": end, "today": end}
            for service_id, on, received, completed, due, on_time in db.session.execute(
                    _days_statement(), values):
                days[service_id][on] = (received, completed, due, on_time)
    if due_today is None:
        due_today = due_counts_today(ids, end, now)
    for service_id, counts in due_today.items():
        if counts.due:
            received, completed, _due, _on_time = days[service_id].get(end, (0, 0, 0, 0))
            days[service_id][end] = (received, completed, counts.due, counts.on_time)
    found: dict[int, str] = {}
    for service in services:
        start = starts[service.id]
        first_day = min(first_daily, start) if start is not None else first_daily
        read = ServiceDays.from_counts(service, first_day, end, now, days.get(service.id, {}))
        window = {**windows[service.id].as_json(), "days": LONG_WINDOW_DAYS}
        found[service.id] = page_figures_encode(window, read, now, moves[service.id])
    return found


__all__ = [
    "DAILY_BAR_DAYS",
    "LONG_WINDOW_DAYS",
    "PageFigures",
    "TrendWeek",
    "WfaTrend",
    "page_figures_decode",
    "page_figures_encode",
    "page_figures_many",
    "trend_start",
    "wfa_trend",
]
