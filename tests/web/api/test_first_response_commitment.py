"""The JSON API v1 says a service's first-response commitment, or null when it makes none."""

from __future__ import annotations

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.services.catalogue.upkeep import service_commitment_change
from tests.factories import create_department, create_service, create_user


@pytest.fixture
def services(app):
    """A service promising a first response in 4 hours, another in 2 working days, one none."""
    department = create_department(code="dinas-a")
    create_service(department=department, code="izin-jam", commitment_value=24,
                   commitment_unit="hours", first_response_value=4,
                   first_response_unit="hours")
    create_service(department=department, code="izin-hari", first_response_value=2,
                   first_response_unit="working_days")
    create_service(department=department, code="izin-tanpa")
    return department


def test_detail_gives_the_first_response_commitment(client, services):
    body = client.get("/api/v1/services/izin-jam").get_json()
    assert body["commitment"] == {
        "value": 24, "unit": "hours", "on_time_target": 0.9,
        "first_response": {"value": 4, "unit": "hours"},
    }


def test_list_gives_null_when_no_first_response_is_promised(client, services):
    items = {s["code"]: s for s in client.get("/api/v1/services").get_json()["services"]}
    assert items["izin-hari"]["commitment"]["first_response"] == {
        "value": 2, "unit": "working_days",
    }
    assert items["izin-tanpa"]["commitment"]["first_response"] is None


def test_a_commitment_change_shows_in_the_api(client, services):
    assert client.get("/api/v1/services/izin-tanpa").get_json()[
        "commitment"]["first_response"] is None
    officer = create_user(role="officer", department=services, username="rina")
    service_commitment_change(
        officer, "izin-tanpa", 5, "working_days", 0.9, wib_date(utc_now()), "Janji respons awal",
        first_response_value=1, first_response_unit="working_days",
    )
    body = client.get("/api/v1/services/izin-tanpa").get_json()
    assert body["commitment"]["first_response"] == {"value": 1, "unit": "working_days"}
    service_commitment_change(
        officer, "izin-tanpa", 5, "working_days", 0.9, wib_date(utc_now()), "Janji dicabut",
        first_response_value=None, first_response_unit=None,
    )
    body = client.get("/api/v1/services/izin-tanpa").get_json()
    assert body["commitment"]["first_response"] is None
