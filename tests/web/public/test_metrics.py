"""Service-level figures on the public pages, both languages, on hand-worked oracle data.

Oracle service: commits to 24 hours, 90 % on time. T is 5 minutes ago (the report's time, so
the status's computed_at), D its WIB day.
- D−3 08:00 WIB: 9 requests completed after 1, 2, …, 9 hours (on time; 3 online), first
  response after 30 min; 1 request completed after 30 hours (late), first response after 26 h.
- D−60 08:00 WIB: 5 completed after 3 hours (on time, online), 5 after 50 hours (late).
- Open: one received D−2 08:00 (deadline D−1 08:00: overdue), one received T−2 h (not yet).
Due dates: the D−3 requests are due D−2, the D−60 ones D−59, the overdue open one D−1; the
fresh one has not fallen due.
30 days: received 12, completed 10; due 11 (10 + the overdue open one), on time 9: 81.8 %,
below the 90 % target but within 10 points: at risk; late 2, late and still open 1. Durations
1…9, 30 h: median rank 5 = 5 h, p90 rank 9 = 9 h; first response due 11, on time 9 (81.8 %);
online 3/12 = 25 %.
90 days: received 22, completed 20; due 21, on time 14 (66.7 %), late 7, late and open 1;
sorted durations 1,2,3×6,4…9,30,50×5: median rank 10 = 5 h, p90 rank 18 = 50 h = 2.1 days;
first response due 21 (the D−60 ones were never answered), on time 9 (42.9 %);
online 8/22 = 36.4 %.
Backlog at T: 2, overdue 1.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from html import unescape
from types import SimpleNamespace

import pytest
from babel.dates import format_date

from portal.domain.calendar import UTC, WIB, utc_now, wib_date
from portal.extensions import db
from portal.models import AvailabilityCheck, Incident, ServiceStatus
from portal.services.metrics.service_requests import service_requests_report
from portal.services.metrics.status import status_refresh
from portal.web.public.live import page_cache
from tests.factories import create_department, create_service


def at_wib(day: date, hour: int, minute: int = 0) -> datetime:
    """Return an aware WIB datetime on a day."""
    return datetime.combine(day, time(hour, minute), WIB)


def item(service, external_id, received, completed=None, first=None, channel="counter") -> dict:
    """Return one API request object."""
    return {"service": service.code, "id": external_id, "received_at": received.isoformat(),
            "completed_at": completed.isoformat() if completed else None,
            "first_response_at": first.isoformat() if first else None, "channel": channel}


def oracle_requests(service, t: datetime) -> list[dict]:
    """Return the requests of the module docstring."""
    d = wib_date(t)
    recent, older = at_wib(d - timedelta(days=3), 8), at_wib(d - timedelta(days=60), 8)
    hour = timedelta(hours=1)
    items = [item(service, f"r{h}", recent, recent + h * hour, recent + hour / 2,
                  "online" if h <= 3 else "counter") for h in range(1, 10)]
    items.append(item(service, "late", recent, recent + 30 * hour, recent + 26 * hour))
    items += [item(service, f"o{i}", older, older + 3 * hour, channel="online")
              for i in range(5)]
    items += [item(service, f"l{i}", older, older + 50 * hour) for i in range(5)]
    items.append(item(service, "open-overdue", at_wib(d - timedelta(days=2), 8)))
    items.append(item(service, "open-fresh", t - 2 * hour))
    return items


@pytest.fixture
def oracle(app):
    """The oracle service, reported 5 minutes (and a few seconds) ago, with 4 checks."""
    t = (utc_now() - timedelta(minutes=5, seconds=5)).replace(microsecond=0)
    department = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                   name_en="Regional Revenue Agency")
    service = create_service(
        code="samsat-pkb", department=department, name_id="Pembayaran Pajak Kendaraan",
        name_en="Vehicle tax payment", commitment_value=24, commitment_unit="hours",
        first_response_value=24, first_response_unit="hours",
        online_url="https://samsat.example.go.id",
    )
    checked = at_wib(wib_date(t) - timedelta(days=1), 10)
    db.session.add_all(AvailabilityCheck(service_id=service.id, checked_at=checked + i * timedelta(
        minutes=5), ok=i != 0, status_code=200 if i else 503) for i in range(4))
    db.session.commit()
    service_requests_report(department, {"requests": oracle_requests(service, t)}, now=t)
    return SimpleNamespace(service=service, department=department, t=t, day=wib_date(t))


def html_of(client, path: str) -> str:
    """GET a page that must answer 200 and return its HTML."""
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def text_of(fragment: str) -> str:
    """Strip tags and squeeze spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def figure_rows(html: str) -> dict[str, list[str]]:
    """Read the figures table: row label -> the 30-day and 90-day cells, as text."""
    table = re.search(r'<table class="figures">(.*?)</table>', html, re.S).group(1)
    rows = {}
    for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table, re.S):
        rows[text_of(label)] = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
    return rows


