"""Incident and planned-maintenance use cases: open, update, schedule, list, and disruption."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, case, exists, false, select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.incidents import (
    DISRUPTING_IMPACTS,
    INCIDENT_IMPACTS,
    INCIDENT_STATES,
    Incident,
    IncidentUpdate,
    Maintenance,
    incident_service,
    maintenance_service,
)
from portal.services.auth import (
    Permission,
    audit_record,
    can_act_for_department,
    department_scope,
    require_permission,
)
from portal.services.errors import (
    FieldError,
    NotAuthorized,
    NotFound,
    ValidationError,
    must_be_one_of,
)
from portal.services.paging import LIST_PAGE_MAX, LIST_PAGE_SIZE, Pagination, paginate

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_BODY = 5000
MAX_SERVICES = 50
# A maintenance window longer than this is almost certainly a typing mistake.
MAX_MAINTENANCE = timedelta(days=31)
MAINTENANCE_WHEN = ("upcoming", "ongoing", "past", "current")
DEFAULT_LIMIT = 50


# Permissions ----------------------------------------------------------------------------------


def _require_managing_role(actor: Any) -> None:
    """Refuse anyone who may not manage incidents (administrators and officers may)."""
    require_permission(actor, Permission.INCIDENTS_MANAGE)


def _require_owns_services(actor: Any, services: Iterable[Service]) -> None:
    """Refuse an officer naming a service of another department (admins manage all)."""
    _require_managing_role(actor)
    if not all(can_act_for_department(actor, s.department_id) for s in services):
        raise NotAuthorized("an officer manages only the services of their own department")


def incident_can_manage(actor: Any, incident: Incident) -> bool:
    """Tell whether the actor may post updates to this incident."""
    try:
        _require_owns_services(actor, incident.services)
    except NotAuthorized:
        return False
    return True


def incident_services_for(actor: Any) -> list[Service]:
    """List the services the actor may name in an incident or maintenance, by name."""
    _require_managing_role(actor)
    scope = department_scope(actor)
    stmt = select(Service).options(selectinload(Service.department)).order_by(Service.name_id)
    if scope is not None:
        stmt = stmt.where(Service.department_id == scope)
    return list(db.session.scalars(stmt))


def incident_list_for_staff(actor: Any, limit: int | None = DEFAULT_LIMIT) -> list[Incident]:
    """List the incidents the actor manages: all for an admin, their department's otherwise."""
    _require_managing_role(actor)
    return incident_list(department=department_scope(actor), limit=limit)


def incident_page_for_staff(
    actor: Any, page: int = 1, per_page: int = LIST_PAGE_SIZE
) -> Pagination:
    """Return a page of the incidents the actor manages, open ones first."""
    _require_managing_role(actor)
    stmt = _incidents_query(None, department_scope(actor))
    if stmt is None:
        stmt = select(Incident).where(false())
    return paginate(stmt, page, per_page, LIST_PAGE_MAX)


def maintenance_page_for_staff(
    actor: Any, when: str | None = "current", now: datetime | None = None, page: int = 1,
    per_page: int = LIST_PAGE_SIZE,
) -> Pagination:
    """Return a page of the maintenance the actor manages (``when`` as in maintenance_list)."""
    _require_managing_role(actor)
    stmt = _maintenance_query(None, department_scope(actor), when, now or utc_now())
    if stmt is None:
        stmt = select(Maintenance).where(false())
    return paginate(stmt, page, per_page, LIST_PAGE_MAX)


def maintenance_list_for_staff(
    actor: Any, when: str | None = "current", now: datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Maintenance]:
    """List the maintenance the actor manages (see :func:`maintenance_list` for ``when``)."""
    _require_managing_role(actor)
    return maintenance_list(department=department_scope(actor), when=when, now=now, limit=limit)


# Validation helpers ---------------------------------------------------------------------------


def _services_by_code(codes: Iterable[str], errors: list[FieldError]) -> list[Service]:
    """Resolve service codes, in the order given, recording unknown ones."""
    wanted: list[str] = []
    for code in codes or ():
        code = (code or "").strip()
        if code and code not in wanted:
            wanted.append(code)
    if not wanted:
        errors.append(FieldError("services", _("Name at least one service.")))
        return []
    if len(wanted) > MAX_SERVICES:
        errors.append(FieldError("services", _("Name at most %(n)d services.", n=MAX_SERVICES)))
        return []
    found = {
        s.code: s for s in db.session.scalars(select(Service).where(Service.code.in_(wanted)))
    }
    unknown = [code for code in wanted if code not in found]
    if unknown:
        errors.append(
            FieldError("services", _("Unknown service: %(codes)s", codes=", ".join(unknown)))
        )
    return [found[code] for code in wanted if code in found]


