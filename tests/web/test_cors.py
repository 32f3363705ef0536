"""Cross-origin reads: a page on another site may read the public reads, and nothing else."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from tests.factories import create_department, create_service

ORIGIN = {"Origin": "https://dashboard.example.org"}
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
                "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")


@pytest.fixture
def service(app):
    return create_service(department=create_department(code="dinas-a"), code="izin-a")


def _serves(app, path: str) -> bool:
    """Tell whether the portal has a route for the path (Open311 and open data may not)."""
    try:
        app.url_map.bind("localhost").match(path.split("?")[0])
    except NotFound:
        return False
    return True


PUBLIC_READS = [
    "/api/v1/services",
    "/api/v1/services/izin-a",
    "/api/v1/accountability.csv",
    "/api/v1/openapi.json",
    "/data/datapackage.json",
    "/data/services.csv",
    "/id/incidents.atom",
    "/open311/v2/services.json",
]


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_a_public_read_may_be_read_by_any_site_without_credentials(app, client, service, path):
    if not _serves(app, path):
        pytest.skip(f"the portal serves no {path}")
    response = client.get(path, headers=ORIGIN)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    # A wildcard answer is the same for every origin: caches need not vary on Origin.
    assert "Origin" not in response.headers.get("Vary", "")
    assert "ETag" in response.headers.get("Access-Control-Expose-Headers", "")


def test_a_public_read_answers_its_preflight(client, service):
    response = client.options("/api/v1/services/izin-a", headers={
        **ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert "GET" in methods and "POST" not in methods
    assert "if-none-match" in response.headers["Access-Control-Allow-Headers"].lower()
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_an_api_error_is_readable_by_the_other_site_too(client):
    response = client.get("/api/v1/services/nope", headers=ORIGIN)
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/feedback", {"kind": "complaint", "subject": "x", "body": "y"}),
    ("/api/v1/service-requests", {"requests": []}),
])
def test_nothing_that_writes_is_opened_to_other_sites(client, path, body):
    preflight = client.options(path, headers={
        **ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Authorization"})
    assert not [name for name in CORS_HEADERS if name in preflight.headers]
    answer = client.post(path, json=body, headers=ORIGIN)
    assert not [name for name in CORS_HEADERS if name in answer.headers]


def test_open311_filing_is_not_opened_to_other_sites(app, client):
    if not _serves(app, "/open311/v2/requests.json"):
        pytest.skip("the portal serves no Open311 endpoint")
    # Form-encoded: a browser would send it without a preflight, but may not read the answer.
    answer = client.post("/open311/v2/requests.json", data={"service_code": "x"},
                         headers=ORIGIN)
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("path", ["/en/services", "/en/feedback/new", "/en/staff/login",
                                  "/en/developers"])
def test_pages_are_not_opened_to_other_sites(client, service, path):
    response = client.get(path, headers=ORIGIN)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
