"""The catalogue as Open311 offers it: every service, the codes of its attributes, a changeset.

Each catalogue service is one Open311 service (``service_code`` is its code). Filing one
asks for the attributes of feedback the form asks for: the kind, the regency or city, and the
identity and publishing choices (docs/definitions.md, "Feedback" and "Privacy").
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Row, Select, func, select

from portal.domain.regions import (  # noqa: F401  (the Open311 modules import them here)
    KEMENDAGRI_REGENCY_CODES,
    kemendagri_from_regency,
    regency_from_kemendagri,
)
from portal.extensions import db
from portal.models.catalogue import CommitmentChange, Department, Service, WorkModeChange
from portal.models.feedback import FEEDBACK_KINDS
from portal.services.catalogue.directory import service_get

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


def open311_services() -> list[Row]:
    """Return every catalogue service by Indonesian name, as the service list shows it.

    Plain columns, one statement: the service's ``code``, ``name_id``, ``name_en``,
    ``work_mode``, ``commitment_value``, ``commitment_unit`` and ``on_time_target``, and its
    department's as ``department_code``, ``department_name_id`` and ``department_name_en``.
    The list holds the whole catalogue: loading a thousand services as objects cost more
    than writing them.
    """
    return list(db.session.execute(_services_statement()))


@lru_cache(maxsize=1)
def _services_statement() -> Select:
    """Build open311_services' statement once."""
    return (
        select(Service.code, Service.name_id, Service.name_en, Service.work_mode,
               Service.commitment_value, Service.commitment_unit, Service.on_time_target,
               Department.code.label("department_code"),
               Department.name_id.label("department_name_id"),
               Department.name_en.label("department_name_en"))
        .join(Service.department)
        .order_by(Service.name_id, Service.id)
    )


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
