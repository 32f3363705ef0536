"""Reported service requests, their daily aggregates, report times, status and API tokens.

Scale by design: every figure over a window reads the ``service_day`` rows of that
window (one row per service and WIB day), maintained on ingest, so its cost does not grow with
the length of history. Only backlog and overdue read ``service_request`` rows, and only those
still open or completed after the window's end (see the two indexes below).

Completion-time distribution: each ``service_day`` row keeps, as compact JSON
``{"seconds": count}``, the completion times (whole seconds) of the requests completed that
day, so nearest-rank percentiles are exact. Its size is the number of distinct durations that
day: a few hundred bytes for a typical service. To keep a row bounded on a very busy day, a
day with more than 1,000 distinct durations is coarsened: durations of 1,000 s or more go
into log buckets 0.1 % wide (negative keys), so percentiles stay within 0.05 % (far inside
the allowed 1 %) and the row holds at most ~14,000 keys (10 years of durations) whatever
the volume; in practice a busy day's spread needs a few hundred.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.types import UTCDateTime, utcnow

CHANNELS = ("online", "counter", "phone", "other")
SERVICE_STATUSES = (
    "disrupted",
    "no_data",
    "insufficient_data",
    "meeting",
    "at_risk",
    "breaching",
)


class ServiceRequest(db.Model):
    """One citizen request a department reported for one of its services (no personal data)."""

    __tablename__ = "service_request"
    __table_args__ = (
        UniqueConstraint("service_id", "external_id", name="uq_service_request_service_external"),
        CheckConstraint(
            "channel IS NULL OR channel IN ('online', 'counter', 'phone', 'other')",
            name="channel",
        ),
        # Backlog at a window's end reads open requests (completed_at IS NULL) and those
        # completed after the end: both are ranges of this index, never the whole history.
        Index("ix_service_request_service_completed", "service_id", "completed_at"),
        # What fell due today so far (deadline between today 00:00 WIB and now) is read from
        # the requests, not the aggregates: two narrow ranges of these indexes.
        Index("ix_service_request_service_deadline", "service_id", "completion_deadline"),
        Index("ix_service_request_service_first_deadline", "service_id",
              "first_response_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    # The department's own identifier of the request (never personal data).
    external_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(10))
    # Deadlines computed on ingest from the commitment in force on the day it was received,
    # and recomputed when the calendar or a backdated commitment changes (see
    # service_requests_recompute). No first-response deadline when the service makes no
    # first-response commitment.
    completion_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    first_response_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServiceDay(db.Model):
    """What happened to one service on one WIB day, kept up to date on every ingest."""

    __tablename__ = "service_day"
    # The first and the last day with figures (the open-data page's coverage) are one probe
    # each of this index; without it, one probe per service of the primary key.
    __table_args__ = (Index("ix_service_day_day", "day"),)

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Requests received this day, and of them those received through the online channel.
    received: Mapped[int] = mapped_column(Integer, default=0)
    received_online: Mapped[int] = mapped_column(Integer, default=0)
    # Requests completed this day, and of them those completed by their deadline.
    completed: Mapped[int] = mapped_column(Integer, default=0)
    completed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    # Requests first answered this day, and of them those answered by their deadline.
    first_responses: Mapped[int] = mapped_column(Integer, default=0)
    first_responses_on_time: Mapped[int] = mapped_column(Integer, default=0)
    # Sparse histogram of completion times of this day's completions (module docstring).
    completion_histogram: Mapped[str] = mapped_column(Text, default="{}")
    # Requests whose completion deadline falls on this day (their due date), whether or not
    # they were ever completed, and of them those completed at or before the deadline; with
    # the completion times of those that were completed. Every request is due exactly once.
    due: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_on_time: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_completion_histogram: Mapped[str] = mapped_column(
        Text, default="{}", server_default="{}"
    )
    # The same for first-response deadlines (services that commit to a first response).
    first_response_due: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_response_due_on_time: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )


class ServiceReport(db.Model):
    """When a department last reported on a service (even an empty report counts)."""

    __tablename__ = "service_report"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    last_reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceStatus(db.Model):
    """A service's status over the last 30 days, stored so that lists read it cheaply."""

    __tablename__ = "service_status"
    __table_args__ = (
        CheckConstraint(
            "status IN ('disrupted', 'no_data', 'insufficient_data', 'meeting', 'at_risk', "
            "'breaching')",
            name="status",
        ),
        Index("ix_service_status_status", "status"),
        # The data version and "updated N minutes ago" read the newest and oldest evaluation.
        Index("ix_service_status_computed_at", "computed_at"),
    )

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20))
    # JSON: the numbers the reason sentence is built from (rate, n, target, date, since).
    reason_params: Mapped[str] = mapped_column(Text, default="{}")
    # JSON: the 30-day metrics the status was judged on (the API's metrics fields).
    metrics: Mapped[str] = mapped_column(Text, default="{}")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The data status (rules 2 to 6 of the evaluation) when this row was evaluated under the
    # current metric definitions and the service was not disrupted then, so that counts by
    # status read a short column instead of the JSON above; None: judged from the JSON (by
    # portal.services.catalogue.tallies, as the status read does).
    data_status: Mapped[str | None] = mapped_column(String(20))


class ServicePageFigures(db.Model):
    """A service page's figures beyond its 30-day status, stored by the status evaluation.

    JSON (portal/services/metrics/page_figures.py): the 90-day window, the daily bar and the
    WFA trend as of the status's ``computed_at``; no row: computed by the page (a status
    stored before they were, or by a test). A table of its own, not a column of
    service_status: the figures are two thirds of a status row's bytes, and the home page and
    the lists count services by status over every row of service_status.
    """

    __tablename__ = "service_page_figures"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    )
    figures: Mapped[str] = mapped_column(Text)


class ServiceStatusChange(db.Model):
    """A stored status that changed at an evaluation: the history subscribers and digests read."""

    __tablename__ = "service_status_change"
    __table_args__ = (Index("ix_service_status_change_changed_at", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # JSON: the reason parameters of the new status (see ServiceStatus.reason_params).
    reason_params: Mapped[str] = mapped_column(Text, default="{}")


class ApiToken(db.Model):
    """A department's secret for the reporting API, stored only as its SHA-256 hash."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    department: Mapped[Department] = relationship()

    @property
    def is_active(self) -> bool:
        """Tell whether the token may still be used."""
        return self.revoked_at is None


__all__ = [
    "CHANNELS",
    "SERVICE_STATUSES",
    "ApiToken",
    "ServiceDay",
    "ServiceReport",
    "ServiceRequest",
    "ServiceStatus",
    "ServiceStatusChange",
]
