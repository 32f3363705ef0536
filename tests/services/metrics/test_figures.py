"""Metrics over a window, from the daily aggregates, against hand-worked and brute-force values."""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from fractions import Fraction

import holidays
import pytest
from sqlalchemy import select

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import ServiceRequest
from portal.services.metrics.calendar_changes import calendar_day_set, calendar_day_unset
from portal.services.metrics.figures import (
    EXACT_KEYS_PER_DAY,
    MEDIAN,
    P90,
    ServiceDays,
    coarse_key,
    daily_series,
    histogram_apply,
    histogram_dump,
    histogram_percentile,
    histogram_percentiles,
    histogram_texts_percentiles,
    key_seconds,
    metrics_for_service,
    nearest_rank,
    reporting_starts,
)
from portal.services.metrics.service_requests import service_requests_report
from tests.factories import create_department, create_service

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB


def wib(*args: int) -> datetime:
    """Return an aware WIB datetime."""
    return datetime(*args, tzinfo=WIB)


def send(service, rows, now=NOW) -> None:
    """Report (id, received, completed, first, channel) tuples for a service."""
    requests = [
        {"service": service.code, "id": rid, "received_at": received.isoformat(),
         "completed_at": completed.isoformat() if completed else None,
         "first_response_at": first.isoformat() if first else None, "channel": channel}
        for rid, received, completed, first, channel in rows
    ]
    for start in range(0, len(requests), 5000):
        service_requests_report(service.department, {"requests": requests[start:start + 5000]},
                                now=now)


# Percentiles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        pytest.param(list(range(1, 11)), MEDIAN, 5, id="median-of-1..10-is-rank-5"),
        pytest.param(list(range(1, 11)), P90, 9, id="p90-of-1..10-is-rank-9"),
        pytest.param([1, 2, 3, 4, 100], MEDIAN, 3, id="median-of-5-is-rank-3"),
        pytest.param([1, 2, 3, 4, 100], P90, 100, id="p90-of-5-is-rank-5"),
        pytest.param([7], P90, 7, id="single-value"),
        pytest.param(list(range(1, 71)), P90, 63, id="p90-of-70-is-rank-63-not-64"),
    ],
)
def test_nearest_rank_percentile(values, p, expected):
    assert nearest_rank(sorted(values), p) == expected


def test_nearest_rank_of_nothing_is_none():
    assert nearest_rank([], MEDIAN) is None
    assert histogram_percentile({}, MEDIAN) is None


def test_a_days_histogram_is_exact_seconds_and_removal_undoes_an_addition():
    histogram = histogram_apply(Counter(), {3600: 2, 7200: 1})
    assert histogram == Counter({3600: 2, 7200: 1})
    histogram_apply(histogram, {3600: -1, 7200: -1, 60: 1})
    assert histogram == Counter({3600: 1, 60: 1})


def test_a_day_with_too_many_distinct_durations_is_coarsened_within_a_tenth_of_a_percent():
    values = [2000 + 37 * i for i in range(EXACT_KEYS_PER_DAY + 500)] + [5, 999]
    histogram = histogram_apply(Counter(), Counter(values))
    assert len(histogram) < len(values)
    assert histogram[5] == 1 and histogram[999] == 1  # short durations stay exact
    exact = sorted(values)
    for p in (MEDIAN, P90):
        assert histogram_percentile(histogram, p) == pytest.approx(nearest_rank(exact, p),
                                                                   rel=0.0005)
    # Removing from a coarsened day takes the value out of its bucket.
    histogram_apply(histogram, {2000: -1, 5: -1})
    assert sum(histogram.values()) == len(values) - 2
    # Adding to a coarsened day goes to the bucket.
    histogram_apply(histogram, {2000: 1})
    assert 2000 not in histogram
    assert histogram[coarse_key(2000)] >= 1


@pytest.mark.parametrize("seconds", [1000, 1001, 3600, 86399, 10 * 86400, 365 * 86400])
def test_coarse_buckets_stand_for_their_durations_within_a_twentieth_of_a_percent(seconds):
    assert key_seconds(coarse_key(seconds)) == pytest.approx(seconds, rel=0.0005)