# Service page: status and figures --------------------------------------------------------


def test_service_page_states_the_status_with_its_reason_in_english(client, oracle):
    html = html_of(client, "/en/services/samsat-pkb")
    status = text_of(re.search(r'<p class="status-line">(.*?)</p>', html, re.S).group(1))
    when = format_date(oracle.day, "d MMMM y", locale="en")
    assert status == (f"At risk Only 81.8% of the 11 requests due over the 30 days to {when} "
                      f"were completed on time, against a 90% commitment: close to breaching "
                      f"it. 1 of them is late and still open.")
    assert "Updated 5 minutes ago" in html


def test_service_page_states_the_status_with_its_reason_in_indonesian(client, oracle):
    html = html_of(client, "/id/services/samsat-pkb")
    status = text_of(re.search(r'<p class="status-line">(.*?)</p>', html, re.S).group(1))
    when = format_date(oracle.day, "d MMMM y", locale="id")
    assert status == (f"Berisiko Dalam 30 hari hingga {when}, hanya 81,8% dari 11 permohonan "
                      f"yang jatuh tempo selesai tepat waktu (komitmen: 90%): berisiko tidak "
                      f"memenuhi komitmen. 1 di antaranya terlambat dan masih belum selesai.")
    assert "Diperbarui 5 menit yang lalu" in html


def test_pages_name_the_windows_their_figures_cover(app, client, oracle, monkeypatch):
    when = format_date(oracle.day, "d MMMM y", locale="en")
    html = unescape(html_of(client, "/en/services/samsat-pkb"))
    assert "Status over the last 30 days." in html
    assert "Figures for the last 30 and 90 days" in html
    assert f"The last 90 days to {when}." in html
    assert "Each service's status over the last 30 days" in unescape(html_of(client, "/en/"))
    # The number comes from the status window the pages are given, never typed in a sentence.
    monkeypatch.setitem(app.jinja_env.globals, "status_window_days", 14)
    assert "Status over the last 14 days." in html_of(client, "/en/services")
    assert "Each service's status over the last 14 days" in unescape(html_of(client, "/en/"))


def test_service_page_figures_for_30_and_90_days_in_english(client, oracle):
    rows = figure_rows(html_of(client, "/en/services/samsat-pkb"))
    assert rows == {
        "Requests received": ["12", "22"],
        "Requests completed": ["10", "20"],
        "Requests due (deadline passed)": ["11", "21"],
        "Completed on time, of those due": ["81.8% (9 of 11)", "66.7% (14 of 21)"],
        "Late, of those due": ["2", "7"],
        "Late and still open": ["1", "1"],
        "Median completion time": ["5 hours", "5 hours"],
        "Completion time of 9 requests in 10 (90th percentile)": ["9 hours", "2.1 days"],
        "First response on time": ["81.8%", "42.9%"],
        "Requests received online (digital share)": ["25%", "36.4%"],
        "Online channel availability": ["75%", "75%"],
    }


def test_service_page_figures_for_30_and_90_days_in_indonesian(client, oracle):
    rows = figure_rows(html_of(client, "/id/services/samsat-pkb"))
    assert rows["Permohonan diterima"] == ["12", "22"]
    assert rows["Selesai tepat waktu, dari yang jatuh tempo"] == [
        "81,8% (9 dari 11)", "66,7% (14 dari 21)"]
    assert rows["Terlambat dan masih belum selesai"] == ["1", "1"]
    values = [cell for cells in rows.values() for cell in cells]
    assert "2,1 hari" in values and "5 jam" in values and "36,4%" in values


@pytest.mark.parametrize(("lang", "backlog", "overdue"), [
    ("en", "Open requests now (backlog)", "Of them, past their deadline (overdue)"),
    ("id", "Permohonan dalam proses saat ini", None),
])
def test_service_page_shows_backlog_and_overdue_at_the_status_time(client, oracle, lang,
                                                                 backlog, overdue):
    html = html_of(client, f"/{lang}/services/samsat-pkb")
    pairs = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd class=\"num\">(.*?)</dd>", html))
    assert pairs[backlog] == "2"
    assert list(pairs.values()) == ["2", "1"]
    if overdue:
        assert pairs[overdue] == "1"


