"""Services counted by their shown status, the counting done by the database.

The home page, the department list and a department's measures count a thousand services by
the status a reader sees (:mod:`portal.services.metrics.status`: the stored evaluation, with
the incidents open now and the silence of now applied). Reading every stored row and its
JSON to count them cost tens of milliseconds a page; here one statement returns a row per
(group, shown status) instead. The rules are those of the status reads, applied in SQL to
the stored columns:

1. a service named by an open disrupting incident is ``disrupted``;
2. a service whose department has not reported on it for more than 7 days, or never, is
   ``no_data``, and so is a service never evaluated;
3. otherwise the stored data status (rules 2 to 6 of the evaluation), which
   :func:`~portal.services.metrics.status.status_store` writes into the reason parameters as
   compact JSON: the database finds ``"data_status":"meeting"`` as one exact text (in a row
   whose stored status is ``meeting``: the stored status is the data status unless the
   service was disrupted when it was evaluated).

A row the database cannot judge that way (parameters written otherwise, and with
``reevaluate_stale`` a row stored under earlier definitions) comes back with its service id
and parameters and is judged in Python: by ``status_for_services`` itself, or, for counts of
the rows as stored, by the data status its parameters hold, as the status read does. So the
counts are always those of the status reads, whatever the rows hold.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, case, func, null, select

from portal.domain.calendar import UTC, utc_now
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.metrics import SERVICE_STATUSES, ServiceReport, ServiceStatus
from portal.services.metrics.incidents import disrupting_incident_open
from portal.services.metrics.status import SILENCE_LIMIT, status_for_services

# The statuses the evaluation stores as a row's data status (disrupted is applied on read).
_DATA_STATUSES = tuple(s for s in SERVICE_STATUSES if s != "disrupted")
# What marks a row evaluated under the current metric definitions (the status module's test).
_CURRENT_METRICS = '"due":'


def _shown_status(reevaluate_stale: bool) -> Any:
    """Build the SQL expression of a service's shown status (NULL: judged in Python).

    Its value ``silent_before`` (the last report older than that is silence) is bound when
    the statement runs; the open disrupting incidents are looked up by the statement itself.
    """
    silent = (ServiceReport.last_reported_at.is_(None)
              | (ServiceReport.last_reported_at < bindparam("silent_before")))
    whens: list[tuple[Any, Any]] = [
        (disrupting_incident_open(Service.id), "disrupted"),
        (silent, "no_data"),
        (ServiceStatus.service_id.is_(None), "no_data"),
    ]
    if reevaluate_stale:
        stale = ~func.coalesce(ServiceStatus.metrics, "").contains(_CURRENT_METRICS,
                                                                   autoescape=True)
        whens.append((stale, null()))
    # The stored status is the data status unless it was disrupted then: compared first,
    # so that each row is searched for one text only.
    whens += [((ServiceStatus.status == status)
               & ServiceStatus.reason_params.contains(f'"data_status":"{status}"',
                                                      autoescape=True), status)
              for status in _DATA_STATUSES]
    return case(*whens, else_=null())


@lru_cache(maxsize=16)
def _tally_statement(by: str, one_department: bool, reevaluate_stale: bool) -> Select:
    """Build a counting statement once: a row per (group, shown status), and one per service
    the database cannot judge (its id and stored parameters)."""
    per_service = (
        select(getattr(Service, by).label("tally_key"),
               _shown_status(reevaluate_stale).label("shown"),
               Service.id.label("service_id"), ServiceStatus.reason_params.label("params"))
        .select_from(Service)
        .outerjoin(ServiceStatus, ServiceStatus.service_id == Service.id)
        .outerjoin(ServiceReport, ServiceReport.service_id == Service.id)
    )
    if one_department:
        per_service = per_service.where(Service.department_id == bindparam("department_id"))
    rows = per_service.subquery()
    undecided = rows.c.shown.is_(None)
    service_id = case((undecided, rows.c.service_id), else_=null())
    params = case((undecided, rows.c.params), else_=null())
    return (select(rows.c.tally_key, rows.c.shown, service_id, params, func.count())
            .group_by(rows.c.tally_key, rows.c.shown, service_id, params))


def status_tallies(
    by: str,
    department_id: int | None = None,
    now: datetime | None = None,
    reevaluate_stale: bool = True,
) -> dict[Hashable, dict[str, int]]:
    """Count services by shown status per value of the Service column named ``by``.

    Every status is present in each group's counts (zero when none); groups without a
    service are absent. ``department_id`` keeps one department's services. With
    ``reevaluate_stale`` (as :func:`~portal.services.metrics.status.status_for_services`)
    a row stored under earlier definitions is evaluated afresh; without it (as
    :func:`~portal.services.metrics.status.status_counts`) it is shown as stored.
    """
    now = (now or utc_now()).astimezone(UTC)
    values: dict[str, Any] = {"silent_before": now - SILENCE_LIMIT}
    if department_id is not None:
        values["department_id"] = department_id
    stmt = _tally_statement(by, department_id is not None, reevaluate_stale)
    tallies: dict[Hashable, dict[str, int]] = {}
    undecided_groups: dict[int, Hashable] = {}
    for key, status, service_id, params, n in db.session.execute(stmt, values):
        if status is None:
            if reevaluate_stale:
                undecided_groups[service_id] = key
                continue
            # As the status read does with the stored parameters.
            status = json.loads(params or "{}").get("data_status", "no_data")
        tallies.setdefault(key, dict.fromkeys(SERVICE_STATUSES, 0))[status] += n
    if undecided_groups:
        views = status_for_services(list(undecided_groups), now=now)
        for service_id, key in undecided_groups.items():
            tallies.setdefault(key, dict.fromkeys(SERVICE_STATUSES, 0))[
                views[service_id].status] += 1
    return tallies
