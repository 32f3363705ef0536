"""Helpers for the WFA impact tests: requests that fall due on chosen days, through the ingest.

The requests go through ``service_requests_ingest``, so the due-date aggregates the figures
read are the real ones. A service made by ``create_due_service`` promises completion within
2 hours; each request arrives at 08:00 WIB, so its deadline is 10:00 WIB and its due date is
the day it arrived. On time: completed at 09:00 (1 hour). Late: completed at 12:00 (4 hours).
Open: never completed (it falls due all the same, and counts as late).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from portal.domain.calendar import WIB, utc_now
from portal.services.metrics.service_requests import MAX_BATCH, service_requests_ingest
from tests.factories import create_service

ON_TIME_HOURS = 1
LATE_HOURS = 4
_ids = itertools.count(1)


def create_due_service(**overrides: Any) -> Any:
    """Create a service that promises completion within 2 hours (on-site unless told)."""
    values: dict[str, Any] = {"commitment_value": 2, "commitment_unit": "hours"}
    values.update(overrides)
    return create_service(**values)


def requests_due(service: Any, day: date, on_time: int = 0, late: int = 0,
                 open_: int = 0) -> list[dict]:
    """Return API request objects that fall due on one WIB day: on time, late and open."""
    received = datetime(day.year, day.month, day.day, 8, 0, tzinfo=WIB)
    items = []
    for count, hours in ((on_time, ON_TIME_HOURS), (late, LATE_HOURS), (open_, None)):
        for _ in range(count):
            completed = received + timedelta(hours=hours) if hours is not None else None
            items.append({
                "service": service.code,
                "id": f"r-{next(_ids)}",
                "received_at": received.isoformat(),
                "completed_at": completed.isoformat() if completed else None,
            })
    return items


def requests_taking(service: Any, day: date, hours: list[float | None]) -> list[dict]:
    """Return requests received at 08:00 WIB on a day, completed after each number of hours
    (None: never completed)."""
    received = datetime(day.year, day.month, day.day, 8, 0, tzinfo=WIB)
    return [{
        "service": service.code,
        "id": f"r-{next(_ids)}",
        "received_at": received.isoformat(),
        "completed_at": (received + timedelta(hours=h)).isoformat() if h is not None else None,
    } for h in hours]


def ingest(department: Any, items: list[dict], now: datetime | None = None) -> None:
    """Report requests through the real ingest, in batches it accepts."""
    now = now or utc_now()
    for start in range(0, len(items), MAX_BATCH):
        service_requests_ingest(department, items[start:start + MAX_BATCH], now=now)


def report_due(service: Any, day: date, on_time: int = 0, late: int = 0, open_: int = 0,
               now: datetime | None = None) -> None:
    """Report requests of one service that fall due on one day."""
    ingest(service.department, requests_due(service, day, on_time, late, open_), now)


def report_window(service: Any, first: date, days: int, on_time: int = 0, late: int = 0,
                  open_: int = 0, now: datetime | None = None) -> None:
    """Spread requests over consecutive days from ``first`` (remainders on the first day)."""
    items: list[dict] = []
    counts = [on_time, late, open_]
    shares = [divmod(c, days) for c in counts]
    for offset in range(days):
        per_day = [each + (extra if offset == 0 else 0) for each, extra in shares]
        if any(per_day):
            items += requests_due(service, first + timedelta(days=offset), *per_day)
    ingest(service.department, items, now)
