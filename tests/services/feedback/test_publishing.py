"""Publishing feedback: staff approve or decline, the public version, the public list."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from portal.extensions import db
from portal.models import AuditEntry, Feedback
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.services.feedback.citizen import (
    feedback_reply,
    feedback_submit,
    personal_data_warnings,
)
from portal.services.feedback.handling import feedback_answer, feedback_reject
from portal.services.feedback.public_view import feedback_public_view
from portal.services.feedback.publishing import (
    feedback_publish_approve,
    feedback_publish_decline,
    feedback_publish_requests,
    feedback_published_filters,
    feedback_published_get,
    feedback_published_list,
    feedback_published_view,
    publish_state,
)
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import FRIDAY_15_AUG, IDENTITY, create_triage_unit, valid_data

PUBLIC_SUBJECT = "Antrean panjang di loket"
PUBLIC_BODY = "Warga menunggu tiga jam di loket pelayanan."


@dataclass(frozen=True)
class World:
    """What the world fixture sets up."""

    service: Any
    officer: Any
    feedback: Any


@pytest.fixture
def world(app):
    """A service, its officer, and feedback with identity whose reporter asked to publish."""
    service = create_service(code="samsat-pkb", name_en="Vehicle tax")
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(
        valid_data(service=service.code, publish=True,
                   subject="Antrean panjang — Siti Rahmawati",
                   body="Saya Siti Rahmawati (0812 3456 7890) menunggu tiga jam.", **IDENTITY),
        "id", now=FRIDAY_15_AUG,
    )
    return World(service=service, officer=officer, feedback=feedback)


def test_a_new_request_waits_for_a_decision_and_nothing_is_public(world):
    officer, feedback = world.officer, world.feedback
    assert publish_state(feedback) == "requested"
    assert [f.id for f in feedback_publish_requests(officer)] == [feedback.id]
    view = feedback_public_view(feedback, "id", for_holder=False)
    assert (view.published, view.subject, view.body) == (False, None, None)
    assert feedback_public_view(feedback, "id").published_subject is None
    assert feedback_published_list("id").total == 0
    with pytest.raises(NotFound):
        feedback_published_get(feedback.id)


def test_approving_publishes_the_edited_version_never_the_citizens_own_text(world):
    officer, feedback = world.officer, world.feedback
    feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    assert publish_state(feedback) == "approved"
    view = feedback_public_view(feedback, "id", for_holder=False)
    assert (view.subject, view.body) == (PUBLIC_SUBJECT, PUBLIC_BODY)
    holder = feedback_public_view(feedback, "id")
    assert (holder.published_subject, holder.published_body) == (PUBLIC_SUBJECT, PUBLIC_BODY)
    dumped = json.dumps(view.as_json())
    # The name, and the phone as typed or as digits ("0812" alone also matches a timestamp's
    # microseconds, 17:24:49.081224, one run in a few thousand).
    phone = IDENTITY["phone"]
    assert "Siti" not in dumped
    assert phone not in dumped and phone.replace(" ", "") not in dumped
    assert [e.kind for e in view.timeline][-1] == "published"
    # The citizen's own text is untouched for the staff pages.
    assert "Siti Rahmawati" in db.session.get(Feedback, feedback.id).body


def test_approving_is_audited_from_requested_to_approved_then_edits_are_too(world):
    officer, feedback = world.officer, world.feedback
    feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, "Teks yang diperbaiki.")
    entries = db.session.query(AuditEntry).filter_by(action="feedback.publish").order_by(
        AuditEntry.id).all()
    assert [(e.from_state, e.to_state, e.detail) for e in entries] == [
        ("requested", "approved", ""), ("approved", "approved", "edited")]
    assert all(e.actor_username == officer.username for e in entries)
    # One "published" step on the timeline, not one per edit.
    assert [e.kind for e in feedback.events].count("published") == 1
    assert feedback_public_view(feedback, "id", for_holder=False).body == "Teks yang diperbaiki."


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Keluhan dari siti rahmawati", PUBLIC_BODY),  # the name, another case
        (PUBLIC_SUBJECT, "Hubungi SITI.RAHMA@example.com untuk detail."),  # the e-mail
        (PUBLIC_SUBJECT, "Nomor pelapor 0812-3456-7890."),  # the phone, other separators
        (PUBLIC_SUBJECT, "Nomor pelapor +62 812 3456 7890."),  # the phone, country code
    ],
)
def test_a_public_text_with_the_reporters_identity_is_refused(world, subject, body):
    officer, feedback = world.officer, world.feedback
    with pytest.raises(ValidationError) as error:
        feedback_publish_approve(officer, feedback.id, subject, body)
    assert error.value.errors[0].field == ("subject" if subject != PUBLIC_SUBJECT else "body")
    db.session.expire_all()
    assert publish_state(db.session.get(Feedback, feedback.id)) == "requested"


@dataclass(frozen=True)
class Confidential:
    """What the confidential fixture sets up."""

    officer: Any
    feedback: Any


@pytest.fixture
def confidential(app):
    """A confidential report with an identity, asking to publish, and its department's officer."""
    create_triage_unit()
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(
        valid_data(service=service.code, publish=True, confidential=True, **IDENTITY), "id",
        now=FRIDAY_15_AUG)
    return Confidential(officer=officer, feedback=feedback)


