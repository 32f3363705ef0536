"""Accountability pages: both languages, sorting, the period selector, the report, definitions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.domain.calendar import utc_now, wib_date
from tests.accountability_support import add_day, move, spread
from tests.factories import create_department, create_service


@pytest.fixture
def scene(app):
    today = wib_date(utc_now())
    fast = create_department(code="cepat", name_id="Dinas Cepat", name_en="Fast Office")
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office")
    a = create_service(department=fast, code="a", name_en="Permit A")
    b = create_service(department=slow, code="b", name_en="Permit B")
    add_day(a, today - timedelta(days=2), 10, 10)
    add_day(b, today - timedelta(days=2), 10, 4)
    move(b, "wfa", today - timedelta(days=100))
    spread(b, today - timedelta(days=190), 60, 60, 57)
    spread(b, today - timedelta(days=100), 60, 60, 30)
    return today


PAGES = ["/{lang}/accountability", "/{lang}/accountability/departments/lambat",
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


def test_department_scorecard_shows_the_decline_with_its_interval(client, scene):
    html = client.get("/en/accountability/departments/lambat").get_data(as_text=True)
    assert "Significant decline" in html
    assert "fell from 95% to 50%" in html
    assert '<svg role="img"' in html
    assert "Permit B" in html


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


def test_every_definition_link_points_to_an_anchor_of_how_we_measure(client, scene):
    anchors = set(re.findall(r'id="([^"]+)"', client.get("/en/how-we-measure").get_data(
        as_text=True)))
    for path in ("/en/accountability", "/en/accountability/departments/lambat"):
        links = set(re.findall(r'href="/en/how-we-measure#([^"]+)"',
                               client.get(path).get_data(as_text=True)))
        assert links, path
        assert links <= anchors, links - anchors


def test_nav_links_to_accountability(client, scene):
    assert 'href="/en/accountability"' in client.get("/en/").get_data(as_text=True)


def test_the_scorecard_says_how_many_completed_requests_were_on_time(client, scene):
    html = client.get("/en/accountability/departments/lambat").get_data(as_text=True)
    assert re.search(r"[\d.]+% of the \d+ requests completed in the period were on time\.", html)


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
