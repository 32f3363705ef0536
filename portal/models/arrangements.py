"""Each department's published WFA arrangement, kept as a dated history like work modes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.catalogue import Department
from portal.models.types import UTCDateTime, utcnow

WFA_APPLIES = ("no", "pilot", "yes")
# The texts of an arrangement, each kept in Indonesian and English (``<name>_id``, ``<name>_en``).
ARRANGEMENT_TEXTS = ("supervision", "reporting", "it_systems")


class WfaArrangement(db.Model):
    """One version of a department's WFA arrangement, in force from ``effective_from``.

    The version in force on a day is the one with the latest ``effective_from`` not after it;
    a department with none has "not published" its arrangement.
    """

    __tablename__ = "wfa_arrangement"
    __table_args__ = (
        CheckConstraint("wfa_applies IN ('no', 'pilot', 'yes')", name="wfa_applies"),
        CheckConstraint(
            "remote_share_percent IS NULL OR "
            "(remote_share_percent >= 0 AND remote_share_percent <= 100)",
            name="remote_share",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    wfa_applies: Mapped[str] = mapped_column(String(8))
    # The share of the department's civil servants (ASN) working remotely, in whole percent.
    remote_share_percent: Mapped[int | None] = mapped_column(Integer)
    legal_basis_title: Mapped[str] = mapped_column(String(300), default="")
    legal_basis_number: Mapped[str] = mapped_column(String(120), default="")
    legal_basis_date: Mapped[date | None] = mapped_column(Date)
    legal_basis_url: Mapped[str] = mapped_column(String(500), default="")
    # How supervisors check work.
    supervision_id: Mapped[str] = mapped_column(Text, default="")
    supervision_en: Mapped[str] = mapped_column(Text, default="")
    # How, and how often, staff report their work.
    reporting_id: Mapped[str] = mapped_column(Text, default="")
    reporting_en: Mapped[str] = mapped_column(Text, default="")
    # The IT systems used for remote work.
    it_systems_id: Mapped[str] = mapped_column(Text, default="")
    it_systems_en: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")

    department: Mapped[Department] = relationship()
