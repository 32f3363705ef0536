"""WIB time helpers and the working-day calendar (docs/definitions.md, "Time").

Every "day" here is a WIB (``Asia/Jakarta``, UTC+7, no daylight saving) calendar day.
Timestamps are aware datetimes; naive datetimes are rejected everywhere with ``ValueError``.
Deadlines are returned as aware UTC datetimes.

A working day is a Monday to Friday that is not a holiday. Holidays are the dates that the
``holidays`` package gives for Indonesia with categories ``("public", "government")`` (national
holidays and *cuti bersama*), plus the administrator's extra non-working days, minus the dates
the administrator marks as working days. Note that, following that definition literally, marking
a Saturday or Sunday as a working day has no effect: it removes the date from the holidays, but
it is still not a Monday to Friday.

This module is pure: no Flask, no database. A ``WorkingCalendar`` is immutable after
construction and safe to share between threads (its internal caches are only ever filled with
values that do not depend on timing, so a race at worst computes a value twice).
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DEADLINE_UNITS",
    "DEFAULT_EXTRA_NAME",
    "UTC",
    "WIB",
    "WorkingCalendar",
    "to_wib",
    "utc_now",
    "wib_date",
    "wib_midnight",
]

WIB = ZoneInfo("Asia/Jakarta")
UTC = timezone.utc  # noqa: UP017  (the public name the rest of the portal imports)

DEADLINE_UNITS: tuple[str, ...] = ("working_days", "hours")
"""The units a commitment or a feedback deadline may be expressed in."""

DEFAULT_EXTRA_NAME = "Hari libur tambahan"
"""Name shown for an administrator's extra non-working day recorded without a name."""

_HOLIDAY_CATEGORIES = ("public", "government")
_ONE_DAY = timedelta(days=1)


# The smallest step of a stored timestamp: "the last instant before" a deadline.
_INSTANT = timedelta(microseconds=1)
# Asia/Jakarta has been UTC+7, without daylight saving, since 1 January 1964 (00:00 local;
# before, +07:07:12 to +09:00): from then on the WIB date is the date seven hours after UTC.
_WIB_OFFSET = timedelta(hours=7)
_WIB_FIXED_SINCE = datetime(1964, 1, 1, tzinfo=UTC)


def _require_aware(dt: datetime, what: str = "datetime") -> None:
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {dt!r}")


def _require_date(d: date, what: str = "date") -> None:
    # A datetime is a date subclass; accepting one would silently use its own (possibly UTC)
    # calendar date instead of the WIB date, so insist on a plain date.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{what} must be a datetime.date (not a datetime), got {d!r}")


def _require_count(n: int, what: str) -> int:
    if isinstance(n, bool):
        raise TypeError(f"{what} must be an int, got bool")
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"{what} must be >= 0, got {n}")
    return n


def to_wib(dt: datetime) -> datetime:
    """Convert an aware datetime to WIB (Asia/Jakarta)."""
    _require_aware(dt)
    return dt.astimezone(WIB)


def wib_date(dt: datetime) -> date:
    """Return the WIB calendar date of an aware datetime.

    A UTC datetime (what the portal computes and stores) since 1964 takes a shortcut: its
    date seven hours later, the same date as the time zone's conversion at a fraction of its
    cost (ingest converts several timestamps per request).
    """
    if dt.__class__ is datetime and dt.tzinfo is UTC and dt >= _WIB_FIXED_SINCE:
        return (dt + _WIB_OFFSET).date()
    return to_wib(dt).date()


def due_date(deadline: datetime) -> date:
    """Return the due date of a deadline: the WIB date of the last instant before it.

    A deadline at 24:00 WIB on 1 December (00:00 on the 2nd) is due on 1 December, and so is
    one at 14:00 on 1 December.
    """
    return wib_date(deadline - _INSTANT)


def wib_midnight(d: date) -> datetime:
    """Return 00:00 WIB of date ``d`` as an aware UTC datetime."""
    _require_date(d)
    return datetime(d.year, d.month, d.day, tzinfo=WIB).astimezone(UTC)


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


@lru_cache(maxsize=256)
def _national_holidays(year: int, language: str | None) -> Mapping[date, str]:
    """Return Indonesia's national holidays and cuti bersama of one year (read-only)."""
    data = holidays.country_holidays(
        "ID", categories=_HOLIDAY_CATEGORIES, years=year, language=language
    )
    return MappingProxyType({d: name for d, name in data.items() if d.year == year})


