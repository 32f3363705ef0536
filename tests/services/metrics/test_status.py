"""Service status per docs/definitions.md: every rule and its boundary, stored and counted."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import Incident, ServiceStatus
from portal.services.catalogue.directory import status_tally
from portal.services.catalogue.tallies import status_tallies
from portal.services.metrics import status as status_module
from portal.services.metrics.service_requests import service_requests_report
from portal.services.metrics.status import (
    format_rate_against_target,
    status_counts,
    status_for_services,
    status_reason_text,
    status_refresh,
)
from tests.factories import create_department, create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB


def completions(service, on_time: int, late: int, day: int = 22, prefix: str = "r") -> list:
    """Return request objects completed on 22 Sep 2025: on time (1 h) or late (30 h > 24 h)."""
    received = datetime(2025, 9, day, 8, tzinfo=WIB)
    hours = [1] * on_time + [30] * late
    return [{"service": service.code, "id": f"{prefix}{i}", "received_at": received.isoformat(),
             "completed_at": (received + timedelta(hours=h)).isoformat()}
            for i, h in enumerate(hours)]


def report(service, requests=(), now=NOW, reported=None) -> None:
    """Send a report of a service's department at a given time."""
    payload = {"requests": list(requests)}
    if reported is not None:
        payload["reported_services"] = reported
    service_requests_report(service.department, payload, now=now)


def shown(service, now=NOW) -> str:
    """Return the status a reader sees at ``now`` (no refresh in between)."""
    db.session.expire_all()
    return status_for_services([service.id], now=now)[service.id].status


def stored(service) -> ServiceStatus:
    """Return the stored status row."""
    db.session.expire_all()
    return db.session.get(ServiceStatus, service.id)


def hours_service(**overrides):
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
def test_status_rules_on_the_on_time_rate(app, on_time, late, expected):
    service = hours_service()
    report(service, completions(service, on_time, late), reported=[service.code])
    assert stored(service).status == expected
    assert shown(service) == expected


def test_target_below_the_default_is_respected(app):
    service = hours_service(on_time_target=0.5)
    report(service, completions(service, 5, 5))
    assert stored(service).status == "meeting"


