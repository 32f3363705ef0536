"""The public objects that have a page of their own, for the sitemap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.incidents import Incident


@dataclass(frozen=True)
class PublicObjects:
    """The codes and ids of the services, departments and incidents, in a stable order."""

    services: list[str]
    departments: list[str]
    incidents: list[int]


def public_objects() -> PublicObjects:
    """Return every service and department code and every incident id (three queries)."""
    return PublicObjects(
        services=list(db.session.scalars(select(Service.code).order_by(Service.code))),
        departments=list(db.session.scalars(select(Department.code).order_by(Department.code))),
        incidents=list(db.session.scalars(select(Incident.id).order_by(Incident.id))),
    )


__all__ = ["PublicObjects", "public_objects"]
