"""The working-day calendar as administrators amend it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.calendar import WorkingCalendar
from portal.extensions import db
from portal.models.catalogue import CalendarDay

_cache: dict[str, object] = {"key": None, "calendar": None}


def calendar_current() -> WorkingCalendar:
    """Return the working calendar with the administrators' exceptions applied."""
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.is_working)).all()
    key = tuple(sorted(rows))
    if _cache["key"] != key:
        _cache["calendar"] = WorkingCalendar(
            extra_non_working=[d for d, working in rows if not working],
            working_overrides=[d for d, working in rows if working],
        )
        _cache["key"] = key
    return _cache["calendar"]  # type: ignore[return-value]


def calendar_day_set(day: date, is_working: bool, note: str = "") -> None:
    """Record an extra non-working day (False) or a working-day override (True)."""
    row = db.session.get(CalendarDay, day)
    if row is None:
        db.session.add(CalendarDay(day=day, is_working=is_working, note=note))
    else:
        row.is_working, row.note = is_working, note
    db.session.commit()


def calendar_day_unset(day: date) -> None:
    """Remove an administrator's exception; the national calendar applies again."""
    row = db.session.get(CalendarDay, day)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
