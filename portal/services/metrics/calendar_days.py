"""The working-day calendar as administrators amend it."""

from __future__ import annotations

from sqlalchemy import select

from portal.domain.calendar import WorkingCalendar
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
