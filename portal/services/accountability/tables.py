"""Accountability figures for the DPRD and citizens: every department side by side.

For a period of WIB dates from..to inclusive, per department and for the province:

- services by current work mode;
- ``completed`` (requests completed in the period) and their pooled median completion hours
  (merged completion-time histograms, never an average of medians); ``due`` (requests whose
  due date is in the period and that have fallen due), ``on_time`` and the pooled
  ``on_time_rate`` = on_time / due (sums of the services' counts, never an average of rates),
  exactly as the service metrics define them: a request nobody closes counts as late;
- services breaching and the count of each status, by their current status (the status is
  always evaluated now over the last 30 days, docs/definitions.md "Service status");
- feedback-handling figures (:mod:`portal.services.feedback.figures`);
- the satisfaction index (IKM) with its grade, from 30 responses in the period;
- the pooled WFA impact (:mod:`portal.services.metrics.wfa_impact`), which has its own fixed windows
  around each service's move and does not depend on the period: the due requests of the
  services that moved and have a verdict of their own, each around its own date of change,
  with the comparison group of services that stayed on-site when they all moved on one date
  (the module explains why not otherwise). A department's comparison group is its own on-site
  services when they have enough due requests, else the province's; the province's is the
  province's.

Everything is read with a handful of grouped queries, whatever the number of departments,
services or days. At a province's scale that is still seconds of work, so the figures of the
standard periods (the last 30, 90 and 365 days) are computed by the jobs that change the data
(:func:`accountability_refresh`: after a department's report, ``requests recompute`` and the
10-minute ``status refresh``) and stored (:mod:`portal.services.accountability.snapshots`):
a visitor reads one row. A custom period, or a standard one no job has stored yet today
(after a deployment or at midnight, until the next refresh), is computed when asked and not
stored: a visit only reads, so any replica can serve it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import to_wib, utc_now, wib_date
from portal.extensions import db
from portal.i18n import localized
from portal.models.catalogue import WORK_MODES, Department, Service
from portal.models.metrics import SERVICE_STATUSES, ServiceDay, ServiceReport
from portal.services.accountability.snapshots import snapshot_read, snapshot_store
from portal.services.errors import FieldError, NotFound, ValidationError
from portal.services.feedback.figures import PROVINCE, FeedbackFigures, feedback_figures
from portal.services.metrics.figures import (
    MAX_WINDOW_DAYS,
    MEDIAN,
    due_totals,
    histogram_accumulate,
    histogram_from_totals,
    histogram_percentile,
)
from portal.services.metrics.status import StatusView, status_for_services
from portal.services.metrics.wfa_impact import (
    PooledWfaImpact,
    WfaFigures,
    WfaImpact,
    wfa_figures,
)
from portal.services.survey.skm import IkmResult, ikm_by

# Longest period the pages and the API accept: the metrics window's limit (a leap year).
MAX_PERIOD_DAYS = MAX_WINDOW_DAYS
# The periods offered by the selector, in days ending today; "custom" takes from/to dates.
PERIOD_CHOICES = ("30", "90", "365", "custom")
DEFAULT_PERIOD = "90"


@dataclass
class RequestCounts:
    """Requests over a period, pooled over some services: completed ones, and those due."""

    completed: int = 0
    # Completion times of the requests completed in the period (the median's list).
    histogram: Counter[int] = field(default_factory=Counter, repr=False)
    due: int = 0
    on_time: int = 0

    # The median of the histogram as last computed, kept because pages read it several times
    # and a province's histogram has thousands of keys to sort; ``add`` forgets it.
    _median: tuple[float | None] | None = field(default=None, init=False, repr=False,
                                               compare=False)

    def add(self, other: RequestCounts) -> None:
        """Pool another group's counts and histogram into these."""
        if other.completed and not other.histogram:
            # Stored figures keep their median, not the completion times it came from.
            raise ValueError("counts without their completion times cannot be pooled")
        self.completed += other.completed
        self.histogram.update(other.histogram)
        self.due += other.due
        self.on_time += other.on_time
        self._median = None

    @property
    def on_time_rate(self) -> float | None:
        """on_time / due, None when nothing fell due."""
        return self.on_time / self.due if self.due else None

    @property
    def median_completion_hours(self) -> float | None:
        """Nearest-rank median of the pooled completion times, in hours."""
        if self._median is None:
            seconds = histogram_percentile(self.histogram, MEDIAN)
            self._median = (None if seconds is None else seconds / 3600,)
        return self._median[0]


