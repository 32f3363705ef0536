"""Feedback service: tracking codes, filing, deadlines, privacy, reopen, the tick."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from PIL import Image

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models import Attachment, Feedback, FeedbackEvent, OutboxMessage
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import IdempotencyConflict, NotFound, ValidationError
from portal.services.feedback.citizen import (
    feedback_get,
    feedback_reopen,
    feedback_reply,
    feedback_submit,
    feedback_tick,
)
from portal.services.feedback.deadlines import deadline_after
from portal.services.feedback.handling import feedback_answer
from portal.services.feedback.public_view import feedback_public_view
from portal.services.feedback.routing import routing_rule_add
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import (
    FRIDAY_15_AUG,
    IDENTITY,
    PDF_BYTES,
    create_triage_unit,
    jpeg_with_exif,
    png_bytes,
    valid_data,
)


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """Attachments of these tests go to a temporary directory."""
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "PORTAL_UPLOAD_DIR", str(path))
    return path


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- tracking codes ----------------------------------------------------------------------------


# The alphabet, the key and the spellings are tested in tests/domain/test_tracking_codes.py;
# here, that lookups use them.


# -- filing and routing ------------------------------------------------------------------------


def test_feedback_about_a_service_is_routed_to_its_department_at_once(app):
    service = create_service()
    feedback = feedback_submit(valid_data(service=service.code), "id", now=FRIDAY_15_AUG)
    assert feedback.status == "routed"
    assert feedback.department_id == service.department_id
    assert (feedback.routing_rule, feedback.routing_detail) == ("service", service.code)
    assert feedback.routed_at == FRIDAY_15_AUG
    assert feedback.route_due is None
    assert [e.kind for e in feedback.events] == ["submitted", "routed"]


def test_feedback_matching_a_rule_goes_to_the_rule_department(app):
    department = create_department()
    routing_rule_add(department.code, "jalan rusak", priority=1, actor=CLI_OPERATOR)
    feedback = feedback_submit(
        valid_data(subject="Lapor", body="Ada jalan rusak di Jl. Tjilik Riwut"), "id"
    )
    assert feedback.department_id == department.id
    assert (feedback.routing_rule, feedback.routing_detail) == ("rule", "jalan rusak")


def test_unroutable_feedback_waits_for_the_triage_unit(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    assert (feedback.status, feedback.department_id, feedback.routing_rule) == (
        "submitted", None, "triage")
    # Texts come in the current locale, as in a request to /en/ or the API with ?lang=en.
    with force_locale("en"):
        view = feedback_public_view(feedback, "en")
    assert view.handled_by.code == "ulp"
    assert "complaint-management unit" in view.routing_reason


# -- deadlines (hand-worked: 17 Aug 2025 is a Sunday holiday, 18 Aug cuti bersama,
#    5 Sep 2025 Maulid Nabi) -------------------------------------------------------------------


def test_triage_route_due_is_three_working_days_after_submission(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    # Working days after Fri 15 Aug: Tue 19, Wed 20, Thu 21 -> end of Thu 21 Aug (24:00 WIB).
    assert feedback.route_due == datetime(2025, 8, 22, 0, 0, tzinfo=WIB)
    assert feedback.route_due == utc(2025, 8, 21, 17, 0)
    assert feedback.first_response_due is None


def test_first_response_and_resolution_deadlines_count_from_routing(app):
    service = create_service()
    feedback = feedback_submit(valid_data(service=service.code), "id", now=FRIDAY_15_AUG)
    # 5 working days: 19, 20, 21, 22, 25 Aug -> end of Mon 25 Aug.
    assert feedback.first_response_due == utc(2025, 8, 25, 17, 0)
    # 14 working days: 19-22 Aug (4), 25-29 Aug (9), 1-4 Sep (13), 5 Sep is Maulid Nabi,
    # so the 14th is Mon 8 Sep -> end of 8 Sep.
    assert feedback.resolution_due == utc(2025, 9, 8, 17, 0)


def test_auto_close_is_ten_working_days_after_resolution(app):
    resolved = datetime(2025, 9, 1, 9, 0, tzinfo=WIB)  # Monday
    # 2, 3, 4 Sep (3), 5 Sep holiday, 8-12 Sep (8), 15, 16 Sep (10) -> end of Tue 16 Sep.
    assert deadline_after(resolved, 10) == utc(2025, 9, 16, 17, 0)


def test_an_extra_non_working_day_moves_deadlines(app):
    from portal.services.metrics.calendar_changes import calendar_day_set

    create_triage_unit()
    calendar_day_set(datetime(2025, 8, 20).date(), False, "banjir")
    feedback = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    # 19, (20 off), 21, 22 -> end of Fri 22 Aug.
    assert feedback.route_due == utc(2025, 8, 22, 17, 0)


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "rant"}, "kind"),
        ({"kind": None}, "kind"),
        ({"subject": "  "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"service": "tidak-ada"}, "service"),
        ({"regency": "Jakarta"}, "regency"),
        ({"email": "bukan-email"}, "email"),
        ({"email": "a@b.co" + "m" * 250}, "email"),
        ({"phone": "telepon saya"}, "phone"),
        ({"name": "n" * 121}, "name"),
        ({"subject": 42}, "subject"),
        ({"anonymous": "yes"}, "anonymous"),
    ],
)
def test_invalid_input_is_refused_with_the_field_named(app, overrides, field):
    with pytest.raises(ValidationError) as raised:
        feedback_submit(valid_data(**overrides), "id")
    assert field in [e.field for e in raised.value.errors]
    assert db.session.query(Feedback).count() == 0


@pytest.mark.parametrize(
    ("given", "code"),
    [("kapuas", "kapuas"), ("Kota Palangka Raya", "palangka-raya"),
     ("palangka raya", "palangka-raya"), ("KABUPATEN GUNUNG MAS", "gunung-mas")],
)
def test_regency_accepts_code_or_name(app, given, code):
    create_triage_unit()
    assert feedback_submit(valid_data(regency=given), "id").regency == code


def test_nul_characters_are_removed_for_every_database(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(body="a\x00b"), "id")
    assert feedback.body == "ab"


# -- privacy -----------------------------------------------------------------------------------


def test_anonymous_feedback_stores_no_identity_even_when_given(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(anonymous=True, confidential=True, **IDENTITY), "id")
    db.session.expire_all()
    stored = db.session.get(Feedback, feedback.id)
    assert (stored.reporter_name, stored.reporter_email, stored.reporter_phone) == (
        None, None, None)
    assert stored.anonymous is True
    assert db.session.query(OutboxMessage).count() == 0


def test_confidential_feedback_keeps_identity_for_the_triage_unit(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(confidential=True, **IDENTITY), "id")
    assert (feedback.reporter_name, feedback.reporter_email) == (
        IDENTITY["name"], IDENTITY["email"])
    assert feedback.confidential is True


def test_public_view_never_holds_an_identity(app):
    service = create_service()
    feedback = feedback_submit(valid_data(service=service.code, **IDENTITY), "en")
    officer = create_user("officer", department=service.department)
    feedback_answer(officer, feedback.id, "Siapa yang melayani Anda?")
    feedback_reply(feedback.tracking_code, "Nama saya Siti Rahmawati, hubungi 0812 3456 7890")
    dumped = json.dumps(feedback_public_view(feedback, "en").as_json())
    for value in (*IDENTITY.values(), "Siti", "0812"):
        assert value not in dumped
    # The holder of the code sees their own subject and text again (issue 13)...
    view = feedback_public_view(feedback, "en")
    assert (view.subject, view.body) == (feedback.subject, feedback.body)
    assert (view.published_subject, view.published_body) == (None, None)
    # ...but nobody else: the view of published feedback has only the approved version.
    public = json.dumps(feedback_public_view(feedback, "en", for_holder=False).as_json())
    assert "Antrean terlalu panjang" not in public


def test_mail_to_the_department_never_carries_a_confidential_identity(app):
    service = create_service()
    create_user("officer", department=service.department)
    feedback_submit(valid_data(service=service.code, confidential=True, **IDENTITY), "id")
    staff_mail = db.session.query(OutboxMessage).filter(
        OutboxMessage.kind == "feedback.staff.new").one()
    for value in (*IDENTITY.values(), "Siti"):
        assert value not in staff_mail.body
        assert value not in staff_mail.subject
    reporter_mail = db.session.query(OutboxMessage).filter(
        OutboxMessage.kind == "feedback.reporter.submitted").one()
    assert reporter_mail.to_address == IDENTITY["email"]


def test_reporter_mail_is_written_in_the_reporter_language(app):
    create_triage_unit()
    feedback_submit(valid_data(email="a@example.com"), "id", now=FRIDAY_15_AUG)
    feedback_submit(valid_data(email="b@example.com"), "en", now=FRIDAY_15_AUG)
    mails = {m.to_address: m for m in db.session.query(OutboxMessage)}
    assert mails["a@example.com"].lang == "id"
    assert "Agustus 2025" in mails["a@example.com"].body
    assert mails["b@example.com"].lang == "en"
    assert "August 2025" in mails["b@example.com"].body


# -- double submit -----------------------------------------------------------------------------


def test_the_same_client_token_creates_one_feedback(app):
    create_triage_unit()
    first = feedback_submit(valid_data(), "id", client_token="tok-1234567890")
    # The same text, trimmed differently, is the same request.
    again = feedback_submit(valid_data(subject="  Antrean terlalu panjang "), "id",
                            client_token="tok-1234567890")
    assert again.id == first.id
    assert db.session.query(Feedback).count() == 1


@pytest.mark.parametrize("change", [
    {"subject": "Another complaint"},
    {"kind": "question"},
    {"name": "Budi", "email": "budi@example.com"},
    {"publish": True},
])
def test_the_same_client_token_with_another_payload_is_a_conflict(app, change):
    create_triage_unit()
    feedback_submit(valid_data(), "id", client_token="tok-1234567890")
    with pytest.raises(IdempotencyConflict):
        feedback_submit(valid_data(**change), "id", client_token="tok-1234567890")
    assert db.session.query(Feedback).count() == 1


def test_the_same_client_token_with_other_attachments_is_a_conflict(app, uploads):
    create_triage_unit()
    feedback_submit(valid_data(), "id", client_token="tok-1234567890",
                    attachments=[("a.pdf", PDF_BYTES)])
    assert feedback_submit(valid_data(), "id", client_token="tok-1234567890",
                           attachments=[("a.pdf", PDF_BYTES)]).attachments
    with pytest.raises(IdempotencyConflict):
        feedback_submit(valid_data(), "id", client_token="tok-1234567890")
    assert db.session.query(Feedback).count() == 1


def test_the_stored_request_fingerprint_is_keyed_and_holds_no_text(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(**IDENTITY), "id", client_token="tok-1234567890")
    assert re.fullmatch(r"[0-9a-f]{64}", feedback.client_fingerprint)
    assert feedback_submit(valid_data(), "id").client_fingerprint is None


def test_different_client_tokens_create_two(app):
    create_triage_unit()
    feedback_submit(valid_data(), "id", client_token="tok-aaaaaaaaaa")
    feedback_submit(valid_data(), "id", client_token="tok-bbbbbbbbbb")
    assert db.session.query(Feedback).count() == 2


def test_a_malformed_client_token_is_refused(app):
    with pytest.raises(ValidationError):
        feedback_submit(valid_data(), "id", client_token="<script>")


# -- attachments -------------------------------------------------------------------------------


def test_a_jpeg_that_is_really_text_is_refused(app, uploads):
    create_triage_unit()
    with pytest.raises(ValidationError) as raised:
        feedback_submit(valid_data(), "id", attachments=[("foto.jpg", b"hello, I am text")])
    assert [e.field for e in raised.value.errors] == ["attachments"]
    assert db.session.query(Feedback).count() == 0
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_exif_and_gps_are_stripped_from_uploaded_photos(app, uploads):
    create_triage_unit()
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()  # the test image really carries EXIF
    feedback = feedback_submit(valid_data(), "id", attachments=[("IMG_0001.jpg", original)])
    attachment = feedback.attachments[0]
    stored = Path(uploads) / attachment.stored_name
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
    assert b"KameraMerek" not in stored.read_bytes()
    assert attachment.content_type == "image/jpeg"
    assert attachment.original_name == "IMG_0001.jpg"
    assert "IMG_0001" not in attachment.stored_name


def test_png_and_pdf_are_accepted_by_content_whatever_their_name(app, uploads):
    create_triage_unit()
    feedback = feedback_submit(
        valid_data(), "id", attachments=[("a.pdf", png_bytes()), ("b.jpg", PDF_BYTES)]
    )
    assert [a.content_type for a in feedback.attachments] == ["image/png", "application/pdf"]
    assert all((Path(uploads) / a.stored_name).exists() for a in feedback.attachments)


def test_at_most_three_attachments_of_five_megabytes(app, uploads):
    create_triage_unit()
    with pytest.raises(ValidationError):
        feedback_submit(valid_data(), "id", attachments=[("a.pdf", PDF_BYTES)] * 4)
    with pytest.raises(ValidationError):
        big = PDF_BYTES + b"0" * (5 * 1024 * 1024)
        feedback_submit(valid_data(), "id", attachments=[("big.pdf", big)])
    assert db.session.query(Attachment).count() == 0


def test_attachments_are_stored_outside_static(app, uploads):
    create_triage_unit()
    feedback_submit(valid_data(), "id", attachments=[("a.pdf", PDF_BYTES)])
    static = Path(app.root_path).parent / "static"
    assert static not in Path(app.config["PORTAL_UPLOAD_DIR"]).parents


# -- the citizen's follow-up -------------------------------------------------------------------


def _resolved(feedback: Feedback, at: datetime) -> Feedback:
    """Put feedback in the state the department's 'resolve' leaves it in."""
    feedback.status = "resolved"
    feedback.resolved_at = at
    feedback.auto_close_due = deadline_after(at, 10)
    db.session.commit()
    return feedback


