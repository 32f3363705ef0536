"""The accountability pages' rows, formatted in Python once a page (bench/README.md).

The figures and words must be those the template filters and gettext give, and the links
built once a page those url_for builds for each row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html import escape

import pytest
from flask import url_for
from flask_babel import gettext, ngettext

from portal.domain.calendar import utc_now, wib_date
from portal.web.accountability.present import points_text
from portal.web.formatting import (
    Formats,
    commitment_text,
    datetime_wib,
    number,
    rate_text,
    work_mode_label,
)
from portal.web.labels import service_status_label
from tests.accountability_support import move
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due


@pytest.fixture
def scene(app):
    """Two departments of commission I, one with a service that moved to WFA."""
    today = wib_date(utc_now())
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office",
                             dprd_commission="I")
    create_department(code="cepat", name_id="Dinas Cepat", name_en="Fast Office",
                      dprd_commission="I")
    service = create_due_service(department=slow, code="izin-b", name_en="Permit B")
    change = today - timedelta(days=100)
    move(service, "wfa", change)
    report_due(service, change - timedelta(days=40), on_time=57, late=3)
    report_due(service, change + timedelta(days=40), on_time=30, open_=30)
    return today


@pytest.mark.parametrize("lang", ["id", "en"])
def test_page_formats_give_what_the_template_helpers_give(app, lang):
    moment = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    with app.test_request_context(f"/{lang}/accountability"):
        app.preprocess_request()
        fmt = Formats()
        assert fmt.number(1234567) == number(1234567)
        assert fmt.number(12.5) == number(12.5)
        assert fmt.rate(0.8765) == rate_text(0.8765)
        assert fmt.rate(None) == rate_text(None)
        assert fmt.datetime_wib(moment) == datetime_wib(moment)
        assert fmt.work_mode_label("wfa", in_sentence=True) == work_mode_label(
            "wfa", in_sentence=True)
        assert fmt.commitment_text(3, "days", 0.9) == commitment_text(3, "days", 0.9)
        assert fmt.status_label("breaching") == service_status_label("breaching")
        assert fmt.gettext("Period") == gettext("Period")
        assert fmt.ngettext("%(num)d day", "%(num)d days", 2) == ngettext(
            "%(num)d day", "%(num)d days", 2)


def test_a_change_of_minus_zero_points_keeps_its_minus_sign(app):
    with app.test_request_context("/en/accountability"):
        app.preprocess_request()
        fmt = Formats()
        # -0.0 equals 0.0: a memo keyed on the value alone would print one as the other.
        assert points_text(0.0, fmt) == "+0.0"
        assert points_text(-0.0, fmt) == "−0.0"
        assert points_text(-0.00001, fmt) == "−0.0"


def test_department_and_sort_links_are_those_url_for_builds(app, client, scene):
    start, end = date(2026, 1, 5), date(2026, 3, 31)
    query = {"from": start.isoformat(), "to": end.isoformat(), "commission": "I"}
    html = client.get(f"/en/accountability?period=custom&from={start}&to={end}"
                      "&commission=I&sort=on_time&dir=desc").get_data(as_text=True)
    with app.test_request_context("/en/accountability"):
        app.preprocess_request()
        expected = [url_for("accountability.department", code=code, **query)
                    for code in ("lambat", "cepat")]
        expected += [url_for("accountability.index", sort="on_time", dir="asc", **query),
                     url_for("accountability.index", sort="name", dir="asc", **query),
                     url_for("accountability.index", sort="status_breaching", dir="desc",
                             **query)]
    for link in expected:
        assert f'href="{escape(link)}"' in html


def test_the_scorecard_links_each_service_to_its_page(app, client, scene):
    html = client.get("/en/accountability/departments/lambat").get_data(as_text=True)
    with app.test_request_context("/en/accountability"):
        app.preprocess_request()
        link = url_for("public.service", code="izin-b")
    assert f'<a href="{link}">Permit B</a>' in html
    report = client.get("/en/accountability/departments/lambat/report").get_data(as_text=True)
    assert f'href="{link}"' not in report and "Permit B" in report
