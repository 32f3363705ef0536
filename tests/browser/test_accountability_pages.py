"""Accountability pages in real Chromium, both languages, with axe-core; the printed report."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations

PAGES = [
    "/{lang}/accountability",
    "/{lang}/accountability?sort=on_time&dir=desc",
    "/{lang}/accountability/departments/dinkes",
    "/{lang}/accountability/departments/dinkes/wfa-impact",
    "/{lang}/accountability/departments/dinkes/changes",
    "/{lang}/accountability/departments/dinkes/report",
    "/{lang}/how-we-measure",
    "/{lang}/services/samsat-pkb-tahunan/survey",
]


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_accountability_page_has_no_axe_violations(live_server, page, lang, path):
    response = page.goto(live_server + path.format(lang=lang))
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == lang
    assert axe_violations(page) == []


def test_sorting_and_period_work_without_javascript(live_server, no_js_page):
    no_js_page.goto(f"{live_server}/en/accountability")
    no_js_page.get_by_label("Last 30 days").check()
    no_js_page.get_by_role("button", name="Show").click()
    assert "period=30" in no_js_page.url
    no_js_page.locator("thead").first.get_by_role("link", name="On time", exact=True).click()
    assert "sort=on_time" in no_js_page.url and "period=30" in no_js_page.url


@pytest.mark.parametrize("lang", ["id", "en"])
def test_printed_report_is_a4_without_the_site_chrome(live_server, browser, lang):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/{lang}/accountability/departments/dinkes/report")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".period-form").is_visible()
    assert page.locator(".report-header h1").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    context.close()
    assert pdf.startswith(b"%PDF")
    # A4 is 595 × 842 points (Chromium writes 594.96 × 841.92).
    assert re.search(rb"/MediaBox \[0 0 59[45]\.?\d* 84[12]\.?\d*\]", pdf)
