"""Each service's status over the last 30 days (docs/definitions.md), stored for lists.

The status is evaluated "now" over the 30 WIB days ending today (``today - 29`` to ``today``
inclusive, the same window as the metrics API's ``from``/``to``), recomputed on every ingest
for the services it touches and for all services by ``flask --app wsgi status refresh``
(run it periodically: silence and passing deadlines change a status without any report).

``disrupted`` depends on incidents, which change without a report: the stored row holds the
status computed at ``computed_at``, and every read overlays the incidents open right now, so
an incident shows at once without a refresh.

Silence is never shown as health, even between refreshes: every read also takes the
service's ``last_reported_at`` (one column, joined in the same query) and shows ``no_data``,
with its reason, when the last report is more than 7 days old or there is none, whatever the
stored row says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import force_locale, format_date, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, insert, select, update

from portal.domain.calendar import UTC, utc_now, wib_date
from portal.extensions import db
from portal.i18n import percent_text, rate_against_target_percent
from portal.models.catalogue import WORK_MODES, Service
from portal.models.metrics import (
    SERVICE_STATUSES,
    ServicePageFigures,
    ServiceReport,
    ServiceStatus,
    ServiceStatusChange,
)
from portal.services.metrics.figures import (
    DueCounts,
    ServiceMetrics,
    due_counts_today,
    metrics_for_service,
)
from portal.services.metrics.incidents import (
    disrupting_incident_open,
    service_ids_disrupted_now,
)
from portal.services.metrics.page_figures import LONG_WINDOW_DAYS, page_figures_many
from portal.services.metrics.reporting import service_last_reported
from portal.services.metrics.status_metrics import metrics_for_services

STATUS_WINDOW_DAYS = 30
SILENCE_LIMIT = timedelta(days=7)
# Fewer requests due in the window than this: not enough to judge the commitment.
MIN_DUE = 10
AT_RISK_MARGIN = 0.10
# Compare rates to targets with this tolerance so that 0.9 - 0.1 is exactly 0.8.
_EPSILON = 1e-9


class StatusView:
    """A service's status as shown: stored evaluation with the incidents open now applied.

    Immutable and compared by value, as a frozen dataclass of ``service_id``, ``status``,
    ``reason_params``, ``metrics`` and ``computed_at`` would be. A list builds dozens of them
    a page and shows none of their ``metrics``: a view built from a stored row keeps that
    JSON text and parses it when ``metrics`` is first read (the service page, the API).
    """

    __slots__ = ("service_id", "status", "reason_params", "computed_at", "_metrics",
                 "_reason_json")

    service_id: int
    status: str
    reason_params: dict
    computed_at: datetime | None

    def __init__(self, service_id: int, status: str, reason_params: dict,
                 metrics: dict | str, computed_at: datetime | None,
                 reason_json: str | None = None) -> None:
        """Hold a view; ``metrics`` may be the stored JSON text, parsed when first read.

        ``reason_json``, when given, is the stored JSON text ``reason_params`` was parsed
        from: the reason sentences are memoised under it (:func:`status_reason_in`).
        """
        _set_service_id(self, service_id)
        _set_status(self, status)
        _set_reason_params(self, reason_params)
        _set_metrics(self, metrics)
        _set_computed_at(self, computed_at)
        _set_reason_json(self, reason_json)

    @property
    def metrics(self) -> dict:
        """The window's metrics as stored (``{}`` when none are stored)."""
        metrics = self._metrics
        if isinstance(metrics, str):
            metrics = json.loads(metrics or "{}")
            _set_metrics(self, metrics)
        return metrics

    @property
    def metrics_text(self) -> str | None:
        """The stored JSON text of the metrics while they are not parsed (None once they are,
        or when the view was evaluated afresh): for answers that write it out again."""
        metrics = self._metrics
        return metrics if isinstance(metrics, str) else None

    def _key(self) -> tuple:
        return (self.service_id, self.status, self.reason_params, self.metrics,
                self.computed_at)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, StatusView)
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # holds dicts, as the dataclass did

    def __repr__(self) -> str:
        return (f"StatusView(service_id={self.service_id!r}, status={self.status!r}, "
                f"reason_params={self.reason_params!r}, metrics={self.metrics!r}, "
                f"computed_at={self.computed_at!r})")

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple:
        return (StatusView, (*self._key(), self._reason_json))


