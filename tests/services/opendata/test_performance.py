"""Daily figures and WFA impact as CSV rows, against counts worked out by hand.

Requests go through the real ingest. The clinic promises completion within 2 hours and a
first response within 1 hour; requests arrive at 08:00 WIB, so they are due at 10:00 (first
response at 09:00) on the day they arrive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.domain.calendar import WIB
from portal.services.metrics.service_requests import service_requests_ingest
from tests.factories import create_department, create_service
from tests.services.opendata.support import at, request_item, stream_rows
from tests.wfa_support import report_due

MONDAY = date(2025, 12, 1)
TUESDAY, WEDNESDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
NOW = datetime(2025, 12, 10, 9, 0, tzinfo=WIB)


@pytest.fixture
def clinic(app):
    """Monday: 4 requests (one online); Tuesday: 1, completed 24 hours later on Wednesday."""
    health = create_department(code="dinkes")
    clinic = create_service(department=health, code="izin-klinik", commitment_value=2,
                            commitment_unit="hours", first_response_value=1,
                            first_response_unit="hours")
    service_requests_ingest(health, [
        # 1 hour, first answer at 08:30: on time both ways; came online.
        request_item(clinic, at(MONDAY, 8), at(MONDAY, 9), at(MONDAY, 8, 30), "online"),
        # 4 hours: late; first answer at 09:30: late.
        request_item(clinic, at(MONDAY, 8), at(MONDAY, 12), at(MONDAY, 9, 30)),
        # Never completed nor answered: due all the same, and late.
        request_item(clinic, at(MONDAY, 8)),
        # Completed exactly at its 10:00 deadline: on time (2 hours); no first answer.
        request_item(clinic, at(MONDAY, 8), at(MONDAY, 10)),
        # Tuesday's request, completed Wednesday 08:00 (24 hours): late.
        request_item(clinic, at(TUESDAY, 8), at(WEDNESDAY, 8)),
        # Received today: today is not over, so it has no row yet.
        request_item(clinic, NOW - timedelta(hours=1)),
    ], now=NOW)
    revenue = create_department(code="bapenda")
    samsat = create_service(department=revenue, code="samsat", commitment_value=2,
                            commitment_unit="hours")
    service_requests_ingest(revenue, [request_item(samsat, at(MONDAY, 8), at(MONDAY, 9))],
                            now=NOW)
    return clinic


def test_each_day_of_a_service_is_one_row_with_the_figures_of_that_day(clinic):
    rows = [r for r in stream_rows("service_days", NOW) if r["service_code"] == "izin-klinik"]
    assert [r["date"] for r in rows] == ["2025-12-01", "2025-12-02", "2025-12-03"]
    monday, tuesday, wednesday = rows
    assert monday == {
        "service_code": "izin-klinik", "date": "2025-12-01",
        "received": "4", "received_online": "1", "completed": "3",
        "due": "4", "on_time": "2", "late": "2", "on_time_rate": "0.5",
        "first_response_due": "4", "first_response_on_time": "1",
        "first_response_on_time_rate": "0.25",
        # Completion times 1, 2 and 4 hours: ranks ceil(1.5) = 2 and ceil(2.7) = 3.
        "median_completion_hours": "2.0", "p90_completion_hours": "4.0",
    }
    assert (tuesday["received"], tuesday["completed"], tuesday["due"], tuesday["on_time"],
            tuesday["late"], tuesday["on_time_rate"]) == ("1", "0", "1", "0", "1", "0.0")
    assert tuesday["median_completion_hours"] == ""  # nothing completed on Tuesday
    # Wednesday: the 24-hour completion, and nothing due: the rate is empty, not 0.
    assert (wednesday["received"], wednesday["completed"], wednesday["due"]) == ("0", "1", "0")
    assert wednesday["on_time_rate"] == ""
    assert wednesday["median_completion_hours"] == wednesday["p90_completion_hours"] == "24.0"


def test_daily_rows_add_up_to_the_windows_the_pages_show(clinic):
    from portal.services.metrics.figures import metrics_for_service

    rows = [r for r in stream_rows("service_days", NOW, service="izin-klinik")]
    window = metrics_for_service(clinic, MONDAY, WEDNESDAY, now=NOW)
    assert sum(int(r["received"]) for r in rows) == window.received
    assert sum(int(r["completed"]) for r in rows) == window.completed
    assert sum(int(r["due"]) for r in rows) == window.due
    assert sum(int(r["on_time"]) for r in rows) == window.on_time


def test_daily_rows_are_filtered_by_service_department_and_dates(clinic):
    assert {r["service_code"] for r in stream_rows("service_days", NOW)} == {
        "izin-klinik", "samsat"}
    assert {r["service_code"] for r in stream_rows("service_days", NOW, service="samsat")} == {
        "samsat"}
    assert {r["service_code"] for r in stream_rows("service_days", NOW,
                                                   department="dinkes")} == {"izin-klinik"}
    # Each filter narrows: a service of another department gives nothing.
    assert stream_rows("service_days", NOW, service="samsat", department="dinkes") == []
    dates = [r["date"] for r in stream_rows("service_days", NOW, service="izin-klinik",
                                            from_="2025-12-02", to="2025-12-02")]
    assert dates == ["2025-12-02"]
    assert [r["date"] for r in stream_rows("service_days", NOW, service="izin-klinik",
                                           to="2025-12-01")] == ["2025-12-01"]


def test_daily_rows_stop_at_yesterday_even_when_to_is_later(clinic):
    dates = {r["date"] for r in stream_rows("service_days", NOW, to="2026-01-31")}
    assert "2025-12-10" not in dates
    assert max(dates) == "2025-12-03"


def test_wfa_impact_row_compares_the_90_days_before_and_after_the_move(app):
    change = date(2025, 9, 1)
    moved = create_service(code="samsat-online", commitment_value=2, commitment_unit="hours",
                           work_mode="wfa", work_mode_since=change)
    create_service(code="stayed", commitment_value=2, commitment_unit="hours")
    # Before (3 June .. 31 August): 40 due, all on time, the first on 3 June (S - 90).
    report_due(moved, date(2025, 6, 3), on_time=1, now=NOW)
    report_due(moved, date(2025, 8, 31), on_time=39, now=NOW)
    # After (1 September ..): 40 due, 10 on time (1 hour) and 30 late (4 hours).
    report_due(moved, change, on_time=10, late=30, now=NOW)

    rows = stream_rows("wfa_impacts", NOW)
    assert [r["service_code"] for r in rows] == ["samsat-online"]  # "stayed" never moved
    row = rows[0]
    assert row["change_date"] == "2025-09-01"
    assert (row["from_mode"], row["to_mode"]) == ("", "wfa")
    assert row["reporting_since"] == "2025-06-03"
    assert (row["before_from"], row["before_to"]) == ("2025-06-03", "2025-08-31")
    assert (row["after_from"], row["after_to"]) == ("2025-09-01", "2025-11-29")
    assert (row["before_due"], row["before_on_time"], row["before_on_time_rate"]) == (
        "40", "40", "1.0")
    assert (row["after_due"], row["after_on_time"], row["after_on_time_rate"]) == (
        "40", "10", "0.25")
    # Median of 10 one-hour and 30 four-hour completions: rank 20, 4 hours.
    assert row["before_median_completion_hours"] == "1.0"
    assert row["after_median_completion_hours"] == "4.0"
    assert row["difference"] == "-0.75"
    assert float(row["ci_low"]) < float(row["ci_high"]) < 0
    assert (row["verdict"], row["verdict_reason"]) == ("decline", "")
    # No on-site service reported over those weeks: no comparison, no adjusted verdict.
    assert row["comparison_scope"] == row["comparison_services"] == row["net_difference"] == ""
    assert (row["adjusted_verdict"], row["adjusted_verdict_reason"]) == (
        "not_enough_data", "no_comparison_group")
    assert stream_rows("wfa_impacts", NOW, service="stayed") == []


@pytest.mark.parametrize("histogram", [
    {}, {3600: 1}, {60: 1, 120: 1}, {3600: 4, 7200: 3, 86400: 2},
    {5: 3, 900: 1, -1: 2, -2400: 5},  # coarse (negative) keys of a busy day
    {n: (n % 7) + 1 for n in range(1, 1200, 13)},
])
def test_daily_percentiles_are_the_metrics_nearest_rank_percentiles(histogram):
    from portal.services.metrics.figures import (
        MEDIAN,
        P90,
        histogram_dump,
        histogram_percentile,
    )

    expected = (histogram_percentile(histogram, MEDIAN), histogram_percentile(histogram, P90))
    assert _daily_median_and_p90(histogram_dump(histogram)) == expected


@pytest.mark.parametrize("text", [
    '{"7200":1,"3600":2}',  # keys out of order
    '{"60":0,"120":1}',  # an empty bucket
    '{"60":0}',  # nothing left in a day's only bucket
    '{"900":2,"-3":1,"-1":4}',  # coarse keys, written in any order
])
def test_daily_percentiles_of_histograms_stored_in_any_order(text):
    from portal.services.metrics.figures import (
        MEDIAN,
        P90,
        histogram_load,
        histogram_percentile,
    )

    histogram = histogram_load(text)
    expected = (histogram_percentile(histogram, MEDIAN), histogram_percentile(histogram, P90))
    assert _daily_median_and_p90(text) == expected


def _daily_median_and_p90(text: str) -> tuple[float | None, float | None]:
    """The median and p90 (seconds) the daily table finds for a day's stored histogram,
    among other days (days_percentile_keys reads a page of days at once)."""
    from portal.services.metrics.figures import key_seconds
    from portal.services.opendata.performance import days_percentile_keys

    *_before, keys, _after = days_percentile_keys(['{"60":1}', text, '{"-5":2,"9":1}'])
    return tuple(None if key is None else key_seconds(key) for key in keys)


def test_the_daily_csv_holds_exactly_what_the_csv_writer_makes_of_the_rows(clinic):
    """The daily table writes its lines itself (for speed): the same bytes as the CSV writer
    writing each value's cell, whatever the rows hold."""
    import csv
    import io

    from portal.extensions import db
    from portal.models.metrics import ServiceDay
    from portal.services.opendata.cells import csv_cell
    from portal.services.opendata.datasets import dataset_get
    from portal.services.opendata.downloads import csv_stream
    from portal.services.opendata.performance import service_day_rows
    from portal.services.opendata.selection import selection_parse

    # A code a spreadsheet would read as a formula, with a comma and a quote in it; a busy
    # day whose histogram was coarsened (negative keys), and a day with nothing completed.
    odd = create_service(code='=sum,"a"', commitment_value=2, commitment_unit="hours")
    db.session.add_all([
        ServiceDay(service_id=odd.id, day=MONDAY, received=7, completed=7, due=3,
                   due_on_time=1, first_response_due=2, first_response_due_on_time=2,
                   completion_histogram='{"-900":2,"-12":1,"5":1,"999":3}'),
        ServiceDay(service_id=odd.id, day=TUESDAY, received=1, due=1, due_on_time=0,
                   completion_histogram="{}"),
    ])
    db.session.commit()
    dataset = dataset_get("service_days")
    selection = selection_parse(dataset, {}, NOW)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(dataset.header)
    rows = list(service_day_rows(selection))
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    assert {row[0] for row in rows} == {'=sum,"a"', "izin-klinik", "samsat"}
    assert b"".join(csv_stream(dataset, selection)) == expected.getvalue().encode()
    assert "\r\n\"'=sum,\"\"a\"\"\",2025-12-01," in expected.getvalue()


def test_a_day_emptied_by_a_corrected_report_has_no_row(app):
    service = create_service(code="izin-klinik", commitment_value=2, commitment_unit="hours")
    item = request_item(service, at(MONDAY, 8))
    service_requests_ingest(service.department, [item], now=NOW)
    # The department corrects the same request: it arrived on Tuesday.
    service_requests_ingest(service.department, [{**item, "received_at": at(TUESDAY, 8)
                                                  .isoformat()}], now=NOW)
    rows = stream_rows("service_days", NOW)
    assert [(r["date"], r["received"], r["due"]) for r in rows] == [("2025-12-02", "1", "1")]
