"""Officers keep their department's catalogue true: work mode and commitment changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.domain.calendar import WIB, utc_now, wib_date
from portal.extensions import db
from portal.models import AuditEntry, CommitmentChange, ServiceStatus, WorkModeChange
from portal.services.catalogue import upkeep as catalogue_staff
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.services.metrics.calendar_days import calendar_current
from portal.services.metrics.figures import metrics_for_service
from portal.services.metrics.service_requests import service_requests_report
from tests.factories import create_department, create_service, create_user


@pytest.fixture
def today() -> date:
    return wib_date(utc_now())


@pytest.fixture
def service(app):
    return create_service(code="izin-usaha", work_mode="onsite", commitment_value=5,
                          commitment_unit="working_days", on_time_target=0.9)


@pytest.fixture
def officer(service):
    return create_user(role="officer", department=service.department, username="rina")


def _fields(excinfo: pytest.ExceptionInfo) -> set[str]:
    return {e.field for e in excinfo.value.errors}


# Work mode ---------------------------------------------------------------------------------


def test_work_mode_change_updates_service_history_and_audit(service, officer, today) -> None:
    since = today - timedelta(days=3)

    catalogue_staff.service_work_mode_change(officer, "izin-usaha", "wfa", since,
                                             "  Kantor direnovasi  ")

    assert (service.work_mode, service.work_mode_since) == ("wfa", since)
    latest = db.session.scalars(
        select(WorkModeChange).where(WorkModeChange.service_id == service.id)
        .order_by(WorkModeChange.id.desc())
    ).first()
    assert (latest.work_mode, latest.effective_from, latest.recorded_by, latest.reason) == (
        "wfa", since, "rina", "Kantor direnovasi"
    )
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.object_type, entry.object_id) == (
        "service.work_mode_change", "service", "izin-usaha"
    )
    assert (entry.actor_username, entry.department_id, entry.from_state, entry.to_state) == (
        "rina", service.department_id, "onsite", "wfa"
    )
    assert since.isoformat() in entry.detail


def test_admin_may_change_any_departments_service(service, today) -> None:
    admin = create_user(role="admin")
    catalogue_staff.service_work_mode_change(admin, "izin-usaha", "hybrid", today)
    assert service.work_mode == "hybrid"


@pytest.mark.parametrize("role", ["triage", "dprd"])
def test_triage_and_dprd_may_not_change_services(service, role, today) -> None:
    with pytest.raises(NotAuthorized):
        catalogue_staff.service_work_mode_change(create_user(role=role), "izin-usaha", "wfa",
                                                 today)
    assert service.work_mode == "onsite"


def test_officer_of_another_department_may_not_change_the_service(service, today) -> None:
    stranger = create_user(role="officer", department=create_department())
    with pytest.raises(NotAuthorized):
        catalogue_staff.service_work_mode_change(stranger, "izin-usaha", "wfa", today)
    with pytest.raises(NotAuthorized):
        catalogue_staff.service_commitment_change(stranger, "izin-usaha", 3, "working_days",
                                                  0.9, today, "lebih cepat")
    db.session.expire_all()
    assert (service.work_mode, service.commitment_value) == ("onsite", 5)
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_anonymous_may_not_change_services(service, today) -> None:
    with pytest.raises(NotAuthorized):
        catalogue_staff.service_work_mode_change(None, "izin-usaha", "wfa", today)


def test_unknown_service_is_not_found(officer, today) -> None:
    with pytest.raises(NotFound):
        catalogue_staff.service_work_mode_change(officer, "no-such", "wfa", today)


@pytest.mark.parametrize(
    ("mode", "days_ago", "field"),
    [
        ("remote", 0, "work_mode"),
        ("onsite", 0, "work_mode"),  # already the current mode
        ("wfa", -1, "effective_from"),  # tomorrow
        ("wfa", 91, "effective_from"),
    ],
)
def test_work_mode_change_refuses_invalid_input(service, officer, today, mode, days_ago,
                                                field) -> None:
    with pytest.raises(ValidationError) as excinfo:
        catalogue_staff.service_work_mode_change(
            officer, "izin-usaha", mode, today - timedelta(days=days_ago)
        )
    assert field in _fields(excinfo)
    assert service.work_mode == "onsite"


def test_work_mode_change_accepts_exactly_ninety_days_ago(service, officer, today) -> None:
    catalogue_staff.service_work_mode_change(officer, "izin-usaha", "wfa",
                                             today - timedelta(days=90))
    assert service.work_mode == "wfa"


def test_work_mode_change_may_not_predate_the_latest_change(service, officer, today) -> None:
    catalogue_staff.service_work_mode_change(officer, "izin-usaha", "wfa",
                                             today - timedelta(days=5))
    with pytest.raises(ValidationError) as excinfo:
        catalogue_staff.service_work_mode_change(officer, "izin-usaha", "hybrid",
                                                 today - timedelta(days=6))
    assert _fields(excinfo) == {"effective_from"}


def test_work_mode_change_refuses_a_missing_date(service, officer) -> None:
    with pytest.raises(ValidationError) as excinfo:
        catalogue_staff.service_work_mode_change(officer, "izin-usaha", "wfa", None)
    assert "effective_from" in _fields(excinfo)


# Commitment --------------------------------------------------------------------------------


def test_commitment_change_updates_service_history_and_audit(service, officer, today) -> None:
    catalogue_staff.service_commitment_change(
        officer, "izin-usaha", 3, "working_days", 0.95, today, "Sistem daring baru"
    )

    assert (service.commitment_value, service.commitment_unit, service.on_time_target) == (
        3, "working_days", 0.95
    )
    latest = db.session.scalars(
        select(CommitmentChange).where(CommitmentChange.service_id == service.id)
        .order_by(CommitmentChange.id.desc())
    ).first()
    assert (latest.commitment_value, latest.commitment_unit, latest.on_time_target,
            latest.effective_from, latest.recorded_by, latest.reason) == (
        3, "working_days", 0.95, today, "rina", "Sistem daring baru"
    )
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.from_state, entry.to_state) == (
        "service.commitment_change", "5 working_days, 0.90", "3 working_days, 0.95"
    )


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_commitment_change_requires_a_reason(service, officer, today, reason) -> None:
    with pytest.raises(ValidationError) as excinfo:
        catalogue_staff.service_commitment_change(
            officer, "izin-usaha", 3, "working_days", 0.9, today, reason
        )
    assert _fields(excinfo) == {"reason"}
    db.session.expire_all()
    assert service.commitment_value == 5
    assert len(service.commitment_history) == 1


@pytest.mark.parametrize(
    ("value", "unit", "target", "field"),
    [
        (-1, "working_days", 0.9, "commitment_value"),
        (2601, "working_days", 0.9, "commitment_value"),
        ("3", "working_days", 0.9, "commitment_value"),
        (3, "days", 0.9, "commitment_unit"),
        (3, "working_days", 0, "on_time_target"),
        (3, "working_days", 1.01, "on_time_target"),
        (5, "working_days", 0.9, "commitment_value"),  # nothing changes
    ],
)
def test_commitment_change_refuses_invalid_input(service, officer, today, value, unit, target,
                                                 field) -> None:
    with pytest.raises(ValidationError) as excinfo:
        catalogue_staff.service_commitment_change(
            officer, "izin-usaha", value, unit, target, today, "alasan"
        )
    assert field in _fields(excinfo)


def test_commitment_change_accepts_hours_and_a_full_target(service, officer, today) -> None:
    catalogue_staff.service_commitment_change(officer, "izin-usaha", 48, "hours", 1.0, today,
                                              "Layanan kilat")
    assert (service.commitment_value, service.commitment_unit, service.on_time_target) == (
        48, "hours", 1.0
    )


# Listing -----------------------------------------------------------------------------------


def test_service_list_for_keeper_officer_sees_own_department_only(service, officer) -> None:
    other = create_service(code="lain")
    assert [s.code for s in catalogue_staff.service_list_for_keeper(officer)] == ["izin-usaha"]
    admin = create_user(role="admin")
    assert {s.code for s in catalogue_staff.service_list_for_keeper(admin)} == {
        "izin-usaha", other.code
    }
    with pytest.raises(NotAuthorized):
        catalogue_staff.service_list_for_keeper(create_user(role="dprd"))


# A commitment change recomputes what it moves ----------------------------------------------


def _late_under_one_working_day(service, today: date) -> date:
    """Report 10 requests received ~15 days ago, each completed 2 working days later."""

    calendar = calendar_current()
    received_day = today - timedelta(days=15)
    while not calendar.is_working_day(received_day):
        received_day -= timedelta(days=1)
    received = datetime.combine(received_day, time(9), WIB)
    completed = datetime.combine(calendar.add_working_days(received_day, 2), time(10), WIB)
    service_requests_report(service.department, {"requests": [
        {"service": service.code, "id": f"r{i}", "received_at": received.isoformat(),
         "completed_at": completed.isoformat()} for i in range(10)]})
    return received_day


def test_a_backdated_commitment_change_recomputes_deadlines_on_time_counts_and_status(
    app, officer, today
) -> None:

    service = create_service(code="izin-cepat", department=officer.department,
                             commitment_value=1, commitment_unit="working_days")
    received_day = _late_under_one_working_day(service, today)
    assert db.session.get(ServiceStatus, service.id).status == "breaching"  # 0 of 10 on time
    # Backdated to the day they were received: 3 working days, so all 10 were on time.
    catalogue_staff.service_commitment_change(
        officer, "izin-cepat", 3, "working_days", 0.9, received_day, "Keputusan kepala dinas")
    db.session.expire_all()
    window = metrics_for_service(service, received_day, today)
    assert (window.due, window.on_time) == (10, 10)
    status = db.session.get(ServiceStatus, service.id)
    assert status.status == "meeting"  # stored at once, not at the next refresh


def test_a_commitment_change_from_today_leaves_earlier_requests_under_the_old_terms(
    app, officer, today
) -> None:

    service = create_service(code="izin-cepat", department=officer.department,
                             commitment_value=1, commitment_unit="working_days")
    _late_under_one_working_day(service, today)
    catalogue_staff.service_commitment_change(
        officer, "izin-cepat", 3, "working_days", 0.9, today, "Mulai hari ini")
    db.session.expire_all()
    assert db.session.get(ServiceStatus, service.id).status == "breaching"


def test_a_lower_target_alone_changes_the_stored_status_at_once(app, officer, today) -> None:
    service = create_service(code="izin-cepat", department=officer.department,
                             commitment_value=1, commitment_unit="working_days")
    _late_under_one_working_day(service, today)
    catalogue_staff.service_commitment_change(
        officer, "izin-cepat", 1, "working_days", 0.05, today, "Target baru")
    db.session.expire_all()
    # Still 0 of 10 on time, now against 5 %: 0 >= 0.05 - 0.10, so at risk, not breaching.
    status = db.session.get(ServiceStatus, service.id)
    assert status.status == "at_risk"
    assert '"target":0.05' in status.reason_params


def test_first_response_commitment_is_kept_unless_given_and_recorded_in_history(
    service, officer, today
) -> None:
    catalogue_staff.service_commitment_change(
        officer, "izin-usaha", 5, "working_days", 0.9, today, "Janji tanggapan pertama",
        first_response_value=1, first_response_unit="working_days")
    assert (service.first_response_value, service.first_response_unit) == (1, "working_days")
    catalogue_staff.service_commitment_change(
        officer, "izin-usaha", 4, "working_days", 0.9, today, "Lebih cepat")
    assert (service.first_response_value, service.first_response_unit) == (1, "working_days")
    latest = db.session.scalars(
        select(CommitmentChange).where(CommitmentChange.service_id == service.id)
        .order_by(CommitmentChange.id.desc())
    ).first()
    assert (latest.commitment_value, latest.first_response_value,
            latest.first_response_unit) == (4, 1, "working_days")
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.to_state == "4 working_days, 0.90, first response 1 working_days"
    catalogue_staff.service_commitment_change(
        officer, "izin-usaha", 4, "working_days", 0.9, today, "Tanpa janji",
        first_response_value=None, first_response_unit=None)
    assert (service.first_response_value, service.first_response_unit) == (None, None)


@pytest.mark.parametrize(
    ("value", "unit", "field"),
    [
        (1, None, "first_response_unit"),
        (None, "hours", "first_response_value"),
        (-1, "hours", "first_response_value"),
        (8761, "hours", "first_response_value"),
        (1, "days", "first_response_unit"),
    ],
)
def test_commitment_change_refuses_an_invalid_first_response_commitment(
    service, officer, today, value, unit, field
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        catalogue_staff.service_commitment_change(
            officer, "izin-usaha", 5, "working_days", 0.9, today, "alasan",
            first_response_value=value, first_response_unit=unit)
    assert field in _fields(excinfo)
