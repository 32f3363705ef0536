"""Staff upkeep of the catalogue: officers keep their department's work modes and commitments true.

Every change updates the service's current fields, appends to its public history (shown on
the service page) and adds an audit entry, all in one commit: never silently.

Only an officer of the service's department or an administrator may change a service; the
triage unit and the DPRD may not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models.catalogue import (
    COMMITMENT_UNITS,
    WORK_MODES,
    CommitmentChange,
    Department,
    Service,
    WorkModeChange,
)
from portal.services.auth import (
    Permission,
    audit_record,
    can_act_for_department,
    department_scope,
    require_permission,
    staff_can,
)
from portal.services.catalogue.directory import MAX_COMMITMENT
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError
from portal.services.metrics.service_requests import service_requests_recompute
from portal.services.paging import LIST_PAGE_MAX, LIST_PAGE_SIZE, Pagination, paginate

# A change may be recorded late, but not so late that it rewrites months of figures.
MAX_BACKDATE_DAYS = 90
MAX_REASON = 2000
# Ten years of working days or a year of hours: anything longer is a typing mistake.


class _Keep:
    """Marker: keep the service's current first-response commitment."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()

__all__ = [
    "MAX_BACKDATE_DAYS",
    "service_can_keep",
    "service_commitment_change",
    "service_list_for_keeper",
    "service_page_for_keeper",
    "service_work_mode_change",
]


def service_can_keep(actor: Any, service: Service) -> bool:
    """Tell whether actor may change this service: admin, or an officer of its department."""
    return (staff_can(actor, Permission.CATALOGUE_KEEP)
            and can_act_for_department(actor, service.department_id))


def _service_for_keeper(actor: Any, service_code: str) -> Service:
    """Load the service with its histories and check the actor may change it."""
    require_permission(actor, Permission.CATALOGUE_KEEP)
    service = db.session.scalar(
        select(Service)
        .where(Service.code == service_code)
        .options(
            selectinload(Service.department),
            selectinload(Service.work_mode_history),
            selectinload(Service.commitment_history),
        )
    )
    if service is None:
        raise NotFound(service_code)
    if not service_can_keep(actor, service):
        raise NotAuthorized("an officer changes only the services of their own department")
    return service


def _kept_services_query(actor: Any, department_code: str | None = None) -> Select:
    """Select the services actor may change (optionally of one department), by name."""
    require_permission(actor, Permission.CATALOGUE_KEEP)
    scope = department_scope(actor)
    stmt = select(Service).options(selectinload(Service.department)).order_by(
        Service.name_id, Service.id)
    if scope is not None:
        stmt = stmt.where(Service.department_id == scope)
    if department_code:
        stmt = stmt.join(Service.department).where(Department.code == department_code)
    return stmt


def service_list_for_keeper(actor: Any) -> list[Service]:
    """List the services actor may change: all for an admin, the department's for an officer."""
    return list(db.session.scalars(_kept_services_query(actor)))


def service_page_for_keeper(
    actor: Any, department_code: str | None = None, page: int = 1,
    per_page: int = LIST_PAGE_SIZE,
) -> Pagination:
    """Return a page of the services actor may change, optionally of one department."""
    return paginate(_kept_services_query(actor, department_code), page, per_page, LIST_PAGE_MAX)


def _effective_from_errors(
    effective_from: object, latest: date | None, today: date
) -> list[FieldError]:
    """Check a change's effective date: a date, not in the future, not too old, in order."""
    if not isinstance(effective_from, date):
        return [FieldError("effective_from", _("must be a date written YYYY-MM-DD"))]
    if effective_from > today:
        return [FieldError("effective_from", _("must not be in the future"))]
    if effective_from < today - timedelta(days=MAX_BACKDATE_DAYS):
        return [FieldError(
            "effective_from",
            _("must not be more than %(n)d days ago", n=MAX_BACKDATE_DAYS),
        )]
    if latest is not None and effective_from < latest:
        return [FieldError(
            "effective_from",
            _("must not be before the latest recorded change (%(date)s)", date=latest.isoformat()),
        )]
    return []


def _latest_date(changes: list) -> date | None:
    """Return the latest effective date in a history (None entries mean 'before records')."""
    dates = [c.effective_from for c in changes if c.effective_from is not None]
    return max(dates) if dates else None


def _reason_errors(reason: str, required: bool) -> list[FieldError]:
    """Check a written reason."""
    if required and not reason:
        return [FieldError("reason", _("is required: say why the change is made"))]
    if len(reason) > MAX_REASON:
        return [FieldError("reason", _("is longer than %(n)d characters", n=MAX_REASON))]
    return []


def service_work_mode_change(
    actor: Any, service_code: str, work_mode: str, effective_from: date, reason: str = ""
) -> Service:
    """Change a service's work mode from a date, append it to the public history, audit, commit."""
    service = _service_for_keeper(actor, service_code)
    reason = (reason or "").strip()
    today = wib_date(utc_now())
    errors: list[FieldError] = []
    if work_mode not in WORK_MODES:
        errors.append(FieldError("work_mode", _("must be one of onsite, hybrid, wfa")))
    elif work_mode == service.work_mode:
        errors.append(FieldError("work_mode", _("is already the service's work mode")))
    errors += _effective_from_errors(
        effective_from, _latest_date(service.work_mode_history), today
    )
    errors += _reason_errors(reason, required=False)
    if errors:
        raise ValidationError(errors)

    before = service.work_mode
    service.work_mode = work_mode
    service.work_mode_since = effective_from
    service.work_mode_history.append(WorkModeChange(
        work_mode=work_mode,
        effective_from=effective_from,
        recorded_at=utc_now(),
        recorded_by=actor.username,
        reason=reason,
    ))
    audit_record(
        actor, "service.work_mode_change", "service", service.code,
        department_id=service.department_id, from_state=before, to_state=work_mode,
        detail=f"effective_from={effective_from.isoformat()}; reason={reason}",
    )
    db.session.commit()
    return service