@pytest.mark.parametrize("role", ["officer", "admin"])
@pytest.mark.parametrize("body", ["Siti Rahmawati menulis.", "Budi Santoso menulis.",
                                  PUBLIC_BODY])
def test_only_the_triage_unit_decides_on_a_confidential_report_whatever_the_text(
        confidential, role, body):
    """Refusing the real name but accepting a wrong guess would confirm the identity."""
    officer, feedback = confidential.officer, confidential.feedback
    actor = officer if role == "officer" else create_user("admin")
    with pytest.raises(NotAuthorized):
        feedback_publish_approve(actor, feedback.id, PUBLIC_SUBJECT, body)
    with pytest.raises(NotAuthorized):
        feedback_publish_decline(actor, feedback.id)
    db.session.expire_all()
    assert publish_state(db.session.get(Feedback, feedback.id)) == "requested"


def test_a_confidential_request_waits_in_the_triage_units_list_not_the_departments(
        confidential):
    officer, feedback = confidential.officer, confidential.feedback
    assert feedback_publish_requests(officer) == []
    assert feedback_publish_requests(create_user("admin")) == []
    assert [f.id for f in feedback_publish_requests(create_user("triage"))] == [feedback.id]


def test_the_triage_unit_publishes_a_confidential_report_once_the_identity_is_removed(
        confidential):
    feedback = confidential.feedback
    triage = create_user("triage")
    with pytest.raises(ValidationError) as error:
        feedback_publish_approve(triage, feedback.id, PUBLIC_SUBJECT, "Siti Rahmawati menulis.")
    assert error.value.errors[0].field == "body"
    feedback_publish_approve(triage, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    assert publish_state(feedback) == "approved"


def test_approval_is_refused_while_an_answer_on_the_timeline_names_the_reporter(confidential):
    """The published page shows the staff's answers: a name in one would be published too."""
    officer, feedback = confidential.officer, confidential.feedback
    # The officer may not see a confidential identity, so nothing stops them writing it.
    feedback_answer(officer, feedback.id, "Terima kasih Ibu Siti Rahmawati, kami periksa.")
    with pytest.raises(ValidationError) as error:
        feedback_publish_approve(create_user("triage"), feedback.id, PUBLIC_SUBJECT,
                                 PUBLIC_BODY)
    assert error.value.errors[0].field == "publish"
    assert feedback_published_list("id").total == 0


def test_only_feedback_whose_reporter_asked_can_be_published(app):
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code, publish=False), "id")
    with pytest.raises(ValidationError):
        feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    with pytest.raises(ValidationError):
        feedback_publish_decline(officer, feedback.id)
    assert feedback_publish_requests(officer) == []


def test_rejected_feedback_is_not_published(world):
    officer, feedback = world.officer, world.feedback
    feedback_reject(officer, feedback.id, "Di luar kewenangan.")
    with pytest.raises(ValidationError):
        feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    assert feedback_publish_requests(officer) == []


