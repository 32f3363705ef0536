"""The deadlines of feedback, which of them it has missed, and what the citizen may still do.

Deadlines (docs/definitions.md, "Feedback"), in working days of the current calendar, each
the end (24:00 WIB) of the N-th working day after the WIB date of its start:

- ``route_due``: 3 after submission, only for feedback the triage unit must route by hand;
- ``first_response_due``: 5 after routing; a transfer restarts it;
- ``resolution_due``: 14 after routing, 60 when the department marks it as needing
  investigation (a reopen does not move it: the original promise stands);
- ``auto_close_due``: 10 after the department marks it resolved, cleared when reopened.

A module of its own so that the citizen's use cases, the staff's and the public view all
read the same rules without importing one another.
"""

from __future__ import annotations

from datetime import datetime

from portal.domain.calendar import utc_now
from portal.models.catalogue import Department
from portal.models.feedback import Feedback
from portal.services.metrics.calendar_days import calendar_current

ROUTE_WORKING_DAYS = 3
FIRST_RESPONSE_WORKING_DAYS = 5
RESOLUTION_WORKING_DAYS = 14
INVESTIGATION_WORKING_DAYS = 60
AUTO_CLOSE_WORKING_DAYS = 10
DEADLINE_NAMES = ("route_due", "first_response_due", "resolution_due", "auto_close_due")


def deadline_after(start: datetime, working_days: int) -> datetime:
    """Return the deadline N working days after ``start`` in the current calendar."""
    return calendar_current().deadline_working_days(start, working_days)


def set_routed(feedback: Feedback, department: Department, at: datetime) -> None:
    """Give feedback to a department at ``at`` and start its response and resolution clocks."""
    feedback.department = department
    feedback.department_id = department.id
    feedback.routed_at = at
    feedback.first_response_at = None
    feedback.first_response_reminded_at = None
    feedback.first_response_due = deadline_after(at, FIRST_RESPONSE_WORKING_DAYS)
    days = INVESTIGATION_WORKING_DAYS if feedback.needs_investigation else RESOLUTION_WORKING_DAYS
    feedback.resolution_due = deadline_after(at, days)
    if feedback.status == "submitted":
        feedback.status = "routed"


def overdue_deadlines(feedback: Feedback, now: datetime | None = None) -> list[str]:
    """Return the names of the deadlines the feedback has missed and still waits on."""
    now = now or utc_now()
    missed = []
    if feedback.status == "submitted" and feedback.route_due and now > feedback.route_due:
        missed.append("route_due")
    if feedback.status in ("routed", "in_progress"):
        if (feedback.first_response_at is None and feedback.first_response_due
                and now > feedback.first_response_due):
            missed.append("first_response_due")
        if feedback.resolution_due and now > feedback.resolution_due:
            missed.append("resolution_due")
    return missed


# -- what the citizen may still do -------------------------------------------------------------


# Public steps in which the department says something the citizen may answer: an answer (which
# may ask for information) or the reason it needs to investigate.
REPLY_TO_KINDS = ("answer", "investigation")


def feedback_can_reply(feedback: Feedback) -> bool:
    """Tell whether the citizen may add a reply: once there is something to reply to.

    That is, once the department answered or asked for information (an answer, or the reason
    for an investigation), and not once the feedback is closed or rejected.
    """
    if feedback.status in ("closed", "rejected"):
        return False
    return any(event.public and event.kind in REPLY_TO_KINDS for event in feedback.events)


def feedback_can_reopen(feedback: Feedback, now: datetime | None = None) -> bool:
    """Tell whether the citizen may reopen: resolved, and not yet past the automatic close."""
    now = now or utc_now()
    return (
        feedback.status == "resolved"
        and feedback.auto_close_due is not None
        and now <= feedback.auto_close_due
    )
