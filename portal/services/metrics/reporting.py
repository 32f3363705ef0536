"""When each department last reported on its services (an empty report counts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.models.metrics import ServiceReport

# Ids per IN (...) list: well under every database's bound-parameter limit.
_CHUNK = 900


def service_last_reported(service_ids: Iterable[int]) -> dict[int, datetime]:
    """Return when each service last reported (services never reported are absent)."""
    ids = list(service_ids)
    found: dict[int, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(ServiceReport.service_id, ServiceReport.last_reported_at).where(
            ServiceReport.service_id.in_(ids[start:start + _CHUNK])
        )
        found.update({sid: at for sid, at in db.session.execute(stmt)})
    return found
