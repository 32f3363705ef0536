"""Each department's WFA arrangement: what it declares, beside what the portal measures.

The DPRD allows WFA only with clear supervision, measurable performance, work reporting and
adequate IT (DOMAIN.md, "WFA arrangements of a department"). A department publishes its
arrangement as a dated history, kept like work modes: every version is kept, audited and shown.
Beside each declared element the portal shows its own measure, so a declared "weekly work
reports" stands next to a measured "last data received 12 days ago".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, case, func, select, true

from portal.domain.calendar import UTC, utc_now, wib_date
from portal.extensions import db
from portal.models.arrangements import ARRANGEMENT_TEXTS, WFA_APPLIES, WfaArrangement
from portal.models.catalogue import Department, Service
from portal.models.metrics import ServiceReport
from portal.services.auth import (
    Permission,
    audit_record,
    can_act_for_department,
    department_scope,
    require_permission,
    staff_can,
)
from portal.services.catalogue.directory import (
    ARRANGEMENT_HISTORY_ORDER,
    ARRANGEMENT_MEASURE_DAYS,
    EARLIEST_EFFECTIVE_DATE,
    LATEST_EFFECTIVE_AHEAD,
    UNSTORABLE,
    DepartmentOverview,
)
from portal.services.catalogue.tallies import silent_before, tallies_counted, tally_select
from portal.services.errors import FieldError, NotAuthorized, NotFound, ValidationError
from portal.services.metrics.availability import availability_counts_query
from portal.services.paging import LIST_PAGE_MAX, LIST_PAGE_SIZE, Pagination, paginate

MAX_TEXT = 2000
MAX_REASON = 2000
MAX_TITLE = 300
MAX_NUMBER = 120
MAX_URL = 500
# The window of the measures shown beside the declaration, as for service status.
MEASURE_DAYS = ARRANGEMENT_MEASURE_DAYS

__all__ = [
    "ArrangementInput",
    "ArrangementMeasures",
    "arrangement_can_keep",
    "arrangement_current",
    "arrangement_department_page",
    "arrangement_history",
    "arrangement_in_force",
    "arrangement_measures",
    "arrangement_measures_from",
    "arrangement_record",
]


@dataclass(frozen=True)
class ArrangementInput:
    """What a department declares (as typed: the texts are checked, not trusted)."""

    effective_from: date | None
    wfa_applies: str
    remote_share_percent: int | None = None
    legal_basis_title: str = ""
    legal_basis_number: str = ""
    legal_basis_date: date | None = None
    legal_basis_url: str = ""
    supervision_id: str = ""
    supervision_en: str = ""
    reporting_id: str = ""
    reporting_en: str = ""
    it_systems_id: str = ""
    it_systems_en: str = ""
    reason: str = ""

    @classmethod
    def of(cls, arrangement: WfaArrangement) -> ArrangementInput:
        """Return the declaration a stored version holds (to prefill the next one)."""
        return cls(**{f.name: getattr(arrangement, f.name) for f in fields(cls)
                      if f.name != "reason"})

    def stripped(self) -> ArrangementInput:
        """Return the declaration with every text trimmed of surrounding spaces."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return ArrangementInput(**{
            name: value.strip() if isinstance(value, str) else value
            for name, value in values.items()
        })


@dataclass(frozen=True)
class ArrangementMeasures:
    """What the portal measures itself, beside a department's declaration.

    ``days_since_report`` is None when no service of the department ever reported;
    ``availability`` is None when no check of its online channels counted in the window;
    ``services_meeting`` counts services whose status is "meeting" among all its services
    (a service without data is not meeting: silence never counts as health).
    """

    last_reported_at: datetime | None
    days_since_report: int | None
    availability: float | None
    availability_checks: int
    channels: int
    services_meeting: int
    services_total: int

    @property
    def share_meeting(self) -> float | None:
        """Return the share of the department's services meeting their commitments."""
        return self.services_meeting / self.services_total if self.services_total else None


