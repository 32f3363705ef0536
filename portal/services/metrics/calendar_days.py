"""The working-day calendar as administrators amend it."""

from __future__ import annotations

from datetime import date

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


def _recompute_around(day: date) -> None:
    """Recompute the stored deadlines a change of the calendar on ``day`` can move."""
    # service_requests reads the calendar from here: import late.
    from portal.services.metrics.service_requests import (
        calendar_change_recompute_from,
        service_requests_recompute,
    )

    db.session.flush()
    service_requests_recompute(received_from=calendar_change_recompute_from(day), commit=False)


def calendar_day_set(day: date, is_working: bool, note: str = "") -> None:
    """Record an extra non-working day (False) or a working-day override (True).

    Deadlines already stored that the change moves are recomputed in the same commit, with
    the on-time counts and statuses that follow from them.
    """
    row = db.session.get(CalendarDay, day)
    moves_deadlines = row is None or row.is_working != is_working
    if row is None:
        db.session.add(CalendarDay(day=day, is_working=is_working, note=note))
    else:
        row.is_working, row.note = is_working, note
    if moves_deadlines:
        _recompute_around(day)
    db.session.commit()


def calendar_day_unset(day: date) -> None:
    """Remove an administrator's exception; the national calendar applies again.

    Deadlines already stored that the change moves are recomputed in the same commit.
    """
    row = db.session.get(CalendarDay, day)
    if row is not None:
        db.session.delete(row)
        _recompute_around(day)
        db.session.commit()