class ServiceName(NamedTuple):
    """A service as a list of figures names it: its code and its names.

    What the pages, the API and the downloads show of a service breaching its commitment; a
    stored table names hundreds, a whole catalogue row each would be most of what is read.
    """

    code: str
    name_id: str
    name_en: str


@dataclass
class Scorecard:
    """One department's figures (``department`` None: the whole province)."""

    department: Department | None
    services: int
    by_mode: dict[str, int]
    requests: RequestCounts
    status_counts: dict[str, int]
    breaching: list[ServiceName]
    feedback: FeedbackFigures
    ikm: IkmResult
    wfa: PooledWfaImpact | None

    def as_json(self, lang: str | None = None) -> dict:
        """Return the API object of the row (rates to 0.0001, hours to 0.01)."""
        data: dict = {}
        if self.department is not None:
            data["code"] = self.department.code
            data["name"] = localized(self.department, "name", lang).text
        rate = self.requests.on_time_rate
        hours = self.requests.median_completion_hours
        data.update({
            "services": self.services,
            "services_by_work_mode": dict(self.by_mode),
            "completed": self.requests.completed,
            "due": self.requests.due,
            "on_time": self.requests.on_time,
            "on_time_rate": None if rate is None else round(rate, 4),
            "median_completion_hours": None if hours is None else round(hours, 2),
            "services_breaching": [s.code for s in self.breaching],
            "status_counts": dict(self.status_counts),
            "feedback": self.feedback.as_json(),
            "ikm": self.ikm.as_json(),
            "wfa_impact": None if self.wfa is None else self.wfa.as_json(),
        })
        return data


@dataclass
class AccountabilityTable:
    """Every department's scorecard and the province's, over a period."""

    from_date: date
    to_date: date
    generated_at: datetime
    data_as_of: datetime | None
    departments: list[Scorecard]
    province: Scorecard

    def as_json(self, lang: str | None = None) -> dict:
        """Return the body of GET /api/v1/accountability."""
        return {
            "from": self.from_date.isoformat(),
            "to": self.to_date.isoformat(),
            "generated_at": to_wib(self.generated_at).isoformat(timespec="seconds"),
            "data_as_of": to_wib(self.data_as_of).isoformat(timespec="seconds")
            if self.data_as_of else None,
            "departments": [row.as_json(lang) for row in self.departments],
            "province": self.province.as_json(lang),
        }


@dataclass
class ServiceRow:
    """One service of a department's scorecard."""

    service: Service
    requests: RequestCounts
    status: StatusView
    ikm: IkmResult
    wfa: WfaImpact | None


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a service's work mode or commitment: who, when, from what to what."""

    service: Service
    kind: str  # "work_mode" or "commitment"
    effective_from: date | None
    recorded_at: datetime
    recorded_by: str
    before: object | None
    after: object
    reason: str


@dataclass
class DepartmentScorecard:
    """A department's scorecard down to each service, with the histories of change."""

    from_date: date
    to_date: date
    generated_at: datetime
    data_as_of: datetime | None
    scorecard: Scorecard
    services: list[ServiceRow]
    history: list[HistoryEntry]


def _request_counts(
    service_ids: Iterable[int], from_date: date, to_date: date, now: datetime
) -> dict[int, RequestCounts]:
    """Return each service's completed and due requests over the period.

    From the daily aggregates: the completions with their completion times (one row per
    service and day with a completion), and the due and on-time counts as the service metrics
    count them, summed by the database (what fell due today so far comes from the requests).
    """
    ids = list(service_ids)
    result: dict[int, RequestCounts] = defaultdict(RequestCounts)
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    # Core rows through the session's connection: cheaper than the ORM's result handling.
    connection = db.session.connection()
    for start in range(0, len(ids), 900):
        stmt = select(
            ServiceDay.service_id, ServiceDay.completed, ServiceDay.completion_histogram,
        ).where(
            ServiceDay.service_id.in_(ids[start:start + 900]),
            ServiceDay.day >= from_date,
            ServiceDay.day <= to_date,
            ServiceDay.completed > 0,
        )
        result_rows = connection.execute(stmt.execution_options(yield_per=5000))
        for rows in result_rows.partitions():
            for service_id, completed, histogram in rows:
                result[service_id].completed += completed
                histogram_accumulate(totals[service_id], histogram)
    for service_id, service_totals in totals.items():
        result[service_id].histogram = histogram_from_totals(service_totals)
    for service_id, (due, on_time) in due_totals(ids, from_date, to_date, now).items():
        result[service_id].due += due
        result[service_id].on_time += on_time
    return result