@pytest.mark.parametrize(("subject", "body"), [("", PUBLIC_BODY), (PUBLIC_SUBJECT, "   "),
                                               ("x" * 201, PUBLIC_BODY)])
def test_the_public_version_needs_a_subject_and_a_text_within_limits(world, subject, body):
    officer, feedback = world.officer, world.feedback
    with pytest.raises(ValidationError):
        feedback_publish_approve(officer, feedback.id, subject, body)


@pytest.mark.parametrize(
    ("who", "error"),
    [("other_officer", NotFound), ("dprd", NotAuthorized), ("anonymous", NotAuthorized)],
)
def test_who_may_not_decide(world, who, error):
    feedback = world.feedback
    actor = None if who == "anonymous" else create_user(
        "officer" if who == "other_officer" else who)
    with pytest.raises(error):
        feedback_publish_approve(actor, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    with pytest.raises(error):
        feedback_publish_decline(actor, feedback.id)


@pytest.mark.parametrize("role", ["triage", "admin"])
def test_the_triage_unit_and_admins_may_decide_for_any_department(world, role):
    feedback = world.feedback
    feedback_publish_approve(create_user(role), feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    assert publish_state(feedback) == "approved"


def test_declining_keeps_the_text_private_and_is_audited(world):
    officer, feedback = world.officer, world.feedback
    feedback_publish_decline(officer, feedback.id)
    assert publish_state(feedback) == "declined"
    assert feedback_publish_requests(officer) == []
    assert feedback_public_view(feedback, "id").published is False
    entry = db.session.query(AuditEntry).filter_by(action="feedback.publish").one()
    assert (entry.from_state, entry.to_state) == ("requested", "declined")
    with pytest.raises(ValidationError):
        feedback_publish_decline(officer, feedback.id)


def test_withdrawing_an_approved_text_removes_it_everywhere(world):
    officer, feedback = world.officer, world.feedback
    feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    feedback_publish_decline(officer, feedback.id)
    view = feedback_public_view(feedback, "id", for_holder=False)
    assert (view.published, view.subject, view.body) == (False, None, None)
    assert "published" not in [e.kind for e in view.timeline]
    assert feedback_published_list("id").total == 0
    assert (feedback.public_subject, feedback.public_body) == ("", "")


def test_the_citizens_replies_stay_private_even_once_published(world):
    from portal.services.feedback.handling import feedback_answer

    officer, feedback = world.officer, world.feedback
    feedback_answer(officer, feedback.id, "Mohon kirim foto loketnya.")
    feedback_reply(feedback.tracking_code, "Balasan pribadi dari pelapor")
    feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    dumped = json.dumps(feedback_public_view(feedback, "id").as_json())
    assert "Balasan pribadi" not in dumped


def test_the_published_view_has_no_tracking_code_nor_regency_and_lists_answers(world):
    from portal.services.feedback.handling import feedback_answer, feedback_note

    officer, feedback = world.officer, world.feedback
    feedback_answer(officer, feedback.id, "Loket tambahan dibuka mulai Senin.")
    feedback_note(officer, feedback.id, "Catatan internal")
    feedback_publish_approve(officer, feedback.id, PUBLIC_SUBJECT, PUBLIC_BODY)
    view = feedback_published_view(feedback, "id")
    for key in ("tracking_code", "regency", "can_reply", "can_reopen"):
        assert key not in view
    assert feedback.tracking_code not in json.dumps(view, default=str)
    assert [a["text"] for a in view["answers"]] == ["Loket tambahan dibuka mulai Senin."]
    assert view["id"] == feedback.id and view["status"] == "in_progress"


def _published(officer, service=None, kind="complaint", at=None):
    feedback = feedback_submit(
        valid_data(service=service.code if service else None, kind=kind, publish=True), "id")
    feedback_publish_approve(officer, feedback.id, f"Publik {feedback.id}", "Teks publik.",
                             now=at)
    return feedback


def test_the_list_filters_by_department_service_and_kind(app):
    create_triage_unit()
    admin = create_user("admin")
    office_a, office_b = create_department(code="dinas-a"), create_department(code="dinas-b")
    service_a1 = create_service(department=office_a, code="a-1")
    service_a2 = create_service(department=office_a, code="a-2")
    service_b = create_service(department=office_b, code="b-1")
    a1 = _published(admin, service_a1)
    a2 = _published(admin, service_a2, kind="suggestion")
    b = _published(admin, service_b)
    feedback_submit(valid_data(service="a-1", publish=True), "id")  # requested, not approved

    def ids(**filters):
        return sorted(item["id"] for item in feedback_published_list("id", **filters).items)

    assert ids() == sorted([a1.id, a2.id, b.id])
    assert ids(department="dinas-a") == sorted([a1.id, a2.id])
    assert ids(service="a-2") == [a2.id]
    assert ids(kind="complaint") == sorted([a1.id, b.id])
    assert ids(department="dinas-a", kind="complaint") == [a1.id]
    assert ids(department="no-such-office") == []
    assert ids(kind="no-such-kind") == []
    filters = feedback_published_filters("id")
    assert sorted(code for code, _name in filters["departments"]) == ["dinas-a", "dinas-b"]
    assert sorted(code for code, _name in filters["services"]) == ["a-1", "a-2", "b-1"]


def test_the_filters_name_only_what_has_published_feedback_in_the_readers_language(app):
    admin = create_user("admin")
    zebra = create_department(code="zebra", name_id="Dinas Zebra", name_en="Zebra Office")
    apple = create_department(code="apple", name_id="Dinas Apel", name_en="")  # no English
    create_department(code="quiet", name_id="Dinas Sepi", name_en="Quiet Office")
    create_service(department=apple, code="sepi", name_id="Layanan Sepi",
                   name_en="Quiet service")  # requested only: not offered
    _published(admin, create_service(department=zebra, code="z", name_id="Izin Zebra",
                                     name_en="B zebra permit"))
    _published(admin, create_service(department=apple, code="a", name_id="Akta Apel",
                                     name_en="C apple deed"))
    _published(admin, create_service(department=apple, code="n", name_id="Nomor apel",
                                     name_en=""))
    feedback_submit(valid_data(service="sepi", publish=True), "id")

    english = feedback_published_filters("en")
    # Sorted by the shown name whatever its case; a missing English name is the Indonesian.
    assert english["departments"] == [("apple", "Dinas Apel"), ("zebra", "Zebra Office")]
    assert english["services"] == [("z", "B zebra permit"), ("a", "C apple deed"),
                                   ("n", "Nomor apel")]
    indonesian = feedback_published_filters("id")
    assert indonesian["departments"] == [("apple", "Dinas Apel"), ("zebra", "Dinas Zebra")]
    assert indonesian["services"] == [("a", "Akta Apel"), ("z", "Izin Zebra"),
                                      ("n", "Nomor apel")]


def test_the_list_is_paginated_newest_first(app):
    service = create_service()
    officer = create_user("officer", department=service.department)
    made = [_published(officer, service, at=FRIDAY_15_AUG + timedelta(hours=n))
            for n in range(5)]
    first = feedback_published_list("id", per_page=2)
    assert (first.total, first.pages, first.page) == (5, 3, 1)
    assert [item["id"] for item in first.items] == [made[4].id, made[3].id]
    assert (first.has_prev, first.has_next) == (False, True)
    last = feedback_published_list("id", per_page=2, page=3)
    assert [item["id"] for item in last.items] == [made[0].id]
    assert (last.has_prev, last.has_next) == (True, False)
    # A page past the end shows the last one rather than nothing.
    assert feedback_published_list("id", per_page=2, page=99).page == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hubungi saya di budi@example.co.id ya", ["budi@example.co.id"]),
        ("HP 0812-3456-7890 atau +62 811 222 333", ["0812-3456-7890", "+62 811 222 333"]),
        ("NIK 6271031234567890", ["6271031234567890"]),
        ("Saya menunggu 3 jam pada 15 Agustus 2025 di loket 12.", []),
    ],
)
def test_personal_data_warnings_point_at_addresses_and_numbers(text, expected):
    assert personal_data_warnings(text) == expected
