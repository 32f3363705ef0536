"""Disruptions as open data: incidents, planned maintenance, and daily availability.

Incidents and maintenance are listed as their public pages show them (titles and texts in
both languages, the services named); who opened or declared them (a staff account) is never
published. Availability is given per service and WIB day, counted exactly as the metrics count
it (docs/definitions.md, "Availability"): checks during a planned maintenance window of the
service are left out of both counts, and given apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.domain.calendar import wib_date, wib_midnight
from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.incidents import (
    INCIDENT_IMPACTS,
    INCIDENT_STATES,
    AvailabilityCheck,
    Incident,
    Maintenance,
    incident_service,
    maintenance_service,
)
from portal.services.metrics.figures import ONE_DAY
from portal.services.opendata.catalogue import DEPARTMENT_KEY, SERVICE_CODE, SERVICE_KEY
from portal.services.opendata.keyset import batched, keyset_rows, span_per_service
from portal.services.opendata.performance import last_complete_day, rate
from portal.services.opendata.schema import PAGE_ROWS, Dataset, Field, Selection


class wib_day(FunctionElement):  # noqa: N801  (named like the SQL function it stands for)
    """The WIB date of a stored UTC timestamp, computed by the database (for GROUP BY).

    WIB is UTC+7 all year, so the date is the UTC time plus seven hours; each database has
    its own words for that.
    """

    type = Date()
    name = "wib_day"
    inherit_cache = True


@compiles(wib_day, "sqlite")
def _wib_day_sqlite(element: wib_day, compiler: Any, **kw: Any) -> str:
    # SQLite keeps naive UTC text ("2025-08-15 03:00:00.000000").
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


@compiles(wib_day)
def _wib_day_default(element: wib_day, compiler: Any, **kw: Any) -> str:
    # PostgreSQL: a timestamp with time zone, read in Asia/Jakarta.
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'Asia/Jakarta') AS DATE)"


def _window(selection: Selection) -> tuple[datetime | None, datetime | None]:
    """Return [from 00:00 WIB, to+1 00:00 WIB) of a selection (None where open-ended)."""
    start = wib_midnight(selection.from_date) if selection.from_date else None
    end = wib_midnight(selection.to_date + ONE_DAY) if selection.to_date else None
    return start, end


def _services_named(link_owner: Any, owner_ids: list[int]) -> dict[int, str]:
    """Return, per incident (or maintenance) id, its services' codes by code, space-separated.

    ``link_owner`` is the id column of the table linking them to services.
    """
    named: dict[int, list[str]] = defaultdict(list)
    link = link_owner.table
    stmt = (select(link_owner, Service.code).join(Service, Service.id == link.c.service_id)
            .where(link_owner.in_(owner_ids)).order_by(link_owner, Service.code))
    for owner_id, code in db.session.execute(stmt):
        named[owner_id].append(code)
    return {owner_id: " ".join(codes) for owner_id, codes in named.items()}


def _naming(link_owner: Any, own_id: Any, service_ids: tuple[int, ...]) -> Any:
    """Return the condition "names one of these services" on an incident or maintenance."""
    link = link_owner.table
    return own_id.in_(select(link_owner).where(link.c.service_id.in_(service_ids)))


_SERVICE_CODES = Field("service_codes", "string", _l(
    "The codes of the services concerned, separated by spaces."), required=True)


# Incidents -----------------------------------------------------------------------------------


def incident_rows(selection: Selection) -> Iterator[tuple]:
    """Yield every incident that overlaps the dates and names a selected service, by number."""
    stmt = select(
        Incident.id, Incident.title_id, Incident.title_en, Incident.impact, Incident.state,
        Incident.started_at, Incident.resolved_at, Department.code,
    ).outerjoin(Department, Department.id == Incident.department_id)
    if selection.service_ids is not None:
        stmt = stmt.where(_naming(incident_service.c.incident_id, Incident.id,
                                  selection.service_ids))
    start, end = _window(selection)
    if end is not None:
        stmt = stmt.where(Incident.started_at < end)
    if start is not None:
        stmt = stmt.where(or_(Incident.resolved_at.is_(None), Incident.resolved_at >= start))
    for page in batched(keyset_rows(stmt, [Incident.id]), PAGE_ROWS):
        codes = _services_named(incident_service.c.incident_id, [row[0] for row in page])
        for row in page:
            yield (*row, codes.get(row[0], ""))


def _first_last(first_column: Any, last_column: Any, now: datetime) -> tuple[date, date] | None:
    """Return the WIB dates of the earliest start and of the latest end (or today)."""
    first, last = db.session.execute(select(func.min(first_column),
                                            func.max(last_column))).one()
    if first is None:
        return None
    return wib_date(first), max(wib_date(now), wib_date(last) if last else wib_date(now))


INCIDENTS = Dataset(
    name="incidents",
    title=_l("Incidents"),
    description=_l(
        "Every disruption of services the departments announced: its title, impact, current "
        "state, when it started and was resolved, and the services concerned. An incident "
        "of major or outage impact makes its services disrupted while it is open."),
    fields=(
        Field("incident_id", "integer", _l("The incident's number, as in its page's address."),
              required=True),
        Field("title_id", "string", _l("The title in Indonesian."), required=True),
        Field("title_en", "string", _l("The title in English; empty when none was given.")),
        Field("impact", "string", _l("How much it disrupts: minor, major or outage."),
              required=True, enum=INCIDENT_IMPACTS),
        Field("state", "string", _l(
            "The state of its latest update: investigating, identified, monitoring or "
            "resolved."), required=True, enum=INCIDENT_STATES),
        Field("started_at", "datetime", _l("When it started (WIB, with its offset)."),
              required=True),
        Field("resolved_at", "datetime", _l(
            "When it was resolved (WIB, with its offset); empty while it is open.")),
        Field("department_code", "string", _l(
            "The department whose services it concerns; empty when it concerns several.")),
        _SERVICE_CODES,
    ),
    primary_key=("incident_id",),
    foreign_keys=(DEPARTMENT_KEY,),
    rows=incident_rows,
    frequency="CONT",
    filters=("service", "department", "from", "to"),
    coverage=lambda now: _first_last(Incident.started_at, Incident.resolved_at, now),
)


# Planned maintenance -------------------------------------------------------------------------


def maintenance_rows(selection: Selection) -> Iterator[tuple]:
    """Yield every maintenance window that overlaps the dates and names a selected service."""
    stmt = select(
        Maintenance.id, Maintenance.title_id, Maintenance.title_en,
        Maintenance.description_id, Maintenance.description_en, Maintenance.starts_at,
        Maintenance.ends_at,
    )
    if selection.service_ids is not None:
        stmt = stmt.where(_naming(maintenance_service.c.maintenance_id, Maintenance.id,
                                  selection.service_ids))
    start, end = _window(selection)
    if end is not None:
        stmt = stmt.where(Maintenance.starts_at < end)
    if start is not None:
        stmt = stmt.where(Maintenance.ends_at > start)
    for page in batched(keyset_rows(stmt, [Maintenance.id]), PAGE_ROWS):
        codes = _services_named(maintenance_service.c.maintenance_id,
                                [row[0] for row in page])
        for row in page:
            yield (*row, codes.get(row[0], ""))


MAINTENANCE = Dataset(
    name="maintenance",
    title=_l("Planned maintenance"),
    description=_l(
        "Every window of planned work the departments announced: its title and description, "
        "its start and end, and the services concerned. Availability checks made during a "
        "window are not counted against the service."),
    fields=(
        Field("maintenance_id", "integer", _l("The maintenance window's number."),
              required=True),
        Field("title_id", "string", _l("The title in Indonesian."), required=True),
        Field("title_en", "string", _l("The title in English; empty when none was given.")),
        Field("description_id", "string", _l("The description in Indonesian.")),
        Field("description_en", "string", _l("The description in English.")),
        Field("starts_at", "datetime", _l("When the window starts (WIB, with its offset)."),
              required=True),
        Field("ends_at", "datetime", _l(
            "When the window ends (WIB, with its offset); the end itself is outside it."),
            required=True),
        _SERVICE_CODES,
    ),
    primary_key=("maintenance_id",),
    rows=maintenance_rows,
    frequency="CONT",
    filters=("service", "department", "from", "to"),
    coverage=lambda now: _first_last(Maintenance.starts_at, Maintenance.ends_at, now),
)


# Availability --------------------------------------------------------------------------------


def _checked_services(selection: Selection, start: datetime | None,
                      end: datetime) -> list[tuple[int, str]]:
    """Return (id, code) of the selected services checked at least once in [start, end), by
    code: one statement that probes each service's (service, time) index, instead of a
    statement per service whether it has an online channel or not."""
    check = AvailabilityCheck
    window = [check.checked_at < end] + ([check.checked_at >= start] if start is not None
                                        else [])
    stmt = (select(Service.id, Service.code)
            .where(exists().where(check.service_id == Service.id, *window))
            .order_by(Service.code))
    if selection.service_ids is not None:
        stmt = stmt.where(Service.id.in_(selection.service_ids))
    return [(service_id, code) for service_id, code in db.session.execute(stmt)]


def availability_rows(selection: Selection) -> Iterator[tuple]:
    """Yield each selected service's checks per WIB day, by service code and date."""
    check = AvailabilityCheck
    last = last_complete_day(selection)
    start, _end = _window(selection)
    end = wib_midnight(last + ONE_DAY)
    if start is not None and start >= end:
        return
    during_maintenance = exists(
        select(maintenance_service.c.maintenance_id)
        .join(Maintenance, Maintenance.id == maintenance_service.c.maintenance_id)
        .where(
            maintenance_service.c.service_id == check.service_id,
            Maintenance.starts_at <= check.checked_at,
            Maintenance.ends_at > check.checked_at,
        )
    )
    day = wib_day(check.checked_at)
    counted_ok = and_(~during_maintenance, check.ok.is_(True))
    for service_id, code in _checked_services(selection, start, end):
        stmt = select(
            day, func.count(), func.sum(case((during_maintenance, 1), else_=0)),
            func.sum(case((counted_ok, 1), else_=0)),
        ).where(check.service_id == service_id, check.checked_at < end)
        if start is not None:
            stmt = stmt.where(check.checked_at >= start)
        rows = db.session.execute(stmt.group_by(day).order_by(day)).all()
        db.session.rollback()  # read-only: end the transaction between services
        for when, total, during, succeeded in rows:
            counted = int(total) - int(during)
            yield (code, when, counted, int(succeeded), int(during),
                   rate(int(succeeded), counted))