def data_as_of() -> datetime | None:
    """Return when a department last reported on any service (the data's freshness)."""
    return db.session.scalar(select(func.max(ServiceReport.last_reported_at)))


def _scorecard(
    department: Department | None,
    services: list[Service],
    shared: _Shared,
    counts: dict[int, RequestCounts],
    feedback: FeedbackFigures,
    ikm: IkmResult,
    wfa: PooledWfaImpact | None,
) -> Scorecard:
    by_mode = dict.fromkeys(WORK_MODES, 0)
    status_counts = dict.fromkeys(SERVICE_STATUSES, 0)
    requests = RequestCounts()
    breaching = []
    for service in services:
        by_mode[service.work_mode] = by_mode.get(service.work_mode, 0) + 1
        status = shared.statuses[service.id].status
        status_counts[status] += 1
        if status == "breaching":
            breaching.append(shared.name_of(service))
        if service.id in counts:
            requests.add(counts[service.id])
    return Scorecard(department, len(services), by_mode, requests, status_counts, breaching,
                     feedback, ikm, wfa)


def check_period(from_date: date, to_date: date) -> None:
    """Refuse a period that ends before it starts or spans more than MAX_PERIOD_DAYS."""
    if to_date < from_date:
        raise ValueError("to_date is before from_date")
    if (to_date - from_date).days + 1 > MAX_PERIOD_DAYS:
        raise ValueError("the period spans more than a year")


def period_resolve(
    period: str | None, from_text: str | None, to_text: str | None, today: date | None = None
) -> tuple[str, date, date]:
    """Return (period key, from, to) for a selector choice or custom WIB dates.

    A known number of days ends today. Custom dates (YYYY-MM-DD) must be valid, not in the
    future, in order and at most MAX_PERIOD_DAYS apart; given dates without a period mean
    custom. Raises ValidationError with translated messages.
    """
    today = today or wib_date(utc_now())
    if not period and (from_text or to_text):
        period = "custom"
    if period not in PERIOD_CHOICES:
        period = DEFAULT_PERIOD
    if period != "custom":
        return period, today - timedelta(days=int(period) - 1), today
    errors: list[FieldError] = []
    dates = {}
    for name, text in (("from", from_text), ("to", to_text)):
        text = (text or "").strip()
        if not text:
            errors.append(FieldError(name, _("Enter a date, written YYYY-MM-DD."), code="required"))
            continue
        try:
            dates[name] = date.fromisoformat(text)
        except ValueError:
            errors.append(FieldError(name, _("This is not a date: write it as YYYY-MM-DD."),
                                     code="invalid_format"))
            continue
        if dates[name] > today:
            errors.append(FieldError(name, _("The date must not be in the future."),
                                     code="out_of_range"))
    if not errors:
        if dates["to"] < dates["from"]:
            errors.append(FieldError("to", _("The end date must be on or after the start "
                                             "date."), code="out_of_range"))
        elif (dates["to"] - dates["from"]).days + 1 > MAX_PERIOD_DAYS:
            errors.append(FieldError("to", _("The period may span at most %(n)d days.",
                                             n=MAX_PERIOD_DAYS), code="out_of_range"))
    if errors:
        raise ValidationError(errors)
    return period, dates["from"], dates["to"]


@dataclass
class _Shared:
    """What every period's figures share: the catalogue, statuses and WFA impacts, as of now."""

    now: datetime
    departments: list[Department]
    services: list[Service]
    statuses: dict[int, StatusView]
    wfa: WfaFigures

    # Each service's name, made once: a department's scorecard and the province's name the
    # same breaching services (one object each, stored once).
    names: dict[int, ServiceName] = field(default_factory=dict)

    def services_of(self, department_id: int) -> list[Service]:
        """Return a department's services, by name."""
        return [s for s in self.services if s.department_id == department_id]

    def name_of(self, service: Service) -> ServiceName:
        """Return a service's code and names."""
        name = self.names.get(service.id)
        if name is None:
            name = self.names[service.id] = ServiceName(service.code, service.name_id,
                                                        service.name_en)
        return name


def _shared(departments: list[Department], now: datetime, *, histories: bool = False) -> _Shared:
    """Read the services of some departments, their statuses and every WFA impact."""
    department_ids = [d.id for d in departments]
    stmt = (select(Service).where(Service.department_id.in_(department_ids))
            .order_by(Service.name_id))
    if histories:
        stmt = stmt.options(selectinload(Service.work_mode_history),
                            selectinload(Service.commitment_history))
    services = list(db.session.scalars(stmt)) if department_ids else []
    service_ids = [s.id for s in services]
    statuses = status_for_services(service_ids, now=now)
    groups: dict = {d.id: (d.id, [s.id for s in services if s.department_id == d.id])
                    for d in departments}
    groups[PROVINCE] = (None, service_ids)
    return _Shared(now, departments, services, statuses, wfa_figures(groups, now=now))


