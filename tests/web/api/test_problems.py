"""One error shape for the whole JSON API: application/problem+json (RFC 9457)."""

from __future__ import annotations

import pytest

from portal.services.auth import CLI_OPERATOR
from portal.services.errors import FIELD_ERROR_CODES
from portal.services.metrics.tokens import token_create
from portal.web.api import services as api_services
from tests.factories import create_department, create_service

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}
FIELD_PROBLEM_KEYS = {"field", "index", "code", "message"}


@pytest.fixture
def service(app):
    return create_service(department=create_department(code="dinas-a"), code="izin-a")


def assert_problem(response, status: int, slug: str) -> dict:
    """Check that an answer is the one problem shape, of this status and kind."""
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"http://127.0.0.1:8000/developers#problem-{slug}"
    assert body["title"].strip() and body["detail"].strip()
    for error in body["errors"]:
        assert set(error) == FIELD_PROBLEM_KEYS
        assert error["code"] in FIELD_ERROR_CODES
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "slug"),
    [
        # Raised before any API view runs: answered by the app's handlers, same shape.
        pytest.param("get", "/api/v1/no-such-thing", {}, 404, "not-found", id="unknown-address"),
        pytest.param("get", "/api/v2/services", {}, 404, "not-found", id="unknown-version"),
        pytest.param("delete", "/api/v1/services", {}, 405, "method-not-allowed",
                     id="wrong-method"),
        # Raised by the API views.
        pytest.param("get", "/api/v1/services/nope", {}, 404, "not-found", id="unknown-service"),
        pytest.param("get", "/api/v1/feedback/2222-2222-2222", {}, 404, "not-found",
                     id="unknown-feedback"),
        pytest.param("get", "/api/v1/services?mode=remote", {}, 422, "validation",
                     id="unknown-work-mode"),
        pytest.param("post", "/api/v1/feedback", {"data": "kind=complaint"}, 400,
                     "invalid-body", id="form-instead-of-json"),
        pytest.param("post", "/api/v1/service-requests", {"json": {"requests": []}}, 401,
                     "unauthorized", id="no-token"),
    ],
)
def test_every_refusal_under_the_api_is_one_problem(client, service, method, path, kwargs,
                                                    status, slug):
    assert_problem(getattr(client, method)(path, **kwargs), status, slug)


def test_a_wrong_method_says_which_are_allowed(client, service):
    response = client.delete("/api/v1/services/izin-a")
    assert_problem(response, 405, "method-not-allowed")
    assert {"GET", "HEAD"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_missing_token_gets_the_bearer_challenge(client):
    response = client.post("/api/v1/service-requests", json={"requests": []})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pantau-layanan"'


def test_a_body_larger_than_the_portal_accepts_is_a_413_problem(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/api/v1/feedback", json={"kind": "complaint", "body": "x" * 5000})
    assert_problem(response, 413, "payload-too-large")


def test_a_server_error_is_a_500_problem_that_tells_nothing_of_the_cause(
        app, client, service, monkeypatch):
    def broken(rows, now=None):
        raise RuntimeError("secret connection string postgresql://portal:hunter2@db")

    monkeypatch.setattr(api_services.search, "facts_status", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/api/v1/services/izin-a")
    body = assert_problem(response, 500, "server-error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert body["errors"] == []


def test_an_unknown_lang_is_refused_in_the_language_of_accept_language(client, service):
    response = client.get("/api/v1/services?lang=fr", headers={"Accept-Language": "id"})
    body = assert_problem(response, 422, "validation")
    assert body["errors"] == [{"field": "lang", "index": None, "code": "invalid_choice",
                               "message": 'harus salah satu dari "id", "en"'}]


@pytest.mark.parametrize(("lang", "message"), [
    ("en", "is required, written YYYY-MM-DD"),
    ("id", "wajib diisi, dengan format YYYY-MM-DD"),
])
def test_field_problems_come_in_the_language_asked_for(client, service, lang, message):
    response = client.get(f"/api/v1/services/izin-a/metrics?to=2025-09-30&lang={lang}")
    body = assert_problem(response, 422, "validation")
    assert body["errors"] == [
        {"field": "from", "index": None, "code": "required", "message": message}]


def test_an_error_outside_the_api_views_sets_no_language_cookie(client):
    response = client.get("/api/v1/no-such-thing?lang=en")
    assert_problem(response, 404, "not-found")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", [
    "/api/v1/services/izin%00a",
    "/api/v1/services?q=a%00b",
    "/api/v1/feedback/AB%00CD",
])
def test_a_nul_character_in_the_address_is_refused_not_looked_up(client, service, path):
    # PostgreSQL refuses NUL in a text parameter: a lookup would fail as a server error.
    body = assert_problem(client.get(path), 422, "validation")
    assert [e["code"] for e in body["errors"]] == ["invalid_format"]


def test_a_report_holding_a_nul_character_is_refused_and_says_where(client, service):
    _token, plaintext = token_create("dinas-a", "test", actor=CLI_OPERATOR)
    response = client.post(
        "/api/v1/service-requests", headers={"Authorization": f"Bearer {plaintext}"},
        json={"requests": [{"service": "izin-a", "id": "a\x00b",
                            "received_at": "2025-09-01T09:00:00+07:00"}]},
    )
    body = assert_problem(response, 422, "validation")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("body.requests.0.id", "invalid_format")]


@pytest.mark.parametrize(("payload", "field", "code"), [
    pytest.param({"lang": "fr"}, "lang", "invalid_choice", id="unknown-lang"),
    pytest.param({"client_token": 12345678}, "client_token", "invalid_type",
                 id="token-not-text"),
    pytest.param({"client_token": ""}, "client_token", "invalid_format", id="empty-token"),
    pytest.param({"subject": "   "}, "subject", "required", id="blank-subject"),
    pytest.param({"kind": None}, "kind", "required", id="no-kind"),
    pytest.param({"email": "not-an-address"}, "email", "invalid_format", id="bad-email"),
    pytest.param({"service": "no-such-service"}, "service", "not_found", id="unknown-service"),
    pytest.param({"anonymus": True}, "anonymus", "unknown_field", id="misspelt-key"),
])
def test_feedback_refuses_what_it_used_to_ignore_or_names_the_kind_of_problem(
        client, payload, field, code):
    data = {"kind": "complaint", "subject": "Antrian", "body": "Lama sekali.", **payload}
    body = assert_problem(client.post("/api/v1/feedback", json=data), 422, "validation")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