@dataclass(frozen=True)
class _Commitment:
    """A service's commitment: completion term, on-time target and first-response term."""

    value: int
    unit: str
    on_time_target: float
    first_response_value: int | None
    first_response_unit: str | None

    @classmethod
    def of(cls, service: Service) -> _Commitment:
        """Return the commitment a service has now."""
        return cls(service.commitment_value, service.commitment_unit, service.on_time_target,
                   service.first_response_value, service.first_response_unit)

    def state(self) -> str:
        """Say the commitment compactly for the audit log, e.g. '5 working_days, 0.90'."""
        state = f"{self.value} {self.unit}, {self.on_time_target:.2f}"
        if self.first_response_value is not None:
            state += f", first response {self.first_response_value} {self.first_response_unit}"
        return state


def _term_errors(
    value: object, unit: object, value_field: str, unit_field: str
) -> list[FieldError]:
    """Check a term (a commitment or a first response): a known unit, a whole number in range."""
    errors = []
    if unit not in COMMITMENT_UNITS:
        errors.append(FieldError(unit_field, _("must be working_days or hours")))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(FieldError(value_field, _("must be a whole number, zero or more")))
    elif unit in MAX_COMMITMENT and value > MAX_COMMITMENT[unit]:
        errors.append(FieldError(value_field, _("must be at most %(n)d", n=MAX_COMMITMENT[unit])))
    return errors


def _target_errors(target: object) -> list[FieldError]:
    """Check an on-time target: a fraction above 0 and at most 1."""
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 1:
        return [FieldError(
            "on_time_target", _("must be a fraction above 0 and at most 1, e.g. 0.90")
        )]
    return []


def _first_response_errors(value: object, unit: object) -> list[FieldError]:
    """Check a first-response commitment: both None (no promise) or a valid value and unit."""
    if value is None and unit is None:
        return []
    return _term_errors(value, unit, "first_response_value", "first_response_unit")


def _commitment_change_errors(
    service: Service, new: _Commitment, effective_from: object, reason: str
) -> list[FieldError]:
    """Check a commitment change: valid terms and date, a reason, and a real change."""
    today = wib_date(utc_now())
    errors = _term_errors(new.value, new.unit, "commitment_value", "commitment_unit")
    errors += _target_errors(new.on_time_target)
    errors += _effective_from_errors(
        effective_from, _latest_date(service.commitment_history), today
    )
    errors += _first_response_errors(new.first_response_value, new.first_response_unit)
    errors += _reason_errors(reason, required=True)
    if not errors and replace(new, on_time_target=float(new.on_time_target)) == _Commitment.of(
        service
    ):
        errors.append(FieldError("commitment_value", _("is the same as the current commitment")))
    return errors


def _record_commitment_change(
    actor: Any, service: Service, new: _Commitment, effective_from: date, reason: str
) -> None:
    """Give the service its new commitment, append it to the public history, and audit it."""
    before = _Commitment.of(service).state()
    service.commitment_value = new.value
    service.commitment_unit = new.unit
    service.on_time_target = new.on_time_target
    service.first_response_value = new.first_response_value
    service.first_response_unit = new.first_response_unit
    service.commitment_history.append(CommitmentChange(
        commitment_value=new.value,
        commitment_unit=new.unit,
        on_time_target=new.on_time_target,
        first_response_value=new.first_response_value,
        first_response_unit=new.first_response_unit,
        effective_from=effective_from,
        recorded_at=utc_now(),
        recorded_by=actor.username,
        reason=reason,
    ))
    audit_record(
        actor, "service.commitment_change", "service", service.code,
        department_id=service.department_id, from_state=before, to_state=new.state(),
        detail=f"effective_from={effective_from.isoformat()}; reason={reason}",
    )


def service_commitment_change(
    actor: Any,
    service_code: str,
    value: int,
    unit: str,
    on_time_target: float,
    effective_from: date,
    reason: str,
    first_response_value: int | None | _Keep = KEEP,
    first_response_unit: str | None | _Keep = KEEP,
) -> Service:
    """Change a service's commitment with a written reason; public history, audit, commit.

    The first-response commitment is kept unless given (None and None: no such promise).
    Stored deadlines of requests received from ``effective_from`` (it may be backdated) are
    recomputed, with their on-time counts, and the service's status is stored again, all in
    the same commit.
    """
    service = _service_for_keeper(actor, service_code)
    new = _Commitment(
        value, unit, on_time_target,
        service.first_response_value if isinstance(first_response_value, _Keep)
        else first_response_value,
        service.first_response_unit if isinstance(first_response_unit, _Keep)
        else first_response_unit,
    )
    reason = (reason or "").strip()
    errors = _commitment_change_errors(service, new, effective_from, reason)
    if errors:
        raise ValidationError(errors)
    # A target given as a whole number (1) is stored as a fraction (1.0).
    new = replace(new, on_time_target=float(on_time_target))
    _record_commitment_change(actor, service, new, effective_from, reason)
    db.session.flush()
    # Requests received from the (possibly backdated) date now fall under the new terms, and
    # the status is judged against the new target at once, not at the next refresh.
    service_requests_recompute([service.id], received_from=effective_from, commit=False)
    db.session.commit()
    return service
