"""Translated names of the codes shown to people, on pages and in mail.

Feedback kinds, statuses, deadlines and timeline steps; staff roles; service statuses.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.domain.calendar import wib_date
from portal.i18n import date_long
from portal.models.feedback import REGENCIES
from portal.services.auth import Role

KIND_LABELS = {
    "complaint": _l("Complaint"),
    "suggestion": _l("Suggestion"),
    "question": _l("Question"),
    "compliment": _l("Compliment"),
}
KIND_HINTS = {
    "complaint": _l("Something went wrong and you want it put right."),
    "suggestion": _l("An idea to make a service better."),
    "question": _l("You want to know something about a service."),
    "compliment": _l("Something went well and you want the staff to know."),
}
STATUS_LABELS = {
    "submitted": _l("Received, waiting to be routed"),
    "routed": _l("Sent to the department"),
    "in_progress": _l("Being handled"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "rejected": _l("Not accepted"),
}
DEADLINE_LABELS = {
    "route_due": _l("Sent to a department by"),
    "first_response_due": _l("First response by"),
    "resolution_due": _l("Resolution by"),
    "auto_close_due": _l("Closes automatically on"),
}
EVENT_LABELS = {
    "submitted": _l("Feedback received"),
    "routed": _l("Sent to the department"),
    "transferred": _l("Transferred to another department"),
    "status": _l("Status changed"),
    "answer": _l("Answer from the department"),
    "note": _l("Internal note"),
    "investigation": _l("Marked as needing investigation"),
    "reopened": _l("Reopened by the citizen"),
    "reply": _l("Reply from the citizen"),
    "rejected": _l("Not accepted"),
    "closed": _l("Closed"),
    "published": _l("Text published"),
}
IDENTITY_LABELS = {
    "normal": _l("Use my name and contact details"),
    "confidential": _l("Confidential"),
    "anonymous": _l("Anonymous"),
}
IDENTITY_HINTS = {
    "normal": _l(
        "The department handling your feedback sees your name and contact details, so it "
        "can contact you. They are never shown publicly."
    ),
    "confidential": _l(
        "Only the province's complaint-management unit sees your name and contact details. "
        "The department handling your feedback does not. They are never shown publicly."
    ),
    "anonymous": _l(
        "We do not store your name, e-mail or phone at all, even if you type them. You can "
        "still follow your feedback with its tracking code, but we cannot e-mail you."
    ),
}


# The short names of a service's status (docs/definitions.md), for badges, filters and tables.
SERVICE_STATUS_LABELS = {
    "disrupted": _l("Disrupted"),
    "no_data": _l("No data"),
    "insufficient_data": _l("Not enough data"),
    "meeting": _l("Meeting its commitment"),
    "at_risk": _l("At risk"),
    "breaching": _l("Breaching its commitment"),
}

# Whether WFA applies in a department (its published arrangement).
WFA_APPLIES_LABELS = {
    "no": _l("No: everyone works on site"),
    "pilot": _l("Pilot: WFA is being tried"),
    "yes": _l("Yes: WFA applies"),
}

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.TRIAGE: _l("Triage unit"),
    Role.OFFICER: _l("Department officer"),
    Role.DPRD: _l("DPRD (read only)"),
}


def kind_label(kind: str) -> str:
    """Return the translated name of a feedback kind."""
    return str(KIND_LABELS.get(kind, kind))


def status_label(status: str) -> str:
    """Return the translated name of a feedback status."""
    return str(STATUS_LABELS.get(status, status))


def wfa_applies_label(value: str) -> str:
    """Return the translated sentence of whether WFA applies in a department."""
    return str(WFA_APPLIES_LABELS.get(value, value))


def service_status_label(status: str) -> str:
    """Return the translated short name of a service's status."""
    return str(SERVICE_STATUS_LABELS.get(status, status))


def deadline_label(name: str) -> str:
    """Return the translated name of a feedback deadline."""
    return str(DEADLINE_LABELS.get(name, name))


def event_label(kind: str) -> str:
    """Return the translated name of a timeline step."""
    return str(EVENT_LABELS.get(kind, kind))


def role_label(role: str) -> str:
    """Return the translated name of a staff role (other actors, such as "system", as stored)."""
    return str(ROLE_LABELS.get(role, role))


def regency_name(code: str | None) -> str:
    """Return the name of a regency or city from its code."""
    return REGENCIES.get(code or "", "")


def deadline_day(value: datetime | None) -> str:
    """Say a deadline (24:00 WIB of a day) as that day, in the reader's language."""
    if value is None:
        return ""
    return date_long(wib_date(value - timedelta(microseconds=1)))


def init_app(app: Flask) -> None:
    """Make the labels available to templates (pages and mail)."""
    app.jinja_env.globals.update(
        feedback_kind_label=kind_label,
        feedback_status_label=status_label,
        feedback_deadline_label=deadline_label,
        feedback_event_label=event_label,
        regency_name=regency_name,
        wfa_applies_label=wfa_applies_label,
    )
    app.jinja_env.filters["deadline_day"] = deadline_day
