"""Filing through Open311: the same feedback service, the place kept for staff only, audited."""

from __future__ import annotations

from typing import Any

import pytest

from portal.extensions import db
from portal.models import AuditEntry, Feedback, Open311Request
from portal.services.errors import NotFound, ValidationError
from portal.services.open311.filing import (
    open311_place_for_staff,
    open311_request_file,
    subject_from,
)
from portal.services.open311.keys import open311_key_authenticate
from tests.factories import create_service, create_user
from tests.feedback_support import FRIDAY_15_AUG, create_triage_unit
from tests.services.open311.world import new_key


@pytest.fixture
def key(app):
    return open311_key_authenticate(new_key())


@pytest.fixture
def service(app):
    create_triage_unit()
    return create_service(code="samsat-pkb", name_en="Vehicle tax")


def _form(**overrides: Any) -> dict[str, str]:
    form = {
        "api_key": "whatever: the view checked it",
        "jurisdiction_id": "kalteng.go.id",
        "service_code": "samsat-pkb",
        "description": "Antrean terlalu panjang\nSaya menunggu tiga jam di loket.",
        "attribute[kind]": "complaint",
        "attribute[regency]": "62.03",
        "first_name": "Siti",
        "last_name": "Rahmawati",
        "email": "siti.rahma@example.com",
        "phone": "0812 3456 7890",
        "lat": "-2.2099",
        "long": "113.9135",
        "address_string": "Jl. Tjilik Riwut km 1, Palangka Raya",
        "device_id": "ignored",
        "media_url": "http://example.com/ignored.jpg",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_filing_goes_through_the_feedback_service(key, service):
    feedback = open311_request_file(key, _form(), "en", now=FRIDAY_15_AUG)
    assert feedback.status == "routed"
    assert feedback.department_id == service.department_id
    assert (feedback.routing_rule, feedback.routing_detail) == ("service", "samsat-pkb")
    assert feedback.kind == "complaint"
    assert feedback.regency == "kapuas"
    assert feedback.subject == "Antrean terlalu panjang"
    assert feedback.body == "Antrean terlalu panjang\nSaya menunggu tiga jam di loket."
    assert (feedback.reporter_name, feedback.reporter_email, feedback.reporter_phone) == (
        "Siti Rahmawati", "siti.rahma@example.com", "0812 3456 7890")
    assert (feedback.anonymous, feedback.confidential, feedback.publish_requested) == (
        False, False, False)
    assert feedback.lang == "en"


def test_the_key_and_the_place_are_recorded_beside_the_feedback(key, service):
    feedback = open311_request_file(key, _form(), "id", now=FRIDAY_15_AUG)
    record = db.session.query(Open311Request).one()
    assert (record.feedback_id, record.key_id) == (feedback.id, key.id)
    assert (record.latitude, record.longitude) == (-2.2099, 113.9135)
    assert record.address_string == "Jl. Tjilik Riwut km 1, Palangka Raya"


def test_filing_is_audited_with_the_key_and_nothing_personal(key, service):
    feedback = open311_request_file(key, _form(), "id", now=FRIDAY_15_AUG)
    entry = db.session.query(AuditEntry).filter_by(action="open311.request").one()
    assert (entry.object_type, entry.object_id, entry.actor_username) == (
        "feedback", str(feedback.id), "system")
    assert entry.detail == f"open311_key={key.id}"
    assert entry.to_state == "routed"


@pytest.mark.parametrize("flags, expected", [
    ({"attribute[confidential]": "true"}, (False, True, False)),
    ({"attribute[confidential]": "TRUE", "attribute[publish]": "True"}, (False, True, True)),
    ({"attribute[anonymous]": "true", "attribute[confidential]": "true"}, (True, False, False)),
    ({"attribute[publish]": "false"}, (False, False, False)),
])
def test_the_choices_are_the_forms(key, service, flags, expected):
    feedback = open311_request_file(key, _form(**flags), "id")
    assert (feedback.anonymous, feedback.confidential, feedback.publish_requested) == expected


def test_an_anonymous_report_keeps_neither_identity_nor_place(key, service):
    feedback = open311_request_file(key, _form(**{"attribute[anonymous]": "true"}), "id")
    assert (feedback.reporter_name, feedback.reporter_email, feedback.reporter_phone) == (
        None, None, None)
    record = db.session.query(Open311Request).one()
    assert record.key_id == key.id
    assert (record.latitude, record.longitude, record.address_string) == (None, None, None)


def test_without_a_place_or_a_regency_it_is_filed_all_the_same(key, service):
    feedback = open311_request_file(
        key, _form(lat=None, long=None, address_string=None,
                   **{"attribute[regency]": None}), "id")
    assert feedback.regency is None
    record = db.session.query(Open311Request).one()
    assert (record.latitude, record.longitude, record.address_string) == (None, None, None)


def test_an_unknown_service_is_not_found(key, service):
    with pytest.raises(NotFound):
        open311_request_file(key, _form(service_code="tidak-ada"), "id")
    assert db.session.query(Feedback).count() == 0


@pytest.mark.parametrize("overrides, fields", [
    ({"service_code": ""}, ["service_code"]),
    ({"description": "  "}, ["description"]),
    ({"description": "x" * 5001}, ["description"]),
    ({"attribute[kind]": None}, ["attribute[kind]"]),
    ({"attribute[kind]": "rant"}, ["attribute[kind]"]),
    ({"attribute[regency]": "62.14"}, ["attribute[regency]"]),
    ({"attribute[regency]": "kapuas"}, ["attribute[regency]"]),
    ({"attribute[anonymus]": "true"}, ["attribute[anonymus]"]),
    ({"attribute[publish]": "ya"}, ["attribute[publish]"]),
    ({"lat": "-2.2", "long": None}, ["lat"]),
    ({"lat": "91", "long": "113"}, ["lat"]),
    ({"lat": "nan", "long": "113"}, ["lat"]),
    ({"address_string": "x" * 501}, ["address_string"]),
    ({"email": "siti-at-example"}, ["email"]),
    ({"phone": "call me"}, ["phone"]),
])
def test_a_bad_field_is_refused_by_its_open311_name_and_nothing_is_stored(
        key, service, overrides, fields):
    with pytest.raises(ValidationError) as raised:
        open311_request_file(key, _form(**overrides), "id")
    assert [e.field for e in raised.value.errors] == fields
    assert db.session.query(Feedback).count() == 0
    assert db.session.query(Open311Request).count() == 0


def test_the_subject_is_the_first_line_shortened_on_a_word():
    assert subject_from("\n  Lampu jalan mati  \nDi depan kantor") == "Lampu jalan mati"
    long_line = " ".join(["jalan"] * 60)  # 359 characters
    subject = subject_from(long_line)
    assert len(subject) <= 200
    assert subject.endswith("jalan…")
    assert long_line.startswith(subject[:-1])


@pytest.mark.parametrize("confidential, role, sees", [
    (False, "officer", True),
    (False, "triage", True),
    (True, "officer", False),
    (True, "triage", True),
])
def test_the_place_is_seen_by_staff_who_see_the_identity(key, service, confidential, role,
                                                         sees):
    flags = {"attribute[confidential]": "true"} if confidential else {}
    feedback = open311_request_file(key, _form(**flags), "id")
    staff = create_user(role, department=service.department if role == "officer" else None)
    record = open311_place_for_staff(staff, feedback.id)
    if sees:
        assert record.address_string == "Jl. Tjilik Riwut km 1, Palangka Raya"
    else:
        assert record is None


def test_another_departments_officer_cannot_even_read_the_feedback(key, service):
    feedback = open311_request_file(key, _form(), "id")
    with pytest.raises(NotFound):
        open311_place_for_staff(create_user("officer"), feedback.id)