def test_the_citizen_can_reopen_before_the_automatic_close(app):
    service = create_service()
    feedback = _resolved(feedback_submit(valid_data(service=service.code), "id",
                                         now=FRIDAY_15_AUG),
                         datetime(2025, 9, 1, 9, 0, tzinfo=WIB))
    feedback_reopen(feedback.tracking_code_display, "Masih rusak", now=utc(2025, 9, 16, 16, 59))
    assert (feedback.status, feedback.reopen_count) == ("in_progress", 1)
    assert feedback.auto_close_due is None and feedback.resolved_at is None
    event = feedback.events[-1]
    assert (event.kind, event.actor, event.body) == ("reopened", "citizen", "Masih rusak")


def test_the_citizen_cannot_reopen_after_the_automatic_close_deadline(app):
    service = create_service()
    feedback = _resolved(feedback_submit(valid_data(service=service.code), "id",
                                         now=FRIDAY_15_AUG),
                         datetime(2025, 9, 1, 9, 0, tzinfo=WIB))
    with pytest.raises(ValidationError):
        feedback_reopen(feedback.tracking_code, "Masih rusak", now=utc(2025, 9, 16, 17, 1))
    assert feedback.status == "resolved"


def test_reopen_needs_a_reason(app):
    service = create_service()
    feedback = _resolved(feedback_submit(valid_data(service=service.code), "id",
                                         now=FRIDAY_15_AUG),
                         datetime(2025, 9, 1, 9, 0, tzinfo=WIB))
    with pytest.raises(ValidationError):
        feedback_reopen(feedback.tracking_code, "   ", now=utc(2025, 9, 2, 0, 0))


