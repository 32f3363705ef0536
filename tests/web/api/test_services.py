"""The JSON API v1: the reporting contract, service reads, metrics windows, conditional GETs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.calendar import UTC, WIB, utc_now
from portal.extensions import db
from portal.models import ServiceRequest
from portal.services.auth import CLI_OPERATOR
from portal.services.metrics.tokens import token_create, token_revoke
from tests.factories import create_department, create_service

URL = "/api/v1/service-requests"


@pytest.fixture
def setup(app):
    """A department with two services, a token for it, and a service of another department."""
    department = create_department(code="dinas-a")
    service = create_service(department=department, code="izin-a", commitment_value=2,
                             commitment_unit="working_days")
    second = create_service(department=department, code="izin-b")
    foreign = create_service(code="izin-lain")
    token, plaintext = token_create("dinas-a", "test", actor=CLI_OPERATOR)
    return {"service": service, "second": second, "foreign": foreign, "token": token,
            "auth": {"Authorization": f"Bearer {plaintext}"}}


def recent(hours_ago: float) -> str:
    """Return an ISO 8601 WIB timestamp some hours before now."""
    return (utc_now() - timedelta(hours=hours_ago)).astimezone(WIB).isoformat()


def request_item(code: str, external_id: str, **overrides) -> dict:
    """Return a valid request object received 30 hours ago."""
    return {"service": code, "id": external_id, "received_at": recent(30), **overrides}


def stored_count() -> int:
    """Count stored requests."""
    return db.session.scalar(select(func.count()).select_from(ServiceRequest))


# POST /api/v1/service-requests ---------------------------------------------------------------


def test_a_report_is_stored_and_a_retry_changes_nothing(client, setup):
    body = {"requests": [request_item("izin-a", "1", completed_at=recent(2), channel="online"),
                         request_item("izin-a", "2")]}
    first = client.post(URL, json=body, headers=setup["auth"])
    assert first.status_code == 200
    assert first.get_json() == {"created": 2, "updated": 0}
    again = client.post(URL, json=body, headers=setup["auth"])
    assert again.get_json() == {"created": 0, "updated": 0}
    body["requests"][1]["completed_at"] = recent(1)
    later = client.post(URL, json=body, headers=setup["auth"])
    assert later.get_json() == {"created": 0, "updated": 1}
    assert "Set-Cookie" not in later.headers


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer plk_not-a-token"}, id="unknown"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="not-bearer"),
        pytest.param({"Authorization": "Bearer "}, id="empty"),
    ],
)
def test_a_missing_or_bad_token_is_401(client, setup, headers):
    response = client.post(URL, json={"requests": [request_item("izin-a", "1")]},
                           headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored_count() == 0


def test_a_revoked_token_is_401(client, setup):
    token_revoke(setup["token"].id, actor=CLI_OPERATOR)
    response = client.post(URL, json={"requests": []}, headers=setup["auth"])
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"requests": [request_item("izin-a", "1"), request_item("izin-lain", "2")]},
                     id="in-requests"),
        pytest.param({"requests": [], "reported_services": ["izin-lain"]},
                     id="in-reported-services"),
    ],
)
def test_a_service_of_another_department_is_403_and_nothing_is_stored(client, setup, body):
    response = client.post(URL, json=body, headers=setup["auth"])
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["type"].endswith("#problem-forbidden")
    # Each request or reported service of the other department, by its position.
    where = "service" if body["requests"] else "reported_services"
    index = 1 if body["requests"] else 0
    assert [(e["field"], e["index"], e["code"]) for e in problem["errors"]] == [
        (where, index, "other_department")]
    assert stored_count() == 0


def test_more_than_5000_requests_is_413(client, setup):
    body = {"requests": [request_item("izin-a", str(i)) for i in range(5001)]}
    response = client.post(URL, json=body, headers=setup["auth"])
    assert response.status_code == 413
    assert stored_count() == 0


def test_exactly_5000_requests_is_accepted(client, setup):
    body = {"requests": [request_item("izin-a", str(i)) for i in range(5000)]}
    response = client.post(URL, json=body, headers=setup["auth"])
    assert response.get_json() == {"created": 5000, "updated": 0}


def test_invalid_items_are_422_with_index_field_and_error_and_nothing_is_stored(client, setup):
    body = {"requests": [
        request_item("izin-a", "ok"),
        request_item("izin-a", "naive", received_at="2025-09-01T09:00:00"),
        request_item("izin-a", "future", completed_at=recent(-1)),
        request_item("izin-a", "before", completed_at=recent(31)),
    ]}
    response = client.post(URL, json=body, headers=setup["auth"], query_string={"lang": "en"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert [(e["index"], e["field"], e["code"]) for e in errors] == [
        (1, "received_at", "invalid_format"), (2, "completed_at", "out_of_range"),
        (3, "completed_at", "out_of_range")]
    assert errors[0]["message"] == "must carry a time zone offset, e.g. +07:00"
    assert errors[1]["message"] == "is in the future"
    assert errors[2]["message"] == "is before received_at"
    assert stored_count() == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param([1, 2], 422, id="not-an-object"),
        pytest.param({}, 422, id="nothing"),
        pytest.param({"requests": "x"}, 422, id="requests-not-a-list"),
    ],
)
def test_a_malformed_report_is_refused(client, setup, body, status):
    response = client.post(URL, json=body, headers=setup["auth"])
    assert response.status_code == status


def test_a_body_that_is_not_json_is_400(client, setup):
    response = client.post(URL, data="{not json", headers={**setup["auth"],
                                                           "Content-Type": "application/json"})
    assert response.status_code == 400


def test_an_empty_report_marks_the_services_reported(client, setup):
    response = client.post(URL, json={"requests": [], "reported_services": ["izin-b"]},
                           headers=setup["auth"])
    assert response.get_json() == {"created": 0, "updated": 0}
    detail = client.get("/api/v1/services/izin-b").get_json()
    assert detail["last_reported_at"] is not None
    assert detail["status"] == "insufficient_data"


# GET /api/v1/services/CODE/metrics -----------------------------------------------------------


def test_metrics_returns_exactly_the_documented_fields(client, setup):
    service = setup["service"]
    from portal.services.metrics.service_requests import service_requests_report

    received = datetime(2025, 9, 1, 9, tzinfo=WIB)
    service_requests_report(service.department, {"requests": [
        {"service": "izin-a", "id": "1", "received_at": received.isoformat(),
         "completed_at": (received + timedelta(hours=3)).isoformat(), "channel": "online"},
    ]}, now=datetime(2025, 9, 30, tzinfo=UTC))
    response = client.get("/api/v1/services/izin-a/metrics?from=2025-09-01&to=2025-09-30")
    assert response.status_code == 200
    assert response.get_json() == {
        "service": "izin-a", "from": "2025-09-01", "to": "2025-09-30", "received": 1,
        "completed": 1, "due": 1, "on_time": 1, "late": 0, "late_open": 0,
        "on_time_rate": 1.0, "median_completion_hours": 3.0, "p90_completion_hours": 3.0,
        "backlog": 0, "overdue": 0, "first_response_due": 0, "first_response_on_time": 0,
        "first_response_on_time_rate": None, "digital_share": 1.0, "availability": None,
    }


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        pytest.param("to=2025-09-30", "from", "required", id="missing-from"),
        pytest.param("from=2025-09-01", "to", "required", id="missing-to"),
        pytest.param("from=2025-13-01&to=2025-12-31", "from", "invalid_format", id="bad-month"),
        pytest.param("from=1%20Sep&to=2025-09-30", "from", "invalid_format", id="not-iso"),
        pytest.param("from=20250901&to=2025-09-30", "from", "invalid_format",
                     id="basic-iso-without-dashes"),
        # The far ends of the calendar have no WIB midnight: refused, not a server error.
        pytest.param("from=2025-09-01&to=9999-12-31", "to", "invalid_format",
                     id="year-9999"),
        pytest.param("from=0001-01-01&to=2025-09-30", "from", "invalid_format",
                     id="year-1"),
        pytest.param("from=2025-09-02&to=2025-09-01", "to", "out_of_range",
                     id="to-before-from"),
        pytest.param("from=2024-01-01&to=2025-01-01", "to", "out_of_range",
                     id="longer-than-366-days"),
    ],
)
def test_metrics_window_errors_are_422(client, setup, query, field, code):
    response = client.get(f"/api/v1/services/izin-a/metrics?{query}")
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]


def test_metrics_of_an_unknown_service_is_404(client, setup):
    response = client.get("/api/v1/services/nope/metrics?from=2025-09-01&to=2025-09-30")
    assert response.status_code == 404


def test_a_whole_year_window_is_accepted(client, setup):
    response = client.get("/api/v1/services/izin-a/metrics?from=2024-01-01&to=2024-12-31")
    assert response.status_code == 200


# GET /api/v1/services and /api/v1/services/CODE ---------------------------------------------


def test_services_list_gives_catalogue_facts_status_and_metrics(client, setup):
    response = client.get("/api/v1/services?lang=en")
    assert response.status_code == 200
    services = {s["code"]: s for s in response.get_json()["services"]}
    assert set(services) == {"izin-a", "izin-b", "izin-lain"}
    item = services["izin-a"]
    assert item["commitment"] == {"value": 2, "unit": "working_days", "on_time_target": 0.9,
                                  "first_response": None}
    assert item["department"]["code"] == "dinas-a"
    assert item["work_mode"] == "onsite"
    assert item["status"] == "no_data"
    assert item["status_reason"].startswith("The department has not reported")


def test_services_list_pages_a_department_with_each_services_last_report(client, setup):
    client.post(URL, json={"requests": [request_item("izin-a", "1")]}, headers=setup["auth"])
    pages = [client.get(f"/api/v1/services?department=dinas-a&per_page=1&page={n}&lang=en")
             .get_json() for n in (1, 2, 3)]
    assert [(p["page"], p["total"], p["pages"]) for p in pages] == [(1, 2, 2), (2, 2, 2),
                                                                    (2, 2, 2)]
    assert pages[0]["prev"] is None and pages[1]["next"] is None
    services = {p["services"][0]["code"]: p["services"][0] for p in pages[:2]}
    assert set(services) == {"izin-a", "izin-b"}  # never the other department's
    reported = datetime.fromisoformat(services["izin-a"]["last_reported_at"])
    assert reported.utcoffset() == timedelta(hours=7)
    assert abs(reported - utc_now()) < timedelta(minutes=5)
    assert services["izin-b"]["last_reported_at"] is None
    assert services["izin-a"]["department"] == {
        "code": "dinas-a", "name": setup["service"].department.name_en}
    # The list and the detail say the same of a service.
    assert client.get("/api/v1/services/izin-a?lang=en").get_json() == services["izin-a"]


def test_service_detail_follows_the_requested_language(client, setup):
    english = client.get("/api/v1/services/izin-a?lang=en").get_json()
    indonesian = client.get("/api/v1/services/izin-a?lang=id").get_json()
    assert english["name"].startswith("Example Service")
    assert indonesian["name"].startswith("Layanan Contoh")
    assert english["department"]["name"].startswith("Example Office")
    assert english["status_reason"].startswith("The department has not reported")
    assert client.get("/api/v1/services/nope").status_code == 404


@pytest.fixture(params=[0, 60], ids=["page-cache-off", "page-cache-on"])
def page_cache_setting(request, app):
    """Run a test with the in-process page cache off (the test setting) and on (production)."""
    from portal.web.public.live import page_cache

    before = app.config["PORTAL_PAGE_CACHE_SECONDS"]
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = request.param
    page_cache().clear()
    yield request.param
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = before
    page_cache().clear()


@pytest.mark.parametrize("path", ["/api/v1/services", "/api/v1/services/izin-a"])
def test_cached_answers_keep_each_language_apart(client, setup, page_cache_setting, path):
    def name_of(response):
        body = response.get_json()
        if "services" in body:
            body = {s["code"]: s for s in body["services"]}["izin-a"]
        return body["name"]

    indonesian = client.get(path, headers={"Accept-Language": "id"})
    english = client.get(path, headers={"Accept-Language": "en"})
    assert name_of(indonesian).startswith("Layanan Contoh")
    assert name_of(english).startswith("Example Service")
    assert indonesian.headers["ETag"] != english.headers["ETag"]
    assert "Accept-Language" in english.headers["Vary"]
    # A client that holds the Indonesian answer does not get a 304 for the English one.
    again = client.get(path, headers={"Accept-Language": "en",
                                      "If-None-Match": indonesian.headers["ETag"]})
    assert again.status_code == 200 and name_of(again).startswith("Example Service")


def test_services_answer_304_when_the_etag_matches(client, setup):
    first = client.get("/api/v1/services/izin-a")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/services/izin-a", headers={"If-None-Match": etag})
    assert again.status_code == 304
    client.post(URL, json={"requests": [request_item("izin-a", "1")]}, headers=setup["auth"])
    changed = client.get("/api/v1/services/izin-a", headers={"If-None-Match": etag})
    assert changed.status_code == 200
