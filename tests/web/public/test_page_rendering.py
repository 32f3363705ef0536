"""Public pages render the same with their gettext bound once as with Flask-Babel's own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template

from portal.domain.calendar import utc_now, wib_date
from portal.web.public import pages
from tests.factories import create_department, create_service
from tests.wfa_support import report_due


@pytest.fixture
def catalogue(app):
    """Two departments, services with figures and a WFA trend, and one never reported."""
    today = wib_date(utc_now())
    north = create_department(code="utara")
    create_department(code="selatan")
    moved = create_service(code="pindah", department=north, work_mode="wfa",
                           work_mode_since=today - timedelta(days=30))
    report_due(moved, today - timedelta(days=50), on_time=8, late=2)
    report_due(moved, today - timedelta(days=10), on_time=1, late=0)
    create_service(code="diam", department=north)


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("path", ["/", "/services", "/services?q=zzz", "/services/pindah",
                                  "/services/diam", "/departments", "/departments/utara",
                                  "/departments/selatan"])
def test_a_page_is_the_same_as_rendered_with_flask_babels_gettext(
    client, catalogue, monkeypatch, lang, path
):
    fast = client.get(f"/{lang}{path}")
    monkeypatch.setattr(pages, "_render", render_template)
    slow = client.get(f"/{lang}{path}")
    assert fast.status_code == slow.status_code == 200
    # Plural and translated sentences of the page itself, not only of its macros. A service
    # never evaluated is "updated" now: the instant of each request is left out.
    assert _timeless(fast.get_data(as_text=True)) == _timeless(slow.get_data(as_text=True))


def _timeless(html: str) -> str:
    """Return a page without the instants its <time> elements carry."""
    return re.sub(r'datetime="[^"]*"', 'datetime=""', html)
