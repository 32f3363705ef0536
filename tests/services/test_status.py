"""Service status per DOMAIN.md: every rule and its boundary, stored and counted."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.calendar import UTC, WIB
from portal.extensions import db
from portal.models import Incident, ServiceStatus
from portal.services.service_requests import service_requests_report
from portal.services.status import (
    status_counts,
    status_for_services,
    status_reason_text,
    status_refresh,
)
from tests.factories import create_department, create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB


def completions(service, on_time: int, late: int, day: int = 22, prefix: str = "r") -> list:  # noqa: ANN001
    """Return request objects completed on 22 Sep 2025: on time (1 h) or late (30 h > 24 h)."""
    received = datetime(2025, 9, day, 8, tzinfo=WIB)
    hours = [1] * on_time + [30] * late
    return [{"service": service.code, "id": f"{prefix}{i}", "received_at": received.isoformat(),
             "completed_at": (received + timedelta(hours=h)).isoformat()}
            for i, h in enumerate(hours)]


def report(service, requests=(), now=NOW, reported=None) -> None:  # noqa: ANN001
    """Send a report of a service's department at a given time."""
    payload = {"requests": list(requests)}
    if reported is not None:
        payload["reported_services"] = reported
    service_requests_report(service.department, payload, now=now)


def shown(service) -> str:  # noqa: ANN001
    """Return the status a reader sees now."""
    db.session.expire_all()
    return status_for_services([service.id])[service.id].status


def stored(service) -> ServiceStatus:  # noqa: ANN001
    """Return the stored status row."""
    db.session.expire_all()
    return db.session.get(ServiceStatus, service.id)


def hours_service(**overrides):  # noqa: ANN003, ANN201
    """A service committing to 24 hours, 90 % on time."""
    values = {"commitment_value": 24, "commitment_unit": "hours", "on_time_target": 0.9}
    return create_service(**{**values, **overrides})


@pytest.mark.parametrize(
    ("on_time", "late", "expected"),
    [
        pytest.param(9, 1, "meeting", id="exactly-the-target"),
        pytest.param(90, 10, "meeting", id="exactly-the-target-of-100"),
        pytest.param(89, 11, "at_risk", id="just-below-the-target"),
        pytest.param(8, 2, "at_risk", id="exactly-target-minus-0.10"),
        pytest.param(80, 20, "at_risk", id="exactly-target-minus-0.10-of-100"),
        pytest.param(79, 21, "breaching", id="just-below-target-minus-0.10"),
        pytest.param(0, 10, "breaching", id="nothing-on-time"),
        pytest.param(10, 0, "meeting", id="ten-completed-is-enough"),
        pytest.param(9, 0, "insufficient_data", id="nine-completed-is-not"),
        pytest.param(0, 0, "insufficient_data", id="nothing-completed"),
    ],
)
def test_status_rules_on_the_on_time_rate(app, on_time, late, expected):  # noqa: ANN001
    service = hours_service()
    report(service, completions(service, on_time, late), reported=[service.code])
    assert stored(service).status == expected
    assert shown(service) == expected


def test_target_below_the_default_is_respected(app):
    service = hours_service(on_time_target=0.5)
    report(service, completions(service, 5, 5))
    assert stored(service).status == "meeting"


def test_completions_older_than_30_days_do_not_count(app):
    service = hours_service()
    # Completed 31 Aug 2025: the window is 1..30 September.
    old = [{**r, "received_at": r["received_at"].replace("2025-09-22", "2025-08-31"),
            "completed_at": r["completed_at"].replace("2025-09-22", "2025-08-31")}
           for r in completions(service, 10, 0)]
    report(service, old)
    assert stored(service).status == "insufficient_data"
    report(service, completions(service, 10, 0, prefix="new"))
    assert stored(service).status == "meeting"


def test_a_service_that_never_reported_has_no_data(app):
    service = hours_service()
    assert shown(service) == "no_data"
    status_refresh(now=NOW)
    assert stored(service).status == "no_data"
    assert "not reported" in status_reason_text(stored(service), "en")