def test_percentile_of_a_histogram_of_1_to_10_hours_is_exact():
    histogram = Counter(h * 3600 for h in range(1, 11))
    assert histogram_percentile(histogram, MEDIAN) == 5 * 3600
    assert histogram_percentile(histogram, P90) == 9 * 3600


def test_several_percentiles_at_once_equal_each_alone_coarse_buckets_included():
    rng = random.Random(7)
    exact = Counter(rng.randrange(1000) for _ in range(300))
    coarse = Counter({coarse_key(rng.randrange(1000, 10**7)): rng.randrange(1, 4)
                      for _ in range(300)})
    for histogram in (exact, exact + coarse, Counter({5: 0}), Counter()):
        ps = [MEDIAN, P90, Fraction(1, 100), Fraction(1)]
        assert histogram_percentiles(histogram, ps) == [
            _percentile_by_sorting(histogram, p) for p in ps]


def test_percentiles_of_stored_histograms_are_those_of_the_durations_they_count():
    """The service page reads a window's days as stored texts: their percentiles are those of
    every duration the days count together (a duration on several days, coarse buckets, a
    day with nothing, and texts not written as histogram_dump writes them, all included)."""
    rng = random.Random(11)
    ps = [MEDIAN, P90, Fraction(1, 100), Fraction(1)]
    for trial in range(300):
        days = [Counter({rng.randrange(60 if trial % 2 else 5000): rng.randrange(1, 4)
                         for _ in range(rng.randrange(12))}) for _ in range(rng.randrange(6))]
        if trial % 5 == 0:
            days.append(Counter({coarse_key(rng.randrange(1000, 10**7)): 2}))
        texts = [histogram_dump(day) for day in days]
        if trial % 7 == 0:
            texts += ["{}", '{"007": 2, "3":1}']
            days.append(Counter({7: 2, 3: 1}))
        together = sum(days, Counter())
        assert histogram_texts_percentiles(texts, ps) == [
            _percentile_by_sorting(together, p) for p in ps]
    assert histogram_texts_percentiles([], ps) == [None] * 4
    assert histogram_texts_percentiles(["{}"], ps) == [None] * 4


def _percentile_by_sorting(histogram: Counter, p: Fraction) -> float | None:
    """The nearest-rank percentile of the durations a histogram stands for, one by one."""
    values = sorted(key_seconds(k) for k, n in histogram.items() for _ in range(n))
    return nearest_rank(values, p)


# Hand-worked windows -------------------------------------------------------------------------


def test_median_and_p90_of_requests_completed_in_1_to_10_hours(app):
    service = create_service(commitment_value=48, commitment_unit="hours")
    start = wib(2025, 9, 1, 8)
    send(service, [(f"r{h}", start, start + timedelta(hours=h), None, None)
                   for h in range(1, 11)])
    result = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 1), now=NOW)
    assert result.completed == 10
    assert result.median_completion_hours == 5
    assert result.p90_completion_hours == 9


def test_window_is_from_00_00_wib_to_the_next_midnight_after_to(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    send(service, [
        ("before", wib(2025, 8, 31, 23, 59, 59), wib(2025, 9, 1, 0, 0), None, "online"),
        ("first", wib(2025, 9, 1, 0, 0), wib(2025, 9, 2, 23, 59, 59), None, "counter"),
        ("last", wib(2025, 9, 2, 23, 59, 59), wib(2025, 9, 3, 0, 0), None, "online"),
    ])
    result = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 2), now=NOW)
    # Received in [1 Sep 00:00, 3 Sep 00:00) WIB: "first" and "last".
    assert result.received == 2
    assert result.digital_share == 0.5
    # Completed in the window: "before" (1 Sep 00:00) and "first" (2 Sep 23:59:59).
    assert result.completed == 2
    # Due (1 working day: deadline 24:00 of the next working day) in 1..2 Sep: "before"
    # (received Sun 31 Aug, due Mon 1 Sep) and "first" (received Mon 1 Sep, due Tue 2 Sep);
    # "last" is due Wed 3 Sep, outside the window. Both were completed by their deadline.
    assert (result.due, result.on_time, result.late) == (2, 2, 0)
    assert result.on_time_rate == 1.0


