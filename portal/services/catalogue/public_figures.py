"""What the public pages show of service-level metrics: figures, charts, overviews, freshness.

Every figure comes from the metrics and status services (the rules are applied there, once).
A service page is anchored at its status's ``computed_at``: the 30-day figures are the
snapshot the status was judged on, the 90-day figures, the daily bar and the WFA trend end on
the same WIB day and take backlog at the same instant, so the whole page is one consistent
picture, "updated N minutes ago". Lists read the stored status table in one query, never the
metrics of each row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Select, TextClause, bindparam, func, select, text

from portal.domain.calendar import UTC, utc_now, wib_date
from portal.extensions import db
from portal.models.catalogue import (
    WORK_MODES,
    CommitmentChange,
    Department,
    Service,
    SiteSetting,
    WorkModeChange,
)
from portal.models.incidents import AvailabilityCheck, Incident, IncidentUpdate, Maintenance
from portal.models.metrics import SERVICE_STATUSES, ServicePageFigures, ServiceStatus
from portal.models.users import AuditEntry
from portal.services.catalogue.directory import CATALOGUE_VERSION_KEY, DEMO_DATA_KEY
from portal.services.catalogue.tallies import status_tallies
from portal.services.metrics.figures import DayPoint, ServiceDays
from portal.services.metrics.incidents import (
    incident_list,
    maintenance_exists,
    maintenance_list,
    open_incident_exists,
)
from portal.services.metrics.page_figures import (
    DAILY_BAR_DAYS,
    LONG_WINDOW_DAYS,
    WfaTrend,
    page_figures_decode,
    trend_start,
    wfa_trend,
)
from portal.services.metrics.status import (
    STATUS_WINDOW_DAYS,
    StatusView,
    build_shown_statuses,
    shown_status_query,
)
from portal.services.metrics.wfa_impact import WorkModeMove, latest_move

# The windows a service page shows, in days ending on its anchor day.
FIGURE_WINDOWS = (STATUS_WINDOW_DAYS, LONG_WINDOW_DAYS)


@dataclass(frozen=True)
class ServiceFigures:
    """Everything the metrics part of a service page shows, as of one instant."""

    service: Service
    status: StatusView
    as_of: datetime
    computed: bool
    last_reported_at: datetime | None
    windows: list[dict]
    daily: list[DayPoint]
    trend: WfaTrend | None
    incidents: list[Incident]
    maintenance: list[Maintenance]

    @property
    def stopped_reporting(self) -> bool:
        """Tell whether the department's silence made the data status ``no_data``."""
        return self.status.reason_params.get("data_status", "no_data") == "no_data"

    @property
    def now_figures(self) -> dict:
        """Return the figures of the shortest window (backlog and overdue are the same)."""
        return self.windows[0]


def service_figures(service: Service, now: datetime | None = None) -> ServiceFigures:
    """Gather a service page's figures as of its status evaluation (or now, if none yet).

    The status, the last report, the page's figures stored with the status and whether
    there are open incidents or current maintenance come from one statement; the incidents
    and maintenance are listed only when it says there are some. The 90-day figures, the
    daily bar and the WFA trend are those stored with the status
    (portal/services/metrics/page_figures.py) when they can be used, else computed from one
    read of the days they cover (:class:`~portal.services.metrics.figures.ServiceDays`).
    """
    listed_at = utc_now()
    row = db.session.execute(_status_notices_statement(),
                             {"service_id": service.id, "now": listed_at}).one()
    # The status as status_with_report builds it, from the same row.
    view, last_reported_at = build_shown_statuses([service.id], {service.id: row},
                                                  listed_at)[service.id]
    incidents, maintenance = row.open_incidents, row.current_maintenance
    computed = view.computed_at is not None and bool(view.metrics)
    as_of = (view.computed_at if computed else (now or utc_now())).astimezone(UTC)
    # The move is the one docs/definitions.md's WFA impact compares around (one rule, one place).
    move = latest_move(service.work_mode_history)
    stored = page_figures_decode(row.page_figures, as_of, move) if computed else None
    if stored is not None:
        windows = [{**view.metrics, "days": STATUS_WINDOW_DAYS}, stored.window]
        daily, trend = stored.daily, stored.trend
    else:
        windows, daily, trend = _computed_figures(service, view, computed, as_of, move)
    return ServiceFigures(
        service=service,
        status=view,
        as_of=as_of,
        computed=computed,
        last_reported_at=last_reported_at,
        windows=windows,
        daily=daily,
        trend=trend,
        incidents=incident_list(service=service, include_resolved=False) if incidents else [],
        maintenance=(maintenance_list(service=service, when="current", now=listed_at)
                     if maintenance else []),
    )


def _computed_figures(
    service: Service, view: StatusView, computed: bool, as_of: datetime,
    move: WorkModeMove | None,
) -> tuple[list[dict], list[DayPoint], WfaTrend | None]:
    """Compute a page's windows, daily bar and WFA trend ending on ``as_of``'s WIB day from
    one read of the days they cover (the 30-day window is the status's when computed)."""
    end = wib_date(as_of)
    start = trend_start(move, end)
    window_start = end - timedelta(days=max(FIGURE_WINDOWS) - 1)
    first = min(window_start, end - timedelta(days=DAILY_BAR_DAYS - 1), start or end)
    days = ServiceDays.read(service, first, end, as_of, histograms_from=window_start)
    windows = []
    for length in FIGURE_WINDOWS:
        if length == STATUS_WINDOW_DAYS and computed:
            windows.append({**view.metrics, "days": length})
            continue
        metrics = days.metrics(end - timedelta(days=length - 1), end)
        windows.append({**metrics.as_json(), "days": length})
    trend = None
    if move is not None and start is not None:
        trend = wfa_trend(move, start, end, days)
    return windows, days.points(end - timedelta(days=DAILY_BAR_DAYS - 1), end), trend


