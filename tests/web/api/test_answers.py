"""How the API writes answers: every timestamp in WIB (+07:00), and where new feedback lives."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.domain.calendar import UTC, utc_now
from portal.services.metrics.service_requests import service_requests_report
from portal.web.api.answers import api_json, api_timestamp, json_answer
from tests.factories import create_department, create_service
from tests.feedback_support import create_triage_unit, valid_data

# An ISO 8601 date and time anywhere in an answer.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def test_a_utc_timestamp_is_written_in_wib_to_the_second():
    # 03:00:00.5 UTC is 10:00 WIB the same day; the fraction of a second is not written.
    assert api_timestamp(datetime(2025, 8, 15, 3, 0, 0, 500000, tzinfo=UTC)) == (
        "2025-08-15T10:00:00+07:00")
    # 20:30 UTC is already the next day in WIB.
    assert api_timestamp(datetime(2025, 8, 15, 20, 30, tzinfo=UTC)) == (
        "2025-08-16T03:30:00+07:00")
    assert api_timestamp(None) is None


def test_nested_timestamps_and_dates_are_written_as_the_api_writes_them():
    value = {"at": datetime(2025, 1, 1, 0, 0, tzinfo=UTC), "day": date(2025, 1, 1),
             "steps": ({"at": datetime(2024, 12, 31, 17, 0, tzinfo=UTC)},), "n": 3}
    assert api_json(value) == {"at": "2025-01-01T07:00:00+07:00", "day": "2025-01-01",
                               "steps": [{"at": "2025-01-01T00:00:00+07:00"}], "n": 3}


def test_an_answer_is_written_as_its_body_with_every_timestamp_in_wib(app):
    # The encoder writes timestamps and dates itself: the answer must be exactly the body
    # api_json gives, written compactly in UTF-8, and a value JSON cannot spell is refused.
    body = {"at": datetime(2025, 1, 1, 0, 0, tzinfo=UTC), "day": date(2025, 1, 1),
            "steps": ({"at": datetime(2024, 12, 31, 17, 0, tzinfo=UTC), "n": 1.5},),
            "name": "Dinas Kependudukan – Kalteng", "none": None, "ok": True}
    with app.test_request_context("/"):
        written = json_answer(body).get_data(as_text=True)
        with pytest.raises(TypeError):
            json_answer({"amount": Decimal("1.5")})
    assert written == json.dumps(api_json(body), ensure_ascii=False, separators=(",", ":"))
    assert '"at":"2025-01-01T07:00:00+07:00"' in written and "–" in written


def _timestamps(value, where="") -> dict[str, str]:
    """Return every timestamp of a JSON answer, by where it is."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items()
                for k, v in _timestamps(item, f"{where}.{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value)
                for k, v in _timestamps(item, f"{where}[{i}]").items()}
    if isinstance(value, str) and TIMESTAMP.match(value):
        return {where: value}
    return {}


def test_every_timestamp_of_every_api_answer_carries_the_wib_offset(client):
    department = create_department(code="dinas-a")
    service = create_service(department=department, code="izin-a")
    received = utc_now() - timedelta(days=2)
    service_requests_report(department, {"requests": [
        {"service": "izin-a", "id": "1", "received_at": received.isoformat(),
         "completed_at": (received + timedelta(hours=5)).isoformat()}]})
    create_triage_unit()
    created = client.post("/api/v1/feedback", json=valid_data(service=service.code))
    code = created.get_json()["tracking_code"]
    answers = {
        "created feedback": created.get_json(),
        "feedback": client.get(f"/api/v1/feedback/{code}").get_json(),
        "services": client.get("/api/v1/services").get_json(),
        "service": client.get("/api/v1/services/izin-a").get_json(),
        "accountability": client.get("/api/v1/accountability").get_json(),
    }
    found = {f"{name}{where}": value for name, answer in answers.items()
             for where, value in _timestamps(answer).items()}
    # Feedback was written in UTC before: its deadlines, steps and dates are here too.
    assert {"created feedback.deadlines.first_response_due", "feedback.submitted_at",
            "feedback.timeline[0].at", "service.last_reported_at",
            "accountability.generated_at"} <= set(found)
    assert {where: value for where, value in found.items()
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00", value)} == {}


def test_new_feedback_answers_201_with_its_api_address_in_location(client):
    create_triage_unit()
    response = client.post("/api/v1/feedback?lang=en", json=valid_data())
    assert response.status_code == 201
    code = response.get_json()["tracking_code"]
    assert response.headers["Location"] == f"http://127.0.0.1:8000/api/v1/feedback/{code}"
    read = client.get(response.headers["Location"].removeprefix("http://127.0.0.1:8000"))
    assert read.status_code == 200
    assert read.get_json()["tracking_code"] == code