def test_a_service_whose_department_stopped_reporting_says_so_in_words(client, app):
    service = create_service(code="silent", name_en="Quiet service")
    then = utc_now() - timedelta(days=10)
    service_requests_report(service.department, {"requests": [], "reported_services": [
        "silent"]}, now=then)
    status_refresh()
    html = html_of(client, "/en/services/silent")
    assert "badge status-no_data" in html
    assert ("The department has sent no report on this service since "
            f"{format_date(wib_date(then), 'd MMMM y', locale='en')}") in html
    assert "No recent reports." in html and "silence is never shown as good service" in html
    assert "Updated less than a minute ago" in html
    html = html_of(client, "/id/services/silent")
    assert "Tidak ada kiriman data terbaru." in html
    assert "Perangkat daerah tidak mengirimkan data layanan ini sejak" in html


def test_a_service_never_reported_shows_no_data_not_health(client, app):
    create_service(code="new-one")
    html = html_of(client, "/en/services/new-one")
    assert "badge status-no_data" in html
    assert "has not reported on this service yet" in html
    assert figure_rows(html)["Completed on time, of those due"] == ["no data", "no data"]


# Charts and their text equivalents ---------------------------------------------------------


def _linked_table(client, html: str, table_id: str) -> str:
    """Follow the service page's link to a chart's table; return that table (its page
    says which service it is and links back)."""
    link = re.search(rf'<a href="([^"#]+)#{table_id}">', html).group(1)
    page = html_of(client, link)
    service = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert f"<h1>{service}: the figures of the charts as tables</h1>" in page
    back = re.search(r'<a href="([^"]+)">Back to the service</a>', page).group(1)
    assert link.startswith(back + "/")
    return re.search(rf'<table class="chart-table" id="{table_id}">(.*?)</table>', page,
                     re.S).group(1)


def test_daily_bar_is_an_accessible_svg_with_a_table_equivalent(client, oracle):
    html = html_of(client, "/en/services/samsat-pkb")
    svg = re.search(r'<svg class="chart"[^>]*aria-labelledby="daily-chart-title '
                    r'daily-chart-desc"[^>]*>(.*?)</svg>', html, re.S)
    assert svg and 'role="img"' in svg.group(0)
    body = svg.group(1)
    assert '<title id="daily-chart-title">Daily on-time rate over the last 90 days</title>' in body
    assert ("Of the last 90 days, 3 had requests falling due; on 1 of them at least 90% of "
            "those were completed on time") in body
    # Due D−59: 5 of 10 on time; D−2: 9 of 10; D−1: the open one, late. 87 days have no rate.
    assert body.count('class="bar-ok"') == 1 and body.count('class="bar-bad"') == 2
    assert body.count('class="bar-none" fill="url(#daily-chart-hatch)"') == 87
    late_day = format_date(oracle.day - timedelta(days=1), "d MMMM y", locale="en")
    assert f"<title>{late_day}: 0% on time, of 1 request due</title>" in body
    # The table is on a page of its own (the service page stays light), linked below the
    # chart, which says so.
    assert "The table linked below the chart gives each day." in body
    assert "<table" not in re.search(r'aria-labelledby="daily-title">(.*?)</section>', html,
                                     re.S).group(1)
    table = _linked_table(client, html, "daily-table")
    assert "<caption>Daily on-time rate over the last 90 days</caption>" in table
    assert table.count('<th scope="row">') == 90
    two_days_ago = f"{oracle.day - timedelta(days=2):%-d %B %Y}"
    assert (f'<th scope="row">{two_days_ago}</th><td class="num">10</td>'
            f'<td class="num">9</td><td class="num">90%</td>') in table


def test_trend_chart_appears_only_for_a_service_that_moved_to_wfa(client, oracle):
    assert "Since the move to" not in html_of(client, "/en/services/samsat-pkb")
    moved = oracle.day - timedelta(days=30)
    create_service(code="moved", department=oracle.department, work_mode="wfa",
                   work_mode_since=moved)
    html = html_of(client, "/en/services/moved")
    assert "Since the move to work from anywhere (WFA)" in html
    svg = re.search(r'<svg class="chart"[^>]*trend-chart-title[^>]*>(.*?)</svg>', html, re.S)
    assert svg and 'role="img"' in svg.group(0) and 'class="move-line"' in svg.group(1)
    # 13 weeks before the move, then 31 days since: 4 full weeks and 3 days.
    assert svg.group(1).count("<rect x=") == 13 + 5
    assert "The table linked below the chart gives each week." in svg.group(1)
    table = _linked_table(client, html, "trend-table")
    assert table.count('<th scope="row">') == 18
    assert table.count("<td>Before the change</td>") == 13 and table.count("<td>WFA</td>") == 5


