"""Accountability scorecards: pooling across services and departments, by hand."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import CommitmentChange, ServiceStatus, SurveyResponse
from portal.services.accountability.tables import (
    RequestCounts,
    accountability_department,
    accountability_table,
)
from portal.services.errors import NotFound
from tests.accountability_support import move, spread
from tests.factories import create_department, create_service
from tests.wfa_support import create_due_service, ingest, report_due

FROM, TO = date(2025, 10, 1), date(2025, 10, 30)
TODAY = date(2025, 12, 31)
NOW = datetime(2025, 12, 31, 5, 0, tzinfo=UTC)
A1_REPORTED = datetime(2025, 12, 30, 3, 0, tzinfo=UTC)
_tokens = itertools.count(1)


def _status(service, status: str) -> None:
    # Metrics with "due": stored under the current definitions, so shown as stored (over the
    # row the ingest stored).
    db.session.merge(ServiceStatus(service_id=service.id, status=status,
                                   reason_params=json.dumps({"data_status": status}),
                                   metrics=json.dumps({"due": 20})))
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
    a1 = create_due_service(department=a, code="a1", work_mode="onsite")
    a2 = create_due_service(department=a, code="a2", work_mode="onsite")
    b1 = create_due_service(department=b, code="b1", work_mode="hybrid")
    move(a2, "wfa", date(2025, 6, 1))
    # Through the ingest (2-hour promise; on time takes 1 h, late 4 h). a1 reported last on
    # 30 December, a2 on 29 December, within 7 days of NOW: a stored status of a silent
    # service would read no_data. b1 last reported on 1 November: silent, so no_data.
    report_due(a1, date(2025, 10, 2), on_time=9, late=1, now=A1_REPORTED)
    report_due(a1, date(2025, 9, 30), late=100, now=A1_REPORTED)    # before the period
    report_due(a2, date(2025, 10, 3), on_time=5, late=15, open_=2,
               now=datetime(2025, 12, 29, 3, 0, tzinfo=UTC))
    report_due(b1, date(2025, 10, 30), on_time=5, now=datetime(2025, 11, 1, 3, 0, tzinfo=UTC))
    _status(a1, "breaching")
    _status(a2, "meeting")
    _survey(a1, 20, 3)
    _survey(a2, 10, 4)
    _survey(b1, 29, 4)
    return a, b, a1, a2, b1


def test_table_pools_each_department_by_hand(scene):
    a, b, a1, a2, b1 = scene
    table = accountability_table(FROM, TO, now=NOW)
    rows = {row.department.code: row.as_json("en") for row in table.departments}
    row_a = rows["dinas-a"]
    assert row_a["services"] == 2
    assert row_a["services_by_work_mode"] == {"onsite": 1, "hybrid": 0, "wfa": 1}
    # a1: 10 due and completed, 9 on time. a2: 22 due, 5 on time, 15 completed late and 2
    # never completed (late all the same, but not in the completion times).
    assert (row_a["completed"], row_a["due"], row_a["on_time"]) == (30, 32, 14)
    assert row_a["on_time_rate"] == 0.4375
    # 14 durations of 1 h and 16 of 4 h: rank ceil(0.5 × 30) = 15 is 4 h (a1's median is 1 h,
    # a2's 4 h: their mean would be 2.5 h).
    assert row_a["median_completion_hours"] == 4.0
    assert row_a["services_breaching"] == ["a1"]
    assert row_a["status_counts"]["breaching"] == 1
    assert row_a["status_counts"]["meeting"] == 1
    # 20 answers all 3 and 10 all 4: mean 100/30 per element, IKM 25 × 10/3 = 83.33, B.
    assert row_a["ikm"]["responses"] == 30
    assert (row_a["ikm"]["ikm"], row_a["ikm"]["grade"]) == (83.33, "B")
    # a2 moved but nothing fell due around its move: it is counted as moved, and nothing is
    # pooled (only services with a verdict of their own are).
    assert (row_a["wfa_impact"]["services"], row_a["wfa_impact"]["services_moved"]) == (0, 1)
    assert row_a["wfa_impact"]["verdict_reason"] == "no_service_with_verdict"
    row_b = rows["dinas-b"]
    assert (row_b["completed"], row_b["due"], row_b["on_time_rate"]) == (5, 5, 1.0)
    assert row_b["status_counts"]["no_data"] == 1          # never evaluated: no data
    assert row_b["ikm"]["ikm"] is None                    # 29 answers: not enough
    assert row_b["wfa_impact"] is None                    # hybrid since before records


def test_province_totals_pool_every_department(scene):
    table = accountability_table(FROM, TO, now=NOW)
    province = table.province.as_json()
    assert (province["services"], province["completed"], province["due"],
            province["on_time"]) == (3, 35, 37, 19)
    assert province["on_time_rate"] == 0.5135  # 19 / 37 = 0.51351…
    # 59 answers: element sums 20×3 + 10×4 + 29×4 = 216; IKM 25 × 216 / 59 = 91.53, A.
    assert (province["ikm"]["responses"], province["ikm"]["ikm"], province["ikm"]["grade"]) == (
        59, 91.53, "A")
    assert province["services_by_work_mode"] == {"onsite": 1, "hybrid": 1, "wfa": 1}


def test_freshness_and_period_are_stated(scene):
    body = accountability_table(FROM, TO, now=NOW).as_json()
    assert (body["from"], body["to"]) == ("2025-10-01", "2025-10-30")
    assert body["data_as_of"] == "2025-12-30T10:00:00+07:00"
    assert body["generated_at"] == "2025-12-31T12:00:00+07:00"


def test_table_reads_a_handful_of_queries_whatever_the_size(app):
    def count_queries(departments: int) -> int:
        for _ in range(departments):
            department = create_department()
            for index in range(3):
                service = create_service(department=department)
                spread(service, FROM, 5, 10, 9)
                if index == 0:
                    # A move per department: the WFA impact must not read per service either.
                    move(service, "wfa", date(2025, 9, 1))
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            accountability_table(FROM, TO, now=NOW)
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
    card = accountability_department("dinas-a", FROM, TO, now=NOW)
    assert (card.scorecard.requests.completed, card.scorecard.requests.due) == (30, 32)
    by_code = {row.service.code: row for row in card.services}
    assert (by_code["a1"].requests.due, by_code["a1"].requests.on_time_rate) == (10, 0.9)
    assert (by_code["a2"].requests.due, by_code["a2"].requests.on_time) == (22, 5)
    assert by_code["a1"].status.status == "breaching"
    assert by_code["a1"].ikm.ikm is None                   # 20 answers
    assert by_code["a2"].wfa.change_date == date(2025, 6, 1)
    assert by_code["a1"].wfa is None
    moves = [e for e in card.history if e.kind == "work_mode" and e.service.code == "a2"]
    assert [(e.before, e.after, e.recorded_by) for e in moves] == [
        ("onsite", "wfa", "admin-1"), (None, "onsite", "import")]
    change = next(e for e in card.history if e.kind == "commitment" and e.recorded_by ==
                  "officer-9")
    # a1 promised 2 hours before (create_due_service), 3 working days from 1 August.
    assert (change.before.commitment_value, change.after.commitment_value) == (2, 3)
    assert change.reason == "Faster"


def test_unknown_department_is_not_found(app):
    with pytest.raises(NotFound):
        accountability_department("nope", FROM, TO)


def test_period_longer_than_a_year_is_refused(app):
    with pytest.raises(ValueError):
        accountability_table(date(2024, 1, 1), date(2025, 1, 1))


def _reported(service, before: tuple[int, int], after: tuple[int, int], s_day: date) -> None:
    """Report a service's requests due 30 days before and after s_day (start 95 days before)."""
    report_due(service, s_day - timedelta(days=95), on_time=1, now=NOW)
    report_due(service, s_day - timedelta(days=30), *before, now=NOW)
    report_due(service, s_day + timedelta(days=30), *after, now=NOW)


