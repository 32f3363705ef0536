"""Cells of every CSV: safe texts, ISO dates, WIB times, empty for missing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal.services.opendata.cells import csv_cell, formula_safe


@pytest.mark.parametrize("text", [
    "=1+1", "+62 812 3456", "-2+3", "@SUM(A1:A9)", "\t=cmd", "\r=cmd",
    '=HYPERLINK("http://x.example","klik")',
])
def test_a_text_a_spreadsheet_would_evaluate_gets_a_leading_quote(text):
    assert formula_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["Dinas Kesehatan", "", "a=b", "Rp 1.500.000", "'quoted",
                                  " =leading space", "2025-08-15"])
def test_an_ordinary_text_is_left_as_it_is(text):
    assert formula_safe(text) == text


def test_values_are_written_as_machine_readable_cells():
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(False) == "false"
    assert csv_cell(date(2025, 8, 15)) == "2025-08-15"
    # 17:00 UTC is midnight WIB of the next day: times carry the WIB offset.
    assert csv_cell(datetime(2025, 8, 19, 17, 0, tzinfo=UTC)) == "2025-08-20T00:00:00+07:00"
    assert csv_cell(12) == "12"
    assert csv_cell(0.875) == "0.875"
    assert csv_cell(Decimal("88.31")) == "88.31"


def test_a_negative_number_stays_a_number_but_the_same_text_is_neutralised():
    assert csv_cell(-0.75) == "-0.75"
    assert csv_cell("-0.75") == "'-0.75"