def test_backlog_and_overdue_at_a_windows_end(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    send(service, [
        # Deadline Tue 2 Sep 24:00; completed Thu 4 Sep.
        ("a", wib(2025, 9, 1, 9), wib(2025, 9, 4, 10), None, None),
        # Deadline Wed 3 Sep 24:00; never completed.
        ("b", wib(2025, 9, 2, 9), None, None, None),
        # Deadline Thu 4 Sep 24:00; completed Wed 3 Sep.
        ("c", wib(2025, 9, 3, 9), wib(2025, 9, 3, 15), None, None),
        # Deadline Fri 5 Sep 24:00; never completed.
        ("d", wib(2025, 9, 4, 9), None, None, None),
    ])
    # End 4 Sep 00:00 WIB: backlog a, b; only a's deadline is before the end (b's is at it).
    to_3 = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 3), now=NOW)
    assert (to_3.backlog, to_3.overdue) == (2, 1)
    # End 5 Sep 00:00 WIB: a and c are completed; backlog b, d; b is overdue.
    to_4 = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 4), now=NOW)
    assert (to_4.backlog, to_4.overdue) == (2, 1)
    # End 1 Sep 00:00 WIB: nothing received yet.
    before = metrics_for_service(service, date(2025, 8, 31), date(2025, 8, 31), now=NOW)
    assert (before.backlog, before.overdue) == (0, 0)


def test_backlog_of_a_window_ending_in_the_future_is_taken_now(app):
    service = create_service(commitment_value=2, commitment_unit="hours")
    # Received at 09:00 WIB today, due 11:00; now is 12:00 WIB: overdue now.
    send(service, [("a", wib(2025, 9, 30, 9), None, None, None)])
    result = metrics_for_service(service, date(2025, 9, 30), date(2025, 10, 5), now=NOW)
    assert (result.backlog, result.overdue) == (1, 1)
    earlier = metrics_for_service(service, date(2025, 9, 30), date(2025, 10, 5),
                                  now=wib(2025, 9, 30, 10, 30))
    assert (earlier.backlog, earlier.overdue) == (1, 0)


def test_first_response_rate_and_undefined_values(app):
    service = create_service(commitment_value=5, commitment_unit="working_days",
                             first_response_value=1, first_response_unit="working_days")
    send(service, [
        ("a", wib(2025, 9, 1, 9), None, wib(2025, 9, 2, 9), None),  # by Tue 24:00: on time
        ("b", wib(2025, 9, 1, 9), None, wib(2025, 9, 3, 9), None),  # late
    ])
    result = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 5), now=NOW)
    assert result.first_response_on_time_rate == 0.5
    assert result.on_time_rate is None
    assert result.median_completion_hours is None
    assert result.availability is None
    empty = metrics_for_service(service, date(2025, 7, 1), date(2025, 7, 31), now=NOW)
    assert (empty.received, empty.digital_share, empty.first_response_on_time_rate) == (
        0, None, None)


def test_no_first_response_rate_for_a_service_without_a_first_response_commitment(app):
    service = create_service(commitment_value=5, commitment_unit="working_days")
    send(service, [("a", wib(2025, 9, 1, 9), None, wib(2025, 9, 1, 10), None)])
    result = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 5), now=NOW)
    assert result.first_response_on_time_rate is None


