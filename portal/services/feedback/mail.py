"""Mail about feedback, queued in the outbox within the caller's transaction.

To the reporter (only if they left an e-mail address): every public step, in their language.
To the department (the e-mail addresses of its active officers) or, while nobody is routed,
to the triage unit's staff: new, transferred, replied and reopened feedback and overdue
reminders. Mail to staff never carries the reporter's name, e-mail or phone: mail is copied,
forwarded and archived, so identities stay in the staff pages where access is checked.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.models.feedback import Feedback
from portal.models.users import User
from portal.services.auth import Role
from portal.services.feedback.public_view import feedback_public_view
from portal.services.outbox import outbox_enqueue

# Steps the reporter is told about (each is a public event of the timeline).
REPORTER_STEPS = (
    "submitted",
    "routed",
    "transferred",
    "answer",
    "in_progress",
    "investigation",
    "resolved",
    "reopened",
    "rejected",
    "closed",
)
STAFF_STEPS = (
    "new",
    "transferred",
    "reply",
    "reopened",
    "reminder_route",
    "reminder_first_response",
    "reminder_resolution",
)


def _render_mail(template: str, **context: Any) -> str:
    """Render a mail template with the app's Jinja globals only.

    Not render_template: mail is also written by commands (the tick) with no request, and
    request-bound context processors (the logged-in staff member...) have nothing to add.
    """
    return current_app.jinja_env.get_template(template).render(**context)


def _base_url() -> str:
    """The portal's public address from configuration (never from a request's Host header)."""
    return current_app.config["PORTAL_BASE_URL"].rstrip("/")


def tracking_url(feedback: Feedback, lang: str) -> str:
    """Return the absolute address of the feedback's tracking page."""
    return f"{_base_url()}/{lang}/feedback/{feedback.tracking_code_display}"


def staff_url(feedback: Feedback, lang: str) -> str:
    """Return the absolute address of the feedback in the staff pages."""
    return f"{_base_url()}/{lang}/staff/feedback/{feedback.id}"


def _reporter_subject(step: str, code: str) -> str:
    subjects = {
        "submitted": _("We received your feedback %(code)s", code=code),
        "routed": _("Your feedback %(code)s was sent to a department", code=code),
        "transferred": _("Your feedback %(code)s was transferred", code=code),
        "answer": _("New answer to your feedback %(code)s", code=code),
        "in_progress": _("Your feedback %(code)s is being handled", code=code),
        "investigation": _("Your feedback %(code)s needs investigation", code=code),
        "resolved": _("Your feedback %(code)s was marked as resolved", code=code),
        "reopened": _("Your feedback %(code)s was reopened", code=code),
        "rejected": _("Your feedback %(code)s was not accepted", code=code),
        "closed": _("Your feedback %(code)s is closed", code=code),
    }
    return subjects[step]


def _staff_subject(step: str, code: str) -> str:
    subjects = {
        "new": _("New feedback %(code)s for your department", code=code),
        "transferred": _("Feedback %(code)s was transferred to your department", code=code),
        "reply": _("The citizen replied to feedback %(code)s", code=code),
        "reopened": _("The citizen reopened feedback %(code)s", code=code),
        "reminder_route": _("Overdue: feedback %(code)s still waits to be routed", code=code),
        "reminder_first_response": _(
            "Overdue: feedback %(code)s still waits for a first response", code=code
        ),
        "reminder_resolution": _("Overdue: feedback %(code)s is past its resolution deadline",
                                 code=code),
    }
    return subjects[step]


def mail_reporter(feedback: Feedback, step: str, text: str = "") -> None:
    """Queue a mail telling the reporter about a public step, in their language."""
    if step not in REPORTER_STEPS:
        raise ValueError(f"unknown reporter step {step!r}")
    if feedback.anonymous or not feedback.reporter_email:
        return
    lang = feedback.lang
    with force_locale(lang):
        view = feedback_public_view(feedback, lang)
        subject = _reporter_subject(step, feedback.tracking_code_display)
        body = _render_mail(
            "mail/feedback_reporter.txt",
            step=step,
            view=view,
            # Greeted by the name they gave (the mail goes to them only).
            name=feedback.reporter_name or "",
            text=text,
            tracking_url=tracking_url(feedback, lang),
        )
    outbox_enqueue(
        feedback.reporter_email,
        subject,
        body,
        lang=lang,
        kind=f"feedback.reporter.{step}",
        feedback_id=feedback.id,
    )


def staff_recipients(department_id: int | None) -> list[str]:
    """Return the addresses of the active officers of a department, or of the triage unit."""
    query = select(User.email).where(User.is_active.is_(True), User.email != "")
    if department_id is None:
        query = query.where(User.role == Role.TRIAGE)
    else:
        query = query.where(User.role == Role.OFFICER, User.department_id == department_id)
    return sorted(set(db.session.scalars(query)))


def mail_staff(feedback: Feedback, step: str, text: str = "") -> int:
    """Queue a mail to the handling department's officers (or triage); return how many."""
    if step not in STAFF_STEPS:
        raise ValueError(f"unknown staff step {step!r}")
    recipients = staff_recipients(feedback.department_id)
    if not recipients:
        return 0
    lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        view = feedback_public_view(feedback, lang)
        # The public reference, never the tracking code: with it, anyone reading the mail
        # could reply and reopen as the citizen (docs/definitions.md, "Privacy").
        subject = _staff_subject(step, feedback.public_reference)
        body = _render_mail(
            "mail/feedback_staff.txt",
            step=step,
            view=view,
            reference=feedback.public_reference,
            # Subject only: the body and the identity stay behind the staff login.
            subject=feedback.subject,
            text=text,
            staff_url=staff_url(feedback, lang),
        )
    for address in recipients:
        outbox_enqueue(
            address, subject, body, lang=lang, kind=f"feedback.staff.{step}",
            feedback_id=feedback.id,
        )
    return len(recipients)
