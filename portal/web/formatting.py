"""Locale-aware formatting for templates and mail: dates, numbers, rates, durations, ages.

Every percentage the portal shows is formatted here: :func:`percent` (whole, for promised
shares), :func:`rate_text` (a measured rate, one decimal at most) and
:func:`rate_against_target_text` (a rate beside the target it is judged against). So are
elapsed times (:func:`duration_text`) and "updated N minutes ago" (:func:`updated_ago_text`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache, wraps
from typing import Any

from babel import numbers
from flask import Flask
from flask_babel import (
    format_datetime,
    format_decimal,
    get_locale,
    get_translations,
    ngettext,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain.calendar import utc_now
from portal.i18n import date_long, percent_text, rate_against_target_percent
from portal.web.labels import service_status_label
from portal.web.urls import absolute_url_for

WORK_MODE_LABELS = {
    "onsite": _l("On-site"),
    "hybrid": _l("Hybrid"),
    "wfa": _l("Work from anywhere (WFA)"),
}
WORK_MODE_SHORT = {"onsite": _l("On-site"), "hybrid": _l("Hybrid"), "wfa": _l("WFA")}
# The name of a work mode inside a sentence ("after the move to hybrid work on ..."): lower
# case in English, and a phrase that reads as a way of working in every language.
WORK_MODE_IN_SENTENCE = {
    "onsite": _l("on-site work"),
    "hybrid": _l("hybrid work"),
    "wfa": _l("work from anywhere (WFA)"),
}


def work_mode_label(mode: str, short: bool = False, in_sentence: bool = False) -> str:
    """Return the translated name of a work mode: as a label, short, or inside a sentence."""
    if in_sentence:
        return str(WORK_MODE_IN_SENTENCE.get(mode, mode))
    return str((WORK_MODE_SHORT if short else WORK_MODE_LABELS).get(mode, mode))


def memo_by_lang(function: Callable[..., str]) -> Callable[..., str]:
    """Memoise a formatter per language, given first: ``memo(lang, *args)``.

    The language must be the active one (:class:`Formats` looks it up once a page): a value
    not memoised yet is formatted in it.
    """
    return lru_cache(maxsize=8192)(lambda locale, *args: function(*args))


def by_lang(function: Callable[..., str]) -> Callable[..., str]:
    """Memoise a formatter per language: list rows and chart days repeat the same few values.

    Babel formatting and gettext cost tens of microseconds a call; a page of a thousand rows
    made thousands of identical calls (measured with cProfile, see bench/metrics.py). Keyed
    on the active locale, so a mail rendered in the reporter's language is formatted in it.
    """
    memo = memo_by_lang(function)

    @wraps(function)
    def wrapper(*args: Any) -> str:
        return memo(str(get_locale()), *args)

    return wrapper


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
    if value is None:
        return ""
    return _number_in(value, type(value), str(get_locale()))


@lru_cache(maxsize=4096)
def _number_in(value: float | int, _kind: type, locale: str) -> str:
    # Memoised per value and language: tables format the same counts many times, and
    # Babel's formatting costs far more than the look-up.
    return numbers.format_decimal(value, locale=locale)


def percent(value: float | None) -> str:
    """Format a fraction 0–1 as a whole percentage in the reader's language."""
    return "" if value is None else percent_text(value, 0)


def rate_text(value: float | None, no_value: str | None = None) -> str:
    """Format a rate 0–1 as a percentage with at most one decimal, or say there is none.

    ``no_value`` replaces the words "no data" where a page marks a missing figure otherwise.
    """
    if value is None:
        return _("no data") if no_value is None else no_value
    return percent_text(value, 1)


def rate_against_target_text(rate: float | None, target: float | None) -> str:
    """Format a rate beside its target (see :func:`portal.i18n.rate_against_target_percent`).

    No rate: as :func:`rate_text`; no target: the rate as usual.
    """
    if rate is None or target is None:
        return rate_text(rate)
    return rate_against_target_percent(rate, target)


def duration_text(hours: float | None) -> str:
    """Say an elapsed time in minutes, hours or days (of 24 hours), whichever reads best."""
    if hours is None:
        return _("no data")
    if hours < 1:
        minutes = round(hours * 60)
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    if hours < 48:
        value = round(hours, 1)
        # English says "1 hour" but "1.5 hours": the plural form depends on the exact value.
        return ngettext("%(value)s hour", "%(value)s hours", 1 if value == 1 else 2,
                        value=format_decimal(value, "#,##0.#"))
    value = round(hours / 24, 1)
    return ngettext("%(value)s day", "%(value)s days", 1 if value == 1 else 2,
                    value=format_decimal(value, "#,##0.#"))


# How long ago figures were computed ---------------------------------------------------------


def age_key(at: datetime, now: datetime) -> tuple[str, int]:
    """Return the unit and count "updated N ... ago" says: now, minutes, hours or days."""
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 1:
        return "now", 0
    if minutes < 60:
        return "m", minutes
    if minutes < 48 * 60:
        return "h", minutes // 60
    return "d", minutes // (24 * 60)


def updated_ago_text(at: datetime, now: datetime | None = None) -> str:
    """Say how long ago figures were computed, as a whole translated sentence."""
    unit, n = age_key(at, now or utc_now())
    if unit == "now":
        return _("Updated less than a minute ago")
    if unit == "m":
        return ngettext("Updated %(num)d minute ago", "Updated %(num)d minutes ago", n)
    if unit == "h":
        return ngettext("Updated %(num)d hour ago", "Updated %(num)d hours ago", n)
    return ngettext("Updated %(num)d day ago", "Updated %(num)d days ago", n)