def _build(
    departments: list[Department], from_date: date, to_date: date, now: datetime | None,
    shared: _Shared | None = None,
) -> tuple[list[Scorecard], Scorecard, dict[int, RequestCounts], dict[int, StatusView],
           dict[int, WfaImpact]]:
    check_period(from_date, to_date)
    if shared is None:
        shared = _shared(departments, now or utc_now())
    now = shared.now
    department_ids = [d.id for d in departments]
    services = shared.services
    by_department: dict[int, list[Service]] = defaultdict(list)
    for service in services:
        by_department[service.department_id].append(service)
    service_ids = [s.id for s in services]
    counts = _request_counts(service_ids, from_date, to_date, now)
    statuses = shared.statuses
    feedback = feedback_figures(department_ids, from_date, to_date, now=now)
    groups: dict = {d.id: [s.id for s in by_department[d.id]] for d in departments}
    groups[PROVINCE] = service_ids
    ikm = ikm_by(groups, from_date, to_date)
    wfa = shared.wfa
    rows = [
        _scorecard(d, by_department[d.id], shared, counts, feedback[d.id], ikm[d.id],
                   wfa.pooled[d.id])
        for d in departments
    ]
    province = _scorecard(None, services, shared, counts, feedback[PROVINCE],
                          ikm[PROVINCE], wfa.pooled[PROVINCE])
    for scorecard in (*rows, province):
        # The pooled median is read by pages several times: computed once, here.
        scorecard.requests.median_completion_hours  # noqa: B018
    return rows, province, counts, statuses, wfa.impacts


def _standard_period(from_date: date, to_date: date, now: datetime | None) -> str | None:
    """Return the period choice ("30", "90", "365") that from..to is today, else None.

    Only those are stored, and only figures as of now are read from them (an explicit
    ``now`` computes).
    """
    if now is not None or not current_app.config.get("PORTAL_ACCOUNTABILITY_SNAPSHOTS", True):
        return None
    today = wib_date(utc_now())
    if to_date != today:
        return None
    days = str((to_date - from_date).days + 1)
    return days if days in PERIOD_CHOICES else None


def accountability_table(
    from_date: date, to_date: date, now: datetime | None = None
) -> AccountabilityTable:
    """Return every department's scorecard and the province totals over a period.

    A standard period's figures come from the stored snapshot (as of its ``generated_at``)
    when there is one; otherwise they are computed, and only :func:`accountability_refresh`
    stores them.
    """
    period = _standard_period(from_date, to_date, now)
    if period is not None:
        stored = snapshot_read(f"table:{period}", from_date, to_date)
        if stored is not None:
            return stored
    departments = list(db.session.scalars(select(Department).order_by(Department.name_id)))
    now = now or utc_now()
    rows, province, _c, _s, _impacts = _build(departments, from_date, to_date, now)
    return AccountabilityTable(from_date, to_date, now, data_as_of(), rows, province)


def _slim(figures: AccountabilityTable | DepartmentScorecard) -> None:
    """Drop the completion-time histograms of figures whose medians are computed.

    The pages read the medians only, and a province's histograms would make a stored table
    many times larger and slower to read.
    """
    if isinstance(figures, AccountabilityTable):
        counts = [row.requests for row in (*figures.departments, figures.province)]
    else:
        counts = [figures.scorecard.requests, *(row.requests for row in figures.services)]
    for requests in counts:
        requests.median_completion_hours  # noqa: B018  (kept once computed)
        requests.histogram = Counter()


def _store(entries: list[tuple[str, date, date, object]], now: datetime) -> bool:
    """Store snapshots (the caller commits); see snapshot_store."""
    for _key, _from, _to, figures in entries:
        _slim(figures)  # type: ignore[arg-type]
    return snapshot_store(entries, now)


