"""The metrics of many services over one window, read with a fixed number of statements.

Status evaluation (portal/services/metrics/status.py) judges every service a report touches,
and ``status refresh`` every service, over the same window and at the same instant. Computing
:func:`~portal.services.metrics.figures.metrics_for_service` one service at a time costs about
eight statements a service; this reads the same inputs for all of them at once, one statement
(or two) per 900 services for each input, and computes figures equal to that function's:

- the window's ``service_day`` rows (received, online, completed, completion times, and the
  due counts of the days before today), one statement;
- what fell due today so far, from the requests (``due_counts_today``), two statements;
- what is still open at ``as_of`` (backlog, overdue, late and open), grouped by service, two
  statements over the same index ranges as ``open_at``;
- the availability checks of the services with an online address, grouped by service, one
  statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.incidents import AvailabilityCheck, Maintenance, maintenance_service
from portal.models.metrics import ServiceDay, ServiceRequest
from portal.services.metrics.figures import (
    ONE_DAY,
    DueCounts,
    OpenAt,
    ServiceMetrics,
    due_counts_today,
    histogram_accumulate,
    metrics_from_counts,
    window_bounds,
)

# Services per IN (...) list: well under every database's bound-parameter limit.
_CHUNK = 900


@dataclass
class _WindowDays:
    """One service's sums over the window's ``service_day`` rows."""

    received: int = 0
    online: int = 0
    completed: int = 0
    # Completion times keyed as stored (see figures.histogram_accumulate).
    completion_totals: dict[str, int] = field(default_factory=dict)
    # What fell due on the days before today (today is read from the requests).
    due: DueCounts = field(default_factory=DueCounts)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    """Yield the ids in lists short enough for one IN (...)."""
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start:start + _CHUNK])


def _window_days(
    ids: Sequence[int], from_date: date, to_date: date, last_due_day: date
) -> dict[int, _WindowDays]:
    """Sum each service's day rows of the window; due counts only up to ``last_due_day``."""
    found: dict[int, _WindowDays] = {}
    day = ServiceDay
    for chunk in _chunks(ids):
        stmt = select(
            day.service_id, day.day, day.received, day.received_online, day.completed,
            day.completion_histogram, day.due, day.due_on_time, day.first_response_due,
            day.first_response_due_on_time,
        ).where(day.service_id.in_(chunk), day.day >= from_date, day.day <= to_date)
        for (service_id, on, received, online, completed, histogram, due, due_on_time,
             first_due, first_on_time) in db.session.execute(stmt):
            sums = found.get(service_id)
            if sums is None:
                sums = found[service_id] = _WindowDays()
            sums.received += received
            sums.online += online
            sums.completed += completed
            histogram_accumulate(sums.completion_totals, histogram)
            if on <= last_due_day:
                sums.due.due += due
                sums.due.on_time += due_on_time
                sums.due.first_response_due += first_due
                sums.due.first_response_on_time += first_on_time
    return found


def _open_at(ids: Sequence[int], at: datetime, due_from: datetime) -> dict[int, OpenAt]:
    """Count each service's requests still open at an instant, as ``figures.open_at`` does.

    Backlog: received before ``at`` and not completed before it; overdue: of those, the ones
    whose deadline is before ``at``; late and open: deadline after ``due_from`` and at or
    before ``at``, no completion at or before ``at``. Two ranges of the (service_id,
    completed_at) index: the open requests and those completed at or after ``at``.
    """
    request = ServiceRequest
    fell_due = (request.completion_deadline <= at) & (request.completion_deadline > due_from)
    not_done_by_at = request.completed_at.is_(None) | (request.completed_at > at)

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    counts = (
        total(request.received_at < at),
        total((request.received_at < at) & (request.completion_deadline < at)),
        total(fell_due & not_done_by_at),
    )
    sums: dict[int, list[int]] = {}
    for chunk in _chunks(ids):
        for still_open in (request.completed_at.is_(None), request.completed_at >= at):
            stmt = (select(request.service_id, *counts)
                    .where(request.service_id.in_(chunk), still_open)
                    .group_by(request.service_id))
            for service_id, *values in db.session.execute(stmt):
                found = sums.setdefault(service_id, [0, 0, 0])
                for i, value in enumerate(values):
                    found[i] += int(value)
    return {service_id: OpenAt(*values) for service_id, values in sums.items()}


def _availability(
    ids: Sequence[int], start_utc: datetime, end_utc: datetime
) -> dict[int, float]:
    """Return successful / all checks per service in [start, end), outside its maintenance.

    The rule of ``availability.availability_for_service``, grouped by service; services with
    no check that counts are absent.
    """
    check = AvailabilityCheck
    during_maintenance = exists(
        select(maintenance_service.c.maintenance_id)
        .join(Maintenance, Maintenance.id == maintenance_service.c.maintenance_id)
        .where(
            maintenance_service.c.service_id == check.service_id,
            Maintenance.starts_at <= check.checked_at,
            Maintenance.ends_at > check.checked_at,
        )
    )
    found: dict[int, float] = {}
    for chunk in _chunks(ids):
        stmt = select(
            check.service_id,
            func.count(),
            func.coalesce(func.sum(case((check.ok.is_(True), 1), else_=0)), 0),
        ).where(
            and_(
                check.service_id.in_(chunk),
                check.checked_at >= start_utc,
                check.checked_at < end_utc,
                ~during_maintenance,
            )
        ).group_by(check.service_id)
        for service_id, total, succeeded in db.session.execute(stmt):
            if total:
                found[service_id] = int(succeeded) / int(total)
    return found


def metrics_for_services(
    services: Iterable[Service], from_date: date, to_date: date, now: datetime,
    due_today: Mapping[int, DueCounts] | None = None,
) -> dict[int, ServiceMetrics]:
    """Return each service's metrics over the WIB dates from..to inclusive, by service id.

    Equal, service by service, to ``metrics_for_service(service, from_date, to_date, now)``.
    ``due_today``: what fell due today so far, as ``due_counts_today(ids, today, now)`` gives
    it, when the caller has read it already (read here when needed otherwise).
    """
    if to_date < from_date:
        raise ValueError("to_date is before from_date")
    services = list(services)
    ids = sorted({s.id for s in services})
    today = wib_date(now)
    start, end = window_bounds(from_date, to_date)
    days = _window_days(ids, from_date, to_date, min(to_date, today - ONE_DAY))
    if not from_date <= today <= to_date:
        due_today = {}
    elif due_today is None:
        due_today = due_counts_today(ids, today, now)
    as_of = min(end, now)
    still_open = _open_at(ids, as_of, start)
    online_ids = [s.id for s in services if s.online_url]
    # The checks made by as_of, as ServiceDays counts them.
    availability = _availability(online_ids, start, as_of) if online_ids else {}
    nothing_open = OpenAt(0, 0, 0)
    found: dict[int, ServiceMetrics] = {}
    for service in services:
        sums = days.get(service.id) or _WindowDays()
        due = DueCounts()
        due.add(sums.due)
        if service.id in due_today:
            due.add(due_today[service.id])
        found[service.id] = metrics_from_counts(
            service, from_date, to_date, received=sums.received, online=sums.online,
            completed=sums.completed, due=due, completion_totals=sums.completion_totals,
            still_open=still_open.get(service.id, nothing_open),
            availability=availability.get(service.id) if service.online_url else None,
        )
    return found
