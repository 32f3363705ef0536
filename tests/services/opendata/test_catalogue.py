"""The catalogue as CSV: departments, services and their histories, as the pages show them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models.catalogue import CommitmentChange, WorkModeChange
from tests.factories import create_department, create_service
from tests.services.opendata.support import stream_rows

NOW = datetime(2025, 12, 10, 9, 0, tzinfo=WIB)


@pytest.fixture
def catalogue(app):
    """Two departments; a WFA service with a changed commitment, and an on-site one."""
    health = create_department(code="dinkes", name_id="Dinas Kesehatan", name_en="")
    revenue = create_department(code="bapenda", name_id="=Bapenda", name_en="Revenue Agency")
    clinic = create_service(
        department=health, code="izin-klinik", name_id="Izin klinik", name_en="Clinic permit",
        work_mode="wfa", work_mode_since=date(2025, 3, 1), commitment_value=5,
        on_time_target=0.85, first_response_value=1, first_response_unit="working_days",
        online_url="https://klinik.example.go.id", cost_id="Gratis", cost_en="Free",
    )
    clinic.work_mode_history.append(WorkModeChange(work_mode="onsite", effective_from=None,
                                                   recorded_by="admin-siti"))
    clinic.commitment_history.append(CommitmentChange(
        commitment_value=3, commitment_unit="working_days", on_time_target=0.9,
        effective_from=date(2025, 6, 1), recorded_by="admin-siti",
        reason="+Percepatan sesuai Pergub 12/2025"))
    db.session.commit()
    create_service(department=revenue, code="samsat", name_id="Samsat", name_en="")
    return clinic


def test_departments_are_listed_by_code_with_both_names(catalogue):
    rows = stream_rows("departments", NOW)
    assert rows == [
        {"department_code": "bapenda", "department_name_id": "'=Bapenda",
         "department_name_en": "Revenue Agency", "is_triage_unit": "false"},
        {"department_code": "dinkes", "department_name_id": "Dinas Kesehatan",
         "department_name_en": "", "is_triage_unit": "false"},
    ]
    assert [r["department_code"] for r in stream_rows("departments", NOW,
                                                      department="dinkes")] == ["dinkes"]


def test_service_row_holds_its_commitment_work_mode_status_and_standard(catalogue):
    rows = stream_rows("services", NOW)
    assert [r["service_code"] for r in rows] == ["izin-klinik", "samsat"]
    clinic = rows[0]
    assert clinic["department_code"] == "dinkes"
    assert (clinic["service_name_id"], clinic["service_name_en"]) == ("Izin klinik",
                                                                      "Clinic permit")
    assert (clinic["work_mode"], clinic["work_mode_since"]) == ("wfa", "2025-03-01")
    assert (clinic["commitment_value"], clinic["commitment_unit"],
            clinic["on_time_target"]) == ("5", "working_days", "0.85")
    assert (clinic["first_response_value"], clinic["first_response_unit"]) == (
        "1", "working_days")
    assert clinic["online_url"] == "https://klinik.example.go.id"
    # Never reported: the status the pages show, as a code.
    assert clinic["status"] == "no_data"
    assert (clinic["cost_id"], clinic["cost_en"]) == ("Gratis", "Free")
    samsat = rows[1]
    assert samsat["first_response_value"] == samsat["first_response_unit"] == ""
    assert samsat["online_url"] == ""


def test_services_are_filtered_by_code_and_department(catalogue):
    assert [r["service_code"] for r in stream_rows("services", NOW, service="samsat")] == [
        "samsat"]
    assert [r["service_code"] for r in stream_rows("services", NOW,
                                                   department="dinkes")] == ["izin-klinik"]
    both = stream_rows("services", NOW, service=["samsat", "izin-klinik"])
    assert [r["service_code"] for r in both] == ["izin-klinik", "samsat"]


def test_histories_give_every_dated_entry_without_who_recorded_it(catalogue):
    modes = stream_rows("work_mode_changes", NOW, service="izin-klinik")
    assert [(r["effective_from"], r["work_mode"]) for r in modes] == [
        ("2025-03-01", "wfa"), ("", "onsite")]
    assert all(r["recorded_at"].endswith("+07:00") for r in modes)
    commitments = stream_rows("commitment_changes", NOW, service="izin-klinik")
    assert [(r["effective_from"], r["commitment_value"], r["on_time_target"])
            for r in commitments] == [("", "5", "0.85"), ("2025-06-01", "3", "0.9")]
    # The public reason, neutralised because it starts with "+".
    assert commitments[1]["reason"] == "'+Percepatan sesuai Pergub 12/2025"
    for row in modes + commitments:
        assert "admin-siti" not in row.values()
        assert "recorded_by" not in row
