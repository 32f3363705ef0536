"""Administrators amend the working-day calendar; the deadlines it moves are recomputed."""

from __future__ import annotations

from datetime import date

from portal.extensions import db
from portal.models.catalogue import CalendarDay
from portal.services.metrics.service_requests import (
    calendar_change_recompute_from,
    service_requests_recompute,
)


def _recompute_around(day: date) -> None:
    """Recompute the stored deadlines a change of the calendar on ``day`` can move."""
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