def test_daily_series_has_one_point_per_day_zeros_included(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    send(service, [
        ("a", wib(2025, 9, 1, 9), wib(2025, 9, 2, 9), None, None),
        ("b", wib(2025, 9, 1, 10), wib(2025, 9, 4, 9), None, None),
    ])
    points = daily_series(service, days=5, today=date(2025, 9, 4))
    assert [p.day for p in points] == [date(2025, 8, 31) + timedelta(days=i) for i in range(5)]
    assert [p.received for p in points] == [0, 2, 0, 0, 0]
    assert [p.completed for p in points] == [0, 0, 1, 0, 1]
    # Both are due Tue 2 Sep (received Mon, one working day): a was on time, b late.
    assert [(p.due, p.on_time) for p in points] == [(0, 0), (0, 0), (2, 1), (0, 0), (0, 0)]
    assert [p.on_time_rate for p in points] == [None, None, 0.5, None, None]


# Aggregates against brute force -------------------------------------------------------------


@functools.cache
def _holidays_id(year: int) -> frozenset[date]:
    """Indonesia's holidays of a year, straight from the holidays package (docs/definitions.md)."""
    return frozenset(holidays.country_holidays("ID", categories=("public", "government"),
                                               years=year))


def _independent_deadline(received: datetime, value: int, unit: str,
                          extra: set[date], overrides: set[date]) -> datetime:
    """Walk the calendar day by day, as docs/definitions.md words it, not the portal's."""
    if unit == "hours":
        return received + timedelta(hours=value)

    def working(day: date) -> bool:
        holiday = (day in _holidays_id(day.year) or day in extra) and day not in overrides
        return day.weekday() < 5 and not holiday

    day = received.astimezone(WIB).date()
    if value == 0 and working(day):
        found = day
    else:
        count, found = 0, day
        while count < max(value, 1):
            found += timedelta(days=1)
            count += working(found)
    return datetime.combine(found + timedelta(days=1), time(0), WIB)


def _brute_force(rows, terms, from_date: date, to_date: date, now: datetime,
                 extra: set[date] = frozenset(), overrides: set[date] = frozenset()) -> dict:
    """Compute the defined metrics directly from raw requests and the amended calendar."""
    value, unit, first_value, first_unit = terms
    start = datetime.combine(from_date, time(0), WIB)
    end = datetime.combine(to_date + timedelta(days=1), time(0), WIB)
    at = min(end, now)

    def deadline(received: datetime) -> datetime:
        return _independent_deadline(received, value, unit, extra, overrides)

    def first_deadline(received: datetime) -> datetime:
        return _independent_deadline(received, first_value, first_unit, extra, overrides)

    def due_day(moment: datetime) -> date:
        # The WIB date of the last instant before the deadline.
        return (moment - timedelta(microseconds=1)).astimezone(WIB).date()

    received = [r for r in rows if start <= r[1] < end]
    completed = [r for r in rows if r[2] is not None and start <= r[2] < end]
    # Fell due: due date in the window and deadline not after now, completed or not.
    due = [r for r in rows if from_date <= due_day(deadline(r[1])) <= to_date
           and deadline(r[1]) <= now]
    on_time = [r for r in due if r[2] is not None and r[2] <= deadline(r[1])]
    late_open = [r for r in due if r not in on_time and (r[2] is None or r[2] > at)]
    # Only a service that commits to a first response has first-response deadlines.
    first_due = [r for r in rows if first_unit
                 and from_date <= due_day(first_deadline(r[1])) <= to_date
                 and first_deadline(r[1]) <= now]
    first_on_time = [r for r in first_due if r[3] is not None and r[3] <= first_deadline(r[1])]
    backlog = [r for r in rows if r[1] < at and (r[2] is None or r[2] >= at)]
    hours = sorted((r[2] - r[1]).total_seconds() / 3600 for r in completed)
    return {
        "received": len(received),
        "completed": len(completed),
        "due": len(due),
        "on_time": len(on_time),
        "late_open": len(late_open),
        "first_response_due": len(first_due),
        "first_response_on_time": len(first_on_time),
        "backlog": len(backlog),
        "overdue": sum(1 for r in backlog if deadline(r[1]) < at),
        "digital_share": (sum(1 for r in received if r[4] == "online") / len(received)
                          if received else None),
        "first_response_on_time_rate": (len(first_on_time) / len(first_due) if first_due
                                        else None),
        "median": nearest_rank(hours, Fraction(1, 2)),
        "p90": nearest_rank(hours, Fraction(9, 10)),
    }


def test_independent_deadline_matches_the_domain_example():
    # docs/definitions.md: received Fri 15 Aug 2025 10:00 WIB, N = 1 -> Tuesday 19 August 24:00 WIB.
    assert _independent_deadline(wib(2025, 8, 15, 10), 1, "working_days", set(), set()) == (
        wib(2025, 8, 20, 0))


def _random_request(rng: random.Random, rid: str, now: datetime) -> tuple:
    """Return a random (id, received, completed, first, channel) before now."""
    received = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(110 * 86400))
    completed = first = None
    if rng.random() < 0.8:
        completed = received + timedelta(seconds=rng.choice(
            [rng.randrange(3600), rng.randrange(20 * 86400), rng.randrange(200)]))
    if rng.random() < 0.7:
        first = received + timedelta(seconds=rng.randrange(4 * 86400))
    completed = completed if completed and completed <= now else None
    first = first if first and first <= now else None
    if first and completed and first > completed:
        first = completed  # a first response never comes after the completion
    return (rid, received, completed, first, rng.choice(["online", "counter", None, "phone"]))


