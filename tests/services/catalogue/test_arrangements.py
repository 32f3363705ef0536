"""A department's WFA arrangement: dated versions, who may publish, and the measures beside it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import AuditEntry, AvailabilityCheck, ServiceReport, ServiceStatus
from portal.models.arrangements import WfaArrangement
from portal.services.catalogue import arrangements
from portal.services.catalogue.arrangements import ArrangementInput
from portal.services.catalogue.directory import department_overview
from portal.services.demo.arrangements import demo_arrangements_load
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.services.metrics.availability import availability_counts
from portal.services.metrics.incidents import maintenance_schedule
from tests.factories import create_department, create_service, create_user


def _declared(**changes) -> ArrangementInput:
    values = {
        "effective_from": wib_date(utc_now()) - timedelta(days=10),
        "wfa_applies": "yes",
        "remote_share_percent": 40,
        "legal_basis_title": "Keputusan Kepala Dinas tentang WFA",
        "legal_basis_number": "800/12/2026",
        "legal_basis_date": date(2026, 6, 1),
        "reporting_id": "Laporan harian di e-Kinerja",
        "reporting_en": "Daily reports in e-Kinerja",
    }
    values.update(changes)
    return ArrangementInput(**values)


@pytest.fixture
def dinkes(app):
    return create_department(code="dinkes")


def test_an_officer_publishes_versions_kept_in_order_and_audited(app, dinkes) -> None:
    officer = create_user(role="officer", department=dinkes, username="rina")
    today = wib_date(utc_now())
    first = arrangements.arrangement_record(
        officer, "dinkes",
        _declared(wfa_applies="pilot", remote_share_percent=10,
                  effective_from=today - timedelta(days=60)),
    )
    second = arrangements.arrangement_record(
        officer, "dinkes", _declared(reason="  Uji coba selesai  "),
    )

    assert arrangements.arrangement_current(dinkes) == second
    assert arrangements.arrangement_current(dinkes, on=today - timedelta(days=30)) == first
    assert arrangements.arrangement_current(dinkes, on=today - timedelta(days=61)) is None
    assert arrangements.arrangement_history(dinkes) == [second, first]
    assert (second.reason, second.recorded_by) == ("Uji coba selesai", "rina")
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "department.wfa_arrangement")
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.from_state, e.to_state) for e in entries] == [(None, "pilot"), ("pilot", "yes")]


def test_a_version_announced_ahead_is_not_in_force_before_its_day(app, dinkes) -> None:
    admin = create_user(role="admin", username="adi")
    ahead = wib_date(utc_now()) + timedelta(days=20)
    arrangements.arrangement_record(admin, "dinkes", _declared(effective_from=ahead))
    assert arrangements.arrangement_current(dinkes) is None
    assert arrangements.arrangement_current(dinkes, on=ahead).effective_from == ahead


def test_of_two_versions_from_the_same_day_the_one_recorded_last_is_in_force(
    app, dinkes
) -> None:
    # A correction published the same day replaces the first version from that day on.
    admin = create_user(role="admin", username="adi")
    day = wib_date(utc_now()) - timedelta(days=5)
    first = arrangements.arrangement_record(
        admin, "dinkes", _declared(effective_from=day, wfa_applies="pilot"))
    correction = arrangements.arrangement_record(
        admin, "dinkes", _declared(effective_from=day, wfa_applies="no",
                                   remote_share_percent=None, reason="Keliru"))

    history = arrangements.arrangement_history(dinkes)
    assert history == [correction, first]
    for on in (day, None):
        assert arrangements.arrangement_current(dinkes, on=on) == correction
        assert arrangements.arrangement_in_force(history, on=on) == correction
    assert arrangements.arrangement_current(dinkes, on=day - timedelta(days=1)) is None


@pytest.mark.parametrize("role", ["triage", "dprd"])
def test_only_the_departments_officers_and_administrators_publish(app, dinkes, role) -> None:
    other = create_department(code="bapenda")
    outsider = create_user(role="officer", department=other, username="budi")
    with pytest.raises(NotAuthorized):
        arrangements.arrangement_record(outsider, "dinkes", _declared())
    with pytest.raises(NotAuthorized):
        arrangements.arrangement_record(create_user(role=role), "dinkes", _declared())
    assert db.session.scalar(select(WfaArrangement.id)) is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"wfa_applies": "sometimes"}, "wfa_applies"),
    ({"remote_share_percent": 101}, "remote_share_percent"),
    ({"wfa_applies": "no", "remote_share_percent": 20}, "remote_share_percent"),
    ({"effective_from": None}, "effective_from"),
    ({"effective_from": date(1999, 12, 31)}, "effective_from"),
    ({"effective_from": date(9999, 12, 31)}, "effective_from"),
    ({"legal_basis_date": date(9999, 1, 1)}, "legal_basis_date"),
    ({"legal_basis_url": "javascript:alert(1)"}, "legal_basis_url"),
    ({"legal_basis_title": "", "legal_basis_number": "12/2026"}, "legal_basis_title"),
    ({"supervision_id": "x" * 2001}, "supervision_id"),
    ({"reporting_en": "bad \x00 byte"}, "reporting_en"),
    ({"it_systems_id": "half \ud800 pair"}, "it_systems_id"),
    ({"supervision_id": "  ", "supervision_en": "Checked every afternoon"}, "supervision_id"),
])
def test_a_declaration_that_cannot_be_true_is_refused_with_the_field(
    app, dinkes, changes, field
) -> None:
    admin = create_user(role="admin", username="adi")
    with pytest.raises(ValidationError) as refused:
        arrangements.arrangement_record(admin, "dinkes", _declared(**changes))
    assert field in [item.field for item in refused.value.errors]
    assert db.session.scalar(select(WfaArrangement.id)) is None


def test_a_version_may_not_start_before_the_latest_one(app, dinkes) -> None:
    admin = create_user(role="admin", username="adi")
    today = wib_date(utc_now())
    arrangements.arrangement_record(admin, "dinkes", _declared(effective_from=today))
    with pytest.raises(ValidationError) as refused:
        arrangements.arrangement_record(
            admin, "dinkes", _declared(effective_from=today - timedelta(days=1))
        )
    assert [item.field for item in refused.value.errors] == ["effective_from"]


def test_measures_beside_the_declaration(app, dinkes) -> None:
    now = utc_now()
    online = create_service(department=dinkes, online_url="https://dinkes.example/izin")
    counter = create_service(department=dinkes, online_url="")
    create_service(department=dinkes, online_url="https://dinkes.example/rujukan")
    db.session.add_all([
        ServiceReport(service_id=online.id, last_reported_at=now - timedelta(days=2)),
        ServiceReport(service_id=counter.id, last_reported_at=now - timedelta(days=30)),
        # Stored evaluations (as the status refresh leaves them).
        ServiceStatus(service_id=online.id, status="meeting", computed_at=now,
                      reason_params='{"data_status": "meeting"}',
                      metrics='{"due": 20, "on_time": 19}'),
        ServiceStatus(service_id=counter.id, status="no_data", computed_at=now,
                      reason_params='{"data_status": "no_data"}', metrics='{"due": 0}'),
        # Three checks in the window (one failed), one too old to count.
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=1), ok=True),
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=2), ok=False),
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=3), ok=True),
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=31), ok=False),
    ])
    db.session.commit()

    measured = arrangements.arrangement_measures(dinkes, now=now)

    # The freshest report of any of its services: 2 days ago.
    assert measured.days_since_report == 2
    assert (measured.availability_checks, measured.channels) == (3, 2)
    assert measured.availability == pytest.approx(2 / 3)
    # One of three services meets its commitment: the ones without data do not.
    assert (measured.services_meeting, measured.services_total) == (1, 3)
    assert measured.share_meeting == pytest.approx(1 / 3)


def test_measures_from_a_department_overview_are_those_measured_alone(app, dinkes) -> None:
    now = utc_now()
    online = create_service(department=dinkes, online_url="https://dinkes.example/izin")
    silent = create_service(department=dinkes, online_url="https://dinkes.example/rujukan")
    create_service(department=dinkes, online_url="")
    create_service(department=create_department(), online_url="https://lain.example/")
    db.session.add_all([
        ServiceReport(service_id=online.id, last_reported_at=now - timedelta(days=3)),
        ServiceReport(service_id=silent.id, last_reported_at=now - timedelta(days=40)),
        ServiceStatus(service_id=online.id, status="meeting", computed_at=now,
                      reason_params='{"data_status": "meeting"}',
                      metrics='{"due": 20, "on_time": 19}'),
        # Stored as meeting, silent since: shown (and counted) as no data.
        ServiceStatus(service_id=silent.id, status="meeting", computed_at=now,
                      reason_params='{"data_status": "meeting"}',
                      metrics='{"due": 20, "on_time": 20}'),
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=1), ok=True),
        AvailabilityCheck(service_id=silent.id, checked_at=now - timedelta(days=5), ok=False),
    ])
    db.session.commit()

    overview = department_overview("dinkes", now=now)
    measured = arrangements.arrangement_measures_from(overview)

    assert measured == arrangements.arrangement_measures(dinkes, now=now)
    assert (measured.days_since_report, measured.channels) == (3, 2)
    assert (measured.availability_checks, measured.services_meeting) == (2, 1)


def test_a_department_overview_reads_the_arrangement_and_the_checks_as_read_alone(
    app, dinkes
) -> None:
    # A department's page reads its arrangement's versions and its channels' checks with
    # the department (one statement): the same versions, in the same order, and the same
    # checks counted as each read alone.
    now = utc_now()
    today = wib_date(now)
    admin = create_user(role="admin", username="admin")
    online = create_service(department=dinkes, online_url="https://dinkes.example/izin")
    other = create_service(department=dinkes, online_url="https://dinkes.example/rujukan")
    create_service(department=dinkes, online_url="")
    elsewhere = create_service(department=create_department(), online_url="https://lain.example/")
    for effective_from, applies in ((today - timedelta(days=40), "pilot"),
                                    (today - timedelta(days=5), "no"),
                                    (today - timedelta(days=5), "yes"),  # same day, later
                                    (today + timedelta(days=20), "pilot")):  # announced
        arrangements.arrangement_record(
            admin, "dinkes", _declared(effective_from=effective_from, wfa_applies=applies,
                                       remote_share_percent=None))
    db.session.add_all([
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=1), ok=True),
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=2), ok=False),
        AvailabilityCheck(service_id=other.id, checked_at=now - timedelta(days=3), ok=True),
        # Too old, and another department's: not counted.
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=31), ok=True),
        AvailabilityCheck(service_id=elsewhere.id, checked_at=now - timedelta(days=1), ok=True),
    ])
    db.session.commit()
    # A check during declared maintenance does not count either.
    maintenance_schedule(admin, [other.code], now - timedelta(days=4, hours=1),
                         now - timedelta(days=4) + timedelta(hours=1), "Pemeliharaan")
    db.session.add(AvailabilityCheck(service_id=other.id, checked_at=now - timedelta(days=4),
                                     ok=False))
    db.session.commit()

    overview = department_overview("dinkes", now=now)

    assert overview.arrangement_history == arrangements.arrangement_history(dinkes)
    assert [v.wfa_applies for v in overview.arrangement_history] == ["pilot", "yes", "no",
                                                                     "pilot"]
    assert arrangements.arrangement_in_force(overview.arrangement_history).wfa_applies == "yes"
    start = now - timedelta(days=arrangements.MEASURE_DAYS)
    assert overview.channel_checks == availability_counts([online.id, other.id], start, now)
    assert overview.channel_checks == (3, 2)
    assert arrangements.arrangement_measures_from(overview) == \
        arrangements.arrangement_measures(dinkes, now=now)


def test_a_department_overview_without_arrangement_or_channels_reads_none(app, dinkes) -> None:
    create_service(department=dinkes, online_url="")

    overview = department_overview("dinkes")

    assert overview.arrangement_history == []
    assert overview.channel_checks == (0, 0)
    with pytest.raises(NotFound):
        department_overview("no-such-department")


def test_a_department_that_never_reported_is_said_so(app, dinkes) -> None:
    create_service(department=dinkes, online_url="")
    measured = arrangements.arrangement_measures(dinkes)
    assert measured.days_since_report is None and measured.last_reported_at is None
    assert measured.availability is None and measured.channels == 0
    assert measured.share_meeting == 0


def test_a_department_is_measured_in_one_statement(app, dinkes) -> None:
    # A scorecard measures its department on every visit.
    now = utc_now()
    online = create_service(department=dinkes, online_url="https://dinkes.example/izin")
    create_service(department=dinkes, online_url="")
    db.session.add_all([
        ServiceReport(service_id=online.id, last_reported_at=now - timedelta(days=1)),
        AvailabilityCheck(service_id=online.id, checked_at=now - timedelta(days=1), ok=True),
    ])
    db.session.commit()
    assert dinkes.id  # loaded again after the commit: not the measures' statement
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        measured = arrangements.arrangement_measures(dinkes, now=now)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(statements) == 1, statements
    assert (measured.days_since_report, measured.channels, measured.services_total) == (1, 1, 2)
    assert (measured.availability_checks, measured.availability) == (1, 1.0)


def test_a_department_without_services_measures_nothing(app, dinkes) -> None:
    measured = arrangements.arrangement_measures(dinkes)
    assert (measured.services_total, measured.channels, measured.availability_checks) == (0, 0, 0)
    assert measured.last_reported_at is None and measured.share_meeting is None


def test_demo_publishes_most_departments_once_and_leaves_some_unpublished(app) -> None:
    for code in ("bapenda", "dpmptsp", "kesbangpol", "biro-hukum"):
        create_department(code=code, name_id=f"Dinas {code}")
    assert demo_arrangements_load() == 4  # two versions each for Bapenda and DPMPTSP
    assert demo_arrangements_load() == 0
    departments = {d.code: d for d in (w.department for w in db.session.scalars(
        select(WfaArrangement)))}
    assert set(departments) == {"bapenda", "dpmptsp"}
    bapenda = departments["bapenda"]
    assert [v.wfa_applies for v in arrangements.arrangement_history(bapenda)] == ["yes", "pilot"]
