"""The accountability pages, API and downloads from the page cache: fast, never stale."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.services.accountability.tables import accountability_refresh
from tests.accountability_support import create_feedback
from tests.conftest import a_second_later
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due


@pytest.fixture
def office(app):
    today = wib_date(utc_now())
    office = create_department(code="cepat", name_id="Dinas Cepat", name_en="Fast Office")
    service = create_due_service(department=office, code="a", name_en="Permit A")
    report_due(service, today - timedelta(days=2), on_time=10)
    return office, service, today


def overdue_cell(html: str) -> str:
    """Return the table's "Feedback overdue now" cell of the one department."""
    return re.search(r'data-label="Feedback overdue now">(.*?)</td>', html).group(1)


def test_a_page_is_rendered_once_then_served_from_the_cache(client, office, cached):
    first = client.get("/en/accountability?period=30&sort=name")
    second = client.get("/en/accountability?period=30&sort=name")
    assert first.status_code == second.status_code == 200
    assert cached == ["accountability/index.html"]
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    # The key is the language and the whole query: another one is another page.
    client.get("/id/accountability?period=30&sort=name")
    client.get("/en/accountability?period=30&sort=name&dir=desc")
    client.get("/en/accountability?period=90&sort=name")
    assert cached.count("accountability/index.html") == 4
    # A browser holding the page is told nothing changed.
    again = client.get("/en/accountability?period=30&sort=name",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_new_overdue_feedback_shows_at_once_with_the_cache_on(client, office, cached):
    department, service, today = office
    query = f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"
    page = f"/en/accountability?{query}"
    api = f"/api/v1/accountability?{query}&lang=en"
    assert overdue_cell(client.get(page).get_data(as_text=True)) == "0"
    assert client.get(api).get_json()["departments"][0]["feedback"]["overdue_now"] == 0
    assert client.get(page).status_code == 200  # from the cache

    create_feedback(service, status="routed", resolution_due=utc_now() - timedelta(hours=1))
    a_second_later()
    assert overdue_cell(client.get(page).get_data(as_text=True)) == (
        '<strong class="overdue">1</strong>')
    assert client.get(api).get_json()["departments"][0]["feedback"]["overdue_now"] == 1
    csv = client.get(f"/api/v1/accountability.csv?{query}&lang=en")
    assert csv.status_code == 200
    assert csv.headers["Content-Disposition"].startswith("attachment; filename=")


def test_a_new_snapshot_changes_the_cached_pages(app, client, office, cached):
    app.config["PORTAL_ACCOUNTABILITY_SNAPSHOTS"] = True
    try:
        department, service, today = office
        accountability_refresh()
        pages = ["/en/accountability?period=30", "/en/accountability/departments/cepat",
                 "/api/v1/accountability?period=30&lang=en"]
        before = [client.get(path).data for path in pages]
        assert b"\"due\":10" in before[2]
        report_due(service, today - timedelta(days=1), on_time=7)  # 17 due now
        # The stored figures still say 10 until the job stores new ones ...
        a_second_later()
        assert client.get(pages[2]).get_json()["province"]["due"] == 10
        accountability_refresh()
        a_second_later()
        # ... and then every page shows the new ones, not the cached old page.
        after = [client.get(path).data for path in pages]
        assert all(new != old for new, old in zip(after, before, strict=True))
        assert client.get(pages[2]).get_json()["province"]["due"] == 17
    finally:
        app.config["PORTAL_ACCOUNTABILITY_SNAPSHOTS"] = False


def test_a_signed_in_reader_is_never_served_from_the_cache(client, office, cached):
    client.get("/en/accountability?period=30")
    client.set_cookie(client.application.config["SESSION_COOKIE_NAME"], "x")
    response = client.get("/en/accountability?period=30")
    assert cached.count("accountability/index.html") == 2
    assert "private" in response.headers["Cache-Control"]
