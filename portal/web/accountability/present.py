"""Presentation of the accountability figures: verdict sentences, sorting, SVG chart geometry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.i18n import localized
from portal.services.accountability.tables import Scorecard
from portal.services.catalogue import public_figures
from portal.services.metrics.wfa_impact import MIN_COMPLETED, Comparison, WfaImpact
from portal.web.formatting import date_long, work_mode_label

VERDICT_LABELS = {
    "decline": _l("Significant decline"),
    "improvement": _l("Significant improvement"),
    "no_significant_change": _l("No significant change"),
    "not_enough_data": _l("Not enough data"),
}


def verdict_label(verdict: str) -> str:
    """Return the short translated name of a verdict."""
    return str(VERDICT_LABELS.get(verdict, verdict))


def rate_text(value: float | None) -> str:
    """Format a rate as a percentage with one decimal at most (— when there is none)."""
    return public_figures.rate_text(value, no_value="—")


def points_text(value: float | None) -> str:
    """Format a difference of rates in signed percentage points, e.g. +3.5 or −12.0."""
    if value is None:
        return "—"
    return format_decimal(value * 100, "+#,##0.0;−#,##0.0")


def _side_texts(impact: Comparison) -> dict[str, Any]:
    return {
        "before": rate_text(impact.before.on_time_rate),
        "after": rate_text(impact.after.on_time_rate),
        "low": points_text(impact.ci_low),
        "high": points_text(impact.ci_high),
        "n_before": impact.before.completed,
        "n_after": impact.after.completed,
        "min": MIN_COMPLETED,
    }


def verdict_sentence(impact: Comparison) -> str:
    """Say the WFA impact of a service (or of pooled services) as whole sentences."""
    texts = _side_texts(impact)
    if isinstance(impact, WfaImpact):
        texts["mode"] = work_mode_label(impact.to_mode)
        texts["date"] = date_long(impact.change_date)
        if impact.verdict == "not_enough_data":
            return _("Not enough data to judge the move to %(mode)s on %(date)s: "
                     "%(n_before)d requests were completed in the 90 days before and "
                     "%(n_after)d after, and at least %(min)d are needed on each side.", **texts)
        if impact.verdict == "decline":
            return _("After the move to %(mode)s on %(date)s, the share of requests completed "
                     "on time fell from %(before)s to %(after)s. This is a significant "
                     "decline: the 95%% confidence interval of the change, %(low)s to "
                     "%(high)s percentage points, lies entirely below zero.", **texts)
        if impact.verdict == "improvement":
            return _("After the move to %(mode)s on %(date)s, the share of requests completed "
                     "on time rose from %(before)s to %(after)s. This is a significant "
                     "improvement: the 95%% confidence interval of the change, %(low)s to "
                     "%(high)s percentage points, lies entirely above zero.", **texts)
        return _("After the move to %(mode)s on %(date)s, the share of requests completed on "
                 "time went from %(before)s to %(after)s. The change is not significant: the "
                 "95%% confidence interval, %(low)s to %(high)s percentage points, includes "
                 "zero.", **texts)
    if impact.verdict == "not_enough_data":
        return _("Not enough data to judge the services that moved to WFA or hybrid work "
                 "together: %(n_before)d requests were completed in the 90 days before their "
                 "moves and %(n_after)d after, and at least %(min)d are needed on each side.",
                 **texts)
    if impact.verdict == "decline":
        return _("Taken together, the services that moved to WFA or hybrid work completed "
                 "%(before)s of requests on time before their moves and %(after)s after. "
                 "This is a significant decline: the 95%% confidence interval of the change, "
                 "%(low)s to %(high)s percentage points, lies entirely below zero.", **texts)
    if impact.verdict == "improvement":
        return _("Taken together, the services that moved to WFA or hybrid work completed "
                 "%(before)s of requests on time before their moves and %(after)s after. "
                 "This is a significant improvement: the 95%% confidence interval of the "
                 "change, %(low)s to %(high)s percentage points, lies entirely above zero.",
                 **texts)
    return _("Taken together, the services that moved to WFA or hybrid work completed "
             "%(before)s of requests on time before their moves and %(after)s after. The "
             "change is not significant: the 95%% confidence interval, %(low)s to %(high)s "
             "percentage points, includes zero.", **texts)


def pooled_services_text(count: int) -> str:
    """Say how many services a pooled figure covers."""
    return ngettext("%(num)d service moved to WFA or hybrid work.",
                    "%(num)d services moved to WFA or hybrid work.", count)


# Sorting ------------------------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[Scorecard], Any]] = {
    "name": lambda r: localized(r.department, "name").text.casefold(),
    "services": lambda r: r.services,
    "onsite": lambda r: r.by_mode.get("onsite", 0),
    "hybrid": lambda r: r.by_mode.get("hybrid", 0),
    "wfa": lambda r: r.by_mode.get("wfa", 0),
    "completed": lambda r: r.completion.completed,
    "on_time": lambda r: r.completion.on_time_rate,
    "breaching": lambda r: len(r.breaching),
    "first_response": lambda r: r.feedback.first_response_on_time_rate,
    "resolved": lambda r: r.feedback.resolved_on_time_rate,
    "overdue": lambda r: r.feedback.overdue_now,
    "ikm": lambda r: None if r.ikm.ikm is None else float(r.ikm.ikm),
    "wfa_change": lambda r: None if r.wfa is None else r.wfa.difference,
}


def sort_rows(rows: list[Scorecard], key: str, descending: bool) -> list[Scorecard]:
    """Sort scorecards by a column; rows without a value always come last."""
    getter = SORT_KEYS.get(key, SORT_KEYS["name"])
    present = [r for r in rows if getter(r) is not None]
    missing = [r for r in rows if getter(r) is None]
    present.sort(key=lambda r: (getter(r), SORT_KEYS["name"](r)), reverse=descending)
    return present + missing


# Charts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalMark:
    """One row of the confidence-interval chart, in SVG user units."""

    label: str
    y: float
    x: float | None
    x_low: float | None
    x_high: float | None
    verdict: str
    text: str


@dataclass(frozen=True)
class IntervalChart:
    """A horizontal chart of differences with their confidence intervals."""

    width: int
    height: int
    left: int
    right: int
    zero_x: float
    ticks: list[tuple[float, str]]
    marks: list[IntervalMark]


def interval_chart(items: list[tuple[str, Comparison]], width: int = 640) -> IntervalChart:
    """Lay out difference-with-interval marks for some comparisons on one shared scale."""
    row_height, top, left, right = 34, 30, 220, width - 20
    bounds = [v for _label, c in items for v in (c.ci_low, c.ci_high) if v is not None]
    low = min([-0.1, *bounds])
    high = max([0.1, *bounds])
    # Whole tenths, so the ticks are round numbers.
    low, high = _floor_tenth(low), _ceil_tenth(high)

    def x_of(value: float) -> float:
        return round(left + (value - low) / (high - low) * (right - left), 1)

    ticks = []
    step = 0.1 if high - low <= 0.6 else 0.2
    value = low
    while value <= high + 1e-9:
        tick = round(value * 100)
        ticks.append((x_of(value), format_decimal(tick, "+#,##0;−#,##0") if tick else "0"))
        value += step
    marks = []
    for index, (label, comparison) in enumerate(items):
        has = comparison.difference is not None
        marks.append(IntervalMark(
            label=label,
            y=top + index * row_height + row_height / 2,
            x=x_of(comparison.difference) if has else None,
            x_low=x_of(comparison.ci_low) if has else None,
            x_high=x_of(comparison.ci_high) if has else None,
            verdict=comparison.verdict,
            text=verdict_label(comparison.verdict),
        ))
    height = top + len(items) * row_height + 10
    return IntervalChart(width, height, left, right, x_of(0.0), ticks, marks)


def _floor_tenth(value: float) -> float:
    import math

    return math.floor(value * 10 - 1e-9) / 10


def _ceil_tenth(value: float) -> float:
    import math

    return math.ceil(value * 10 + 1e-9) / 10


def localized_name(obj: Any) -> Any:
    """Return an object's name in the reader's language."""
    return localized(obj, "name")


def pooled_label() -> str:
    """Label of the pooled row of a chart."""
    return _("All services that moved, pooled")