def _check_text(
    errors: list[FieldError], field: str, value: str, limit: int, required: bool
) -> str:
    """Strip a text, recording it as missing or too long."""
    value = (value or "").strip()
    if required and not value:
        errors.append(FieldError(field, _("This field is required.")))
    elif len(value) > limit:
        errors.append(FieldError(field, _("Use at most %(max)d characters.", max=limit)))
    return value


def _check_aware(errors: list[FieldError], field: str, value: datetime | None) -> bool:
    """Record a missing or naive timestamp; tell whether it is usable."""
    if not isinstance(value, datetime):
        errors.append(FieldError(field, _("This field is required.")))
        return False
    if value.tzinfo is None or value.utcoffset() is None:
        errors.append(FieldError(field, _("The time must carry a time zone.")))
        return False
    return True


def _common_department_id(services: Iterable[Service]) -> int | None:
    """Return the department all the services belong to, or None when they differ."""
    ids = {s.department_id for s in services}
    return ids.pop() if len(ids) == 1 else None


# Incidents ------------------------------------------------------------------------------------


def incident_open(
    actor: Any,
    service_codes: Iterable[str],
    impact: str,
    title_id: str,
    title_en: str,
    body_id: str,
    body_en: str,
    state: str = "investigating",
    *,
    now: datetime | None = None,
) -> Incident:
    """Open an incident on services the actor manages, with its first public update."""
    _require_managing_role(actor)
    now = now or utc_now()
    errors: list[FieldError] = []
    services = _services_by_code(service_codes, errors)
    if services:
        _require_owns_services(actor, services)
    if impact not in INCIDENT_IMPACTS:
        errors.append(FieldError("impact", must_be_one_of(INCIDENT_IMPACTS)))
    if state not in INCIDENT_STATES or state == "resolved":
        errors.append(FieldError("state", _(
            "A new incident must be in the state investigating, identified or monitoring.")))
    title_id = _check_text(errors, "title_id", title_id, MAX_TITLE, True)
    title_en = _check_text(errors, "title_en", title_en, MAX_TITLE, False)
    body_id = _check_text(errors, "body_id", body_id, MAX_BODY, True)
    body_en = _check_text(errors, "body_en", body_en, MAX_BODY, False)
    _check_aware(errors, "now", now)
    if errors:
        raise ValidationError(errors)
    incident = Incident(
        title_id=title_id,
        title_en=title_en,
        impact=impact,
        state=state,
        started_at=now,
        created_by=actor.username,
        department_id=_common_department_id(services),
        services=services,
    )
    incident.updates.append(
        IncidentUpdate(
            state=state, body_id=body_id, body_en=body_en, created_at=now,
            created_by=actor.username,
        )
    )
    db.session.add(incident)
    db.session.flush()
    audit_record(
        actor, "incident_open", "incident", incident.id, department_id=incident.department_id,
        to_state=state, detail=f"{impact} on {','.join(s.code for s in services)}",
    )
    db.session.commit()
    log.info("incident %s opened (%s) by %s", incident.id, impact, actor.username)
    return incident


def incident_update(
    actor: Any,
    incident_id: int,
    state: str,
    body_id: str,
    body_en: str,
    *,
    now: datetime | None = None,
) -> IncidentUpdate:
    """Post an update to an incident; resolving it records when, a later update reopens it."""
    _require_managing_role(actor)
    incident = incident_get(incident_id)
    _require_owns_services(actor, incident.services)
    now = now or utc_now()
    errors: list[FieldError] = []
    if state not in INCIDENT_STATES:
        errors.append(FieldError("state", must_be_one_of(INCIDENT_STATES)))
    body_id = _check_text(errors, "body_id", body_id, MAX_BODY, True)
    body_en = _check_text(errors, "body_en", body_en, MAX_BODY, False)
    if _check_aware(errors, "now", now) and now < incident.started_at:
        errors.append(FieldError("now", _("An update cannot come before the incident began.")))
    if errors:
        raise ValidationError(errors)
    update = IncidentUpdate(
        state=state, body_id=body_id, body_en=body_en, created_at=now,
        created_by=actor.username,
    )
    audit_record(
        actor, "incident_update", "incident", incident.id, department_id=incident.department_id,
        from_state=incident.state, to_state=state,
    )
    incident.updates.append(update)
    incident.state = state
    if state == "resolved":
        if incident.resolved_at is None:
            incident.resolved_at = now
    else:
        # A non-resolved update on a resolved incident reopens it.
        incident.resolved_at = None
    db.session.commit()
    log.info("incident %s updated to %s by %s", incident.id, state, actor.username)
    return update


