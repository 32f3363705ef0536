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
3. otherwise the row's ``data_status`` (rules 2 to 6 of the evaluation), a short column
   :func:`~portal.services.metrics.status.status_store` fills when it evaluates a service
   under the current metric definitions and the service is not disrupted then (migration
   0012 filled it likewise from the rows' JSON): no JSON is searched.

A row whose ``data_status`` is empty (disrupted when it was evaluated, or written before the
column or under earlier definitions) comes back with its service id and parameters and is
judged in Python: by ``status_for_services`` itself with ``reevaluate_stale`` (which
evaluates afresh a row stored under earlier definitions), or, for counts of the rows as
stored, by the data status its parameters hold, as the status read does. So the counts are
always those of the status reads, whatever the rows hold.
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


def _shown_status() -> Any:
    """Build the SQL expression of a service's shown status (NULL: judged in Python).

    Its value ``silent_before`` (the last report older than that is silence) is bound when
    the statement runs; the open disrupting incidents are looked up by the statement itself.
    """
    silent = (ServiceReport.last_reported_at.is_(None)
              | (ServiceReport.last_reported_at < bindparam("silent_before")))
    return case((disrupting_incident_open(Service.id), "disrupted"),
                (silent, "no_data"),
                (ServiceStatus.service_id.is_(None), "no_data"),
                else_=ServiceStatus.data_status)


@lru_cache(maxsize=8)
def _tally_statement(by: str, one_department: bool) -> Select:
    """Build a counting statement once: a row per (group, shown status), and one per service
    whose stored row has no data status (its id and stored parameters).

    Those rows are told apart by the empty column itself rather than by the shown status
    being NULL, so that the database evaluates the shown status once a service (PostgreSQL
    computes each expression grouped by once, and again in each grouped expression that
    nests it: the incidents' subquery thrice when the ids were keyed on the shown status). A
    service so set apart whose status the database does judge (silent or disrupted now) is
    counted under that status.
    """
    key = getattr(Service, by)
    shown = _shown_status()
    unset = ServiceStatus.data_status.is_(None)
    service_id = case((unset, ServiceStatus.service_id), else_=null())
    params = case((unset, ServiceStatus.reason_params), else_=null())
    stmt = (
        select(key, shown, service_id, params, func.count())
        .select_from(Service)
        .outerjoin(ServiceStatus, ServiceStatus.service_id == Service.id)
        .outerjoin(ServiceReport, ServiceReport.service_id == Service.id)
        .group_by(key, shown, service_id, params)
    )
    if one_department:
        stmt = stmt.where(Service.department_id == bindparam("department_id"))
    return stmt


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
    stmt = _tally_statement(by, department_id is not None)
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
