"""Feedback in the states Open311 shows: published with an answer, private, confidential."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from portal.models import Feedback
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer
from portal.services.feedback.publishing import feedback_publish_approve
from portal.services.open311.keys import open311_key_create
from tests.factories import create_user
from tests.feedback_support import IDENTITY, valid_data

# The reporter's own text names them: only the public version staff write may ever show.
PRIVATE_SUBJECT = "Antrean panjang — Siti Rahmawati"
PRIVATE_BODY = "Saya Siti Rahmawati (0812 3456 7890, siti.rahma@example.com) menunggu tiga jam."
PUBLIC_SUBJECT = "Antrean panjang di loket"
PUBLIC_BODY = "Warga menunggu tiga jam di loket pelayanan."
# Every piece of the reporter's identity, whole and in parts an answer could still give away.
IDENTITY_PIECES = (*IDENTITY.values(), "Siti", "Rahmawati", "siti.rahma", "0812", "3456 7890")


def triage_user() -> Any:
    """Create a triage-unit account: it may publish and answer any feedback, confidential too."""
    return create_user("triage")


def file_feedback(service: Any, at: datetime, **overrides: Any) -> Feedback:
    """File identified feedback about a service whose reporter asked for publishing."""
    values = {"service": service.code, "publish": True, "subject": PRIVATE_SUBJECT,
              "body": PRIVATE_BODY, **IDENTITY}
    values.update(overrides)
    return feedback_submit(valid_data(**values), "id", now=at)


def publish(feedback: Feedback, staff: Any, at: datetime, answer: str | None = None,
            subject: str = PUBLIC_SUBJECT, body: str = PUBLIC_BODY) -> Feedback:
    """Approve the public version of feedback, then answer it publicly if told."""
    feedback_publish_approve(staff, feedback.id, subject, body, now=at + timedelta(hours=1))
    if answer is not None:
        feedback_answer(staff, feedback.id, answer, now=at + timedelta(hours=2))
    return feedback


def new_key(name: str = "Aplikasi Lapor Kota") -> str:
    """Issue an Open311 key and return its plaintext."""
    return open311_key_create(name, actor=CLI_OPERATOR)[1]
