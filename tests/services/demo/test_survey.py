"""Demo survey answers: deterministic, idempotent, enough for an IKM (except sparse services)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.domain.calendar import UTC
from portal.services.demo.history import SPARSE_SERVICES
from portal.services.demo.survey import demo_survey_generate
from portal.services.errors import ValidationError
from portal.services.survey.skm import ikm_for, survey_import
from tests.factories import create_service

TODAY = date(2026, 3, 31)


def test_generation_is_idempotent_and_gives_an_ikm(app):
    busy = create_service(code="dukcapil-ktp")
    sparse = create_service(code=SPARSE_SERVICES[0])
    added = demo_survey_generate(today=TODAY)
    assert added > 60
    assert demo_survey_generate(today=TODAY) == 0
    last_90 = (TODAY - timedelta(days=89), TODAY)
    assert ikm_for([busy], *last_90).grade in {"A", "B", "C", "D"}
    assert ikm_for([sparse], *last_90).ikm is None


def test_generation_is_deterministic(app):
    service = create_service(code="dukcapil-ktp")
    demo_survey_generate(today=TODAY)
    first = ikm_for([service], TODAY - timedelta(days=179), TODAY)
    assert first.responses > 0
    # Same seed and day: the same answers (a second run adds none, the figures stay).
    demo_survey_generate(today=TODAY)
    assert ikm_for([service], TODAY - timedelta(days=179), TODAY) == first


def test_import_validates_every_row(app):
    service = create_service()
    good = {"service_id": service.id, "visit_token": "import-000000000001",
            "submitted_at": datetime(2026, 1, 1, tzinfo=UTC), **{f"u{i}": 2 for i in range(1, 10)}}
    bad = {**good, "visit_token": "import-000000000002", "u3": 7}
    with pytest.raises(ValidationError) as error:
        survey_import([good, bad])
    assert [(e.index, e.field) for e in error.value.errors] == [(1, "u3")]
    assert survey_import([good]) == 1
    assert survey_import([good]) == 0