# The slots' own setters: the view refuses attribute assignment, and a list builds dozens.
(_set_service_id, _set_status, _set_reason_params, _set_metrics, _set_computed_at,
 _set_reason_json) = (getattr(StatusView, name).__set__ for name in (
     "service_id", "status", "reason_params", "_metrics", "computed_at", "_reason_json"))


def status_window(now: datetime) -> tuple[date, date]:
    """Return the WIB dates (from, to) of the status window ending today."""
    today = wib_date(now)
    return today - timedelta(days=STATUS_WINDOW_DAYS - 1), today


def status_evaluate(
    service: Service,
    now: datetime,
    last_reported_at: datetime | None,
    disrupted: bool = False,
) -> tuple[str, dict, dict]:
    """Apply the status rules to one service; return (status, reason params, metrics JSON).

    The one-service evaluation, for a status read that finds no current stored row;
    :func:`status_evaluate_many` gives the same for many services at once.
    """
    from_date, to_date = status_window(now)
    metrics = metrics_for_service(service, from_date, to_date, now=now)
    return _judge(service, metrics, now, last_reported_at, disrupted)


def status_evaluate_many(
    services: Iterable[Service], now: datetime,
    due_today: Mapping[int, DueCounts] | None = None,
) -> dict[int, tuple[str, dict, dict]]:
    """Evaluate the status of many services with a fixed number of statements, by service id.

    Each service's (status, reason params, metrics JSON) is the one :func:`status_evaluate`
    gives with its last report and the incidents open now. ``due_today``: what fell due
    today so far, when the caller has read it (see ``metrics_for_services``).
    """
    services = list(services)
    if not services:
        return {}
    from_date, to_date = status_window(now)
    ids = [s.id for s in services]
    metrics = metrics_for_services(services, from_date, to_date, now, due_today)
    reported = service_last_reported(ids)
    disrupted = service_ids_disrupted_now()
    return {
        s.id: _judge(s, metrics[s.id], now, reported.get(s.id), s.id in disrupted)
        for s in services
    }


def _judge(
    service: Service,
    metrics: ServiceMetrics,
    now: datetime,
    last_reported_at: datetime | None,
    disrupted: bool,
) -> tuple[str, dict, dict]:
    """Apply the status rules to a service's window metrics (docs/definitions.md, section 5).

    The params keep ``data_status``, the status rules 2 to 6 give, so that a read can drop
    ``disrupted`` as soon as the incident is resolved, without a refresh.
    """
    params: dict = {"date": metrics.to_date.isoformat(), "n": metrics.due,
                    "late_open": metrics.late_open, "rate": metrics.on_time_rate,
                    "target": service.on_time_target, "since": None}
    rate = metrics.on_time_rate
    if last_reported_at is None:
        data_status = "no_data"
    elif now - last_reported_at > SILENCE_LIMIT:
        data_status = "no_data"
        params["since"] = wib_date(last_reported_at).isoformat()
    elif metrics.due < MIN_DUE or rate is None:
        data_status = "insufficient_data"
    elif rate >= service.on_time_target - _EPSILON:
        data_status = "meeting"
    elif rate >= service.on_time_target - AT_RISK_MARGIN - _EPSILON:
        data_status = "at_risk"
    else:
        data_status = "breaching"
    params["data_status"] = data_status
    return ("disrupted" if disrupted else data_status), params, metrics.as_json()