@pytest.mark.parametrize(
    "terms",
    [
        pytest.param((3, "working_days", 1, "working_days"), id="3-days-first-response-1-day"),
        pytest.param((30, "hours", 4, "hours"), id="30-hours-first-response-4-hours"),
        pytest.param((0, "working_days", None, None), id="same-day-no-first-response"),
        pytest.param((2, "working_days", 0, "working_days"), id="2-days-first-response-same-day"),
    ],
)
@pytest.mark.parametrize("calendar_change", [False, True], ids=["calendar", "amended-calendar"])
def test_metrics_from_aggregates_equal_brute_force_over_raw_rows(app, terms, calendar_change):
    rng = random.Random(20250917)
    value, unit, first_value, first_unit = terms
    department = create_department()
    service = create_service(department=department, commitment_unit=unit, commitment_value=value,
                             first_response_value=first_value, first_response_unit=first_unit)
    rows = {f"r{i}": _random_request(rng, f"r{i}", NOW) for i in range(600)}
    send(service, list(rows.values()))
    # Re-send a third with changed completions and channels: aggregates must follow.
    for rid in rng.sample(sorted(rows), 200):
        rows[rid] = _random_request(rng, rid, NOW)
    send(service, list(rows.values()))
    extra, overrides = set(), set()
    if calendar_change:
        # After the reports: Wed 6 Aug 2025 becomes non-working, Mon 18 Aug (cuti bersama)
        # working, and Tue 12 Aug non-working then working again. Stored figures must follow.
        calendar_day_set(date(2025, 8, 12), False)
        calendar_day_set(date(2025, 8, 6), False)
        calendar_day_set(date(2025, 8, 18), True)
        calendar_day_unset(date(2025, 8, 12))
        extra, overrides = {date(2025, 8, 6)}, {date(2025, 8, 18)}
    stored = {r.external_id for r in db.session.scalars(select(ServiceRequest))}
    assert stored == set(rows)
    for _ in range(25):
        from_date = date(2025, 5, 25) + timedelta(days=rng.randrange(120))
        to_date = from_date + timedelta(days=rng.randrange(60))
        expected = _brute_force(list(rows.values()), terms, from_date, to_date, NOW, extra,
                                overrides)
        _assert_metrics_equal(metrics_for_service(service, from_date, to_date, now=NOW),
                              expected)


def _assert_metrics_equal(got, expected: dict) -> None:
    """Compare metrics with the brute force's figures (percentiles to the stored second)."""
    assert (got.received, got.completed, got.due, got.on_time, got.late, got.late_open,
            got.backlog, got.overdue, got.first_response_due,
            got.first_response_on_time) == (
        expected["received"], expected["completed"], expected["due"], expected["on_time"],
        expected["due"] - expected["on_time"], expected["late_open"], expected["backlog"],
        expected["overdue"], expected["first_response_due"],
        expected["first_response_on_time"])
    assert got.on_time_rate == (expected["on_time"] / expected["due"] if expected["due"]
                                else None)
    assert got.digital_share == expected["digital_share"]
    assert got.first_response_on_time_rate == expected["first_response_on_time_rate"]
    for name, exact in (("median_completion_hours", expected["median"]),
                        ("p90_completion_hours", expected["p90"])):
        approx = getattr(got, name)
        if exact is None:
            assert approx is None
        else:
            # Exact to the whole second (the stored resolution).
            assert math.isclose(approx, exact, rel_tol=0, abs_tol=1 / 3600)


