"""The daily digest of overdue feedback, one mail a day to each department that has some.

``feedback_digest`` (run by ``flask feedback digest``, e.g. every morning from cron) lists each
department's open feedback that missed a deadline (docs/definitions.md, "Feedback: routing and
deadlines") and queues one mail to each of its active officers through the outbox; feedback no
department has yet goes to the triage unit's staff. It is idempotent per WIB day: a
``FeedbackDigest`` row per department and day is inserted in the same transaction as the
mail, and its unique key lets only one run (or one machine) win.

The digest is written in the staff's language (the portal's default, Indonesian) and never
carries a reporter's identity nor the citizen's text: codes, kinds, services, statuses,
deadlines and links to the staff pages, where access is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.i18n import date_long, localized
from portal.models.feedback import OPEN_STATUSES, Feedback, FeedbackDigest
from portal.services.feedback.deadlines import overdue_deadlines
from portal.services.feedback.mail import _render_mail, staff_recipients, staff_url
from portal.services.outbox import outbox_enqueue

TRIAGE_SCOPE = "triage"


@dataclass
class DigestSummary:
    """What one run of the digest did."""

    departments: int = 0
    mails: int = 0
    already_sent: int = 0


def _scope(department_id: int | None) -> str:
    return f"department:{department_id}" if department_id is not None else TRIAGE_SCOPE


def _earliest_missed(item: tuple[Feedback, list[str]]) -> tuple[datetime, int]:
    feedback, missed = item
    return min(getattr(feedback, name) for name in missed), feedback.id


def _lines(items: list[tuple[Feedback, list[str]]], lang: str) -> list[dict[str, Any]]:
    """Describe each overdue feedback for the mail: nothing the citizen wrote, no identity."""
    return [
        {
            # The public reference: staff mail never carries the tracking code.
            "code": feedback.public_reference,
            "kind": feedback.kind,
            "status": feedback.status,
            "service": localized(feedback.service, "name", lang).text if feedback.service else "",
            "missed": [(name, getattr(feedback, name)) for name in missed],
            "url": staff_url(feedback, lang),
        }
        for feedback, missed in sorted(items, key=_earliest_missed)
    ]


def feedback_digest(now: datetime | None = None) -> DigestSummary:
    """Queue today's digest of overdue feedback to every department that has some, once a day."""
    now = now or utc_now()
    day = wib_date(now)
    lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    open_items = db.session.scalars(
        select(Feedback)
        .where(Feedback.status.in_(OPEN_STATUSES))
        .options(selectinload(Feedback.service), selectinload(Feedback.department))
    )
    by_scope: dict[int | None, list[tuple[Feedback, list[str]]]] = {}
    for feedback in open_items:
        missed = overdue_deadlines(feedback, now)
        if missed:
            by_scope.setdefault(feedback.department_id, []).append((feedback, missed))

    # Everything the mails need, computed before the first commit expires the objects.
    plans = []
    for department_id, items in by_scope.items():
        recipients = staff_recipients(department_id)
        if not recipients:
            continue  # nobody to tell; a later run, once someone is, still may
        department = items[0][0].department
        with force_locale(lang):
            name = (localized(department, "name", lang).text if department is not None
                    else _("the complaint-management unit"))
            subject = ngettext(
                "Overdue feedback for %(department)s on %(date)s: %(num)d item",
                "Overdue feedback for %(department)s on %(date)s: %(num)d items",
                len(items), department=name, date=date_long(day))
            body = _render_mail("mail/feedback_digest.txt", department=name, day=day,
                                lines=_lines(items, lang))
        plans.append((_scope(department_id), len(items), recipients, subject, body))
    db.session.commit()

    summary = DigestSummary()
    for scope, count, recipients, subject, body in plans:
        try:
            db.session.add(FeedbackDigest(scope=scope, day=day, items=count, created_at=now))
            db.session.flush()
            for address in recipients:
                outbox_enqueue(address, subject, body, lang=lang, kind="feedback.staff.digest",
                               now=now)
            db.session.commit()
        except IntegrityError:
            # Today's digest for this department exists: another run sent it.
            db.session.rollback()
            summary.already_sent += 1
            continue
        summary.departments += 1
        summary.mails += len(recipients)
    return summary