def status_store(services: Iterable[Service], now: datetime | None = None) -> None:
    """Evaluate and store the status of some services (the caller commits).

    A fixed number of statements whatever the number of services: the inputs are read for
    all of them at once (:func:`status_evaluate_many`), the stored rows are written with one
    bulk statement for those stored before and one for the new ones, and a status change is
    recorded for each stored status that differs from the new one, in the services' order.
    The service page's figures beyond the 30 days are stored too, as of the same instant
    (:func:`~portal.services.metrics.page_figures.page_figures_many`), in their own table
    (ServicePageFigures), written likewise.
    """
    services = list(services)
    if not services:
        return
    now = (now or utc_now()).astimezone(UTC)
    today = wib_date(now)
    # What fell due today so far: read once for the status and the page figures.
    due_today = due_counts_today(sorted({s.id for s in services}), today, now)
    evaluated = status_evaluate_many(services, now, due_today)
    # The service pages' figures beyond the 30 days, as of the same instant.
    page_figures = page_figures_many(services, now, metrics_for_services(
        services, today - timedelta(days=LONG_WINDOW_DAYS - 1), today, now, due_today),
        due_today)
    ids = [s.id for s in services]
    stored: dict[int, str] = {}
    figured: set[int] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        stmt = select(ServiceStatus.service_id, ServiceStatus.status).where(
            ServiceStatus.service_id.in_(chunk))
        stored.update({service_id: status for service_id, status in db.session.execute(stmt)})
        figured.update(db.session.scalars(select(ServicePageFigures.service_id).where(
            ServicePageFigures.service_id.in_(chunk))))
    new_rows: list[dict] = []
    rows: list[dict] = []
    changes: list[dict] = []
    for service in services:
        status, params, snapshot = evaluated[service.id]
        reason_params = json.dumps(params, separators=(",", ":"))
        values = {"service_id": service.id, "status": status, "reason_params": reason_params,
                  "metrics": json.dumps(snapshot, separators=(",", ":")), "computed_at": now,
                  # Counted without reading the JSON (tallies) unless disrupted now.
                  "data_status": status if status == params.get("data_status") else None}
        before = stored.get(service.id)
        if before is None:
            new_rows.append(values)
            continue
        rows.append(values)
        if before != status:
            # The history subscribers are told about (services/subscriptions) and the DPRD
            # digest lists; a first evaluation is no change.
            changes.append({"service_id": service.id, "from_status": before,
                            "to_status": status, "changed_at": now,
                            "reason_params": reason_params})
    if rows:
        db.session.execute(update(ServiceStatus), rows)
    if new_rows:
        db.session.execute(insert(ServiceStatus), new_rows)
    if changes:
        db.session.execute(insert(ServiceStatusChange), changes)
    figures = [{"service_id": service_id, "figures": page_figures[service_id]}
               for service_id in ids]
    if written := [row for row in figures if row["service_id"] in figured]:
        db.session.execute(update(ServicePageFigures), written)
    if added := [row for row in figures if row["service_id"] not in figured]:
        db.session.execute(insert(ServicePageFigures), added)


