"""Regencies carry their official Kemendagri codes in the API (region_code, 62.01–62.13, 62.71)."""

from __future__ import annotations

import pytest

from portal.domain.regions import (
    KEMENDAGRI_REGENCY_CODES,
    kemendagri_from_regency,
    regency_from_kemendagri,
)
from portal.extensions import db
from portal.models import Feedback
from portal.models.feedback import REGENCIES
from tests.factories import create_service
from tests.feedback_support import valid_data


def test_every_regency_of_the_province_has_exactly_one_official_code():
    assert sorted(KEMENDAGRI_REGENCY_CODES.values()) == sorted(REGENCIES)
    assert sorted(KEMENDAGRI_REGENCY_CODES) == [f"62.{n:02d}" for n in range(1, 14)] + ["62.71"]
    assert kemendagri_from_regency("palangka-raya") == "62.71"
    assert regency_from_kemendagri(" 62.03 ") == "kapuas"
    assert kemendagri_from_regency(None) is None and regency_from_kemendagri("63.71") is None


def test_the_public_view_gives_the_official_code_beside_the_portals_own(client):
    service = create_service()
    created = client.post("/api/v1/feedback",
                          json=valid_data(service=service.code, regency="kapuas")).get_json()
    view = client.get(f"/api/v1/feedback/{created['tracking_code']}").get_json()
    assert (view["regency"], view["region_code"]) == ("kapuas", "62.03")


@pytest.mark.parametrize(("sent", "stored"), [("62.71", "palangka-raya"), ("62.10", "pulang-pisau"),
                                               ("kapuas", "kapuas")])
def test_feedback_may_name_its_regency_by_the_official_code(client, sent, stored):
    service = create_service()
    response = client.post("/api/v1/feedback", json=valid_data(service=service.code, regency=sent))
    assert response.status_code == 201, response.get_json()
    assert db.session.query(Feedback.regency).scalar() == stored


def test_an_unknown_official_code_is_refused(client):
    service = create_service()
    response = client.post("/api/v1/feedback",
                           json=valid_data(service=service.code, regency="63.71"))
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["regency"]
