"""Rate limits said in the reader's language ("30 per jam"), not in Flask-Limiter's English."""

from __future__ import annotations

from flask_babel import format_decimal, ngettext
from limits import RateLimitItem, parse_many


def _phrase(unit: str, count: str, num: int) -> str:
    """Say "count requests per num units" as one translated phrase (num is 1 most often)."""
    if unit == "second":
        return ngettext("%(count)s per second", "%(count)s per %(num)d seconds", num,
                        count=count)
    if unit == "minute":
        return ngettext("%(count)s per minute", "%(count)s per %(num)d minutes", num,
                        count=count)
    if unit == "hour":
        return ngettext("%(count)s per hour", "%(count)s per %(num)d hours", num, count=count)
    if unit == "day":
        return ngettext("%(count)s per day", "%(count)s per %(num)d days", num, count=count)
    if unit == "month":
        return ngettext("%(count)s per month", "%(count)s per %(num)d months", num,
                        count=count)
    return ngettext("%(count)s per year", "%(count)s per %(num)d years", num, count=count)


def rate_limit_text(limit: str | RateLimitItem) -> str:
    """Say a limit ("30 per hour"; several: "10 per minute, 50 per hour") in the current language.

    ``limit`` is a parsed limit or a limit string as the configuration holds it.
    """
    items = [limit] if isinstance(limit, RateLimitItem) else parse_many(limit)
    return ", ".join(
        _phrase(item.GRANULARITY.name, format_decimal(item.amount), item.multiples)
        for item in items
    )