def test_wfa_figures_pool_services_with_a_verdict_per_department_and_province(app):
    s_day = date(2025, 9, 1)
    p, q = create_department(code="dinas-p"), create_department(code="dinas-q")
    p1 = create_due_service(department=p, code="p1")
    p2 = create_due_service(department=p, code="p2")
    q1 = create_due_service(department=q, code="q1")
    for moved in (p1, p2, q1):
        move(moved, "wfa", s_day)
    _reported(p1, (36, 4), (20, 20), s_day)                   # 36/40 → 20/40
    _reported(p2, (10, 0), (0, 10), s_day)                    # too few: not pooled
    _reported(q1, (38, 2), (30, 10), s_day)                   # 38/40 → 30/40
    _reported(create_due_service(department=p, code="po"), (45, 5), (40, 10), s_day)
    _reported(create_due_service(department=q, code="qo"), (18, 2), (16, 4), s_day)
    table = accountability_table(FROM, TO, now=NOW)
    rows = {row.department.code: row.as_json("en")["wfa_impact"] for row in table.departments}
    p_row, q_row = rows["dinas-p"], rows["dinas-q"]
    assert (p_row["services"], p_row["services_moved"]) == (1, 2)
    assert (p_row["before"]["due"], p_row["after"]["due"]) == (40, 40)
    assert (p_row["difference"], p_row["verdict"]) == (-0.4, "decline")
    assert (p_row["comparison"]["scope"], p_row["comparison"]["services"]) == (
        "department", ["po"])
    # Q's own on-site service has 20 due a side: the province's (po and qo) is its comparison,
    # 56/70 − 63/70 = −0.1. q1: 30/40 − 38/40 = −0.2 (−0.3562, −0.0421); net −0.1 with MOVER
    # (−0.2971, +0.0980): no significant change once the province's trend is taken out.
    assert (q_row["comparison"]["scope"], q_row["comparison"]["services"]) == (
        "province", ["po", "qo"])
    assert (q_row["net_difference"], q_row["net_ci_low"], q_row["net_ci_high"]) == (
        -0.1, -0.2971, 0.098)
    assert (q_row["verdict"], q_row["adjusted_verdict"]) == ("decline", "no_significant_change")
    province = table.province.as_json()["wfa_impact"]
    # p1 and q1 (p2 left out): 74/80 before, 50/80 after; −0.3 (−0.4166, −0.1740).
    assert (province["services"], province["services_moved"]) == (2, 3)
    assert (province["before"]["on_time"], province["before"]["due"]) == (74, 80)
    assert (province["after"]["on_time"], province["after"]["due"]) == (50, 80)
    assert (province["difference"], province["ci_low"], province["ci_high"]) == (
        -0.3, -0.4166, -0.174)
    # One date for all: the province's on-site services. d2 = 56/70 − 63/70 = −0.1, Wilson
    # 56/70 (0.691834, 0.876953), 63/70 (0.807671, 0.950711): (−0.2195, +0.0202).
    # Net −0.2: low = −0.2 − √(0.116649² + 0.120193²) = −0.3675, high = −0.2 +
    # √(0.125998² + 0.119464²) = −0.0264.
    comparison = province["comparison"]
    assert (comparison["scope"], comparison["services"]) == ("province", ["po", "qo"])
    assert (comparison["difference"], comparison["ci_low"], comparison["ci_high"]) == (
        -0.1, -0.2195, 0.0202)
    assert (province["net_difference"], province["net_ci_low"], province["net_ci_high"]) == (
        -0.2, -0.3675, -0.0264)
    assert (province["adjusted_verdict"], province["change_date"]) == ("decline", "2025-09-01")


