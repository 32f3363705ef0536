"""Reporting service requests: deadlines on ingest, upserts, aggregates, all-or-nothing."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import CalendarDay, CommitmentChange, ServiceDay, ServiceReport, ServiceRequest
from portal.services.errors import NotAuthorized, ValidationError
from portal.services.metrics.calendar_changes import calendar_day_set, calendar_day_unset
from portal.services.metrics.service_requests import (
    MAX_BATCH,
    BatchTooLarge,
    calendar_change_recompute_from,
    service_requests_import_csv,
    service_requests_recompute,
    service_requests_report,
)
from tests.factories import create_department, create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB


def wib(*args: int) -> datetime:
    """Return an aware WIB datetime."""
    return datetime(*args, tzinfo=WIB)


def item(service, external_id, received, completed=None, first=None, channel=None) -> dict:
    """Return one API request object, timestamps as ISO 8601 with their offset."""
    data = {"service": service.code, "id": external_id, "received_at": received.isoformat(),
            "completed_at": completed.isoformat() if completed else None,
            "first_response_at": first.isoformat() if first else None}
    if channel:
        data["channel"] = channel
    return data


def report(service, *items, now=NOW, reported=None):
    """Send a report for a service's department."""
    payload = {"requests": list(items)}
    if reported is not None:
        payload["reported_services"] = reported
    return service_requests_report(service.department, payload, now=now)


def stored(service, external_id) -> ServiceRequest:
    """Return a stored request."""
    return db.session.scalar(select(ServiceRequest).where(
        ServiceRequest.service_id == service.id, ServiceRequest.external_id == external_id))


def day_row(service, day: date) -> ServiceDay | None:
    """Return a service's aggregate row of one WIB day."""
    db.session.expire_all()
    return db.session.get(ServiceDay, (service.id, day))