@pytest.mark.parametrize("now", [NOW, wib(2025, 9, 12, 16)], ids=["today-last", "today-inside"])
def test_one_read_of_many_days_gives_each_windows_metrics_and_each_day(app, now):
    # A service page reads its days once for its windows, daily bar and WFA trend.
    rng = random.Random(20251201)
    terms = (2, "working_days", 1, "working_days")
    service = create_service(commitment_value=2, commitment_unit="working_days",
                             first_response_value=1, first_response_unit="working_days")
    rows = [_random_request(rng, f"r{i}", NOW) for i in range(500)]
    send(service, rows)
    first, last, histograms_from = date(2025, 6, 1), date(2025, 9, 30), date(2025, 7, 1)
    days = ServiceDays.read(service, first, last, now, histograms_from=histograms_from)
    # The window a page shows (from histograms_from to the last day: its open requests are
    # counted with today's due ones, in the read) and others (counted when asked).
    _assert_metrics_equal(days.metrics(histograms_from, last),
                          _brute_force(rows, terms, histograms_from, last, now))
    for _ in range(12):
        from_date = histograms_from + timedelta(days=rng.randrange(80))
        to_date = min(last, from_date + timedelta(days=rng.randrange(45)))
        _assert_metrics_equal(days.metrics(from_date, to_date),
                              _brute_force(rows, terms, from_date, to_date, now))
    points = days.points(first, last)
    assert [p.day for p in points] == [first + timedelta(days=i) for i in range(122)]
    for point in rng.sample(points, 40):
        # A day's figures are those of a window of that day alone (nothing due after now).
        expected = _brute_force(rows, terms, point.day, point.day, now)
        assert (point.received, point.completed, point.due, point.on_time) == (
            expected["received"], expected["completed"], expected["due"], expected["on_time"])
    assert points[-30:] == daily_series(service, days=30, today=last, now=now)


@pytest.mark.parametrize("now", [NOW, wib(2025, 9, 12, 16)], ids=["today-last", "today-inside"])
def test_spans_of_days_sum_what_fell_due_on_each_of_their_days(app, now):
    # The WFA trend's weeks: consecutive spans from the first day asked, the last one shorter,
    # empty ones listed; each the sum of its days' points.
    rng = random.Random(20251202)
    service = create_service(commitment_value=2, commitment_unit="working_days")
    send(service, [_random_request(rng, f"r{i}", NOW) for i in range(300)])
    first, last = date(2025, 6, 1), date(2025, 9, 30)
    days = ServiceDays.read(service, first, last, now)
    points = {p.day: p for p in days.points(first, last)}
    for span_first, span_last, span in [(first, last, 7), (date(2025, 6, 3), date(2025, 9, 12), 7),
                                        (date(2025, 9, 20), last, 1), (first, first, 7),
                                        (date(2025, 7, 1), date(2025, 8, 30), 30)]:
        spans = days.due_by_span(span_first, span_last, span)
        starts = [span_first + timedelta(days=span * i) for i in range(len(spans))]
        assert [s[0] for s in spans] == starts and starts[-1] <= span_last
        assert spans[-1][1] == span_last < starts[-1] + timedelta(days=span)
        for start, end, due, on_time in spans:
            assert end == min(start + timedelta(days=span - 1), span_last)
            covered = [points[start + timedelta(days=i)] for i in range((end - start).days + 1)]
            assert (due, on_time) == (sum(p.due for p in covered),
                                      sum(p.on_time for p in covered))
    assert any(due for _s, _e, due, _o in days.due_by_span(first, last, 7))

def test_reporting_start_is_the_first_day_a_request_was_received(app):
    department = create_department()
    early, late, silent = (create_service(department=department) for _ in range(3))
    send(early, [("a", wib(2025, 9, 3, 23, 30), None, None, None),
                 ("b", wib(2025, 8, 11, 0, 5), wib(2025, 8, 12, 9), None, None)])
    # Received 1 Sep 00:30 WIB: 31 August in UTC, 1 September in WIB.
    send(late, [("c", wib(2025, 9, 1, 0, 30), None, None, None)])
    assert reporting_starts([early.id, late.id, silent.id]) == {
        early.id: date(2025, 8, 11), late.id: date(2025, 9, 1)}
    assert reporting_starts() == reporting_starts([early.id, late.id, silent.id])
    assert reporting_starts([late.id]) == {late.id: date(2025, 9, 1)}


