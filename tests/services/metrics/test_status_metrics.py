"""Statuses of many services at once: the same as one service at a time, in a fixed cost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import AvailabilityCheck, Incident, ServiceStatus, ServiceStatusChange, User
from portal.services.metrics.figures import metrics_for_service
from portal.services.metrics.incidents import maintenance_schedule
from portal.services.metrics.reporting import service_last_reported
from portal.services.metrics.service_requests import service_requests_report
from portal.services.metrics.status import (
    status_evaluate,
    status_evaluate_many,
    status_refresh,
    status_window,
)
from portal.services.metrics.status_metrics import metrics_for_services
from tests.factories import create_department, create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB
ADMIN = User(username="admin", role="admin", department_id=None, is_active=True)


def wib(*args: int) -> datetime:
    """Return an aware WIB datetime."""
    return datetime(*args, tzinfo=WIB)


def requests(service, on_time: int, late: int, open_: int = 0, day: int = 22,
             prefix: str = "r") -> list[dict]:
    """Return request objects received on a September day at 08:00 WIB.

    On time: completed after 1 hour; late: after 30 hours (past a 24-hour commitment);
    open: never completed.
    """
    received = wib(2025, 9, day, 8)
    hours = [1] * on_time + [30] * late + [None] * open_
    return [{"service": service.code, "id": f"{prefix}{i}", "received_at": received.isoformat(),
             "completed_at": None if h is None else (received + timedelta(hours=h)).isoformat()}
            for i, h in enumerate(hours)]


def report(service, items=(), now=NOW) -> None:
    """Send a report of a service's department at a given time."""
    service_requests_report(service.department, {"requests": list(items)}, now=now)


def hours_service(department, **overrides):
    """A service of a department committing to 24 hours, 90 % on time."""
    values = {"commitment_value": 24, "commitment_unit": "hours", "on_time_target": 0.9,
              "department": department}
    return create_service(**{**values, **overrides})


@pytest.fixture
def mixed_services(app) -> list:
    """Services in every state the status rules know, reported at different times."""
    department = create_department()
    meeting = hours_service(department)
    report(meeting, requests(meeting, 10, 0) + requests(meeting, 3, 0, day=29, prefix="t"))
    at_risk = hours_service(department, on_time_target=0.95)
    report(at_risk, requests(at_risk, 17, 2, open_=1))
    breaching = hours_service(department)
    report(breaching, requests(breaching, 5, 10, open_=6)
           + requests(breaching, 0, 0, open_=4, day=30, prefix="new"))
    insufficient = hours_service(department)
    report(insufficient, requests(insufficient, 3, 1))
    stopped = hours_service(department)  # its data stopped flowing on 15 September
    report(stopped, requests(stopped, 12, 0, day=12), now=wib(2025, 9, 15, 9))
    never = hours_service(department)
    disrupted = hours_service(department)
    report(disrupted, requests(disrupted, 10, 0))
    db.session.add(Incident(title_id="Mati", impact="outage", created_by="admin",
                            services=[disrupted]))
    # Online, with a first-response commitment in working days and checks, some of them
    # during maintenance and some before the window.
    online = hours_service(department, online_url="https://layanan.example.go.id",
                           first_response_value=1, first_response_unit="working_days")
    items = requests(online, 9, 3, open_=2, day=25)
    for i, item in enumerate(items):
        if i % 3:
            item["first_response_at"] = (wib(2025, 9, 25, 8) + timedelta(minutes=5 * i)).isoformat()
    report(online, items)
    for at, ok in [(wib(2025, 9, 20, 9), True), (wib(2025, 9, 20, 11), False),
                   (wib(2025, 9, 26, 9), True), (wib(2025, 9, 26, 10), False),
                   (wib(2025, 9, 26, 11), False), (wib(2025, 8, 1, 9), False)]:
        db.session.add(AvailabilityCheck(service_id=online.id, checked_at=at, ok=ok,
                                         status_code=200 if ok else 500, elapsed_ms=40,
                                         error="" if ok else "HTTP 500"))
    db.session.commit()
    maintenance_schedule(ADMIN, [online.code], wib(2025, 9, 26, 10), wib(2025, 9, 26, 12),
                         "Pemeliharaan")
    offline = hours_service(department, online_url="https://mati.example.go.id")
    report(offline, requests(offline, 10, 1))
    return [meeting, at_risk, breaching, insufficient, stopped, never, disrupted, online,
            offline]


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(NOW, id="now"),
        pytest.param(wib(2025, 9, 23, 7), id="before-some-completions-and-reports"),
        pytest.param(NOW + timedelta(days=9), id="after-a-long-silence"),
    ],
)
def test_many_statuses_at_once_equal_each_service_evaluated_alone(mixed_services, now):
    ids = [s.id for s in mixed_services]
    reported = service_last_reported(ids)
    disrupted = {mixed_services[6].id}
    alone = {s.id: status_evaluate(s, now, reported.get(s.id), s.id in disrupted)
             for s in mixed_services}
    assert status_evaluate_many(mixed_services, now) == alone
    if now == NOW:  # the mix covers every status the rules give
        assert [alone[i][0] for i in ids] == [
            "meeting", "at_risk", "breaching", "insufficient_data", "no_data", "no_data",
            "disrupted", "breaching", "meeting"]
        assert alone[mixed_services[4].id][1]["since"] == "2025-09-15"


