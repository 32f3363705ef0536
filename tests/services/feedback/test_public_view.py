"""The public view of feedback: no identity in any field, frozen, one JSON shape for the API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from portal.domain.calendar import WIB
from portal.services.feedback.citizen import feedback_reply, feedback_submit
from portal.services.feedback.handling import feedback_answer, feedback_transfer
from portal.services.feedback.public_view import FeedbackPublicView, feedback_public_view
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import FRIDAY_15_AUG, IDENTITY, create_triage_unit, valid_data

# Every piece of the reporter's identity, whole and in parts a page could still give away.
IDENTITY_PIECES = (*IDENTITY.values(), "Siti", "Rahmawati", "siti.rahma", "0812", "3456 7890")


def _leaves(value: Any) -> Iterator[Any]:
    """Yield every value held in the view's fields, its parts' fields included."""
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _leaves(getattr(value, field.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


@pytest.fixture
def handled(app):
    """Feedback about a service, answered, replied to by the citizen and transferred."""
    def _handled(**overrides: Any) -> Any:
        service = create_service(code="samsat-pkb")
        create_department(code="dishub")
        officer = create_user("officer", department=service.department)
        feedback = feedback_submit(
            valid_data(service=service.code, subject="Antrean panjang — Siti Rahmawati",
                       body="Saya Siti Rahmawati (0812 3456 7890) menunggu tiga jam.",
                       **IDENTITY, **overrides),
            "id", now=FRIDAY_15_AUG,
        )
        feedback_answer(officer, feedback.id, "Kami periksa antreannya.")
        feedback_reply(feedback.tracking_code, "Saya Siti, silakan telepon 0812 3456 7890.")
        feedback_transfer(officer, feedback.id, "dishub", "Urusan parkir.")
        return feedback
    return _handled


@pytest.mark.parametrize("confidential", [False, True])
def test_no_field_of_the_view_holds_the_reporters_name_email_or_phone(handled, confidential):
    feedback = handled(confidential=confidential)
    assert feedback.confidential is confidential
    assert feedback.reporter_name == IDENTITY["name"]  # stored, so it could have leaked
    view = feedback_public_view(feedback, "id")
    texts = [value for value in _leaves(view) if isinstance(value, str)]
    # The staff's public texts are there: the walk reaches the timeline's steps.
    assert "Kami periksa antreannya." in texts and "Urusan parkir." in texts
    for piece in IDENTITY_PIECES:
        assert not [text for text in texts if piece in text], piece


def test_the_view_has_exactly_the_public_fields_and_none_for_an_identity():
    assert [field.name for field in dataclasses.fields(FeedbackPublicView)] == [
        "tracking_code", "kind", "status", "service", "department", "handled_by", "regency",
        "region_code", "routing_rule", "routing_reason", "routed_department", "submitted_at",
        "routed_at", "first_response_at", "resolved_at", "closed_at", "needs_investigation",
        "investigation_reason", "rejection_reason", "transfer_count", "reopen_count",
        "deadlines", "overdue", "can_reply", "can_reopen", "published", "integrity",
        "subject", "body", "published_subject", "published_body", "timeline",
    ]


def test_the_holder_sees_their_own_text_without_the_personal_data_in_it(handled):
    view = feedback_public_view(handled(), "id")
    assert view.subject == "Antrean panjang — […]"
    assert view.body == "Saya […] […] menunggu tiga jam."


def test_the_view_and_every_part_of_it_are_frozen(handled):
    view = feedback_public_view(handled(), "id")
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.status = "closed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.reporter_email = IDENTITY["email"]  # nothing can be added on the way out
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.timeline[-1].text = "Teks lain"
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.department.name = "Dinas lain"
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.deadlines.resolution_due = None
    # The timeline and the overdue deadlines are tuples: no step can be appended either.
    assert isinstance(view.timeline, tuple) and isinstance(view.overdue, tuple)


def test_as_json_writes_what_the_api_answers_with_iso_8601_times(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "en", now=FRIDAY_15_AUG)
    view = feedback_public_view(feedback, "en", now=datetime(2025, 8, 22, 9, 0, tzinfo=WIB))
    public = view.as_json()
    # Friday 15 Aug 2025, 10:00 WIB; the 3rd working day after it is Thursday 21 August
    # (17 August is a holiday, 18 August collective leave): its end, 24:00 WIB, is 17:00 UTC.
    assert public["submitted_at"] == "2025-08-15T03:00:00+00:00"
    assert public["deadlines"] == {
        "route_due": "2025-08-21T17:00:00+00:00",
        "first_response_due": None,
        "resolution_due": None,
        "auto_close_due": None,
    }
    assert public["handled_by"] == {"code": "ulp", "name": "Complaints Unit"}
    assert public["timeline"] == [{
        "kind": "submitted", "at": "2025-08-15T03:00:00+00:00", "by": "citizen", "text": "",
        "status": "submitted", "from_department": None, "to_department": None,
    }]
    assert public["overdue"] == ["route_due"]  # still not routed on Friday 22 August
    # Templates list the deadlines in the procedure's order, as the API's object does.
    assert [name for name, _due in view.deadlines.items()] == list(public["deadlines"])
