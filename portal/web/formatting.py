"""Locale-aware formatting and the labels shown for codes, for templates and mail."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, format_decimal, format_percent, ngettext
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
    share = format_percent(target)
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


def percent(value: float | None) -> str:
    """Format a fraction 0–1 as a whole percentage in the reader's language."""
    return "" if value is None else format_percent(value)


def init_app(app: Flask) -> None:
    """Make the formatters available to templates."""
    app.jinja_env.filters.update(
        date_long=date_long, datetime_wib=datetime_wib, number=number, percent=percent
    )
    from portal.web.urls import absolute_url_for

    app.jinja_env.globals.update(
        work_mode_label=work_mode_label, commitment_text=commitment_text,
        first_response_text=first_response_text,
        absolute_url_for=absolute_url_for,
    )