def test_the_tables_page_speaks_the_readers_language_and_knows_only_real_services(
        client, oracle):
    html = html_of(client, "/id/services/samsat-pkb/tables")
    assert "data grafik dalam bentuk tabel</h1>" in html
    assert '<a href="/id/services/samsat-pkb">Kembali ke halaman layanan</a>' in html
    assert "<caption>Persentase tepat waktu harian dalam 90 hari terakhir</caption>" in html
    # No move of work mode: no weekly table.
    assert 'id="daily-table"' in html and 'id="trend-table"' not in html
    assert client.get("/en/services/no-such-service/tables").status_code == 404


# Home, lists and departments ---------------------------------------------------------------


@pytest.fixture
def province(oracle):
    """Add a never-reported hybrid service and a WFA service disrupted by an open outage."""
    quiet = create_service(code="quiet", department=oracle.department, work_mode="hybrid",
                           name_en="Quiet service")
    broken = create_service(code="broken", department=oracle.department, work_mode="wfa",
                            name_en="Broken service")
    incident = Incident(title_id="SAMSAT daring mati", title_en="Online SAMSAT down",
                        impact="outage", created_by="tester", started_at=utc_now())
    incident.services.append(broken)
    db.session.add(incident)
    db.session.commit()
    return SimpleNamespace(quiet=quiet, broken=broken, incident=incident)


def count_cells(html: str) -> dict[str, list[str]]:
    """Read the home page's counts table: status -> counts by on-site, hybrid, WFA, all."""
    table = re.search(r'<table class="counts">(.*?)</table>', html, re.S).group(1)
    return {re.search(r"status-(\w+)", th).group(1): re.findall(r'<td class="num">(.*?)</td>',
                                                               cells)
            for th, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table)}


@pytest.mark.parametrize(("lang", "heading", "incident"), [
    ("en", "The province at a glance", "Online SAMSAT down"),
    ("id", "Gambaran umum provinsi", "SAMSAT daring mati"),
])
def test_home_counts_services_by_status_and_work_mode_and_lists_disruptions(
        client, province, lang, heading, incident):
    html = html_of(client, f"/{lang}/")
    assert heading in html
    assert count_cells(html) == {
        "meeting": ["0", "0", "0", "0"],
        "at_risk": ["1", "0", "0", "1"],
        "breaching": ["0", "0", "0", "0"],
        "disrupted": ["0", "0", "1", "1"],
        "insufficient_data": ["0", "0", "0", "0"],
        "no_data": ["0", "1", "0", "1"],
    }
    assert incident in html
    assert 'class="badge impact impact-outage"' in html


def test_home_counts_services_by_work_mode_each_once(client, province):
    create_service(department=province.quiet.department, work_mode="wfa")  # never evaluated
    html = html_of(client, "/en/")
    section = re.search(r'<section aria-labelledby="modes-title">(.*?)</section>', html,
                        re.S).group(1)
    assert re.findall(r'mode=(\w+)">\s*<span class="stat-number">(\d+)<', section) == [
        ("onsite", "1"), ("hybrid", "1"), ("wfa", "2")]


def test_home_says_when_nothing_is_disrupted(client, oracle):
    html = html_of(client, "/en/")
    assert "No incident is open: no service is known to be disrupted right now." in html
    assert re.search(r"Updated [56] minutes ago", html)


@pytest.mark.parametrize(("query", "codes"), [
    ("", ["broken", "quiet", "samsat-pkb"]),
    ("?status=meeting", []),
    ("?status=at_risk", ["samsat-pkb"]),
    ("?status=no_data", ["quiet"]),
    ("?status=disrupted", ["broken"]),
    ("?status=breaching", []),
    ("?status=nonsense", ["broken", "quiet", "samsat-pkb"]),
    ("?status=no_data&mode=wfa", []),
])
def test_service_list_filters_by_status(client, province, query, codes):
    html = html_of(client, f"/en/services{query}")
    found = re.findall(r'<a href="/en/services/([\w-]+)">', html)
    assert sorted(found) == codes


def test_service_list_shows_each_status_with_its_reason(client, province):
    html = html_of(client, "/id/services")
    assert html.count('class="status-line"') == 3
    assert "Berisiko" in html and 'badge status-disrupted' in html
    html = html_of(client, "/en/services?status=no_data")
    assert '<option value="no_data" selected>No data</option>' in html


@pytest.mark.parametrize("lang", ["en", "id"])
def test_department_pages_count_statuses_and_badge_each_service(client, province, lang):
    html = html_of(client, f"/{lang}/departments")
    counts = dict(re.findall(r'status-(\w+)">[^<]*</span> <span class="status-count">(\d+)<',
                             html))
    assert counts == {"at_risk": "1", "disrupted": "1", "no_data": "1"}
    html = html_of(client, f"/{lang}/departments/bapenda")
    assert html.count('class="status-line"') == 3
    assert 'class="badge impact impact-outage"' in html  # the open incident is shown


