"""Departments, their services, and the public histories of work mode and commitment."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

WORK_MODES = ("onsite", "hybrid", "wfa")
COMMITMENT_UNITS = ("working_days", "hours")
STANDARD_FIELDS = ("requirements", "procedure", "cost", "product", "hours")


class Department(db.Model):
    """A department (OPD) of the provincial government."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_id: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    # The province's complaint-management unit routes what no rule can route.
    is_triage_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    services: Mapped[list[Service]] = relationship(
        back_populates="department", order_by="Service.name_id"
    )


class Service(db.Model):
    """A public service and its current work mode and commitment (histories kept aside)."""

    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("work_mode IN ('onsite', 'hybrid', 'wfa')", name="work_mode"),
        CheckConstraint("commitment_unit IN ('working_days', 'hours')", name="unit"),
        CheckConstraint("commitment_value >= 0", name="commitment_value"),
        CheckConstraint("on_time_target > 0 AND on_time_target <= 1", name="on_time_target"),
        CheckConstraint(
            "(first_response_value IS NULL AND first_response_unit IS NULL) OR "
            "(first_response_value >= 0 AND first_response_unit IN ('working_days', 'hours'))",
            name="first_response",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name_id: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    work_mode: Mapped[str] = mapped_column(String(10))
    work_mode_since: Mapped[date | None] = mapped_column(Date)
    commitment_value: Mapped[int] = mapped_column(Integer)
    commitment_unit: Mapped[str] = mapped_column(String(20))
    on_time_target: Mapped[float] = mapped_column(Float, default=0.90)
    # The time within which the service promises a first response, in the same units as the
    # commitment; None (both) when it makes no such promise: no first-response rate then.
    first_response_value: Mapped[int | None] = mapped_column(Integer)
    first_response_unit: Mapped[str | None] = mapped_column(String(20))
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # The published standar pelayanan, in both languages.
    requirements_id: Mapped[str] = mapped_column(Text, default="")
    requirements_en: Mapped[str] = mapped_column(Text, default="")
    procedure_id: Mapped[str] = mapped_column(Text, default="")
    procedure_en: Mapped[str] = mapped_column(Text, default="")
    cost_id: Mapped[str] = mapped_column(Text, default="")
    cost_en: Mapped[str] = mapped_column(Text, default="")
    product_id: Mapped[str] = mapped_column(Text, default="")
    product_en: Mapped[str] = mapped_column(Text, default="")
    hours_id: Mapped[str] = mapped_column(Text, default="")
    hours_en: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    department: Mapped[Department] = relationship(back_populates="services")
    work_mode_history: Mapped[list[WorkModeChange]] = relationship(
        order_by="(WorkModeChange.effective_from.desc().nulls_last(), WorkModeChange.id.desc())",
        cascade="all, delete-orphan",
    )
    commitment_history: Mapped[list[CommitmentChange]] = relationship(
        order_by="(CommitmentChange.effective_from.desc().nulls_last(), "
        "CommitmentChange.id.desc())",
        cascade="all, delete-orphan",
    )


class WorkModeChange(db.Model):
    """One dated entry of a service's public work-mode history."""

    __tablename__ = "work_mode_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    work_mode: Mapped[str] = mapped_column(String(10))
    # None means "since before the portal's records begin".
    effective_from: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who recorded it: a username, or "import" for the catalogue importer.
    recorded_by: Mapped[str] = mapped_column(String(120), default="import")
    reason: Mapped[str] = mapped_column(Text, default="")


class CommitmentChange(db.Model):
    """One dated entry of a service's public commitment history."""

    __tablename__ = "commitment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    commitment_value: Mapped[int] = mapped_column(Integer)
    commitment_unit: Mapped[str] = mapped_column(String(20))
    on_time_target: Mapped[float] = mapped_column(Float)
    # The first-response commitment in force from that date (None: no such promise).
    first_response_value: Mapped[int | None] = mapped_column(Integer)
    first_response_unit: Mapped[str | None] = mapped_column(String(20))
    effective_from: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(120), default="import")
    reason: Mapped[str] = mapped_column(Text, default="")


class CalendarDay(db.Model):
    """An administrator's exception to the national calendar for one WIB date."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # False: an extra non-working day; True: a holiday or weekend marked as a working day.
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300), default="")


class SiteSetting(db.Model):
    """A small key/value fact about the installation (e.g. that demo data is loaded)."""

    __tablename__ = "site_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
