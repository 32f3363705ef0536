"""How the accountability pages present figures: formatted rows, sentences, sorting, charts."""

from __future__ import annotations

import math
import textwrap
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from babel import numbers
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.i18n import LocalText, localized
from portal.models.catalogue import DPRD_COMMISSIONS, Service
from portal.models.metrics import SERVICE_STATUSES
from portal.services.accountability.tables import HistoryEntry, Scorecard, ServiceRow
from portal.services.metrics.wfa_impact import (
    MIN_DUE,
    Comparison,
    ComparisonGroup,
    PooledWfaImpact,
    SideFigures,
    WfaImpact,
)
from portal.services.survey.skm import IkmResult
from portal.web.formatting import Formats, memo_by_lang

VERDICT_LABELS = {
    "decline": _l("Significant decline"),
    "improvement": _l("Significant improvement"),
    "no_significant_change": _l("No significant change"),
    "not_enough_data": _l("Not enough data"),
}


def verdict_label(verdict: str) -> str:
    """Return the short translated name of a verdict."""
    return str(VERDICT_LABELS.get(verdict, verdict))


_VERDICT_LABEL = memo_by_lang(verdict_label)

def status_labels(statuses: Iterable[str], fmt: Formats | None = None) -> dict[str, str]:
    """Return each service status's translated name (memoised per language)."""
    fmt = fmt or Formats()
    return {status: fmt.status_label(status) for status in statuses}


def verdict_labels(fmt: Formats | None = None) -> dict[str, str]:
    """Return each verdict's short translated name (memoised per language)."""
    lang = (fmt or Formats()).lang
    return {verdict: _VERDICT_LABEL(lang, verdict) for verdict in VERDICT_LABELS}


# What the accountability tables show where a figure is missing.
NO_VALUE = "—"
# Signed percentage points (+3.5, −12.0), unsigned ones (1.5), signed whole points of a scale.
_POINTS = numbers.parse_pattern("+#,##0.0;−#,##0.0")
_SIZE = numbers.parse_pattern("#,##0.#")
_TICK = numbers.parse_pattern("+#,##0;−#,##0")

def _esc(value: Any) -> str:
    """Return ``value`` escaped exactly as markupsafe's ``escape`` does, as a plain str.

    The HTML built below escapes thousands of values a page (a scorecard about 4,000);
    ``escape`` wraps each in a Markup object, about a microsecond each. Most values (figures,
    labels, names) hold nothing to escape and are returned as they are; a content text in the
    reader's language (LocalText, not a fallback) is its text, escaped.
    """
    if type(value) is LocalText and not value.is_fallback:
        value = value.text
    if type(value) is str:
        if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
            return str(escape(value))
        return value
    return str(escape(value))


