"""JSON bodies that once crashed a request are refused as invalid, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Feedback


@pytest.mark.parametrize("body", [
    pytest.param("[" * 100_000 + "]" * 100_000, id="nested-100000-deep"),
    pytest.param('{"kind": "complaint", "subject": "Antrean", "body": "Lama \\ud800"}',
                 id="lone-surrogate"),
    pytest.param('{"kind": "complaint", "\\udfff": 1}', id="lone-surrogate-in-a-key"),
])
def test_unreadable_json_is_a_400_problem_and_nothing_is_stored(client, body):
    response = client.post("/api/v1/feedback", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 400
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_a_surrogate_pair_is_an_ordinary_character(client):
    # "\ud83d\ude00" is one emoji written as a pair: valid, and kept.
    response = client.post(
        "/api/v1/feedback", content_type="application/json",
        data='{"kind": "compliment", "subject": "Terima kasih \\ud83d\\ude00", '
             '"body": "Pelayanan cepat sekali, terima kasih."}',
    )
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(Feedback.subject)) == "Terima kasih \U0001F600"
