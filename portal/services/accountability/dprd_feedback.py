"""Read-only oversight for the DPRD: every department's feedback, de-identified.

A DPRD member (and an administrator) reads the texts citizens wrote, across departments,
without anything that identifies the reporter (DOMAIN.md, Privacy): no name, e-mail or phone
(not even for non-confidential reports), no attachment, and no tracking code (it would let
the reader act as the citizen). E-mail addresses, phone numbers and the reporter's stored
name are also blanked out of the subject and text, where citizens often type them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.feedback import Feedback
from portal.services.auth import require_role

DPRD_READ_ROLES = ("dprd", "admin")
PAGE_MAX = 100
REDACTED = "[…]"
_EMAIL = re.compile(r"[^\s@<>()\[\],;:]+@[^\s@<>()\[\],;:]+\.[A-Za-z]{2,}")
# Seven or more digits, optionally with a leading + and spaces, dashes or brackets (not
# dots: "12.05.2025" is a date, not a phone number).
_PHONE = re.compile(r"\+?\d[\d\s()\-]{5,}\d")


def redact(text: str, names: list[str] | None = None) -> str:
    """Blank out e-mail addresses, phone numbers and the given names from a text."""
    text = _EMAIL.sub(REDACTED, text or "")
    text = _PHONE.sub(lambda m: REDACTED if sum(c.isdigit() for c in m.group()) >= 7
                      else m.group(), text)
    for name in names or []:
        name = name.strip()
        if len(name) >= 3:
            text = re.sub(re.escape(name), REDACTED, text, flags=re.IGNORECASE)
            for part in name.split():
                if len(part) >= 4:
                    text = re.sub(rf"\b{re.escape(part)}\b", REDACTED, text,
                                  flags=re.IGNORECASE)
    return text


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


@dataclass
class DprdFeedbackPage:
    """A page of de-identified feedback, newest first."""

    items: list[DeidentifiedFeedback]
    total: int
    limit: int
    offset: int

    @property
    def has_next(self) -> bool:
        """Tell whether older items follow."""
        return self.offset + len(self.items) < self.total


def feedback_dprd_list(
    actor: Any, department_id: int | None = None, limit: int = 50, offset: int = 0
) -> DprdFeedbackPage:
    """Return a page of every department's feedback, de-identified (dprd and admin only)."""
    require_role(actor, *DPRD_READ_ROLES)
    limit = max(1, min(int(limit), PAGE_MAX))
    offset = max(0, int(offset))
    stmt = select(Feedback)
    count = select(func.count()).select_from(Feedback)
    if department_id is not None:
        stmt = stmt.where(Feedback.department_id == department_id)
        count = count.where(Feedback.department_id == department_id)
    rows = db.session.scalars(
        stmt.options(selectinload(Feedback.department), selectinload(Feedback.service))
        .order_by(Feedback.submitted_at.desc(), Feedback.id.desc())
        .limit(limit).offset(offset)
    )
    items = []
    for feedback in rows:
        names = [feedback.reporter_name] if feedback.reporter_name else []
        items.append(DeidentifiedFeedback(
            id=feedback.id,
            kind=feedback.kind,
            status=feedback.status,
            department=feedback.department,
            service_name=feedback.service,
            regency=feedback.regency,
            submitted_at=feedback.submitted_at,
            subject=redact(feedback.subject, names),
            body=redact(feedback.body, names),
            transfer_count=feedback.transfer_count or 0,
            reopen_count=feedback.reopen_count or 0,
        ))
    return DprdFeedbackPage(items, db.session.scalar(count) or 0, limit, offset)
