"""Incidents, maintenance and daily availability as CSV rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.domain.calendar import WIB
from portal.services.metrics.incidents import (
    incident_open,
    incident_update,
    maintenance_schedule,
)
from tests.factories import create_department, create_service, create_user
from tests.services.opendata.support import add_checks, at, stream_rows

NOW = datetime(2025, 12, 10, 9, 0, tzinfo=WIB)
DAY = date(2025, 12, 1)


@pytest.fixture
def disrupted(app):
    """samsat: an open outage since 1 Dec; klinik: a minor incident in October, resolved.
    Maintenance of samsat on 1 Dec, 01:00 to 03:00 WIB."""
    samsat = create_service(department=create_department(code="bapenda"), code="samsat",
                            online_url="https://samsat.example.go.id")
    create_service(department=create_department(code="dinkes"), code="klinik")
    admin = create_user("admin", username="admin-budi")
    incident_open(admin, ["samsat"], "outage", "=SUM(1) layanan mati", "Service down",
                  "Sedang diperiksa.", "Being checked.", now=at(DAY, 7))
    old = incident_open(admin, ["klinik"], "minor", "Antrean lambat", "", "Lambat.", "",
                        now=datetime(2025, 10, 6, 9, 0, tzinfo=WIB))
    incident_update(admin, old.id, "resolved", "Sudah normal.", "",
                    now=datetime(2025, 10, 7, 9, 0, tzinfo=WIB))
    maintenance_schedule(admin, ["samsat"], at(DAY, 1), at(DAY, 3), "Pemeliharaan",
                         "Maintenance", "@Server diganti", "Server replaced")
    return samsat


def test_incidents_are_listed_with_their_services_and_without_who_opened_them(disrupted):
    rows = stream_rows("incidents", NOW)
    assert [r["title_id"] for r in rows] == ["'=SUM(1) layanan mati", "Antrean lambat"]
    outage, minor = rows
    assert (outage["impact"], outage["state"], outage["resolved_at"]) == (
        "outage", "investigating", "")
    assert outage["started_at"] == "2025-12-01T07:00:00+07:00"
    assert (outage["department_code"], outage["service_codes"]) == ("bapenda", "samsat")
    assert minor["resolved_at"] == "2025-10-07T09:00:00+07:00"
    assert all("admin-budi" not in row.values() for row in rows)


def test_incidents_are_filtered_by_service_and_by_the_dates_they_overlap(disrupted):
    assert [r["service_codes"] for r in stream_rows("incidents", NOW, service="klinik")] == [
        "klinik"]
    assert [r["service_codes"] for r in stream_rows("incidents", NOW,
                                                    department="bapenda")] == ["samsat"]
    # 7 October: the minor incident was still open until 09:00; the outage not begun.
    assert [r["service_codes"] for r in stream_rows("incidents", NOW, from_="2025-10-07",
                                                    to="2025-10-07")] == ["klinik"]
    # From 8 October: only the outage, open since 1 December.
    assert [r["service_codes"] for r in stream_rows("incidents", NOW,
                                                    from_="2025-10-08")] == ["samsat"]
    assert stream_rows("incidents", NOW, to="2025-10-05") == []


def test_maintenance_is_listed_with_both_languages(disrupted):
    rows = stream_rows("maintenance", NOW)
    assert rows == [{
        "maintenance_id": rows[0]["maintenance_id"], "title_id": "Pemeliharaan",
        "title_en": "Maintenance", "description_id": "'@Server diganti",
        "description_en": "Server replaced", "starts_at": "2025-12-01T01:00:00+07:00",
        "ends_at": "2025-12-01T03:00:00+07:00", "service_codes": "samsat",
    }]
    assert stream_rows("maintenance", NOW, service="klinik") == []
    assert stream_rows("maintenance", NOW, from_="2025-12-02") == []


def test_availability_is_counted_per_wib_day_leaving_out_maintenance(disrupted):
    add_checks(disrupted, [
        (at(DAY, 0, 30), True),
        (at(DAY, 1), False),  # at the window's start: during maintenance
        (at(DAY, 2), False),  # during maintenance
        (at(DAY, 3), True),  # at the window's end: counted
        (at(DAY, 23, 30), False),  # 16:30 UTC: still 1 December in WIB
        (at(DAY + timedelta(days=1), 0, 30), True),  # 17:30 UTC on 1 Dec: 2 December WIB
        (NOW - timedelta(hours=1), True),  # today: not over yet, no row
    ])
    rows = stream_rows("availability_days", NOW)
    assert rows == [
        {"service_code": "samsat", "date": "2025-12-01", "checks": "3", "checks_ok": "2",
         "checks_during_maintenance": "2", "availability": "0.6667"},
        {"service_code": "samsat", "date": "2025-12-02", "checks": "1", "checks_ok": "1",
         "checks_during_maintenance": "0", "availability": "1.0"},
    ]
    assert [r["date"] for r in stream_rows("availability_days", NOW, from_="2025-12-02")] == [
        "2025-12-02"]
    assert stream_rows("availability_days", NOW, service="klinik") == []
