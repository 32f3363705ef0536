"""The public satisfaction survey form: CSRF, honeypot, one answer per visit or feedback."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.calendar import UTC
from portal.extensions import db
from portal.models import SurveyResponse
from portal.services.survey.skm import survey_visit_issue, survey_visit_read
from tests.accountability_support import create_feedback
from tests.factories import create_service, csrf_token_from


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SurveyResponse))


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else ""


def _form_data(html: str, **overrides: str) -> dict:
    data = {"csrf_token": csrf_token_from(html), "visit_token": _hidden(html, "visit_token"),
            "feedback": _hidden(html, "feedback"), "website": ""}
    data.update({f"u{i}": "3" for i in range(1, 10)})
    data.update(overrides)
    return data


@pytest.fixture
def service(app):
    return create_service(code="ktp", name_en="Identity card")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_form_has_nine_fieldsets_with_legends(client, service, lang):
    response = client.get(f"/{lang}/services/ktp/survey")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<fieldset") == 9
    assert html.count("<legend>") == 9
    assert html.count('type="radio"') == 36


def test_answer_is_recorded_once_per_visit(client, service):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    data = _form_data(html)
    response = client.post("/en/services/ktp/survey", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/en/services/ktp/survey/thanks")
    assert _count() == 1
    again = client.post("/en/services/ktp/survey", data=data)
    assert again.status_code == 422
    assert "already been received" in again.get_data(as_text=True)
    assert _count() == 1
    assert client.get("/en/services/ktp/survey/thanks").status_code == 200


def test_post_without_csrf_token_is_refused(client, service):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    data = _form_data(html)
    del data["csrf_token"]
    assert client.post("/en/services/ktp/survey", data=data).status_code in (400, 422)
    assert _count() == 0


def test_honeypot_filled_stores_nothing(client, service):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    response = client.post("/en/services/ktp/survey", data=_form_data(html, website="x"))
    assert response.status_code == 422
    assert _count() == 0


def test_missing_answer_is_shown_next_to_its_question(client, service):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    data = _form_data(html)
    del data["u5"]
    response = client.post("/en/services/ktp/survey", data=data)
    assert response.status_code == 422
    assert 'id="u5-error"' in response.get_data(as_text=True)
    assert _count() == 0


def test_unknown_service_is_404(client, app):
    assert client.get("/en/services/nope/survey").status_code == 404


def test_service_page_links_to_the_survey(client, service):
    html = client.get("/en/services/ktp").get_data(as_text=True)
    assert 'href="/en/services/ktp/survey"' in html


def test_resolved_feedback_page_links_to_the_survey_and_answers_once(client, service):
    feedback = create_feedback(service, status="resolved")
    page = client.get(f"/en/feedback/{feedback.tracking_code_display}").get_data(as_text=True)
    link = re.search(r'href="(/en/services/ktp/survey\?feedback=[^"]+)"', page)
    assert link
    html = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    response = client.post("/en/services/ktp/survey", data=_form_data(html))
    assert response.status_code == 303
    row = db.session.scalars(select(SurveyResponse)).one()
    assert (row.feedback_id, row.visit_token) == (feedback.id, None)
    html = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    again = client.post("/en/services/ktp/survey", data=_form_data(html))
    assert again.status_code == 422
    assert _count() == 1


def test_open_feedback_page_has_no_survey_link(client, service):
    feedback = create_feedback(service, status="in_progress")
    page = client.get(f"/en/feedback/{feedback.tracking_code_display}").get_data(as_text=True)
    assert "/survey" not in page


def test_survey_posts_are_rate_limited(app, client, service):
    app.config["PORTAL_RATELIMIT_ENABLED"] = True
    previous = app.config["PORTAL_SURVEY_RATE_LIMIT"]
    app.config["PORTAL_SURVEY_RATE_LIMIT"] = "2 per hour"
    try:
        statuses = []
        for _ in range(3):
            html = client.get("/en/services/ktp/survey").get_data(as_text=True)
            statuses.append(client.post("/en/services/ktp/survey",
                                        data=_form_data(html)).status_code)
    finally:
        app.config["PORTAL_RATELIMIT_ENABLED"] = False
        app.config["PORTAL_SURVEY_RATE_LIMIT"] = previous
    assert statuses == [303, 303, 429]


def test_form_carries_a_signed_token_for_this_service(client, service):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    token = _hidden(html, "visit_token")
    assert survey_visit_read("ktp", token) is not None
    again = _hidden(client.get("/en/services/ktp/survey").get_data(as_text=True), "visit_token")
    assert survey_visit_read("ktp", again) != survey_visit_read("ktp", token)


def _checked_scores(html: str) -> dict[str, str]:
    """Return the score each question shows as chosen."""
    return dict(re.findall(r'<input checked[^>]*name="(u\d)"[^>]*value="(\d)"', html))


@pytest.mark.parametrize("token", ["a" * 32, "made-up-by-the-browser-0123456789"])
def test_client_made_token_is_refused_and_the_answers_are_kept(client, service, token):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    response = client.post("/en/services/ktp/survey",
                           data=_form_data(html, visit_token=token, u2="4"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The form has expired. Please send it again." in page
    assert _count() == 0
    # The answers are kept, and a fresh token lets the citizen send them again.
    assert _checked_scores(page) == {f"u{i}": "4" if i == 2 else "3" for i in range(1, 10)}
    fresh = _hidden(page, "visit_token")
    assert survey_visit_read("ktp", fresh) is not None
    resent = client.post("/en/services/ktp/survey",
                         data=_form_data(page, visit_token=fresh, u2="4"))
    assert resent.status_code == 303
    assert db.session.scalars(select(SurveyResponse)).one().u2 == 4


def test_token_of_another_service_is_refused(client, service):
    create_service(code="sim")
    other = client.get("/en/services/sim/survey").get_data(as_text=True)
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    response = client.post("/en/services/ktp/survey",
                           data=_form_data(html, visit_token=_hidden(other, "visit_token")))
    assert response.status_code == 422
    assert "The form has expired. Please send it again." in response.get_data(as_text=True)
    assert _count() == 0


def test_token_older_than_two_days_is_refused(client, app, service):
    html = client.get("/en/services/ktp/survey").get_data(as_text=True)
    with app.test_request_context():
        stale = survey_visit_issue("ktp", now=datetime.now(UTC) - timedelta(days=2, minutes=1))
    response = client.post("/en/services/ktp/survey", data=_form_data(html, visit_token=stale))
    assert response.status_code == 422
    assert "The form has expired. Please send it again." in response.get_data(as_text=True)
    assert _count() == 0
