"""The catalogue as open data: departments, services, and their public histories.

The service table keeps the catalogue import's column names (``service_code``,
``department_code``, ``work_mode``…), so a downloaded file reads like the file the catalogue
is kept in. The histories hold what the service pages show: the dated work modes, and the
dated commitments with their public reason. Who recorded a change (a staff account) is never
published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models.catalogue import (
    COMMITMENT_UNITS,
    STANDARD_FIELDS,
    WORK_MODES,
    CommitmentChange,
    Department,
    Service,
    WorkModeChange,
)
from portal.models.metrics import SERVICE_STATUSES
from portal.services.metrics.status import status_for_services
from portal.services.opendata.keyset import batched, keyset_rows
from portal.services.opendata.schema import Dataset, Field, ForeignKey, Selection

# Fields every dataset about services or departments starts with: the stable keys.
SERVICE_CODE = Field("service_code", "string", _l(
    "The service's code: stable, and the key that joins every dataset about services."),
    required=True)
DEPARTMENT_CODE = Field("department_code", "string", _l(
    "The department's code: stable, and the key that joins every dataset about departments."),
    required=True)
# A commitment, as services and their commitment history both give it.
COMMITMENT_FIELDS = (
    Field("commitment_value", "integer", _l(
        "The time within which the service promises to complete a request, in "
        "commitment_unit."), required=True, minimum=0),
    Field("commitment_unit", "string", _l(
        "The unit of commitment_value: working_days or hours."), required=True,
        enum=COMMITMENT_UNITS),
    Field("on_time_target", "number", _l(
        "The share of requests the service promises to complete within its commitment."),
        unit="fraction", required=True, minimum=0, maximum=1),
    Field("first_response_value", "integer", _l(
        "The time within which the service promises a first response, in "
        "first_response_unit; empty when it makes no such promise."), minimum=0),
    Field("first_response_unit", "string", _l(
        "The unit of first_response_value: working_days or hours; empty with it."),
        enum=COMMITMENT_UNITS),
)
SERVICE_KEY = ForeignKey(("service_code",), "services", ("service_code",))
DEPARTMENT_KEY = ForeignKey(("department_code",), "departments", ("department_code",))


def _history_coverage(model: type) -> Callable[[datetime], tuple[date, date] | None]:
    """Return a coverage function: from the earliest dated entry of a history to today."""

    def coverage(now: datetime) -> tuple[date, date] | None:
        first = db.session.scalar(select(func.min(model.effective_from)))
        return None if first is None else (first, wib_date(now))

    return coverage


# Departments ---------------------------------------------------------------------------------


def department_rows(selection: Selection) -> Iterator[tuple]:
    """Yield one row per department, by code."""
    stmt = select(Department.code, Department.name_id, Department.name_en,
                  Department.is_triage_unit)
    if selection.department_ids is not None:
        stmt = stmt.where(Department.id.in_(selection.department_ids))
    for row in keyset_rows(stmt, [Department.code]):
        yield tuple(row)


DEPARTMENTS = Dataset(
    name="departments",
    title=_l("Departments"),
    description=_l("The departments (OPD) of the provincial government that run the services "
                   "on the portal."),
    fields=(
        DEPARTMENT_CODE,
        Field("department_name_id", "string", _l("The department's name in Indonesian."),
              required=True),
        Field("department_name_en", "string", _l(
            "The department's name in English; empty when none was given.")),
        Field("is_triage_unit", "boolean", _l(
            "True for the province's complaint-management unit, which routes by hand the "
            "feedback that no rule routes.")),
    ),
    primary_key=("department_code",),
    rows=department_rows,
    frequency="IRREG",
    filters=("department",),
)


# Services ------------------------------------------------------------------------------------

_STANDARD_DESCRIPTIONS = {
    "requirements": (_l("The service's requirements (standar pelayanan), in Indonesian."),
                     _l("The service's requirements (standar pelayanan), in English.")),
    "procedure": (_l("The service's procedure, in Indonesian."),
                  _l("The service's procedure, in English.")),
    "cost": (_l("The service's cost, in Indonesian."), _l("The service's cost, in English.")),
    "product": (_l("What the service delivers, in Indonesian."),
                _l("What the service delivers, in English.")),
    "hours": (_l("The service's opening hours, in Indonesian."),
              _l("The service's opening hours, in English.")),
}
assert set(_STANDARD_DESCRIPTIONS) == set(STANDARD_FIELDS)


def service_rows(selection: Selection) -> Iterator[tuple]:
    """Yield one row per service, by code, with its status as the pages show it now."""
    texts = [getattr(Service, f"{name}_{lang}") for name in STANDARD_FIELDS
             for lang in ("id", "en")]
    stmt = select(
        Service.id, Service.code, Department.code, Service.name_id, Service.name_en,
        Service.work_mode, Service.work_mode_since, Service.commitment_value,
        Service.commitment_unit, Service.on_time_target, Service.first_response_value,
        Service.first_response_unit, Service.online_url, *texts,
    ).join(Department, Department.id == Service.department_id)
    if selection.service_ids is not None:
        stmt = stmt.where(Service.id.in_(selection.service_ids))
    for page in batched(keyset_rows(stmt, [Service.code]), 500):
        views = status_for_services([row[0] for row in page], now=selection.now)
        for service_id, *values in page:
            view = views[service_id]
            facts, standard = values[:-len(texts)], values[-len(texts):]
            yield (*facts, view.status, view.computed_at, *standard)


SERVICES = Dataset(
    name="services",
    title=_l("Services"),
    description=_l("Every public service on the portal: its department, current work mode, "
                   "commitment, online channel, status and published service standard."),
    fields=(
        SERVICE_CODE,
        DEPARTMENT_CODE,
        Field("service_name_id", "string", _l("The service's name in Indonesian."),
              required=True),
        Field("service_name_en", "string", _l(
            "The service's name in English; empty when none was given.")),
        Field("work_mode", "string", _l(
            "How the service is staffed now: onsite (at the office), hybrid (partly remote) "
            "or wfa (fully remote)."), required=True, enum=WORK_MODES),
        Field("work_mode_since", "date", _l(
            "The date from which the current work mode applies; empty when unknown.")),
        *COMMITMENT_FIELDS,
        Field("online_url", "string", _l(
            "The address of the service's online channel; empty when it has none.")),
        Field("status", "string", _l(
            "The service's status now, judged over the last 30 days: meeting, at_risk, "
            "breaching, disrupted, insufficient_data or no_data."), required=True,
            enum=SERVICE_STATUSES),
        Field("status_computed_at", "datetime", _l(
            "When the status was last computed (WIB, with its offset); empty when never.")),
        *(Field(f"{name}_{lang}", "string", description)
          for name in STANDARD_FIELDS
          for lang, description in zip(("id", "en"), _STANDARD_DESCRIPTIONS[name],
                                       strict=True)),
    ),
    primary_key=("service_code",),
    foreign_keys=(DEPARTMENT_KEY,),
    rows=service_rows,
    frequency="CONT",
    filters=("service", "department"),
)


# Histories -----------------------------------------------------------------------------------

_EFFECTIVE_FROM = _l("The date from which the entry applies; empty for \"since before the "
                     "portal's records begin\".")
_RECORDED_AT = _l("When the entry was recorded (WIB, with its offset).")
_CHANGE_ID = _l("The entry's number: stable, unique in this dataset.")


def work_mode_rows(selection: Selection) -> Iterator[tuple]:
    """Yield every entry of the work-mode histories, in the order they were recorded."""
    change = WorkModeChange
    stmt = select(change.id, Service.code, change.effective_from, change.work_mode,
                  change.recorded_at).join(Service, Service.id == change.service_id)
    if selection.service_ids is not None:
        stmt = stmt.where(change.service_id.in_(selection.service_ids))
    for row in keyset_rows(stmt, [change.id]):
        yield tuple(row)


WORK_MODE_CHANGES = Dataset(
    name="work_mode_changes",
    title=_l("Work-mode history"),
    description=_l("Each service's dated history of work modes, as its page shows it. Of "
                   "several entries with the same date, the one recorded last applies."),
    fields=(
        Field("change_id", "integer", _CHANGE_ID, required=True),
        SERVICE_CODE,
        Field("effective_from", "date", _EFFECTIVE_FROM),
        Field("work_mode", "string", _l("The work mode from that date: onsite, hybrid or wfa."),
              required=True, enum=WORK_MODES),
        Field("recorded_at", "datetime", _RECORDED_AT, required=True),
    ),
    primary_key=("change_id",),
    foreign_keys=(SERVICE_KEY,),
    rows=work_mode_rows,
    frequency="IRREG",
    filters=("service", "department"),
    coverage=_history_coverage(WorkModeChange),
)


def commitment_rows(selection: Selection) -> Iterator[tuple]:
    """Yield every entry of the commitment histories, in the order they were recorded."""
    change = CommitmentChange
    stmt = select(
        change.id, Service.code, change.effective_from, change.commitment_value,
        change.commitment_unit, change.on_time_target, change.first_response_value,
        change.first_response_unit, change.reason, change.recorded_at,
    ).join(Service, Service.id == change.service_id)
    if selection.service_ids is not None:
        stmt = stmt.where(change.service_id.in_(selection.service_ids))
    for row in keyset_rows(stmt, [change.id]):
        yield tuple(row)


COMMITMENT_CHANGES = Dataset(
    name="commitment_changes",
    title=_l("Commitment history"),
    description=_l("Each service's dated history of commitments with the reason given, as its "
                   "page shows it. A department cannot change a commitment quietly."),
    fields=(
        Field("change_id", "integer", _CHANGE_ID, required=True),
        SERVICE_CODE,
        Field("effective_from", "date", _EFFECTIVE_FROM),
        *COMMITMENT_FIELDS,
        Field("reason", "string", _l("The reason given for the change, as published.")),
        Field("recorded_at", "datetime", _RECORDED_AT, required=True),
    ),
    primary_key=("change_id",),
    foreign_keys=(SERVICE_KEY,),
    rows=commitment_rows,
    frequency="IRREG",
    filters=("service", "department"),
    coverage=_history_coverage(CommitmentChange),
)