@pytest.mark.parametrize(
    ("silence", "expected"),
    [
        pytest.param(timedelta(days=7), "meeting", id="exactly-7-days-is-still-data"),
        pytest.param(timedelta(days=7, seconds=1), "no_data", id="7-days-and-1-second-is-not"),
    ],
)
def test_no_data_after_more_than_7_days_of_silence(app, silence, expected):  # noqa: ANN001
    service = hours_service()
    report(service, completions(service, 10, 0), now=datetime(2025, 9, 23, 5, tzinfo=UTC))
    status_refresh(now=datetime(2025, 9, 23, 5, tzinfo=UTC) + silence)
    assert stored(service).status == expected


def test_a_quiet_service_turns_no_data_and_back_with_an_empty_report(app):
    service = hours_service()
    reported_at = datetime(2025, 9, 22, 5, tzinfo=UTC)
    report(service, completions(service, 10, 0), now=reported_at)
    status_refresh(now=reported_at + timedelta(days=8))
    row = stored(service)
    assert row.status == "no_data"
    with force_locale("en"):
        assert status_reason_text(row) == (
            "The department has sent no report on this service since September 22, 2025, so "
            "its current performance is unknown.")
    # Nothing new to report, but the department says so: back to what the data shows.
    report(service, reported=[service.code], now=reported_at + timedelta(days=8))
    assert stored(service).status == "meeting"


def test_an_open_major_incident_shows_disrupted_at_once_and_only_while_open(app):
    service = hours_service()
    report(service, completions(service, 10, 0))
    incident = Incident(title_id="Gangguan", impact="major", created_by="admin",
                        services=[service])
    db.session.add(incident)
    db.session.commit()
    assert shown(service) == "disrupted"  # without a refresh
    status_refresh(now=NOW)
    assert stored(service).status == "disrupted"
    incident.resolved_at = NOW
    db.session.commit()
    assert shown(service) == "meeting"  # without a refresh


def test_a_minor_incident_does_not_disrupt(app):
    service = hours_service()
    report(service, completions(service, 10, 0))
    db.session.add(Incident(title_id="Lambat", impact="minor", created_by="admin",
                            services=[service]))
    db.session.commit()
    assert shown(service) == "meeting"


def test_disrupted_wins_over_no_data(app):
    service = hours_service()
    db.session.add(Incident(title_id="Mati", impact="outage", created_by="admin",
                            services=[service]))
    db.session.commit()
    assert shown(service) == "disrupted"


def test_reason_is_a_whole_sentence_in_each_language(app):
    service = hours_service()
    report(service, completions(service, 87, 13))
    row = stored(service)
    assert row.status == "at_risk"
    english = status_reason_text(row, "en")
    assert english == ("Only 87% of 100 requests completed on time against a 90% commitment, "
                       "over the 30 days to September 30, 2025: close to breaching it.")
    indonesian = status_reason_text(row, "id")
    assert "30 September 2025" in indonesian


def test_snapshot_keeps_the_30_day_metrics(app):
    service = hours_service()
    report(service, completions(service, 9, 1))
    metrics = status_for_services([service.id])[service.id].metrics
    assert metrics["from"] == "2025-09-01" and metrics["to"] == "2025-09-30"
    assert (metrics["completed"], metrics["completed_on_time"], metrics["on_time_rate"]) == (
        10, 9, 0.9)


def test_status_counts_by_department_and_work_mode(app):
    department = create_department()
    meeting = hours_service(department=department, work_mode="wfa")
    breaching = hours_service(department=department)
    hours_service(department=department)  # never reported: no_data
    other = hours_service()
    report(meeting, completions(meeting, 10, 0))
    report(breaching, completions(breaching, 0, 10))
    report(other, completions(other, 10, 0))
    counts = status_counts()
    assert (counts["meeting"], counts["breaching"], counts["no_data"]) == (2, 1, 1)
    assert sum(counts.values()) == 4
    mine = status_counts(department_id=department.id)
    assert (mine["meeting"], mine["breaching"], mine["no_data"], mine["at_risk"]) == (1, 1, 1, 0)
    by_mode = status_counts(department_id=department.id, by_mode=True)
    assert by_mode["wfa"]["meeting"] == 1
    assert by_mode["onsite"]["breaching"] == 1 and by_mode["onsite"]["no_data"] == 1
    assert sum(by_mode["hybrid"].values()) == 0
