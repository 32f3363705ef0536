"""Presentation of the accountability figures: verdict sentences, sorting, SVG chart geometry."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import format_decimal, format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.i18n import localized
from portal.models.catalogue import DPRD_COMMISSIONS
from portal.models.metrics import SERVICE_STATUSES
from portal.services.accountability.tables import Scorecard
from portal.services.metrics.wfa_impact import (
    MIN_DUE,
    Comparison,
    ComparisonGroup,
    PooledWfaImpact,
    WfaImpact,
)
from portal.web.formatting import date_long, rate_text, work_mode_label

VERDICT_LABELS = {
    "decline": _l("Significant decline"),
    "improvement": _l("Significant improvement"),
    "no_significant_change": _l("No significant change"),
    "not_enough_data": _l("Not enough data"),
}


def verdict_label(verdict: str) -> str:
    """Return the short translated name of a verdict."""
    return str(VERDICT_LABELS.get(verdict, verdict))


# What the accountability tables show where a figure is missing.
NO_VALUE = "—"


def rate_or_dash(value: float | None) -> str:
    """Format a rate as every page does (one decimal at most), "—" when there is none."""
    return rate_text(value, no_value=NO_VALUE)


def points_text(value: float | None) -> str:
    """Format a difference of rates in signed percentage points, e.g. +3.5 or −12.0."""
    if value is None:
        return NO_VALUE
    return format_decimal(value * 100, "+#,##0.0;−#,##0.0")


def interval_text(low: float | None, high: float | None) -> str:
    """Say an interval of differences in signed percentage points ("—" when there is none)."""
    if low is None or high is None:
        return NO_VALUE
    return _("%(low)s to %(high)s", low=points_text(low), high=points_text(high))


def _direction(value: float) -> int:
    """Return -1, 0 or 1: the sign of a difference as shown (one decimal of a point)."""
    points = round(value * 100, 1)
    return (points > 0) - (points < 0)


def _size(value: float) -> dict[str, Any]:
    """Return the unsigned size of a difference in points, and the count that picks the plural.

    English says "1 point" but "1.5 points": the plural form depends on the exact value shown
    (Indonesian has a single form).
    """
    points = round(abs(value) * 100, 1)
    return {"points": format_decimal(points, "#,##0.#"), "num": 1 if points == 1 else 2}


def _interval_texts(low: float | None, high: float | None) -> dict[str, str]:
    return {"low": points_text(low), "high": points_text(high)}


def _not_enough_sentence(impact: Comparison) -> str:
    """Say in plain words why a service has no verdict."""
    if impact.verdict_reason == "partial_history" and isinstance(impact, WfaImpact):
        return _("Reports for this service begin on %(start)s, after the comparison period "
                 "starts on %(window_start)s.",
                 start=date_long(impact.reporting_since),
                 window_start=date_long(impact.before.from_date))
    if impact.verdict_reason == "no_service_with_verdict" and isinstance(
            impact, PooledWfaImpact):
        return ngettext(
            "The service that moved does not have enough data for a verdict of its own, so "
            "there is nothing to add up.",
            "None of the %(num)d services that moved has enough data for a verdict of its "
            "own, so there is nothing to add up.",
            impact.services_moved)
    return _("Too few requests fell due: %(before)s before and %(after)s after; at least "
             "%(min)s are needed on each side.",
             before=format_number(impact.before.due), after=format_number(impact.after.due),
             min=format_number(MIN_DUE))


def verdict_sentence(impact: Comparison) -> str:
    """Say the verdict before adjustment in one sentence a DPRD member can read aloud."""
    if impact.verdict == "not_enough_data" or impact.difference is None:
        return _not_enough_sentence(impact)
    texts: dict[str, Any] = {
        "before": rate_or_dash(impact.before.on_time_rate),
        "after": rate_or_dash(impact.after.on_time_rate),
        **_interval_texts(impact.ci_low, impact.ci_high),
        **_size(impact.difference),
    }
    direction = _direction(impact.difference)
    if isinstance(impact, WfaImpact):
        texts["mode"] = work_mode_label(impact.to_mode, in_sentence=True)
        texts["date"] = date_long(impact.change_date)
        if impact.verdict == "decline":
            return ngettext(
                "On-time completion fell %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).",
                "On-time completion fell %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).", **texts)
        if impact.verdict == "improvement":
            return ngettext(
                "On-time completion rose %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).",
                "On-time completion rose %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).", **texts)
        if direction < 0:
            return ngettext(
                "On-time completion fell %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).",
                "On-time completion fell %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).", **texts)
        if direction > 0:
            return ngettext(
                "On-time completion rose %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).",
                "On-time completion rose %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).", **texts)
        return _("On-time completion stayed at %(before)s of the requests that fell due after "
                 "the move to %(mode)s on %(date)s (95%% confidence interval of the change "
                 "%(low)s to %(high)s points).", **texts)
    if impact.verdict == "decline":
        return ngettext(
            "Taken together, on-time completion at these services fell %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).",
            "Taken together, on-time completion at these services fell %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).", **texts)
    if impact.verdict == "improvement":
        return ngettext(
            "Taken together, on-time completion at these services rose %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).",
            "Taken together, on-time completion at these services rose %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).", **texts)
    if direction < 0:
        return ngettext(
            "Taken together, on-time completion at these services fell %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taken together, on-time completion at these services fell %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    if direction > 0:
        return ngettext(
            "Taken together, on-time completion at these services rose %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taken together, on-time completion at these services rose %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    return _("Taken together, on-time completion at these services stayed at %(before)s of "
             "the requests that fell due after their moves (95%% confidence interval of the "
             "change %(low)s to %(high)s points).", **texts)


def _comparison_sentence(group: ComparisonGroup) -> str:
    """Say what happened at the comparison group over the same weeks."""
    texts: dict[str, Any] = {
        "before": rate_or_dash(group.before.on_time_rate),
        "after": rate_or_dash(group.after.on_time_rate),
        **_size(group.difference),
    }
    direction = _direction(group.difference)
    if group.scope == "department":
        if direction < 0:
            return ngettext(
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site fell %(points)s point, from %(before)s to %(after)s.",
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site fell %(points)s points, from %(before)s to %(after)s.",
                **texts)
        if direction > 0:
            return ngettext(
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site rose %(points)s point, from %(before)s to %(after)s.",
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site rose %(points)s points, from %(before)s to %(after)s.",
                **texts)
        return _("Over the same weeks, on-time completion at the department's services that "
                 "stayed on-site stayed at %(before)s.", **texts)
    if direction < 0:
        return ngettext(
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site fell %(points)s point, from %(before)s to %(after)s.",
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site fell %(points)s points, from %(before)s to %(after)s.", **texts)
    if direction > 0:
        return ngettext(
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site rose %(points)s point, from %(before)s to %(after)s.",
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site rose %(points)s points, from %(before)s to %(after)s.", **texts)
    return _("Over the same weeks, on-time completion at the province's services that stayed "
             "on-site stayed at %(before)s.", **texts)


def _net_sentence(impact: Comparison) -> str:
    """Say the net difference and what its interval shows."""
    assert impact.net_difference is not None
    texts: dict[str, Any] = {
        **_interval_texts(impact.net_ci_low, impact.net_ci_high),
        **_size(impact.net_difference),
    }
    direction = _direction(impact.net_difference)
    if impact.adjusted_verdict == "decline":
        return ngettext(
            "Taking that into account, on-time completion was %(points)s point worse, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).",
            "Taking that into account, on-time completion was %(points)s points worse, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).", **texts)
    if impact.adjusted_verdict == "improvement":
        return ngettext(
            "Taking that into account, on-time completion was %(points)s point better, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).",
            "Taking that into account, on-time completion was %(points)s points better, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).", **texts)
    if direction < 0:
        return ngettext(
            "Taking that into account, on-time completion was %(points)s point worse, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taking that into account, on-time completion was %(points)s points worse, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    if direction > 0:
        return ngettext(
            "Taking that into account, on-time completion was %(points)s point better, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taking that into account, on-time completion was %(points)s points better, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    return _("Taking that into account, nothing of the change remains (95%% confidence "
             "interval %(low)s to %(high)s points).", **texts)


def adjusted_sentence(impact: Comparison) -> str:
    """Say the verdict net of the services that stayed on-site, to be read aloud.

    Two whole sentences: what happened at the comparison group over the same weeks, then
    what remains of the change; or one sentence saying why there is no adjusted verdict.
    """
    if impact.adjusted_verdict_reason == "no_verdict" or impact.difference is None:
        return _("Without a verdict of its own, there is no comparison with services that "
                 "stayed on-site either.")
    if impact.adjusted_verdict_reason == "different_change_dates":
        return _("These services moved on different dates, so no single group of services "
                 "that stayed on-site covers the same weeks; each service's own comparison is "
                 "shown on its department's scorecard.")
    if impact.comparison is None or impact.net_difference is None:
        return _("No other service stayed on-site throughout the same weeks with enough "
                 "requests due and reports covering them, so there is nothing to compare "
                 "with.")
    return f"{_comparison_sentence(impact.comparison)} {_net_sentence(impact)}"


def comparison_text(group: ComparisonGroup | None) -> str:
    """Say which services the comparison group holds, for a table cell."""
    if group is None:
        return _("None")
    if group.scope == "department":
        return ngettext("%(num)d on-site service of the department",
                        "%(num)d on-site services of the department", len(group.services))
    return ngettext("%(num)d on-site service across the province",
                    "%(num)d on-site services across the province", len(group.services))


def pooled_services_text(impact: PooledWfaImpact) -> str:
    """Say how many services a pooled figure adds up, of those that moved."""
    return ngettext(
        "%(num)d service with a verdict of its own is added up, of %(moved)s that moved to "
        "WFA or hybrid work.",
        "%(num)d services with a verdict of their own are added up, of %(moved)s that moved "
        "to WFA or hybrid work.",
        impact.services, moved=format_number(impact.services_moved))


# Sorting ------------------------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[Scorecard], Any]] = {
    "name": lambda r: localized(r.department, "name").text.casefold(),
    "services": lambda r: r.services,
    "onsite": lambda r: r.by_mode.get("onsite", 0),
    "hybrid": lambda r: r.by_mode.get("hybrid", 0),
    "wfa": lambda r: r.by_mode.get("wfa", 0),
    "completed": lambda r: r.requests.completed,
    "due": lambda r: r.requests.due,
    "on_time": lambda r: r.requests.on_time_rate,
    "breaching": lambda r: len(r.breaching),
    "first_response": lambda r: r.feedback.first_response_on_time_rate,
    "resolved": lambda r: r.feedback.resolved_on_time_rate,
    "overdue": lambda r: r.feedback.overdue_now,
    "ikm": lambda r: None if r.ikm.ikm is None else float(r.ikm.ikm),
    "wfa_change": lambda r: None if r.wfa is None else r.wfa.difference,
    "wfa_net": lambda r: None if r.wfa is None else r.wfa.net_difference,
    "commission": lambda r: None if r.department is None or not r.department.dprd_commission
    else DPRD_COMMISSIONS.index(r.department.dprd_commission),
    **{f"status_{status}": (lambda r, status=status: r.status_counts.get(status, 0))
       for status in SERVICE_STATUSES},
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


def label_lines(text: str, width: int = 28, lines: int = 2) -> list[str]:
    """Break a chart label into at most ``lines`` lines of at most ``width`` characters.

    Words wrap; what does not fit ends the last line with an ellipsis (the start of a name
    is what identifies it, so nothing is ever cut at the left). Charts keep the full name in
    a <title>.
    """
    wrapped = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    if len(wrapped) <= lines:
        return wrapped
    return [*wrapped[:lines - 1], wrapped[lines - 1][:width - 1].rstrip() + "…"]


@dataclass(frozen=True)
class RateBar:
    """One department of the on-time chart, in SVG user units."""

    label: str
    lines: list[str]
    y: float
    width: float
    text: str


@dataclass(frozen=True)
class RateChart:
    """A horizontal bar per department: its on-time rate on a 0-100% scale with gridlines."""

    width: int
    height: int
    left: int
    plot_width: int
    top: int
    ticks: list[tuple[float, str]]
    bars: list[RateBar]


def rate_chart(items: list[tuple[str, float]], width: int = 660) -> RateChart:
    """Lay out on-time rates as horizontal bars, with a labelled 0-100% scale on top."""
    left, right, top, row_height = 250, width - 60, 26, 34
    plot_width = right - left
    ticks = [(round(left + share * plot_width, 1), rate_text(share))
             for share in (0, 0.25, 0.5, 0.75, 1)]
    bars = [
        RateBar(label, label_lines(label), top + index * row_height,
                round(rate * plot_width, 1), rate_or_dash(rate))
        for index, (label, rate) in enumerate(items)
    ]
    return RateChart(width, top + len(items) * row_height + 6, left, plot_width, top, ticks,
                     bars)


def _raw(comparison: Comparison) -> tuple[float | None, float | None, float | None, str]:
    return (comparison.difference, comparison.ci_low, comparison.ci_high, comparison.verdict)


def _net(comparison: Comparison) -> tuple[float | None, float | None, float | None, str]:
    return (comparison.net_difference, comparison.net_ci_low, comparison.net_ci_high,
            comparison.adjusted_verdict)


def interval_charts(
    items: list[tuple[str, Comparison]], width: int = 640
) -> tuple[IntervalChart, IntervalChart]:
    """Lay out the change and the net change of some comparisons, both on one shared scale.

    The first chart shows each change after the move (the verdict), the second the change net
    of the services that stayed on-site (the adjusted verdict); a shared scale lets a reader
    compare the two lengths at a glance.
    """
    bounds = [v for _label, c in items for v in (c.ci_low, c.ci_high, c.net_ci_low,
                                                  c.net_ci_high) if v is not None]
    # Whole tenths, so the ticks are round numbers.
    low, high = _floor_tenth(min([-0.1, *bounds])), _ceil_tenth(max([0.1, *bounds]))
    return (_interval_chart(items, _raw, low, high, width),
            _interval_chart(items, _net, low, high, width))


def _interval_chart(
    items: list[tuple[str, Comparison]],
    read: Callable[[Comparison], tuple[float | None, float | None, float | None, str]],
    low: float, high: float, width: int,
) -> IntervalChart:
    """Lay out difference-with-interval marks on the scale low..high."""
    row_height, top, left, right = 34, 30, 220, width - 20

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
        estimate, ci_low, ci_high, verdict = read(comparison)
        has = estimate is not None and ci_low is not None and ci_high is not None
        marks.append(IntervalMark(
            label=label,
            y=top + index * row_height + row_height / 2,
            x=x_of(estimate) if has else None,
            x_low=x_of(ci_low) if has else None,
            x_high=x_of(ci_high) if has else None,
            verdict=verdict,
            text=verdict_label(verdict),
        ))
    height = top + len(items) * row_height + 10
    return IntervalChart(width, height, left, right, x_of(0.0), ticks, marks)


def _floor_tenth(value: float) -> float:
    return math.floor(value * 10 - 1e-9) / 10


def _ceil_tenth(value: float) -> float:
    return math.ceil(value * 10 + 1e-9) / 10


# Stand-ins for the page number and the page count, cut out of the translated sentence.
_PAGE, _PAGES = 918273645, 546372819


def page_number_parts() -> tuple[str, str, str]:
    """Return the translated "Page N of M" cut around N and M, for a print page footer.

    The footer is drawn by CSS counters (``counter(page)``, ``counter(pages)``), so the
    words around them come from the whole translated sentence (never glued fragments).
    """
    text = _("Page %(num)d of %(total)d", num=_PAGE, total=_PAGES)
    before, found, rest = text.partition(str(_PAGE))
    between, found_total, after = rest.partition(str(_PAGES))
    if not found or not found_total:
        return "", " / ", ""  # a translation that puts the count first: numbers only
    return before, between, after


def localized_name(obj: Any) -> Any:
    """Return an object's name in the reader's language."""
    return localized(obj, "name")


def pooled_label() -> str:
    """Label of the pooled row of a chart."""
    return _("Services with a verdict, added up")
