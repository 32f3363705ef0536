"""Incidents with their public updates, planned maintenance, and availability checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.models.types import UTCDateTime, utcnow

INCIDENT_IMPACTS = ("minor", "major", "outage")
INCIDENT_STATES = ("investigating", "identified", "monitoring", "resolved")
# An open incident of one of these impacts makes its services "disrupted" (status rule 1).
DISRUPTING_IMPACTS = ("major", "outage")

incident_service = Table(
    "incident_service",
    db.metadata,
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)

maintenance_service = Table(
    "maintenance_service",
    db.metadata,
    Column("maintenance_id", ForeignKey("maintenance.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Incident(db.Model):
    """A disruption of one or more services, told publicly through dated updates."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("impact IN ('minor', 'major', 'outage')", name="impact"),
        CheckConstraint(
            "state IN ('investigating', 'identified', 'monitoring', 'resolved')", name="state"
        ),
        # Open incidents are looked up on every status evaluation.
        Index("ix_incident_open", "resolved_at", "impact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    impact: Mapped[str] = mapped_column(String(10))
    # The state of the latest update, kept here so lists need no join.
    state: Mapped[str] = mapped_column(String(20), default="investigating")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff username of whoever opened it; never shown publicly.
    created_by: Mapped[str] = mapped_column(String(120))
    # The department owning the services; None when an administrator names several.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)

    department: Mapped[Department | None] = relationship()
    services: Mapped[list[Service]] = relationship(
        secondary=incident_service, order_by="Service.name_id"
    )
    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident",
        order_by="(IncidentUpdate.created_at, IncidentUpdate.id)",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        """Tell whether the incident is not resolved yet."""
        return self.resolved_at is None

    @property
    def latest_update(self) -> IncidentUpdate | None:
        """Return the most recent update, if any."""
        return self.updates[-1] if self.updates else None


class IncidentUpdate(db.Model):
    """One public, bilingual entry in an incident's timeline."""

    __tablename__ = "incident_update"
    __table_args__ = (
        CheckConstraint(
            "state IN ('investigating', 'identified', 'monitoring', 'resolved')", name="state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20))
    body_id: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))

    incident: Mapped[Incident] = relationship(back_populates="updates")


class Maintenance(db.Model):
    """A declared window of planned work on one or more services."""

    __tablename__ = "maintenance"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_maintenance_window", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_id: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_id: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))

    services: Mapped[list[Service]] = relationship(
        secondary=maintenance_service, order_by="Service.name_id"
    )


class AvailabilityCheck(db.Model):
    """The result of one probe of a service's online channel."""

    __tablename__ = "availability_check"
    __table_args__ = (
        # Availability over a window reads one service's checks in time order.
        Index("ix_availability_check_service_checked", "service_id", "checked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    # Why a check failed, in a few words ("timeout", "HTTP 500"); empty on success.
    error: Mapped[str] = mapped_column(String(200), default="")
