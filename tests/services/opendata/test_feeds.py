"""What the feeds hold: the recorded status changes, the incidents and maintenance naming
their services, and the catalogue's date (services/opendata/feeds.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models import (
    CommitmentChange,
    Department,
    Service,
    ServiceStatusChange,
    User,
    WorkModeChange,
)
from portal.services.errors import NotFound
from portal.services.metrics.incidents import (
    incident_list,
    incident_open,
    maintenance_list,
    maintenance_schedule,
)
from portal.services.opendata.feeds import (
    EMPTY_EPOCH,
    FEED_LIMIT,
    catalogue_changed_at,
    feed_for_department,
    feed_for_province,
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


STAFF = User(username="admin", role="admin", department_id=None, is_active=True)
OLD = datetime(2025, 3, 1, tzinfo=UTC)


def four_maxima(service_ids: list[int] | None) -> datetime:
    """The catalogue's last change read as it was before, in four statements."""
    services = [] if service_ids is None else [Service.id.in_(service_ids or [-1])]
    departments = [] if service_ids is None else [
        Department.id.in_(select(Service.department_id).where(*services))]
    times = [
        db.session.scalar(select(func.max(Service.created_at)).where(*services)),
        db.session.scalar(select(func.max(Department.created_at)).where(*departments)),
    ]
    for history in (WorkModeChange, CommitmentChange):
        times.append(db.session.scalar(select(func.max(history.recorded_at)).where(
            *([] if service_ids is None else [history.service_id.in_(service_ids or [-1])]))))
    return max((t for t in times if t is not None), default=EMPTY_EPOCH)


@pytest.fixture
def catalogue(app):
    """Two departments: one with two services, the other with one; everything dated OLD."""
    department = create_department(code="dinkes")
    first = create_due_service(department=department, code="sip-dokter")
    second = create_due_service(department=department, code="izin-klinik")
    elsewhere = create_due_service(code="samsat-pkb")
    for row in (department, elsewhere.department, first, second, elsewhere):
        row.created_at = OLD
    for service in (first, second, elsewhere):
        for change in [*service.work_mode_history, *service.commitment_history]:
            change.recorded_at = OLD
    db.session.commit()
    return department, first, second, elsewhere


NEWEST = ["service", "department", "work_mode", "commitment"]


def make_newest(kind: str, service, when: datetime) -> None:
    """Date one of the catalogue's four kinds of change of a service at ``when``."""
    if kind == "service":
        service.created_at = when
    elif kind == "department":
        service.department.created_at = when
    elif kind == "work_mode":
        service.work_mode_history[0].recorded_at = when
    else:
        service.commitment_history[0].recorded_at = when
    db.session.commit()


@pytest.mark.parametrize("kind", NEWEST)
def test_the_catalogues_date_in_one_statement_is_the_newest_of_the_four(catalogue, kind):
    department, first, second, elsewhere = catalogue
    # Each kind newest in turn: of a department's service, then of a service elsewhere.
    make_newest(kind, second, OLD + timedelta(days=10))
    make_newest(kind, elsewhere, OLD + timedelta(days=20))
    ids = [first.id, second.id]

    for service_ids in (ids, [first.id], [second.id], [elsewhere.id], [], None):
        assert catalogue_changed_at(service_ids) == four_maxima(service_ids), service_ids
    assert catalogue_changed_at(ids) == OLD + timedelta(days=10)
    assert catalogue_changed_at(None) == OLD + timedelta(days=20)
    # The feeds date what they cover the same way.
    assert feed_for_service("izin-klinik").catalogue_changed_at == four_maxima([second.id])
    assert feed_for_service("sip-dokter").catalogue_changed_at == four_maxima([first.id])
    assert feed_for_department("dinkes").catalogue_changed_at == max(
        four_maxima(ids), department.created_at)
    assert feed_for_province().catalogue_changed_at == four_maxima(None)
    assert feed_for_province("sip-dokter").catalogue_changed_at == four_maxima(None)