def test_window_metrics_of_many_services_equal_each_service_alone(mixed_services):
    # Windows ending today, in the past and ahead, as the metrics API allows.
    for from_offset, to_offset in [(-29, 0), (-10, -3), (-2, 4)]:
        day = NOW.astimezone(WIB).date()
        from_date, to_date = day + timedelta(days=from_offset), day + timedelta(days=to_offset)
        many = metrics_for_services(mixed_services, from_date, to_date, NOW)
        assert many == {s.id: metrics_for_service(s, from_date, to_date, now=NOW)
                        for s in mixed_services}
    online = mixed_services[7]
    whole = metrics_for_services([online], *status_window(NOW), NOW)[online.id]
    # 2 of the 3 checks of September outside maintenance succeeded; first responses counted.
    assert whole.availability == 2 / 3 and whole.first_response_due > 0


def test_stored_statuses_and_recorded_changes_follow_each_service_evaluated_alone(
    mixed_services,
):
    status_refresh(now=NOW)
    later = NOW + timedelta(days=8)
    ids = [s.id for s in mixed_services]
    reported = service_last_reported(ids)
    disrupted = {mixed_services[6].id}
    first = {s.id: status_evaluate(s, NOW, reported.get(s.id), s.id in disrupted)[0]
             for s in mixed_services}
    expected = {s.id: status_evaluate(s, later, reported.get(s.id), s.id in disrupted)
                for s in mixed_services}
    status_refresh(now=later)
    db.session.expire_all()
    rows = {row.service_id: row for row in db.session.scalars(select(ServiceStatus))}
    for service_id, (status, params, metrics) in expected.items():
        row = rows[service_id]
        assert (row.status, json.loads(row.reason_params), json.loads(row.metrics),
                row.computed_at) == (status, params, metrics, later)
    changes = db.session.scalars(select(ServiceStatusChange).where(
        ServiceStatusChange.changed_at == later).order_by(ServiceStatusChange.id))
    recorded = [(c.service_id, c.from_status, c.to_status, json.loads(c.reason_params),
                 c.changed_at) for c in changes]
    assert recorded == [
        (i, first[i], expected[i][0], expected[i][1], later)
        for i in sorted(ids) if first[i] != expected[i][0]
    ]
    assert len(recorded) == 6  # 8 days of silence: the services reported on 30 Sep, no_data


@contextmanager
def statements_counted() -> Iterator[list[str]]:
    """Collect the text of every statement sent to the database inside the block."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _department_reports(size: int) -> tuple[int, int]:
    """Count the statements of two reports of a department with ``size`` services.

    The first report gives every service its first status; the second turns each from
    meeting to breaching (an update and a status change per service).
    """
    department = create_department()
    services = [hours_service(department, online_url="https://layanan.example.go.id"
                              if i == 0 else "") for i in range(size)]
    first = [r for s in services for r in requests(s, 10, 0, prefix=f"{s.code}-a")]
    second = [r for s in services for r in requests(s, 0, 20, prefix=f"{s.code}-b")]
    with statements_counted() as sent_first:
        service_requests_report(department, {"requests": first}, now=NOW)
    with statements_counted() as sent_second:
        service_requests_report(department, {"requests": second}, now=NOW)
    assert db.session.scalar(select(ServiceStatusChange.to_status).where(
        ServiceStatusChange.service_id == services[-1].id)) == "breaching"
    return len(sent_first), len(sent_second)


def test_a_report_costs_the_same_number_of_statements_whatever_its_number_of_services(app):
    assert _department_reports(2) == _department_reports(12)
