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

from sqlalchemy import func, select

from portal.domain.calendar import UTC
from portal.extensions import db
from portal.models.catalogue import CommitmentChange, Department, Service, WorkModeChange
from portal.models.incidents import Incident, Maintenance
from portal.models.metrics import ServiceStatusChange
from portal.services.catalogue.directory import department_get, service_get
from portal.services.metrics.incidents import incident_list, maintenance_list

# Entries of each kind a feed carries at most (the newest).
FEED_LIMIT = 50
# The date of an empty feed about nothing at all (no catalogue yet).
EMPTY_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


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

    services: list[Service] = field(default_factory=list)
    # The department of a department's feed (None for the others).
    department: Department | None = None
    status_changes: list[RecordedStatusChange] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    maintenance: list[Maintenance] = field(default_factory=list)
    # When the catalogue entries the feed covers last changed (the date of an empty feed).
    catalogue_changed_at: datetime = EMPTY_EPOCH


def incident_changed_at(incident: Incident) -> datetime:
    """Return when an incident last changed: its latest update, or its start."""
    latest = incident.latest_update
    return latest.created_at if latest else incident.started_at


def catalogue_changed_at(service_ids: list[int] | None = None) -> datetime:
    """Return the last change of the catalogue (of some services, or of all of it).

    Creation of the services and their departments, and recorded work-mode and commitment
    changes. EMPTY_EPOCH when there is nothing.
    """
    service_filter = [] if service_ids is None else [Service.id.in_(service_ids or [-1])]
    times = [
        db.session.scalar(select(func.max(Service.created_at)).where(*service_filter)),
        db.session.scalar(
            select(func.max(Department.created_at)).where(
                *([] if service_ids is None else [Department.id.in_(
                    select(Service.department_id).where(*service_filter))])
            )
        ),
    ]
    for history in (WorkModeChange, CommitmentChange):
        stmt = select(func.max(history.recorded_at))
        if service_ids is not None:
            stmt = stmt.where(history.service_id.in_(service_ids or [-1]))
        times.append(db.session.scalar(stmt))
    found = [t.astimezone(UTC) for t in times if t is not None]
    return max(found, default=EMPTY_EPOCH)


def recorded_status_changes(
    service_ids: list[int], limit: int = FEED_LIMIT
) -> list[RecordedStatusChange]:
    """Return the newest recorded status changes of some services, newest first."""
    if not service_ids:
        return []
    stmt = (
        select(ServiceStatusChange)
        .where(ServiceStatusChange.service_id.in_(service_ids))
        .order_by(ServiceStatusChange.changed_at.desc(), ServiceStatusChange.id.desc())
        .limit(limit)
    )
    return [
        RecordedStatusChange(row.id, row.service_id, row.from_status, row.to_status,
                             row.changed_at.astimezone(UTC), row.reason_params or "{}")
        for row in db.session.scalars(stmt)
    ]


def _all_maintenance(**where) -> list[Maintenance]:
    """Return the latest planned maintenance windows, upcoming and past alike."""
    items = maintenance_list(when=None, limit=FEED_LIMIT, **where)
    return sorted(items, key=lambda m: (m.created_at, m.id), reverse=True)


def feed_for_service(code: str) -> FeedContent:
    """Return the feed of one service, or raise NotFound."""
    service = service_get(code)
    return FeedContent(
        services=[service],
        status_changes=recorded_status_changes([service.id]),
        incidents=incident_list(service=service, limit=FEED_LIMIT),
        maintenance=_all_maintenance(service=service),
        catalogue_changed_at=catalogue_changed_at([service.id]),
    )


def feed_for_department(code: str) -> FeedContent:
    """Return the feed of one department's services, or raise NotFound."""
    department = department_get(code)
    services = list(department.services)
    ids = [s.id for s in services]
    return FeedContent(
        services=services,
        department=department,
        status_changes=recorded_status_changes(ids),
        incidents=incident_list(department=department, limit=FEED_LIMIT),
        maintenance=_all_maintenance(department=department),
        catalogue_changed_at=max(catalogue_changed_at(ids),
                                 department.created_at.astimezone(UTC)),
    )


def feed_for_province(service_code: str | None = None) -> FeedContent:
    """Return the province's incidents and maintenance, optionally of one service only.

    An unknown service code gives an empty feed (dated by the whole catalogue).
    """
    return FeedContent(
        incidents=incident_list(service=service_code, limit=FEED_LIMIT),
        maintenance=_all_maintenance(service=service_code),
        catalogue_changed_at=catalogue_changed_at(),
    )


__all__ = [
    "EMPTY_EPOCH",
    "FEED_LIMIT",
    "FeedContent",
    "RecordedStatusChange",
    "catalogue_changed_at",
    "feed_for_department",
    "feed_for_province",
    "feed_for_service",
    "incident_changed_at",
    "recorded_status_changes",
]
