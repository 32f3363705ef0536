"""POST /api/v1/feedback and GET /api/v1/feedback/CODE: same service, no cookies, no identity."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.extensions import db
from portal.models import Feedback
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.routing import routing_rule_add
from tests.factories import create_department, create_service
from tests.feedback_support import IDENTITY, create_triage_unit, valid_data


def test_filing_about_a_service_returns_201_with_routing_and_deadlines(client):
    service = create_service(name_en="Vehicle tax")
    response = client.post("/api/v1/feedback?lang=en", json=valid_data(service=service.code))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= {"tracking_code", "status", "department", "routing_reason", "deadlines"}
    assert body["status"] == "routed"
    assert body["department"] == {"code": service.department.code,
                                  "name": service.department.name_en}
    assert "Vehicle tax" in body["routing_reason"]
    due = datetime.fromisoformat(body["deadlines"]["first_response_due"])
    assert due.utcoffset() is not None
    assert body["deadlines"]["route_due"] is None
    feedback = db.session.query(Feedback).one()
    assert body["tracking_code"] == feedback.tracking_code_display


def test_filing_without_service_or_rule_goes_to_triage(client):
    create_triage_unit()
    body = client.post("/api/v1/feedback", json=valid_data()).get_json()
    assert (body["status"], body["department"]) == ("submitted", None)
    assert body["routing_rule"] == "triage"
    assert body["deadlines"]["route_due"]


def test_a_routing_rule_applies_to_the_api_too(client):
    department = create_department()
    routing_rule_add(department.code, "sampah", priority=1, actor=CLI_OPERATOR)
    body = client.post("/api/v1/feedback", json=valid_data(body="Sampah menumpuk")).get_json()
    assert body["department"]["code"] == department.code
    assert body["routing_rule"] == "rule"


def test_invalid_input_gives_422_with_field_errors(client):
    response = client.post("/api/v1/feedback", json=valid_data(kind="rant", subject=""))
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"kind", "subject"}
    assert db.session.query(Feedback).count() == 0


def test_a_misspelt_key_is_refused_rather_than_ignored(client):
    create_triage_unit()
    data = valid_data(**IDENTITY)
    data["anonymus"] = True
    response = client.post("/api/v1/feedback", json=data)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "anonymus"


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_gives_400(client, payload):
    response = client.post("/api/v1/feedback", data=payload, content_type="application/json")
    assert response.status_code == 400


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(client):
    create_triage_unit()
    response = client.post("/api/v1/feedback", json=valid_data())
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_an_idempotency_key_makes_a_retry_return_the_same_feedback(client):
    create_triage_unit()
    headers = {"Idempotency-Key": "bot-retry-000001"}
    first = client.post("/api/v1/feedback", json=valid_data(), headers=headers).get_json()
    again = client.post("/api/v1/feedback", json=valid_data(), headers=headers).get_json()
    assert first["tracking_code"] == again["tracking_code"]
    assert db.session.query(Feedback).count() == 1


def test_a_retry_with_the_same_key_and_payload_gets_the_same_201_body(client):
    create_triage_unit()
    headers = {"Idempotency-Key": "bot-retry-000001"}
    first = client.post("/api/v1/feedback?lang=en", json=valid_data(), headers=headers)
    again = client.post("/api/v1/feedback?lang=en", json=valid_data(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()


def test_a_key_reused_with_another_payload_is_a_409_without_the_first_feedback(client):
    create_triage_unit()
    headers = {"Idempotency-Key": "bot-retry-000001"}
    first = client.post("/api/v1/feedback", json=valid_data(**IDENTITY), headers=headers)
    other = client.post("/api/v1/feedback?lang=en",
                        json=valid_data(subject="Someone else's complaint"), headers=headers)
    assert other.status_code == 409
    body = other.get_json()
    assert body["type"].endswith("#problem-idempotency-conflict")
    assert body["detail"].startswith(
        "This Idempotency-Key or client_token was already used for a different request")
    raw = other.get_data(as_text=True)
    assert first.get_json()["tracking_code"] not in raw
    assert "tracking_code" not in body
    assert db.session.query(Feedback).count() == 1


def test_a_client_token_in_the_body_reused_with_another_payload_is_a_409(client):
    create_triage_unit()
    data = valid_data(client_token="bot-retry-000002")
    assert client.post("/api/v1/feedback", json=data).status_code == 201
    data["body"] = "Berbeda."
    assert client.post("/api/v1/feedback", json=data).status_code == 409


def test_the_public_view_never_holds_an_identity(client):
    service = create_service()
    created = client.post(
        "/api/v1/feedback", json=valid_data(service=service.code, **IDENTITY)
    ).get_json()
    response = client.get(f"/api/v1/feedback/{created['tracking_code']}")
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    for value in (*IDENTITY.values(), "Siti"):
        assert value not in raw
    view = response.get_json()
    assert view["status"] == "routed"
    assert [step["kind"] for step in view["timeline"]] == ["submitted", "routed"]
    # The holder sees their own text again (issue 13), de-identified; never the identity.
    assert (view["subject"], view["body"]) == (
        "Antrean terlalu panjang", "Saya menunggu tiga jam di loket pelayanan.")
    assert view["published_subject"] is None and view["published_body"] is None
    assert not {"name", "email", "phone", "reporter_name"} & set(view)


def test_the_public_view_accepts_a_sloppy_code_and_404s_an_unknown_one(client):
    create_triage_unit()
    code = client.post("/api/v1/feedback", json=valid_data()).get_json()["tracking_code"]
    assert client.get(f"/api/v1/feedback/{code.lower().replace('-', '')}").status_code == 200
    missing = client.get("/api/v1/feedback/2222-2222-2222")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert missing.get_json()["type"].endswith("#problem-not-found")


@pytest.fixture
def rate_limited(fresh_rate_limits, monkeypatch):
    monkeypatch.setitem(fresh_rate_limits.config, "PORTAL_FEEDBACK_RATE_LIMIT", "2 per hour")


def test_submissions_are_rate_limited_per_client(client, rate_limited):
    create_triage_unit()
    statuses = [client.post("/api/v1/feedback", json=valid_data()).status_code
                for _ in range(3)]
    assert statuses == [201, 201, 429]
    refused = client.post("/api/v1/feedback?lang=en", json=valid_data())
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"].endswith("#problem-rate-limited")
    assert "(at most 2 per hour)" in refused.get_json()["detail"]
    # Another address (another phone behind another NAT) is not affected.
    other = client.post("/api/v1/feedback", json=valid_data(),
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 201
    assert db.session.query(Feedback).count() == 3


def test_the_api_and_the_pages_share_one_feedback_rate_limit():
    from portal.web.api import feedback as feedback_api
    from portal.web.feedback import pages
    assert feedback_api.feedback_rate_limit is pages.feedback_rate_limit


def test_an_unknown_kind_is_answered_with_the_literal_code_values(client):
    response = client.post("/api/v1/feedback?lang=en", json=valid_data(kind="complain"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{
        "field": "kind",
        "index": None,
        "code": "invalid_choice",
        "message": 'must be one of "complaint", "suggestion", "question", "compliment"',
    }]