@lru_cache(maxsize=1)
def _status_notices_statement() -> Select:
    """Build the statement of a service page's status once, its values bound when it runs:
    the row status_with_report reads, the page figures stored with the status (their own
    table's row, in a subquery), and whether
    the service has an open incident and whether it has current maintenance (what its page
    lists)."""
    service_id = bindparam("service_id")
    now = bindparam("now", type_=Maintenance.ends_at.type)
    return shown_status_query().add_columns(
        select(ServicePageFigures.figures)
        .where(ServicePageFigures.service_id == service_id)
        .scalar_subquery().label("page_figures"),
        open_incident_exists(service_id).label("open_incidents"),
        maintenance_exists("current", now, service_id).label("current_maintenance"),
    ).where(Service.id == service_id)


@dataclass(frozen=True)
class ProvinceOverview:
    """The home page's picture of the province: status counts by work mode, disruptions."""

    by_mode: dict[str, dict[str, int]]
    totals: dict[str, int]
    oldest_computed_at: datetime | None
    incidents: list[Incident]
    maintenance: list[Maintenance]

    @property
    def services_by_mode(self) -> dict[str, int]:
        """Count services by work mode (each is counted once, under its shown status)."""
        return {mode: sum(counts.values()) for mode, counts in self.by_mode.items()}


def oldest_status_time() -> datetime | None:
    """Return when the least recently evaluated stored status was computed."""
    return db.session.scalar(_oldest_statement())


@lru_cache(maxsize=1)
def _oldest_statement() -> Select:
    """Build oldest_status_time's statement once (it has no values)."""
    return select(func.min(ServiceStatus.computed_at))


@lru_cache(maxsize=1)
def _overview_statement() -> Select:
    """Build the home page's statement once, its time bound when it runs: the oldest status
    evaluation, whether an incident is open and whether maintenance is ongoing."""
    now = bindparam("now", type_=Maintenance.ends_at.type)
    return select(_oldest_statement().scalar_subquery(), open_incident_exists(),
                  maintenance_exists("ongoing", now))


def province_overview() -> ProvinceOverview:
    """Count services by status and work mode, and list what is disrupted now.

    The incidents and maintenance are listed only when the statement reading the oldest
    status evaluation finds some (usually there are none).
    """
    # Counted by the database, each stored status as status_counts shows it.
    counted = status_tallies("work_mode", reevaluate_stale=False)
    by_mode = {mode: counted.pop(mode, dict.fromkeys(SERVICE_STATUSES, 0)) for mode in WORK_MODES}
    by_mode.update(counted)
    totals: dict[str, int] = {}
    for counts in by_mode.values():
        for status, n in counts.items():
            totals[status] = totals.get(status, 0) + n
    now = utc_now()
    oldest, incidents, maintenance = db.session.execute(
        _overview_statement(), {"now": now}).one()
    return ProvinceOverview(
        by_mode=by_mode,
        totals=totals,
        oldest_computed_at=oldest,
        incidents=incident_list(include_resolved=False, limit=20) if incidents else [],
        maintenance=maintenance_list(when="ongoing", now=now, limit=20) if maintenance else [],
    )


# Freshness -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _data_version_sql() -> TextClause:
    """Build the data-version statement once: plain SQL, portable, no per-call compiling."""
    def most(model, column: str) -> str:
        return f"(SELECT max({column}) FROM {model.__tablename__})"

    def count(model) -> str:
        return f"(SELECT count(*) FROM {model.__tablename__})"

    parts = [
        most(ServiceStatus, "computed_at"), count(ServiceStatus),
        most(Service, "id"), count(Service), most(Department, "id"),
        most(WorkModeChange, "id"), most(CommitmentChange, "id"), most(AuditEntry, "id"),
        most(Incident, "id"), most(IncidentUpdate, "id"), most(Maintenance, "id"),
        most(AvailabilityCheck, "id"), count(SiteSetting),
        f"(SELECT max(value) FROM {SiteSetting.__tablename__} WHERE key = :catalogue_key)",
        f"(SELECT count(*) FROM {SiteSetting.__tablename__} WHERE key = :demo_key)",
    ]
    return text("SELECT " + ", ".join(parts)).bindparams(
        catalogue_key=CATALOGUE_VERSION_KEY, demo_key=DEMO_DATA_KEY)


@dataclass(frozen=True)
class PublicDataVersion:
    """The public data version, and (read by the same statement) whether demo data is loaded."""

    digest: str
    demo_data: bool


def public_data_version() -> PublicDataVersion:
    """Return a short digest that changes whenever anything a public page shows changes.

    One statement of maxima and counts: statuses (recomputed on ingest and by the periodic
    refresh), catalogue rows and histories, staff edits (audited), catalogue imports,
    incidents and their updates, maintenance, availability checks and site settings. Time
    alone changes pages too ("updated N minutes ago", maintenance starting): page caches
    expire as well. The same statement tells whether demo data is loaded, which every page
    header shows: one statement instead of two.
    """
    row = tuple(db.session.execute(_data_version_sql()).one())
    return PublicDataVersion(
        hashlib.sha1(repr(row).encode(), usedforsecurity=False).hexdigest()[:16],
        bool(row[-1]))


__all__ = [
    "FIGURE_WINDOWS",
    "ProvinceOverview",
    "PublicDataVersion",
    "ServiceFigures",
    "WfaTrend",
    "oldest_status_time",
    "province_overview",
    "public_data_version",
    "service_figures",
]