def status_refresh(service_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Recompute and store the status of some services (all when None); return how many."""
    stmt = select(Service).order_by(Service.id)
    if service_ids is not None:
        stmt = stmt.where(Service.id.in_(list(service_ids)))
    services = list(db.session.scalars(stmt))
    for start in range(0, len(services), 500):
        status_store(services[start:start + 500], now=now)
    db.session.commit()
    return len(services)


def _view(
    stored: bool,
    reason_json: str | None,
    metrics_json: str | None,
    computed_at: datetime | None,
    service_id: int,
    disrupted: bool,
    last_reported_at: datetime | None,
    now: datetime,
) -> StatusView:
    """Build what is shown from a stored row (or its absence), the last report and incidents.

    ``stored`` tells whether a status is stored, with its reason parameters, metrics (both as
    stored, JSON) and computation time; ``disrupted``, whether an open incident disrupts the
    service now. The metrics are parsed only when read (lists show none).
    """
    if not stored:
        # Never evaluated: a new service that never reported. Silence is never health.
        params: dict = {"since": None, "data_status": "no_data"}
        reason_json = metrics_json = computed_at = None
    else:
        reason_json = reason_json or "{}"
        # A copy: the parsed parameters are memoised, each view has its own.
        params = dict(_stored_params(reason_json))
    silent = last_reported_at is None or now - last_reported_at > SILENCE_LIMIT
    if silent and params.get("data_status") != "no_data":
        # Gone silent since the row was stored: no_data now, not the health stored then.
        since = wib_date(last_reported_at).isoformat() if last_reported_at else None
        params = {**params, "data_status": "no_data", "since": since}
        reason_json = None  # no longer the stored parameters
    status = "disrupted" if disrupted else params.get("data_status", "no_data")
    return StatusView(service_id, status, params, metrics_json or "{}", computed_at,
                      reason_json)


@lru_cache(maxsize=4096)
def _stored_params(reason_json: str) -> dict:
    """Parse stored reason parameters (memoised: every list reads the same ones again).

    The dict is shared: copy it before handing it out (its values are plain, a shallow copy
    does).
    """
    return json.loads(reason_json)


def shown_status_query() -> Select:
    """Select what a service's shown status is built from, a row per service.

    Its id; its stored status's columns (``stored``, the stored row's service id, is None
    when no status is stored); its last report time (outer joins); and ``disrupted``,
    whether an open incident disrupts it (the services of service_ids_disrupted_now).
    Plain columns, not the stored row as an entity: a list reads dozens of them per page.
    """
    return (
        select(Service.id, ServiceStatus.service_id.label("stored"),
               ServiceStatus.reason_params, ServiceStatus.metrics, ServiceStatus.computed_at,
               ServiceReport.last_reported_at,
               disrupting_incident_open(Service.id).label("disrupted"))
        .outerjoin(ServiceStatus, ServiceStatus.service_id == Service.id)
        .outerjoin(ServiceReport, ServiceReport.service_id == Service.id)
    )


@lru_cache(maxsize=1)
def _shown_statement() -> Select:
    """Build status_for_services' statement once (the ids bound when it runs)."""
    return shown_status_query().where(Service.id.in_(bindparam("ids", expanding=True)))


def status_for_services(
    service_ids: Iterable[int], now: datetime | None = None
) -> dict[int, StatusView]:
    """Return the shown status of each service (one query)."""
    return {i: view for i, (view, _at) in _shown(service_ids, now).items()}


def status_with_report(
    service_id: int, now: datetime | None = None
) -> tuple[StatusView, datetime | None]:
    """Return one service's shown status and its last report time, in one statement.

    The view is the one :func:`status_for_services` gives; the time is the one
    :func:`~portal.services.metrics.reporting.service_last_reported` gives (None: never).
    One service's statement, its id bound as a value (a list of ids is written into the
    statement's text at every run).
    """
    rows = {row.id: row for row in db.session.execute(_one_shown_statement(),
                                                       {"service_id": service_id})}
    return build_shown_statuses([service_id], rows, now)[service_id]


@lru_cache(maxsize=1)
def _one_shown_statement() -> Select:
    """Build status_with_report's statement once (the service bound when it runs)."""
    return shown_status_query().where(Service.id == bindparam("service_id"))


def _shown(
    service_ids: Iterable[int], now: datetime | None
) -> dict[int, tuple[StatusView, datetime | None]]:
    """Return each service's shown status and last report time (one query a 900 ids)."""
    ids = list(service_ids)
    values: dict[int, tuple] = {}
    for start in range(0, len(ids), 900):
        # The columns of shown_status_query, in its order: read by position, each once.
        for (service_id, stored, reason_json, metrics_json, computed_at, last_reported_at,
             disrupted) in db.session.execute(_shown_statement(),
                                              {"ids": ids[start:start + 900]}):
            values[service_id] = (stored is not None, reason_json, metrics_json, computed_at,
                                  last_reported_at, disrupted)
    return _build_shown(ids, values, now)


