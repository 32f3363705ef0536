"""Feedback-handling figures per department over a period (docs/definitions.md, "Feedback").

Read-only figures over the WIB dates from..to inclusive (``[from 00:00 WIB, to+1 00:00 WIB)``),
counted like the service metrics: an event belongs to the period in which it happened, and a
rate's denominator is the events of the period. Handling figures come from the timeline
(``FeedbackEvent`` rows), never from the feedback's current state, which a transfer or a
reopen overwrites; each step counts for the department that held the feedback when it
happened (the ``to_department`` of the latest ``routed`` or ``transferred`` step).
Feedback still with the triage unit counts only in the province's figures.

- ``submitted``: feedback submitted in the period (for the department holding it now);
- ``routed``: feedback routed to a department in the period (its ``routed`` step);
- ``first_response_on_time_rate``: of the first responses given in the period, those at or
  before their deadline; None without any. A first response is the holding department's
  first public answer or investigation step after it received the feedback (by routing or
  by transfer: a transfer restarts the clock, and each department is judged on its own);
  the deadline is 5 working days after it received it;
- ``median_days_to_first_response``: elapsed days (hours / 24) from when the department
  received the feedback to its first response, over those first responses, nearest-rank
  median;
- ``resolved_on_time_rate``: of the resolutions in the period (steps to ``resolved``, each
  counted even if the citizen later reopened it), those at or before the resolution
  deadline in force then: 14 working days after the first routing, or 60 once marked as
  needing investigation before that resolution;
- ``overdue_now``: feedback open now that missed a deadline it still waits on (routing,
  first response or resolution), as the citizen's tracking page shows;
- ``transfers``: transfers made in the period away from the department;
- ``reopen_rate``: of the resolutions in the period, those the citizen reopened afterwards.

Deadlines of past steps are recomputed with the current working-day calendar.

Four queries whatever the number of departments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.feedback import Feedback, FeedbackEvent
from portal.services.feedback.deadlines import (
    FIRST_RESPONSE_WORKING_DAYS,
    INVESTIGATION_WORKING_DAYS,
    RESOLUTION_WORKING_DAYS,
)
from portal.services.metrics.calendar_days import calendar_current
from portal.services.metrics.figures import window_bounds

# The key of the province's figures (every department and the triage unit together).
PROVINCE = "province"


@dataclass
class FeedbackFigures:
    """The feedback-handling figures of one department (or the province) over a period."""

    submitted: int = 0
    routed: int = 0
    first_responses: int = 0
    first_responses_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    reopened: int = 0
    overdue_now: int = 0
    transfers: int = 0
    response_hours: list[float] = field(default_factory=list, repr=False)

    @property
    def first_response_on_time_rate(self) -> float | None:
        """Share of first responses given on time, None without any."""
        return _rate(self.first_responses_on_time, self.first_responses)

    @property
    def resolved_on_time_rate(self) -> float | None:
        """Share of resolutions on time, None without any."""
        return _rate(self.resolved_on_time, self.resolved)

    @property
    def reopen_rate(self) -> float | None:
        """Share of resolved feedback the citizen reopened, None without any."""
        return _rate(self.reopened, self.resolved)

    @property
    def median_days_to_first_response(self) -> float | None:
        """Nearest-rank median of the days from routing to first response."""
        values = sorted(self.response_hours)
        if not values:
            return None
        return values[max(1, math.ceil(len(values) / 2)) - 1] / 24

    def add(self, other: FeedbackFigures) -> None:
        """Pool another department's figures into these."""
        for name, value in asdict(other).items():
            if name == "response_hours":
                self.response_hours.extend(other.response_hours)
            else:
                setattr(self, name, getattr(self, name) + value)

    def as_json(self) -> dict:
        """Return the API object (rates to 0.0001, days to 0.01)."""
        days = self.median_days_to_first_response
        return {
            "submitted": self.submitted,
            "routed": self.routed,
            "first_response_on_time_rate": _round(self.first_response_on_time_rate, 4),
            "median_days_to_first_response": _round(days, 2),
            "resolved_on_time_rate": _round(self.resolved_on_time_rate, 4),
            "overdue_now": self.overdue_now,
            "transfers": self.transfers,
            "reopen_rate": _round(self.reopen_rate, 4),
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _in(column, start: datetime, end: datetime):
    return and_(column >= start, column < end)


# Timeline steps the handling figures are computed from.
_HANDLING_KINDS = ("routed", "transferred", "answer", "investigation", "status", "reopened")
# Steps that are a first response by the department holding the feedback.
_RESPONSE_KINDS = ("answer", "investigation")


def _handling_events(start: datetime, end: datetime) -> list[FeedbackEvent]:
    """Return every handling step of the feedback that had one in the window, in order."""
    touched = (
        select(FeedbackEvent.feedback_id)
        .where(FeedbackEvent.kind.in_(_HANDLING_KINDS), _in(FeedbackEvent.at, start, end))
        .distinct()
    )
    return list(db.session.scalars(
        select(FeedbackEvent)
        .where(FeedbackEvent.feedback_id.in_(touched),
               FeedbackEvent.kind.in_(_HANDLING_KINDS))
        .order_by(FeedbackEvent.feedback_id, FeedbackEvent.at, FeedbackEvent.id)
    ))


def _count_handling(
    events: list[FeedbackEvent],
    start: datetime,
    end: datetime,
    figures: dict[int | None, FeedbackFigures],
) -> None:
    """Walk each feedback's timeline and count routing, responses, resolutions and reopens."""
    calendar = calendar_current()
    by_feedback: dict[int, list[FeedbackEvent]] = defaultdict(list)
    for event in events:
        by_feedback[event.feedback_id].append(event)
    for timeline in by_feedback.values():
        holder: int | None = None
        received_at: datetime | None = None  # when the holder got it
        responded = False
        first_routed_at: datetime | None = None
        investigation = False
        # The department of the latest resolution in the window, until a reopen or another one.
        resolved_by: int | None = None
        resolution_counted = False
        for event in timeline:
            inside = start <= event.at < end
            if event.kind in ("routed", "transferred"):
                if event.kind == "transferred" and inside:
                    figures[event.from_department_id].transfers += 1
                holder, received_at, responded = event.to_department_id, event.at, False
                if event.kind == "routed":
                    first_routed_at = first_routed_at or event.at
                    if inside:
                        figures[holder].routed += 1
            elif event.kind in _RESPONSE_KINDS and received_at is not None and not responded:
                responded = True
                if inside:
                    row = figures[holder]
                    row.first_responses += 1
                    due = calendar.deadline_working_days(received_at, FIRST_RESPONSE_WORKING_DAYS)
                    if event.at <= due:
                        row.first_responses_on_time += 1
                    row.response_hours.append(
                        max(0.0, (event.at - received_at).total_seconds() / 3600))
            if event.kind == "investigation":
                investigation = True
            elif event.kind == "status" and event.status_to == "resolved":
                resolution_counted = inside and first_routed_at is not None
                resolved_by = holder
                if resolution_counted:
                    row = figures[holder]
                    row.resolved += 1
                    days = (INVESTIGATION_WORKING_DAYS if investigation
                            else RESOLUTION_WORKING_DAYS)
                    if event.at <= calendar.deadline_working_days(first_routed_at, days):
                        row.resolved_on_time += 1
            elif event.kind == "reopened":
                if resolution_counted:
                    figures[resolved_by].reopened += 1
                resolution_counted = False


def feedback_figures(
    department_ids: Iterable[int], from_date: date, to_date: date, now: datetime | None = None
) -> dict[int | str, FeedbackFigures]:
    """Return the figures of each department, and of the province under ``PROVINCE``."""
    ids = set(department_ids)
    now = now or utc_now()
    start, end = window_bounds(from_date, to_date)
    figures: dict[int | None, FeedbackFigures] = defaultdict(FeedbackFigures)
    dept = Feedback.department_id

    for department_id, n in db.session.execute(
        select(dept, func.count()).where(_in(Feedback.submitted_at, start, end)).group_by(dept)
    ):
        figures[department_id].submitted = n
    _count_handling(_handling_events(start, end), start, end, figures)
    waiting = or_(
        and_(Feedback.status == "submitted", Feedback.route_due < now),
        and_(
            Feedback.status.in_(("routed", "in_progress")),
            or_(
                and_(Feedback.first_response_at.is_(None), Feedback.first_response_due < now),
                Feedback.resolution_due < now,
            ),
        ),
    )
    for department_id, n in db.session.execute(
        select(dept, func.count()).where(waiting).group_by(dept)
    ):
        figures[department_id].overdue_now = n

    result: dict[int | str, FeedbackFigures] = {i: FeedbackFigures() for i in ids}
    province = FeedbackFigures()
    for department_id, row in figures.items():
        province.add(row)
        if department_id in ids:
            result[department_id] = row
    result[PROVINCE] = province
    return result
