"""Services counted by shown status in the database equal the status reads' counts; the
reads of one service and of one department's services equal the list read."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from portal.domain.calendar import UTC
from portal.extensions import db
from portal.models import Department, Incident, Service, ServiceReport, ServiceStatus
from portal.models.metrics import SERVICE_STATUSES
from portal.services.catalogue.directory import (
    department_list_with_status,
    department_overview,
    status_tally,
)
from portal.services.catalogue.public_figures import oldest_status_time
from portal.services.catalogue.tallies import (
    ids_shown_as,
    shown_status_kept,
    silent_before,
    status_tallies,
)
from portal.services.metrics.reporting import service_last_reported
from portal.services.metrics.status import (
    status_counts,
    status_for_services,
    status_with_report,
)
from tests.factories import create_department, create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)
METRICS = json.dumps({"due": 12, "on_time": 11})


def store(service, status: str, data_status: str | None, reported: datetime | None,
          metrics: str = METRICS, spaced: bool = False, older: bool = False) -> None:
    """Store a status row (and the last report) as the status evaluation writes them.

    The row's data status column as status_store fills it (the data status, when the row is
    evaluated under the current definitions and not disrupted); ``older``: empty, as in a
    row written before that column.
    """
    params: dict = {"n": 12, "rate": 0.9, "target": 0.9, "since": None}
    if data_status is not None:
        params["data_status"] = data_status
    text = json.dumps(params) if spaced else json.dumps(params, separators=(",", ":"))
    column = (data_status if not older and status == data_status and '"due":' in metrics
              else None)
    db.session.add(ServiceStatus(service_id=service.id, status=status, reason_params=text,
                                 metrics=metrics, computed_at=NOW - timedelta(minutes=5),
                                 data_status=column))
    if reported is not None:
        db.session.add(ServiceReport(service_id=service.id, last_reported_at=reported))


@pytest.fixture
def province(app) -> list:
    """Services in three departments and three work modes, with every kind of stored row."""
    north, south, east = create_department(), create_department(), create_department()
    recently, long_ago = NOW - timedelta(days=1), NOW - timedelta(days=8)
    rows = [
        (north, "onsite", "meeting", "meeting", recently, {}),
        (north, "onsite", "at_risk", "at_risk", recently, {}),
        (north, "wfa", "breaching", "breaching", recently, {}),
        (north, "wfa", "insufficient_data", "insufficient_data", recently, {}),
        # Silent since the row was stored: no data now, whatever it says.
        (north, "hybrid", "meeting", "meeting", long_ago, {}),
        (north, "hybrid", "no_data", "no_data", None, {}),
        # Disrupted when stored, the incident resolved since: its data status shows.
        (south, "onsite", "disrupted", "at_risk", recently, {}),
        # Named by an open incident now: disrupted without a refresh.
        (south, "wfa", "meeting", "meeting", recently, {"incident": True}),
        # Written before the reason parameters held the data status: read as no data.
        (south, "onsite", "meeting", None, recently, {}),
        # Written with other JSON spacing: the same data status.
        (south, "hybrid", "breaching", "breaching", recently, {"spaced": True}),
        # Stored under earlier metric definitions: evaluated afresh by the lists.
        (south, "wfa", "meeting", "meeting", recently, {"metrics": '{"late": 1}'}),
        # Never evaluated.
        (south, "onsite", None, None, None, {}),
        # Written before the data status column, judged from their JSON as before.
        (east, "onsite", "at_risk", "at_risk", recently, {"older": True}),
        (east, "hybrid", "breaching", "breaching", recently, {"older": True, "spaced": True}),
        # ... silent since, or disrupted now, whatever their JSON says.
        (east, "hybrid", "meeting", "meeting", long_ago, {"older": True}),
        (east, "onsite", "meeting", "meeting", long_ago,
         {"older": True, "metrics": '{"late": 1}'}),
        (east, "wfa", "disrupted", "at_risk", recently, {"incident": True}),
        # Never evaluated but reported on, or disrupted now.
        (east, "wfa", None, None, recently, {}),
        (east, "hybrid", None, None, None, {"incident": True}),
    ]
    services = []
    for department, mode, status, data_status, reported, extra in rows:
        service = create_service(department=department, work_mode=mode)
        services.append(service)
        if status is not None:
            store(service, status, data_status, reported, metrics=extra.get("metrics", METRICS),
                  spaced=extra.get("spaced", False), older=extra.get("older", False))
        elif reported is not None:
            db.session.add(ServiceReport(service_id=service.id, last_reported_at=reported))
        if extra.get("incident"):
            incident = Incident(title_id="Gangguan", impact="major", created_by="staf",
                                started_at=NOW - timedelta(hours=1))
            incident.services.append(service)
            db.session.add(incident)
    db.session.commit()
    return services


def test_counts_by_work_mode_equal_the_status_counts_of_the_home_page(province):
    expected = status_counts(by_mode=True, now=NOW)
    counted = status_tallies("work_mode", now=NOW, reevaluate_stale=False)
    assert {mode: counts for mode, counts in expected.items() if any(counts.values())} == counted
    assert sum(sum(c.values()) for c in counted.values()) == len(province)


def test_counts_by_department_equal_the_shown_statuses_of_their_services(province):
    views = status_for_services([s.id for s in province], now=NOW)
    expected: dict[int, list] = {}
    for service in province:
        expected.setdefault(service.department_id, []).append(views[service.id])
    counted = status_tallies("department_id", now=NOW)
    assert counted == {d: status_tally(v) for d, v in expected.items()}
    # Every kind of row above is counted as the status read shows it.
    south, east = counted[province[6].department_id], counted[province[-1].department_id]
    assert south == {"disrupted": 1, "no_data": 2, "insufficient_data": 1, "meeting": 0,
                     "at_risk": 1, "breaching": 1}
    assert east == {"disrupted": 2, "no_data": 3, "insufficient_data": 0, "meeting": 0,
                    "at_risk": 1, "breaching": 1}


@pytest.mark.parametrize("reevaluate_stale", [True, False])
def test_each_services_count_is_its_shown_status(province, reevaluate_stale):
    # Counted one service a group: every kind of row above, each under the status a reader
    # sees (the list read; as stored, the stale row shows what its parameters hold).
    views = status_for_services([s.id for s in province], now=NOW)
    expected = {s.id: views[s.id].status for s in province}
    if not reevaluate_stale:
        expected[province[10].id] = "meeting"  # stored under earlier definitions
    counted = status_tallies("id", now=NOW, reevaluate_stale=reevaluate_stale)
    assert {i: [s for s, n in counts.items() if n] for i, counts in counted.items()} == {
        i: [status] for i, status in expected.items()}


def test_counts_by_department_as_stored_equal_the_status_counts(province):
    counted = status_tallies("department_id", now=NOW, reevaluate_stale=False)
    assert counted == {d: status_counts(department_id=d, now=NOW)
                       for d in {s.department_id for s in province}}


def test_rows_with_a_data_status_are_counted_by_the_database_alone(province):
    # The north department's rows all carry their data status: one statement counts them,
    # no row is read into Python to be judged.
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    department_id = province[0].department_id
    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        counted = status_tallies("department_id", department_id=department_id, now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert len(statements) == 1 and "LIKE" not in statements[0].upper()
    assert sum(counted[department_id].values()) == 6


def test_one_departments_counts(province):
    department_id = province[0].department_id
    counted = status_tallies("department_id", department_id=department_id, now=NOW)
    assert list(counted) == [department_id]
    assert counted[department_id] == {**dict.fromkeys(SERVICE_STATUSES, 0), "meeting": 1,
                                      "at_risk": 1, "breaching": 1, "insufficient_data": 1,
                                      "no_data": 2}


def test_one_service_read_equals_the_list_read_and_the_last_report(province):
    # status_with_report reads the status, the incidents and the last report in one
    # statement: the same as the list read and service_last_reported, for every kind of row.
    views = status_for_services([s.id for s in province], now=NOW)
    reported = service_last_reported([s.id for s in province])
    for service in province:
        view, last_reported_at = status_with_report(service.id, now=NOW)
        assert view == views[service.id]
        assert last_reported_at == reported.get(service.id)
    assert {v.status for v in views.values()} >= {"disrupted", "no_data", "meeting"}


def test_a_departments_services_with_status_equal_its_services_and_their_list_read(province):
    # A department's page (department_overview) reads its services and their statuses in
    # one statement of its own: the services of the department, with the list read's views.
    for department_id in {s.department_id for s in province}:
        department = db.session.get(Department, department_id)
        services = list(department.services)
        views = status_for_services([s.id for s in services], now=NOW)
        found = department_overview(department.code, now=NOW).rows
        assert [row.service.id for row in found] == [s.id for s in services]
        assert [row.status for row in found] == [views[s.id] for s in services]


def test_the_department_list_counts_as_the_status_reads_and_dates_the_oldest(province):
    # One statement reads the departments, their services counted by shown status and the
    # oldest stored status: the figures of the status reads, every kind of row above.
    empty = create_department(name_id="Dinas Tanpa Layanan")
    db.session.get(ServiceStatus, province[3].id).computed_at = NOW - timedelta(hours=2)
    db.session.commit()
    listed = department_list_with_status(now=NOW)
    by_name = db.session.execute(
        select(Department.id).order_by(Department.name_id, Department.id)).scalars().all()
    assert [row.department.id for row in listed.rows] == by_name
    assert empty.id in by_name
    counted = status_tallies("department_id", now=NOW)
    for row in listed.rows:
        assert row.counts == counted.get(row.department.id, status_tally(()))
        assert row.services == sum(row.counts.values())
        department = db.session.get(Department, row.department.id)
        assert (row.department.code, row.department.name_id, row.department.name_en) == (
            department.code, department.name_id, department.name_en)
    assert listed.oldest_status_at == oldest_status_time() == NOW - timedelta(hours=2)


def test_the_department_list_is_one_statement_when_the_database_judges_every_row(app):
    north = create_department()
    create_department()  # without services
    for status in ("meeting", "breaching", "at_risk"):
        store(create_service(department=north), status, status, NOW - timedelta(days=1))
    create_service(department=north)  # never evaluated
    db.session.commit()
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        listed = department_list_with_status(now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    assert len(statements) == 1
    assert [(row.services, row.counts) for row in listed.rows] == [
        (4, {**status_tally(()), "meeting": 1, "breaching": 1, "at_risk": 1, "no_data": 1}),
        (0, status_tally(()))]


@pytest.mark.parametrize("status", SERVICE_STATUSES)
def test_the_services_kept_by_a_status_filter_are_those_the_status_reads_show(province, status):
    # Judged by the database (the rows without a data status in Python), in the order asked.
    views = status_for_services([s.id for s in province], now=NOW)
    stmt = shown_status_kept(select(Service.id).order_by(Service.id.desc()))
    rows = db.session.execute(stmt, {"status": status, "silent_before": silent_before(NOW)})
    assert ids_shown_as(rows, status, NOW) == sorted(
        (s.id for s in province if views[s.id].status == status), reverse=True)
