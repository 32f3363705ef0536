"""What the Atom feeds tell: status changes, incidents and planned maintenance.

Three feeds share one shape: a service (its status changes, the incidents and maintenance
naming it), a department (the same for all its services) and the province (every incident
and maintenance, optionally of one service; no status changes: a province has too many).

The status changes are the recorded ones (``service_status_change``, written whenever a
stored status changes, docs/definitions.md §5.1): the same events e-mail subscribers are
told about, dated when the portal recorded them, every one of them (changes into and out of
``disrupted`` too: a feed has no choice of topics, and the status after an incident is news
its incident entry does not tell). Nothing is worked out again afterwards, so an entry, once
in a feed, never changes nor drops out because of a late report. Changes from before the
record began are not known and not listed.

A feed is dated by its newest entry. A feed with no entry is dated by the catalogue's last
change for what it covers (creation of the service or department, a recorded work-mode or
commitment change), never by the clock: an unchanged empty feed must read the same at every
poll, so that a reader's conditional request is answered 304. Entries are never edited
without a newer date (an incident by its updates) and leave a feed only when newer ones push
them out, so the newest entry, or the catalogue, dates every change of a feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, literal_column, select

from portal.domain.calendar import UTC
from portal.extensions import db
from portal.models.catalogue import CommitmentChange, Department, Service, WorkModeChange
from portal.models.incidents import Incident, Maintenance, incident_service, maintenance_service
from portal.models.metrics import ServiceStatusChange
from portal.services.errors import NotFound
from portal.services.metrics.incidents import incident_list, maintenance_list

# Entries of each kind a feed carries at most (the newest).
FEED_LIMIT = 50
# The date of an empty feed about nothing at all (no catalogue yet).
EMPTY_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class FeedSubject(NamedTuple):
    """What a feed names of a service or department: its key and names (``localized`` reads
    ``name_id``/``name_en`` as it reads the entity's)."""

    id: int
    code: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class RecordedStatusChange:
    """A recorded status change: ``service_id`` went from ``previous`` to ``status``."""

    id: int
    service_id: int
    previous: str
    status: str
    changed_at: datetime
    # JSON: the figures of the new status (status_reason_text reads ``status`` and these).
    reason_params: str


@dataclass(frozen=True)
class FeedContent:
    """What one feed holds, newest first within each kind, and the date of an empty feed."""

    # The services the status changes name (a service's feed: that service, always).
    services: list[FeedSubject] = field(default_factory=list)
    # The department of a department's feed (None for the others).
    department: FeedSubject | None = None
    status_changes: list[RecordedStatusChange] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    maintenance: list[Maintenance] = field(default_factory=list)
    # When the catalogue entries the feed covers last changed (the date of an empty feed).
    catalogue_changed_at: datetime = EMPTY_EPOCH


def incident_changed_at(incident: Incident) -> datetime:
    """Return when an incident last changed: its latest update, or its start."""
    latest = incident.latest_update
    return latest.created_at if latest else incident.started_at


def _latest(times: Any) -> datetime:
    """Return the latest of some times read (None: nothing there), EMPTY_EPOCH when none."""
    return max((t.astimezone(UTC) for t in times if t is not None), default=EMPTY_EPOCH)


def _history_max(history: Any, *where: Any) -> Any:
    """Return the latest recording of a service history (of the entries ``where`` keeps) as a
    scalar subquery."""
    return select(func.max(history.recorded_at)).where(*where).scalar_subquery()


def _catalogue_columns(service_ids: list[int] | None) -> list[Any]:
    """Return catalogue_changed_at's four latest changes as scalar subqueries."""
    if service_ids is None:
        return [select(func.max(Service.created_at)).scalar_subquery(),
                select(func.max(Department.created_at)).scalar_subquery(),
                _history_max(WorkModeChange), _history_max(CommitmentChange)]
    ids = service_ids or [-1]
    return [
        select(func.max(Service.created_at)).where(Service.id.in_(ids)).scalar_subquery(),
        select(func.max(Department.created_at)).where(Department.id.in_(
            select(Service.department_id).where(Service.id.in_(ids)))).scalar_subquery(),
        _history_max(WorkModeChange, WorkModeChange.service_id.in_(ids)),
        _history_max(CommitmentChange, CommitmentChange.service_id.in_(ids)),
    ]


def catalogue_changed_at(service_ids: list[int] | None = None) -> datetime:
    """Return the last change of the catalogue (of some services, or of all of it).

    Creation of the services and their departments, and recorded work-mode and commitment
    changes, read in one statement. EMPTY_EPOCH when there is nothing.
    """
    return _latest(db.session.execute(select(*_catalogue_columns(service_ids))).one())


# What a RecordedStatusChange is read from, in its fields' order.
_CHANGE_COLUMNS = (
    ServiceStatusChange.id, ServiceStatusChange.service_id, ServiceStatusChange.from_status,
    ServiceStatusChange.to_status, ServiceStatusChange.changed_at,
    ServiceStatusChange.reason_params,
)


def _written_limit(limit: int) -> Any:
    """Return a limit written into the statement, not bound as a parameter.

    PostgreSQL plans a prepared statement once for any values after a few runs: with the
    limit a parameter, that plan read the changes in date order and joined each to every
    service of a department (a nested loop, ten times the work) instead of sorting the few
    it needs.
    """
    return literal_column(str(int(limit)))


@lru_cache(maxsize=4)
def _status_changes_statement(limit: int) -> Select:
    """Build recorded_status_changes' statement once (the ids bound when it runs)."""
    change = ServiceStatusChange
    return (
        select(*_CHANGE_COLUMNS)
        .where(change.service_id.in_(bindparam("ids", expanding=True)))
        .order_by(change.changed_at.desc(), change.id.desc())
        .limit(_written_limit(limit))
    )


def _change(row: Any) -> RecordedStatusChange:
    """Return the recorded status change a row's first six columns (_CHANGE_COLUMNS) read."""
    return RecordedStatusChange(row[0], row[1], row[2], row[3], row[4].astimezone(UTC),
                                row[5] or "{}")


def recorded_status_changes(
    service_ids: list[int], limit: int = FEED_LIMIT
) -> list[RecordedStatusChange]:
    """Return the newest recorded status changes of some services, newest first."""
    if not service_ids:
        return []
    rows = db.session.execute(_status_changes_statement(limit), {"ids": list(service_ids)})
    return [_change(row) for row in rows]


def _all_maintenance(**where) -> list[Maintenance]:
    """Return the latest planned maintenance windows, upcoming and past alike."""
    items = maintenance_list(when=None, limit=FEED_LIMIT, **where)
    return sorted(items, key=lambda m: (m.created_at, m.id), reverse=True)


def _named(link: Any, *where: Any) -> Any:
    """Return a SQL truth: a row of a link table (the services of incidents or of
    maintenance) names a service that ``where`` keeps, as incident_list and
    maintenance_list find them."""
    return select(link.c.service_id).where(link.c.service_id == Service.id, *where).exists()


@lru_cache(maxsize=1)
def _service_statement() -> Select:
    """Build a service feed's first statement once (the code bound when it runs): the
    service, its catalogue's four last changes, and whether incidents or maintenance name
    it (they are listed only when some do: usually none do)."""
    return select(
        Service.id, Service.code, Service.name_id, Service.name_en,
        Service.created_at,
        select(Department.created_at).where(Department.id == Service.department_id)
        .scalar_subquery(),
        _history_max(WorkModeChange, WorkModeChange.service_id == Service.id),
        _history_max(CommitmentChange, CommitmentChange.service_id == Service.id),
        _named(incident_service),
        _named(maintenance_service),
    ).where(Service.code == bindparam("code"))


def feed_for_service(code: str) -> FeedContent:
    """Return the feed of one service, or raise NotFound."""
    row = db.session.execute(_service_statement(), {"code": code}).one_or_none()
    if row is None:
        raise NotFound(code)
    service = FeedSubject(*row[:4])
    return FeedContent(
        services=[service],
        status_changes=recorded_status_changes([service.id]),
        incidents=incident_list(service=service.id, limit=FEED_LIMIT) if row[8] else [],
        maintenance=_all_maintenance(service=service.id) if row[9] else [],
        catalogue_changed_at=_latest(row[4:8]),
    )


def _latest_of_services(history: Any, *where: Any) -> Any:
    """Return the latest recording of a service history among the services ``where`` keeps,
    as a scalar subquery: each service's latest, found through the history's index on
    ``service_id``, rather than a scan of the whole history for the services' ids."""
    latest = select(func.max(history.recorded_at)).where(history.service_id == Service.id)
    return select(func.max(latest.scalar_subquery())).where(*where).scalar_subquery()


@lru_cache(maxsize=1)
def _department_statement() -> Select:
    """Build a department feed's first statement once (the code bound when it runs): the
    department, its services' catalogue's last changes, and whether incidents or maintenance
    name any of its services (listed only when some do)."""
    in_department = Service.department_id == Department.id
    return select(
        Department.id, Department.code, Department.name_id, Department.name_en,
        Department.created_at,
        select(func.max(Service.created_at)).where(in_department).scalar_subquery(),
        _latest_of_services(WorkModeChange, in_department),
        _latest_of_services(CommitmentChange, in_department),
        _named(incident_service, in_department),
        _named(maintenance_service, in_department),
    ).where(Department.code == bindparam("code"))


@lru_cache(maxsize=1)
def _department_changes_statement() -> Select:
    """Build the statement of a department's newest status changes once, each with the
    code and names of its service (the department's id bound when it runs)."""
    change = ServiceStatusChange
    return (
        select(*_CHANGE_COLUMNS, Service.code, Service.name_id, Service.name_en)
        .join(Service, Service.id == change.service_id)
        .where(Service.department_id == bindparam("department"))
        .order_by(change.changed_at.desc(), change.id.desc())
        .limit(_written_limit(FEED_LIMIT))
    )


def feed_for_department(code: str) -> FeedContent:
    """Return the feed of one department's services, or raise NotFound.

    Two statements when nothing names its services: the department with its catalogue's
    dates, and its status changes with the services they name.
    """
    row = db.session.execute(_department_statement(), {"code": code}).one_or_none()
    if row is None:
        raise NotFound(code)
    department = FeedSubject(*row[:4])
    changes = []
    services: dict[int, FeedSubject] = {}
    for change in db.session.execute(_department_changes_statement(),
                                     {"department": department.id}):
        changes.append(_change(change))
        if change[1] not in services:
            services[change[1]] = FeedSubject(change[1], *change[6:9])
    # The services' creation, histories and department, as catalogue_changed_at(their ids)
    # reads them, and the department itself (which dates an empty department).
    catalogue = max(_latest(row[5:8]), row[4].astimezone(UTC))
    return FeedContent(
        services=list(services.values()),
        department=department,
        status_changes=changes,
        incidents=incident_list(department=department.id, limit=FEED_LIMIT) if row[8] else [],
        maintenance=_all_maintenance(department=department.id) if row[9] else [],
        catalogue_changed_at=catalogue,
    )


@lru_cache(maxsize=2)
def _province_statement(of_service: bool) -> Select:
    """Build the province feed's first statement once (a service's code bound when it runs):
    the whole catalogue's four last changes, and whether incidents or maintenance (naming
    the service, when of one) exist (they are listed only when some do)."""
    if of_service:
        coded = Service.code == bindparam("code")
        named = [_named(incident_service, coded), _named(maintenance_service, coded)]
    else:
        named = [select(Incident.id).exists(), select(Maintenance.id).exists()]
    return select(*_catalogue_columns(None), *named)


def feed_for_province(service_code: str | None = None) -> FeedContent:
    """Return the province's incidents and maintenance, optionally of one service only.

    An unknown service code gives an empty feed (dated by the whole catalogue).
    """
    params = {} if service_code is None else {"code": service_code}
    row = db.session.execute(_province_statement(service_code is not None), params).one()
    return FeedContent(
        incidents=incident_list(service=service_code, limit=FEED_LIMIT) if row[4] else [],
        maintenance=_all_maintenance(service=service_code) if row[5] else [],
        catalogue_changed_at=_latest(row[:4]),
    )


__all__ = [
    "EMPTY_EPOCH",
    "FEED_LIMIT",
    "FeedContent",
    "FeedSubject",
    "RecordedStatusChange",
    "catalogue_changed_at",
    "feed_for_department",
    "feed_for_province",
    "feed_for_service",
    "incident_changed_at",
    "recorded_status_changes",
]
