"""Demo history on a small catalogue: deterministic, idempotent, and drawn as the demo promises."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal.domain.calendar import UTC, wib_midnight
from portal.extensions import db
from portal.models import ServiceReport, ServiceRequest
from portal.services.demo.history import (
    NEVER_CLOSED_SERVICE,
    SILENT_DAYS,
    SILENT_SERVICE,
    SPARSE_SERVICES,
    WFA_DECLINE,
    WFA_IMPROVEMENT,
    demo_history_generate,
)
from portal.services.metrics.figures import metrics_for_service, reporting_starts
from portal.services.metrics.status import status_for_services
from portal.services.metrics.wfa_impact import wfa_impact_for_service
from tests.factories import create_department, create_service

NOW = datetime(2026, 9, 30, 5, tzinfo=UTC)  # Wednesday 30 September 2026, 12:00 WIB
TODAY = date(2026, 9, 30)
# A Thursday: its before window starts on Friday 1 May 2026, Labour Day, before a weekend,
# when no service open on working days only receives anything.
MOVE = date(2026, 7, 30)
BEFORE = (date(2026, 5, 1), date(2026, 7, 29))
AFTER = (MOVE, TODAY - timedelta(days=1))


def _services():
    department = create_department()
    return {
        "steady": create_service(department=department, code="steady-service"),
        "silent": create_service(department=department, code=SILENT_SERVICE),
        "sparse": create_service(department=department, code=SPARSE_SERVICES[0]),
        "open": create_service(department=department, code=NEVER_CLOSED_SERVICE),
        "level": create_service(department=department, code="a-mover", work_mode="hybrid",
                                work_mode_since=MOVE),
        "worse": create_service(department=department, code=WFA_DECLINE, work_mode="wfa",
                                work_mode_since=MOVE),
        "better": create_service(department=department, code=WFA_IMPROVEMENT,
                                 work_mode="wfa", work_mode_since=MOVE),
    }


def test_demo_history_is_idempotent_and_deterministic(app):
    _services()
    first = demo_history_generate(today=TODAY, days=60, now=NOW)
    rows = db.session.execute(select(ServiceRequest.external_id, ServiceRequest.completed_at)
                              .order_by(ServiceRequest.id)).all()
    again = demo_history_generate(today=TODAY, days=60, now=NOW)
    assert first.created > 0
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == len(rows)
    assert all(rid.startswith("DEMO-2026") for rid, _ in rows)


def test_a_later_run_adds_the_new_days_and_leaves_the_past_as_it_was(app):
    services = _services()
    demo_history_generate(today=TODAY, days=60, now=NOW)
    columns = (ServiceRequest.service_id, ServiceRequest.external_id, ServiceRequest.received_at,
               ServiceRequest.channel, ServiceRequest.completion_deadline)
    before = set(db.session.execute(select(*columns)).all())
    later = demo_history_generate(today=TODAY + timedelta(days=7), days=60,
                                  now=NOW + timedelta(days=7))
    after = set(db.session.execute(select(*columns)).all())
    assert before < after
    assert later.created == len(after) - len(before)
    # The first run saw everything received before its now (the silent service's last report),
    # and the past stays as it was: the new rows came after.
    silent = services["silent"].id
    for service_id, _i, received, _c, _d in after - before:
        assert received >= NOW - timedelta(days=SILENT_DAYS if service_id == silent else 0)
    assert services["steady"].id in {row[0] for row in after - before}


def test_history_reaches_back_before_the_earliest_move_even_when_asked_for_less(app):
    services = _services()
    demo_history_generate(today=TODAY, days=30, now=NOW)
    starts = reporting_starts(s.id for s in services.values())
    for name in ("steady", "open", "level", "worse", "better"):
        assert starts[services[name].id] <= BEFORE[0], name
    impact = wfa_impact_for_service(services["worse"], now=NOW)
    assert impact.verdict_reason != "partial_history"
    assert (impact.before.from_date, impact.after.from_date) == (BEFORE[0], MOVE)


def test_demo_history_shows_no_data_insufficient_data_and_never_closed_requests(app):
    services = _services()
    demo_history_generate(today=TODAY, days=120, now=NOW)
    views = status_for_services([s.id for s in services.values()], now=NOW)
    assert views[services["silent"].id].status == "no_data"
    assert views[services["sparse"].id].status == "insufficient_data"
    assert views[services["steady"].id].status in {"meeting", "at_risk", "breaching"}
    silent_report = db.session.get(ServiceReport, services["silent"].id).last_reported_at
    assert silent_report == NOW - timedelta(days=SILENT_DAYS)

    # A fifth of its requests are never closed: those received over a month ago are long past
    # their deadline (7 working days) and still open.
    service = services["open"]
    received = select(func.count()).select_from(ServiceRequest).where(
        ServiceRequest.service_id == service.id,
        ServiceRequest.received_at < NOW - timedelta(days=30))
    total = db.session.scalar(received)
    still_open = db.session.scalar(received.where(ServiceRequest.completed_at.is_(None)))
    assert 0.17 <= still_open / total <= 0.23
    # Those due in a window count there as late and still open.
    due_in_window = db.session.scalar(
        select(func.count()).select_from(ServiceRequest).where(
            ServiceRequest.service_id == service.id, ServiceRequest.completed_at.is_(None),
            ServiceRequest.completion_deadline > wib_midnight(BEFORE[0]),
            ServiceRequest.completion_deadline <= wib_midnight(BEFORE[1] + timedelta(days=1))))
    figures = metrics_for_service(service, *BEFORE, now=NOW)
    assert due_in_window >= 10
    assert figures.late_open >= due_in_window
    assert figures.on_time_rate < 0.85  # 99% drawn on time, but a fifth never closed


def test_showcases_change_after_their_move_and_the_others_stay_level(app):
    services = _services()
    demo_history_generate(today=TODAY, days=30, now=NOW)

    def rates(name: str) -> tuple[float, float]:
        service = services[name]
        return (metrics_for_service(service, *BEFORE, now=NOW).on_time_rate,
                metrics_for_service(service, *AFTER, now=NOW).on_time_rate)

    # Drawn at 94% on time before the move and 78% after, less the 1% never closed.
    worse_before, worse_after = rates("worse")
    assert worse_before - worse_after > 0.12
    # 83% before, 96% after.
    better_before, better_after = rates("better")
    assert better_after - better_before > 0.09
    level_before, level_after = rates("level")
    assert abs(level_after - level_before) < 0.05
