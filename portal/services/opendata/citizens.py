"""What citizens tell the province, as open data: feedback handling and satisfaction (IKM).

Both are given per calendar month (WIB), the period the figures are computed over, cut to the
``from`` and ``to`` asked for and to today: each row says which dates it covers. Feedback
figures are :func:`portal.services.feedback.figures.feedback_figures` per department, with the
counts behind each rate so that months can be added up; satisfaction is
:func:`portal.services.survey.skm.ikm_by` per department and per service, with the IKM and
its grade only from 30 responses in the period, as everywhere.

Nothing here is about one feedback: no text, no tracking code, no reporter. Only counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.feedback import Feedback
from portal.models.survey import SURVEY_ELEMENTS, SurveyResponse
from portal.services.feedback.figures import feedback_figures
from portal.services.opendata.catalogue import (
    DEPARTMENT_CODE,
    DEPARTMENT_KEY,
    SERVICE_CODE,
    SERVICE_KEY,
)
from portal.services.opendata.keyset import span_per_service
from portal.services.opendata.performance import rate, rounded, service_codes
from portal.services.opendata.schema import Dataset, Field, Selection
from portal.services.survey.skm import GRADES, IkmResult, ikm_by


def months(first: date, last: date) -> Iterator[tuple[date, date]]:
    """Yield each calendar month from first to last as (start, end), cut to first and last."""
    start = first
    while start <= last:
        following = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(following - timedelta(days=1), last)
        yield start, end
        start = following


def _periods(selection: Selection, earliest: datetime | None) -> Iterator[tuple[date, date]]:
    """Return the months a monthly table covers: from ``from`` to ``to``, but not before the
    month of the first record (nothing happened before it) nor after today."""
    if earliest is None:
        return iter(())
    today = wib_date(selection.now)
    last = min(selection.to_date, today) if selection.to_date else today
    first = wib_date(earliest).replace(day=1)
    if selection.from_date and selection.from_date > first:
        first = selection.from_date
    return months(first, last)


def department_codes(selection: Selection) -> list[tuple[int, str]]:
    """Return (id, code) of the selected departments, by code."""
    stmt = select(Department.id, Department.code).order_by(Department.code)
    if selection.department_ids is not None:
        stmt = stmt.where(Department.id.in_(selection.department_ids))
    return [(department_id, code) for department_id, code in db.session.execute(stmt)]


def _first_feedback() -> datetime | None:
    """Return when the first feedback was submitted (None before any; an indexed column)."""
    return db.session.scalar(select(func.min(Feedback.submitted_at)))


def feedback_coverage(now: datetime) -> tuple[date, date] | None:
    """Return the WIB dates of the first feedback and of today."""
    first = _first_feedback()
    return None if first is None else (wib_date(first), wib_date(now))


def _first_answer() -> datetime | None:
    """Return when the first survey answer was given (None before any)."""
    return span_per_service(SurveyResponse.service_id, SurveyResponse.submitted_at)[0]


def survey_coverage(now: datetime) -> tuple[date, date] | None:
    """Return the WIB dates of the first survey answer and of today."""
    first = _first_answer()
    return None if first is None else (wib_date(first), wib_date(now))


_PERIOD_FIELDS = (
    Field("period_start", "date", _l(
        "First WIB date of the period: the first of the month, or the from date asked for."),
        required=True),
    Field("period_end", "date", _l(
        "Last WIB date of the period: the end of the month, the to date asked for, or today."),
        required=True),
)
_RATE = {"unit": "fraction", "minimum": 0, "maximum": 1}


# Feedback handling ---------------------------------------------------------------------------


def feedback_rows(selection: Selection) -> Iterator[tuple]:
    """Yield each selected department's feedback-handling figures per month."""
    departments = department_codes(selection)
    ids = [department_id for department_id, _code in departments]
    for start, end in _periods(selection, _first_feedback()):
        figures = feedback_figures(ids, start, end, now=selection.now)
        # Read-only: end the transaction between months (see portal.services.opendata.keyset).
        db.session.rollback()
        for department_id, code in departments:
            row = figures[department_id]
            days = row.median_days_to_first_response
            yield (
                code, start, end, row.submitted, row.routed,
                row.first_responses, row.first_responses_on_time,
                rate(row.first_responses_on_time, row.first_responses), rounded(days, 2),
                row.resolved, row.resolved_on_time, rate(row.resolved_on_time, row.resolved),
                row.reopened, rate(row.reopened, row.resolved), row.transfers,
            )


FEEDBACK_DEPARTMENTS = Dataset(
    name="feedback_departments",
    title=_l("Feedback handling per department"),
    description=_l(
        "For each department and month: feedback submitted and routed, first responses and "
        "resolutions with how many met their deadline, reopened resolutions and transfers. "
        "Each step counts for the department that held the feedback when it happened. "
        "Feedback not yet routed to a department is in no row."),
    fields=(
        DEPARTMENT_CODE,
        *_PERIOD_FIELDS,
        Field("submitted", "integer", _l(
            "Feedback submitted in the period that this department holds now."),
            unit="feedback", required=True, minimum=0),
        Field("routed", "integer", _l("Feedback routed to this department in the period."),
              unit="feedback", required=True, minimum=0),
        Field("first_responses", "integer", _l(
            "First responses the department gave in the period (its first public answer or "
            "investigation step after it received the feedback)."),
            unit="feedback", required=True, minimum=0),
        Field("first_responses_on_time", "integer", _l(
            "Of those, given within 5 working days of receiving the feedback."),
            unit="feedback", required=True, minimum=0),
        Field("first_response_on_time_rate", "number", _l(
            "first_responses_on_time divided by first_responses; empty without any."),
            **_RATE),
        Field("median_days_to_first_response", "number", _l(
            "Median elapsed days from receiving the feedback to the first response, over the "
            "first responses of the period (nearest rank)."), unit="days", minimum=0),
        Field("resolved", "integer", _l(
            "Resolutions in the period, each counted even if the citizen reopened it later."),
            unit="feedback", required=True, minimum=0),
        Field("resolved_on_time", "integer", _l(
            "Of those, within 14 working days of the first routing (60 once marked as "
            "needing investigation)."), unit="feedback", required=True, minimum=0),
        Field("resolved_on_time_rate", "number", _l(
            "resolved_on_time divided by resolved; empty without any."), **_RATE),
        Field("reopened", "integer", _l(
            "Of the resolutions in the period, those the citizen reopened afterwards."),
            unit="feedback", required=True, minimum=0),
        Field("reopen_rate", "number", _l("reopened divided by resolved; empty without any."),
              **_RATE),
        Field("transfers", "integer", _l(
            "Transfers the department made to another department in the period."),
            unit="feedback", required=True, minimum=0),
    ),
    primary_key=("department_code", "period_start"),
    foreign_keys=(DEPARTMENT_KEY,),
    rows=feedback_rows,
    frequency="CONT",
    filters=("department", "from", "to"),
    coverage=feedback_coverage,
)