def count(model) -> int:
    """Count the rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


# Deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "received", "deadline"),
    [
        # Friday 8 Aug 2025, 1 working day: the weekend is skipped -> Monday 11 Aug 24:00 WIB.
        pytest.param(1, "working_days", wib(2025, 8, 8, 10), wib(2025, 8, 12, 0), id="weekend"),
        # Friday 15 Aug, 1 working day: Sun 17 Aug holiday, Mon 18 cuti bersama -> Tue 19 Aug.
        pytest.param(1, "working_days", wib(2025, 8, 15, 10), wib(2025, 8, 20, 0),
                     id="17-august-cuti-bersama"),
        # 00:30 WIB Friday is still Thursday 17:30 UTC: the WIB date (Friday) counts.
        pytest.param(1, "working_days", datetime(2025, 8, 14, 17, 30, tzinfo=UTC),
                     wib(2025, 8, 20, 0), id="wib-date-not-utc-date"),
        # Thursday 27 Mar 2025, 1 working day: Nyepi cuti (28), Idul Fitri (31, 1 Apr) and its
        # cuti bersama (2-4, 7 Apr) -> Tuesday 8 April 24:00 WIB.
        pytest.param(1, "working_days", wib(2025, 3, 27, 10), wib(2025, 4, 9, 0),
                     id="idul-fitri"),
        # 0 working days received on a Saturday: the end of the next working day (Monday).
        pytest.param(0, "working_days", wib(2025, 8, 9, 10), wib(2025, 8, 12, 0),
                     id="same-day-on-weekend"),
        # 4 hours from Thursday 22:00 WIB: Friday 02:00 WIB, across midnight.
        pytest.param(4, "hours", wib(2025, 8, 14, 22), wib(2025, 8, 15, 2), id="hours-midnight"),
    ],
)
def test_ingest_stores_the_completion_deadline_from_the_working_calendar(
    app, value, unit, received, deadline
):
    service = create_service(commitment_value=value, commitment_unit=unit)
    report(service, item(service, "r1", received))
    assert stored(service, "r1").completion_deadline == deadline.astimezone(UTC)


def test_completion_exactly_at_the_deadline_is_on_time_and_one_second_later_is_not(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    # Both received Friday 15 Aug 2025; deadline Tuesday 19 Aug 24:00 WIB = Wed 00:00 WIB.
    report(
        service,
        item(service, "at", wib(2025, 8, 15, 10), completed=wib(2025, 8, 19, 23, 59, 59)),
        item(service, "late", wib(2025, 8, 15, 11), completed=wib(2025, 8, 20, 0, 0, 1)),
    )
    on_tuesday, on_wednesday = day_row(service, date(2025, 8, 19)), day_row(
        service, date(2025, 8, 20))
    assert (on_tuesday.completed, on_tuesday.completed_on_time) == (1, 1)
    assert (on_wednesday.completed, on_wednesday.completed_on_time) == (1, 0)


def test_hours_commitment_across_midnight_counts_the_completion_on_the_next_wib_day(app):
    service = create_service(commitment_value=4, commitment_unit="hours")
    # Received Thursday 22:00 WIB, completed Friday 01:59 WIB: on time, on Friday's row.
    report(service, item(service, "r1", wib(2025, 8, 14, 22), completed=wib(2025, 8, 15, 1, 59)))
    assert (day_row(service, date(2025, 8, 14)).received, day_row(
        service, date(2025, 8, 14)).completed) == (1, 0)
    friday = day_row(service, date(2025, 8, 15))
    assert (friday.received, friday.completed, friday.completed_on_time) == (0, 1, 1)


def test_first_response_deadline_follows_the_services_first_response_commitment(app):
    days = create_service(commitment_value=5, commitment_unit="working_days",
                          first_response_value=1, first_response_unit="working_days")
    hours = create_service(commitment_value=2, commitment_unit="working_days",
                           first_response_value=3, first_response_unit="hours")
    # Friday 15 Aug 2025 10:00 WIB. 1 working day: Sun 17 Aug holiday, Mon 18 cuti bersama ->
    # Tuesday 19 Aug 24:00 WIB. 3 hours: 13:00 WIB the same day.
    report(days, item(days, "r1", wib(2025, 8, 15, 10), first=wib(2025, 8, 19, 9)))
    report(hours, item(hours, "r1", wib(2025, 8, 15, 10), first=wib(2025, 8, 15, 13, 0, 1)))
    assert stored(days, "r1").first_response_deadline == wib(2025, 8, 20, 0)
    assert stored(hours, "r1").first_response_deadline == wib(2025, 8, 15, 13)
    tuesday = day_row(days, date(2025, 8, 19))
    assert (tuesday.first_responses, tuesday.first_responses_on_time) == (1, 1)
    friday = day_row(hours, date(2025, 8, 15))
    assert (friday.first_responses, friday.first_responses_on_time) == (1, 0)  # 1 s late


def test_a_service_without_a_first_response_commitment_has_no_first_response_deadline(app):
    service = create_service(commitment_value=5, commitment_unit="working_days")
    report(service, item(service, "r1", wib(2025, 8, 15, 10), first=wib(2025, 8, 15, 11)))
    assert stored(service, "r1").first_response_deadline is None
    friday = day_row(service, date(2025, 8, 15))
    assert (friday.received, friday.first_responses, friday.first_responses_on_time) == (1, 0, 0)


def test_deadline_uses_the_commitment_in_force_on_the_day_received(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    # From 1 September 2025 the service commits to 3 working days.
    service.commitment_value = 3
    service.commitment_history.append(CommitmentChange(
        commitment_value=3, commitment_unit="working_days", on_time_target=0.9,
        effective_from=date(2025, 9, 1)))
    db.session.commit()
    report(service, item(service, "old", wib(2025, 8, 29, 10)),  # Friday: 1 day -> Monday
           item(service, "new", wib(2025, 9, 1, 10)))  # Monday: 3 days -> Thursday
    assert stored(service, "old").completion_deadline == wib(2025, 9, 2, 0)
    assert stored(service, "new").completion_deadline == wib(2025, 9, 5, 0)


def test_a_request_received_before_the_first_dated_commitment_gets_the_earliest_one(app):
    # A history that starts on 1 September (no entry "before records"): the earliest known
    # commitment is the best available for a request received before it.
    service = create_service(commitment_value=3, commitment_unit="working_days")
    service.commitment_history.clear()
    service.commitment_history.append(CommitmentChange(
        commitment_value=3, commitment_unit="working_days", on_time_target=0.9,
        effective_from=date(2025, 9, 1)))
    db.session.commit()
    report(service, item(service, "early", wib(2025, 8, 29, 10)))  # Friday: 3 days -> Wed
    assert stored(service, "early").completion_deadline == wib(2025, 9, 4, 0)


# Upserts and aggregates --------------------------------------------------------------------


def test_a_retried_batch_changes_nothing(app):
    service = create_service()
    batch = [item(service, "a", wib(2025, 9, 1, 9), completed=wib(2025, 9, 2, 9), channel="online"),
             item(service, "b", wib(2025, 9, 1, 10))]
    first = report(service, *batch)
    before = [(r.day, r.received, r.received_online, r.completed, r.completion_histogram)
              for r in db.session.scalars(select(ServiceDay).order_by(ServiceDay.day))]
    again = report(service, *batch)
    db.session.expire_all()
    after = [(r.day, r.received, r.received_online, r.completed, r.completion_histogram)
             for r in db.session.scalars(select(ServiceDay).order_by(ServiceDay.day))]
    assert (first.created, first.updated) == (2, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert after == before
    assert count(ServiceRequest) == 2


def test_a_report_across_lookup_chunks_matches_each_request_and_day_to_its_own_row(app):
    """Stored requests and days are looked up in chunks (on SQLite grouped by service): the
    same ids at several services, and keys on both sides of a chunk's edge, each find their
    own row, so a retried report with some completions updates exactly those."""
    department = create_department()
    services = [create_service(department=department) for _ in range(3)]
    days = [date(2025, 9, 26) - timedelta(days=n) for n in range(200)]  # 600 (service, day) keys

    def batch(completed_at_second: bool) -> list[dict]:
        return [item(service, f"r{n}", wib(day.year, day.month, day.day, 9),
                     completed=wib(day.year, day.month, day.day, 11)
                     if completed_at_second and service is services[1] and n % 2 == 0 else None)
                for service in services for n, day in enumerate(days)]

    first = report(services[0], *batch(False))
    second = report(services[0], *batch(True))
    db.session.expire_all()
    assert (first.created, first.updated, first.unchanged) == (600, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 100, 500)
    assert count(ServiceRequest) == 600
    completed = db.session.execute(
        select(ServiceRequest.service_id, func.count()).where(
            ServiceRequest.completed_at.is_not(None)).group_by(ServiceRequest.service_id)).all()
    assert completed == [(services[1].id, 100)]
    # The days' aggregates agree: 100 completions, all at the second service, one a day.
    per_service = dict(db.session.execute(
        select(ServiceDay.service_id, func.sum(ServiceDay.completed))
        .group_by(ServiceDay.service_id)).all())
    assert per_service == {services[0].id: 0, services[1].id: 100, services[2].id: 0}
    assert day_row(services[1], days[0]).completed == 1
    assert day_row(services[1], days[1]).completed == 0


def test_a_later_batch_adding_completed_at_updates_the_aggregates(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    report(service, item(service, "a", wib(2025, 9, 1, 9)))
    # Open, due Tue 2 Sep (deadline 24:00): counted as due there, not yet as completed.
    tuesday = day_row(service, date(2025, 9, 2))
    assert (tuesday.completed, tuesday.due, tuesday.due_on_time) == (0, 1, 0)
    result = report(service, item(service, "a", wib(2025, 9, 1, 9), completed=wib(2025, 9, 2, 11)))
    assert (result.created, result.updated) == (0, 1)
    tuesday = day_row(service, date(2025, 9, 2))
    assert (tuesday.completed, tuesday.completed_on_time) == (1, 1)
    assert json.loads(tuesday.completion_histogram) == {"93600": 1}  # 26 h
    # Still due once on Tuesday, now on time, with its completion time.
    assert (tuesday.due, tuesday.due_on_time) == (1, 1)
    assert json.loads(tuesday.due_completion_histogram) == {"93600": 1}
    assert day_row(service, date(2025, 9, 1)).received == 1


def test_a_changed_completed_at_moves_its_contribution_to_the_new_day(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    report(service, item(service, "a", wib(2025, 9, 1, 9), completed=wib(2025, 9, 2, 11)))
    report(service, item(service, "a", wib(2025, 9, 1, 9), completed=wib(2025, 9, 4, 11)))
    tuesday, thursday = day_row(service, date(2025, 9, 2)), day_row(service, date(2025, 9, 4))
    assert (tuesday.completed, tuesday.completed_on_time, tuesday.completion_histogram) == (
        0, 0, "{}")
    assert (thursday.completed, thursday.completed_on_time) == (1, 0)  # deadline was Tuesday
    # It stays due on Tuesday, now late; nothing is due on Thursday.
    assert (tuesday.due, tuesday.due_on_time, thursday.due) == (1, 0, 0)
    assert day_row(service, date(2025, 9, 1)).received == 1


def test_a_later_open_request_keeps_the_days_completion_times(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    report(service, item(service, "a", wib(2025, 9, 1, 9), completed=wib(2025, 9, 1, 15)))
    # Received the same Monday, still open: counted there and due on Tuesday, no duration.
    report(service, item(service, "b", wib(2025, 9, 1, 10)))
    monday, tuesday = day_row(service, date(2025, 9, 1)), day_row(service, date(2025, 9, 2))
    assert (monday.received, monday.completed) == (2, 1)
    assert json.loads(monday.completion_histogram) == {"21600": 1}  # 6 h
    assert (tuesday.due, tuesday.due_on_time) == (2, 1)
    assert json.loads(tuesday.due_completion_histogram) == {"21600": 1}
    assert tuesday.completion_histogram == "{}"


def test_one_bad_item_stores_nothing_and_names_its_index_and_field(app):
    service = create_service()
    with pytest.raises(ValidationError) as caught:
        report(service,
               item(service, "ok-1", wib(2025, 9, 1, 9)),
               {**item(service, "bad", wib(2025, 9, 1, 9)), "channel": "fax"},
               item(service, "ok-2", wib(2025, 9, 1, 9)))
    assert [(e.index, e.field) for e in caught.value.errors] == [(1, "channel")]
    assert count(ServiceRequest) == 0
    assert count(ServiceDay) == 0
    assert count(ServiceReport) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"received_at": "2025-09-01T09:00:00"}, "received_at", id="naive"),
        pytest.param({"received_at": "2025-09-01"}, "received_at", id="date-only"),
        pytest.param({"received_at": "yesterday"}, "received_at", id="not-iso"),
        pytest.param({"received_at": None}, "received_at", id="missing-received"),
        pytest.param({"received_at": "2025-09-30T12:00:01+07:00"}, "received_at", id="future"),
        pytest.param({"completed_at": "2025-09-30T05:00:01Z"}, "completed_at",
                     id="completed-future"),
        pytest.param({"completed_at": "2025-09-01T08:59:59+07:00"}, "completed_at",
                     id="completed-before-received"),
        pytest.param({"first_response_at": "2025-09-01T01:59:59Z"}, "first_response_at",
                     id="first-response-before-received"),
        pytest.param({"id": ""}, "id", id="empty-id"),
        pytest.param({"id": "x" * 101}, "id", id="long-id"),
        pytest.param({"service": "no-such-service"}, "service", id="unknown-service"),
        pytest.param({"channel": "fax"}, "channel", id="bad-channel"),
        pytest.param({"colour": "blue"}, "colour", id="unknown-field"),
        pytest.param({"received_at": "0001-01-01T00:00:00+07:00"}, "received_at",
                     id="first-day-of-the-calendar"),
        pytest.param({"received_at": "1999-12-31T23:59:59+07:00"}, "received_at",
                     id="before-2000"),
        pytest.param({"first_response_at": "2025-09-03T09:00:00+07:00",
                      "completed_at": "2025-09-02T09:00:00+07:00"}, "first_response_at",
                     id="first-response-after-completion"),
    ],
)
def test_invalid_item_is_refused(app, change, field):
    service = create_service()
    raw = {**item(service, "r1", wib(2025, 9, 1, 9)), **change}
    with pytest.raises(ValidationError) as caught:
        report(service, raw)
    assert [(e.index, e.field) for e in caught.value.errors] == [(0, field)]
    assert count(ServiceRequest) == 0


def test_timestamps_at_now_and_with_any_offset_are_accepted(app):
    service = create_service()
    wita = timezone(timedelta(hours=8))
    report(service, {**item(service, "r1", datetime(2025, 9, 1, 10, tzinfo=wita)),
                     "completed_at": "2025-09-30T05:00:00Z"})
    row = stored(service, "r1")
    assert row.received_at == datetime(2025, 9, 1, 2, tzinfo=UTC)
    assert row.completed_at == NOW


def test_the_same_request_twice_in_one_batch_is_refused(app):
    service = create_service()
    with pytest.raises(ValidationError) as caught:
        report(service, item(service, "r1", wib(2025, 9, 1, 9)),
               item(service, "r1", wib(2025, 9, 1, 10)))
    assert [(e.index, e.field) for e in caught.value.errors] == [(1, "id")]


def test_a_service_of_another_department_refuses_the_whole_batch(app):
    mine = create_service()
    theirs = create_service()
    with pytest.raises(NotAuthorized):
        report(mine, item(mine, "r1", wib(2025, 9, 1, 9)), item(theirs, "r2", wib(2025, 9, 1, 9)))
    with pytest.raises(NotAuthorized):
        report(mine, reported=[theirs.code])
    assert count(ServiceRequest) == 0
    assert count(ServiceReport) == 0


def test_more_than_the_batch_limit_is_refused_before_validation(app):
    service = create_service()
    with pytest.raises(BatchTooLarge):
        report(service, *([{}] * (MAX_BATCH + 1)))


def test_every_service_named_counts_as_reported_now(app):
    department = create_department()
    named, quiet, silent = (create_service(department=department) for _ in range(3))
    report(named, item(named, "r1", wib(2025, 9, 1, 9)), reported=[quiet.code])
    reports = {r.service_id: r.last_reported_at for r in db.session.scalars(
        select(ServiceReport))}
    assert reports == {named.id: NOW, quiet.id: NOW}
    assert silent.id not in reports


def test_an_empty_report_refreshes_last_reported_at(app):
    service = create_service()
    report(service, reported=[service.code], now=NOW - timedelta(days=3))
    report(service, reported=[service.code])
    db.session.expire_all()
    assert db.session.get(ServiceReport, service.id).last_reported_at == NOW


# CSV import ---------------------------------------------------------------------------------


def test_csv_import_is_all_or_nothing_with_line_numbers(app):
    service = create_service()
    text = (
        "service,id,received_at,first_response_at,completed_at,channel\n"
        f"{service.code},a,2025-09-01T09:00:00+07:00,,,online\n"
        f"{service.code},b,2025-09-01 09:00,,,counter\n"
        f"{service.code},c,2025-09-01T09:00:00+07:00,,2025-08-01T09:00:00+07:00,\n"
    )
    with pytest.raises(ValidationError) as caught:
        service_requests_import_csv(service.department.code, text, now=NOW)
    assert [(e.index, e.field) for e in caught.value.errors] == [
        (3, "received_at"), (4, "completed_at")]
    assert count(ServiceRequest) == 0


def test_csv_import_names_the_line_of_a_foreign_service(app):
    mine, theirs = create_service(), create_service()
    text = (
        "service,id,received_at,first_response_at,completed_at,channel\n"
        f"{mine.code},a,2025-09-01T09:00:00+07:00,,,\n"
        f"{theirs.code},b,2025-09-01T09:00:00+07:00,,,\n"
    )
    with pytest.raises(ValidationError) as caught:
        service_requests_import_csv(mine.department.code, text, now=NOW)
    assert [(e.index, e.field) for e in caught.value.errors] == [(3, "service")]


def test_csv_import_stores_the_rows(app):
    service = create_service(first_response_value=1, first_response_unit="working_days")
    text = (
        "service,id,received_at,first_response_at,completed_at,channel\n"
        f"{service.code},a,2025-09-01T09:00:00+07:00,2025-09-01T10:00:00+07:00,"
        "2025-09-02T09:00:00+07:00,online\n"
        f"{service.code},b,2025-09-01T09:30:00+07:00,,,\n"
    )
    summary = service_requests_import_csv(service.department.code, text, now=NOW)
    assert (summary.created, summary.updated) == (2, 0)
    assert stored(service, "b").channel is None
    monday = day_row(service, date(2025, 9, 1))
    assert (monday.received, monday.received_online, monday.first_responses) == (2, 1, 1)


# Recomputing stored deadlines when the calendar or a commitment changes ----------------------


def evidence_case():
    """1 working day; received Thu 3 Jul 2025, completed Mon 7 Jul 2025 (no July holidays)."""
    service = create_service(commitment_value=1, commitment_unit="working_days")
    report(service, item(service, "r1", wib(2025, 7, 3, 10), completed=wib(2025, 7, 7, 11)))
    return service


def test_marking_a_day_non_working_recomputes_stored_deadlines_and_on_time_counts(app):
    service = evidence_case()
    # Deadline: end of Friday 4 July; completed Monday 7 July: late.
    assert stored(service, "r1").completion_deadline == wib(2025, 7, 5, 0)
    monday = day_row(service, date(2025, 7, 7))
    assert (monday.completed, monday.completed_on_time) == (1, 0)
    # Friday 4 July becomes non-working: the 1st working day after Thursday is Monday 7 July,
    # so the deadline is the end of Monday, and the completion is on time.
    calendar_day_set(date(2025, 7, 4), False, "banjir")
    db.session.expire_all()
    assert stored(service, "r1").completion_deadline == wib(2025, 7, 8, 0)
    monday = day_row(service, date(2025, 7, 7))
    assert (monday.received, monday.completed, monday.completed_on_time) == (0, 1, 1)
    assert day_row(service, date(2025, 7, 3)).received == 1
    assert json.loads(monday.completion_histogram) == {str(4 * 86400 + 3600): 1}


def test_removing_the_exception_recomputes_the_deadlines_back(app):
    service = evidence_case()
    calendar_day_set(date(2025, 7, 4), False)
    calendar_day_unset(date(2025, 7, 4))
    db.session.expire_all()
    assert stored(service, "r1").completion_deadline == wib(2025, 7, 5, 0)
    monday = day_row(service, date(2025, 7, 7))
    assert (monday.completed, monday.completed_on_time) == (1, 0)


def test_a_calendar_change_recomputes_first_response_deadlines_too(app):
    service = create_service(commitment_value=5, commitment_unit="working_days",
                             first_response_value=1, first_response_unit="working_days")
    report(service, item(service, "r1", wib(2025, 7, 3, 10), first=wib(2025, 7, 7, 9)))
    assert day_row(service, date(2025, 7, 7)).first_responses_on_time == 0
    calendar_day_set(date(2025, 7, 4), False)
    db.session.expire_all()
    assert stored(service, "r1").first_response_deadline == wib(2025, 7, 8, 0)
    monday = day_row(service, date(2025, 7, 7))
    assert (monday.first_responses, monday.first_responses_on_time) == (1, 1)


def test_a_calendar_change_leaves_requests_older_than_its_horizon_alone(app):
    service = evidence_case()
    # Nothing commits to more than 5 working days: the horizon is the 90-day minimum.
    assert calendar_change_recompute_from(date(2025, 10, 2)) == date(2025, 7, 4)
    # Changing 2 October recomputes from 4 July on: the request of 3 July is not read.
    calendar_day_set(date(2025, 7, 4), False)
    calendar_day_set(date(2025, 10, 2), False)
    db.session.expire_all()
    assert stored(service, "r1").completion_deadline == wib(2025, 7, 8, 0)


def test_recompute_of_an_unchanged_calendar_changes_nothing(app):
    service = evidence_case()
    before = [(r.day, r.received, r.completed, r.completed_on_time, r.completion_histogram)
              for r in db.session.scalars(select(ServiceDay).order_by(ServiceDay.day))]
    summary = service_requests_recompute([service.id])
    db.session.expire_all()
    after = [(r.day, r.received, r.completed, r.completed_on_time, r.completion_histogram)
             for r in db.session.scalars(select(ServiceDay).order_by(ServiceDay.day))]
    assert (summary.services, summary.requests, summary.changed) == (1, 1, 0)
    assert after == before


def test_recompute_reads_only_requests_received_from_the_given_day(app):
    service = evidence_case()
    # The exception is written behind the service's back, as a database restore would.
    db.session.add(CalendarDay(day=date(2025, 7, 4), is_working=False))
    db.session.commit()
    assert service_requests_recompute([service.id], received_from=date(2025, 7, 4)).changed == 0
    assert stored(service, "r1").completion_deadline == wib(2025, 7, 5, 0)
    assert service_requests_recompute([service.id], received_from=date(2025, 7, 3)).changed == 1
    db.session.expire_all()
    assert stored(service, "r1").completion_deadline == wib(2025, 7, 8, 0)


def _aggregates(service) -> list[tuple]:
    """Every stored daily figure of a service, in day order."""
    db.session.expire_all()
    return [(r.day, r.received, r.received_online, r.completed, r.completed_on_time,
             r.completion_histogram, r.due, r.due_on_time, r.due_completion_histogram,
             r.first_responses, r.first_responses_on_time, r.first_response_due,
             r.first_response_due_on_time)
            for r in db.session.scalars(select(ServiceDay).where(
                ServiceDay.service_id == service.id).order_by(ServiceDay.day))]


def test_a_rebuild_restores_damaged_aggregates_to_what_ingest_built(app):
    service = create_service(commitment_value=1, commitment_unit="working_days",
                             first_response_value=4, first_response_unit="hours")
    report(service,
           item(service, "a", wib(2025, 9, 1, 9), wib(2025, 9, 2, 9), wib(2025, 9, 1, 10),
                "online"),
           item(service, "b", wib(2025, 9, 1, 10), wib(2025, 9, 4, 9)),
           item(service, "c", wib(2025, 9, 3, 8), None, wib(2025, 9, 3, 15)))
    built = _aggregates(service)
    # Damage as a bad restore or a hand edit would: a wrong count, a lost day, a stray day.
    db.session.execute(ServiceDay.__table__.update().where(
        ServiceDay.service_id == service.id).values(due=99))
    db.session.execute(ServiceDay.__table__.delete().where(
        ServiceDay.service_id == service.id, ServiceDay.day == date(2025, 9, 2)))
    db.session.add(ServiceDay(service_id=service.id, day=date(2025, 1, 1), received=7))
    db.session.commit()
    assert _aggregates(service) != built
    summary = service_requests_recompute([service.id], rebuild=True)
    assert (summary.requests, summary.changed) == (3, 0)
    assert _aggregates(service) == built


def test_the_recompute_command_rebuilds_all_history_without_since(app, runner):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    report(service, item(service, "a", wib(2025, 9, 1, 9), wib(2025, 9, 2, 9)))
    built = _aggregates(service)
    db.session.execute(ServiceDay.__table__.update().values(due_on_time=0))
    db.session.commit()
    result = runner.invoke(args=["requests", "recompute"])
    assert result.exit_code == 0, result.output
    assert _aggregates(service) == built
