"""Stored accountability figures: the tables and scorecards of the standard periods.

The accountability table and the department scorecards pool every service's figures, the
WFA impact of every moved service and its comparison group: seconds of work at a province's
scale. The jobs that change the data (a department's report, ``requests recompute``, the
10-minute ``status refresh``) compute them for the periods the pages offer (the last 30, 90
and 365 days) and store them here, so that a visitor reads one row instead of the history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime

MAX_SNAPSHOT_KEY = 120


class AccountabilitySnapshot(db.Model):
    """One computed table or scorecard, as of when it was computed."""

    __tablename__ = "accountability_snapshot"

    # What it is: "table:90" (every department, the last 90 days) or "department:CODE:90".
    key: Mapped[str] = mapped_column(String(MAX_SNAPSHOT_KEY), primary_key=True)
    # The period's WIB dates (both inclusive): a snapshot of another day is never served.
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The code that computed it (a digest of the modules that define the figures): a
    # snapshot computed by other code is never served.
    code_version: Mapped[str] = mapped_column(String(16))
    # The figures' objects, serialised by the code that computed them.
    body: Mapped[bytes] = mapped_column(LargeBinary)


class ReportFile(db.Model):
    """A rendered PDF report, kept under the digest of what it shows.

    A department's report at province scale is dozens of A4 pages, seconds of layout; the
    status refresh renders the standard period's reports when their content changes, and a
    download reads the file whose content digest matches the page it would render.
    """

    __tablename__ = "report_file"

    # sha256 (hex) of the report's printed content and of the style sheets that lay it out.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)


__all__ = ["AccountabilitySnapshot", "ReportFile"]
