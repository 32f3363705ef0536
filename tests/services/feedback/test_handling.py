"""Staff handling: answers, statuses, investigation, transfer, routing, rejection, identities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_babel import force_locale

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models import AuditEntry, Feedback, OutboxMessage
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.services.feedback.citizen import (
    PersonalDataWarning,
    feedback_reopen,
    feedback_submit,
)
from portal.services.feedback.handling import (
    feedback_allowed_actions,
    feedback_answer,
    feedback_attention_list,
    feedback_identity_visible,
    feedback_inbox,
    feedback_investigation_set,
    feedback_note,
    feedback_overdue_count,
    feedback_reject,
    feedback_route,
    feedback_status_set,
    feedback_transfer,
)
from portal.services.feedback.public_view import feedback_public_view
from portal.services.feedback.publishing import feedback_publish_decline
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import FRIDAY_15_AUG, IDENTITY, create_triage_unit, valid_data

# Working days after Fri 15 Aug 2025: 19, 20, 21, 22, 25, 26... (17 Aug holiday, 18 cuti).
TUESDAY_19_AUG = datetime(2025, 8, 19, 9, 0, tzinfo=WIB)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass(frozen=True)
class Routed:
    """What the routed fixture sets up."""

    feedback: Any
    officer: Any


@pytest.fixture
def routed(app):
    """Feedback routed to a service's department on Friday 15 August 2025, and its officer."""
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code, email="w@example.com"), "id",
                               now=FRIDAY_15_AUG)
    return Routed(feedback=feedback, officer=officer)


