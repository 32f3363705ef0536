"""The catalogue as Open311 offers it: official regency codes and the changeset."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.extensions import db
from portal.models import CommitmentChange
from portal.models.feedback import REGENCIES
from portal.services.open311.catalogue import (
    DEFINITIONS_CHANGED,
    KEMENDAGRI_REGENCY_CODES,
    kemendagri_from_regency,
    open311_changeset,
    regency_from_kemendagri,
)
from tests.factories import create_service


def test_every_regency_of_the_province_has_exactly_one_official_code():
    assert sorted(KEMENDAGRI_REGENCY_CODES.values()) == sorted(REGENCIES)
    assert sorted(KEMENDAGRI_REGENCY_CODES) == [f"62.{n:02d}" for n in range(1, 14)] + ["62.71"]


def test_the_codes_are_kemendagris():
    # Checked by hand against the Kemendagri list of Kalimantan Tengah (province 62).
    assert {code: KEMENDAGRI_REGENCY_CODES[code] for code in ("62.01", "62.03", "62.11",
                                                              "62.12", "62.71")} == {
        "62.01": "kotawaringin-barat",
        "62.03": "kapuas",
        "62.11": "gunung-mas",
        "62.12": "barito-timur",
        "62.71": "palangka-raya",
    }


def test_codes_translate_both_ways():
    assert regency_from_kemendagri(" 62.03 ") == "kapuas"
    assert regency_from_kemendagri("62.14") is None
    assert regency_from_kemendagri("kapuas") is None
    assert kemendagri_from_regency("palangka-raya") == "62.71"
    assert kemendagri_from_regency(None) is None


def test_the_changeset_is_the_latest_change_of_the_catalogue_or_the_definitions(app):
    assert open311_changeset() == DEFINITIONS_CHANGED
    service = create_service()
    service.created_at = datetime(2027, 1, 5, 3, 0, tzinfo=UTC)
    db.session.commit()
    assert open311_changeset() == datetime(2027, 1, 5, 3, 0, tzinfo=UTC)
    db.session.add(CommitmentChange(
        service_id=service.id, commitment_value=3, commitment_unit="working_days",
        on_time_target=0.9, recorded_at=datetime(2027, 2, 1, 8, 30, tzinfo=UTC)))
    db.session.commit()
    assert open311_changeset() == datetime(2027, 2, 1, 8, 30, tzinfo=UTC)
