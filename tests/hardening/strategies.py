"""Hypothesis strategies for hostile input, and the checks every fuzzed answer must pass.

Texts hold what broke endpoints before: lone surrogates, NUL and other control characters,
right-to-left marks, emoji, very long strings. Numbers reach past every column's range, dates
past the calendar's ends. Form and query values travel as raw bytes (a lone surrogate encoded
with "surrogatepass", as a hostile client can send it), JSON as its ASCII escapes.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db

# Reproducible in CI: the same examples every run, and no example database on disk.
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
FEW = settings(FUZZ, max_examples=40)

SPECIALS = (
    "\x00", "\ud800", "\udfff", "\ud83d", "\u202e", "\u200f", "\u200b", "\ufeff", "\ufffe",
    "\uffff", "\x1b[31m", "\r\n", "\t", "\x7f", "\u0085", "\u2028", "👍🏽", "👨‍👩‍👧", "\U0010ffff",
    "=HYPERLINK(\"http://evil.example\")", "<script>alert(1)</script>", "' OR 1=1 --",
    "%00", "../../etc/passwd", "\\", "null", "true", "0", "-1", "", " ", "é", "ﬀ",
    "ＫＴＰ", "K7QM-3TXV-9PHD", "k7qm 3txv 9phd",
)

# Every code point, surrogates included (st.text() leaves those out by default).
_any_char = st.characters(codec=None, exclude_categories=())
nasty_text = st.one_of(
    st.text(_any_char, max_size=40),
    st.sampled_from(SPECIALS),
    st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(_any_char, max_size=5)),
             max_size=8).map("".join),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "ä" * n),
)

EXTREME_INTEGERS = (0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63) - 1,
                    2**64, 10**30, -(10**30), 10**400)
extreme_numbers = st.one_of(
    st.sampled_from(EXTREME_INTEGERS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from((1e308, -1e308, 5e-324, -0.0, math.inf, -math.inf, math.nan)),
)

_zones = st.sampled_from((UTC, timezone(timedelta(hours=7)),
                          timezone(timedelta(hours=-12)), timezone(timedelta(hours=14)),
                          timezone(timedelta(hours=23, minutes=59))))
EXTREME_DATES = (
    "0001-01-01T00:00:00+07:00", "0001-01-01", "9999-12-31T23:59:59+07:00",
    "9999-12-31T23:59:59-23:59", "9999-12-31", "0000-00-00", "2024-02-30", "2025-13-01",
    "2025-06-01T25:00:00+07:00", "2025-06-01T10:00:00+99:00", "2025-06-01T10:00:00",
    "2025-06-01T10:00:00Z", "+275760-09-13", "1970-01-01T00:00:00+00:00", "2000-01-01",
    "1999-12-31T23:59:59+07:00", "2025-06-01 10:00", "20250601", "2025-W23", "yesterday",
)
extreme_dates = st.one_of(
    st.sampled_from(EXTREME_DATES),
    st.datetimes(timezones=_zones).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.dates().map(lambda d: d.isoformat()),
    nasty_text,
)

scalars = st.one_of(st.none(), st.booleans(), extreme_numbers, nasty_text, extreme_dates)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=6),
                               st.dictionaries(nasty_text, children, max_size=6)),
    max_leaves=25,
)


def nested(depth: int, kind: str = "list") -> str:
    """Return JSON nested ``depth`` deep: lists, objects, or both in turn."""
    if kind == "list":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"a":[' * depth + "1" + "]}" * depth


# Bodies that are no JSON, broken JSON, JSON nested deep, or large.
raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(_any_char, max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from((b"", b"null", b"[]", b"{", b'{"a":}', b"\xff\xfe{}", b'{"a":NaN}',
                     b'{"a":Infinity}', b'{"a":1e999999}', b'{"a":-1e999999}',
                     b'{"\\ud800":"\\udfff"}', b'{"a":"\\u0000"}', b"1" * 5000,
                     b'{"a":' + b"9" * 5000 + b"}")),
    st.tuples(st.integers(min_value=1, max_value=200_000),
              st.sampled_from(("list", "object", "mixed"))).map(
        lambda pair: nested(*pair).encode()),
)


def one_of_or_nasty(*good: Any) -> st.SearchStrategy:
    """Draw a good value most of the way, else anything hostile (to get past first checks)."""
    return st.one_of(st.sampled_from(good), scalars) if good else scalars


_REMOVED = object()


def mutated(valid: dict[str, Any], hostile: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """A valid request with up to three values replaced by hostile ones, or removed.

    Most of a request stays valid, so the hostile value gets past the first checks and
    reaches the code behind them.
    """

    @st.composite
    def build(draw) -> dict[str, Any]:
        result = dict(valid)
        names = draw(st.lists(st.sampled_from(sorted(hostile)), max_size=3, unique=True))
        for name in names:
            value = draw(st.one_of(hostile[name], st.just(_REMOVED)))
            if value is _REMOVED:
                result.pop(name, None)
            else:
                result[name] = value
        return result

    return build()


def json_body(value: Any) -> bytes:
    """Encode a value as a client would (NaN and infinities as Python writes them)."""
    return json.dumps(value).encode()


def form_body(fields: dict[str, Any]) -> bytes:
    """Encode a form as urlencoded bytes; lone surrogates go as their raw UTF-8 bytes."""
    def encode(value: Any) -> str:
        return quote(str(value).encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{encode(name)}={encode(value)}" for name, value in fields.items()
                    if value is not None).encode()


def query_string(params: dict[str, Any]) -> str:
    """Encode query parameters as raw bytes the way form_body does."""
    return form_body(params).decode()


def path_segment(text: str) -> str:
    """Percent-encode a text as one URL path segment (any character, surrogates too)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="") or "%20"


def row_counts() -> tuple[int, ...]:
    """Count the rows of every table in one round trip (nothing pending is counted)."""
    db.session.rollback()
    tables = db.metadata.sorted_tables
    counts = db.session.execute(
        select(*[select(func.count()).select_from(t).scalar_subquery() for t in tables])
    ).one()
    db.session.rollback()
    return tuple(counts)


def assert_handled(response, before: tuple[int, ...] | None = None) -> None:
    """No 5xx; and when the request was refused (4xx), no row was written."""
    assert response.status_code < 500, (response.status_code, response.get_data()[:500])
    if before is not None and 400 <= response.status_code < 500:
        assert row_counts() == before, f"a refused request ({response.status_code}) wrote rows"