def test_requests_due_before_the_30_days_do_not_count(app):
    service = hours_service()
    # Received 30 Aug 2025 08:00 WIB, due 31 Aug 08:00: the window is 1..30 September.
    old = [{**r, "received_at": r["received_at"].replace("2025-09-22", "2025-08-30"),
            "completed_at": r["completed_at"].replace("2025-09-22", "2025-08-30")}
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
def test_no_data_after_more_than_7_days_of_silence(app, silence, expected):
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
            "The department has sent no report on this service since 22 September 2025, so "
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
    assert english == ("Only 87% of the 100 requests due over the 30 days to 30 September "
                       "2025 were completed on time, against a 90% commitment: close to "
                       "breaching it.")
    indonesian = status_reason_text(row, "id")
    assert "30 September 2025" in indonesian


def test_the_reason_names_the_window_the_status_is_judged_over(app, monkeypatch):
    # A 10-day window (21..30 September): the 5 requests of 15 September fall outside it.
    monkeypatch.setattr(status_module, "STATUS_WINDOW_DAYS", 10)
    status_module._reason_cached.cache_clear()  # sentences memoised under the 30-day window
    service = hours_service()
    report(service, completions(service, 5, 0, day=15, prefix="old")
           + completions(service, 8, 2))
    row = stored(service)
    assert row.status == "at_risk"  # 8 of 10 on time: 80%, at most 10 points below 90%
    assert status_reason_text(row, "en") == (
        "Only 80% of the 10 requests due over the 10 days to 30 September 2025 were "
        "completed on time, against a 90% commitment: close to breaching it.")
    status_module._reason_cached.cache_clear()


def test_snapshot_keeps_the_30_day_metrics(app):
    service = hours_service()
    report(service, completions(service, 9, 1))
    metrics = status_for_services([service.id], now=NOW)[service.id].metrics
    assert metrics["from"] == "2025-09-01" and metrics["to"] == "2025-09-30"
    assert (metrics["completed"], metrics["due"], metrics["on_time"], metrics["late"],
            metrics["on_time_rate"]) == (10, 10, 9, 1, 0.9)


def test_open_requests_past_their_deadline_make_a_service_breach_not_meet(app):
    service = hours_service()
    # 10 completed on time, and 47 received on 22 Sep that nobody ever closed.
    received = datetime(2025, 9, 22, 8, tzinfo=WIB).isoformat()
    never_closed = [{"service": service.code, "id": f"open{i}", "received_at": received}
                    for i in range(47)]
    report(service, completions(service, 10, 0) + never_closed)
    row = stored(service)
    assert row.status == "breaching"
    english = status_reason_text(row, "en")
    assert english.startswith("Only 17.5% of the 57 requests due")
    assert english.endswith("47 of them are late and still open.")
    assert "47" in status_reason_text(row, "id")


def test_a_service_that_closes_nothing_falls_into_breach_as_deadlines_pass(app):
    service = hours_service()
    received = datetime(2025, 9, 29, 8, tzinfo=WIB)
    report(service, [{"service": service.code, "id": f"o{i}", "received_at": received.isoformat()}
                     for i in range(12)], now=received + timedelta(hours=1))
    # Before the 24-hour deadline nothing has fallen due: not enough data, not health.
    assert stored(service).status == "insufficient_data"
    status_refresh(now=received + timedelta(hours=24))
    assert stored(service).status == "breaching"


def test_status_counts_by_department_and_work_mode(app):
    department = create_department()
    meeting = hours_service(department=department, work_mode="wfa")
    breaching = hours_service(department=department)
    hours_service(department=department)  # never reported: no_data
    other = hours_service()
    report(meeting, completions(meeting, 10, 0))
    report(breaching, completions(breaching, 0, 10))
    report(other, completions(other, 10, 0))
    counts = status_counts(now=NOW)
    assert (counts["meeting"], counts["breaching"], counts["no_data"]) == (2, 1, 1)
    assert sum(counts.values()) == 4
    mine = status_counts(department_id=department.id, now=NOW)
    assert (mine["meeting"], mine["breaching"], mine["no_data"], mine["at_risk"]) == (1, 1, 1, 0)
    by_mode = status_counts(department_id=department.id, by_mode=True, now=NOW)
    assert by_mode["wfa"]["meeting"] == 1
    assert by_mode["onsite"]["breaching"] == 1 and by_mode["onsite"]["no_data"] == 1
    assert sum(by_mode["hybrid"].values()) == 0


# Silence at read time, between refreshes ----------------------------------------------------


@pytest.mark.parametrize(
    ("silence", "expected"),
    [
        pytest.param(timedelta(days=7), "meeting", id="7-days-still-shows-the-stored-status"),
        pytest.param(timedelta(days=7, seconds=1), "no_data", id="7-days-and-1-second-no-data"),
        pytest.param(timedelta(days=9), "no_data", id="9-days-no-data"),
    ],
)
def test_silence_is_shown_as_no_data_without_any_refresh(app, silence, expected):
    service = hours_service()
    reported_at = datetime(2025, 9, 21, 5, tzinfo=UTC)
    report(service, completions(service, 10, 0, day=15), now=reported_at)
    assert stored(service).status == "meeting"  # stored then, and never refreshed since
    later = reported_at + silence
    assert shown(service, now=later) == expected
    counts = status_counts(now=later)
    assert counts[expected] == 1 and sum(counts.values()) == 1
    assert stored(service).status == "meeting"  # the read wrote nothing


def test_silence_at_read_time_gives_the_no_data_reason_with_the_last_report_date(app):
    service = hours_service()
    report(service, completions(service, 10, 0, day=15), now=datetime(2025, 9, 21, 5, tzinfo=UTC))
    view = status_for_services([service.id], now=NOW)[service.id]  # 9 days later
    assert view.status == "no_data"
    assert view.reason_params["data_status"] == "no_data"
    assert status_reason_text(view, "en") == (
        "The department has sent no report on this service since 21 September 2025, so its "
        "current performance is unknown.")


def test_a_stored_status_row_without_any_report_is_shown_as_no_data(app):
    service = hours_service()
    db.session.add(ServiceStatus(service_id=service.id, status="meeting",
                                 reason_params='{"data_status":"meeting"}'))
    db.session.commit()
    assert shown(service) == "no_data"
    assert "not reported" in status_reason_text(
        status_for_services([service.id], now=NOW)[service.id], "en")


def test_an_open_incident_still_wins_over_silence_at_read_time(app):
    service = hours_service()
    report(service, completions(service, 10, 0, day=15), now=datetime(2025, 9, 21, 5, tzinfo=UTC))
    db.session.add(Incident(title_id="Mati", impact="outage", created_by="admin",
                            services=[service]))
    db.session.commit()
    assert shown(service) == "disrupted"



def test_the_stored_row_keeps_its_data_status_for_the_counts_unless_disrupted(app):
    # status_store fills the short column the counts read (tallies) with the data status,
    # and leaves it empty for a service disrupted when evaluated: its data status is only in
    # the reason parameters, and the counts judge it from them.
    department = create_department()
    meeting, breaching, disrupted, silent = (
        hours_service(department=department, work_mode=mode)
        for mode in ("onsite", "onsite", "wfa", "hybrid"))
    report(meeting, completions(meeting, 10, 0))
    report(breaching, completions(breaching, 0, 10))
    report(disrupted, completions(disrupted, 0, 10))
    incident = Incident(title_id="Gangguan", impact="major", created_by="admin",
                        services=[disrupted])
    db.session.add(incident)
    db.session.commit()
    status_refresh(now=NOW)
    assert [(stored(s).status, stored(s).data_status)
            for s in (meeting, breaching, disrupted, silent)] == [
        ("meeting", "meeting"), ("breaching", "breaching"), ("disrupted", None),
        ("no_data", "no_data")]
    assert json.loads(stored(disrupted).reason_params)["data_status"] == "breaching"
    for resolved_at in (None, NOW):
        incident.resolved_at = resolved_at
        db.session.commit()
        views = status_for_services([meeting.id, breaching.id, disrupted.id, silent.id],
                                    now=NOW)
        assert status_tallies("department_id", now=NOW) == {
            department.id: status_tally(views.values())}
        assert status_tallies("work_mode", now=NOW, reevaluate_stale=False) == {
            mode: counts for mode, counts in status_counts(
                department_id=department.id, by_mode=True, now=NOW).items()
            if any(counts.values())}
    assert status_tallies("work_mode", now=NOW)["wfa"]["breaching"] == 1

# The rate in the reason never crosses the target ----------------------------------------------


@pytest.mark.parametrize(
    ("rate", "target", "english"),
    [
        pytest.param(0.8996, 0.9, "89.96%", id="would-round-up-to-the-target-gets-2-decimals"),
        pytest.param(0.89999, 0.9, "89.99%", id="even-2-decimals-reach-it-so-cut"),
        pytest.param(0.8994, 0.9, "89.9%", id="rounding-stays-below-one-decimal"),
        pytest.param(0.87, 0.9, "87%", id="whole-percent"),
        pytest.param(0.9, 0.9, "90%", id="exactly-the-target"),
        pytest.param(0.9996, 0.95, "100%", id="above-the-target-rounds-as-usual"),
        pytest.param(0.94951, 0.95, "94.95%", id="other-target"),
        pytest.param(None, 0.9, "0%", id="no-rate"),
    ],
)
def test_rate_against_target_never_shows_a_rate_below_the_target_as_reaching_it(
    app, rate, target, english
):
    with force_locale("en"):
        assert format_rate_against_target(rate, target) == english


def test_reason_of_a_rate_just_below_the_target_does_not_show_the_target(app):
    # 2,249 of 2,500 on time: 0.8996, which one decimal would round to "90%".
    row = ServiceStatus(status="at_risk", reason_params=json.dumps(
        {"date": "2025-09-30", "n": 2500, "rate": 2249 / 2500, "target": 0.9}))
    english = status_reason_text(row, "en")
    assert english.startswith("Only 89.96% of ")
    assert "against a 90% commitment" in english
    assert "89,96%" in status_reason_text(row, "id")