def incident_get(incident_id: int) -> Incident:
    """Return one incident with its services and timeline, or raise NotFound."""
    try:
        key = int(incident_id)
    except (TypeError, ValueError):
        raise NotFound(str(incident_id)) from None
    incident = db.session.scalar(
        select(Incident)
        .where(Incident.id == key)
        .options(
            selectinload(Incident.services).selectinload(Service.department),
            selectinload(Incident.updates),
        )
    )
    if incident is None:
        raise NotFound(str(incident_id))
    return incident


def _service_id_of(service: Service | str | int) -> int | None:
    """Return the id of a service given as an object, an id or a code."""
    if isinstance(service, Service):
        return service.id
    if isinstance(service, int):
        return service
    return db.session.scalar(select(Service.id).where(Service.code == service))


def _department_id_of(department: Department | str | int) -> int | None:
    """Return the id of a department given as an object, an id or a code."""
    if isinstance(department, Department):
        return department.id
    if isinstance(department, int):
        return department
    return db.session.scalar(select(Department.id).where(Department.code == department))


def _linked_to(
    stmt: Select,
    own_id: Any,
    link_own_id: Any,
    service: Service | str | int | None = None,
    department: Department | str | int | None = None,
) -> Select | None:
    """Keep the rows linked to a service and/or a department; None when either is unknown.

    ``own_id`` is the row's id column, ``link_own_id`` the same id in the link table that
    pairs rows with services (which also has a ``service_id`` column).
    """
    link = link_own_id.table
    if service is not None:
        service_id = _service_id_of(service)
        if service_id is None:
            return None
        stmt = stmt.where(
            own_id.in_(select(link_own_id).where(link.c.service_id == service_id))
        )
    if department is not None:
        department_id = _department_id_of(department)
        if department_id is None:
            return None
        stmt = stmt.where(
            own_id.in_(
                select(link_own_id)
                .join(Service, Service.id == link.c.service_id)
                .where(Service.department_id == department_id)
            )
        )
    return stmt


def _incidents_query(
    service: Service | str | int | None, department: Department | str | int | None,
    include_resolved: bool = True, only_resolved: bool = False,
) -> Select | None:
    """Select incidents, open ones first, then the most recent (None: an unknown filter)."""
    stmt = select(Incident).options(
        selectinload(Incident.services), selectinload(Incident.updates)
    )
    stmt = _linked_to(stmt, Incident.id, incident_service.c.incident_id, service, department)
    if stmt is None:
        return None
    if not include_resolved:
        stmt = stmt.where(Incident.resolved_at.is_(None))
    if only_resolved:
        stmt = stmt.where(Incident.resolved_at.is_not(None))
    return stmt.order_by(
        case((Incident.resolved_at.is_(None), 0), else_=1),
        Incident.started_at.desc(),
        Incident.id.desc(),
    )


def incident_list(
    service: Service | str | int | None = None,
    department: Department | str | int | None = None,
    include_resolved: bool = True,
    limit: int | None = DEFAULT_LIMIT,
    *,
    only_resolved: bool = False,
) -> list[Incident]:
    """List incidents, open ones first and then the most recent, for a service or department.

    ``include_resolved=False`` gives only open incidents, ``only_resolved=True`` only the
    history of resolved ones.
    """
    stmt = _incidents_query(service, department, include_resolved, only_resolved)
    if stmt is None:
        return []
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def service_ids_disrupted_now() -> set[int]:
    """Return the ids of the services named by an open incident of major or outage impact."""
    return set(db.session.scalars(_disrupted_statement()))


@lru_cache(maxsize=1)
def _disrupted_statement() -> Select:
    """Build service_ids_disrupted_now's statement once (it has no values)."""
    return (
        select(incident_service.c.service_id)
        .join(Incident, Incident.id == incident_service.c.incident_id)
        .where(Incident.resolved_at.is_(None), Incident.impact.in_(DISRUPTING_IMPACTS))
        .distinct()
    )


def disrupting_incident_open(service_id: Any) -> Any:
    """Return a SQL truth: an open incident of major or outage impact names the service.

    ``service_id`` is a column or value; the services it is true of are those of
    :func:`service_ids_disrupted_now`.
    """
    return exists().where(
        incident_service.c.service_id == service_id,
        Incident.id == incident_service.c.incident_id,
        Incident.resolved_at.is_(None),
        Incident.impact.in_(DISRUPTING_IMPACTS),
    )


def open_incident_exists(service_id: Any = None) -> Any:
    """Return a SQL truth: an incident is open (naming the service, when a service id or
    id column is given), as ``incident_list(service, include_resolved=False)`` finds."""
    if service_id is None:
        return exists().where(Incident.resolved_at.is_(None))
    return exists().where(
        incident_service.c.service_id == service_id,
        Incident.id == incident_service.c.incident_id,
        Incident.resolved_at.is_(None),
    )


# Planned maintenance --------------------------------------------------------------------------


