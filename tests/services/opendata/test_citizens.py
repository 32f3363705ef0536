"""Feedback handling and satisfaction per month, as CSV rows, against hand-worked figures."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.domain.calendar import WIB
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer, feedback_status_set
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import create_triage_unit, valid_data
from tests.services.opendata.support import add_survey_answers, stream_rows

NOW = datetime(2025, 11, 10, 9, 0, tzinfo=WIB)


def wib(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=WIB)


@pytest.fixture
def handled(app):
    """Wed 1 Oct: a complaint routed to dinas-a, answered 2 hours later, resolved the next
    day. Wed 5 Nov: another, not answered yet."""
    create_triage_unit()
    department = create_department(code="dinas-a")
    create_department(code="dinas-b")
    service = create_service(department=department)
    officer = create_user("officer", department=department)
    first = feedback_submit(valid_data(service=service.code), "id", now=wib(10, 1))
    feedback_answer(officer, first.id, "Kami periksa.", now=wib(10, 1, 12))
    feedback_status_set(officer, first.id, "resolved", now=wib(10, 2))
    feedback_submit(valid_data(service=service.code), "id", now=wib(11, 5))


def test_feedback_figures_are_given_per_department_and_month(handled):
    rows = stream_rows("feedback_departments", NOW, department="dinas-a")
    assert [(r["period_start"], r["period_end"]) for r in rows] == [
        ("2025-10-01", "2025-10-31"), ("2025-11-01", "2025-11-10")]  # cut at today
    october, november = rows
    assert october == {
        "department_code": "dinas-a", "period_start": "2025-10-01", "period_end": "2025-10-31",
        "submitted": "1", "routed": "1", "first_responses": "1",
        "first_responses_on_time": "1", "first_response_on_time_rate": "1.0",
        # 2 hours = 0.083 days, to 2 decimals.
        "median_days_to_first_response": "0.08",
        "resolved": "1", "resolved_on_time": "1", "resolved_on_time_rate": "1.0",
        "reopened": "0", "reopen_rate": "0.0", "transfers": "0",
    }
    assert (november["submitted"], november["routed"], november["first_responses"]) == (
        "1", "1", "0")
    # Nothing answered or resolved in November: the rates are empty, not 0.
    assert november["first_response_on_time_rate"] == november["resolved_on_time_rate"] == ""
    assert november["median_days_to_first_response"] == ""


def test_every_department_has_a_row_each_month_even_without_feedback(handled):
    rows = stream_rows("feedback_departments", NOW)
    assert [(r["department_code"], r["period_start"]) for r in rows] == [
        ("dinas-a", "2025-10-01"), ("dinas-b", "2025-10-01"), ("ulp", "2025-10-01"),
        ("dinas-a", "2025-11-01"), ("dinas-b", "2025-11-01"), ("ulp", "2025-11-01")]
    assert {r["submitted"] for r in rows if r["department_code"] == "dinas-b"} == {"0"}


def test_a_period_cuts_the_months_at_from_and_to(handled):
    rows = stream_rows("feedback_departments", NOW, department="dinas-a",
                       from_="2025-10-02", to="2025-11-04")
    assert [(r["period_start"], r["period_end"]) for r in rows] == [
        ("2025-10-02", "2025-10-31"), ("2025-11-01", "2025-11-04")]
    # Only the resolution of 2 October falls in the first period; the 5 November
    # complaint in none.
    assert (rows[0]["submitted"], rows[0]["resolved"]) == ("0", "1")
    assert rows[1]["submitted"] == "0"


@pytest.fixture
def answered(app):
    """October: 30 answers about s1 (all 3) and 10 about s2 (4, but facilities 1)."""
    department = create_department(code="dinas-a")
    s1 = create_service(department=department, code="s1")
    s2 = create_service(department=department, code="s2")
    create_service(department=create_department(code="dinas-b"), code="s3")
    add_survey_answers(s1, wib(10, 15), 30)
    add_survey_answers(s2, wib(10, 20), 10, **{f"u{i}": 4 for i in range(1, 9)}, u9=1)


def test_satisfaction_per_service_gives_the_ikm_from_30_responses(answered):
    rows = stream_rows("ikm_services", NOW)
    # November has no answer, s3 none at all: no rows for them.
    assert [(r["service_code"], r["period_start"]) for r in rows] == [
        ("s1", "2025-10-01"), ("s2", "2025-10-01")]
    s1, s2 = rows
    assert s1["responses"] == "30"
    assert {s1[f"u{i}_mean"] for i in range(1, 10)} == {"3.0"}
    # 25 x 3 = 75.00: grade C (65.00 to 76.60).
    assert (s1["ikm"], s1["grade"]) == ("75.0", "C")
    assert (s2["responses"], s2["u1_mean"], s2["u9_mean"]) == ("10", "4.0", "1.0")
    assert s2["ikm"] == s2["grade"] == ""  # 10 responses: not enough


def test_satisfaction_per_department_pools_its_services(answered):
    rows = stream_rows("ikm_departments", NOW)
    assert [r["department_code"] for r in rows] == ["dinas-a"]
    row = rows[0]
    assert (row["period_start"], row["period_end"]) == ("2025-10-01", "2025-10-31")
    assert row["responses"] == "40"
    # u1..u8: (30 x 3 + 10 x 4) / 40 = 3.25; u9: (30 x 3 + 10 x 1) / 40 = 2.5.
    assert row["u1_mean"] == "3.25" and row["u9_mean"] == "2.5"
    # 25 x (8 x 3.25 + 2.5) / 9 = 79.1666... -> 79.17, grade B (76.61 to 88.30).
    assert (row["ikm"], row["grade"]) == ("79.17", "B")
    assert stream_rows("ikm_departments", NOW, department="dinas-b") == []
    assert stream_rows("ikm_services", NOW, service="s1", from_="2025-10-16") == []


def test_months_before_the_first_feedback_are_not_listed(handled):
    rows = stream_rows("feedback_departments", NOW, department="dinas-a", from_="1990-01-01")
    assert [r["period_start"] for r in rows] == ["2025-10-01", "2025-11-01"]
