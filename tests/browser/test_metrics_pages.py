"""Service-level figures in real Chromium: axe in both languages, no JavaScript, live refresh."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import axe_violations

SERVICE = "samsat-pkb-tahunan"  # hybrid since 1 July 2026: it has a trend chart
SILENT = "dishub-persetujuan-andalalin"  # its department stopped reporting: no_data


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("path", [
    f"/{{lang}}/services/{SERVICE}",
    f"/{{lang}}/services/{SERVICE}/tables",
    f"/{{lang}}/services/{SILENT}",
    "/{lang}/",
    "/{lang}/services?status=meeting",
    "/{lang}/departments/bapenda",
])
def test_metrics_pages_with_their_tables_open_have_no_axe_violations(live_server, page, lang,
                                                                     path):
    response = page.goto(live_server + path.format(lang=lang))
    assert response is not None and response.status == 200
    for summary in page.locator("details > summary").all():
        summary.click()
    assert axe_violations(page) == []


@pytest.mark.parametrize(("lang", "texts"), [
    ("en", ["Is it keeping its promise?", "Requests received", "Median completion time",
            "Open requests now (backlog)", "On time, day by day", "Since the move to hybrid work"]),
    ("id", ["Apakah layanan ini menepati janjinya?", "Permohonan diterima",
            "Persentase tepat waktu harian dalam 90 hari terakhir"]),
])
def test_service_page_shows_its_figures_and_charts_without_javascript(live_server, no_js_page,
                                                                      lang, texts):
    no_js_page.goto(f"{live_server}/{lang}/services/{SERVICE}")
    body = no_js_page.locator("main").inner_text()
    for text in texts:
        assert text in body or no_js_page.get_by_text(text).count() >= 1, text
    assert no_js_page.locator("svg.chart[role=img]").count() == 2
    assert no_js_page.locator(".status-line .badge").count() == 1
    assert no_js_page.locator("table.figures tbody tr").count() >= 7
    # Each chart's figures as a table: on a page of its own, one link below each chart.
    links = no_js_page.locator("a[href$='#daily-table'], a[href$='#trend-table']")
    assert links.count() == 2
    no_js_page.locator("a[href$='#daily-table']").click()
    assert no_js_page.url == f"{live_server}/{lang}/services/{SERVICE}/tables#daily-table"
    assert no_js_page.locator("#daily-table tbody tr").count() == 90
    assert no_js_page.locator("#daily-table tbody tr").first.is_visible()
    assert no_js_page.locator("#trend-table tbody tr").count() >= 1


def test_home_shows_the_province_at_a_glance_without_javascript(live_server, no_js_page):
    no_js_page.goto(f"{live_server}/en/")
    assert no_js_page.get_by_role("heading", name="The province at a glance").is_visible()
    table = no_js_page.get_by_role("table", name="Services by status and work mode")
    assert table.locator("tbody tr").count() == 6
    assert no_js_page.get_by_role("heading", name="Disrupted now").is_visible()


def test_silent_service_says_its_department_stopped_reporting(live_server, page):
    page.goto(f"{live_server}/en/services/{SILENT}")
    assert page.locator(".status-line .badge").inner_text() == "No data"
    assert page.get_by_text("No recent reports.").is_visible()


def test_refresh_script_polls_with_if_none_match_and_gets_a_304(live_server, page):
    page.goto(f"{live_server}/en/services/{SERVICE}")
    version = page.locator("script[data-live-url]").get_attribute("data-version")
    with page.expect_response(lambda r: r.url.endswith("/en/live")) as poll:
        # A page that becomes visible polls at once (as it does every 60 s while visible).
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    response = poll.value
    assert response.status == 304
    assert response.request.headers["if-none-match"] == version
    # After a poll the script keeps "Updated N minutes ago" true, in the server's words.
    page.wait_for_timeout(200)
    updated = page.locator("#live-status time[data-ago]").inner_text()
    assert re.fullmatch(r"Updated (less than a minute|\d+ minutes?|\d+ hours?) ago", updated)


def test_refresh_script_swaps_the_live_regions_when_the_data_changes(live_server, page):
    url = f"{live_server}/en/services/{SERVICE}"
    page.goto(url)
    before_heading = page.locator("h1").inner_text()

    def newer_version(route):
        route.fulfill(status=200, headers={"ETag": '"newer"', "Content-Type":
                                           "application/json"}, body='{"version":"newer"}')

    def newer_page(route):
        html = route.fetch().text()
        html = html.replace('<h2 id="figures-title">Figures</h2>',
                            '<h2 id="figures-title">Figures (fresh)</h2>')
        html = html.replace("<h1>", "<h1>Not a live region: ")
        route.fulfill(status=200, body=html, headers={"Content-Type": "text/html"})

    page.route(f"{live_server}/en/live", newer_version)
    page.route(url, newer_page)
    with page.expect_response(url):
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.locator("#figures-title", has_text="Figures (fresh)").wait_for()
    assert page.locator("h1").inner_text() == before_heading  # only [data-live] is swapped
    assert page.locator("#live-figures").count() == 1
