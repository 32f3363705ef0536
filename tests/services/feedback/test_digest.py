"""The daily digest of overdue feedback: one per department and WIB day, through the outbox."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models import FeedbackDigest, OutboxMessage
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.digest import feedback_digest
from tests.factories import create_service, create_user
from tests.feedback_support import FRIDAY_15_AUG, IDENTITY, create_triage_unit, valid_data

# Filed Friday 15 August 2025 10:00 WIB. Working days after it: 19, 20, 21, 22, 25 August...
# routed at once: first response due at the end of Monday 25 August (5 working days);
# unrouted: to be routed by the end of Thursday 21 August (3 working days).
TUESDAY_26_AUG_9H = datetime(2025, 8, 26, 9, 0, tzinfo=WIB)
TUESDAY_26_AUG_LAST_MINUTE = datetime(2025, 8, 26, 23, 59, tzinfo=WIB)
WEDNESDAY_27_AUG_MIDNIGHT = datetime(2025, 8, 27, 0, 0, tzinfo=WIB)


@pytest.fixture
def world(app):
    """One overdue routed feedback (with identity), one overdue unrouted, one on time."""
    create_triage_unit()
    late = create_service(code="samsat-pkb")
    on_time = create_service(code="ktp-el")
    officers = {
        "late": create_user("officer", department=late.department, email="late@example.go.id"),
        "on_time": create_user("officer", department=on_time.department,
                               email="ontime@example.go.id"),
        "triage": create_user("triage", email="ulp@example.go.id"),
    }
    routed = feedback_submit(
        valid_data(service=late.code, subject="Rahasia subjek", body="Rahasia isi",
                   confidential=True, **IDENTITY), "en", now=FRIDAY_15_AUG)
    unrouted = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
    feedback_submit(valid_data(service=on_time.code), "id", now=TUESDAY_26_AUG_9H)
    # Only digests count below: forget the mail the filing itself queued.
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    return officers, routed, unrouted


def _digests() -> list[OutboxMessage]:
    return db.session.query(OutboxMessage).filter_by(kind="feedback.staff.digest").order_by(
        OutboxMessage.to_address).all()


def test_each_department_with_overdue_feedback_gets_one_digest(world):
    _officers, routed, unrouted = world
    summary = feedback_digest(now=TUESDAY_26_AUG_9H)
    assert (summary.departments, summary.mails, summary.already_sent) == (2, 2, 0)
    mails = {m.to_address: m for m in _digests()}
    assert sorted(mails) == ["late@example.go.id", "ulp@example.go.id"]
    # Each item by its public reference: staff mail never carries a tracking code.
    assert f" {routed.public_reference} · " in mails["late@example.go.id"].body
    assert f" {unrouted.public_reference} · " not in mails["late@example.go.id"].body
    assert f" {unrouted.public_reference} · " in mails["ulp@example.go.id"].body
    for mail in mails.values():
        for feedback in (routed, unrouted):
            assert feedback.tracking_code_display not in mail.body
            assert feedback.tracking_code not in mail.body


def test_a_second_run_the_same_wib_day_sends_nothing_the_next_day_sends_again(world):
    feedback_digest(now=TUESDAY_26_AUG_9H)
    again = feedback_digest(now=TUESDAY_26_AUG_LAST_MINUTE)
    assert (again.departments, again.mails, again.already_sent) == (0, 0, 2)
    assert len(_digests()) == 2
    # 00:00 WIB on the 27th is still 17:00 UTC on the 26th: a new WIB day all the same.
    next_day = feedback_digest(now=WEDNESDAY_27_AUG_MIDNIGHT)
    assert (next_day.departments, next_day.mails) == (2, 2)
    assert sorted(d.day.isoformat() for d in db.session.query(FeedbackDigest)) == [
        "2025-08-26", "2025-08-26", "2025-08-27", "2025-08-27"]


def test_the_digest_names_the_missed_deadline_in_indonesian_without_identity_or_text(world):
    feedback_digest(now=TUESDAY_26_AUG_9H)
    mail = next(m for m in _digests() if m.to_address == "late@example.go.id")
    assert mail.lang == "id"
    # The first response was due at the end of Monday 25 August 2025.
    assert "25 Agustus 2025" in mail.body
    assert "/id/staff/feedback/" in mail.body
    for private in (*IDENTITY.values(), "Siti", "Rahasia subjek", "Rahasia isi"):
        assert private not in mail.body
        assert private not in mail.subject


def test_nothing_is_sent_before_a_deadline_passes(world):
    # Monday 25 August 23:59 WIB: the first response is still on time, but routing is late.
    summary = feedback_digest(now=datetime(2025, 8, 25, 23, 59, tzinfo=WIB))
    assert [m.to_address for m in _digests()] == ["ulp@example.go.id"]
    assert summary.departments == 1


def test_a_department_without_active_officers_is_tried_again_later(world):
    officers, _routed, _unrouted = world
    officers["late"].is_active = False
    db.session.commit()
    feedback_digest(now=TUESDAY_26_AUG_9H)
    assert [m.to_address for m in _digests()] == ["ulp@example.go.id"]
    officers["late"].is_active = True
    db.session.commit()
    later = feedback_digest(now=TUESDAY_26_AUG_LAST_MINUTE)
    assert (later.departments, later.already_sent) == (1, 1)
    assert [m.to_address for m in _digests()] == ["late@example.go.id", "ulp@example.go.id"]


def test_the_command_reports_what_it_queued(world, runner, monkeypatch):
    import portal.services.feedback.digest as digest_module

    monkeypatch.setattr(digest_module, "utc_now", lambda: TUESDAY_26_AUG_9H)
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "departments: 2, mails queued: 2, already sent today: 0"
    again = runner.invoke(args=["feedback", "digest"])
    assert again.output.strip() == "departments: 0, mails queued: 0, already sent today: 2"


def test_the_subject_counts_items_in_singular_and_plural(world, app, monkeypatch):
    _officers, routed, _unrouted = world
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")
    feedback_submit(valid_data(service=routed.service.code), "id", now=FRIDAY_15_AUG)
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    feedback_digest(now=TUESDAY_26_AUG_9H)
    subjects = {m.to_address: m.subject for m in _digests()}
    assert subjects["late@example.go.id"].endswith(": 2 items")
    assert subjects["ulp@example.go.id"].endswith(": 1 item")