def build_shown_statuses(
    ids: list[int], rows: dict[int, Any], now: datetime | None
) -> dict[int, tuple[StatusView, datetime | None]]:
    """Build the shown statuses and last report times of services from their shown rows.

    A row has (by name) the columns of :func:`shown_status_query`; each is read once.
    A row stored under earlier definitions (before an upgrade, until the next refresh) is
    evaluated afresh, so that no page shows a figure the current rules do not give.
    """
    values: dict[int, tuple] = {}
    for i in ids:
        row = rows.get(i)
        if row is not None:
            values[i] = (row.stored is not None, row.reason_params, row.metrics,
                         row.computed_at, row.last_reported_at, row.disrupted)
    return _build_shown(ids, values, now)


def _build_shown(
    ids: list[int], values: dict[int, tuple], now: datetime | None
) -> dict[int, tuple[StatusView, datetime | None]]:
    """Build the shown statuses of :func:`build_shown_statuses` from each service's values:
    (stored, reason params JSON, metrics JSON, computed at, last report, disrupted)."""
    now = (now or utc_now()).astimezone(UTC)
    shown: dict[int, tuple[StatusView, datetime | None]] = {}
    stale = []
    for i in ids:
        found = values.get(i)
        if found is None:
            shown[i] = (_view(False, None, None, None, i, False, None, now), None)
            continue
        stored, reason_json, metrics_json, computed_at, last_reported_at, disrupted = found
        if stored and not _snapshot_is_current(metrics_json):
            stale.append(i)
        else:
            shown[i] = (_view(stored, reason_json, metrics_json, computed_at, i,
                              bool(disrupted), last_reported_at, now), last_reported_at)
    if stale:
        for service in db.session.scalars(select(Service).where(Service.id.in_(stale))):
            _stored, _r, _m, _c, last_reported_at, disrupted = values[service.id]
            status, params, metrics = status_evaluate(
                service, now, last_reported_at, bool(disrupted))
            shown[service.id] = (StatusView(service.id, status, params, metrics, None),
                                 last_reported_at)
    return shown


def _snapshot_is_current(metrics_json: str | None) -> bool:
    """Tell whether a stored status was computed under the current metric definitions.

    The status counts (portal.services.catalogue.tallies) take a row whose ``data_status`` is
    set as current without this test: a change of definitions that changes it must empty that
    column in its migration, as 0012 filled it only for the rows this test finds current.
    """
    return '"due":' in (metrics_json or "")


def status_counts(
    department_id: int | None = None, by_mode: bool = False, now: datetime | None = None
) -> dict[str, int] | dict[str, dict[str, int]]:
    """Count services by shown status (every status present), optionally by work mode."""
    now = (now or utc_now()).astimezone(UTC)
    stmt = shown_status_query().add_columns(Service.work_mode)
    if department_id is not None:
        stmt = stmt.where(Service.department_id == department_id)
    by: dict[str, dict[str, int]] = {mode: dict.fromkeys(SERVICE_STATUSES, 0)
                                     for mode in WORK_MODES}
    for (service_id, stored, reason_json, metrics_json, computed_at, last_reported_at,
         disrupted, work_mode) in db.session.execute(stmt):
        status = _view(stored is not None, reason_json, metrics_json, computed_at, service_id,
                       bool(disrupted), last_reported_at, now).status
        by.setdefault(work_mode, dict.fromkeys(SERVICE_STATUSES, 0))[status] += 1
    if by_mode:
        return by
    total = dict.fromkeys(SERVICE_STATUSES, 0)
    for counts in by.values():
        for status, n in counts.items():
            total[status] += n
    return total


def _percent(value: float | None) -> str:
    """Format a fraction as a percentage with at most one decimal."""
    return percent_text(value or 0, 1)


def format_rate_against_target(rate: float | None, target: float | None) -> str:
    """Format a rate beside its target (see :func:`portal.i18n.rate_against_target_percent`)."""
    if rate is None or target is None:
        return _percent(rate)
    return rate_against_target_percent(rate, target)


