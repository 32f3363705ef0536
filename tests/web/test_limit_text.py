"""Rate limits are said in the reader's language, not in Flask-Limiter's English."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from limits import parse

from portal.web.limit_text import rate_limit_text


@pytest.mark.parametrize(("limit", "english"), [
    ("30 per hour", "30 per hour"),
    ("1 per 1 minute", "1 per minute"),
    ("1000 per day", "1,000 per day"),
    ("50 per 2 hours", "50 per 2 hours"),
    ("10 per minute; 50 per hour", "10 per minute, 50 per hour"),
    ("5/second", "5 per second"),
])
def test_limits_are_said_in_english_words(app, limit, english):
    with app.test_request_context(), force_locale("en"):
        assert rate_limit_text(limit) == english


def test_a_parsed_limit_is_said_the_same_way(app):
    with app.test_request_context(), force_locale("en"):
        assert rate_limit_text(parse("30 per hour")) == "30 per hour"


def test_indonesian_readers_read_indonesian_units_and_numbers(app):
    with app.test_request_context(), force_locale("id"):
        assert rate_limit_text("1000 per hour") == "1.000 per jam"
        assert rate_limit_text("10 per minute; 2 per day") == "10 per menit, 2 per hari"