@lru_cache(maxsize=8)
def _ago_forms(locale: str) -> dict:
    """Return the untranslated-placeholder forms of the "updated ago" sentences for scripts."""
    translations = get_translations()

    def forms(singular: str, plural: str) -> list[str]:
        return [translations.ungettext(singular, plural, 1),
                translations.ungettext(singular, plural, 2)]

    return {
        "now": _("Updated less than a minute ago"),
        "m": forms("Updated %(num)d minute ago", "Updated %(num)d minutes ago"),
        "h": forms("Updated %(num)d hour ago", "Updated %(num)d hours ago"),
        "d": forms("Updated %(num)d day ago", "Updated %(num)d days ago"),
    }


def updated_ago_forms() -> dict:
    """Return the "updated ago" sentences (singular, plural) in the reader's language.

    The refresh script keeps "N minutes ago" true while a page stays open; it picks the form
    with the browser's plural rules (Indonesian has one form, English two).
    """
    return _ago_forms(str(get_locale()))


@lru_cache(maxsize=8192)
def _decimal_in(value: float, _kind: type, _sign: float, pattern: numbers.NumberPattern,
                locale: str) -> str:
    # Memoised as _number_in. The sign is part of the key: -0.0 equals 0.0 but keeps its
    # minus sign in a signed pattern.
    return numbers.format_decimal(value, pattern, locale=locale)


# The formatters of one page -----------------------------------------------------------------

_DATE_LONG = memo_by_lang(date_long)
_DATETIME_WIB = memo_by_lang(datetime_wib)
_RATE_TEXT = memo_by_lang(rate_text)
_WORK_MODE_LABEL = memo_by_lang(work_mode_label)
_COMMITMENT_TEXT = memo_by_lang(commitment_text)
_STATUS_LABEL = memo_by_lang(service_status_label)
_RATE_AGAINST_TARGET = memo_by_lang(rate_against_target_text)
_DURATION_TEXT = memo_by_lang(duration_text)


class Formats:
    """The formatters above for one page, with the reader's language looked up once.

    ``number``, ``rate_text`` and ``_()`` each look the language up through flask-babel's
    context, 3 to 13 µs a call: more than the memoised formatting itself. A page that formats
    thousands of figures and labels (the accountability tables and scorecards) builds one
    ``Formats`` and formats its rows through it: the same memoised formatters, the same text.
    Only for the request that built it: a mail in another language builds its own.
    """

    def __init__(self) -> None:
        self.lang = str(get_locale())
        self._translations = get_translations()

    def gettext(self, string: str, **variables: Any) -> str:
        """Translate as flask-babel's ``gettext`` does."""
        text = self._translations.ugettext(string)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        """Translate as flask-babel's ``ngettext`` does (``num`` is a variable too)."""
        variables.setdefault("num", num)
        return self._translations.ungettext(singular, plural, num) % variables

    def number(self, value: float | int | None) -> str:
        """Format a number as :func:`number` does."""
        return "" if value is None else _number_in(value, type(value), self.lang)

    def decimal(self, value: float, pattern: numbers.NumberPattern) -> str:
        """Format a number with a Babel pattern, parsed once (``numbers.parse_pattern``)."""
        return _decimal_in(value, type(value), math.copysign(1, value), pattern, self.lang)

    def rate(self, value: float | None, no_value: str | None = None) -> str:
        """Format a rate as :func:`rate_text` does."""
        return _RATE_TEXT(self.lang, value, no_value)

    def rate_against_target(self, rate: float | None, target: float | None) -> str:
        """Format a rate beside its target as :func:`rate_against_target_text` does."""
        return _RATE_AGAINST_TARGET(self.lang, rate, target)

    def duration(self, hours: float | None) -> str:
        """Say an elapsed time as :func:`duration_text` does."""
        return _DURATION_TEXT(self.lang, hours)

    def date_long(self, value: date | None) -> str:
        """Format a date as :func:`portal.i18n.date_long` does."""
        return _DATE_LONG(self.lang, value)

    def datetime_wib(self, value: datetime | None) -> str:
        """Format a timestamp as :func:`datetime_wib` does."""
        return _DATETIME_WIB(self.lang, value)

    def work_mode_label(self, mode: str, short: bool = False, in_sentence: bool = False) -> str:
        """Name a work mode as :func:`work_mode_label` does."""
        return _WORK_MODE_LABEL(self.lang, mode, short, in_sentence)

    def commitment_text(self, value: int, unit: str, target: float) -> str:
        """Say a commitment as :func:`commitment_text` does."""
        return _COMMITMENT_TEXT(self.lang, value, unit, target)

    def status_label(self, status: str) -> str:
        """Name a service status as :func:`portal.web.labels.service_status_label` does."""
        return _STATUS_LABEL(self.lang, status)


def init_app(app: Flask) -> None:
    """Make the formatters, and the names of service statuses, available to templates.

    Those that format with Babel or translate whole sentences are memoised per language
    (:func:`by_lang`): a service page formats a few dozen dates, times, durations and
    commitments, most of them the same from one page to the next.
    """
    app.jinja_env.filters.update(
        date_long=by_lang(date_long), datetime_wib=by_lang(datetime_wib), number=number,
        percent=percent,
    )
    app.jinja_env.globals.update(
        work_mode_label=work_mode_label, commitment_text=by_lang(commitment_text),
        first_response_text=by_lang(first_response_text),
        rate_text=by_lang(rate_text), duration_text=by_lang(duration_text),
        rate_against_target=by_lang(rate_against_target_text),
        status_label=service_status_label,
        absolute_url_for=absolute_url_for,
    )
