"""Accountability pages: both languages, sorting, the period selector, the report, definitions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.web.accountability import pages
from tests.accountability_support import move
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due

MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]


def date_long_en(day) -> str:
    """Write a date as the English pages do, e.g. 5 June 2026."""
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


@pytest.fixture
def scene(app):
    today = wib_date(utc_now())
    fast = create_department(code="cepat", name_id="Dinas Cepat", name_en="Fast Office")
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office")
    a = create_due_service(department=fast, code="a", name_en="Permit A")
    b = create_due_service(department=slow, code="b", name_en="Permit B")
    report_due(a, today - timedelta(days=2), on_time=10)
    report_due(b, today - timedelta(days=2), on_time=4, late=6)
    change = today - timedelta(days=100)
    move(b, "wfa", change)
    # B: 57 of 60 due on time before the move, 30 of 60 after (the 30 others still open).
    # C, on-site in the same department over the same weeks: 45 of 50, then 40 of 50.
    c = create_due_service(department=slow, code="c", name_en="Permit C")
    for service, before, after in ((b, (57, 3, 0), (30, 0, 30)), (c, (45, 5, 0), (40, 10, 0))):
        report_due(service, change - timedelta(days=95), on_time=1)
        report_due(service, change - timedelta(days=40), *before)
        report_due(service, change + timedelta(days=40), *after)
    return today


PAGES = ["/{lang}/accountability", "/{lang}/accountability/departments/lambat",
         "/{lang}/accountability/departments/lambat/wfa-impact",
         "/{lang}/accountability/departments/lambat/changes",
         "/{lang}/accountability/departments/lambat/report", "/{lang}/how-we-measure"]


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_both_languages(client, scene, lang, path):
    response = client.get(path.format(lang=lang))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_sorting_by_on_time_rate_works_without_javascript(client, scene):
    ascending = client.get("/en/accountability?sort=on_time&dir=asc").get_data(as_text=True)
    descending = client.get("/en/accountability?sort=on_time&dir=desc").get_data(as_text=True)
    assert ascending.index("Slow Office") < ascending.index("Fast Office")
    assert descending.index("Fast Office") < descending.index("Slow Office")
    assert 'aria-sort="descending"' in descending


def test_sort_links_keep_the_period(client, scene):
    html = client.get("/en/accountability?period=30").get_data(as_text=True)
    assert re.search(r'href="/en/accountability\?[^"]*sort=on_time[^"]*period=30', html) or \
        re.search(r'href="/en/accountability\?[^"]*period=30[^"]*sort=on_time', html)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&from=2025-02-30&to=2025-03-01", "This is not a date"),
        ("period=custom&from=2025-03-10&to=2025-03-01", "on or after the start date"),
        ("period=custom&from=2023-01-01&to=2025-01-01", "at most 366 days"),
        ("period=custom&from=&to=2025-01-01", "Enter a date"),
    ],
)
def test_custom_dates_are_validated_with_messages(client, scene, query, message):
    response = client.get(f"/en/accountability?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_custom_dates_are_validated_in_indonesian_too(client, scene):
    response = client.get("/id/accountability?period=custom&from=2025-03-10&to=2025-03-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html


def test_custom_period_is_used(client, scene):
    today = scene
    start = (today - timedelta(days=5)).isoformat()
    html = client.get(f"/en/accountability?period=custom&from={start}&to={today.isoformat()}"
                      ).get_data(as_text=True)
    assert "Period: " in html
    assert f'value="{start}"' in html


def test_department_wfa_page_shows_both_verdicts_with_sentences_to_read_aloud(client, scene):
    # The scorecard leads to its WFA impact, service by service, on a page of its own.
    html = unescape(client.get("/en/accountability/departments/lambat/wfa-impact").get_data(
        as_text=True))
    change = date_long_en(scene - timedelta(days=100))
    assert "Significant decline" in html
    # 30/60 − 57/60 = −45 points, clearly below zero.
    # The work mode inside the sentence is its in-sentence name, not the capitalised label.
    assert (f"On-time completion fell 45 points after the move to work from anywhere (WFA) on "
            f"{change}, from 95% to 50% of the requests that fell due; this fall is "
            f"statistically clear (95% confidence interval") in html
    # C fell 10 points (90% to 80%) over the same weeks; the 35 points left are still clear.
    assert ("Over the same weeks, on-time completion at the department's services that stayed "
            "on-site fell 10 points, from 90% to 80%. Taking that into account, on-time "
            "completion was 35 points worse, and this difference is statistically clear") in html
    assert "1 on-site service of the department" in html
    assert html.count('<svg role="img"') == 2      # the change, and the change net of C
    assert "Permit B" in html


@pytest.fixture
def thin_scene(app):
    """A department whose two moved services have no verdict: one too new, one too quiet."""
    today = wib_date(utc_now())
    change = today - timedelta(days=100)
    thin = create_department(code="tipis", name_id="Dinas Tipis", name_en="Thin Office")
    late_start = create_due_service(department=thin, code="p", name_en="Permit P")
    quiet = create_due_service(department=thin, code="q", name_en="Permit Q")
    for service in (late_start, quiet):
        move(service, "wfa", change)
    report_due(late_start, change - timedelta(days=60), on_time=40)
    report_due(late_start, change + timedelta(days=10), on_time=40)
    report_due(quiet, change - timedelta(days=95), on_time=1)
    report_due(quiet, change - timedelta(days=10), on_time=12)
    report_due(quiet, change + timedelta(days=10), on_time=30, open_=10)
    return change


def test_wfa_page_says_in_plain_words_why_there_is_no_verdict(client, thin_scene):
    change = thin_scene
    html = unescape(client.get("/en/accountability/departments/tipis/wfa-impact").get_data(
        as_text=True))
    assert (f"Reports for this service begin on {date_long_en(change - timedelta(days=60))}, "
            f"after the comparison period starts on "
            f"{date_long_en(change - timedelta(days=90))}.") in html
    assert ("Too few requests fell due: 12 before and 40 after; at least 30 are needed on "
            "each side.") in html
    assert ("None of the 2 services that moved has enough data for a verdict of its own, so "
            "there is nothing to add up.") in html
    assert "Without a verdict of its own, there is no comparison with services that stayed " \
        "on-site either." in html


def test_dates_in_the_sentences_follow_the_reader_language(client, thin_scene):
    start = thin_scene - timedelta(days=60)
    html = client.get("/id/accountability/departments/tipis/wfa-impact").get_data(as_text=True)
    assert f"{start.day} {MONTHS_ID[start.month - 1]} {start.year}" in html


def test_index_shows_the_verdict_and_the_adjusted_verdict_side_by_side(client, scene):
    html = client.get("/en/accountability").get_data(as_text=True)
    assert "After WFA, net of on-site services" in html
    row = html[html.index("Slow Office"):]
    row = row[:row.index("</tr>")]
    # −45.0 before adjustment, −35.0 net of the department's on-site service.
    assert "−45.0" in row and "−35.0" in row
    descending = client.get("/en/accountability?sort=wfa_net&dir=asc").get_data(as_text=True)
    assert descending.index("Slow Office") < descending.index("Fast Office")


def test_unknown_department_is_404(client, scene):
    assert client.get("/en/accountability/departments/nope").status_code == 404


def test_report_states_portal_period_generation_time_and_definitions(client, scene):
    html = client.get("/en/accountability/departments/lambat/report?period=30").get_data(
        as_text=True)
    assert "Accountability report: Slow Office" in html
    assert "Pantau Layanan" in html
    assert "Generated" in html and "WIB" in html
    assert "Definitions of every figure" in html
    assert 'id="confidence-interval"' in html


def _definitions(html: str) -> str:
    return html[html.index('<section aria-labelledby="def-time"'):html.rindex("</section>")]


def test_every_report_prints_the_definitions_of_how_we_measure_in_its_language(client, scene):
    # Rendered once a language: whichever language asks first, each gets its own.
    for lang in ("en", "id", "en"):
        definitions = _definitions(client.get(f"/{lang}/how-we-measure").get_data(as_text=True))
        for path in ("/accountability/departments/lambat/report", "/accountability/report"):
            report = client.get(f"/{lang}{path}").get_data(as_text=True)
            assert definitions in report, (lang, path)
        words = "Every day is a calendar day" if lang == "en" else "Setiap hari adalah hari"
        assert words in definitions


def test_every_definition_link_points_to_an_anchor_of_how_we_measure(client, scene):
    anchors = set(re.findall(r'id="([^"]+)"', client.get("/en/how-we-measure").get_data(
        as_text=True)))
    for path in ("/en/accountability", "/en/accountability/departments/lambat",
                 "/en/accountability/departments/lambat/wfa-impact"):
        links = set(re.findall(r'href="/en/how-we-measure#([^"]+)"',
                               client.get(path).get_data(as_text=True)))
        assert links, path
        assert links <= anchors, links - anchors


def test_nav_links_to_accountability(client, scene):
    assert 'href="/en/accountability"' in client.get("/en/").get_data(as_text=True)


def test_the_scorecard_says_how_many_completed_requests_were_on_time(client, scene):
    html = client.get("/en/accountability/departments/lambat").get_data(as_text=True)
    assert re.search(r"[\d.]+% of the \d+ requests due in the period were completed on time\.",
                     html)


@pytest.mark.parametrize(("count", "sentence"), [(1, "1 response in the period."),
                                                  (2, "2 responses in the period.")])
def test_the_scorecard_counts_survey_responses_in_singular_and_plural(
        client, scene, count, sentence):
    from datetime import datetime

    from portal.domain.calendar import WIB
    from portal.extensions import db
    from portal.models import Service, SurveyResponse

    service = db.session.query(Service).filter_by(code="b").one()
    day = scene - timedelta(days=3)
    for index in range(count):
        db.session.add(SurveyResponse(
            service_id=service.id, visit_token=f"tok-words-{index}",
            submitted_at=datetime(day.year, day.month, day.day, 12, 0, tzinfo=WIB),
            **{f"u{i}": 3 for i in range(1, 10)}))
    db.session.commit()
    html = client.get("/en/accountability/departments/lambat").get_data(as_text=True)
    assert sentence in html


def test_how_we_measure_words_the_status_bands_and_the_feedback_rule(client, scene):
    html = client.get("/en/how-we-measure").get_data(as_text=True)
    assert "at risk (at most 10 points below it); breaching its commitment (more than 10 " \
        "points below it)" in html
    assert "Each feedback item counts for the department that holds it now." in html
    assert "less than 10 points" not in html and "A feedback counts" not in html


def test_how_we_measure_counts_every_request_once_it_falls_due(client, scene):
    html = client.get("/en/how-we-measure").get_data(as_text=True)
    assert "On time: of the requests that fell due in the period, the share completed by " \
        "their deadline." in html
    assert "is shown as “late and still open”" in html
    assert "not enough data (fewer than 10 requests fell due)" in html
    assert "With fewer than 30 requests due on either side" in html
    assert "a period the reports do not cover proves nothing" in html
    assert "the services that stayed on-site all along" in html
    assert "of the completed requests, the share finished" not in html
    assert "fewer than 10 requests completed" not in html
    for anchor in ("due-date", "late-open", "insufficient-data", "history-coverage",
                   "comparison-group", "net-difference"):
        assert f'id="{anchor}"' in html


def test_the_scorecard_says_a_single_request_due_in_the_singular(client, scene):
    solo = create_department(code="sendiri", name_en="Lone Office")
    service = create_due_service(department=solo, code="solo")
    report_due(service, scene - timedelta(days=2), on_time=1)
    html = client.get("/en/accountability/departments/sendiri").get_data(as_text=True)
    assert "100% of the 1 request due in the period was completed on time." in html


def test_the_definitions_and_scorecard_name_the_limits_the_rules_use(client, scene,
                                                                     monkeypatch):
    # Other limits than today's, so that a number typed into a sentence would show.
    for name, value in {"status_days": 28, "silence_days": 5, "status_min_due": 20,
                        "at_risk_points": 15, "window_days": 60, "min_due": 25,
                        "min_responses": 40}.items():
        monkeypatch.setitem(pages.DEFINITION_LIMITS, name, value)
    html = unescape(client.get("/en/how-we-measure").get_data(as_text=True))
    assert "judged today over the last 28 days (today and the 27 days before)" in html
    assert "no data (no report for more than 5 days" in html
    assert "not enough data (fewer than 20 requests fell due)" in html
    assert "at risk (at most 15 points below it); breaching its commitment (more than 15 " \
        "points below it)" in html
    # Fewer than 20 due: one request moves the share by more than 100 / 20 = 5 points.
    assert "with fewer than 20 requests due in 28 days, one request more or less on time " \
        "moves the share by more than 5 points" in html
    assert "we compare the 60 days before the move with the 60 days from the move on" in html
    assert "With fewer than 25 requests due on either side" in html
    assert "if together they had fewer than 25 requests due on either side" in html
    assert "at least 40 people answered" in html
    card = unescape(client.get("/en/accountability/departments/lambat").get_data(as_text=True))
    assert "Not enough responses (0; at least 40 are needed)." in card
    wfa = unescape(client.get("/en/accountability/departments/lambat/wfa-impact").get_data(
        as_text=True))
    assert "fell due in the 60 days before each service's move and in the 60 days from the " \
        "move on" in wfa


@pytest.mark.parametrize(("lang", "labels"), [
    ("en", ["Last 30 days", "Last 90 days", "Last 365 days"]),
    ("id", ["30 hari terakhir", "90 hari terakhir", "365 hari terakhir"]),
])
def test_the_period_choices_name_their_days(client, scene, lang, labels):
    html = client.get(f"/{lang}/accountability").get_data(as_text=True)
    for label in labels:
        assert f">{label}</label>" in html


def test_a_wrong_period_says_which_days_are_shown_instead(client, scene):
    html = client.get("/en/accountability?period=custom&from=2025-03-10&to=2025-03-01"
                      ).get_data(as_text=True)
    assert "The figures below are for the last 90 days instead." in html


@pytest.mark.parametrize("stored", [date(9999, 12, 31), date(1, 1, 2)])
def test_a_stored_work_mode_date_at_the_ends_of_the_calendar_breaks_no_page(client, stored):
    """Entry points refuse such dates, but a database may hold one: nothing answers 500."""
    department = create_department(code="ujung")
    service = create_due_service(department=department, code="ujung-layanan")
    move(service, "wfa", stored)
    paths = ["/id/accountability", "/en/accountability", "/id/accountability?period=365",
             "/en/accountability/departments/ujung", "/en/accountability/departments/ujung/report",
             "/en/accountability/departments/ujung/wfa-impact",
             "/en/accountability/departments/ujung/changes",
             "/api/v1/accountability", "/api/v1/accountability.csv",
             "/api/v1/accountability.xlsx", "/api/v1/services/ujung-layanan/wfa-impact",
             "/en/services/ujung-layanan"]
    for path in paths:
        assert client.get(path).status_code == 200, path