def test_an_answer_is_the_first_response_and_is_public(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_answer(officer, feedback.id, "Sedang kami periksa", now=TUESDAY_19_AUG)
    assert feedback.first_response_at == TUESDAY_19_AUG
    assert feedback.status == "in_progress"
    timeline = feedback_public_view(feedback, "id").timeline
    assert timeline[-1].kind == "answer"
    assert timeline[-1].text == "Sedang kami periksa"
    assert timeline[-1].by == "staff"
    assert db.session.query(AuditEntry).filter_by(action="feedback.answer").count() == 1
    assert db.session.query(OutboxMessage).filter_by(kind="feedback.reporter.answer").count() == 1


def test_an_internal_note_never_reaches_the_public_view(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_note(officer, feedback.id, "Catatan rahasia")
    assert "Catatan rahasia" not in str(feedback_public_view(feedback, "id"))


def test_resolving_starts_the_ten_working_day_close_clock(routed):
    feedback, officer = routed.feedback, routed.officer
    # Resolved Mon 1 Sep 2025: 2, 3, 4 Sep, (5 Sep Maulid Nabi), 8-12, 15, 16 -> end of 16 Sep.
    feedback_status_set(officer, feedback.id, "resolved",
                        now=datetime(2025, 9, 1, 9, 0, tzinfo=WIB))
    assert feedback.status == "resolved"
    assert feedback.auto_close_due == utc(2025, 9, 16, 17, 0)


def test_impossible_status_moves_are_refused(routed):
    feedback, officer = routed.feedback, routed.officer
    with pytest.raises(ValidationError):
        feedback_status_set(officer, feedback.id, "closed")
    with pytest.raises(ValidationError):
        feedback_status_set(officer, feedback.id, "routed")


def test_investigation_sets_sixty_working_days_from_routing_with_a_public_reason(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_investigation_set(officer, feedback.id, "Perlu cek lapangan", now=TUESDAY_19_AUG)
    # Counted from routing (Fri 15 Aug), not from the investigation step (Tue 19 Aug).
    # Working days: Aug 19-22, 25-29 (9); Sep 1-4, 8-12, 15-19, 22-26, 29-30 (5 Sep Maulid
    # Nabi: 21, total 30); Oct 1-3, 6-10, 13-17, 20-24, 27-31 (23, total 53); Nov 3-7 (58),
    # 10 (59), 11 (60): the end of Tuesday 11 November 2025, 24:00 WIB = 17:00 UTC.
    assert feedback.resolution_due == utc(2025, 11, 11, 17, 0)
    view = feedback_public_view(feedback, "id")
    assert view.needs_investigation is True
    assert view.investigation_reason == "Perlu cek lapangan"


def test_a_transfer_restarts_the_first_response_clock_and_is_counted(routed):
    feedback, officer = routed.feedback, routed.officer
    other = create_department()
    feedback_answer(officer, feedback.id, "Bukan wewenang kami", now=TUESDAY_19_AUG)
    resolution_due = feedback.resolution_due
    feedback_transfer(officer, feedback.id, other.code, "Wewenang dinas lain",
                      now=datetime(2025, 8, 20, 9, 0, tzinfo=WIB))
    assert (feedback.department_id, feedback.transfer_count, feedback.status) == (
        other.id, 1, "routed")
    assert feedback.first_response_at is None
    # 5 working days after Wed 20 Aug: 21, 22, 25, 26, 27 -> end of 27 Aug.
    assert feedback.first_response_due == utc(2025, 8, 27, 17, 0)
    assert feedback.resolution_due == resolution_due
    event = feedback_public_view(feedback, "en").timeline[-1]
    assert (event.kind, event.text) == ("transferred", "Wewenang dinas lain")
    # The first officer no longer sees it.
    with pytest.raises(NotFound):
        feedback_answer(officer, feedback.id, "lagi")


def test_a_transfer_needs_a_reason_and_another_department(routed):
    feedback, officer = routed.feedback, routed.officer
    with pytest.raises(ValidationError):
        feedback_transfer(officer, feedback.id, create_department().code, "")
    with pytest.raises(ValidationError):
        feedback_transfer(officer, feedback.id, feedback.department.code, "alasan")


def test_feedback_moved_more_than_twice_is_on_the_triage_attention_list(app):
    create_triage_unit()
    triage = create_user("triage")
    service = create_service()
    feedback = feedback_submit(valid_data(service=service.code), "id")
    departments = [create_department() for _ in range(3)]
    for index, department in enumerate(departments):
        feedback_transfer(triage, feedback.id, department.code, "alasan")
        expected = [feedback.id] if index == 2 else []
        assert [f.id for f in feedback_attention_list(triage)] == expected


def test_the_triage_unit_routes_by_hand_and_only_it_may(app):
    create_triage_unit()
    triage, admin = create_user("triage"), create_user("admin")
    department = create_department()
    feedback = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    with pytest.raises(NotAuthorized):
        feedback_route(admin, feedback.id, department.code)
    feedback_route(triage, feedback.id, department.code, now=TUESDAY_19_AUG)
    assert (feedback.status, feedback.department_id) == ("routed", department.id)
    # 5 working days after Tue 19 Aug: 20, 21, 22, 25, 26 -> end of 26 Aug.
    assert feedback.first_response_due == utc(2025, 8, 26, 17, 0)
    with force_locale("en"):
        reason = feedback_public_view(feedback, "en").routing_reason
    assert "complaint-management unit sent it" in reason


def test_rejection_needs_a_public_reason(routed):
    feedback, officer = routed.feedback, routed.officer
    with pytest.raises(ValidationError):
        feedback_reject(officer, feedback.id, " ")
    feedback_reject(officer, feedback.id, "Di luar kewenangan pemerintah provinsi")
    view = feedback_public_view(feedback, "id")
    assert (view.status, view.rejection_reason) == (
        "rejected", "Di luar kewenangan pemerintah provinsi")


def test_officers_of_other_departments_and_dprd_cannot_act(routed):
    feedback = routed.feedback
    stranger = create_user("officer")
    dprd = create_user("dprd")
    with pytest.raises(NotFound):
        feedback_answer(stranger, feedback.id, "x")
    with pytest.raises(NotAuthorized):
        feedback_answer(dprd, feedback.id, "x")
    with pytest.raises(NotAuthorized):
        feedback_answer(None, feedback.id, "x")


def test_the_inbox_is_sorted_by_deadline_and_limited_to_the_department(app):
    service = create_service()
    officer = create_user("officer", department=service.department)
    later = feedback_submit(valid_data(service=service.code), "id",
                            now=datetime(2025, 8, 20, 9, 0, tzinfo=WIB))
    sooner = feedback_submit(valid_data(service=service.code), "id", now=FRIDAY_15_AUG)
    feedback_submit(valid_data(service=create_service().code), "id")
    assert [f.id for f in feedback_inbox(officer).items] == [sooner.id, later.id]


@pytest.mark.parametrize(
    ("role", "confidential", "visible"),
    [
        ("officer", False, True),
        ("officer", True, False),
        ("triage", False, True),
        ("triage", True, True),
        ("admin", False, True),
        ("admin", True, False),
        ("dprd", False, False),
        ("dprd", True, False),
    ],
)
def test_who_sees_the_reporter_identity(app, role, confidential, visible):
    service = create_service()
    actor = create_user(role, department=service.department if role == "officer" else None)
    feedback = feedback_submit(
        valid_data(service=service.code, confidential=confidential, **IDENTITY), "id")
    assert feedback_identity_visible(actor, feedback) is visible


def test_nobody_sees_an_anonymous_identity(app):
    create_triage_unit()
    triage = create_user("triage")
    feedback = feedback_submit(valid_data(anonymous=True, **IDENTITY), "id")
    assert feedback_identity_visible(triage, feedback) is False


# -- first responses ---------------------------------------------------------------------------


def test_a_status_change_without_an_answer_is_not_a_first_response(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_status_set(officer, feedback.id, "in_progress", now=TUESDAY_19_AUG)
    assert feedback.first_response_at is None
    feedback_status_set(officer, feedback.id, "resolved", "Sudah selesai.",
                        now=datetime(2025, 8, 20, 9, 0, tzinfo=WIB))
    assert feedback.first_response_at is None


def test_the_investigation_step_with_its_public_reason_is_a_first_response(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_status_set(officer, feedback.id, "in_progress", now=TUESDAY_19_AUG)
    later = datetime(2025, 8, 21, 9, 0, tzinfo=WIB)
    feedback_investigation_set(officer, feedback.id, "Perlu cek lapangan", now=later)
    assert feedback.first_response_at == later


# -- personal data in public texts -------------------------------------------------------------

ACTIONS = {
    "answer": lambda actor, f, text, **kw: feedback_answer(actor, f.id, text, **kw),
    "status note": lambda actor, f, text, **kw: feedback_status_set(
        actor, f.id, "in_progress", text, **kw),
    "investigation": lambda actor, f, text, **kw: feedback_investigation_set(
        actor, f.id, text, **kw),
    "transfer": lambda actor, f, text, **kw: feedback_transfer(
        actor, f.id, create_department().code, text, **kw),
    "rejection": lambda actor, f, text, **kw: feedback_reject(actor, f.id, text, **kw),
}


@dataclass(frozen=True)
class Named:
    """What the named fixture sets up."""

    feedback: Any
    officer: Any


@pytest.fixture
def named(app):
    """Feedback whose reporter gave a name, e-mail and phone, and its department's officer."""
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code, **IDENTITY), "id",
                               now=FRIDAY_15_AUG)
    return Named(feedback=feedback, officer=officer)


def _unchanged(feedback_id: int) -> tuple:
    db.session.expire_all()
    stored = db.session.get(Feedback, feedback_id)
    return stored.status, stored.department_id, [e.kind for e in stored.events]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("text", [
    "Ibu siti rahmawati, loket tambahan dibuka.",      # the name, another case
    "Kami sudah membalas ke SITI.RAHMA@example.com.",  # the e-mail
    "Kami menelepon +62 812-3456-7890 kemarin.",       # the phone, country code
])
def test_a_public_text_naming_the_reporter_is_refused_and_nothing_is_written(
        named, action, text):
    feedback, officer = named.feedback, named.officer
    before = _unchanged(feedback.id)
    with pytest.raises(ValidationError) as error:
        # Not even a confirmation lets the reporter's own identity through.
        ACTIONS[action](officer, feedback, text, confirmed=True)
    assert not isinstance(error.value, PersonalDataWarning)
    assert error.value.errors[0].field in ("text", "reason")
    message = error.value.errors[0].error
    assert "Siti" not in message and "3456" not in message
    assert _unchanged(feedback.id) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_public_text_with_what_looks_like_personal_data_needs_a_confirmation(named, action):
    feedback, officer = named.feedback, named.officer
    text = "Pemohon dengan NIK 6271031234567890 sudah dilayani."
    with pytest.raises(PersonalDataWarning) as warning:
        ACTIONS[action](officer, feedback, text)
    assert "6271031234567890" in warning.value.errors[0].error
    ACTIONS[action](officer, feedback, text, confirmed=True)
    assert feedback.events[-1].body == text


def test_an_internal_note_is_not_checked(named):
    feedback, officer = named.feedback, named.officer
    feedback_note(officer, feedback.id, "Pelapor Siti Rahmawati, 0812 3456 7890.")
    assert feedback.events[-1].kind == "note"


@dataclass(frozen=True)
class Confidential:
    """What the confidential fixture sets up."""

    feedback: Any
    officer: Any
    triage: Any


@pytest.fixture
def confidential(app):
    """A confidential report with an identity, its officer and the triage unit's staff."""
    create_triage_unit()
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(
        valid_data(service=service.code, confidential=True, **IDENTITY), "id",
        now=FRIDAY_15_AUG)
    triage = create_user("triage")
    return Confidential(feedback=feedback, officer=officer, triage=triage)


@pytest.mark.parametrize("mail", ["siti.rahma@example.com", "budi.santoso@example.com"])
def test_on_a_confidential_report_an_officer_gets_the_same_refusal_for_any_address(
        confidential, mail):
    """The officer may not see the identity: the answer must not tell a real address."""
    feedback, officer = confidential.feedback, confidential.officer
    with force_locale("en"), pytest.raises(ValidationError) as error:
        feedback_answer(officer, feedback.id, f"Balasan dikirim ke {mail}.", confirmed=True)
    assert not isinstance(error.value, PersonalDataWarning)
    assert error.value.errors[0].error == (
        "This text is public and contains what looks like an e-mail address, a phone number "
        f"or an ID number (NIK): {mail}. The reporter asked for confidentiality: remove it.")


@pytest.mark.parametrize("name", ["Siti Rahmawati", "Budi Santoso"])
def test_on_a_confidential_report_an_officer_cannot_test_a_guessed_name(confidential, name):
    feedback, officer = confidential.feedback, confidential.officer
    feedback_answer(officer, feedback.id, f"Terima kasih, Ibu {name}.")
    assert feedback.events[-1].kind == "answer"


def test_on_a_confidential_report_the_triage_unit_cannot_publish_the_name(confidential):
    feedback, triage = confidential.feedback, confidential.triage
    with pytest.raises(ValidationError):
        feedback_answer(triage, feedback.id, "Terima kasih, Ibu Siti Rahmawati.")


# -- transfers and reopening -------------------------------------------------------------------


def test_a_reopen_keeps_the_resolution_on_the_timeline(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_answer(officer, feedback.id, "Kami periksa.", now=TUESDAY_19_AUG)
    resolved = datetime(2025, 8, 20, 9, 0, tzinfo=WIB)
    feedback_status_set(officer, feedback.id, "resolved", now=resolved)
    feedback_reopen(feedback.tracking_code, "Belum beres",
                    now=datetime(2025, 8, 21, 9, 0, tzinfo=WIB))
    assert (feedback.status, feedback.reopen_count) == ("in_progress", 1)
    kinds = [(e.kind, e.status_to, e.at) for e in feedback.events if e.kind in (
        "status", "reopened")]
    assert kinds == [("status", "resolved", resolved),
                     ("reopened", "in_progress", datetime(2025, 8, 21, 2, 0, tzinfo=UTC))]
    timeline = feedback_public_view(feedback, "id").timeline
    assert timeline[-1].kind == "reopened" and timeline[-1].text == ""


def test_after_a_transfer_the_routing_reason_still_names_where_it_first_went(app):
    first = create_department(code="dinas-a", name_en="Office A")
    service = create_service(department=first, name_en="Vehicle tax")
    officer = create_user("officer", department=first)
    second = create_department(code="dinas-b", name_en="Office B")
    feedback = feedback_submit(valid_data(service=service.code), "en", now=FRIDAY_15_AUG)
    feedback_transfer(officer, feedback.id, second.code, "Urusan Office B.",
                      now=TUESDAY_19_AUG)
    with force_locale("en"):
        view = feedback_public_view(feedback, "en")
    assert view.routing_reason == (
        "It went to Office A because you chose one of its services: Vehicle tax.")
    assert (view.routed_department.code, view.department.code) == (
        "dinas-a", "dinas-b")
    step = view.timeline[-1]
    assert (step.kind, step.from_department.code, step.to_department.code,
            step.text) == ("transferred", "dinas-a", "dinas-b", "Urusan Office B.")


def test_the_inbox_pages_by_the_nearest_pending_deadline_in_sql(app):
    from datetime import timedelta

    from portal.models import Feedback as Model
    from portal.services.feedback.citizen import tracking_code_new

    admin = create_user("admin")
    day = utc(2025, 9, 1, 5, 0)
    d = lambda n: day + timedelta(days=n)  # noqa: E731

    def stored(status: str, **values) -> int:
        feedback = Model(tracking_code=tracking_code_new(), kind="question", subject="s",
                         body="b", status=status, routing_rule="triage", **values)
        db.session.add(feedback)
        db.session.commit()
        return feedback.id

    a = stored("submitted", route_due=d(3))
    b = stored("routed", first_response_due=d(1), resolution_due=d(10))
    # Answered: its first-response deadline no longer counts, the resolution one does.
    c = stored("in_progress", first_response_at=d(-6), first_response_due=d(-5),
               resolution_due=d(2))
    d_ = stored("resolved", auto_close_due=day + timedelta(hours=12))
    e = stored("routed", first_response_due=d(-1), resolution_due=d(12))
    f = stored("routed", first_response_due=d(20), resolution_due=d(4))
    g = stored("submitted")
    stored("closed", closed_at=d(-2))
    stored("rejected")

    ids = []
    for page in (1, 2, 3):
        result = feedback_inbox(admin, page=page, per_page=3)
        assert (result.total, result.pages, feedback_overdue_count(admin, now=day)) == (7, 3, 1)
        ids += [item.id for item in result.items]
    # Overdue first (e), then by the nearest pending deadline, no deadline last.
    assert ids == [e, d_, b, c, a, f, g]
    assert feedback_inbox(admin, page=99, per_page=3).page == 3
    assert len(feedback_inbox(admin).items) == 7


def test_staff_and_citizen_texts_are_read_by_one_function_with_one_message(routed):
    import portal.services.feedback.handling as staff

    feedback, officer = routed.feedback, routed.officer
    too_long = "x" * 2001
    with force_locale("en"), pytest.raises(ValidationError) as staff_error:
        feedback_answer(officer, feedback.id, too_long)
    feedback_status_set(officer, feedback.id, "resolved")
    with force_locale("en"), pytest.raises(ValidationError) as citizen_error:
        feedback_reopen(feedback.tracking_code, too_long)
    assert staff_error.value.errors[0].error == "Use at most 2000 characters."
    assert citizen_error.value.errors[0].error == "Use at most 2000 characters."
    assert not hasattr(staff, "_text") and not hasattr(staff, "_for_action")


def test_marking_twice_as_needing_investigation_says_what_it_is_marked_as(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_investigation_set(officer, feedback.id, "Perlu pemeriksaan lapangan")
    with force_locale("en"), pytest.raises(ValidationError) as caught:
        feedback_investigation_set(officer, feedback.id, "Sekali lagi")
    assert caught.value.errors[0].error == "It is already marked as needing investigation."


# What the staff page offers: the service's allowed actions ------------------------------------

HANDLING = {"attachments", "answer", "note", "status", "investigation", "transfer", "reject"}


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        ("officer", "routed", HANDLING),
        ("triage", "routed", HANDLING),
        ("admin", "routed", HANDLING),
        ("officer", "in_progress", HANDLING),
        # Nothing left to handle: the attachments can still be read.
        ("officer", "resolved", {"attachments"}),
        ("officer", "closed", {"attachments"}),
        ("officer", "rejected", {"attachments"}),
        # Who may not read it may do nothing with it.
        ("stranger", "routed", set()),
        ("dprd", "routed", set()),
        ("anonymous", "routed", set()),
    ],
)
def test_allowed_actions_follow_the_role_and_the_status(routed, who, status, expected):
    feedback, officer = routed.feedback, routed.officer
    actors = {"officer": officer, "stranger": create_user("officer"),
              "triage": create_user("triage"), "admin": create_user("admin"),
              "dprd": create_user("dprd"), "anonymous": None}
    feedback.status = status
    assert feedback_allowed_actions(actors[who], feedback) == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("triage", {"attachments", "route", "reject"}), ("admin", {"attachments", "reject"})],
)
def test_only_the_triage_unit_is_offered_to_route_unrouted_feedback(app, who, expected):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    assert feedback.status == "submitted"
    assert feedback_allowed_actions(create_user(who), feedback) == expected
    # An officer reads no unrouted feedback, so is offered nothing.
    assert feedback_allowed_actions(create_user("officer"), feedback) == frozenset()


def test_investigation_is_no_longer_offered_once_marked(routed):
    feedback, officer = routed.feedback, routed.officer
    feedback_investigation_set(officer, feedback.id, "Perlu pemeriksaan lapangan")
    assert "investigation" not in feedback_allowed_actions(officer, feedback)
    assert {"answer", "note", "status", "transfer"} <= feedback_allowed_actions(officer, feedback)


@pytest.mark.parametrize(
    ("confidential", "who", "expected"),
    [
        (False, "officer", {"publish", "publish_decline"}),
        (False, "triage", {"publish", "publish_decline"}),
        # Only the triage unit decides on a confidential report (it alone sees the identity).
        (True, "officer", set()),
        (True, "admin", set()),
        (True, "triage", {"publish", "publish_decline"}),
    ],
)
def test_publishing_is_offered_to_who_decides_on_it(app, confidential, who, expected):
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(
        valid_data(service=service.code, publish=True, confidential=confidential, **IDENTITY),
        "id", now=FRIDAY_15_AUG)
    actor = officer if who == "officer" else create_user(who)
    offered = feedback_allowed_actions(actor, feedback) & {"publish", "publish_decline"}
    assert offered == expected


def test_a_declined_request_can_be_approved_later_and_a_rejected_one_only_declined(app):
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = feedback_submit(valid_data(service=service.code, publish=True), "id",
                               now=FRIDAY_15_AUG)
    feedback_publish_decline(officer, feedback.id)
    assert feedback_allowed_actions(officer, feedback) & {"publish", "publish_decline"} == {
        "publish"}
    other = feedback_submit(valid_data(service=service.code, publish=True), "id",
                            now=FRIDAY_15_AUG)
    feedback_reject(officer, other.id, "Di luar kewenangan pemerintah provinsi")
    assert feedback_allowed_actions(officer, other) & {"publish", "publish_decline"} == {
        "publish_decline"}
