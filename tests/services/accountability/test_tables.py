"""Accountability scorecards: pooling across services and departments, by hand."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime

import pytest
from sqlalchemy import event

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import CommitmentChange, ServiceReport, ServiceStatus, SurveyResponse
from portal.services.accountability.tables import accountability_department, accountability_table
from portal.services.errors import NotFound
from tests.accountability_support import add_day, move, spread
from tests.factories import create_department, create_service

FROM, TO = date(2025, 10, 1), date(2025, 10, 30)
TODAY = date(2025, 12, 31)
NOW = datetime(2025, 12, 31, 5, 0, tzinfo=UTC)
_tokens = itertools.count(1)


def _status(service, status: str) -> None:
    db.session.add(ServiceStatus(service_id=service.id, status=status,
                                 reason_params=json.dumps({"data_status": status})))
    db.session.commit()


def _survey(service, count: int, score: int) -> None:
    for _ in range(count):
        db.session.add(SurveyResponse(
            service_id=service.id, visit_token=f"tok-{next(_tokens)}",
            submitted_at=datetime(2025, 10, 15, 12, 0, tzinfo=WIB),
            **{f"u{i}": score for i in range(1, 10)}))
    db.session.commit()


@pytest.fixture
def scene(app):
    a = create_department(code="dinas-a", name_id="Dinas A")
    b = create_department(code="dinas-b", name_id="Dinas B")
    a1 = create_service(department=a, code="a1", work_mode="onsite")
    a2 = create_service(department=a, code="a2", work_mode="onsite")
    b1 = create_service(department=b, code="b1", work_mode="hybrid")
    move(a2, "wfa", date(2025, 6, 1))
    add_day(a1, date(2025, 10, 2), 10, 9, hours=[1] * 10)
    add_day(a2, date(2025, 10, 3), 20, 15, hours=[3] * 20)
    add_day(b1, date(2025, 10, 30), 5, 5, hours=[2] * 5)
    add_day(a1, date(2025, 9, 30), 100, 0)    # before the period
    add_day(b1, date(2025, 10, 31), 100, 0)   # after it
    _status(a1, "breaching")
    _status(a2, "meeting")
    _survey(a1, 20, 3)
    _survey(a2, 10, 4)
    _survey(b1, 29, 4)
    db.session.add(ServiceReport(service_id=a1.id,
                                 last_reported_at=datetime(2025, 12, 30, 3, 0, tzinfo=UTC)))
    # a2 reported within 7 days of NOW too: a stored status of a silent service reads no_data.
    db.session.add(ServiceReport(service_id=a2.id,
                                 last_reported_at=datetime(2025, 12, 29, 3, 0, tzinfo=UTC)))
    db.session.commit()
    return a, b, a1, a2, b1


def test_table_pools_each_department_by_hand(scene):
    a, b, a1, a2, b1 = scene
    table = accountability_table(FROM, TO, today=TODAY, now=NOW)
    rows = {row.department.code: row.as_json("en") for row in table.departments}
    row_a = rows["dinas-a"]
    assert row_a["services"] == 2
    assert row_a["services_by_work_mode"] == {"onsite": 1, "hybrid": 0, "wfa": 1}
    assert (row_a["completed"], row_a["completed_on_time"]) == (30, 24)
    assert row_a["on_time_rate"] == 0.8
    # 10 durations of 1 h and 20 of 3 h: rank ceil(0.5 × 30) = 15 is 3 h (the mean of the
    # two services' medians would be 2 h).
    assert row_a["median_completion_hours"] == 3.0
    assert row_a["services_breaching"] == ["a1"]
    assert row_a["status_counts"]["breaching"] == 1
    assert row_a["status_counts"]["meeting"] == 1
    # 20 answers all 3 and 10 all 4: mean 100/30 per element, IKM 25 × 10/3 = 83.33, B.
    assert row_a["ikm"]["responses"] == 30
    assert (row_a["ikm"]["ikm"], row_a["ikm"]["grade"]) == (83.33, "B")
    assert row_a["wfa_impact"]["services"] == 1
    row_b = rows["dinas-b"]
    assert (row_b["completed"], row_b["on_time_rate"]) == (5, 1.0)
    assert row_b["status_counts"]["no_data"] == 1          # never evaluated: no data
    assert row_b["ikm"]["ikm"] is None                    # 29 answers: not enough
    assert row_b["wfa_impact"] is None                    # hybrid since before records


def test_province_totals_pool_every_department(scene):
    table = accountability_table(FROM, TO, today=TODAY, now=NOW)
    province = table.province.as_json()
    assert (province["services"], province["completed"], province["completed_on_time"]) == (
        3, 35, 29)
    assert province["on_time_rate"] == round(29 / 35, 4)
    # 59 answers: element sums 20×3 + 10×4 + 29×4 = 216; IKM 25 × 216 / 59 = 91.53, A.
    assert (province["ikm"]["responses"], province["ikm"]["ikm"], province["ikm"]["grade"]) == (
        59, 91.53, "A")
    assert province["services_by_work_mode"] == {"onsite": 1, "hybrid": 1, "wfa": 1}


def test_freshness_and_period_are_stated(scene):
    body = accountability_table(FROM, TO, today=TODAY, now=NOW).as_json()
    assert (body["from"], body["to"]) == ("2025-10-01", "2025-10-30")
    assert body["data_as_of"] == "2025-12-30T10:00:00+07:00"
    assert body["generated_at"] == "2025-12-31T12:00:00+07:00"


def test_table_reads_a_handful_of_queries_whatever_the_size(app):
    def count_queries(departments: int) -> int:
        for _ in range(departments):
            department = create_department()
            for _ in range(3):
                service = create_service(department=department)
                spread(service, FROM, 5, 10, 9)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            accountability_table(FROM, TO, today=TODAY, now=NOW)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    small = count_queries(1)
    large = count_queries(6)
    assert large == small
    assert small <= 20


def test_department_scorecard_down_to_services_with_history(scene):
    a, b, a1, a2, b1 = scene
    a1.commitment_history.append(CommitmentChange(
        commitment_value=3, commitment_unit="working_days", on_time_target=0.95,
        effective_from=date(2025, 8, 1), recorded_by="officer-9", reason="Faster"))
    db.session.commit()
    card = accountability_department("dinas-a", FROM, TO, today=TODAY, now=NOW)
    assert card.scorecard.completion.completed == 30
    by_code = {row.service.code: row for row in card.services}
    assert (by_code["a1"].completion.completed, by_code["a1"].completion.on_time_rate) == (
        10, 0.9)
    assert by_code["a1"].status.status == "breaching"
    assert by_code["a1"].ikm.ikm is None                   # 20 answers
    assert by_code["a2"].wfa.change_date == date(2025, 6, 1)
    assert by_code["a1"].wfa is None
    moves = [e for e in card.history if e.kind == "work_mode" and e.service.code == "a2"]
    assert [(e.before, e.after, e.recorded_by) for e in moves] == [
        ("onsite", "wfa", "admin-1"), (None, "onsite", "import")]
    change = next(e for e in card.history if e.kind == "commitment" and e.recorded_by ==
                  "officer-9")
    assert (change.before.commitment_value, change.after.commitment_value) == (5, 3)
    assert change.reason == "Faster"


def test_unknown_department_is_not_found(app):
    with pytest.raises(NotFound):
        accountability_department("nope", FROM, TO)


def test_period_longer_than_a_year_is_refused(app):
    with pytest.raises(ValueError):
        accountability_table(date(2024, 1, 1), date(2025, 1, 1))