# Requests that fall due -----------------------------------------------------------------------


def test_a_request_never_completed_is_late_once_due_and_not_before(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    # Received Mon 1 Sep 2025 09:00 WIB: deadline Tue 2 Sep 24:00 WIB, due on 2 Sep.
    send(service, [("open", wib(2025, 9, 1, 9), None, None, None)])
    window = (date(2025, 9, 1), date(2025, 9, 30))
    before_deadline = metrics_for_service(service, *window, now=wib(2025, 9, 2, 23, 59))
    assert (before_deadline.due, before_deadline.late, before_deadline.on_time_rate) == (
        0, 0, None)
    at_deadline = metrics_for_service(service, *window, now=wib(2025, 9, 3, 0, 0))
    assert (at_deadline.due, at_deadline.on_time, at_deadline.late,
            at_deadline.late_open) == (1, 0, 1, 1)
    assert at_deadline.on_time_rate == 0.0
    # Never closed: it stays late in every later window that holds its due date.
    months_later = metrics_for_service(service, *window, now=wib(2025, 12, 1, 9))
    assert (months_later.due, months_later.late, months_later.late_open) == (1, 1, 1)


def test_a_request_completed_after_its_deadline_is_late_but_not_open(app):
    service = create_service(commitment_value=1, commitment_unit="working_days")
    send(service, [("slow", wib(2025, 9, 1, 9), wib(2025, 9, 4, 10), None, None)])
    # Window 1..2 Sep, seen on 3 Sep: due and late, and still open at the window's end.
    early = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 2),
                                now=wib(2025, 9, 3, 12))
    assert (early.due, early.late, early.late_open) == (1, 1, 1)
    # The same window seen later: completed after the window's end, so as of that end it was
    # still open; the completion does not make it on time.
    later = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 2), now=NOW)
    assert (later.due, later.on_time, later.late, later.late_open) == (1, 0, 1, 1)
    # A window to 4 Sep ends after the completion: late, no longer open.
    closed = metrics_for_service(service, date(2025, 9, 1), date(2025, 9, 4), now=NOW)
    assert (closed.due, closed.late, closed.late_open) == (1, 1, 0)


def test_due_dates_of_a_24_00_deadline_and_of_an_hour_deadline(app):
    days = create_service(commitment_value=1, commitment_unit="working_days")
    hours = create_service(commitment_value=5, commitment_unit="hours")
    # Deadline Tue 2 Sep 24:00 WIB: due on 2 Sep, not on 3 Sep.
    send(days, [("d", wib(2025, 9, 1, 9), wib(2025, 9, 2, 23), None, None)])
    # Received 2 Sep 09:00, deadline 14:00 the same day: due on 2 Sep.
    send(hours, [("h", wib(2025, 9, 2, 9), wib(2025, 9, 2, 15), None, None)])
    for service, on_time in ((days, 1), (hours, 0)):
        on_2 = metrics_for_service(service, date(2025, 9, 2), date(2025, 9, 2), now=NOW)
        on_3 = metrics_for_service(service, date(2025, 9, 3), date(2025, 9, 3), now=NOW)
        assert (on_2.due, on_2.on_time, on_3.due) == (1, on_time, 0)


def test_today_counts_only_what_has_fallen_due_so_far(app):
    service = create_service(commitment_value=2, commitment_unit="hours")
    # Deadlines today 11:00 and 15:00 WIB; seen at 14:00 only the first has fallen due.
    send(service, [
        ("passed", wib(2025, 9, 30, 9), None, None, None),
        ("pending", wib(2025, 9, 30, 13), None, None, None),
    ], now=wib(2025, 9, 30, 13, 30))
    result = metrics_for_service(service, date(2025, 9, 30), date(2025, 9, 30),
                                 now=wib(2025, 9, 30, 14))
    assert (result.due, result.late, result.late_open) == (1, 1, 1)
    evening = metrics_for_service(service, date(2025, 9, 30), date(2025, 9, 30),
                                  now=wib(2025, 9, 30, 20))
    assert (evening.due, evening.late_open) == (2, 2)
