"""The catalogue as Open311 offers it: every service, the codes of its attributes, a changeset.

Each catalogue service is one Open311 service (``service_code`` is its code). Filing one
asks for the attributes of feedback the form asks for: the kind, the regency or city, and the
identity and publishing choices (docs/definitions.md, "Feedback" and "Privacy").
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from portal.domain.regions import (  # noqa: F401  (the Open311 modules import them here)
    KEMENDAGRI_REGENCY_CODES,
    kemendagri_from_regency,
    regency_from_kemendagri,
)
from portal.extensions import db
from portal.models.catalogue import CommitmentChange, Department, Service, WorkModeChange
from portal.models.feedback import FEEDBACK_KINDS
from portal.services.catalogue.directory import service_get, service_search

# The attributes of every service definition, in the order clients show them.
ATTRIBUTE_KIND = "kind"
ATTRIBUTE_REGENCY = "regency"
ATTRIBUTE_ANONYMOUS = "anonymous"
ATTRIBUTE_CONFIDENTIAL = "confidential"
ATTRIBUTE_PUBLISH = "publish"
# An integrity report (routing rule 0): to the integrity unit, never the department concerned.
ATTRIBUTE_INTEGRITY = "integrity"
ATTRIBUTE_CODES = (
    ATTRIBUTE_KIND, ATTRIBUTE_REGENCY, ATTRIBUTE_ANONYMOUS, ATTRIBUTE_CONFIDENTIAL,
    ATTRIBUTE_PUBLISH, ATTRIBUTE_INTEGRITY,
)
FLAG_ATTRIBUTES = (ATTRIBUTE_ANONYMOUS, ATTRIBUTE_CONFIDENTIAL, ATTRIBUTE_PUBLISH,
                   ATTRIBUTE_INTEGRITY)
# The values a true/false attribute takes (singlevaluelist keys).
FLAG_VALUES = ("true", "false")
KIND_VALUES = FEEDBACK_KINDS

# When the attributes above last changed: a client caching service definitions must
# refresh them after this, whatever the catalogue did.
DEFINITIONS_CHANGED = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def open311_services() -> list[Service]:
    """Return every catalogue service with its department, by Indonesian name."""
    return service_search()


def open311_service(service_code: str) -> Service:
    """Return one catalogue service by its code, or raise NotFound."""
    return service_get(service_code)


def open311_changeset() -> datetime:
    """Return when the services or their definitions last changed (aware UTC).

    The latest of: a department or a service created, a work mode or a commitment recorded,
    and the definitions' own change. Clients compare it to know when to refresh what they
    cached (the discovery document's ``changeset``).
    """
    latest = [DEFINITIONS_CHANGED]
    for column in (Department.created_at, Service.created_at, WorkModeChange.recorded_at,
                   CommitmentChange.recorded_at):
        value = db.session.scalar(select(func.max(column)))
        if value is not None:
            latest.append(value)
    return max(latest)
