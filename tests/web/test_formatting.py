"""The one place that formats rates, durations, ages and work modes, in English and Indonesian."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.web.formatting import (
    by_lang,
    commitment_text,
    duration_text,
    percent,
    rate_against_target_text,
    rate_text,
    updated_ago_text,
    work_mode_label,
)


@pytest.mark.parametrize(
    ("value", "english", "indonesian"),
    [
        (0.9, "90%", "90%"),
        (0.875, "88%", "88%"),  # half to even: 87.5 -> 88
        (1, "100%", "100%"),
        (None, "", ""),
    ],
)
def test_percent_is_whole(app, value, english, indonesian):
    with force_locale("en"):
        assert percent(value) == english
    with force_locale("id"):
        assert percent(value) == indonesian


@pytest.mark.parametrize(
    ("value", "english", "indonesian"),
    [
        (0.9, "90%", "90%"),
        (0.8996, "90%", "90%"),  # 89.96 has one decimal at most: 90.0, shown without it
        (0.8749, "87.5%", "87,5%"),
        (0.12345, "12.3%", "12,3%"),
        (0, "0%", "0%"),
    ],
)
def test_a_rate_has_one_decimal_at_most(app, value, english, indonesian):
    with force_locale("en"):
        assert rate_text(value) == english
    with force_locale("id"):
        assert rate_text(value) == indonesian


def test_a_missing_rate_says_so_or_shows_the_pages_mark(app):
    with force_locale("en"):
        assert rate_text(None) == "no data"
        assert rate_text(None, no_value="—") == "—"


@pytest.mark.parametrize(
    ("rate", "target", "english", "indonesian"),
    [
        # 89.96 rounds to 90.0 at one decimal, which would read as the 90% it misses.
        (0.8996, 0.9, "89.96%", "89,96%"),
        # 89.999 rounds to 90.00 even at two decimals: cut instead.
        (0.89999, 0.9, "89.99%", "89,99%"),
        (0.8994, 0.9, "89.9%", "89,9%"),
        (0.87, 0.9, "87%", "87%"),
        (0.9, 0.9, "90%", "90%"),
        # 9 of 10 computed in floating point is at its target, not just below it.
        (9 / 10, 0.9, "90%", "90%"),
        # At or above the target: rounded as usual, even up to 100%.
        (0.9996, 0.95, "100%", "100%"),
        (0.94951, 0.95, "94.95%", "94,95%"),
        (0.5, None, "50%", "50%"),
        (None, 0.9, "no data", "tidak ada data"),
    ],
)
def test_a_rate_below_its_target_never_reads_as_reaching_it(app, rate, target, english,
                                                            indonesian):
    with force_locale("en"):
        assert rate_against_target_text(rate, target) == english
    with force_locale("id"):
        assert rate_against_target_text(rate, target) == indonesian


def test_a_commitment_says_its_share_as_a_whole_percentage(app):
    with force_locale("en"):
        assert commitment_text(5, "working_days", 0.95) == (
            "Completed within 5 working days, 95% of requests on time")


@pytest.mark.parametrize(
    ("mode", "label", "short", "in_sentence"),
    [
        ("onsite", "On-site", "On-site", "on-site work"),
        ("hybrid", "Hybrid", "Hybrid", "hybrid work"),
        ("wfa", "Work from anywhere (WFA)", "WFA", "work from anywhere (WFA)"),
    ],
)
def test_a_work_mode_has_a_label_a_short_name_and_a_name_inside_sentences(
        app, mode, label, short, in_sentence):
    with force_locale("en"):
        assert work_mode_label(mode) == label
        assert work_mode_label(mode, short=True) == short
        # "after the move to hybrid work on 3 March", never "to Hybrid on 3 March".
        assert work_mode_label(mode, in_sentence=True) == in_sentence


@pytest.mark.parametrize(
    ("hours", "english", "indonesian"),
    [
        (0.5, "30 minutes", "30 menit"),
        (1, "1 hour", "1 jam"),
        (1.5, "1.5 hours", "1,5 jam"),
        (50.4, "2.1 days", "2,1 hari"),  # 50.4 / 24 = 2.1
        (None, "no data", "tidak ada data"),
    ],
)
def test_a_duration_reads_in_minutes_hours_or_days(app, hours, english, indonesian):
    with force_locale("en"):
        assert duration_text(hours) == english
    with force_locale("id"):
        assert duration_text(hours) == indonesian


@pytest.mark.parametrize(
    ("ago", "english"),
    [
        (timedelta(seconds=59), "Updated less than a minute ago"),
        (timedelta(seconds=90), "Updated 1 minute ago"),
        (timedelta(hours=3, minutes=59), "Updated 3 hours ago"),
        (timedelta(hours=47, minutes=59), "Updated 47 hours ago"),
        (timedelta(hours=50), "Updated 2 days ago"),
    ],
)
def test_freshness_says_how_long_ago_in_the_largest_whole_unit(app, ago, english):
    now = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)
    with force_locale("en"):
        assert updated_ago_text(now - ago, now) == english


def test_a_memoised_formatter_follows_the_language_it_is_rendered_in(app):
    # A mail rendered in the reporter's language during a request in another one.
    memoised = by_lang(rate_text)
    with app.test_request_context("/en/"):
        with force_locale("en"):
            assert memoised(None) == "no data"
        with force_locale("id"):
            assert memoised(None) == "tidak ada data"
