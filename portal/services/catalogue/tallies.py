"""Services counted by their shown status, the counting done by the database.

The home page, the department list and a department's measures count a thousand services by
the status a reader sees (:mod:`portal.services.metrics.status`: the stored evaluation, with
the incidents open now and the silence of now applied). Reading every stored row and its
JSON to count them cost tens of milliseconds a page; here one statement returns a row per
(group, shown status) instead (and the service list filtered by status, the services shown
so). The rules are those of the status reads, applied in SQL to the stored columns:

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
from collections.abc import Hashable, Iterable
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


def tally_select(key: Any, *aggregates: Any) -> Select:
    """Select services counted by shown status: a row per (``key``, shown status), and one
    per service whose stored row has no data status (its id and stored parameters), each
    row (key, shown status, id, parameters, number of services, *aggregates); the silence's
    limit bound as ``silent_before`` (:func:`silent_before`) when it runs.

    The shown status is NULL where it is judged in Python (:func:`tallies_counted`). The
    services without data status are told apart by the empty column itself rather than by
    the shown status being NULL, so that the database evaluates the shown status once a
    service (PostgreSQL computes each expression grouped by once, and again in each grouped
    expression that nests it: the incidents' subquery thrice when the ids were keyed on the
    shown status). A service so set apart whose status the database does judge (silent or
    disrupted now) is counted under that status. The ``aggregates`` are over the rows of
    Service, ServiceStatus and ServiceReport joined.
    """
    shown = _shown_status()
    unset = ServiceStatus.data_status.is_(None)
    service_id = case((unset, ServiceStatus.service_id), else_=null())
    params = case((unset, ServiceStatus.reason_params), else_=null())
    return (
        select(key, shown, service_id, params, func.count(), *aggregates)
        .select_from(Service)
        .outerjoin(ServiceStatus, ServiceStatus.service_id == Service.id)
        .outerjoin(ServiceReport, ServiceReport.service_id == Service.id)
        .group_by(key, shown, service_id, params)
    )


@lru_cache(maxsize=8)
def _tally_statement(by: str, one_department: bool) -> Select:
    """Build a counting statement by the Service column named ``by`` once (tally_select)."""
    stmt = tally_select(getattr(Service, by))
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
    values: dict[str, Any] = {"silent_before": silent_before(now)}
    if department_id is not None:
        values["department_id"] = department_id
    stmt = _tally_statement(by, department_id is not None)
    return tallies_counted(db.session.execute(stmt, values), now, reevaluate_stale)


def shown_status_kept(stmt: Select) -> Select:
    """Add a select of services (from Service) their shown status, as its last column (NULL:
    judged in Python), and keep the services shown with the status bound as ``status`` and
    those left to Python; ``silent_before`` (:func:`silent_before`) bound too.

    For a list filtered by status: the database judges every service as
    :func:`status_tallies` does, and returns only the rows the filter may keep (no grouping).
    """
    shown = _shown_status()
    status = bindparam("status")
    return (
        stmt.add_columns(shown)
        .outerjoin(ServiceStatus, ServiceStatus.service_id == Service.id)
        .outerjoin(ServiceReport, ServiceReport.service_id == Service.id)
        # One evaluation of the shown status in the filter, not two (``= :status OR IS NULL``).
        .where(func.coalesce(shown, status) == status)
    )


def ids_shown_as(
    rows: Iterable[tuple[int, str | None]], status: str, now: datetime
) -> list[int]:
    """Return the ids of the rows (id, shown status) of a statement so kept
    (:func:`shown_status_kept`) whose services are shown with ``status`` at ``now``, in
    their order: those the database left to Python are judged by ``status_for_services``."""
    rows = list(rows)
    undecided = [service_id for service_id, shown in rows if shown is None]
    views = status_for_services(undecided, now=now) if undecided else {}
    return [service_id for service_id, shown in rows
            if (shown if shown is not None else views[service_id].status) == status]


def silent_before(now: datetime) -> datetime:
    """Return the value of a counting statement's ``silent_before`` for the time ``now``: a
    last report older than that is silence."""
    return now - SILENCE_LIMIT


def tallies_counted(
    rows: Iterable[tuple[Hashable, str | None, int | None, str | None, int]],
    now: datetime,
    reevaluate_stale: bool = True,
) -> dict[Hashable, dict[str, int]]:
    """Count the rows of a counting statement (:func:`tally_select`, without aggregates) as
    :func:`status_tallies` does (its ``now`` and ``reevaluate_stale``)."""
    tallies: dict[Hashable, dict[str, int]] = {}
    undecided_groups: dict[int, Hashable] = {}
    for key, status, service_id, params, n in rows:
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