class KeptFormatting:
    """What the pages format from figures that are read and never changed, kept per figures
    objects and the other values it depends on (the language, ...), while the figures live.

    A standard period's figures are a stored snapshot that each process keeps unpickled while
    it is current (portal/services/accountability/snapshots.py): the same objects from one
    visit to the next until a refresh stores new ones. Their rows formatted in a language are
    the same on each visit too, while the page cache misses far more often: every report,
    feedback and survey answer changes its data version, and each sorting, commission and
    language is a page of its own. Keyed by the objects' identity and held weakly: what the
    snapshots no longer keep is formatted no more (its entries go with it), and figures
    computed on a visit (a custom period) are new objects each time, formatted afresh.
    Bounded: the least recently used go first.

    ``enabled`` (when given) is asked on each look-up: with the page cache off
    (``PORTAL_PAGE_CACHE_SECONDS`` 0: development, tests, the bench's uncached figures) nothing
    a page shows is kept between requests, these rows included, so that "cache off" measures
    the whole cost of a page.
    """

    def __init__(self, size: int, enabled: Callable[[], bool] | None = None) -> None:
        self._size = size
        self._enabled = enabled
        self._kept: OrderedDict[tuple, tuple[tuple[weakref.ref, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()
        # Entries whose figures are gone, dropped on the next look-up: a weak reference's
        # callback may run inside any statement (the collector), so it only notes them.
        self._gone: list[tuple] = []

    def get(self, figures: tuple, key: tuple, make: Callable[[], Any]) -> Any:
        """Return what ``make()`` formats from ``figures`` (objects), as kept for ``key``."""
        if self._enabled is not None and not self._enabled():
            return make()
        where = (tuple(map(id, figures)), *key)
        with self._lock:
            while self._gone:
                self._kept.pop(self._gone.pop(), None)
            found = self._kept.get(where)
            if found is not None and all(
                    ref() is given for ref, given in zip(found[0], figures, strict=True)):
                self._kept.move_to_end(where)
                return found[1]
        value = make()
        try:
            refs = tuple(weakref.ref(given, lambda _ref: self._gone.append(where))
                         for given in figures)
        except TypeError:  # objects that take no weak reference: formatted on every call
            return value
        with self._lock:
            self._kept[where] = (refs, value)
            self._kept.move_to_end(where)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._kept)


# The pages' formatted rows and tables: 45 entries a province table's page (its 41 rows and
# 4 tables) and 3 a scorecard's, per language and period.
def _page_cache_on() -> bool:
    """Tell whether this app keeps rendered pages (and so these rows) between requests."""
    return bool(current_app.config["PORTAL_PAGE_CACHE_SECONDS"])


KEPT = KeptFormatting(1024, enabled=_page_cache_on)


# The text functions below take the page's formatters (``fmt``: one look-up of the reader's
# language a page, see portal.web.formatting.Formats); those called once a page or from
# elsewhere make their own when given none.


def rate_or_dash(value: float | None, fmt: Formats | None = None) -> str:
    """Format a rate as every page does (one decimal at most), "—" when there is none."""
    return (fmt or Formats()).rate(value, NO_VALUE)


def points_text(value: float | None, fmt: Formats | None = None) -> str:
    """Format a difference of rates in signed percentage points, e.g. +3.5 or −12.0."""
    if value is None:
        return NO_VALUE
    return (fmt or Formats()).decimal(value * 100, _POINTS)


def interval_text(low: float | None, high: float | None, fmt: Formats | None = None) -> str:
    """Say an interval of differences in signed percentage points ("—" when there is none)."""
    if low is None or high is None:
        return NO_VALUE
    fmt = fmt or Formats()
    return fmt.gettext("%(low)s to %(high)s", low=points_text(low, fmt),
                       high=points_text(high, fmt))


def hours_or_dash(value: float | None, fmt: Formats) -> str:
    """Format a median in hours to one decimal, "—" when there is none."""
    return NO_VALUE if value is None else fmt.number(round(value, 1))


def _direction(value: float) -> int:
    """Return -1, 0 or 1: the sign of a difference as shown (one decimal of a point)."""
    points = round(value * 100, 1)
    return (points > 0) - (points < 0)


def _size(value: float, fmt: Formats) -> dict[str, Any]:
    """Return the unsigned size of a difference in points, and the count that picks the plural.

    English says "1 point" but "1.5 points": the plural form depends on the exact value shown
    (Indonesian has a single form).
    """
    points = round(abs(value) * 100, 1)
    return {"points": fmt.decimal(points, _SIZE), "num": 1 if points == 1 else 2}


def _interval_texts(low: float | None, high: float | None, fmt: Formats) -> dict[str, str]:
    return {"low": points_text(low, fmt), "high": points_text(high, fmt)}


def _not_enough_sentence(impact: Comparison, fmt: Formats) -> str:
    """Say in plain words why a service has no verdict."""
    if impact.verdict_reason == "partial_history" and isinstance(impact, WfaImpact):
        return fmt.gettext("Reports for this service begin on %(start)s, after the comparison "
                           "period starts on %(window_start)s.",
                           start=fmt.date_long(impact.reporting_since),
                           window_start=fmt.date_long(impact.before.from_date))
    if impact.verdict_reason == "no_service_with_verdict" and isinstance(
            impact, PooledWfaImpact):
        return fmt.ngettext(
            "The service that moved does not have enough data for a verdict of its own, so "
            "there is nothing to add up.",
            "None of the %(num)d services that moved has enough data for a verdict of its "
            "own, so there is nothing to add up.",
            impact.services_moved)
    return fmt.gettext("Too few requests fell due: %(before)s before and %(after)s after; at "
                       "least %(min)s are needed on each side.",
                       before=fmt.number(impact.before.due), after=fmt.number(impact.after.due),
                       min=fmt.number(MIN_DUE))


def verdict_sentence(impact: Comparison, fmt: Formats | None = None) -> str:
    """Say the verdict before adjustment in one sentence a DPRD member can read aloud."""
    fmt = fmt or Formats()
    if impact.verdict == "not_enough_data" or impact.difference is None:
        return _not_enough_sentence(impact, fmt)
    texts: dict[str, Any] = {
        "before": rate_or_dash(impact.before.on_time_rate, fmt),
        "after": rate_or_dash(impact.after.on_time_rate, fmt),
        **_interval_texts(impact.ci_low, impact.ci_high, fmt),
        **_size(impact.difference, fmt),
    }
    direction = _direction(impact.difference)
    if isinstance(impact, WfaImpact):
        texts["mode"] = fmt.work_mode_label(impact.to_mode, in_sentence=True)
        texts["date"] = fmt.date_long(impact.change_date)
        if impact.verdict == "decline":
            return fmt.ngettext(
                "On-time completion fell %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).",
                "On-time completion fell %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).", **texts)
        if impact.verdict == "improvement":
            return fmt.ngettext(
                "On-time completion rose %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).",
                "On-time completion rose %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
                "points).", **texts)
        if direction < 0:
            return fmt.ngettext(
                "On-time completion fell %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).",
                "On-time completion fell %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "fall is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).", **texts)
        if direction > 0:
            return fmt.ngettext(
                "On-time completion rose %(points)s point after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).",
                "On-time completion rose %(points)s points after the move to %(mode)s on "
                "%(date)s, from %(before)s to %(after)s of the requests that fell due; this "
                "rise is not statistically clear (95%% confidence interval %(low)s to "
                "%(high)s points, which includes zero).", **texts)
        return fmt.gettext(
            "On-time completion stayed at %(before)s of the requests that fell due after "
            "the move to %(mode)s on %(date)s (95%% confidence interval of the change "
            "%(low)s to %(high)s points).", **texts)
    if impact.verdict == "decline":
        return fmt.ngettext(
            "Taken together, on-time completion at these services fell %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).",
            "Taken together, on-time completion at these services fell %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).", **texts)
    if impact.verdict == "improvement":
        return fmt.ngettext(
            "Taken together, on-time completion at these services rose %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).",
            "Taken together, on-time completion at these services rose %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is statistically clear (95%% confidence interval %(low)s to %(high)s "
            "points).", **texts)
    if direction < 0:
        return fmt.ngettext(
            "Taken together, on-time completion at these services fell %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taken together, on-time completion at these services fell %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this fall is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    if direction > 0:
        return fmt.ngettext(
            "Taken together, on-time completion at these services rose %(points)s point "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taken together, on-time completion at these services rose %(points)s points "
            "after their moves, from %(before)s to %(after)s of the requests that fell due; "
            "this rise is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    return fmt.gettext(
        "Taken together, on-time completion at these services stayed at %(before)s of "
        "the requests that fell due after their moves (95%% confidence interval of the "
        "change %(low)s to %(high)s points).", **texts)


def _comparison_sentence(group: ComparisonGroup, fmt: Formats) -> str:
    """Say what happened at the comparison group over the same weeks."""
    texts: dict[str, Any] = {
        "before": rate_or_dash(group.before.on_time_rate, fmt),
        "after": rate_or_dash(group.after.on_time_rate, fmt),
        **_size(group.difference, fmt),
    }
    direction = _direction(group.difference)
    if group.scope == "department":
        if direction < 0:
            return fmt.ngettext(
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site fell %(points)s point, from %(before)s to %(after)s.",
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site fell %(points)s points, from %(before)s to %(after)s.",
                **texts)
        if direction > 0:
            return fmt.ngettext(
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site rose %(points)s point, from %(before)s to %(after)s.",
                "Over the same weeks, on-time completion at the department's services that "
                "stayed on-site rose %(points)s points, from %(before)s to %(after)s.",
                **texts)
        return fmt.gettext(
            "Over the same weeks, on-time completion at the department's services that "
            "stayed on-site stayed at %(before)s.", **texts)
    if direction < 0:
        return fmt.ngettext(
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site fell %(points)s point, from %(before)s to %(after)s.",
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site fell %(points)s points, from %(before)s to %(after)s.", **texts)
    if direction > 0:
        return fmt.ngettext(
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site rose %(points)s point, from %(before)s to %(after)s.",
            "Over the same weeks, on-time completion at the province's services that stayed "
            "on-site rose %(points)s points, from %(before)s to %(after)s.", **texts)
    return fmt.gettext(
        "Over the same weeks, on-time completion at the province's services that stayed "
        "on-site stayed at %(before)s.", **texts)


def _net_sentence(impact: Comparison, fmt: Formats) -> str:
    """Say the net difference and what its interval shows."""
    assert impact.net_difference is not None
    texts: dict[str, Any] = {
        **_interval_texts(impact.net_ci_low, impact.net_ci_high, fmt),
        **_size(impact.net_difference, fmt),
    }
    direction = _direction(impact.net_difference)
    if impact.adjusted_verdict == "decline":
        return fmt.ngettext(
            "Taking that into account, on-time completion was %(points)s point worse, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).",
            "Taking that into account, on-time completion was %(points)s points worse, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).", **texts)
    if impact.adjusted_verdict == "improvement":
        return fmt.ngettext(
            "Taking that into account, on-time completion was %(points)s point better, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).",
            "Taking that into account, on-time completion was %(points)s points better, and "
            "this difference is statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points).", **texts)
    if direction < 0:
        return fmt.ngettext(
            "Taking that into account, on-time completion was %(points)s point worse, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taking that into account, on-time completion was %(points)s points worse, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    if direction > 0:
        return fmt.ngettext(
            "Taking that into account, on-time completion was %(points)s point better, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).",
            "Taking that into account, on-time completion was %(points)s points better, but "
            "this difference is not statistically clear (95%% confidence interval %(low)s to "
            "%(high)s points, which includes zero).", **texts)
    return fmt.gettext("Taking that into account, nothing of the change remains (95%% confidence "
             "interval %(low)s to %(high)s points).", **texts)


def adjusted_sentence(impact: Comparison, fmt: Formats | None = None) -> str:
    """Say the verdict net of the services that stayed on-site, to be read aloud.

    Two whole sentences: what happened at the comparison group over the same weeks, then
    what remains of the change; or one sentence saying why there is no adjusted verdict.
    """
    fmt = fmt or Formats()
    if impact.adjusted_verdict_reason == "no_verdict" or impact.difference is None:
        return fmt.gettext(
            "Without a verdict of its own, there is no comparison with services that "
            "stayed on-site either.")
    if impact.adjusted_verdict_reason == "different_change_dates":
        return fmt.gettext(
            "These services moved on different dates, so no single group of services "
            "that stayed on-site covers the same weeks; each service's own comparison is "
            "shown on its department's scorecard.")
    if impact.comparison is None or impact.net_difference is None:
        return fmt.gettext("No other service stayed on-site throughout the same weeks with enough "
                 "requests due and reports covering them, so there is nothing to compare "
                 "with.")
    return f"{_comparison_sentence(impact.comparison, fmt)} {_net_sentence(impact, fmt)}"


def comparison_text(group: ComparisonGroup | None, fmt: Formats | None = None) -> str:
    """Say which services the comparison group holds, for a table cell."""
    fmt = fmt or Formats()
    if group is None:
        return fmt.gettext("None")
    if group.scope == "department":
        return fmt.ngettext("%(num)d on-site service of the department",
                            "%(num)d on-site services of the department", len(group.services))
    return fmt.ngettext("%(num)d on-site service across the province",
                        "%(num)d on-site services across the province", len(group.services))


def pooled_services_text(impact: PooledWfaImpact, fmt: Formats | None = None) -> str:
    """Say how many services a pooled figure adds up, of those that moved."""
    fmt = fmt or Formats()
    return fmt.ngettext(
        "%(num)d service with a verdict of its own is added up, of %(moved)s that moved to "
        "WFA or hybrid work.",
        "%(num)d services with a verdict of their own are added up, of %(moved)s that moved "
        "to WFA or hybrid work.",
        impact.services, moved=fmt.number(impact.services_moved))


# Sorting ------------------------------------------------------------------------------------

# The columns the table sorts by (the pages accept no other ?sort=), each with how to read
# its value; None for "name": sort_rows sorts by the name in the reader's language itself
# (it reads every row's name anyway, for ties).
SORT_KEYS: dict[str, Callable[[Scorecard], Any] | None] = {
    "name": None,
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


def sort_rows(rows: list[Scorecard], key: str, descending: bool,
              lang: str | None = None) -> list[Scorecard]:
    """Sort scorecards by a column; rows without a value always come last.

    Ties, and the "name" column, sort by the department's name in ``lang`` (the reader's
    language when None).
    """
    names = [localized(r.department, "name", lang).text.casefold() for r in rows]
    getter = SORT_KEYS.get(key)  # None: "name", or a column not known (by name too)
    values = names if getter is None else [getter(r) for r in rows]
    present = sorted(((value, name, r) for value, name, r in zip(values, names, rows, strict=True)
                      if value is not None), key=lambda item: item[:2], reverse=descending)
    return ([r for _value, _name, r in present]
            + [r for value, r in zip(values, rows, strict=True) if value is None])


# Rows formatted for the templates -----------------------------------------------------------
# A province table or a scorecard shows thousands of figures and labels; each row's cells are
# formatted here once, through the page's formatters, and the templates print ready text
# (bench/README.md, "Templates of the accountability pages"). Texts the templates translated
# with variables are Markup as a template's _() makes them: they print exactly as before.


@dataclass(frozen=True, slots=True, weakref_slot=True)  # kept per row: KEPT
class TableRow:
    """One row of the province's tables (a department's or the province's), formatted."""

    figures: Scorecard
    name: LocalText | None  # None: the province's row, which the template names
    url: str  # the department's scorecard ("" for the province)
    statuses: list[tuple[str, int, str]]  # each status, its count, the count as shown
    on_time: str
    wfa_change: str
    wfa_net: str
    overdue: str
    ikm: str
    services: str
    by_mode: dict[str, str]
    completed: str
    due: str
    median_hours: str
    submitted: str
    routed: str
    first_response: str
    median_days: str
    resolved: str
    transfers: str
    reopen: str


def table_row(row: Scorecard, fmt: Formats, url: str = "") -> TableRow:
    """Format one row of the province's key figures, performance and feedback tables."""
    number, feedback, wfa = fmt.number, row.feedback, row.wfa
    days = feedback.median_days_to_first_response
    return TableRow(
        figures=row,
        name=None if row.department is None else localized(row.department, "name", fmt.lang),
        url=url,
        statuses=[(s, row.status_counts[s], number(row.status_counts[s]))
                  for s in SERVICE_STATUSES],
        on_time=rate_or_dash(row.requests.on_time_rate, fmt),
        wfa_change=NO_VALUE if wfa is None else points_text(wfa.difference, fmt),
        wfa_net=NO_VALUE if wfa is None else points_text(wfa.net_difference, fmt),
        overdue=number(feedback.overdue_now),
        ikm=number(row.ikm.ikm),
        services=number(row.services),
        by_mode={mode: number(count) for mode, count in row.by_mode.items()},
        completed=number(row.requests.completed),
        due=number(row.requests.due),
        median_hours=hours_or_dash(row.requests.median_completion_hours, fmt),
        submitted=number(feedback.submitted),
        routed=number(feedback.routed),
        first_response=rate_or_dash(feedback.first_response_on_time_rate, fmt),
        median_days=hours_or_dash(days, fmt),
        resolved=rate_or_dash(feedback.resolved_on_time_rate, fmt),
        transfers=number(feedback.transfers),
        reopen=rate_or_dash(feedback.reopen_rate, fmt),
    )


def kept_table_row(row: Scorecard, fmt: Formats, url: str = "") -> TableRow:
    """Return :func:`table_row`'s row, formatted once while its figures are kept (KEPT).

    A row holds its figures (the templates read them): these entries go by age alone, 1,024
    at most, a few tables' rows.
    """
    return KEPT.get((row,), ("table_row", fmt.lang, url), lambda: table_row(row, fmt, url))


# The province's tables, as HTML: 40 departments' rows in three tables (see the scorecard's
# long loops below). ``words``: the key table's labels in the reader's language (key_table).


def _overdue(text: Any) -> str:
    return f'<strong class="overdue">{_esc(text)}</strong>'


@dataclass(frozen=True)
class _KeyCells:
    """The key table's words as its cells print them, escaped once a table, not once a row."""

    commission: str  # each cell's opening tag, with its label for phones
    on_time: str
    wfa: str
    wfa_net: str
    overdue: str
    ikm: str
    none: str  # a department overseen by no commission
    all: str  # the province's row: every commission
    no_move: str
    not_enough: str
    statuses: dict[str, tuple[str, str]]  # a status's cell opening: with a count, with none
    badges: dict[str, str]  # each verdict's badge

    @classmethod
    def of(cls, words: Any) -> _KeyCells:
        """Build the cells of a table's ``words`` (key_table's labels)."""
        def muted(text: Any) -> str:
            return f'<span class="muted">{_esc(text)}</span>'

        def label(text: Any) -> str:
            return f' data-label="{_esc(text)}">'

        statuses = {}
        for status, text in words.statuses.items():
            statuses[status] = (f'<td class="num"{label(text)}',
                                f'<td class="num zero"{label(text)}')
        return cls(
            commission=f'\n  <td class="col-commission"{label(words.commission)}',
            on_time=f'\n  <td class="num"{label(words.on_time)}',
            wfa=f"\n  \n<td{label(words.wfa)}",
            wfa_net=f"\n  \n<td{label(words.wfa_net)}",
            overdue=f'\n  <td class="num"{label(words.overdue)}',
            ikm=f"\n  <td{label(words.ikm)}",
            none=muted(words.none),
            all=muted(words.all),
            no_move=muted(words.no_move),
            not_enough=muted(words.not_enough),
            statuses=statuses,
            badges={verdict: _badge(verdict, text) for verdict, text in words.verdicts.items()},
        )

    def badge(self, verdict: str) -> str:
        """Return a verdict's badge (a verdict without a label shows its name)."""
        return self.badges.get(verdict) or _badge(verdict, verdict)


def _key_wfa_cell(verdict: str, cells: _KeyCells, change: str | None) -> str:
    shown = "" if change is None else f' <span class="num">{_esc(change)}</span>'
    return cells.badge(verdict) + shown


def _key_row(r: TableRow, name_html: str, cells: _KeyCells) -> str:
    """Return one row of the key table as HTML; ``name_html`` is escaped."""
    row, w = r.figures, r.figures.wfa
    department = row.department
    if department is None:
        commission = cells.all
    elif department.dprd_commission:
        commission = _esc(department.dprd_commission)
    else:
        commission = cells.none
    status_cells = []
    for s, n, text in r.statuses:
        opening = cells.statuses[s]
        if not n:
            status_cells.append(f"{opening[1]}{_esc(text)}</td>")
        else:
            shown = _overdue(text) if s == "breaching" else _esc(text)
            status_cells.append(f"{opening[0]}{shown}</td>")
    if w:
        wfa = _key_wfa_cell(w.verdict, cells, None if w.difference is None else r.wfa_change)
        net = _key_wfa_cell(w.adjusted_verdict, cells,
                            None if w.net_difference is None else r.wfa_net)
    else:
        wfa = net = cells.no_move
    overdue = _overdue(r.overdue) if row.feedback.overdue_now else "0"
    ikm = (f'{_esc(r.ikm)} <span class="grade">({_esc(row.ikm.grade)})</span>'
           if row.ikm.ikm is not None else cells.not_enough)
    return (
        f'\n<tr>\n  <th scope="row" class="col-name">{name_html}</th>'
        f"{cells.commission}{commission}</td>"
        f'\n  {"".join(status_cells)}'
        f"{cells.on_time}{_esc(r.on_time)}</td>"
        f"{cells.wfa}{wfa}</td>"
        f"{cells.wfa_net}{net}</td>"
        f"{cells.overdue}{overdue}</td>"
        f"{cells.ikm}{ikm}</td>\n</tr>")


def _words_key(words: Any) -> tuple:
    """Return the key table's labels as its cells print them: what its rows depend on."""
    return (*map(_esc, (words.commission, words.none, words.all, words.on_time, words.wfa,
                        words.wfa_net, words.no_move, words.overdue, words.ikm,
                        words.not_enough)),
            *((status, _esc(text)) for status, text in words.statuses.items()),
            *((verdict, _esc(text)) for verdict, text in words.verdicts.items()))


def key_row_html(r: TableRow, name_cell: str, words: Any) -> Markup:
    """Return one row of the key table: a department's (or the province's) key figures.

    ``words``: the key table's labels in the reader's language (key_table). Kept while the
    row is (KEPT).
    """
    name = _esc(name_cell)
    return KEPT.get((r,), ("key_row", name, _words_key(words)),
                    lambda: Markup(_key_row(r, name, _KeyCells.of(words))))


def key_rows_html(rows: list[TableRow], words: Any, sortable: bool) -> Markup:
    """Return the departments' rows of the key table (names link to scorecards if sortable).

    Kept while the rows are (KEPT).
    """
    def build() -> Markup:
        cells = _KeyCells.of(words)
        return Markup("".join(
            "\n    \n    " + _key_row(
                r, f'<a href="{_esc(r.url)}">{_esc(r.name)}</a>' if sortable
                else _esc(r.name), cells) + "\n  "
            for r in rows))

    return KEPT.get(tuple(rows), ("key_rows", sortable, _words_key(words)), build)


def details_rows_html(rows: list[TableRow]) -> Markup:
    """Return the departments' rows of the services and performance table (kept: KEPT)."""
    return KEPT.get(tuple(rows), ("details_rows",), lambda: _details_rows(rows))


def _details_rows(rows: list[TableRow]) -> Markup:
    parts = []
    for r in rows:
        breaching = len(r.figures.breaching)
        by_mode = r.by_mode
        parts.append(
            f'\n    <tr>\n      <th scope="row" class="col-name">{_esc(r.name)}</th>'
            f'\n      <td class="num">{_esc(r.services)}</td>'
            + "".join(f'\n      <td class="num">{_esc(by_mode.get(mode, ""))}</td>'
                      for mode in ("onsite", "hybrid", "wfa"))
            + f'\n      <td class="num">{_esc(r.completed)}</td>'
            f'\n      <td class="num">{_esc(r.due)}</td>'
            f'\n      <td class="num">{_esc(r.median_hours)}</td>'
            f'\n      <td class="num">'
            f'{_overdue(breaching) if breaching else "0"}</td>'
            f"\n    </tr>\n  ")
    return Markup("".join(parts))


def feedback_rows_html(rows: list[TableRow]) -> Markup:
    """Return the departments' rows of the feedback handling table (kept: KEPT)."""
    return KEPT.get(tuple(rows), ("feedback_rows",), lambda: _feedback_rows(rows))


def _feedback_rows(rows: list[TableRow]) -> Markup:
    return Markup("".join(
        f'\n    \n    <tr><th scope="row" class="col-name">{_esc(f.name)}</th>'
        f'\n      <td class="num">{_esc(f.submitted)}</td>'
        f'<td class="num">{_esc(f.routed)}</td>'
        f'\n      <td class="num">{_esc(f.first_response)}</td>'
        f'\n      <td class="num">{_esc(f.median_days)}</td>'
        f'\n      <td class="num">{_esc(f.resolved)}</td>'
        f'\n      <td class="num">{_esc(f.overdue)}</td>'
        f'<td class="num">{_esc(f.transfers)}</td>'
        f'\n      <td class="num">{_esc(f.reopen)}</td></tr>\n  '
        for f in rows))


@dataclass(frozen=True, slots=True)
class SideTexts:
    """One side of a before/after comparison: its on-time share, requests due, median hours."""

    rate: str
    due: Markup  # "n = 1,234"
    hours: str
    # Its cells as HTML, made with it (the texts are memoised: ImpactFormatter.side).
    cell: str = field(init=False, repr=False, compare=False)
    hours_cell: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cell", f'<td class="num">{_esc(self.rate)} '
                                         f'<span class="muted">({_esc(self.due)})</span></td>')
        object.__setattr__(self, "hours_cell", f'<td class="num">{_esc(self.hours)}</td>')


@dataclass(frozen=True, slots=True)
class ChangeTexts:
    """A change in signed points and its confidence interval (None: no interval to show)."""

    points: str
    interval: str | None
    # Its cell as HTML, made with it (the texts are memoised: ImpactFormatter.change).
    cell: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        interval = "" if self.interval is None else (
            f' <span class="muted">({_esc(self.interval)})</span>')
        object.__setattr__(self, "cell", f'<td class="num">{_esc(self.points)}{interval}</td>')


@dataclass(frozen=True, slots=True)
class ComparisonTexts:
    """The services that stayed on-site over the same weeks, as the scorecard shows them."""

    before: SideTexts
    after: SideTexts
    change: ChangeTexts


@dataclass(frozen=True, slots=True)
class ImpactRow:
    """A service's WFA impact, or the department's pooled one, for the scorecard's tables."""

    impact: Comparison
    name: LocalText | str
    move: Markup | str
    before: SideTexts
    after: SideTexts
    change: ChangeTexts
    verdict_label: str
    comparison_text: str
    comparison: ComparisonTexts | None
    net: ChangeTexts
    adjusted_label: str
    verdict_sentence: str
    adjusted_sentence: str


def _fill(pattern: Markup, **values: Any) -> Markup:
    """Return ``pattern % values`` as Markup's ``%`` makes it: each value escaped.

    For translated patterns whose placeholders are all ``%(name)s``; Markup's own ``%`` wraps
    every value in a helper object first, several times the cost at a scorecard's hundreds.
    """
    return Markup(str.__mod__(pattern, {name: _esc(value) for name, value in values.items()}))


# The texts of a comparison's sides and changes, per language and figures: a scorecard shows
# hundreds, the same from one visit to the next (as portal.web.formatting memoises numbers).
# Bounded: emptied when full.
_MEMO_SIZE = 8192
_SIDE_TEXTS: dict[tuple, SideTexts] = {}
_CHANGE_TEXTS: dict[tuple, ChangeTexts] = {}


def _remember(memo: dict, key: tuple, value: Any) -> None:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value


def _zero_sign(value: float | None) -> float | None:
    """Return a zero's sign (1.0 or −1.0), None for any other value."""
    return math.copysign(1.0, value) if value == 0 else None


class ImpactFormatter:
    """Format WFA impacts for one scorecard: the words every row repeats are looked up once."""

    def __init__(self, fmt: Formats) -> None:
        self.fmt = fmt
        # As the template's _() made them: translations are markup, values are escaped.
        self._due = Markup(fmt.gettext("n = %(n)s"))
        self._move = Markup(fmt.gettext("%(from)s to %(to)s on %(date)s"))
        self._unknown = Markup(fmt.gettext("unknown"))

    def side(self, side: SideFigures) -> SideTexts:
        """Format one side of a comparison (memoised per language and figures)."""
        fmt = self.fmt
        key = (fmt.lang, side.on_time_rate, side.due, side.median_completion_hours)
        texts = _SIDE_TEXTS.get(key)
        if texts is None:
            texts = SideTexts(rate_or_dash(side.on_time_rate, fmt),
                              _fill(self._due, n=fmt.number(side.due)),
                              hours_or_dash(side.median_completion_hours, fmt))
            _remember(_SIDE_TEXTS, key, texts)
        return texts

    def change(self, value: float | None, low: float | None, high: float | None) -> ChangeTexts:
        """Format a change and its interval (memoised per language and figures)."""
        fmt = self.fmt
        # A zero's sign is part of the key: −0.0 equals 0.0 but shows its minus sign.
        key = (fmt.lang, value, low, high, _zero_sign(value), _zero_sign(low), _zero_sign(high))
        texts = _CHANGE_TEXTS.get(key)
        if texts is None:
            texts = ChangeTexts(points_text(value, fmt),
                                None if low is None else interval_text(low, high, fmt))
            _remember(_CHANGE_TEXTS, key, texts)
        return texts

    def row(self, name: LocalText | str, impact: Comparison, move: Markup | str) -> ImpactRow:
        """Format one impact's row of each of the scorecard's WFA tables."""
        fmt, group = self.fmt, impact.comparison
        return ImpactRow(
            impact=impact,
            name=name,
            move=move,
            before=self.side(impact.before),
            after=self.side(impact.after),
            change=self.change(impact.difference, impact.ci_low, impact.ci_high),
            verdict_label=_VERDICT_LABEL(fmt.lang, impact.verdict),
            comparison_text=comparison_text(group, fmt),
            comparison=None if group is None else ComparisonTexts(
                self.side(group.before), self.side(group.after),
                self.change(group.difference, group.ci_low, group.ci_high)),
            net=self.change(impact.net_difference, impact.net_ci_low, impact.net_ci_high),
            adjusted_label=_VERDICT_LABEL(fmt.lang, impact.adjusted_verdict),
            verdict_sentence=verdict_sentence(impact, fmt),
            adjusted_sentence=adjusted_sentence(impact, fmt),
        )

    def service_row(self, service: Service, impact: WfaImpact) -> ImpactRow:
        """Format a service's own impact: its name, and its move in words."""
        fmt = self.fmt
        move = _fill(
            self._move,
            **{"from": fmt.work_mode_label(impact.from_mode) if impact.from_mode
               else self._unknown},
            to=fmt.work_mode_label(impact.to_mode),
            date=fmt.date_long(impact.change_date),
        )
        return self.row(localized(service, "name", fmt.lang), impact, move)

    def pooled_row(self, impact: PooledWfaImpact) -> ImpactRow:
        """Format the department's services added up."""
        return self.row(pooled_label(self.fmt), impact,
                        pooled_services_text(impact, self.fmt))


# HTML of the scorecard's long loops ----------------------------------------------------------
# A scorecard repeats these rows and cells hundreds of times (41 services moved at one
# department of bench_province, 184 changes): built here in one string each, byte for byte as
# the templates' loops printed them (a Jinja macro call costs several microseconds a cell).
# Values are escaped; the words of a row come translated and escaped as the templates' did.


def _side(side: SideTexts) -> str:
    return side.cell


def _hours(side: SideTexts) -> str:
    return side.hours_cell


def _change(change: ChangeTexts) -> str:
    return change.cell


def side_cell(side: SideTexts) -> Markup:
    """Return a side's cell: its on-time share and, muted, its requests due."""
    return Markup(_side(side))


def hours_cell(side: SideTexts) -> Markup:
    """Return a side's median hours cell."""
    return Markup(_hours(side))


def change_cell(change: ChangeTexts) -> Markup:
    """Return a change's cell: signed points and, muted, its confidence interval."""
    return Markup(_change(change))


@lru_cache(maxsize=64, typed=True)  # a few verdicts in a few languages, on every row
def _badge(verdict: str, label: str) -> str:
    """Return a verdict's badge as the templates print it (a newline first)."""
    return f'\n<span class="verdict verdict-{escape(verdict)}">{escape(label)}</span>'


def verdict_badge(verdict: str, label: str | None = None, fmt: Formats | None = None) -> Markup:
    """Return a verdict's badge: its short name, or ``label`` when a row has it already.

    ``fmt``: the page's formatters, whose language names the verdict from the names memoised
    per language (verdict_label translates afresh: tens of microseconds a badge).
    """
    if label is None:
        label = verdict_label(verdict) if fmt is None else _VERDICT_LABEL(fmt.lang, verdict)
    return Markup(_badge(verdict, label))


def ikm_html(result: IkmResult, fmt: Formats, not_enough: str) -> Markup:
    """Return a satisfaction index with its grade, or ``not_enough`` (translated as the
    template's _() gave it) when there are too few responses: a scorecard's cell, as HTML."""
    if result.ikm is None:
        return Markup(f'<span class="muted">{_esc(not_enough)}</span>')
    return Markup(f'{_esc(fmt.number(result.ikm))} <span class="grade">({_esc(result.grade)})'
                  "</span>")


def _row_class(verdict: str) -> str:
    return ' class="row-decline"' if verdict == "decline" else ""


def _comparison(r: ImpactRow) -> str:
    c = r.comparison
    cells = (_side(c.before) + _side(c.after) + _change(c.change) if c else
             '<td class="num">—</td><td class="num">—</td><td class="num">—</td>')
    return (f"\n<td>{_esc(r.comparison_text)}</td>\n{cells}\n{_change(r.net)}"
            f"\n<td>{_badge(r.impact.adjusted_verdict, r.adjusted_label)}</td>")


def comparison_cells(r: ImpactRow) -> Markup:
    """Return a row's cells of the comparison with the services that stayed on-site."""
    return Markup(_comparison(r))


def impact_rows_html(rows: list[ImpactRow]) -> Markup:
    """Return the rows of the table "before and after the move, per service"."""
    return Markup("".join(
        f'\n      <tr{_row_class(r.impact.verdict)}>'
        f'\n        <th scope="row">{_esc(r.name)}</th>'
        f"\n        <td>{_esc(r.move)}</td>"
        f"\n        {_side(r.before)}{_side(r.after)}{_hours(r.before)}{_hours(r.after)}"
        f"\n        {_change(r.change)}"
        f"\n        <td>{_badge(r.impact.verdict, r.verdict_label)}</td>\n      </tr>\n    "
        for r in rows))


def comparison_rows_html(rows: list[ImpactRow]) -> Markup:
    """Return the rows of the table "compared with services that stayed on-site"."""
    return Markup("".join(
        f'\n      <tr{_row_class(r.impact.adjusted_verdict)}>'
        f'\n        <th scope="row">{_esc(r.name)}</th>'
        f"\n        {_comparison(r)}\n      </tr>\n    "
        for r in rows))


def sentence_rows_html(rows: list[ImpactRow]) -> Markup:
    """Return the rows of the table "what the figures say"."""
    return Markup("".join(
        f'\n      <tr><th scope="row">{_esc(r.name)}</th>'
        f"\n        <td>{_badge(r.impact.verdict, r.verdict_label)} "
        f"{_esc(r.verdict_sentence)}</td>"
        f"\n        <td>{_badge(r.impact.adjusted_verdict, r.adjusted_label)} "
        f"{_esc(r.adjusted_sentence)}</td></tr>\n    "
        for r in rows))


def _name_html(obj: Any, lang: str) -> str:
    """Return ``_esc(localized(obj, "name", lang))``: a name in the reader's language, escaped
    (an Indonesian fallback marked as localized() marks it), without a LocalText a row."""
    text = getattr(obj, f"name_{lang}", "") or ""
    if lang == "id" or text.strip():
        return _esc(text)
    return _esc(localized(obj, "name", lang))


def service_rows_html(rows: list[ServiceRow], fmt: Formats, link: Callable[[str], str],
                      printable: bool, not_enough: str) -> Markup:
    """Return the rows of a scorecard's services table (names link to services on screen).

    Each row formatted with the page's formatters; ``link`` gives a service's address from
    its code. ``not_enough``: "Not enough responses", translated as the template's _() gave it.
    A department's services share a few work modes, commitments and statuses: each one's
    cell is made once a table. Kept while the rows are (KEPT).
    """
    key = ("service_rows", fmt.lang, printable, "" if printable else link(_LINK_STAND_IN),
           _esc(not_enough))
    return KEPT.get(tuple(rows), key,
                    lambda: _service_rows(rows, fmt, link, printable, not_enough))


# A service's code that stands for any in the key of a services table's links.
_LINK_STAND_IN = "code"


def _service_rows(rows: list[ServiceRow], fmt: Formats, link: Callable[[str], str],
                  printable: bool, not_enough: str) -> Markup:
    lang, number = fmt.lang, fmt.number
    not_enough_cell = f'<span class="muted">{_esc(not_enough)}</span>'
    modes: dict[str, str] = {}
    commitments: dict[tuple, str] = {}
    statuses: dict[str, str] = {}
    parts = []
    for row in rows:
        service, requests, ikm = row.service, row.requests, row.ikm
        name = _name_html(service, lang)
        if not printable:
            name = f'<a href="{_esc(link(service.code))}">{name}</a>'
        ikm_cell = (f'{_esc(number(ikm.ikm))} <span class="grade">({_esc(ikm.grade)})</span>'
                    if ikm.ikm is not None else not_enough_cell)
        mode = modes.get(service.work_mode)
        if mode is None:
            mode = modes[service.work_mode] = _esc(fmt.work_mode_label(service.work_mode))
        promise = (service.commitment_value, service.commitment_unit, service.on_time_target)
        commitment = commitments.get(promise)
        if commitment is None:
            commitment = commitments[promise] = _esc(fmt.commitment_text(*promise))
        status = statuses.get(row.status.status)
        if status is None:
            code = row.status.status
            status = statuses[code] = (f'<span class="status status-{_esc(code)}">'
                                       f"{_esc(fmt.status_label(code))}</span>")
        parts.append(
            f'\n      <tr>\n        <th scope="row">{name}</th>'
            f"\n        <td>{mode}</td>"
            f"\n        <td>{commitment}</td>"
            f"\n        <td>{status}</td>"
            f'\n        <td class="num">{_esc(number(requests.completed))}</td>'
            f'\n        <td class="num">{_esc(number(requests.due))}</td>'
            f'\n        <td class="num">{_esc(rate_or_dash(requests.on_time_rate, fmt))}</td>'
            f'\n        <td class="num">'
            f"{_esc(hours_or_dash(requests.median_completion_hours, fmt))}</td>"
            f"\n        <td>{ikm_cell}</td>\n      </tr>\n    ")
    return Markup("".join(parts))


def _history_change(kind: str, value: Any, fmt: Formats) -> str:
    """Return a work mode's or a commitment's words as a history row shows them, escaped."""
    if kind == "work_mode":
        return _esc(fmt.work_mode_label(value))
    return _esc(fmt.commitment_text(value.commitment_value, value.commitment_unit,
                                    value.on_time_target))


def _history_key(kind: str, value: Any) -> tuple:
    """Return what a history row's before or after shows: a work mode, or a commitment."""
    if kind == "work_mode":
        return (kind, value)
    return (kind, value.commitment_value, value.commitment_unit, value.on_time_target)


def history_rows_html(entries: list[HistoryEntry], fmt: Formats,
                      words: tuple[str, str, str]) -> Markup:
    """Return the rows of a scorecard's history of changes, formatted and escaped.

    ``words``: "Before records began", "Work mode" and "Commitment", translated as the
    template's _() gave them. A department's changes name the same services, dates, modes,
    commitments and staff many times: each is formatted and escaped once a page. Kept while
    the entries are (KEPT).
    """
    return KEPT.get(tuple(entries), ("history_rows", fmt.lang, *map(_esc, words)),
                    lambda: _history_rows(entries, fmt, words))


def _history_rows(entries: list[HistoryEntry], fmt: Formats,
                  words: tuple[str, str, str]) -> Markup:
    began, mode_word, commitment_word = (_esc(word) for word in words)
    lang = fmt.lang
    names: dict[int, str] = {}
    dates: dict[Any, str] = {}
    changes: dict[tuple, str] = {}
    people: dict[str, str] = {}
    parts = []
    for e in entries:
        service = e.service
        name = names.get(service.id)
        if name is None:
            name = names[service.id] = _name_html(service, lang)
        day = e.effective_from
        if day:
            effective = dates.get(day)
            if effective is None:
                effective = dates[day] = _esc(fmt.date_long(day))
        else:
            effective = began
        kind = e.kind
        if e.before:
            key = _history_key(kind, e.before)
            before = changes.get(key)
            if before is None:
                before = changes[key] = _history_change(kind, e.before, fmt)
        else:
            before = NO_VALUE
        key = _history_key(kind, e.after)
        after = changes.get(key)
        if after is None:
            after = changes[key] = _history_change(kind, e.after, fmt)
        by = people.get(e.recorded_by)
        if by is None:
            by = people[e.recorded_by] = _esc(e.recorded_by)
        change = (f"\n        <td>{mode_word}</td><td>{before}</td><td>{after}</td>\n        "
                  if kind == "work_mode" else
                  f"\n        <td>{commitment_word}</td>\n        <td>{before}</td>"
                  f"\n        <td>{after}</td>\n        ")
        parts.append(
            f"\n      <tr>\n        <td>{effective}"
            f'</td>\n        <th scope="row">{name}</th>\n        {change}'
            f"\n        <td>{by}</td><td>{_esc(fmt.datetime_wib(e.recorded_at))}"
            f"</td><td>{_esc(e.reason or NO_VALUE)}</td>\n      </tr>\n    ")
    return Markup("".join(parts))


# Charts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntervalMark:
    """One row of the confidence-interval chart, in SVG user units."""

    label: str
    lines: list[str]  # the label as drawn (see label_lines)
    y: float
    x: float | None
    x_low: float | None
    x_high: float | None
    verdict: str
    text: str


@dataclass(frozen=True, slots=True)
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
    return list(_label_lines(text, width, lines))


@lru_cache(maxsize=4096)
def _label_lines(text: str, width: int, lines: int) -> tuple[str, ...]:
    # Memoised: the charts wrap the same department and service names on every request.
    wrapped = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    if len(wrapped) <= lines:
        return tuple(wrapped)
    return (*wrapped[:lines - 1], wrapped[lines - 1][:width - 1].rstrip() + "…")


@dataclass(frozen=True, slots=True)
class RateBar:
    """One department of the on-time chart, in SVG user units."""

    label: str
    lines: list[str]
    y: float
    width: float
    text: str


@dataclass(frozen=True, slots=True)
class RateChart:
    """A horizontal bar per department: its on-time rate on a 0-100% scale with gridlines."""

    width: int
    height: int
    left: int
    plot_width: int
    top: int
    ticks: list[tuple[float, str]]
    bars: list[RateBar]


def rate_chart(items: list[tuple[str, float]], fmt: Formats, width: int = 660) -> RateChart:
    """Lay out on-time rates as horizontal bars, with a labelled 0-100% scale on top."""
    left, right, top, row_height = 250, width - 60, 26, 34
    plot_width = right - left
    ticks = [(round(left + share * plot_width, 1), fmt.rate(share))
             for share in (0, 0.25, 0.5, 0.75, 1)]
    bars = [
        RateBar(label, label_lines(label), top + index * row_height,
                round(rate * plot_width, 1), rate_or_dash(rate, fmt))
        for index, (label, rate) in enumerate(items)
    ]
    return RateChart(width, top + len(items) * row_height + 6, left, plot_width, top, ticks,
                     bars)


_NEXT_LINE = ' dy="14"'


def _tspans(x: int, lines: list[str]) -> str:
    """Return a chart label's lines as SVG tspans, each below the one before."""
    return "".join(f'<tspan x="{x}"{_NEXT_LINE if index else ""}>{_esc(line)}</tspan>'
                   for index, line in enumerate(lines))


def interval_ticks_svg(chart: IntervalChart) -> Markup:
    """Return an interval chart's scale: a gridline and its value in points at each tick."""
    bottom = chart.height - 10
    return Markup("".join(
        f'\n  <line x1="{x}" x2="{x}" y1="20" y2="{bottom}" stroke="#d5d9dd" stroke-width="1"/>'
        f'\n  <text x="{x}" y="14" font-size="11" text-anchor="middle" fill="#3d4449">'
        f"{_esc(label)}</text>\n  "
        for x, label in chart.ticks))


def interval_marks_svg(chart: IntervalChart) -> Markup:
    """Return an interval chart's marks, each its label, interval and estimate, as SVG."""
    x_label, parts = chart.left - 8, []
    for mark in chart.marks:
        y = mark.y
        parts.append(_mark_label_svg(x_label, y, mark.label, tuple(mark.lines)))
        if mark.x is None:
            parts.append(f'\n  <text x="{chart.zero_x + 8}" y="{y + 4}" font-size="12" '
                         f'fill="#3d4449">{_esc(mark.text)}</text>\n  \n  ')
            continue
        parts.append(_mark_interval_svg(mark.x_low, mark.x_high, mark.x, y, mark.verdict))
    return Markup("".join(parts))


# A chart's label and interval marks as SVG, memoised per position and value (typed: 1 and
# 1.0 print differently): a scorecard draws two charts of the same services, the same from
# one visit to the next.
@lru_cache(maxsize=4096, typed=True)
def _mark_label_svg(x_label: int, y: float, label: str, lines: tuple[str, ...]) -> str:
    return (f'\n  \n  <text x="{x_label}" y="{y + (4 if len(lines) == 1 else -3)}" '
            f'font-size="12" text-anchor="end" fill="#1b1f22"><title>{_esc(label)}'
            f"</title>{_tspans(x_label, list(lines))}</text>\n  ")


@lru_cache(maxsize=8192, typed=True)
def _mark_interval_svg(low: float, high: float, x: float, y: float, verdict: str) -> str:
    color = {"decline": "#a4161a", "improvement": "#1b6e3a"}.get(verdict, "#3d4449")
    point = (f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" fill="#a4161a"/>'
             if verdict == "decline" else
             f'<circle cx="{x}" cy="{y}" r="5" '
             f'fill="{"#1b6e3a" if verdict == "improvement" else "#1b1f22"}"/>')
    return (f'\n  <line x1="{low}" x2="{high}" y1="{y}" y2="{y}" stroke="{color}" '
            f'stroke-width="3"/>'
            f'\n  <line x1="{low}" x2="{low}" y1="{y - 6}" y2="{y + 6}" stroke="#3d4449" '
            f'stroke-width="2"/>'
            f'\n  <line x1="{high}" x2="{high}" y1="{y - 6}" y2="{y + 6}" stroke="#3d4449" '
            f'stroke-width="2"/>\n  {point}\n  \n  ')


def rate_ticks_svg(chart: RateChart) -> Markup:
    """Return the on-time chart's scale: a gridline and its percentage at each tick."""
    top, bottom, above = chart.top - 6, chart.height - 4, chart.top - 10
    return Markup("".join(
        f'\n  <line x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" stroke="#d5d9dd" '
        f'stroke-width="1"/>'
        f'\n  <text x="{x}" y="{above}" font-size="11" text-anchor="middle" fill="#3d4449">'
        f"{_esc(label)}</text>\n  "
        for x, label in chart.ticks))


def rate_bars_svg(chart: RateChart) -> Markup:
    """Return the on-time chart's bars, each its label, bar and rate, as SVG."""
    return Markup("".join(
        _rate_bar_svg(chart.left, bar.y, bar.width, bar.label, tuple(bar.lines), bar.text)
        for bar in chart.bars))


@lru_cache(maxsize=4096, typed=True)  # the same bars from one visit to the next
def _rate_bar_svg(left: int, y: float, width: float, label: str, lines: tuple[str, ...],
                  text: str) -> str:
    x_label = left - 8
    return (f"\n  <g>\n    <title>{_esc(label)}</title>"
            f'\n    <text x="{x_label}" y="{y + (13 if len(lines) == 1 else 7)}" '
            f'font-size="12" text-anchor="end" fill="#1b1f22">{_tspans(x_label, list(lines))}'
            f"</text>"
            f'\n    <rect x="{left}" y="{y + 1}" width="{width}" height="18" '
            f'fill="#1f5f8b"/>'
            f'\n    <text x="{left + width + 6}" y="{y + 15}" font-size="12" '
            f'fill="#1b1f22">{_esc(text)}</text>\n  </g>\n  ')


def _raw(comparison: Comparison) -> tuple[float | None, float | None, float | None, str]:
    return (comparison.difference, comparison.ci_low, comparison.ci_high, comparison.verdict)


def _net(comparison: Comparison) -> tuple[float | None, float | None, float | None, str]:
    return (comparison.net_difference, comparison.net_ci_low, comparison.net_ci_high,
            comparison.adjusted_verdict)


def interval_charts(
    items: list[tuple[str, Comparison]], fmt: Formats, width: int = 640
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
    return (_interval_chart(items, _raw, low, high, width, fmt),
            _interval_chart(items, _net, low, high, width, fmt))


def _interval_chart(
    items: list[tuple[str, Comparison]],
    read: Callable[[Comparison], tuple[float | None, float | None, float | None, str]],
    low: float, high: float, width: int, fmt: Formats,
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
        ticks.append((x_of(value), fmt.decimal(tick, _TICK) if tick else "0"))
        value += step
    marks = []
    for index, (label, comparison) in enumerate(items):
        estimate, ci_low, ci_high, verdict = read(comparison)
        has = estimate is not None and ci_low is not None and ci_high is not None
        marks.append(IntervalMark(
            label=label,
            lines=label_lines(label),
            y=top + index * row_height + row_height / 2,
            x=x_of(estimate) if has else None,
            x_low=x_of(ci_low) if has else None,
            x_high=x_of(ci_high) if has else None,
            verdict=verdict,
            text=_VERDICT_LABEL(fmt.lang, verdict),
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


def pooled_label(fmt: Formats | None = None) -> str:
    """Label of the pooled row of a chart."""
    return (fmt or Formats()).gettext("Services with a verdict, added up")