# Freshness, ETag and 304 -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/en/", "/id/services", "/en/services/samsat-pkb",
                                  "/id/departments", "/en/departments/bapenda"])
def test_public_pages_answer_304_to_a_matching_etag_and_cache_briefly(client, oracle, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "max-age=60" in first.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert "public" in again.headers["Cache-Control"]  # the language cookie is set by now


def test_etag_changes_when_new_data_arrives(client, oracle):
    first = client.get("/en/services/samsat-pkb")
    service_requests_report(oracle.department, {"requests": [item(
        oracle.service, "new", utc_now() - timedelta(hours=3), utc_now() - timedelta(hours=1))]})
    again = client.get("/en/services/samsat-pkb",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]
    assert figure_rows(again.get_data(as_text=True))["Requests received"] == ["13", "23"]


def test_live_endpoint_answers_304_until_the_data_changes(client, oracle):
    first = client.get("/en/live")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.get_json()["version"] in etag
    assert "no-cache" in first.headers["Cache-Control"]
    unchanged = client.get("/en/live", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    service_requests_report(oracle.department, {"requests": [], "reported_services": [
        "samsat-pkb"]})
    changed = client.get("/en/live", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_pages_embed_the_refresh_script_and_their_data_version(client, oracle):
    html = html_of(client, "/en/services/samsat-pkb")
    etag = client.get("/en/live").headers["ETag"]
    script = re.search(r'<script src="(/static/[0-9a-f]{12}/js/refresh\.js)" defer '
                       r'data-live-url="/en/live" data-version="([^"]+)" '
                       r"data-ago='([^']+)'></script>", html)
    assert script and unescape(script.group(2)) == etag
    forms = json.loads(unescape(script.group(3)))
    assert forms["m"] == ["Updated %(num)d minute ago", "Updated %(num)d minutes ago"]
    assert forms["now"] == "Updated less than a minute ago"
    assert client.get(script.group(1)).status_code == 200
    for region in ("live-status", "live-figures", "live-charts"):
        assert f'id="{region}" data-live' in html


def test_page_cache_serves_a_page_again_until_the_data_version_changes(client, oracle,
                                                                       cached):
    first = client.get("/en/services/samsat-pkb")
    second = client.get("/en/services/samsat-pkb")
    assert cached == ["public/service.html"]
    assert second.data == first.data
    client.get("/id/services/samsat-pkb")  # another language is another page
    assert cached.count("public/service.html") == 2
    db.session.get(ServiceStatus, oracle.service.id).computed_at = utc_now().astimezone(UTC)
    db.session.commit()
    client.get("/en/services/samsat-pkb")  # the version read is shared for up to a second
    assert cached.count("public/service.html") == 2
    page_cache().version_read = (float("-inf"), "")  # ... a second later
    third = client.get("/en/services/samsat-pkb")
    assert cached.count("public/service.html") == 3
    assert "Updated less than a minute ago" in third.get_data(as_text=True)


def test_page_cache_is_bypassed_for_requests_with_a_session(client, oracle, cached):
    client.set_cookie("session", "anything")
    client.get("/en/")
    response = client.get("/en/")
    assert cached.count("public/home.html") == 2
    assert "private" in response.headers["Cache-Control"]


def test_api_service_list_is_served_from_the_cache_until_the_data_changes(client, oracle,
                                                                         cached):
    # The list builds its statuses through the catalogue search (one call per build).
    import portal.services.catalogue.search as api_views

    calls = []
    original = api_views.facts_status

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    api_views.facts_status = counting
    try:
        first = client.get("/api/v1/services?lang=en")
        second = client.get("/api/v1/services?lang=en")
        assert len(calls) == 1
        assert second.data == first.data
        assert client.get("/api/v1/services?lang=en", headers={
            "If-None-Match": first.headers["ETag"]}).status_code == 304
        service_requests_report(oracle.department, {"requests": [item(
            oracle.service, "new", utc_now() - timedelta(hours=3),
            utc_now() - timedelta(hours=1))]})
        page_cache().version_read = (float("-inf"), "")  # a second later
        third = client.get("/api/v1/services?lang=en")
        assert len(calls) == 2
        assert third.get_json()["services"][0]["metrics_30_days"]["received"] == (
            first.get_json()["services"][0]["metrics_30_days"]["received"] + 1)
    finally:
        api_views.facts_status = original
