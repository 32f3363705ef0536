"""The shown status as lists build it: the same view and reason whatever the path taken.

Lists build dozens of views a page from the stored rows (their metrics parsed only when read,
their reasons memoised under the stored text); what they show must be what the stored row
says under the rules of docs/definitions.md, section 5, read after read.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import Incident, ServiceStatus
from portal.models.catalogue import Service
from portal.services.metrics.service_requests import service_requests_report
from portal.services.metrics.status import (
    StatusView,
    build_shown_statuses,
    shown_status_query,
    status_counts,
    status_for_services,
    status_reason_text,
)
from tests.factories import create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB
MEETING = ("100% of the 10 requests due over the 30 days to 30 September 2025 were completed "
           "on time, against a 90% commitment.")


def reported_service(on_time: int = 10, late: int = 0, at: datetime = NOW):
    """A 24-hour service whose department reported requests completed on 22 September."""
    service = create_service(commitment_value=24, commitment_unit="hours", on_time_target=0.9)
    received = datetime(2025, 9, 22, 8, tzinfo=WIB)
    requests = [{"service": service.code, "id": f"r{i}", "received_at": received.isoformat(),
                 "completed_at": (received + timedelta(hours=h)).isoformat()}
                for i, h in enumerate([1] * on_time + [30] * late)]
    service_requests_report(service.department, {"requests": requests}, now=at)
    return service


def view_of(service, now=NOW) -> StatusView:
    db.session.expire_all()
    return status_for_services([service.id], now=now)[service.id]


def test_a_listed_view_shows_what_its_stored_row_says(app):
    service = reported_service()
    row = db.session.get(ServiceStatus, service.id)
    view = view_of(service)
    assert view.status == row.status == "meeting"
    assert view.reason_params == json.loads(row.reason_params)
    assert view.metrics == json.loads(row.metrics) and view.metrics["due"] == 10
    assert view.computed_at == row.computed_at
    assert view == StatusView(service.id, "meeting", json.loads(row.reason_params),
                              json.loads(row.metrics), row.computed_at)
    assert status_reason_text(view, "en") == MEETING


def test_the_list_and_page_paths_build_equal_views(app):
    # status_for_services reads its rows by position; a department's page and a service's
    # page hand build_shown_statuses rows read by name. Both must show the same.
    services = [reported_service(), reported_service(0, 10), create_service()]
    ids = [s.id for s in services]
    db.session.expire_all()
    rows = {row.id: row for row in db.session.execute(
        shown_status_query().where(Service.id.in_(ids)))}
    by_name = build_shown_statuses(ids, rows, NOW)
    by_position = status_for_services(ids, now=NOW)
    assert [by_name[i][0] for i in ids] == [by_position[i] for i in ids]
    assert [v.status for v in by_position.values()] == ["meeting", "breaching", "no_data"]
    assert [status_reason_text(by_name[i][0], "id") for i in ids] == [
        status_reason_text(by_position[i], "id") for i in ids]


def test_a_view_cannot_be_changed_and_views_share_nothing(app):
    service = reported_service()
    first, second = view_of(service), view_of(service)
    with pytest.raises(AttributeError):
        first.status = "breaching"  # type: ignore[misc]
    first.reason_params["n"] = 0  # a caller's mistake stays in its own view
    assert second.reason_params["n"] == 10
    assert view_of(service).reason_params["n"] == 10
    assert status_reason_text(view_of(service), "en") == MEETING


def test_a_memoised_reason_gives_way_to_silence_and_to_an_incident(app):
    service = reported_service(at=NOW)
    assert status_reason_text(view_of(service), "en") == MEETING  # memoised now
    # Eight days later nothing was reported: the same stored row is no_data, with its reason.
    later = NOW + timedelta(days=8)
    silent = view_of(service, now=later)
    assert silent.status == "no_data"
    assert status_reason_text(silent, "en") == (
        "The department has sent no report on this service since 30 September 2025, so its "
        "current performance is unknown.")
    assert status_counts(now=later)["no_data"] == 1
    incident = Incident(title_id="Gangguan", impact="outage", created_by="admin",
                        services=[service])
    db.session.add(incident)
    db.session.commit()
    assert status_reason_text(view_of(service), "en") == (
        "An open incident disrupts this service; see its updates below.")
    incident.resolved_at = NOW
    db.session.commit()
    assert status_reason_text(view_of(service), "en") == MEETING
