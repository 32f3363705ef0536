"""Read-only oversight for the DPRD: every department's feedback, de-identified.

A DPRD member (and an administrator) reads the texts citizens wrote, across departments,
without anything that identifies the reporter (docs/definitions.md): no name, e-mail or phone
(not even for non-confidential reports), no attachment, and no tracking code (it would let
the reader act as the citizen). The subject and text are shown de-identified by the one rule
of personal data in free text (portal.domain.personal_data): e-mail addresses, phone, NIK
and KK numbers, and the reporter's own name, e-mail and phone become ``[…]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.domain.personal_data import deidentify
from portal.models.catalogue import Department
from portal.models.feedback import Feedback
from portal.services.auth import Permission, require_permission
from portal.services.paging import Pagination, paginate

PAGE_SIZE = 50
PAGE_MAX = 100


def _deidentified(feedback: Feedback, text: str) -> str:
    """Return a text of the feedback without any personal data, the reporter's own included."""
    return deidentify(
        text,
        reporter_name=feedback.reporter_name,
        reporter_email=feedback.reporter_email,
        reporter_phone=feedback.reporter_phone,
    )


@dataclass(frozen=True)
class DeidentifiedFeedback:
    """What the DPRD sees of one feedback."""

    id: int
    kind: str
    status: str
    department: Department | None
    service_name: Any
    regency: str | None
    submitted_at: datetime
    subject: str
    body: str
    transfer_count: int
    reopen_count: int


def feedback_dprd_list(
    actor: Any, department_id: int | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> Pagination:
    """Return a page of every department's feedback, de-identified (dprd and admin only)."""
    require_permission(actor, Permission.FEEDBACK_OVERSIGHT)
    stmt = select(Feedback)
    if department_id is not None:
        stmt = stmt.where(Feedback.department_id == department_id)
    result = paginate(
        stmt.options(selectinload(Feedback.department), selectinload(Feedback.service))
        .order_by(Feedback.submitted_at.desc(), Feedback.id.desc()),
        page, per_page, PAGE_MAX,
    )
    items = []
    for feedback in result.items:
        items.append(DeidentifiedFeedback(
            id=feedback.id,
            kind=feedback.kind,
            status=feedback.status,
            department=feedback.department,
            service_name=feedback.service,
            regency=feedback.regency,
            submitted_at=feedback.submitted_at,
            subject=_deidentified(feedback, feedback.subject),
            body=_deidentified(feedback, feedback.body),
            transfer_count=feedback.transfer_count or 0,
            reopen_count=feedback.reopen_count or 0,
        ))
    result.items = items
    return result