def _reason(status: str, params: dict) -> str:
    """Say why a service has its status, as one whole translated sentence."""
    day = params.get("date")
    when = format_date(date.fromisoformat(day), "d MMMM y") if day else ""
    n = int(params.get("n") or 0)
    rate = format_rate_against_target(params.get("rate"), params.get("target"))
    target = _percent(params.get("target"))
    if status == "disrupted":
        return _("An open incident disrupts this service; see its updates below.")
    if status == "no_data":
        since = params.get("since")
        if not since:
            return _("The department has not reported on this service yet, so its "
                     "performance cannot be shown.")
        return _("The department has sent no report on this service since %(since)s, so its "
                 "current performance is unknown.",
                 since=format_date(date.fromisoformat(since), "d MMMM y"))
    if status == "insufficient_data":
        return ngettext(
            "Only %(num)d request fell due over the %(days)d days to %(date)s; at least "
            "%(min)d are needed to judge the commitment.",
            "Only %(num)d requests fell due over the %(days)d days to %(date)s; at least "
            "%(min)d are needed to judge the commitment.",
            n, days=STATUS_WINDOW_DAYS, date=when, min=MIN_DUE,
        )
    if status == "meeting":
        sentence = ngettext(
            "%(rate)s of the %(num)d request due over the %(days)d days to %(date)s was "
            "completed on time, against a %(target)s commitment.",
            "%(rate)s of the %(num)d requests due over the %(days)d days to %(date)s were "
            "completed on time, against a %(target)s commitment.",
            n, rate=rate, target=target, days=STATUS_WINDOW_DAYS, date=when,
        )
    elif status == "at_risk":
        sentence = ngettext(
            "Only %(rate)s of the %(num)d request due over the %(days)d days to %(date)s was "
            "completed on time, against a %(target)s commitment: close to breaching it.",
            "Only %(rate)s of the %(num)d requests due over the %(days)d days to %(date)s were "
            "completed on time, against a %(target)s commitment: close to breaching it.",
            n, rate=rate, target=target, days=STATUS_WINDOW_DAYS, date=when,
        )
    else:
        sentence = ngettext(
            "Only %(rate)s of the %(num)d request due over the %(days)d days to %(date)s was "
            "completed on time, against a %(target)s commitment: the commitment is breached.",
            "Only %(rate)s of the %(num)d requests due over the %(days)d days to %(date)s were "
            "completed on time, against a %(target)s commitment: the commitment is breached.",
            n, rate=rate, target=target, days=STATUS_WINDOW_DAYS, date=when,
        )
    late_open = int(params.get("late_open") or 0)
    if not late_open:
        return sentence
    return " ".join((sentence, ngettext(
        "%(num)d of them is late and still open.",
        "%(num)d of them are late and still open.",
        late_open,
    )))


@lru_cache(maxsize=4096)
def _reason_cached(status: str, params_key: str | tuple, locale: str) -> str:
    """Memoise reason sentences: lists format the same few hundred again and again.

    The parameters as stored (JSON), or as the items of a read row's (plain values).
    """
    params = json.loads(params_key) if isinstance(params_key, str) else dict(params_key)
    return _reason(status, params)


def status_reason_text(status_row: StatusView | ServiceStatus, lang: str | None = None) -> str:
    """Return the reason for a status as a translated sentence (in ``lang`` when given)."""
    if lang is None:
        return status_reason_in(status_row, str(get_locale()))
    with force_locale(lang):
        return status_reason_in(status_row, str(get_locale()))


def status_reason_in(status_row: StatusView | ServiceStatus, locale: str) -> str:
    """Return the reason for a status in the active locale, named by the caller (a list
    looks it up once for its dozens of cards, as portal.web.formatting.Formats does)."""
    if status_row.__class__ is StatusView:
        assert isinstance(status_row, StatusView)
        stored = status_row._reason_json
        if stored is not None:
            # Its parameters are those stored: keyed by the stored text, nothing to build.
            return _reason_cached(status_row.status, stored, locale)
    params = status_row.reason_params
    if isinstance(params, str):
        return _reason_cached(status_row.status, params or "{}", locale)
    try:
        # Keyed by the items: a list's dozens of cards write no JSON each.
        return _reason_cached(status_row.status, tuple(params.items()), locale)
    except TypeError:  # a value that cannot be a key: keyed by the JSON
        return _reason_cached(status_row.status, json.dumps(params, sort_keys=True), locale)