def test_a_period_ending_today_counts_what_fell_due_so_far(app):
    department = create_department()
    service = create_due_service(department=department)
    report_due(service, date(2025, 12, 30), on_time=6, late=2, now=NOW)
    # Today: 3 received at 08:00 fell due at 10:00 and were completed at 12:00 (now, late);
    # 2 received at 11:00 fall due at 13:00, after now: not due yet, and open.
    report_due(service, TODAY, late=3, now=NOW)
    ingest(department, [{"service": service.code, "id": f"later-{n}",
                         "received_at": datetime(2025, 12, 31, 11, 0, tzinfo=WIB).isoformat(),
                         "completed_at": None} for n in range(2)], now=NOW)
    row = accountability_table(date(2025, 12, 1), TODAY, now=NOW).as_json()["departments"]
    (figures,) = [r for r in row if r["code"] == department.code]
    # Due 8 + 3, on time 6; completed 11: 6 × 1 h and 5 × 4 h, the median (rank 6) is 1 h.
    assert (figures["due"], figures["on_time"], figures["completed"]) == (11, 6, 11)
    assert (figures["on_time_rate"], figures["median_completion_hours"]) == (0.5455, 1.0)


def test_pooled_median_follows_every_added_group():
    counts = RequestCounts(completed=1, histogram=Counter({3600: 1}))
    assert counts.median_completion_hours == 1.0
    counts.add(RequestCounts(completed=2, histogram=Counter({4 * 3600: 2})))
    # 1 h and twice 4 h: rank 2 of 3 is 4 h.
    assert counts.median_completion_hours == 4.0