def _history(services: list[Service]) -> list[HistoryEntry]:
    """Return every work-mode and commitment change of some services, newest first."""
    entries: list[HistoryEntry] = []
    for service in services:
        modes = sorted(service.work_mode_history,
                       key=lambda c: (c.effective_from or date.min, c.id))
        for previous, change in zip([None, *modes], modes, strict=False):
            entries.append(HistoryEntry(
                service, "work_mode", change.effective_from, change.recorded_at,
                change.recorded_by, previous.work_mode if previous else None, change.work_mode,
                change.reason,
            ))
        commitments = sorted(service.commitment_history,
                             key=lambda c: (c.effective_from or date.min, c.id))
        for previous, change in zip([None, *commitments], commitments, strict=False):
            entries.append(HistoryEntry(
                service, "commitment", change.effective_from, change.recorded_at,
                change.recorded_by, previous, change, change.reason,
            ))
    entries.sort(key=lambda e: (e.effective_from or date.min, e.recorded_at), reverse=True)
    return entries


def accountability_department(
    code: str, from_date: date, to_date: date, now: datetime | None = None,
) -> DepartmentScorecard:
    """Return one department's scorecard down to each service, with the change histories.

    A standard period's scorecard comes from the stored snapshot when there is one; otherwise
    it is computed, not stored (see :func:`accountability_table`).
    """
    period = _standard_period(from_date, to_date, now)
    if period is not None:
        stored = snapshot_read(f"department:{code}:{period}", from_date, to_date)
        if stored is not None:
            return stored
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(code)
    now = now or utc_now()
    shared = _shared([department], now, histories=True)
    rows, _province, counts, statuses, impacts = _build(
        [department], from_date, to_date, now, shared)
    ikm = ikm_by({s.id: [s.id] for s in shared.services}, from_date, to_date)
    return _department_scorecard(rows[0], shared.services, counts, statuses, impacts, ikm,
                                 from_date, to_date, now, data_as_of())


def _department_scorecard(
    scorecard: Scorecard, services: list[Service], counts: dict[int, RequestCounts],
    statuses: dict[int, StatusView], impacts: dict[int, WfaImpact], ikm: dict,
    from_date: date, to_date: date, now: datetime, as_of: datetime | None,
) -> DepartmentScorecard:
    service_rows = [
        ServiceRow(s, counts.get(s.id, RequestCounts()), statuses[s.id], ikm[s.id],
                   impacts.get(s.id))
        for s in services
    ]
    for row in service_rows:
        row.requests.median_completion_hours  # noqa: B018  (computed once, read often)
    return DepartmentScorecard(from_date, to_date, now, as_of, scorecard, service_rows,
                               _history(services))


# Sent after a job (not a web worker) stored the figures anew: the web layer renders the
# PDF reports whose content changed (portal/web/accountability/prepare.py).
accountability_stored = Namespace().signal("accountability-stored")


def accountability_refresh(now: datetime | None = None, *, by_job: bool = True) -> int:
    """Compute and store the table and every department's scorecard of each standard period.

    The catalogue, the statuses and the WFA impacts are read once for all of them. Commits;
    returns how many snapshots were stored (0 when another refresh was storing at the time).
    ``by_job`` is False when a web worker refreshes after a report: it stores the figures
    but leaves the reports' PDFs to the next job.
    """
    now = now or utc_now()
    today = wib_date(now)
    departments = list(db.session.scalars(select(Department).order_by(Department.name_id)))
    shared = _shared(departments, now, histories=True)
    as_of = data_as_of()
    entries: list[tuple[str, date, date, object]] = []
    for period in PERIOD_CHOICES:
        if period == "custom":
            continue
        from_date = today - timedelta(days=int(period) - 1)
        rows, province, counts, statuses, impacts = _build(
            departments, from_date, today, now, shared)
        entries.append((f"table:{period}", from_date, today,
                        AccountabilityTable(from_date, today, now, as_of, rows, province)))
        ikm = ikm_by({s.id: [s.id] for s in shared.services}, from_date, today)
        for department, row in zip(departments, rows, strict=True):
            card = _department_scorecard(
                row, shared.services_of(department.id), counts, statuses, impacts, ikm,
                from_date, today, now, as_of)
            entries.append((f"department:{department.code}:{period}", from_date, today, card))
    stored = _store(entries, now)
    db.session.commit()
    if stored and by_job:
        accountability_stored.send(current_app._get_current_object())
    return len(entries) if stored else 0


__all__ = [
    "DEFAULT_PERIOD",
    "MAX_PERIOD_DAYS",
    "PERIOD_CHOICES",
    "AccountabilityTable",
    "RequestCounts",
    "DepartmentScorecard",
    "ServiceName",
    "HistoryEntry",
    "Scorecard",
    "ServiceRow",
    "accountability_department",
    "accountability_refresh",
    "accountability_stored",
    "accountability_table",
    "check_period",
    "data_as_of",
    "period_resolve",
]