# Satisfaction (IKM) --------------------------------------------------------------------------


def _ikm_values(result: IkmResult) -> tuple:
    """Return the satisfaction columns of one result: responses, element means, IKM, grade."""
    means = (rounded(result.element_means[name], 4) for name in SURVEY_ELEMENTS)
    ikm = None if result.ikm is None else float(result.ikm)
    return (result.responses, *means, ikm, result.grade)


def ikm_department_rows(selection: Selection) -> Iterator[tuple]:
    """Yield each selected department's satisfaction per month, where anyone answered."""
    departments = department_codes(selection)
    services_of: dict[int, list[int]] = defaultdict(list)
    for service_id, department_id in db.session.execute(
            select(Service.id, Service.department_id)):
        services_of[department_id].append(service_id)
    groups = {department_id: services_of[department_id] for department_id, _c in departments}
    for start, end in _periods(selection, _first_answer()):
        results = ikm_by(groups, start, end)
        db.session.rollback()  # read-only: end the transaction between months
        for department_id, code in departments:
            if results[department_id].responses:
                yield (code, start, end, *_ikm_values(results[department_id]))


def ikm_service_rows(selection: Selection) -> Iterator[tuple]:
    """Yield each selected service's satisfaction per month, where anyone answered."""
    services = service_codes(selection)
    groups = {service_id: [service_id] for service_id, _code in services}
    for start, end in _periods(selection, _first_answer()):
        results = ikm_by(groups, start, end)
        db.session.rollback()  # read-only: end the transaction between months
        for service_id, code in services:
            if results[service_id].responses:
                yield (code, start, end, *_ikm_values(results[service_id]))


_ELEMENT_NAMES = {
    "u1": _l("Mean score (1 to 4) of element U1, requirements."),
    "u2": _l("Mean score (1 to 4) of element U2, procedure."),
    "u3": _l("Mean score (1 to 4) of element U3, time to complete."),
    "u4": _l("Mean score (1 to 4) of element U4, cost."),
    "u5": _l("Mean score (1 to 4) of element U5, product."),
    "u6": _l("Mean score (1 to 4) of element U6, staff competence."),
    "u7": _l("Mean score (1 to 4) of element U7, staff behaviour."),
    "u8": _l("Mean score (1 to 4) of element U8, complaint handling."),
    "u9": _l("Mean score (1 to 4) of element U9, facilities."),
}
assert tuple(_ELEMENT_NAMES) == SURVEY_ELEMENTS
_SATISFACTION_FIELDS = (
    *_PERIOD_FIELDS,
    Field("responses", "integer", _l("Survey answers received in the period."),
          unit="responses", required=True, minimum=1),
    *(Field(f"{name}_mean", "number", description, unit="score", required=True,
            minimum=1, maximum=4)
      for name, description in _ELEMENT_NAMES.items()),
    Field("ikm", "number", _l(
        "The satisfaction index: 25 times the mean of the nine element means, rounded to 2 "
        "decimals half up; empty below 30 responses."), unit="index", minimum=25,
        maximum=100),
    Field("grade", "string", _l(
        "The grade read from the rounded IKM: A (very good), B (good), C (poor) or D (very "
        "poor); empty below 30 responses."), enum=tuple(grade for grade, _low in GRADES)),
)

IKM_DEPARTMENTS = Dataset(
    name="ikm_departments",
    title=_l("Satisfaction (IKM) per department"),
    description=_l(
        "For each department and month with answers: the community satisfaction survey "
        "(SKM) over all its services, each element's mean score, and the IKM with its "
        "grade from 30 responses. A month without any answer has no row."),
    fields=(DEPARTMENT_CODE, *_SATISFACTION_FIELDS),
    primary_key=("department_code", "period_start"),
    foreign_keys=(DEPARTMENT_KEY,),
    rows=ikm_department_rows,
    frequency="CONT",
    filters=("department", "from", "to"),
    coverage=survey_coverage,
)

IKM_SERVICES = Dataset(
    name="ikm_services",
    title=_l("Satisfaction (IKM) per service"),
    description=_l(
        "For each service and month with answers: the community satisfaction survey (SKM), "
        "each element's mean score, and the IKM with its grade from 30 responses. A month "
        "without any answer has no row."),
    fields=(SERVICE_CODE, *_SATISFACTION_FIELDS),
    primary_key=("service_code", "period_start"),
    foreign_keys=(SERVICE_KEY,),
    rows=ikm_service_rows,
    frequency="CONT",
    filters=("service", "department", "from", "to"),
    coverage=survey_coverage,
)
