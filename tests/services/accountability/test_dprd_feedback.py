"""The DPRD's de-identified feedback and the publish warning apply one personal-data rule."""

from __future__ import annotations

import pytest

from portal.services.accountability.dprd_feedback import feedback_dprd_list
from portal.services.feedback.citizen import PersonalDataWarning, personal_data_warnings
from portal.services.feedback.handling import feedback_answer
from tests.accountability_support import create_feedback
from tests.factories import create_service, create_user

REDACTED = "[…]"
TEXT = "Hubungi 0812.3456.7890 untuk NIK 6271.0123.4567.0001, antrean 3 jam pada 2026-12-01."


@pytest.fixture
def dprd(app):
    return create_user(role="dprd")


def test_phone_and_nik_with_dots_are_blanked_for_the_dprd(dprd):
    create_feedback(create_service(), subject="NIK 6271 0123 4567 0001 ditolak", body=TEXT)
    item = feedback_dprd_list(dprd).items[0]
    assert item.body == (
        f"Hubungi {REDACTED} untuk NIK {REDACTED}, antrean 3 jam pada 2026-12-01.")
    assert item.subject == f"NIK {REDACTED} ditolak"


def test_the_reporters_own_name_email_and_phone_are_blanked_for_the_dprd(dprd):
    create_feedback(
        create_service(),
        subject="Keluhan siti rahmawati",
        body="Saya SITI RAHMAWATI, surel Siti.Rahma@Example.com, telp +62 812-3456-7890.",
        reporter_name="Siti Rahmawati", reporter_email="siti.rahma@example.com",
        reporter_phone="0812 3456 7890",
    )
    item = feedback_dprd_list(dprd).items[0]
    assert item.subject == f"Keluhan {REDACTED}"
    assert item.body == f"Saya {REDACTED}, surel {REDACTED}, telp {REDACTED}."


def test_amounts_and_dates_stay_readable_for_the_dprd(dprd):
    body = "Dipungut Rp 1.500.000 pada 05.08.2025 10.00 di loket 12."
    create_feedback(create_service(), body=body)
    assert feedback_dprd_list(dprd).items[0].body == body


def test_the_publish_warning_flags_exactly_what_the_dprd_view_blanks(dprd):
    create_feedback(create_service(), body=TEXT)
    assert personal_data_warnings(TEXT) == ["0812.3456.7890", "6271.0123.4567.0001"]
    # Putting the flagged pieces back where the DPRD view has [...] gives the text back.
    blanked = feedback_dprd_list(dprd).items[0].body
    restored = blanked
    for piece in personal_data_warnings(TEXT):
        restored = restored.replace(REDACTED, piece, 1)
    assert restored == TEXT


def test_a_public_answer_with_that_text_needs_a_confirmation(app):
    service = create_service()
    officer = create_user("officer", department=service.department)
    feedback = create_feedback(service)
    with pytest.raises(PersonalDataWarning) as warning:
        feedback_answer(officer, feedback.id, TEXT)
    message = warning.value.errors[0].error
    assert "0812.3456.7890" in message and "6271.0123.4567.0001" in message
    assert "2026-12-01" not in message