def maintenance_schedule(
    actor: Any,
    service_codes: Iterable[str],
    starts_at: datetime,
    ends_at: datetime,
    title_id: str,
    title_en: str = "",
    description_id: str = "",
    description_en: str = "",
) -> Maintenance:
    """Declare a window of planned maintenance on services the actor manages."""
    _require_managing_role(actor)
    errors: list[FieldError] = []
    services = _services_by_code(service_codes, errors)
    if services:
        _require_owns_services(actor, services)
    title_id = _check_text(errors, "title_id", title_id, MAX_TITLE, True)
    title_en = _check_text(errors, "title_en", title_en, MAX_TITLE, False)
    description_id = _check_text(errors, "description_id", description_id, MAX_BODY, False)
    description_en = _check_text(errors, "description_en", description_en, MAX_BODY, False)
    starts_ok = _check_aware(errors, "starts_at", starts_at)
    ends_ok = _check_aware(errors, "ends_at", ends_at)
    if starts_ok and ends_ok:
        if ends_at <= starts_at:
            errors.append(FieldError("ends_at", _("The end must come after the start.")))
        elif ends_at - starts_at > MAX_MAINTENANCE:
            errors.append(FieldError("ends_at", _("A maintenance window lasts at most 31 days.")))
    if errors:
        raise ValidationError(errors)
    maintenance = Maintenance(
        title_id=title_id,
        title_en=title_en,
        description_id=description_id,
        description_en=description_en,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor.username,
        services=services,
    )
    db.session.add(maintenance)
    db.session.flush()
    audit_record(
        actor, "maintenance_schedule", "maintenance", maintenance.id,
        department_id=_common_department_id(services),
        detail=f"{starts_at.isoformat()} to {ends_at.isoformat()} on "
        f"{','.join(s.code for s in services)}",
    )
    db.session.commit()
    log.info("maintenance %s scheduled by %s", maintenance.id, actor.username)
    return maintenance


def maintenance_list(
    service: Service | str | int | None = None,
    department: Department | str | int | None = None,
    when: str | None = None,
    now: datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> list[Maintenance]:
    """List maintenance windows: upcoming, ongoing, past, current (ongoing or upcoming) or all.

    Upcoming and current windows come soonest first; past and all, most recent first.
    """
    stmt = _maintenance_query(service, department, when, now or utc_now())
    if stmt is None:
        return []
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def _maintenance_query(
    service: Service | str | int | None, department: Department | str | int | None,
    when: str | None, now: datetime,
) -> Select | None:
    """Select maintenance windows in :func:`maintenance_list`'s order (None: unknown filter)."""
    stmt = select(Maintenance).options(selectinload(Maintenance.services))
    stmt = _linked_to(
        stmt, Maintenance.id, maintenance_service.c.maintenance_id, service, department
    )
    if stmt is None:
        return None
    if when is not None:
        stmt = stmt.where(_maintenance_when(when, now))
    if when in ("upcoming", "ongoing", "current"):
        stmt = stmt.order_by(Maintenance.starts_at)
    else:
        stmt = stmt.order_by(Maintenance.starts_at.desc())
    return stmt.order_by(Maintenance.id)


def _maintenance_when(when: str, now: Any) -> Any:
    """Return the SQL truth of a window being upcoming, ongoing, past or current at now."""
    if when == "upcoming":
        return Maintenance.starts_at > now
    if when == "ongoing":
        return (Maintenance.starts_at <= now) & (Maintenance.ends_at > now)
    if when == "current":
        return Maintenance.ends_at > now
    if when == "past":
        return Maintenance.ends_at <= now
    raise ValueError(f"when must be one of {MAINTENANCE_WHEN} or None, not {when!r}")


def maintenance_exists(when: str, now: Any, service_id: Any = None) -> Any:
    """Return a SQL truth: a maintenance window is ``when`` at ``now`` (on the service, when
    a service id or id column is given), as ``maintenance_list(service, None, when, now)``
    finds. ``now`` is a value or a bound parameter."""
    clause = _maintenance_when(when, now)
    if service_id is None:
        return exists().where(clause)
    return exists().where(
        maintenance_service.c.service_id == service_id,
        Maintenance.id == maintenance_service.c.maintenance_id,
        clause,
    )


__all__ = [
    "incident_can_manage",
    "incident_get",
    "incident_list",
    "incident_list_for_staff",
    "incident_page_for_staff",
    "incident_open",
    "incident_services_for",
    "incident_update",
    "maintenance_list",
    "maintenance_list_for_staff",
    "maintenance_page_for_staff",
    "maintenance_schedule",
    "disrupting_incident_open",
    "maintenance_exists",
    "open_incident_exists",
    "service_ids_disrupted_now",
]