class WorkingCalendar:
    """Working days of the provincial government, as defined in docs/definitions.md."""

    __slots__ = ("_deadline_cache", "_extra", "_language", "_overrides", "_working_days")

    def __init__(
        self,
        extra_non_working: Iterable[date] = (),
        working_overrides: Iterable[date] = (),
        *,
        language: str | None = "id",
    ) -> None:
        """Build a calendar from the administrator's extra non-working days and overrides.

        ``extra_non_working`` may be a mapping ``{date: name}`` to give the days a name;
        otherwise they are named ``DEFAULT_EXTRA_NAME``. ``language`` is passed to the
        ``holidays`` package for holiday names only (it never changes which dates are
        holidays); it defaults to Indonesian so names do not depend on the server's locale.
        """
        extra: dict[date, str] = {}
        if isinstance(extra_non_working, Mapping):
            for d, name in extra_non_working.items():
                _require_date(d, "extra_non_working date")
                extra[d] = str(name) if name else DEFAULT_EXTRA_NAME
        else:
            for d in extra_non_working:
                _require_date(d, "extra_non_working date")
                extra[d] = DEFAULT_EXTRA_NAME
        overrides = frozenset(working_overrides)
        for d in overrides:
            _require_date(d, "working_overrides date")
        self._extra: Mapping[date, str] = MappingProxyType(extra)
        self._overrides: frozenset[date] = overrides
        self._language = language
        # Lazily filled caches: year -> sorted working days; (d0, n) -> deadline (UTC).
        self._working_days: dict[int, tuple[date, ...]] = {}
        self._deadline_cache: dict[tuple[date, int], datetime] = {}

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(extra_non_working={sorted(self._extra)!r}, "
            f"working_overrides={sorted(self._overrides)!r})"
        )

    @property
    def extra_non_working(self) -> frozenset[date]:
        """Return the administrator's extra non-working days."""
        return frozenset(self._extra)

    @property
    def working_overrides(self) -> frozenset[date]:
        """Return the dates the administrator marked as working days."""
        return self._overrides

    # -- single days ---------------------------------------------------------------------------

    def is_holiday(self, d: date) -> bool:
        """Return whether ``d`` is a holiday (package or extra, and not overridden)."""
        _require_date(d)
        if d in self._overrides:
            return False
        return d in self._extra or d in _national_holidays(d.year, self._language)

    def is_working_day(self, d: date) -> bool:
        """Return whether ``d`` is a Monday to Friday that is not a holiday."""
        return d.weekday() < 5 and not self.is_holiday(d)

    def holiday_name(self, d: date) -> str | None:
        """Return the name of the holiday on ``d``, or None if ``d`` is not a holiday."""
        _require_date(d)
        if d in self._overrides:
            return None
        name = _national_holidays(d.year, self._language).get(d)
        if name is not None:
            return name
        return self._extra.get(d)

    def next_working_day(self, d: date) -> date:
        """Return the first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    # -- counting ------------------------------------------------------------------------------

    def _year_working_days(self, year: int) -> tuple[date, ...]:
        days = self._working_days.get(year)
        if days is None:
            national = _national_holidays(year, self._language)
            extra, overrides = self._extra, self._overrides
            out: list[date] = []
            d = date(year, 1, 1)
            while d.year == year:
                if d.weekday() < 5 and (
                    d in overrides or not (d in national or d in extra)
                ):
                    out.append(d)
                d += _ONE_DAY
            days = tuple(out)
            self._working_days[year] = days
        return days

    def add_working_days(self, d0: date, n: int) -> date:
        """Return the ``n``-th working day strictly after ``d0`` (``n=0``: ``d0`` or the next)."""
        _require_date(d0, "d0")
        n = _require_count(n, "n")
        if n == 0:
            if self.is_working_day(d0):
                return d0
            n = 1
        year = d0.year
        days = self._year_working_days(year)
        idx = bisect_right(days, d0) + n - 1
        while idx >= len(days):
            idx -= len(days)
            year += 1
            days = self._year_working_days(year)
        return days[idx]

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days ``d`` with ``start < d <= end`` (0 when ``end <= start``).

        ``start`` itself is never counted and ``end`` is, so for ``n >= 1``
        ``working_days_between(d0, add_working_days(d0, n)) == n``.
        """
        _require_date(start, "start")
        _require_date(end, "end")
        if end <= start:
            return 0
        total = 0
        for year in range(start.year, end.year + 1):
            days = self._year_working_days(year)
            lo = bisect_right(days, start) if year == start.year else 0
            hi = bisect_right(days, end) if year == end.year else len(days)
            total += hi - lo
        return total

    # -- deadlines -----------------------------------------------------------------------------

    def deadline_working_days(self, start: datetime, n: int) -> datetime:
        """Return the end (24:00 WIB) of the ``n``-th working day after ``start``'s WIB date."""
        d0 = wib_date(start)
        n = _require_count(n, "n")
        key = (d0, n)
        deadline = self._deadline_cache.get(key)
        if deadline is None:
            deadline = wib_midnight(self.add_working_days(d0, n) + _ONE_DAY)
            self._deadline_cache[key] = deadline
        return deadline

    @staticmethod
    def deadline_hours(start: datetime, n: int) -> datetime:
        """Return ``start`` plus ``n`` elapsed hours, as an aware UTC datetime."""
        _require_aware(start, "start")
        n = _require_count(n, "n")
        return start.astimezone(UTC) + timedelta(hours=n)

    def deadline_for(self, start: datetime, value: int, unit: str) -> datetime:
        """Return the deadline of ``value`` ``unit`` ("working_days" or "hours") from ``start``."""
        if unit == "working_days":
            return self.deadline_working_days(start, value)
        if unit == "hours":
            return self.deadline_hours(start, value)
        raise ValueError(f"unknown deadline unit {unit!r}; expected one of {DEADLINE_UNITS}")

    @staticmethod
    def is_on_time(event_at: datetime, deadline: datetime) -> bool:
        """Return whether ``event_at`` happened at or before ``deadline``."""
        _require_aware(event_at, "event_at")
        _require_aware(deadline, "deadline")
        return event_at <= deadline
