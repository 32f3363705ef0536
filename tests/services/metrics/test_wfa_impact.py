"""WFA impact per DOMAIN.md: windows, the 30-request rule, verdicts, pooling, medians."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.models import WorkModeChange
from portal.services.metrics.figures import metrics_for_service
from portal.services.metrics.wfa_impact import (
    SideCounts,
    compare,
    latest_move,
    wfa_impact_for_service,
    wfa_impact_pooled,
    wfa_impact_pooled_by,
    wfa_impacts,
    windows,
)
from tests.accountability_support import add_day, move, spread
from tests.factories import create_department, create_service

S = date(2025, 6, 1)
TODAY = date(2025, 12, 31)


@pytest.fixture(autouse=True)
def _app(app):
    return app


def _history(*entries):
    return [WorkModeChange(id=i + 1, service_id=7, work_mode=mode, effective_from=when)
            for i, (mode, when) in enumerate(entries)]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([("onsite", None), ("wfa", S)], (S, "onsite", "wfa"), id="onsite-to-wfa"),
        pytest.param([("wfa", S)], (S, None, "wfa"), id="single-dated-entry"),
        pytest.param([("onsite", None), ("wfa", date(2025, 1, 1)), ("onsite", date(2025, 3, 1)),
                      ("hybrid", S)], (S, "onsite", "hybrid"), id="latest-of-several"),
        pytest.param([("onsite", None), ("hybrid", date(2025, 1, 1)), ("wfa", S),
                      ("onsite", date(2025, 9, 1))], (S, "hybrid", "wfa"),
                     id="moved-back-keeps-latest-move"),
        pytest.param([("onsite", None), ("wfa", date(2025, 1, 1)), ("wfa", S)],
                     (date(2025, 1, 1), "onsite", "wfa"), id="repeat-of-same-mode-is-no-move"),
        pytest.param([("onsite", None), ("onsite", S)], None, id="never-moved"),
        pytest.param([("wfa", None)], None, id="wfa-since-before-records-has-no-date"),
        pytest.param([], None, id="no-history"),
    ],
)
def test_latest_move_reads_the_history(entries, expected):
    move_found = latest_move(reversed(_history(*entries)))
    if expected is None:
        assert move_found is None
    else:
        assert (move_found.change_date, move_found.from_mode, move_found.to_mode) == expected


def test_windows_are_90_days_each_side_and_after_is_cut_at_today():
    assert windows(S, TODAY) == ((date(2025, 3, 3), date(2025, 5, 31)),
                                 (date(2025, 6, 1), date(2025, 8, 29)))
    assert windows(S, date(2025, 6, 10))[1] == (date(2025, 6, 1), date(2025, 6, 10))


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        # Before 30 of 30 on time; after 25 of 30: interval (-0.3356, -0.0197) < 0.
        pytest.param((30, 30), (30, 25), "decline", id="25-of-30-is-a-decline"),
        # After 26 of 30: interval (-0.2968, 0.0057) contains zero.
        pytest.param((30, 30), (30, 26), "no_significant_change", id="26-of-30-is-not"),
        pytest.param((30, 25), (30, 30), "improvement", id="mirror-is-an-improvement"),
        pytest.param((30, 26), (30, 30), "no_significant_change", id="mirror-26"),
        pytest.param((29, 29), (100, 10), "not_enough_data", id="29-before-no-verdict"),
        pytest.param((100, 100), (29, 0), "not_enough_data", id="29-after-no-verdict"),
        pytest.param((30, 30), (30, 0), "decline", id="30-each-side-gets-a-verdict"),
    ],
)
def test_verdict_boundaries_and_the_30_request_rule(before, after, verdict):
    result = compare(SideCounts(*before), SideCounts(*after))
    assert result["verdict"] == verdict
    if verdict == "not_enough_data":
        assert (result["difference"], result["ci_low"], result["ci_high"]) == (None, None, None)


def test_one_service_before_and_after_by_hand():
    service = create_service(work_mode="onsite")
    move(service, "wfa", S)
    spread(service, date(2025, 3, 3), 90, 100, 90)     # before: 100 completed, 90 on time
    spread(service, S, 90, 100, 70)                    # after: 100 completed, 70 on time
    add_day(service, date(2025, 3, 2), 50, 0)          # S-91: outside both windows
    add_day(service, date(2025, 8, 30), 50, 0)         # S+90: outside both windows
    impact = wfa_impact_for_service(service, today=TODAY)
    assert impact.as_json() == {
        "change_date": "2025-06-01", "from_mode": "onsite", "to_mode": "wfa",
        "before": {"completed": 100, "completed_on_time": 90, "on_time_rate": 0.9,
                   "median_completion_hours": 1.0},
        "after": {"completed": 100, "completed_on_time": 70, "on_time_rate": 0.7,
                  "median_completion_hours": 1.0},
        # Newcombe's interval of 70/100 - 90/100.
        "difference": -0.2, "ci_low": -0.3058, "ci_high": -0.09, "verdict": "decline",
    }


def test_sides_equal_the_service_metrics_of_the_same_windows():
    service = create_service()
    move(service, "hybrid", S)
    add_day(service, date(2025, 4, 1), 3, 2, hours=[1, 5, 9])
    add_day(service, date(2025, 7, 1), 4, 1, hours=[2, 2, 30, 40])
    impact = wfa_impact_for_service(service, today=TODAY)
    (b_from, b_to), (a_from, a_to) = windows(S, TODAY)
    before = metrics_for_service(service, b_from, b_to)
    after = metrics_for_service(service, a_from, a_to)
    assert (impact.before.completed, impact.before.completed_on_time,
            impact.before.median_completion_hours) == (
        before.completed, before.completed_on_time, before.median_completion_hours)
    assert (impact.after.completed, impact.after.completed_on_time,
            impact.after.median_completion_hours) == (
        after.completed, after.completed_on_time, after.median_completion_hours)


def test_after_window_is_cut_at_today():
    service = create_service()
    move(service, "wfa", S)
    add_day(service, date(2025, 6, 5), 10, 10)
    add_day(service, date(2025, 6, 20), 10, 10)
    impact = wfa_impact_for_service(service, today=date(2025, 6, 10))
    assert impact.after.completed == 10
    assert impact.after.to_date == date(2025, 6, 10)


def test_a_service_that_never_moved_has_no_impact():
    service = create_service(work_mode="onsite")
    assert wfa_impact_for_service(service, today=TODAY) is None
    assert wfa_impact_pooled([service], today=TODAY) is None


def test_pooling_adds_counts_of_each_service_own_windows_by_hand():
    department = create_department()
    a = create_service(department=department)
    b = create_service(department=department)
    never = create_service(department=department)
    move(a, "wfa", S)
    move(b, "hybrid", date(2025, 9, 1))
    spread(a, date(2025, 3, 3), 30, 40, 36)          # A before: 40, 36 on time
    spread(a, S, 30, 40, 28)                         # A after: 40, 28
    spread(b, date(2025, 6, 3), 20, 20, 19)          # B before (Jun 3 - Aug 31): 20, 19
    spread(b, date(2025, 9, 1), 20, 25, 15)          # B after: 25, 15
    add_day(never, date(2025, 7, 1), 500, 0)         # never moved: not pooled
    pooled = wfa_impact_pooled([a, b, never], today=TODAY)
    assert pooled.services == 2
    assert (pooled.before.completed, pooled.before.completed_on_time) == (60, 55)
    assert (pooled.after.completed, pooled.after.completed_on_time) == (65, 43)
    # 43/65 - 55/60 with Newcombe's interval, by hand: -0.2551 (-0.3852 to -0.1133).
    assert pooled.as_json()["difference"] == -0.2551
    assert (pooled.as_json()["ci_low"], pooled.as_json()["ci_high"]) == (-0.3852, -0.1133)
    assert pooled.verdict == "decline"
    # B alone has too little data; pooled with A there is a verdict.
    assert wfa_impacts([b], today=TODAY)[b.id].verdict == "not_enough_data"
    groups = wfa_impact_pooled_by({"x": [a.id, b.id, never.id], "none": [never.id]},
                                  today=TODAY)
    assert groups["x"].as_json() == pooled.as_json()
    assert groups["none"] is None


def test_pooled_median_merges_histograms_rather_than_averaging_medians():
    department = create_department()
    a = create_service(department=department)
    b = create_service(department=department)
    for service in (a, b):
        move(service, "wfa", S)
    add_day(a, S + timedelta(days=1), 3, 3, hours=[1, 2, 3])   # median 2 h
    add_day(b, S + timedelta(days=2), 1, 1, hours=[10])        # median 10 h
    pooled = wfa_impact_pooled([a, b], today=TODAY)
    # Four durations 1, 2, 3, 10: nearest rank ceil(0.5 * 4) = 2 -> 2 h (not (2 + 10) / 2).
    assert pooled.after.median_completion_hours == 2.0