def test_an_empty_catalogue_and_a_department_without_services_are_dated_as_before(app):
    assert catalogue_changed_at() == EMPTY_EPOCH == four_maxima(None)
    assert feed_for_province().catalogue_changed_at == EMPTY_EPOCH
    before_epoch = EMPTY_EPOCH - timedelta(days=200)
    department = create_department(code="bappeda")
    department.created_at = before_epoch
    db.session.commit()

    assert catalogue_changed_at([]) == EMPTY_EPOCH
    # max(catalogue_changed_at(its no services), its creation), as before.
    assert feed_for_department("bappeda").catalogue_changed_at == EMPTY_EPOCH
    department.created_at = OLD
    db.session.commit()
    assert feed_for_department("bappeda").catalogue_changed_at == OLD
    # With services, all older than EMPTY_EPOCH: their dates, never EMPTY_EPOCH's.
    department.created_at = before_epoch
    service = create_due_service(department=department, code="renbang")
    service.created_at = before_epoch - timedelta(days=1)
    for change in [*service.work_mode_history, *service.commitment_history]:
        change.recorded_at = before_epoch - timedelta(days=2)
    db.session.commit()
    assert four_maxima([service.id]) == before_epoch
    assert feed_for_department("bappeda").catalogue_changed_at == before_epoch
    assert feed_for_service("renbang").catalogue_changed_at == before_epoch


def test_unknown_service_or_department_is_not_found(catalogue):
    with pytest.raises(NotFound):
        feed_for_service("no-such-service")
    with pytest.raises(NotFound):
        feed_for_department("no-such-department")
    # The province's feed of an unknown service is empty, dated by the whole catalogue.
    content = feed_for_province("no-such-service")
    assert (content.incidents, content.maintenance) == ([], [])
    assert content.catalogue_changed_at == four_maxima(None)


def test_feeds_list_the_incidents_and_maintenance_naming_what_they_cover(catalogue):
    department, first, second, elsewhere = catalogue
    outage = incident_open(STAFF, [second.code], "outage", "Mati", "Down", "Cek.", "Check.")
    other = incident_open(STAFF, [elsewhere.code], "minor", "Lambat", "Slow", "Cek.", "Check.")
    starts = datetime.now(UTC) + timedelta(days=1)
    works = maintenance_schedule(STAFF, [elsewhere.code], starts, starts + timedelta(hours=2),
                                 "Pemeliharaan")

    dinkes = feed_for_department("dinkes")
    assert dinkes.incidents == incident_list(department=department, limit=FEED_LIMIT)
    assert dinkes.incidents == [outage]
    assert dinkes.maintenance == []
    assert feed_for_service(second.code).incidents == [outage]
    assert feed_for_service(first.code).incidents == []
    samsat = feed_for_service(elsewhere.code)
    assert (samsat.incidents, samsat.maintenance) == ([other], [works])
    province = feed_for_province()
    assert province.incidents == incident_list(limit=FEED_LIMIT)
    assert {i.id for i in province.incidents} == {outage.id, other.id}
    assert province.maintenance == maintenance_list(when=None, limit=FEED_LIMIT) == [works]
    filtered = feed_for_province(second.code)
    assert (filtered.incidents, filtered.maintenance) == ([outage], [])


def test_a_feed_names_the_services_of_its_status_changes(catalogue):
    department, first, second, elsewhere = catalogue
    for service in (second, elsewhere):
        db.session.add(ServiceStatusChange(
            service_id=service.id, from_status="meeting", to_status="at_risk",
            changed_at=NOW, reason_params="{}"))
    db.session.commit()

    dinkes = feed_for_department("dinkes")
    assert (dinkes.department.id, dinkes.department.code) == (department.id, "dinkes")
    assert dinkes.department.name_en == department.name_en
    assert [(s.id, s.code, s.name_id, s.name_en) for s in dinkes.services] == [
        (second.id, second.code, second.name_id, second.name_en)]
    assert [c.service_id for c in dinkes.status_changes] == [second.id]
    (service,) = feed_for_service(first.code).services  # the service, with or without changes
    assert (service.id, service.code, service.name_en) == (first.id, first.code, first.name_en)


def count_statements(read) -> int:
    """Run ``read`` and count the statements it sends the database."""
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        read()
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    return len(statements)


def test_feeds_read_in_few_statements_when_nothing_is_disrupted(catalogue):
    department, first, second, elsewhere = catalogue
    for n in range(FEED_LIMIT + 5):
        db.session.add(ServiceStatusChange(
            service_id=(first, second)[n % 2].id, from_status="meeting", to_status="at_risk",
            changed_at=NOW - timedelta(hours=n), reason_params="{}"))
    db.session.commit()
    code = first.code
    db.session.expire_all()

    # The department with its catalogue's dates and whether anything names its services,
    # then its status changes with the services they name.
    assert count_statements(lambda: feed_for_department("dinkes")) == 2
    assert count_statements(lambda: feed_for_service(code)) == 2
    assert count_statements(lambda: feed_for_province()) == 1
    assert count_statements(lambda: feed_for_province(code)) == 1
    assert len(feed_for_department("dinkes").status_changes) == FEED_LIMIT