def _department(code: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(code)
    return department


def arrangement_can_keep(actor: Any, department: Department) -> bool:
    """Tell whether actor may publish this department's arrangement: admin or its officer."""
    return (staff_can(actor, Permission.CATALOGUE_KEEP)
            and can_act_for_department(actor, department.id))


def arrangement_department_page(
    actor: Any, page: int = 1, per_page: int = LIST_PAGE_SIZE
) -> Pagination:
    """Return a page of the departments whose arrangement actor keeps, by name."""
    require_permission(actor, Permission.CATALOGUE_KEEP)
    stmt = select(Department).order_by(Department.name_id, Department.id)
    scope = department_scope(actor)
    if scope is not None:
        stmt = stmt.where(Department.id == scope)
    return paginate(stmt, page, per_page, LIST_PAGE_MAX)


def arrangement_history(department: Department) -> list[WfaArrangement]:
    """Return every version of a department's arrangement, newest first.

    Newest is the latest effective date, then (two versions from the same day) the one
    recorded last: this order is also what :func:`arrangement_in_force` picks from. A
    department's page has it from its overview (``DepartmentOverview.arrangement_history``).
    """
    return list(db.session.scalars(_history_statement(), {"department_id": department.id}))


@lru_cache(maxsize=1)
def _history_statement() -> Select:
    """Build arrangement_history's statement once (the department bound when it runs): a
    department's page reads the history on every visit."""
    return (select(WfaArrangement)
            .where(WfaArrangement.department_id == bindparam("department_id"))
            .order_by(*ARRANGEMENT_HISTORY_ORDER))


def arrangement_current(department: Department, on: date | None = None) -> WfaArrangement | None:
    """Return the version in force on a day (today in WIB by default); None if unpublished.

    Read from the history (a department has a few versions) so that the rule of which version
    is in force is written once, in :func:`arrangement_in_force`; a page that shows the history
    too should read it once and call that function instead.
    """
    return arrangement_in_force(arrangement_history(department), on)


def arrangement_in_force(
    history: list[WfaArrangement], on: date | None = None
) -> WfaArrangement | None:
    """Return the version of a history in force on a day (today in WIB by default).

    ``history`` newest first, as :func:`arrangement_history` gives it: the newest version that
    has started, so of two versions effective the same day the one recorded last wins.
    None if none is in force.
    """
    day = on or wib_date(utc_now())
    return next((version for version in history if version.effective_from <= day), None)


def _text_errors(value: ArrangementInput) -> list[FieldError]:
    limits = {"legal_basis_title": MAX_TITLE, "legal_basis_number": MAX_NUMBER,
              "legal_basis_url": MAX_URL, "reason": MAX_REASON}
    for name in ARRANGEMENT_TEXTS:
        limits[f"{name}_id"] = limits[f"{name}_en"] = MAX_TEXT
    errors = []
    for name, limit in limits.items():
        text = getattr(value, name)
        if UNSTORABLE.search(text):
            errors.append(FieldError(name, _("contains characters that cannot be stored")))
        elif len(text) > limit:
            errors.append(FieldError(name, _("is longer than %(n)d characters", n=limit)))
    return errors


def _date_errors(value: ArrangementInput, latest: date | None, today: date) -> list[FieldError]:
    errors = []
    last_day = today + LATEST_EFFECTIVE_AHEAD
    if value.effective_from is None:
        errors.append(FieldError("effective_from", _("must be a date written YYYY-MM-DD")))
    elif not EARLIEST_EFFECTIVE_DATE <= value.effective_from <= last_day:
        errors.append(FieldError("effective_from", _(
            "must be a date from %(earliest)s to %(latest)s",
            earliest=EARLIEST_EFFECTIVE_DATE.isoformat(), latest=last_day.isoformat())))
    elif latest is not None and value.effective_from < latest:
        errors.append(FieldError("effective_from", _(
            "must not be before the latest recorded change (%(date)s)",
            date=latest.isoformat())))
    basis = value.legal_basis_date
    if basis is not None and not EARLIEST_EFFECTIVE_DATE <= basis <= today:
        errors.append(FieldError("legal_basis_date", _(
            "must be a date from %(earliest)s to %(latest)s",
            earliest=EARLIEST_EFFECTIVE_DATE.isoformat(), latest=today.isoformat())))
    return errors


def _declaration_errors(value: ArrangementInput) -> list[FieldError]:
    errors = []
    if value.wfa_applies not in WFA_APPLIES:
        errors.append(FieldError("wfa_applies", _("must be one of no, pilot, yes")))
    share = value.remote_share_percent
    if share is not None and not 0 <= share <= 100:
        errors.append(FieldError("remote_share_percent", _("must be from 0 to 100")))
    elif value.wfa_applies == "no" and share:
        errors.append(FieldError(
            "remote_share_percent", _("must be 0 or empty when WFA does not apply")))
    url = value.legal_basis_url
    if url and not re.match(r"^https?://[^\s/]+\.[^\s]+$", url):
        errors.append(FieldError("legal_basis_url", _("must be a web address (https://…)")))
    if value.legal_basis_number and not value.legal_basis_title:
        errors.append(FieldError("legal_basis_title", _("is required with a number")))
    # Indonesian first: an English text alone would read "not published" on the Indonesian
    # page (and on the English one, which falls back to the Indonesian text).
    for name in ARRANGEMENT_TEXTS:
        if getattr(value, f"{name}_en") and not getattr(value, f"{name}_id"):
            errors.append(FieldError(f"{name}_id", _("is required with the English text")))
    return errors


def arrangement_record(actor: Any, department_code: str, value: ArrangementInput) -> WfaArrangement:
    """Publish a new version of a department's arrangement; audit it and commit.

    Refused (NotAuthorized) for anyone but an administrator or an officer of the department;
    a version may not start before the latest one (the history stays in order).
    """
    require_permission(actor, Permission.CATALOGUE_KEEP)
    department = _department(department_code)
    if not arrangement_can_keep(actor, department):
        raise NotAuthorized("an officer publishes only their own department's arrangement")
    value = value.stripped()
    history = arrangement_history(department)
    latest = history[0].effective_from if history else None
    errors = (_date_errors(value, latest, wib_date(utc_now()))
              + _declaration_errors(value) + _text_errors(value))
    if errors:
        raise ValidationError(errors)

    values = {f.name: getattr(value, f.name) for f in fields(value)}
    arrangement = WfaArrangement(
        department_id=department.id, recorded_at=utc_now(), recorded_by=actor.username,
        **values,
    )
    db.session.add(arrangement)
    before = history[0].wfa_applies if history else None
    audit_record(
        actor, "department.wfa_arrangement", "department", department.code,
        department_id=department.id, from_state=before, to_state=value.wfa_applies,
        detail=f"effective_from={value.effective_from.isoformat()}; "
               f"remote_share={value.remote_share_percent}; reason={value.reason}",
    )
    db.session.commit()
    return arrangement


def arrangement_measures(
    department: Department, now: datetime | None = None
) -> ArrangementMeasures:
    """Measure the department as the DPRD asks: reporting, IT availability, performance.

    One statement (a scorecard reads it on every visit): its services counted by shown
    status as :func:`~portal.services.catalogue.tallies.status_tallies` counts them, with
    their latest report and their online channels, and those channels' availability checks
    as :func:`~portal.services.metrics.availability.availability_counts` counts them.
    """
    now = (now or utc_now()).astimezone(UTC)
    values = {"department_id": department.id, "silent_before": silent_before(now),
              "start": now - timedelta(days=MEASURE_DAYS), "end": now}
    # On the session's connection: a statement of columns, not of entities, needs none of the
    # session's own steps (a tenth of a millisecond of a scorecard's visit).
    rows = db.session.connection().execute(_measures_statement(), values).all()
    counts = tallies_counted([row[:5] for row in rows], now).get(department.id, {})
    return _measured(
        last=max((row.last for row in rows if row.last is not None), default=None),
        channels=sum(row.online for row in rows),
        # The same one-row count on every row (none: no service, so no channel either).
        checks=(int(rows[0].checked), int(rows[0].succeeded)) if rows else (0, 0),
        meeting=counts.get("meeting", 0),
        total=sum(row[4] for row in rows),
        now=now,
    )


@lru_cache(maxsize=1)
def _measures_statement() -> Select:
    """Build arrangement_measures' statement once (the department, the silence's limit and
    the availability window bound when it runs): a row per counted group of tally_select,
    each with the group's latest report and online channels, and the department's checks."""
    department_id = bindparam("department_id")
    has_channel = func.coalesce(Service.online_url, "") != ""
    counted = (
        tally_select(Service.department_id,
                     func.max(ServiceReport.last_reported_at).label("last"),
                     func.count(case((has_channel, 1))).label("online"))
        .where(Service.department_id == department_id)
        .subquery("counted")
    )
    channels = select(Service.id).where(Service.department_id == department_id, has_channel)
    checks = availability_counts_query(channels).subquery("checks")
    checked, succeeded = checks.c
    return select(*counted.c, checked.label("checked"), succeeded.label("succeeded")).join_from(
        counted, checks, true())


def arrangement_measures_from(overview: DepartmentOverview) -> ArrangementMeasures:
    """Measure as :func:`arrangement_measures` does, from a department's overview.

    The overview has read its services, their last reports and shown statuses, and its
    online channels' availability checks, already (a department's page shows them): no
    statement.
    """
    return _measured(
        last=overview.last_reported_at,
        channels=sum(1 for row in overview.rows if row.service.online_url),
        checks=overview.channel_checks,
        meeting=overview.counts["meeting"],
        total=len(overview.rows),
        now=overview.as_of,
    )


def _measured(
    last: datetime | None, channels: int, checks: tuple[int, int], meeting: int, total: int,
    now: datetime,
) -> ArrangementMeasures:
    """Return the measures from the latest report, the number of online channels and their
    availability checks (all, successful), and the services meeting their commitments
    among all."""
    days = None if last is None else max(0, (wib_date(now) - wib_date(last)).days)
    checked, succeeded = checks
    return ArrangementMeasures(
        last_reported_at=last,
        days_since_report=days,
        availability=succeeded / checked if checked else None,
        availability_checks=checked,
        channels=channels,
        services_meeting=meeting,
        services_total=total,
    )