def test_no_reply_once_closed(app):
    service = create_service()
    feedback = feedback_submit(valid_data(service=service.code), "id")
    feedback.status = "closed"
    db.session.commit()
    with pytest.raises(ValidationError):
        feedback_reply(feedback.tracking_code, "halo")


def test_feedback_get_accepts_sloppy_codes_and_refuses_unknown_ones(app):
    create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    sloppy = " " + feedback.tracking_code_display.lower().replace("-", " ") + " "
    assert feedback_get(sloppy).id == feedback.id
    with pytest.raises(NotFound):
        feedback_get("2222-2222-2222")


# -- the tick ----------------------------------------------------------------------------------


def test_tick_closes_what_is_due_once(app):
    service = create_service()
    due = _resolved(feedback_submit(valid_data(service=service.code, email="a@example.com"), "id"),
                    datetime(2025, 9, 1, 9, 0, tzinfo=WIB))
    not_due = _resolved(feedback_submit(valid_data(service=service.code), "id"),
                        datetime(2025, 9, 10, 9, 0, tzinfo=WIB))
    now = utc(2025, 9, 16, 17, 1)
    assert feedback_tick(now).closed == 1
    assert feedback_tick(now).closed == 0
    assert feedback_tick(now + timedelta(hours=1)).closed == 0
    db.session.expire_all()
    assert db.session.get(Feedback, due.id).status == "closed"
    assert db.session.get(Feedback, due.id).closed_at == now
    assert db.session.get(Feedback, not_due.id).status == "resolved"
    closed_events = db.session.query(FeedbackEvent).filter_by(kind="closed").count()
    assert closed_events == 1
    assert db.session.query(OutboxMessage).filter_by(kind="feedback.reporter.closed").count() == 1


