"""Feedback as Open311's ``requests`` show it: published feedback only, under a public id.

Everyone may read the feedback whose public version staff approved (docs/definitions.md,
"Privacy"), each under a public id such as ``P123``, never under its tracking code: whoever
holds a tracking code may reply and reopen, so no list ever shows one. A single request may
also be asked for by its tracking code: its holder then sees the same public view as on the
tracking page (which shows the regency too), whether or not the text was published. Neither
ever holds a name, an e-mail address, a phone number or a place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.domain.calendar import WIB, utc_now, wib_midnight
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.feedback import FEEDBACK_STATUSES, OPEN_STATUSES, Feedback
from portal.services.errors import FieldError, ValidationError, must_be_one_of
from portal.services.feedback.citizen import feedback_get
from portal.services.feedback.public_view import feedback_public_view, public_view_options
from portal.services.feedback.publishing import feedback_published_get, feedback_published_view

PUBLIC_ID_PREFIX = "P"
_PUBLIC_ID = re.compile(r"^[Pp]([1-9][0-9]{0,17})$")
# The GeoReport v2 default and limit: a span of 90 days, the first 1000 requests.
MAX_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
# The dates a search may name, well inside what datetimes can count from and to.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
OPEN311_STATUSES = ("open", "closed")
# open: someone still has to act; closed: resolved, closed or not accepted.
STATUS_FOR = {status: ("open" if status in OPEN_STATUSES else "closed")
              for status in FEEDBACK_STATUSES}


def public_id(feedback_id: int) -> str:
    """Return the public id of published feedback: P and its number (never its tracking code)."""
    return f"{PUBLIC_ID_PREFIX}{feedback_id}"


def public_id_parse(text: str) -> int | None:
    """Return the feedback number of a public id such as P123, or None if it is not one."""
    match = _PUBLIC_ID.match((text or "").strip())
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class RequestRecord:
    """One feedback as Open311 shows it: its id there and what the reader may see of it.

    ``view`` is :func:`feedback_published_view` for published feedback read by its public
    id, or the tracking page's public view for the holder of the tracking code, who alone
    is also given the ``regency`` (the portal's code).
    """

    service_request_id: str
    view: dict[str, Any]
    regency: str | None = None
    by_tracking_code: bool = False


@dataclass(frozen=True)
class RequestQuery:
    """The filters of a ``GET requests``, checked: ids override everything else."""

    feedback_ids: tuple[int, ...] | None
    service_codes: tuple[str, ...]
    statuses: tuple[str, ...]
    start: datetime
    end: datetime


def _comma_list(value: Any) -> list[str]:
    text = value if isinstance(value, str) else ""
    return [item.strip() for item in text.split(",") if item.strip()]


def _instant(field: str, value: str) -> datetime:
    """Read a W3C date and time; without a zone (or a date alone) it is WIB, as everywhere.

    Years far from ours are refused: the span arithmetic would leave the calendar.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError([FieldError(field, _(
            "Use a date and time in ISO 8601 (W3C) form, such as 2026-01-31T00:00:00+07:00."
        ))]) from None
    if not EARLIEST.year <= parsed.year < LATEST.year:
        raise ValidationError([FieldError(field, _(
            "Use a date between %(earliest)d and %(latest)d.",
            earliest=EARLIEST.year, latest=LATEST.year - 1))])
    if len(text) == 10:  # a date alone: its midnight in WIB
        return wib_midnight(date.fromisoformat(text))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=WIB)


def _window(start_text: str, end_text: str, now: datetime) -> tuple[datetime, datetime]:
    """Return the span of requested dates: the 90 days before now unless told otherwise."""
    start = _instant("start_date", start_text) if start_text else None
    end = _instant("end_date", end_text) if end_text else None
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if end < start:
        raise ValidationError(
            [FieldError("end_date", _("end_date must not be before start_date."))])
    if end - start > MAX_SPAN:
        raise ValidationError([FieldError("end_date", _(
            "start_date and end_date may be at most %(days)d days apart.",
            days=MAX_SPAN.days))])
    return start, end


def open311_request_query(params: Mapping[str, Any], now: datetime | None = None) -> RequestQuery:
    """Check the filters of a ``GET requests``; raise ValidationError for a bad one.

    ``service_request_id`` (a comma list of public ids) overrides the other filters, as the
    specification says; ids that are not public ids (a tracking code among them) match
    nothing. ``service_code`` and ``status`` are comma lists; ``start_date`` and
    ``end_date`` bound the requested date and time, 90 days apart at most.
    """
    now = now or utc_now()
    # A malformed filter is refused even beside the ids that override it.
    statuses = tuple(dict.fromkeys(_comma_list(params.get("status"))))
    if any(status not in OPEN311_STATUSES for status in statuses):
        raise ValidationError([FieldError("status", must_be_one_of(OPEN311_STATUSES))])
    ids_text = params.get("service_request_id") or ""
    if ids_text:
        ids = tuple(dict.fromkeys(
            number for number in (public_id_parse(item) for item in _comma_list(ids_text))
            if number is not None
        ))
        return RequestQuery(feedback_ids=ids[:MAX_REQUESTS], service_codes=(), statuses=(),
                            start=now - MAX_SPAN, end=now)
    start, end = _window(str(params.get("start_date") or ""), str(params.get("end_date") or ""),
                         now)
    return RequestQuery(
        feedback_ids=None,
        service_codes=tuple(code[:64] for code in _comma_list(params.get("service_code"))),
        statuses=statuses,
        start=start,
        end=end,
    )


def open311_requests(
    query: RequestQuery, lang: str, now: datetime | None = None
) -> list[RequestRecord]:
    """Return the published feedback matching a query, most recently filed first (1000 at most)."""
    stmt = select(Feedback).where(Feedback.publish_approved.is_(True))
    if query.feedback_ids is not None:
        stmt = stmt.where(Feedback.id.in_(query.feedback_ids))
    else:
        stmt = stmt.where(Feedback.submitted_at >= query.start,
                          Feedback.submitted_at <= query.end)
        if query.service_codes:
            stmt = stmt.join(Service, Feedback.service_id == Service.id).where(
                Service.code.in_(query.service_codes))
        if query.statuses:
            stmt = stmt.where(Feedback.status.in_(
                [status for status, shown in STATUS_FOR.items() if shown in query.statuses]))
    stmt = (stmt.options(*public_view_options())
            .order_by(Feedback.submitted_at.desc(), Feedback.id.desc())
            .limit(MAX_REQUESTS))
    now = now or utc_now()
    return [
        RequestRecord(public_id(feedback.id), feedback_published_view(feedback, lang, now))
        for feedback in db.session.scalars(stmt)
    ]


def open311_request(identifier: str, lang: str, now: datetime | None = None) -> RequestRecord:
    """Return one feedback by its public id or its tracking code; raise NotFound otherwise.

    By public id only published feedback is found. By tracking code the holder sees the
    tracking page's public view, published or not, under the code they sent.
    """
    now = now or utc_now()
    feedback_id = public_id_parse(identifier)
    if feedback_id is not None:
        feedback = feedback_published_get(feedback_id)
        return RequestRecord(public_id(feedback.id), feedback_published_view(feedback, lang, now))
    feedback = feedback_get(identifier)
    view = feedback_public_view(feedback, lang, now).as_dict()
    return RequestRecord(view["tracking_code"], view, regency=feedback.regency,
                         by_tracking_code=True)
