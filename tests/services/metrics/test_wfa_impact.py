"""WFA impact per docs/definitions.md: requests due, history coverage, the 30-request rule,
the comparison group, the net difference and pooling, on data sent through the real ingest."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.domain.calendar import WIB, wib_date
from portal.models import Service, ServiceRequest, WorkModeChange
from portal.services.metrics.figures import DueCounts
from portal.services.metrics.wfa_impact import (
    PooledWfaImpact,
    WfaImpact,
    compare,
    comparison_group,
    latest_move,
    mode_on,
    onsite_throughout,
    wfa_figures,
    wfa_impact_for_code,
    wfa_impact_for_service,
    windows,
)
from tests.accountability_support import move
from tests.factories import create_department
from tests.wfa_support import create_due_service, ingest, report_due

NOW = datetime(2025, 12, 31, 5, 0, tzinfo=UTC)  # Wednesday 31 December 2025, 12:00 WIB
TODAY = date(2025, 12, 31)
S = date(2025, 9, 1)
# Before: 3 June … 31 August 2025; after: 1 September … 29 November 2025 (S + 89).
BEFORE_START = S - timedelta(days=90)


def day(offset: int) -> date:
    """Return S + offset days."""
    return S + timedelta(days=offset)


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
                      ("onsite", date(2025, 10, 1))], (S, "hybrid", "wfa"),
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


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([("onsite", None)], True, id="on-site-since-before-records"),
        pytest.param([("onsite", BEFORE_START)], True, id="on-site-from-the-first-day"),
        pytest.param([("onsite", day(-89))], False, id="history-starts-a-day-late"),
        pytest.param([("onsite", None), ("hybrid", day(30))], False, id="moved-in-the-window"),
        pytest.param([("onsite", None), ("hybrid", day(90))], True, id="moved-after-the-window"),
        pytest.param([("wfa", None), ("onsite", day(-91))], True, id="back-on-site-before-it"),
        pytest.param([("onsite", None), ("wfa", day(10)), ("onsite", day(10))], True,
                     id="same-day-correction-wins"),
        pytest.param([], False, id="no-history-is-never-assumed-on-site"),
    ],
)
def test_onsite_throughout_needs_every_day_of_both_windows(entries, expected):
    assert onsite_throughout(_history(*entries), BEFORE_START, day(89)) is expected


def test_windows_are_90_days_each_side_and_after_is_cut_at_today():
    assert windows(S, TODAY) == ((date(2025, 6, 3), date(2025, 8, 31)),
                                 (date(2025, 9, 1), date(2025, 11, 29)))
    assert windows(S, date(2025, 9, 10))[1] == (date(2025, 9, 1), date(2025, 9, 10))


def _moved(department=None, when: date = S, **values):
    service = create_due_service(department=department or create_department(), **values)
    move(service, "wfa", when)
    return service


def test_sides_count_requests_by_due_date_and_open_ones_are_late():
    service = _moved()
    report_due(service, day(-95), on_time=1, now=NOW)                 # reporting start
    report_due(service, day(-30), on_time=36, late=4, now=NOW)        # before: 40 due
    report_due(service, day(30), on_time=10, late=15, open_=15, now=NOW)  # after: 40 due
    report_due(service, day(90), late=50, now=NOW)                    # S+90: outside both
    impact = wfa_impact_for_service(service, now=NOW)
    body = impact.as_json()
    assert body["reporting_since"] == day(-95).isoformat()
    # Before: 36 at 1 h, 4 at 4 h: rank ceil(0.5 × 40) = 20 is 1 h.
    assert body["before"] == {"due": 40, "on_time": 36, "on_time_rate": 0.9,
                              "median_completion_hours": 1.0}
    # After: the 15 open requests fell due and are late; the median is over the 25 completed
    # (10 at 1 h, 15 at 4 h): rank ceil(0.5 × 25) = 13 is 4 h.
    assert body["after"] == {"due": 40, "on_time": 10, "on_time_rate": 0.25,
                             "median_completion_hours": 4.0}
    # Newcombe, 10/40 − 36/40 = −0.65. Wilson: 10/40 (0.141871, 0.401940), 36/40 (0.769482,
    # 0.960420). low = −0.65 − √(0.108129² + 0.060420²) = −0.65 − 0.123862 = −0.7739;
    # high = −0.65 + √(0.151940² + 0.130518²) = −0.65 + 0.200303 = −0.4497.
    assert (body["difference"], body["ci_low"], body["ci_high"]) == (-0.65, -0.7739, -0.4497)
    assert (body["verdict"], body["verdict_reason"]) == ("decline", None)


@pytest.mark.parametrize(
    ("first_request", "verdict", "reason", "before_due"),
    [
        # The before window starts on S − 90 (3 June).
        pytest.param(-91, "decline", None, 40, id="reports-began-the-day-before-the-window"),
        pytest.param(-90, "decline", None, 41, id="reports-began-the-day-the-window-starts"),
        pytest.param(-89, "not_enough_data", "partial_history", 41,
                     id="reports-began-one-day-after-the-window-starts"),
    ],
)
def test_history_must_cover_the_whole_before_window(first_request, verdict, reason, before_due):
    service = _moved()
    report_due(service, day(first_request), on_time=1, now=NOW)
    report_due(service, day(-30), on_time=36, late=4, now=NOW)
    report_due(service, day(30), on_time=20, late=20, now=NOW)
    impact = wfa_impact_for_service(service, now=NOW)
    assert impact.reporting_since == day(first_request)
    assert (impact.verdict, impact.verdict_reason) == (verdict, reason)
    # The counts are shown either way; with 41 or 40 due before there are 30 or more a side,
    # so only the history decides.
    assert (impact.before.due, impact.after.due) == (before_due, 40)
    if reason:
        assert (impact.difference, impact.ci_low, impact.ci_high) == (None, None, None)
        assert impact.adjusted_verdict == "not_enough_data"
    else:
        assert impact.difference < 0


@pytest.mark.parametrize(
    ("before", "after", "verdict", "reason"),
    [
        pytest.param((29, 0), (10, 20), "not_enough_data", "too_few_requests", id="29-before"),
        pytest.param((30, 0), (10, 19), "not_enough_data", "too_few_requests", id="29-after"),
        # 10/30 − 30/30: Wilson 10/30 (0.192305, 0.512199), 30/30 (0.886487, 1).
        # high = −0.6667 + √(0.178866² + 0.113513²) = −0.4548 < 0: a decline.
        pytest.param((30, 0), (10, 20), "decline", None, id="30-a-side-gets-a-verdict"),
    ],
)
def test_thirty_due_requests_are_needed_on_each_side(before, after, verdict, reason):
    service = _moved()
    report_due(service, day(-95), on_time=1, now=NOW)       # outside: reporting start only
    report_due(service, day(-10), *before, now=NOW)
    # The after side's late requests are left open: they count as due all the same.
    report_due(service, day(10), on_time=after[0], open_=after[1], now=NOW)
    impact = wfa_impact_for_service(service, now=NOW)
    assert (impact.verdict, impact.verdict_reason) == (verdict, reason)
    assert (impact.before.due, impact.after.due) == (sum(before), sum(after))


def test_a_service_that_never_moved_has_no_impact():
    service = create_due_service()
    report_due(service, day(-30), on_time=40, now=NOW)
    assert wfa_impact_for_service(service, now=NOW) is None


def _comparison_scene(a1_requests: int, with_b1: bool):
    """The moved service m and on-site services of its department (A) and another (B)."""
    a, b = create_department(code="dinas-a"), create_department(code="dinas-b")
    m = _moved(a, code="m")
    report_due(m, day(-95), on_time=1, now=NOW)
    report_due(m, day(-30), on_time=36, late=4, now=NOW)     # 36/40 before
    report_due(m, day(30), on_time=20, late=20, now=NOW)     # 20/40 after
    a1 = create_due_service(department=a, code="a1")
    report_due(a1, day(-95), on_time=1, now=NOW)
    report_due(a1, day(-30), on_time=a1_requests * 9 // 10, late=a1_requests // 10, now=NOW)
    report_due(a1, day(30), on_time=a1_requests * 8 // 10, late=a1_requests // 5, now=NOW)
    if with_b1:
        b1 = create_due_service(department=b, code="b1")
        report_due(b1, day(-95), on_time=1, now=NOW)
        report_due(b1, day(-30), on_time=35, late=5, now=NOW)
        report_due(b1, day(30), on_time=35, late=5, now=NOW)
    # Never in a comparison group: b2's reports begin one day into the before window, b3
    # moved to hybrid work inside the after window. Both have plenty of requests.
    b2 = create_due_service(department=b, code="b2")
    report_due(b2, day(-89), on_time=100, now=NOW)
    report_due(b2, day(30), late=100, now=NOW)
    b3 = create_due_service(department=b, code="b3")
    move(b3, "hybrid", day(30))
    report_due(b3, day(-95), on_time=100, now=NOW)
    report_due(b3, day(20), late=100, now=NOW)
    return m


def test_comparison_group_from_the_same_department_when_it_has_30_a_side():
    m = _comparison_scene(a1_requests=50, with_b1=True)
    comparison = wfa_impact_for_service(m, now=NOW).as_json()["comparison"]
    # a1 alone: 45/50 before, 40/50 after, both at least 30: the department's group.
    assert comparison["scope"] == "department"
    assert comparison["services"] == ["a1"]
    assert comparison["before"] == {"due": 50, "on_time": 45, "on_time_rate": 0.9}
    assert comparison["after"] == {"due": 50, "on_time": 40, "on_time_rate": 0.8}
    # 40/50 − 45/50 = −0.1; Wilson 40/50 (0.669629, 0.887563), 45/50 (0.786398, 0.956524):
    # low = −0.1 − √(0.130371² + 0.056524²) = −0.2421; high = −0.1 + √(0.087563² +
    # 0.113602²) = +0.0434.
    assert (comparison["difference"], comparison["ci_low"], comparison["ci_high"]) == (
        -0.1, -0.2421, 0.0434)


def test_comparison_group_from_the_province_when_the_department_has_too_few():
    m = _comparison_scene(a1_requests=20, with_b1=True)
    impact = wfa_impact_for_service(m, now=NOW)
    comparison = impact.as_json()["comparison"]
    # a1 has 20 a side (under 30): the province's on-site services, a1 and b1, pooled.
    assert comparison["scope"] == "province"
    assert comparison["services"] == ["a1", "b1"]
    assert comparison["before"] == {"due": 60, "on_time": 18 + 35, "on_time_rate": 0.8833}
    assert comparison["after"] == {"due": 60, "on_time": 16 + 35, "on_time_rate": 0.85}
    # Net: d1 − d2 = (20/40 − 36/40) − (51/60 − 53/60) = −0.4 + 0.0333 = −0.3667.
    assert impact.as_json()["net_difference"] == -0.3667


def test_no_comparison_group_when_the_province_has_too_few_either():
    m = _comparison_scene(a1_requests=20, with_b1=False)
    impact = wfa_impact_for_service(m, now=NOW)
    assert impact.verdict == "decline"
    assert impact.comparison is None
    assert impact.as_json()["comparison"] is None
    assert (impact.net_difference, impact.net_ci_low, impact.net_ci_high) == (None, None, None)
    assert impact.adjusted_verdict == "not_enough_data"


def test_a_decline_the_comparison_group_shares_is_no_adjusted_decline():
    # The worked example of docs/definitions.md, 6.9.
    department = create_department()
    service = _moved(department)
    report_due(service, day(-95), on_time=1, now=NOW)
    report_due(service, day(-40), on_time=190, late=10, now=NOW)
    report_due(service, day(40), on_time=170, late=30, now=NOW)
    onsite = create_due_service(department=department)
    report_due(onsite, day(-95), on_time=1, now=NOW)
    report_due(onsite, day(-40), on_time=950, late=50, now=NOW)
    report_due(onsite, day(40), on_time=870, open_=130, now=NOW)
    body = wfa_impact_for_service(service, now=NOW).as_json()
    # d1 = 170/200 − 190/200 = −0.1; Wilson 170/200 (0.7939, 0.8929), 190/200 (0.9104,
    # 0.9726): low = −0.1 − √(0.0561² + 0.0226²) = −0.1604, high = −0.1 + √(0.0429² +
    # 0.0396²) = −0.0417: a decline.
    assert (body["difference"], body["ci_low"], body["ci_high"], body["verdict"]) == (
        -0.1, -0.1604, -0.0417, "decline")
    # d2 = 870/1000 − 950/1000 = −0.08, interval (−0.1052, −0.0553).
    comparison = body["comparison"]
    assert (comparison["scope"], comparison["difference"], comparison["ci_low"],
            comparison["ci_high"]) == ("department", -0.08, -0.1052, -0.0553)
    # Net −0.02: low = −0.02 − √(0.0604² + 0.0247²) = −0.0853; high = −0.02 + √(0.0583² +
    # 0.0252²) = +0.0436. It contains zero: the decline is explained by what happened anyway.
    assert (body["net_difference"], body["net_ci_low"], body["net_ci_high"]) == (
        -0.02, -0.0853, 0.0436)
    assert body["adjusted_verdict"] == "no_significant_change"


def test_department_pools_only_services_with_a_verdict_and_their_shared_comparison():
    department = create_department(code="dinas-d")
    with_verdict = _moved(department, code="m1")
    report_due(with_verdict, day(-95), on_time=1, now=NOW)
    report_due(with_verdict, day(-30), on_time=36, late=4, now=NOW)
    report_due(with_verdict, day(30), on_time=20, late=20, now=NOW)
    too_few = _moved(department, code="m2")
    report_due(too_few, day(-95), on_time=1, now=NOW)
    report_due(too_few, day(-30), on_time=10, now=NOW)
    report_due(too_few, day(30), late=10, now=NOW)
    partial = _moved(department, code="m3")
    report_due(partial, day(-80), on_time=40, now=NOW)
    report_due(partial, day(30), late=40, now=NOW)
    onsite = create_due_service(department=department, code="o1")
    report_due(onsite, day(-95), on_time=1, now=NOW)
    report_due(onsite, day(-30), on_time=45, late=5, now=NOW)
    report_due(onsite, day(30), on_time=40, late=10, now=NOW)
    ids = [with_verdict.id, too_few.id, partial.id, onsite.id]
    figures = wfa_figures({"d": (department.id, ids)}, now=NOW)
    assert [figures.impacts[s.id].verdict_reason for s in (too_few, partial)] == [
        "too_few_requests", "partial_history"]
    pooled = figures.pooled["d"].as_json()
    # Only m1 is pooled: 36/40 before, 20/40 after (m2's 10 and 10, m3's 40 and 40 left out).
    assert (pooled["services"], pooled["services_moved"]) == (1, 3)
    assert pooled["before"]["due"] == 40 and pooled["after"]["on_time"] == 20
    # 20/40 − 36/40 = −0.4, Wilson 20/40 (0.351995, 0.648005), 36/40 (0.769482, 0.960420):
    # low = −0.4 − √(0.148005² + 0.060420²) = −0.5599, high = −0.4 + √(0.148005² +
    # 0.130518²) = −0.2027.
    assert (pooled["difference"], pooled["ci_low"], pooled["ci_high"], pooled["verdict"]) == (
        -0.4, -0.5599, -0.2027, "decline")
    # One date of change: the department's on-site o1 (45/50 → 40/50) is the comparison,
    # d2 = −0.1 (−0.2421, +0.0434). Net −0.3: low = −0.3 − √(0.1599² + 0.1434²) = −0.5148,
    # high = −0.3 + √(0.1973² + 0.1421²) = −0.0568: still a decline.
    assert pooled["change_date"] == S.isoformat()
    assert (pooled["comparison"]["scope"], pooled["comparison"]["services"]) == (
        "department", ["o1"])
    assert (pooled["net_difference"], pooled["net_ci_low"], pooled["net_ci_high"]) == (
        -0.3, -0.5148, -0.0568)
    assert pooled["adjusted_verdict"] == "decline"


def test_pooling_services_that_moved_on_different_dates_gives_no_pooled_comparison():
    department = create_department()
    first = _moved(department)
    report_due(first, day(-95), on_time=1, now=NOW)
    report_due(first, day(-30), on_time=36, late=4, now=NOW)
    report_due(first, day(30), on_time=20, late=20, now=NOW)
    later = S + timedelta(days=30)                       # 1 October 2025
    second = _moved(department, when=later)
    report_due(second, later - timedelta(days=95), on_time=1, now=NOW)
    report_due(second, later - timedelta(days=20), on_time=38, late=2, now=NOW)
    report_due(second, later + timedelta(days=20), on_time=30, late=10, now=NOW)
    onsite = create_due_service(department=department)
    report_due(onsite, day(-95), on_time=1, now=NOW)
    report_due(onsite, day(-30), on_time=90, late=10, now=NOW)
    report_due(onsite, day(60), on_time=90, late=10, now=NOW)
    figures = wfa_figures({"d": (department.id, [first.id, second.id, onsite.id])}, now=NOW)
    # Each service has its own comparison (o1 covers both pairs of windows)...
    assert all(figures.impacts[s.id].comparison is not None for s in (first, second))
    pooled = figures.pooled["d"]
    # ... but together: before 36 + 38 = 74 of 80, after 20 + 30 = 50 of 80. 50/80 − 74/80 =
    # −0.3; Wilson 50/80 (0.515487, 0.723058), 74/80 (0.845880, 0.965175): low = −0.3 −
    # √(0.109513² + 0.040175²) = −0.4166, high = −0.3 + √(0.098058² + 0.079120²) = −0.1740.
    assert (pooled.before.due, pooled.before.on_time, pooled.after.on_time) == (80, 74, 50)
    assert (round(pooled.ci_low, 4), round(pooled.ci_high, 4)) == (-0.4166, -0.174)
    assert pooled.verdict == "decline"
    assert pooled.change_date is None and pooled.comparison is None
    assert (pooled.adjusted_verdict, pooled.adjusted_verdict_reason) == (
        "not_enough_data", "different_change_dates")


def test_a_group_where_nothing_moved_has_no_pooled_impact_and_one_without_verdicts_says_so():
    department = create_department()
    onsite = create_due_service(department=department)
    quiet = _moved(department)
    report_due(quiet, day(-95), on_time=5, now=NOW)
    figures = wfa_figures({"none": (department.id, [onsite.id]),
                           "quiet": (department.id, [onsite.id, quiet.id])}, now=NOW)
    assert figures.pooled["none"] is None
    pooled = figures.pooled["quiet"]
    assert (pooled.services, pooled.services_moved) == (0, 1)
    assert (pooled.verdict, pooled.verdict_reason) == ("not_enough_data",
                                                       "no_service_with_verdict")
    assert pooled.difference is None and pooled.adjusted_verdict == "not_enough_data"


# Exactness: the figures against a straightforward recomputation from the raw requests --------


def _raw_figures(groups, now):
    """Recompute every WFA figure from the requests themselves, day by day, as defined."""
    today = wib_date(now)
    services = {s.id: s for s in Service.query.all()}
    histories: dict[int, list] = defaultdict(list)
    for change in WorkModeChange.query.all():
        histories[change.service_id].append(change)
    starts: dict[int, date] = {}
    due_requests: dict[int, list] = defaultdict(list)  # (due date, on time, seconds or None)
    for request in ServiceRequest.query.all():
        received = wib_date(request.received_at)
        starts[request.service_id] = min(starts.get(request.service_id, received), received)
        if request.completion_deadline <= now:
            seconds = None
            if request.completed_at is not None:
                seconds = int((request.completed_at - request.received_at).total_seconds())
            on_time = request.completed_at is not None and (
                request.completed_at <= request.completion_deadline)
            due_requests[request.service_id].append(
                (wib_date(request.completion_deadline), on_time, seconds))

    def side(ids, first, last):
        counts = DueCounts()
        for service_id in ids:
            for due_date, on_time, seconds in due_requests[service_id]:
                if first <= due_date <= last:
                    counts.due += 1
                    counts.on_time += on_time
                    if seconds is not None:
                        counts.histogram[seconds] += 1
        return counts

    def onsite_every_day(service_id, first, last):
        return all(mode_on(histories[service_id], first + timedelta(days=n)) == "onsite"
                   for n in range((last - first).days + 1))

    def group(before_dates, after_dates, department_id):
        if after_dates[1] < after_dates[0]:
            return None
        onsite = [i for i in services if i in starts and starts[i] <= before_dates[0]
                  and onsite_every_day(i, before_dates[0], after_dates[1])]
        own = [i for i in onsite if services[i].department_id == department_id]
        candidates = [("province", onsite)]
        if department_id is not None:
            candidates.insert(0, ("department", own))
        for scope, ids in candidates:
            before, after = side(ids, *before_dates), side(ids, *after_dates)
            if before.due >= 30 and after.due >= 30:
                return comparison_group(scope, (services[i].code for i in ids), before,
                                        after, before_dates, after_dates)
        return None

    impacts, sides = {}, {}
    for service_id in sorted({i for _d, ids in groups.values() for i in ids}):
        found = latest_move(histories[service_id])
        if found is None:
            continue
        before_dates, after_dates = windows(found.change_date, today)
        before, after = side([service_id], *before_dates), side([service_id], *after_dates)
        sides[service_id] = (found.change_date, before_dates, after_dates, before, after)
        impacts[service_id] = WfaImpact(
            **compare(before, after, reporting_since=starts.get(service_id),
                      before_dates=before_dates, after_dates=after_dates,
                      comparison=group(before_dates, after_dates,
                                       services[service_id].department_id)),
            service_code=services[service_id].code, change_date=found.change_date,
            from_mode=found.from_mode, to_mode=found.to_mode,
            reporting_since=starts.get(service_id))
    pooled = {}
    for key, (department_id, ids) in groups.items():
        moved = [i for i in ids if i in impacts]
        included = [i for i in moved if impacts[i].verdict != "not_enough_data"]
        if not moved:
            pooled[key] = None
            continue
        before, after = DueCounts(), DueCounts()
        for i in included:
            before.add(sides[i][3])
            after.add(sides[i][4])
        dates = {(sides[i][0], sides[i][2][1]) for i in included}
        extra: dict = {}
        if len(dates) == 1:
            i = included[0]
            extra = {"before_dates": sides[i][1], "after_dates": sides[i][2],
                     "comparison": group(sides[i][1], sides[i][2], department_id)}
        elif len(dates) > 1:
            extra = {"no_comparison_reason": "different_change_dates"}
        fields = compare(before, after, check_history=False, **extra)
        if not included:
            fields["verdict_reason"] = "no_service_with_verdict"
        pooled[key] = PooledWfaImpact(
            **fields, services=len(included), services_moved=len(moved),
            change_date=sides[included[0]][0] if len(dates) == 1 else None)
    return impacts, pooled


def _random_province(rng: random.Random) -> None:
    """Three departments of moved and on-site services with random requests through ingest.

    Moves share dates or not, one is two-step, one moved back on-site, one is still ahead;
    reports begin on different days (partial histories); some requests fall due later today
    or are never completed.
    """
    first_day = date(2025, 3, 1)
    departments = [create_department() for _ in range(3)]
    move_dates = [S, S, S + timedelta(days=30), TODAY - timedelta(days=20),
                  TODAY + timedelta(days=5)]
    plans = []
    for n in range(13):
        department = departments[n % 3]
        since = rng.choice([None, None, None, date(2025, 5, 1)])
        service = create_due_service(department=department, work_mode_since=since)
        if n < 6:
            when = move_dates[n % len(move_dates)]
            if n == 5:
                move(service, "hybrid", when - timedelta(days=40))
            move(service, rng.choice(["wfa", "hybrid"]), when)
            if n == 4:
                move(service, "onsite", TODAY - timedelta(days=3))
        elif n == 6:
            move(service, "wfa", date(2025, 3, 10))
            move(service, "onsite", date(2025, 4, 1))
        elif n == 7:  # leaves on the last day of the windows around S: not on-site throughout
            move(service, "hybrid", S + timedelta(days=89))
        elif n == 8:  # back on-site on the first day of the windows around S: on-site throughout
            move(service, "wfa", date(2025, 3, 1))
            move(service, "onsite", S - timedelta(days=90))
        start = first_day + timedelta(days=rng.choice([0, 0, 0, 40, 120, 200]) if n < 7 else 0)
        plans.append((service, start, rng.random() * 0.6 + 0.35, rng.choice([1, 2, 3])))
    for service, start, on_time_share, volume in plans:
        items = []
        day_ = start
        while day_ <= TODAY:
            for _ in range(rng.randint(0, volume)):
                hour = rng.randint(7, 11) if day_ == TODAY else rng.randint(7, 14)
                received = datetime(day_.year, day_.month, day_.day, hour,
                                    rng.randint(0, 59), tzinfo=WIB)
                took = timedelta(seconds=rng.randint(1800, 7200) if rng.random() < on_time_share
                                 else rng.randint(7300, 30000))
                completed = received + took
                if rng.random() < 0.05 or completed > NOW:
                    completed = None
                items.append({
                    "service": service.code, "id": f"raw-{service.id}-{len(items)}",
                    "received_at": received.isoformat(),
                    "completed_at": completed.isoformat() if completed else None,
                })
            day_ += timedelta(days=1)
        ingest(service.department, items, now=NOW)


@pytest.mark.parametrize("seed", [1, 2])
def test_figures_equal_a_recomputation_from_the_requests(seed):
    _random_province(random.Random(seed))
    groups: dict = {}
    for service in Service.query.all():
        groups.setdefault(service.department_id, (service.department_id, []))[1].append(
            service.id)
    groups["province"] = (None, [i for _d, ids in list(groups.values()) for i in ids])
    figures = wfa_figures(groups, now=NOW)
    impacts, pooled = _raw_figures(groups, NOW)
    # Six movers, the service that went to WFA in March and came back in April, the one that
    # left on S + 89 and the one that went to WFA on 1 March.
    assert len(impacts) == 9
    # The data reach the branches that matter: verdicts and not, comparison groups, partial
    # histories, pooled comparisons and different dates.
    verdicts = {i.verdict for i in impacts.values()}
    assert "not_enough_data" in verdicts and len(verdicts) > 1
    assert any(i.comparison is not None for i in impacts.values())
    assert any(i.verdict_reason == "partial_history" for i in impacts.values())
    assert figures.impacts == impacts
    assert figures.pooled == pooled


def test_what_fell_due_today_counts_on_the_after_side_with_its_completion_times():
    moved_on = TODAY - timedelta(days=2)                 # after window: 29 … 31 December
    service = _moved(when=moved_on)
    report_due(service, moved_on, on_time=10, now=NOW)
    # Today at 08:00, due at 10:00, completed at 12:00 (now): fallen due, late, 4 hours.
    report_due(service, TODAY, late=20, now=NOW)
    after = wfa_impact_for_service(service, now=NOW).as_json()["after"]
    # 30 due, 10 on time; the median of 10 × 1 h and 20 × 4 h is rank 15: 4 hours.
    assert after == {"due": 30, "on_time": 10, "on_time_rate": 0.3333,
                     "median_completion_hours": 4.0}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_services_impact_equals_a_recomputation_from_the_requests(seed):
    # wfa_impact_for_service reads a department first and the province only when needed:
    # every service's impact must still be the one the definitions give.
    _random_province(random.Random(seed))
    services = Service.query.all()
    impacts, _pooled = _raw_figures({None: (None, [s.id for s in services])}, NOW)
    found = {s.id: wfa_impact_for_service(s, now=NOW) for s in services}
    assert found == {s.id: impacts.get(s.id) for s in services}
    assert {s.id: wfa_impact_for_code(s.code, now=NOW) for s in services} == found
    scopes = {i.comparison.scope if i.comparison else None for i in impacts.values()}
    assert {"department", None} <= scopes


def test_one_services_comparison_group_comes_from_the_province_when_its_department_lacks():
    _random_province(random.Random(1))
    department = create_department()
    lonely = _moved(department=department)
    report_due(lonely, BEFORE_START - timedelta(days=5), on_time=1, now=NOW)
    impacts, _pooled = _raw_figures({None: (None, [lonely.id])}, NOW)
    impact = wfa_impact_for_service(lonely, now=NOW)
    assert impact.comparison is not None and impact.comparison.scope == "province"
    assert impact == impacts[lonely.id]
