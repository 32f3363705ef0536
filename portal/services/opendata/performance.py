"""Service performance as open data: daily figures per service, and the WFA impact.

Daily figures are the ``service_day`` aggregates the pages are computed from (one row per
service and WIB day with anything received, completed or due), so a window's figure on a page
is the sum of its days here: ``received``, ``completed``, ``due`` and ``on_time`` add up, and
the rates are ``on_time / due`` of the sums, never an average of daily rates. Rows stop at
yesterday: today's requests are still falling due. Backlog, overdue and late-and-open are
states at an instant, read from the requests themselves; they are in the metrics API
(``/api/v1/services/CODE/metrics``), not in this table.

The WFA impact is :func:`portal.services.metrics.wfa_impact.wfa_figures`, one row per service
that moved to WFA or hybrid work, exactly as the accountability pages and the API give it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, func, select

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models.catalogue import WORK_MODES, Service
from portal.models.metrics import ServiceDay
from portal.services.metrics.figures import MEDIAN, P90, key_seconds, percentile_keys_each
from portal.services.metrics.wfa_impact import (
    ADJUSTED_VERDICT_REASONS,
    COMPARISON_SCOPES,
    VERDICT_REASONS,
    VERDICTS,
    ComparisonGroup,
    SideFigures,
    wfa_figures,
)
from portal.services.opendata.catalogue import SERVICE_CODE, SERVICE_KEY
from portal.services.opendata.cells import csv_cell, csv_text_cell
from portal.services.opendata.keyset import keyset_pages
from portal.services.opendata.schema import Dataset, Field, Selection

ONE_DAY = timedelta(days=1)


def rate(part: int, whole: int) -> float | None:
    """Return part / whole to 4 decimals (the API's rounding), None when whole is 0."""
    return round(part / whole, 4) if whole else None


def rounded(value: float | None, digits: int) -> float | None:
    """Round a figure for publication (fractions to 4 decimals, hours to 2)."""
    return None if value is None else round(value, digits)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


_DAILY_PERCENTILES = (MEDIAN, P90)


def _seconds(key: int | None) -> float | None:
    return None if key is None else key_seconds(key)


def days_percentile_keys(histogram_texts: Sequence[str | None]) -> list[list[int | None]]:
    """Return the histogram keys of the median and the 90th percentile of each of many stored
    histograms, [None, None] for a day with no completion.

    A download does this for every day of every service: the texts are read as one JSON
    array (one parse, not one a day), and the days' keys found together
    (:func:`~portal.services.metrics.figures.percentile_keys_each`).
    """
    parsed = json.loads(f"[{','.join(text or '{}' for text in histogram_texts)}]")
    return percentile_keys_each(parsed, _DAILY_PERCENTILES)


def service_codes(selection: Selection) -> list[tuple[int, str]]:
    """Return (id, code) of the selected services, by code."""
    stmt = select(Service.id, Service.code).order_by(Service.code)
    if selection.service_ids is not None:
        stmt = stmt.where(Service.id.in_(selection.service_ids))
    return [(service_id, code) for service_id, code in db.session.execute(stmt)]


def last_complete_day(selection: Selection) -> date:
    """Return the last WIB day a daily table covers: ``to``, and yesterday at the latest."""
    yesterday = wib_date(selection.now) - ONE_DAY
    return min(selection.to_date, yesterday) if selection.to_date else yesterday


# Daily figures -------------------------------------------------------------------------------


def _service_day_pages(selection: Selection) -> Iterator[tuple[list[Row], list]]:
    """Yield pages of the daily table's rows (service code, the day's figures, its histogram)
    by service code and date, each with its days' median and p90 histogram keys.

    One keyset read over the services by code, so a page holds the days of several services:
    a statement per page, not one per service.
    """
    last = last_complete_day(selection)
    day = ServiceDay
    stmt = select(
        Service.code, day.day, day.received, day.received_online, day.completed, day.due,
        day.due_on_time, day.first_response_due, day.first_response_due_on_time,
        day.completion_histogram,
    ).join(Service, Service.id == day.service_id).where(
        day.day <= last,
        # A day whose counts all went back to 0 (a corrected report) holds nothing.
        (day.received > 0) | (day.completed > 0) | (day.due > 0)
        | (day.first_response_due > 0),
    )
    if selection.service_ids is not None:
        stmt = stmt.where(day.service_id.in_(selection.service_ids))
    if selection.from_date:
        stmt = stmt.where(day.day >= selection.from_date)
    for page in keyset_pages(stmt, [Service.code, day.day]):
        yield page, days_percentile_keys([row[-1] for row in page])


def service_day_rows(selection: Selection) -> Iterator[tuple]:
    """Yield one row per service and WIB day that has figures, by service code and date."""
    for page, percentiles in _service_day_pages(selection):
        for (code, when, received, online, completed, due, on_time, first_due, first_on_time,
             _histogram), (median, p90) in zip(page, percentiles, strict=True):
            yield (
                code, when, received, online, completed, due, on_time, due - on_time,
                rate(on_time, due), first_due, first_on_time, rate(first_on_time, first_due),
                _hours(_seconds(median)), _hours(_seconds(p90)),
            )


# Cells a download remembers of each kind: bounded whatever the data, and far more than the
# distinct values of a province's daily table.
_CELLS_KEPT = 50_000


class _Cells(dict):
    """CSV cells by the value they write, each written once (the first time it is asked)."""

    def __init__(self, write: Callable[[Any], str]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, value: Any) -> str:
        if len(self) >= _CELLS_KEPT:
            self.clear()
        cell = self[value] = self.write(value)
        return cell


def service_day_lines(selection: Selection) -> Iterator[str]:
    """Yield the rows of :func:`service_day_rows` written as CSV lines.

    Byte for byte what the CSV writer makes of ``csv_cell`` of each value, written by one
    format per row instead of a call per cell: the province's daily table is some nine
    million cells. Only the service code is text; every other cell is a number or a date,
    which the writer never quotes. Codes, rates and hours repeat from row to row, so each is
    written once and remembered.
    """
    codes = _Cells(csv_text_cell)
    rates = _Cells(lambda counts: csv_cell(rate(*counts)))
    hours = _Cells(lambda key: csv_cell(_hours(_seconds(key))))
    for page, percentiles in _service_day_pages(selection):
        for (code, when, received, online, completed, due, on_time, first_due,
             first_on_time, _histogram), (median, p90) in zip(page, percentiles, strict=True):
            yield (f"{codes[code]},{when.isoformat()},{received},{online},{completed},{due},"
                   f"{on_time},{due - on_time},{rates[on_time, due]},{first_due},"
                   f"{first_on_time},{rates[first_on_time, first_due]},{hours[median]},"
                   f"{hours[p90]}\r\n")


def service_day_coverage(now: datetime) -> tuple[date, date] | None:
    """Return the first and last WIB day with daily figures (yesterday at the latest)."""
    yesterday = wib_date(now) - ONE_DAY
    # One probe each of the index on the day (ix_service_day_day).
    first = select(func.min(ServiceDay.day)).scalar_subquery()
    last = select(func.max(ServiceDay.day)).where(ServiceDay.day <= yesterday).scalar_subquery()
    first, last = db.session.execute(select(first, last)).one()
    return None if first is None or first > yesterday else (first, last)


_RATE_UNIT = {"unit": "fraction", "minimum": 0, "maximum": 1}

SERVICE_DAYS = Dataset(
    name="service_days",
    title=_l("Daily figures per service"),
    description=_l(
        "For each service and WIB day: requests received, completed and due, on time and "
        "late, first responses, and completion times. Add the days of a period up to get "
        "that period's figures as the pages show them. A day with nothing received, "
        "completed or due has no row; the last row is yesterday's."),
    fields=(
        SERVICE_CODE,
        Field("date", "date", _l("The WIB date."), required=True),
        Field("received", "integer", _l("Requests received on this day."),
              unit="requests", required=True, minimum=0),
        Field("received_online", "integer", _l(
            "Of the requests received, those that came through the online channel."),
            unit="requests", required=True, minimum=0),
        Field("completed", "integer", _l(
            "Requests completed on this day, whenever they were received."),
            unit="requests", required=True, minimum=0),
        Field("due", "integer", _l(
            "Requests whose due date is this day: the day their time to complete ran out. "
            "Every request is due once, whether or not it was ever completed."),
            unit="requests", required=True, minimum=0),
        Field("on_time", "integer", _l(
            "Of the requests due, those completed at or before their deadline."),
            unit="requests", required=True, minimum=0),
        Field("late", "integer", _l(
            "Of the requests due, those completed after their deadline or never completed "
            "(due minus on_time)."), unit="requests", required=True, minimum=0),
        Field("on_time_rate", "number", _l(
            "on_time divided by due; empty when nothing was due."), **_RATE_UNIT),
        Field("first_response_due", "integer", _l(
            "For services that promise a first response: requests whose first-response due "
            "date is this day; 0 for the others."), unit="requests", required=True, minimum=0),
        Field("first_response_on_time", "integer", _l(
            "Of first_response_due, those first answered at or before their deadline."),
            unit="requests", required=True, minimum=0),
        Field("first_response_on_time_rate", "number", _l(
            "first_response_on_time divided by first_response_due; empty when nothing was "
            "due."), **_RATE_UNIT),
        Field("median_completion_hours", "number", _l(
            "Median elapsed time from receipt to completion of the requests completed on "
            "this day (nearest rank); empty when none was completed."), unit="hours",
            minimum=0),
        Field("p90_completion_hours", "number", _l(
            "90th percentile (nearest rank) of the same completion times."), unit="hours",
            minimum=0),
    ),
    primary_key=("service_code", "date"),
    foreign_keys=(SERVICE_KEY,),
    rows=service_day_rows,
    lines=service_day_lines,
    frequency="DAILY",
    filters=("service", "department", "from", "to"),
    coverage=service_day_coverage,
)


# WFA impact ----------------------------------------------------------------------------------


def _side(side: SideFigures) -> tuple:
    """Return one side's columns: its dates, counts, on-time rate and median."""
    return (side.from_date, side.to_date, side.due, side.on_time,
            rounded(side.on_time_rate, 4), rounded(side.median_completion_hours, 2))


def _comparison(group: ComparisonGroup | None) -> tuple:
    """Return the comparison group's columns (all empty when there is none)."""
    if group is None:
        return (None,) * 9
    return (group.scope, " ".join(group.services), group.before.due, group.before.on_time,
            group.after.due, group.after.on_time, rounded(group.difference, 4),
            rounded(group.ci_low, 4), rounded(group.ci_high, 4))


def wfa_rows(selection: Selection) -> Iterator[tuple]:
    """Yield the WFA impact of each selected service that moved to WFA or hybrid, by code."""
    ids = [service_id for service_id, _code in service_codes(selection)]
    impacts = wfa_figures({None: (None, ids)}, selection.now).impacts
    for impact in sorted(impacts.values(), key=lambda impact: impact.service_code):
        yield (
            impact.service_code, impact.change_date, impact.from_mode, impact.to_mode,
            impact.reporting_since, *_side(impact.before), *_side(impact.after),
            rounded(impact.difference, 4), rounded(impact.ci_low, 4),
            rounded(impact.ci_high, 4), impact.verdict, impact.verdict_reason,
            *_comparison(impact.comparison),
            rounded(impact.net_difference, 4), rounded(impact.net_ci_low, 4),
            rounded(impact.net_ci_high, 4), impact.adjusted_verdict,
            impact.adjusted_verdict_reason,
        )


def _side_fields(side: str) -> tuple[Field, ...]:
    """Return the columns of one side (before or after) of the comparison."""
    descriptions = {
        "before": (
            _l("First day of the before window (90 days before the change)."),
            _l("Last day of the before window (the day before the change)."),
            _l("Requests due in the before window."),
            _l("Of those, completed at or before their deadline."),
            _l("On-time rate of the before window; empty when nothing was due."),
            _l("Median completion time of the due requests of the before window that were "
               "completed."),
        ),
        "after": (
            _l("First day of the after window (the day of the change)."),
            _l("Last day of the after window: 89 days after the change, or today when "
               "sooner."),
            _l("Requests due in the after window."),
            _l("Of those, completed at or before their deadline."),
            _l("On-time rate of the after window; empty when nothing was due."),
            _l("Median completion time of the due requests of the after window that were "
               "completed."),
        ),
    }[side]
    first, last, due, on_time, on_time_rate, median = descriptions
    return (
        Field(f"{side}_from", "date", first),
        Field(f"{side}_to", "date", last),
        Field(f"{side}_due", "integer", due, unit="requests", required=True, minimum=0),
        Field(f"{side}_on_time", "integer", on_time, unit="requests", required=True,
              minimum=0),
        Field(f"{side}_on_time_rate", "number", on_time_rate, **_RATE_UNIT),
        Field(f"{side}_median_completion_hours", "number", median, unit="hours", minimum=0),
    )


_DIFFERENCE = {"unit": "fraction", "minimum": -1, "maximum": 1}

WFA_IMPACTS = Dataset(
    name="wfa_impacts",
    title=_l("WFA impact per service"),
    description=_l(
        "For each service that moved to WFA or hybrid work: the on-time rate of the requests "
        "due in the 90 days before the move against the 90 days after, the 95 percent "
        "confidence interval of the difference and the verdict, and the same change in "
        "services that stayed on-site (the comparison group) with the net difference and the "
        "adjusted verdict."),
    fields=(
        SERVICE_CODE,
        Field("change_date", "date", _l(
            "The date of the service's latest move to wfa or hybrid work."), required=True),
        Field("from_mode", "string", _l(
            "The work mode before the move; empty when the history does not say."),
            enum=WORK_MODES),
        Field("to_mode", "string", _l("The work mode moved to: wfa or hybrid."),
              required=True, enum=("wfa", "hybrid")),
        Field("reporting_since", "date", _l(
            "The service's reporting start: the date of its first reported request; empty "
            "when it never reported.")),
        *_side_fields("before"),
        *_side_fields("after"),
        Field("difference", "number", _l(
            "After minus before on-time rate; empty without a verdict."), **_DIFFERENCE),
        Field("ci_low", "number", _l(
            "Lower end of the 95 percent confidence interval of the difference (Newcombe)."),
            **_DIFFERENCE),
        Field("ci_high", "number", _l(
            "Upper end of the 95 percent confidence interval of the difference."), **_DIFFERENCE),
        Field("verdict", "string", _l(
            "decline or improvement when the interval lies wholly below or above zero, "
            "no_significant_change when it contains zero, not_enough_data otherwise."),
            required=True, enum=VERDICTS),
        Field("verdict_reason", "string", _l(
            "Why there is no verdict: partial_history (the reports do not cover the before "
            "window) or too_few_requests (fewer than 30 due on a side)."),
            enum=VERDICT_REASONS),
        Field("comparison_scope", "string", _l(
            "Where the comparison group comes from: the service's department, or the "
            "province; empty when there is none."), enum=COMPARISON_SCOPES),
        Field("comparison_services", "string", _l(
            "The codes of the comparison group's services, separated by spaces.")),
        Field("comparison_before_due", "integer", _l(
            "Requests of the comparison group due in the before window."), unit="requests",
            minimum=0),
        Field("comparison_before_on_time", "integer", _l(
            "Of those, completed on time."), unit="requests", minimum=0),
        Field("comparison_after_due", "integer", _l(
            "Requests of the comparison group due in the after window."), unit="requests",
            minimum=0),
        Field("comparison_after_on_time", "integer", _l(
            "Of those, completed on time."), unit="requests", minimum=0),
        Field("comparison_difference", "number", _l(
            "The comparison group's after minus before on-time rate."), **_DIFFERENCE),
        Field("comparison_ci_low", "number", _l(
            "Lower end of its 95 percent confidence interval."), **_DIFFERENCE),
        Field("comparison_ci_high", "number", _l(
            "Upper end of its 95 percent confidence interval."), **_DIFFERENCE),
        Field("net_difference", "number", _l(
            "The service's difference minus the comparison group's; empty without both."),
            unit="fraction", minimum=-2, maximum=2),
        Field("net_ci_low", "number", _l(
            "Lower end of the 95 percent confidence interval of the net difference (MOVER)."),
            unit="fraction", minimum=-2, maximum=2),
        Field("net_ci_high", "number", _l(
            "Upper end of the 95 percent confidence interval of the net difference."),
            unit="fraction", minimum=-2, maximum=2),
        Field("adjusted_verdict", "string", _l(
            "The verdict read from the net difference's interval, like verdict."),
            required=True, enum=VERDICTS),
        Field("adjusted_verdict_reason", "string", _l(
            "Why there is no adjusted verdict: no_verdict or no_comparison_group."),
            enum=ADJUSTED_VERDICT_REASONS),
    ),
    primary_key=("service_code",),
    foreign_keys=(SERVICE_KEY,),
    rows=wfa_rows,
    frequency="DAILY",
    filters=("service", "department"),
)
