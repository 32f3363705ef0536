"""What the feeds hold: the recorded status changes (services/opendata/feeds.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models import ServiceStatusChange
from portal.services.opendata.feeds import (
    FEED_LIMIT,
    feed_for_department,
    feed_for_service,
    recorded_status_changes,
)
from tests.factories import create_department
from tests.wfa_support import create_due_service, ingest, requests_due

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB
TODAY = wib_date(NOW)


def report(service, first: int, last: int, now: datetime, on_time: int = 0,
           late: int = 0) -> None:
    """Report requests due on each day from ``first`` to ``last`` days from today."""
    items = []
    for offset in range(first, last + 1):
        items += requests_due(service, TODAY + timedelta(days=offset), on_time=on_time,
                              late=late)
    ingest(service.department, items, now=now)


def test_status_changes_are_the_recorded_ones_dated_when_recorded(app):
    service = create_due_service()
    report(service, -20, -6, NOW - timedelta(days=2), on_time=1)  # first evaluation: meeting
    report(service, -20, -6, NOW - timedelta(days=1), late=2)  # 15 of 45: breaching

    (change,) = feed_for_service(service.code).status_changes

    assert (change.previous, change.status) == ("meeting", "breaching")
    assert change.changed_at == NOW - timedelta(days=1)
    row = db.session.get(ServiceStatusChange, change.id)
    assert (row.service_id, row.to_status) == (service.id, "breaching")


def test_no_change_is_worked_out_for_days_before_the_record(app):
    service = create_due_service()
    # Sixty days reported at once: on time at first, then late. The figures of past days
    # would give other statuses, but the portal stored one status only: nothing to tell.
    items = []
    for offset in range(-60, 0):
        on_time = 1 if offset < -40 else 0
        items += requests_due(service, TODAY + timedelta(days=offset), on_time=on_time,
                              late=1 - on_time)
    ingest(service.department, items, now=NOW)

    assert feed_for_service(service.code).status_changes == []


def test_a_department_feed_merges_its_services_newest_first_up_to_the_limit(app):
    department = create_department(code="dinkes")
    first = create_due_service(department=department, code="sip-dokter")
    second = create_due_service(department=department, code="izin-klinik")
    elsewhere = create_due_service(code="samsat-pkb")
    for n in range(FEED_LIMIT + 5):
        for service in (first, second, elsewhere):
            db.session.add(ServiceStatusChange(
                service_id=service.id, from_status="meeting", to_status="at_risk",
                changed_at=NOW - timedelta(hours=n, minutes=service.id),
                reason_params="{}"))
    db.session.commit()

    changes = feed_for_department("dinkes").status_changes

    assert len(changes) == FEED_LIMIT
    assert {c.service_id for c in changes} == {first.id, second.id}
    assert [c.changed_at for c in changes] == sorted((c.changed_at for c in changes),
                                                     reverse=True)
    assert changes == recorded_status_changes([first.id, second.id])[:FEED_LIMIT]
