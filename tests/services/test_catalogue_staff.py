"""Officers keep their department's catalogue true: work mode and commitment changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import AuditEntry, CommitmentChange, WorkModeChange
from portal.services import catalogue_staff
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from tests.factories import create_department, create_service, create_user


@pytest.fixture
def today() -> date:
    return wib_date(utc_now())


@pytest.fixture
def service(app):  # noqa: ANN001, ANN201
    return create_service(code="izin-usaha", work_mode="onsite", commitment_value=5,
                          commitment_unit="working_days", on_time_target=0.9)


@pytest.fixture
def officer(service):  # noqa: ANN001, ANN201
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