def availability_coverage(now: datetime) -> tuple[date, date] | None:
    """Return the WIB dates of the first check and of the last day covered (yesterday)."""
    check = AvailabilityCheck
    first, last = span_per_service(check.service_id, check.checked_at,
                                   check.checked_at < wib_midnight(wib_date(now)))
    return None if last is None else (wib_date(first), wib_date(last))


AVAILABILITY_DAYS = Dataset(
    name="availability_days",
    title=_l("Availability of online channels per day"),
    description=_l(
        "For each service with an online channel and each WIB day it was checked: the "
        "checks the portal made (every 5 minutes), the successful ones, and the share that "
        "succeeded. A check succeeds on an HTTP 2xx or 3xx answer within 10 seconds. The "
        "last row is yesterday's."),
    fields=(
        SERVICE_CODE,
        Field("date", "date", _l("The WIB date."), required=True),
        Field("checks", "integer", _l(
            "Checks made on this day outside the service's planned maintenance."),
            unit="checks", required=True, minimum=0),
        Field("checks_ok", "integer", _l("Of those, the successful ones."), unit="checks",
              required=True, minimum=0),
        Field("checks_during_maintenance", "integer", _l(
            "Checks made during a planned maintenance window of the service: left out of "
            "both counts."), unit="checks", required=True, minimum=0),
        Field("availability", "number", _l(
            "checks_ok divided by checks; empty when no check counted."), unit="fraction",
            minimum=0, maximum=1),
    ),
    primary_key=("service_code", "date"),
    foreign_keys=(SERVICE_KEY,),
    rows=availability_rows,
    frequency="DAILY",
    filters=("service", "department", "from", "to"),
    coverage=availability_coverage,
)
