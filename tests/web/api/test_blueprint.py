"""The API is one blueprint: the same language rule, headers and CSRF policy on every route."""

from __future__ import annotations

import pytest

from portal.extensions import csrf
from portal.web.api import bp as api_bp
from tests.factories import create_department, create_service


@pytest.fixture
def service(app):
    """An on-site service that never moved to WFA."""
    return create_service(department=create_department(code="dinas-a"), code="izin-a")


def test_every_api_address_is_served_by_the_one_api_blueprint(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/api/")}
    # Routes of the three modules: services, feedback and accountability.
    assert {"api.services_list", "api.feedback_read", "api.accountability_json"} <= endpoints
    assert {endpoint.split(".", 1)[0] for endpoint in endpoints} == {"api"}


@pytest.mark.parametrize(
    ("path", "cache_control"),
    [
        # Public reads are kept a minute, as the public pages are.
        pytest.param("/api/v1/services/izin-a?lang=en", "max-age=60", id="services"),
        # Kept a minute too: the page cache holds it while the data versions hold.
        pytest.param("/api/v1/services/izin-a/wfa-impact?lang=en", "max-age=60",
                     id="accountability"),
        # Feedback follows a case that changes: never kept.
        pytest.param("/api/v1/feedback/PL-NOPE-0000?lang=en", "no-store", id="feedback"),
    ],
)
def test_api_answers_set_no_cookie_vary_by_language_and_say_how_long_to_keep_them(
        client, service, path, cache_control):
    response = client.get(path)
    assert "Set-Cookie" not in response.headers  # ?lang= is not remembered as on pages
    assert "Accept-Language" in response.headers["Vary"]
    assert cache_control in response.headers["Cache-Control"]
    if cache_control != "no-store":
        assert "no-store" not in response.headers["Cache-Control"]


def test_every_api_module_answers_in_the_language_asked_for(client, service):
    # The accountability module has no language hook of its own any more.
    english = client.get("/api/v1/services/izin-a/wfa-impact?lang=en")
    indonesian = client.get("/api/v1/services/izin-a/wfa-impact",
                            headers={"Accept-Language": "id"})
    assert english.status_code == indonesian.status_code == 404
    assert english.get_json()["detail"].startswith("This service has never moved to WFA")
    assert indonesian.get_json()["detail"] != english.get_json()["detail"]


def test_a_feedback_answer_is_never_stored_even_when_refused(client):
    response = client.post("/api/v1/feedback", data=b"not json",
                           content_type="application/json")
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"


def test_only_the_api_writes_are_exempt_from_csrf(client, service):
    # The bearer-token report reaches its token check (401), not a CSRF refusal (400).
    assert client.post("/api/v1/service-requests", json={"requests": []}).status_code == 401
    assert api_bp not in csrf._exempt_blueprints
    assert sorted(view.rsplit(".", 1)[1] for view in csrf._exempt_views
                  if view.startswith("portal.web.api.")) == ["feedback_create",
                                                               "service_requests_post"]
