"""Feedback-handling figures per department over a period (DOMAIN.md, "Feedback").

Read-only figures over the WIB dates from..to inclusive (``[from 00:00 WIB, to+1 00:00 WIB)``),
counted like the service metrics: an event belongs to the period in which it happened, and a
rate's denominator is the events of the period. A feedback counts for the department that
holds it now (after any transfer); feedback still with the triage unit counts only in the
province's figures.

- ``submitted``: feedback submitted in the period;
- ``routed``: feedback routed to a department in the period (``routed_at``);
- ``first_response_on_time_rate``: of the first responses given in the period, those at or
  before their deadline (5 working days after routing, restarted by a transfer); None
  without any;
- ``median_days_to_first_response``: elapsed days (hours / 24) from routing to first
  response over those first responses, nearest-rank median;
- ``resolved_on_time_rate``: of the feedback resolved in the period, those resolved at or
  before the resolution deadline;
- ``overdue_now``: feedback open now that missed a deadline it still waits on (routing,
  first response or resolution), as the citizen's tracking page shows;
- ``transfers``: transfers made in the period away from the department;
- ``reopen_rate``: of the feedback resolved in the period, those the citizen reopened at
  least once.

Six grouped queries whatever the number of departments.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from portal.calendar import utc_now
from portal.extensions import db
from portal.models.feedback import Feedback, FeedbackEvent
from portal.services.metrics import window_bounds

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


def _in(column, start: datetime, end: datetime):  # noqa: ANN001, ANN202
    return and_(column >= start, column < end)


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
    for department_id, n in db.session.execute(
        select(dept, func.count()).where(_in(Feedback.routed_at, start, end)).group_by(dept)
    ):
        figures[department_id].routed = n
    for department_id, routed_at, first_at, due in db.session.execute(
        select(dept, Feedback.routed_at, Feedback.first_response_at,
               Feedback.first_response_due)
        .where(_in(Feedback.first_response_at, start, end))
    ):
        row = figures[department_id]
        row.first_responses += 1
        if due is not None and first_at <= due:
            row.first_responses_on_time += 1
        if routed_at is not None:
            row.response_hours.append(max(0.0, (first_at - routed_at).total_seconds() / 3600))
    on_time = func.sum(case((Feedback.resolved_at <= Feedback.resolution_due, 1), else_=0))
    reopened = func.sum(case((Feedback.reopen_count > 0, 1), else_=0))
    for department_id, n, n_on_time, n_reopened in db.session.execute(
        select(dept, func.count(), on_time, reopened)
        .where(_in(Feedback.resolved_at, start, end)).group_by(dept)
    ):
        row = figures[department_id]
        row.resolved, row.resolved_on_time, row.reopened = n, int(n_on_time or 0), int(
            n_reopened or 0)
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
    source = FeedbackEvent.from_department_id
    for department_id, n in db.session.execute(
        select(source, func.count())
        .where(FeedbackEvent.kind == "transferred", _in(FeedbackEvent.at, start, end))
        .group_by(source)
    ):
        figures[department_id].transfers = n

    result: dict[int | str, FeedbackFigures] = {i: FeedbackFigures() for i in ids}
    province = FeedbackFigures()
    for department_id, row in figures.items():
        province.add(row)
        if department_id in ids:
            result[department_id] = row
    result[PROVINCE] = province
    return result
