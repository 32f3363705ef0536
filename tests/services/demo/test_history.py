"""Demo history: deterministic, idempotent, and showing each status the demo promises."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal.domain.calendar import UTC
from portal.extensions import db
from portal.models import ServiceReport, ServiceRequest
from portal.services.demo.history import (
    SILENT_DAYS,
    SILENT_SERVICE,
    SPARSE_SERVICES,
    demo_history_generate,
)
from portal.services.metrics.figures import metrics_for_service
from portal.services.metrics.status import status_for_services
from tests.factories import create_department, create_service

NOW = datetime(2026, 9, 30, 5, tzinfo=UTC)  # Wednesday 30 September 2026, 12:00 WIB
TODAY = date(2026, 9, 30)


def _services():
    department = create_department()
    return {
        "steady": create_service(department=department, code="steady-service"),
        "silent": create_service(department=department, code=SILENT_SERVICE),
        "sparse": create_service(department=department, code=SPARSE_SERVICES[0]),
        "better": create_service(department=department, code="a-mover", work_mode="wfa",
                                 work_mode_since=date(2026, 8, 1)),
        "worse": create_service(department=department, code="b-mover", work_mode="hybrid",
                                work_mode_since=date(2026, 8, 1)),
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


def test_demo_history_shows_no_data_insufficient_data_and_wfa_effects(app):
    services = _services()
    demo_history_generate(today=TODAY, days=120, now=NOW)
    views = status_for_services([s.id for s in services.values()], now=NOW)
    assert views[services["silent"].id].status == "no_data"
    assert views[services["sparse"].id].status == "insufficient_data"
    assert views[services["steady"].id].status in {"meeting", "at_risk", "breaching"}
    silent_report = db.session.get(ServiceReport, services["silent"].id).last_reported_at
    assert silent_report == NOW - timedelta(days=SILENT_DAYS)

    def rate(service, start: date, end: date) -> float:
        return metrics_for_service(service, start, end, now=NOW).on_time_rate

    before, after = (date(2026, 6, 2), date(2026, 7, 31)), (date(2026, 8, 1), date(2026, 9, 20))
    assert rate(services["better"], *after) > rate(services["better"], *before)
    assert rate(services["worse"], *after) < rate(services["worse"], *before)