def test_tick_queues_each_overdue_reminder_once(app):
    create_triage_unit()
    create_user("triage")
    service = create_service()
    create_user("officer", department=service.department)
    feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    feedback_submit(valid_data(service=service.code), "id", now=FRIDAY_15_AUG)
    # Before the deadlines: nothing.
    assert feedback_tick(utc(2025, 8, 21, 16, 0)).reminders == 0
    # After the route deadline (end of 21 Aug) and the first-response one (end of 25 Aug).
    summary = feedback_tick(utc(2025, 8, 26, 1, 0))
    assert summary.reminders == 2
    assert feedback_tick(utc(2025, 8, 26, 2, 0)).reminders == 0
    kinds = sorted(k for (k,) in db.session.query(OutboxMessage.kind).filter(
        OutboxMessage.kind.like("feedback.staff.reminder%")))
    assert kinds == ["feedback.staff.reminder_first_response", "feedback.staff.reminder_route"]


def test_two_ticks_at_once_close_each_item_once(app):
    service = create_service()
    ids = [
        _resolved(feedback_submit(valid_data(service=service.code), "id"),
                  datetime(2025, 9, 1, 9, 0, tzinfo=WIB)).id
        for _ in range(5)
    ]
    now = utc(2025, 9, 20, 0, 0)
    results: list[int] = []
    flask_app = app

    def run() -> None:
        with flask_app.app_context():
            try:
                results.append(feedback_tick(now).closed)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 5
    events = db.session.query(FeedbackEvent).filter(
        FeedbackEvent.kind == "closed", FeedbackEvent.feedback_id.in_(ids)).count()
    assert events == 5


