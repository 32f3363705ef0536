"""Locale-aware formatting for templates and mail: dates, numbers, rates and percentages.

Every percentage the portal shows is formatted here: :func:`percent` (whole, for promised
shares), :func:`rate_text` (a measured rate, one decimal at most) and
:func:`rate_against_target_text` (a rate beside the target it is judged against).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from flask import Flask
from flask_babel import format_datetime, format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.i18n import date_long

WORK_MODE_LABELS = {
    "onsite": _l("On-site"),
    "hybrid": _l("Hybrid"),
    "wfa": _l("Work from anywhere (WFA)"),
}
WORK_MODE_SHORT = {"onsite": _l("On-site"), "hybrid": _l("Hybrid"), "wfa": _l("WFA")}


def work_mode_label(mode: str, short: bool = False) -> str:
    """Return the translated name of a work mode."""
    return str((WORK_MODE_SHORT if short else WORK_MODE_LABELS).get(mode, mode))


def commitment_text(value: int, unit: str, target: float) -> str:
    """Say a commitment as a whole translated sentence."""
    share = percent(target)
    if unit == "hours":
        return ngettext(
            "Completed within %(num)d hour, %(share)s of requests on time",
            "Completed within %(num)d hours, %(share)s of requests on time",
            value,
            share=share,
        )
    if value == 0:
        return ngettext(
            "Completed on the same working day, %(share)s of requests on time",
            "Completed on the same working day, %(share)s of requests on time",
            1,
            share=share,
        )
    return ngettext(
        "Completed within %(num)d working day, %(share)s of requests on time",
        "Completed within %(num)d working days, %(share)s of requests on time",
        value,
        share=share,
    )


def first_response_text(value: int | None, unit: str | None) -> str:
    """Say a first-response promise as a whole translated sentence ("" when there is none)."""
    if value is None:
        return ""
    if unit == "hours":
        return ngettext(
            "First response within %(num)d hour",
            "First response within %(num)d hours",
            value,
        )
    if value == 0:
        return ngettext(
            "First response on the same working day",
            "First response on the same working day",
            1,
        )
    return ngettext(
        "First response within %(num)d working day",
        "First response within %(num)d working days",
        value,
    )


def datetime_wib(value: datetime | None) -> str:
    """Format a timestamp in WIB in the reader's language, naming the zone."""
    if value is None:
        return ""
    return f"{format_datetime(value, 'd MMMM y, HH.mm')} WIB"


def number(value: float | int | None) -> str:
    """Format a number in the reader's language."""
    return "" if value is None else format_decimal(value)


# Rates are compared with their targets with this tolerance, as the status rules do: a rate
# computed as 9/10 is at a 0.9 target even if floating point says 0.8999999999999999.
_EPSILON = 1e-9
# Patterns of percentages: whole, one decimal at most, two decimals at most.
_PERCENT_PATTERNS = ("#,##0%", "#,##0.#%", "#,##0.##%")


def _percent_text(fraction: float | Decimal, decimals: int) -> str:
    """Format a fraction 0–1 as a percentage with at most ``decimals`` decimals."""
    return format_percent(fraction, _PERCENT_PATTERNS[decimals])


def percent(value: float | None) -> str:
    """Format a fraction 0–1 as a whole percentage in the reader's language."""
    return "" if value is None else _percent_text(value, 0)


def rate_text(value: float | None, no_value: str | None = None) -> str:
    """Format a rate 0–1 as a percentage with at most one decimal, or say there is none.

    ``no_value`` replaces the words "no data" where a page marks a missing figure otherwise.
    """
    if value is None:
        return _("no data") if no_value is None else no_value
    return _percent_text(value, 1)


def rate_against_target_text(rate: float | None, target: float | None) -> str:
    """Format a rate beside its target: a rate below the target never reads as reaching it.

    One decimal at most, as every rate; but rounding alone would show 0.8996 as "90%" beside
    "at risk against a 90% commitment". A rate below its target gets a second decimal when
    one would reach the target (89.96%), and is cut (not rounded) at two decimals when even
    that would (0.89999: 89.99%). A rate at or above its target is rounded as usual and
    cannot fall below a target of whole or tenth percents. No rate: as :func:`rate_text`.
    """
    if rate is None or target is None or rate >= target - _EPSILON:
        return rate_text(rate)
    shown_percent, limit = Decimal(repr(rate)) * 100, Decimal(repr(target)) * 100
    for places, rounding in ((1, ROUND_HALF_EVEN), (2, ROUND_HALF_EVEN), (2, ROUND_FLOOR)):
        shown = shown_percent.quantize(Decimal(1).scaleb(-places), rounding=rounding)
        if shown < limit:
            break
    return _percent_text(shown / 100, 2)


def init_app(app: Flask) -> None:
    """Make the formatters available to templates."""
    app.jinja_env.filters.update(
        date_long=date_long, datetime_wib=datetime_wib, number=number, percent=percent
    )
    from portal.web.urls import absolute_url_for

    app.jinja_env.globals.update(
        work_mode_label=work_mode_label, commitment_text=commitment_text,
        first_response_text=first_response_text,
        rate_text=rate_text, rate_against_target=rate_against_target_text,
        absolute_url_for=absolute_url_for,
    )
