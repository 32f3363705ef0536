"""Oracle tests for portal.domain.calendar, worked by hand from real 2025–2026 Indonesian calendars.

Reference facts (``holidays`` 0.108, categories public + government):
- 2025-08-17 Sun Independence Day, 2025-08-18 Mon its cuti bersama.
- 2025-03-28 Fri Nyepi cuti bersama, 2025-03-29 Sat Nyepi, 2025-03-31 Mon / 2025-04-01 Tue
  Idul Fitri, 2025-04-02..04 Wed–Fri and 2025-04-07 Mon Idul Fitri cuti bersama.
- 2026-03-18 Wed Nyepi cuti bersama, 2026-03-19 Thu Nyepi, 2026-03-20 Fri cuti bersama,
  2026-03-21/22 Sat/Sun Idul Fitri, 2026-03-23/24 Mon/Tue cuti bersama.
- 2025-12-25 Thu Christmas, 2025-12-26 Fri its cuti bersama, 2026-01-01 Thu New Year.
- No holiday in July 2025.
A deadline at the end (24:00 WIB) of day D is D 17:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from portal.domain.calendar import (
    UTC,
    WIB,
    WorkingCalendar,
    to_wib,
    utc_now,
    wib_date,
    wib_midnight,
)

UTC_TZ = timezone.utc  # noqa: UP017
WITA = timezone(timedelta(hours=8))


def wib(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=WIB)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC_TZ)


def end_of_wib_day(y: int, mo: int, d: int) -> datetime:
    """24:00 WIB of the given date, written independently of the module under test."""
    return utc(y, mo, d, 17)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def assert_utc_deadline(actual: datetime, expected: datetime) -> None:
    assert actual == expected
    assert actual.utcoffset() == timedelta(0), "deadlines are returned in UTC"


# -- time helpers ------------------------------------------------------------------------------


def test_constants_are_jakarta_and_utc() -> None:
    assert str(WIB) == "Asia/Jakarta"
    assert UTC is timezone.utc  # noqa: UP017
    assert wib(2025, 8, 15).utcoffset() == timedelta(hours=7)


def test_to_wib_converts_utc_evening_to_next_wib_morning() -> None:
    result = to_wib(utc(2025, 8, 14, 20))
    assert (result.year, result.month, result.day, result.hour) == (2025, 8, 15, 3)
    assert result.utcoffset() == timedelta(hours=7)
    assert result == utc(2025, 8, 14, 20)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2025, 8, 14, 16, 59, 59), date(2025, 8, 14)),  # Thu 23:59:59 WIB
        (utc(2025, 8, 14, 17, 0, 0), date(2025, 8, 15)),  # Fri 00:00 WIB
        (utc(2025, 8, 14, 20), date(2025, 8, 15)),  # Fri 03:00 WIB
        (datetime(2025, 8, 15, 0, 30, tzinfo=WITA), date(2025, 8, 14)),  # Thu 23:30 WIB
    ],
)
def test_wib_date_uses_the_jakarta_calendar_day(moment: datetime, expected: date) -> None:
    assert wib_date(moment) == expected


def test_wib_date_before_1964_follows_the_older_offsets() -> None:
    # Jakarta was UTC+8 in 1948–1950: 16:45 UTC was already 00:45 the next day.
    assert wib_date(utc(1950, 1, 1, 16, 45)) == date(1950, 1, 2)


def test_wib_date_of_utc_instants_matches_the_time_zone_itself() -> None:
    moments = [utc(1963, 12, 30) + timedelta(minutes=15 * i) for i in range(4 * 24 * 4)]
    for year in (1999, 2025, 2026, 2040, 2100):
        midnight = utc(year, 3, 1, 17)  # 00:00 WIB
        moments += [midnight + timedelta(microseconds=us) for us in (-1, 0, 1)]
        moments += [utc(year, 7, 1) + timedelta(hours=h) for h in range(48)]
    for moment in moments:
        assert wib_date(moment) == moment.astimezone(WIB).date(), moment


def test_wib_midnight_is_seventeen_hundred_utc_the_day_before() -> None:
    result = wib_midnight(date(2025, 8, 19))
    assert_utc_deadline(result, utc(2025, 8, 18, 17))


def test_utc_now_is_aware_utc_and_current() -> None:
    before = datetime.now(UTC_TZ)
    now = utc_now()
    after = datetime.now(UTC_TZ)
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


# -- naive datetimes and wrong types are rejected ----------------------------------------------

NAIVE = datetime(2025, 8, 15, 10, 0)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: to_wib(NAIVE), id="to_wib"),
        pytest.param(lambda c: wib_date(NAIVE), id="wib_date"),
        pytest.param(lambda c: c.deadline_working_days(NAIVE, 1), id="deadline_working_days"),
        pytest.param(lambda c: c.deadline_hours(NAIVE, 1), id="deadline_hours"),
        pytest.param(lambda c: c.deadline_for(NAIVE, 1, "working_days"), id="for_days"),
        pytest.param(lambda c: c.deadline_for(NAIVE, 1, "hours"), id="for_hours"),
        pytest.param(lambda c: c.is_on_time(NAIVE, utc(2025, 8, 19, 17)), id="on_time_event"),
        pytest.param(lambda c: c.is_on_time(utc(2025, 8, 15), NAIVE), id="on_time_deadline"),
    ],
)
def test_naive_datetime_is_rejected(cal: WorkingCalendar, call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(cal)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.is_working_day(utc(2025, 8, 14, 20)), id="is_working_day"),
        pytest.param(lambda c: c.add_working_days(utc(2025, 8, 14, 20), 1), id="add"),
        pytest.param(lambda c: wib_midnight(utc(2025, 8, 14, 20)), id="wib_midnight"),
        pytest.param(lambda c: WorkingCalendar([utc(2025, 8, 14, 20)]), id="extra"),
    ],
)
def test_datetime_where_a_date_is_expected_is_rejected(cal: WorkingCalendar, call) -> None:
    # 2025-08-14T20:00Z is already Friday in WIB; using its UTC date would be silently wrong.
    with pytest.raises(TypeError):
        call(cal)


@pytest.mark.parametrize("n", [-1, -60])
def test_negative_counts_are_rejected(cal: WorkingCalendar, n: int) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(date(2025, 7, 7), n)
    with pytest.raises(ValueError):
        cal.deadline_working_days(wib(2025, 7, 7, 10), n)
    with pytest.raises(ValueError):
        cal.deadline_hours(wib(2025, 7, 7, 10), n)


@pytest.mark.parametrize("unit", ["days", "working_day", "HOURS", ""])
def test_deadline_for_rejects_unknown_unit(cal: WorkingCalendar, unit: str) -> None:
    with pytest.raises(ValueError, match="unit"):
        cal.deadline_for(wib(2025, 7, 7, 10), 1, unit)


# -- single days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 7, 4), True),  # Friday
        (date(2025, 7, 5), False),  # Saturday
        (date(2025, 7, 6), False),  # Sunday
        (date(2025, 7, 7), True),  # Monday
        (date(2025, 8, 17), False),  # Sunday, Independence Day
        (date(2025, 8, 18), False),  # Monday, cuti bersama
        (date(2025, 8, 19), True),  # Tuesday
        (date(2025, 3, 27), True),  # Thursday before Nyepi cuti bersama
        (date(2025, 3, 28), False),  # Friday, Nyepi cuti bersama
        (date(2025, 3, 31), False),  # Monday, Idul Fitri
        (date(2025, 4, 1), False),  # Tuesday, Idul Fitri second day
        (date(2025, 4, 2), False),  # Wednesday, cuti bersama Idul Fitri
        (date(2025, 4, 4), False),  # Friday, cuti bersama Idul Fitri
        (date(2025, 4, 7), False),  # Monday, cuti bersama Idul Fitri
        (date(2025, 4, 8), True),  # Tuesday, first working day after Lebaran
        (date(2026, 3, 20), False),  # Friday, cuti bersama Idul Fitri 2026
        (date(2026, 3, 23), False),  # Monday, cuti bersama Idul Fitri 2026
        (date(2026, 3, 24), False),  # Tuesday, cuti bersama Idul Fitri 2026
        (date(2026, 3, 25), True),  # Wednesday
        (date(2025, 12, 26), False),  # Friday, cuti bersama Natal
        (date(2025, 12, 31), True),  # Wednesday
    ],
)
def test_is_working_day_on_real_dates(cal: WorkingCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2025, 8, 17), True),  # a holiday even though it falls on a Sunday
        (date(2025, 8, 18), True),
        (date(2025, 8, 16), False),  # an ordinary Saturday is a weekend, not a holiday
        (date(2025, 8, 19), False),
    ],
)
def test_is_holiday_is_about_holidays_not_weekends(
    cal: WorkingCalendar, day: date, holiday: bool
) -> None:
    assert cal.is_holiday(day) is holiday


def test_holiday_names_default_to_indonesian(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(date(2025, 8, 18)) == (
        "Cuti Bersama Hari Kemerdekaan Republik Indonesia"
    )
    assert cal.holiday_name(date(2025, 3, 31)) == "Hari Raya Idul Fitri"
    assert cal.holiday_name(date(2025, 8, 19)) is None
    assert cal.holiday_name(date(2025, 8, 16)) is None


def test_holiday_names_in_english_when_asked() -> None:
    english = WorkingCalendar(language="en_US")
    assert english.holiday_name(date(2025, 8, 18)) == "Independence Day Joint Holiday"


def test_extra_and_overridden_days_have_the_right_names() -> None:
    named = WorkingCalendar({date(2025, 7, 7): "Banjir Palangka Raya"}, [date(2025, 8, 18)])
    assert named.holiday_name(date(2025, 7, 7)) == "Banjir Palangka Raya"
    assert named.holiday_name(date(2025, 8, 18)) is None
    unnamed = WorkingCalendar([date(2025, 7, 7)])
    assert unnamed.holiday_name(date(2025, 7, 7)) == "Hari libur tambahan"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 7, 4), date(2025, 7, 7)),  # Fri -> Mon
        (date(2025, 7, 7), date(2025, 7, 8)),  # Mon -> Tue
        (date(2025, 8, 15), date(2025, 8, 19)),  # Fri -> Tue over Sun holiday + cuti bersama
        (date(2025, 3, 27), date(2025, 4, 8)),  # Nyepi, Lebaran and cuti bersama
        (date(2025, 12, 24), date(2025, 12, 29)),  # Christmas + cuti bersama + weekend
        (date(2025, 12, 31), date(2026, 1, 2)),  # over New Year into the next year
    ],
)
def test_next_working_day_is_strictly_after(
    cal: WorkingCalendar, day: date, expected: date
) -> None:
    assert cal.next_working_day(day) == expected


# -- working-day deadlines ---------------------------------------------------------------------


def test_domain_example_friday_15_august_2025_one_working_day(cal: WorkingCalendar) -> None:
    # Sun 17 Aug is Independence Day, Mon 18 Aug cuti bersama: deadline Tue 19 Aug 24:00 WIB.
    deadline = cal.deadline_working_days(wib(2025, 8, 15, 10), 1)
    assert_utc_deadline(deadline, utc(2025, 8, 19, 17))
    assert deadline == datetime.fromisoformat("2025-08-19T17:00:00+00:00")
    assert deadline == wib(2025, 8, 20)


@pytest.mark.parametrize(
    ("received", "n", "expected"),
    [
        pytest.param(wib(2025, 7, 4, 10), 1, end_of_wib_day(2025, 7, 7), id="fri-1-mon"),
        pytest.param(wib(2025, 7, 4, 10), 5, end_of_wib_day(2025, 7, 11), id="fri-5-fri"),
        pytest.param(wib(2025, 7, 4, 10), 6, end_of_wib_day(2025, 7, 14), id="fri-6-mon"),
        pytest.param(wib(2025, 7, 5, 10), 1, end_of_wib_day(2025, 7, 7), id="sat-1-mon"),
        pytest.param(wib(2025, 7, 6, 23, 59), 1, end_of_wib_day(2025, 7, 7), id="sun-1-mon"),
        pytest.param(wib(2025, 7, 7, 8), 5, end_of_wib_day(2025, 7, 14), id="mon-5-mon"),
        pytest.param(wib(2025, 7, 9, 8), 3, end_of_wib_day(2025, 7, 14), id="wed-3-mon"),
    ],
)
def test_deadline_skips_weekends(
    cal: WorkingCalendar, received: datetime, n: int, expected: datetime
) -> None:
    assert_utc_deadline(cal.deadline_working_days(received, n), expected)


@pytest.mark.parametrize(
    ("received", "n", "expected"),
    [
        pytest.param(wib(2025, 8, 15, 10), 2, end_of_wib_day(2025, 8, 20), id="aug15-2"),
        pytest.param(wib(2025, 3, 26, 10), 1, end_of_wib_day(2025, 3, 27), id="mar26-1"),
        pytest.param(wib(2025, 3, 26, 10), 2, end_of_wib_day(2025, 4, 8), id="mar26-2"),
        pytest.param(wib(2025, 3, 27, 10), 1, end_of_wib_day(2025, 4, 8), id="mar27-1"),
        pytest.param(wib(2025, 3, 27, 10), 2, end_of_wib_day(2025, 4, 9), id="mar27-2"),
        pytest.param(wib(2025, 3, 27, 10), 3, end_of_wib_day(2025, 4, 10), id="mar27-3"),
        # Lebaran 2026: Nyepi cuti 18, Nyepi 19, cuti 20, Eid 21–22, cuti 23–24 March.
        pytest.param(wib(2026, 3, 17, 10), 1, end_of_wib_day(2026, 3, 25), id="2026-mar17-1"),
        pytest.param(wib(2026, 3, 16, 10), 2, end_of_wib_day(2026, 3, 25), id="2026-mar16-2"),
        # Christmas, its cuti bersama, New Year: Dec 29, 30, 31, Jan 2 are the working days.
        pytest.param(wib(2025, 12, 24, 10), 1, end_of_wib_day(2025, 12, 29), id="dec24-1"),
        pytest.param(wib(2025, 12, 24, 10), 4, end_of_wib_day(2026, 1, 2), id="dec24-4"),
        pytest.param(wib(2025, 12, 24, 10), 5, end_of_wib_day(2026, 1, 5), id="dec24-5"),
    ],
)
def test_deadline_skips_idul_fitri_and_cuti_bersama(
    cal: WorkingCalendar, received: datetime, n: int, expected: datetime
) -> None:
    assert_utc_deadline(cal.deadline_working_days(received, n), expected)


@pytest.mark.parametrize(
    ("received", "n", "expected"),
    [
        # Received on Idul Fitri day 1 (Mon 31 Mar 2025): next working day is Tue 8 Apr.
        pytest.param(wib(2025, 3, 31, 9), 0, end_of_wib_day(2025, 4, 8), id="eid-0"),
        pytest.param(wib(2025, 3, 31, 9), 1, end_of_wib_day(2025, 4, 8), id="eid-1"),
        pytest.param(wib(2025, 3, 31, 9), 2, end_of_wib_day(2025, 4, 9), id="eid-2"),
        # Received on a cuti bersama (Mon 18 Aug 2025) and on a Sunday holiday (17 Aug).
        pytest.param(wib(2025, 8, 18, 9), 1, end_of_wib_day(2025, 8, 19), id="cuti-1"),
        pytest.param(wib(2025, 8, 17, 9), 1, end_of_wib_day(2025, 8, 19), id="sun-hol-1"),
        pytest.param(wib(2025, 8, 17, 9), 3, end_of_wib_day(2025, 8, 21), id="sun-hol-3"),
    ],
)
def test_request_received_on_a_holiday(
    cal: WorkingCalendar, received: datetime, n: int, expected: datetime
) -> None:
    assert_utc_deadline(cal.deadline_working_days(received, n), expected)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # Fri 15 Aug 03:00 WIB, still Thu 14 Aug in UTC: d0 is Friday, deadline Tue 19 Aug.
        pytest.param(utc(2025, 8, 14, 20), end_of_wib_day(2025, 8, 19), id="fri-03-wib"),
        # Exactly Fri 00:00 WIB.
        pytest.param(utc(2025, 8, 14, 17), end_of_wib_day(2025, 8, 19), id="fri-00-wib"),
        # One microsecond earlier is still Thursday in WIB: deadline Fri 15 Aug.
        pytest.param(
            utc(2025, 8, 14, 16, 59, 59, 999999), end_of_wib_day(2025, 8, 15), id="thu-late"
        ),
        # Given in WITA (+08:00): Fri 00:30 WITA is Thu 23:30 WIB, so d0 is Thursday.
        pytest.param(
            datetime(2025, 8, 15, 0, 30, tzinfo=WITA), end_of_wib_day(2025, 8, 15), id="wita"
        ),
    ],
)
def test_day_is_the_wib_day_not_the_utc_or_input_day(
    cal: WorkingCalendar, received: datetime, expected: datetime
) -> None:
    assert_utc_deadline(cal.deadline_working_days(received, 1), expected)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        pytest.param(wib(2025, 7, 9, 15), end_of_wib_day(2025, 7, 9), id="working-wed"),
        pytest.param(wib(2025, 7, 9, 23, 59), end_of_wib_day(2025, 7, 9), id="working-late"),
        pytest.param(wib(2025, 7, 5, 10), end_of_wib_day(2025, 7, 7), id="saturday"),
        pytest.param(wib(2025, 7, 6, 10), end_of_wib_day(2025, 7, 7), id="sunday"),
        pytest.param(wib(2025, 8, 16, 10), end_of_wib_day(2025, 8, 19), id="sat-before-cuti"),
    ],
)
def test_zero_working_days_ends_today_or_next_working_day(
    cal: WorkingCalendar, received: datetime, expected: datetime
) -> None:
    assert_utc_deadline(cal.deadline_working_days(received, 0), expected)


def test_add_working_days_zero_and_positive(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2025, 7, 9), 0) == date(2025, 7, 9)
    assert cal.add_working_days(date(2025, 7, 5), 0) == date(2025, 7, 7)
    assert cal.add_working_days(date(2025, 8, 15), 1) == date(2025, 8, 19)
    assert cal.add_working_days(date(2025, 3, 27), 1) == date(2025, 4, 8)


def test_deadline_is_the_same_for_any_time_of_the_wib_day(cal: WorkingCalendar) -> None:
    expected = end_of_wib_day(2025, 8, 19)
    for hour in range(24):
        assert cal.deadline_working_days(wib(2025, 8, 15, hour, 30), 1) == expected


# -- administrator calendar changes ------------------------------------------------------------


def test_extra_non_working_day_shifts_a_deadline(cal: WorkingCalendar) -> None:
    received = wib(2025, 7, 4, 10)  # Friday
    assert cal.deadline_working_days(received, 1) == end_of_wib_day(2025, 7, 7)
    local = WorkingCalendar(extra_non_working=[date(2025, 7, 7)])
    assert local.is_holiday(date(2025, 7, 7))
    assert not local.is_working_day(date(2025, 7, 7))
    assert_utc_deadline(local.deadline_working_days(received, 1), end_of_wib_day(2025, 7, 8))
    assert_utc_deadline(local.deadline_working_days(received, 5), end_of_wib_day(2025, 7, 14))


def test_cuti_bersama_marked_working_shifts_a_deadline_back(cal: WorkingCalendar) -> None:
    received = wib(2025, 8, 15, 10)
    overridden = WorkingCalendar(working_overrides=[date(2025, 8, 18)])
    assert not overridden.is_holiday(date(2025, 8, 18))
    assert overridden.is_working_day(date(2025, 8, 18))
    assert_utc_deadline(
        overridden.deadline_working_days(received, 1), end_of_wib_day(2025, 8, 18)
    )
    assert cal.deadline_working_days(received, 1) == end_of_wib_day(2025, 8, 19)


def test_lebaran_cuti_bersama_marked_working_shortens_the_wait() -> None:
    overridden = WorkingCalendar(working_overrides=[date(2025, 4, 2), date(2025, 4, 3)])
    received = wib(2025, 3, 27, 10)
    assert_utc_deadline(overridden.deadline_working_days(received, 1), end_of_wib_day(2025, 4, 2))
    assert_utc_deadline(overridden.deadline_working_days(received, 3), end_of_wib_day(2025, 4, 8))


def test_override_wins_over_an_extra_non_working_day() -> None:
    day = date(2025, 7, 7)
    both = WorkingCalendar(extra_non_working=[day], working_overrides=[day])
    assert both.is_working_day(date(2025, 7, 7))
    assert both.deadline_working_days(wib(2025, 7, 4, 10), 1) == end_of_wib_day(2025, 7, 7)


def test_saturday_marked_working_is_still_a_weekend_per_domain_definition() -> None:
    # docs/definitions.md: a working day is a Monday to Friday that is not a holiday; overrides only
    # remove dates from the holidays. A Saturday override therefore changes nothing.
    saturday = date(2025, 7, 5)
    overridden = WorkingCalendar(working_overrides=[saturday])
    assert not overridden.is_working_day(saturday)
    assert overridden.deadline_working_days(wib(2025, 7, 4, 10), 1) == end_of_wib_day(2025, 7, 7)


def test_calendar_is_not_affected_by_later_changes_to_its_inputs() -> None:
    extra = [date(2025, 7, 7)]
    overrides = [date(2025, 8, 18)]
    frozen = WorkingCalendar(extra, overrides)
    extra.clear()
    overrides.clear()
    assert not frozen.is_working_day(date(2025, 7, 7))
    assert frozen.is_working_day(date(2025, 8, 18))
    assert frozen.extra_non_working == frozenset({date(2025, 7, 7)})
    assert frozen.working_overrides == frozenset({date(2025, 8, 18)})
    with pytest.raises(AttributeError):
        frozen.other = 1  # type: ignore[attr-defined]


def test_calendars_do_not_share_cached_results() -> None:
    received = wib(2025, 7, 4, 10)
    plain = WorkingCalendar()
    local = WorkingCalendar([date(2025, 7, 7)])
    assert plain.deadline_working_days(received, 1) == end_of_wib_day(2025, 7, 7)
    assert local.deadline_working_days(received, 1) == end_of_wib_day(2025, 7, 8)
    assert plain.deadline_working_days(received, 1) == end_of_wib_day(2025, 7, 7)


# -- hour deadlines and deadline_for -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Fri 22:00 WIB + 4 h = Sat 02:00 WIB, across midnight WIB and into a weekend.
        pytest.param(wib(2025, 8, 15, 22), 4, utc(2025, 8, 15, 19), id="across-midnight"),
        # 16:30Z is 23:30 WIB; +1 h crosses WIB midnight but not UTC midnight.
        pytest.param(utc(2025, 8, 15, 16, 30), 1, utc(2025, 8, 15, 17, 30), id="wib-midnight"),
        # Elapsed time ignores holidays: Fri 10:00 + 72 h = Mon 18 Aug (cuti) 10:00 WIB.
        pytest.param(wib(2025, 8, 15, 10), 72, utc(2025, 8, 18, 3), id="over-holidays"),
        pytest.param(wib(2025, 8, 15, 10), 0, utc(2025, 8, 15, 3), id="zero"),
        pytest.param(
            datetime(2025, 8, 15, 23, tzinfo=WITA), 2, utc(2025, 8, 15, 17), id="from-wita"
        ),
    ],
)
def test_hours_deadline_is_elapsed_time(
    cal: WorkingCalendar, start: datetime, hours: int, expected: datetime
) -> None:
    assert_utc_deadline(cal.deadline_hours(start, hours), expected)
    assert_utc_deadline(cal.deadline_for(start, hours, "hours"), expected)


def test_deadline_for_working_days_matches_the_domain_example(cal: WorkingCalendar) -> None:
    deadline = cal.deadline_for(wib(2025, 8, 15, 10), 1, "working_days")
    assert_utc_deadline(deadline, end_of_wib_day(2025, 8, 19))


# -- on time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_at", "on_time"),
    [
        pytest.param(utc(2025, 8, 19, 17), True, id="exactly-at-deadline"),
        pytest.param(wib(2025, 8, 20, 0, 0), True, id="same-instant-in-wib"),
        pytest.param(utc(2025, 8, 19, 16, 59, 59, 999999), True, id="one-us-before"),
        pytest.param(utc(2025, 8, 19, 17, 0, 0, 1), False, id="one-us-after"),
        pytest.param(wib(2025, 8, 20, 0, 0, 0, 1), False, id="one-us-after-in-wib"),
        pytest.param(wib(2025, 8, 19, 23, 59), True, id="tuesday-late-evening"),
    ],
)
def test_is_on_time_at_the_deadline_boundary(
    cal: WorkingCalendar, event_at: datetime, on_time: bool
) -> None:
    deadline = cal.deadline_working_days(wib(2025, 8, 15, 10), 1)
    assert cal.is_on_time(event_at, deadline) is on_time


# -- working_days_between ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2025, 8, 15), date(2025, 8, 19), 1),  # start excluded, end included
        (date(2025, 8, 14), date(2025, 8, 19), 2),  # Fri 15 and Tue 19
        (date(2025, 8, 15), date(2025, 8, 18), 0),  # only weekend and holidays
        (date(2025, 8, 19), date(2025, 8, 19), 0),  # empty interval
        (date(2025, 8, 19), date(2025, 8, 15), 0),  # end before start
        (date(2025, 7, 4), date(2025, 7, 11), 5),
        (date(2025, 3, 27), date(2025, 4, 8), 1),
        (date(2025, 3, 26), date(2025, 4, 9), 3),  # Mar 27, Apr 8, Apr 9
        (date(2025, 12, 24), date(2026, 1, 2), 4),  # Dec 29, 30, 31, Jan 2
        # 2025: 261 weekdays, 24 of the 28 package holidays fall on a weekday.
        (date(2024, 12, 31), date(2025, 12, 31), 237),
    ],
)
def test_working_days_between(cal: WorkingCalendar, start: date, end: date, expected: int) -> None:
    assert cal.working_days_between(start, end) == expected


# -- consistency with a slow reference implementation ------------------------------------------


def _reference_add(calendar: WorkingCalendar, d0: date, n: int) -> date:
    if n == 0 and calendar.is_working_day(d0):
        return d0
    d, left = d0, max(n, 1)
    while left:
        d += timedelta(days=1)
        if d.weekday() < 5 and not calendar.is_holiday(d):
            left -= 1
    return d


@pytest.mark.parametrize(
    "calendar",
    [
        pytest.param(WorkingCalendar(), id="plain"),
        pytest.param(
            WorkingCalendar([date(2025, 12, 31), date(2026, 1, 2)], [date(2025, 12, 26)]),
            id="admin-changes",
        ),
    ],
)
def test_add_working_days_matches_day_by_day_reference(calendar: WorkingCalendar) -> None:
    d0 = date(2025, 10, 1)
    while d0 <= date(2026, 2, 28):
        for n in (0, 1, 2, 3, 5, 14, 60):
            result = calendar.add_working_days(d0, n)
            assert result == _reference_add(calendar, d0, n), (d0, n)
            assert calendar.is_working_day(result)
            if n:
                assert calendar.working_days_between(d0, result) == n
        d0 += timedelta(days=1)


def test_sixty_working_days_from_a_fixed_date(cal: WorkingCalendar) -> None:
    # From Fri 15 Aug 2025: Aug 19–29 = 9, Sep = 21 (22 weekdays minus 5 Sep) -> 30,
    # Oct = 23 -> 53, Nov 3–11 = 7 -> 60. Deadline: end of Tue 11 Nov 2025.
    deadline = cal.deadline_working_days(wib(2025, 8, 15, 10), 60)
    assert_utc_deadline(deadline, end_of_wib_day(2025, 11, 11))