def test_feedback_tick_command_reports_what_it_did(app, runner):
    service = create_service()
    _resolved(feedback_submit(valid_data(service=service.code), "id", now=FRIDAY_15_AUG),
              datetime(2025, 9, 1, 9, 0, tzinfo=WIB))
    result = runner.invoke(args=["feedback", "tick"])
    assert result.exit_code == 0, result.output
    assert "closed: 1" in result.output
    assert runner.invoke(args=["feedback", "tick"]).output.startswith("closed: 0")


# -- the public view's queries -----------------------------------------------------------------


class _Queries:
    """Count the SQL statements run inside the block."""

    def __enter__(self):
        from sqlalchemy import event

        self.count = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *args) -> None:
        self.count += 1

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(db.engine, "before_cursor_execute", self._seen)


def _view_queries(code: str) -> int:
    db.session.commit()
    db.session.expunge_all()
    with _Queries() as queries:
        feedback_public_view(feedback_get(code), "en")
    return queries.count


def test_the_public_view_needs_as_many_queries_for_many_transfers_as_for_one(app):
    from portal.services.feedback.handling import feedback_transfer

    triage = create_user("triage")
    one = feedback_submit(valid_data(service=create_service().code), "id")
    many = feedback_submit(valid_data(service=create_service().code), "id")
    feedback_transfer(triage, one.id, create_department().code, "alasan")
    for _ in range(6):
        feedback_transfer(triage, many.id, create_department().code, "alasan")
    codes = (one.tracking_code, many.tracking_code)
    assert _view_queries(codes[0]) == _view_queries(codes[1])


def test_the_public_view_looks_the_triage_unit_up_once_per_transaction(app):
    unit = create_triage_unit()
    feedback = feedback_submit(valid_data(), "id")
    feedback_public_view(feedback, "en")
    with _Queries() as queries:
        views = [feedback_public_view(feedback, lang) for lang in ("en", "id")]
    assert queries.count == 0
    assert [view.handled_by.code for view in views] == [unit.code, unit.code]
    # Another triage unit, committed: the next view names it.
    from portal.services.feedback.routing import routing_triage_unit_set

    other = create_department(code="ulp-baru")
    routing_triage_unit_set(other.code, actor=CLI_OPERATOR)
    assert feedback_public_view(feedback, "en").handled_by.code == "ulp-baru"
