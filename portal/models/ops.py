"""Operations: the runs of the periodic commands (status refresh, checks, outbox, feedback)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

MAX_JOB_NAME = 40
MAX_RUN_DETAIL = 200
MAX_HOST = 100
# What became of a run: still running (or its process died), done, failed with an error, or
# not done because another server held the job or had just done it.
JOB_OUTCOMES = ("running", "succeeded", "failed", "skipped")


class JobRun(db.Model):
    """One run of a periodic command: when, on which server, how long, and how it ended."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The command without "flask --app wsgi": "status refresh", "outbox send"...
    job: Mapped[str] = mapped_column(String(MAX_JOB_NAME))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    # Why it failed (the error's class, never its message: it may quote personal data) or
    # why it was skipped.
    detail: Mapped[str] = mapped_column(String(MAX_RUN_DETAIL), default="")
    # The server (host name) that ran it.
    host: Mapped[str] = mapped_column(String(MAX_HOST), default="")

    @property
    def duration_seconds(self) -> float | None:
        """Return how long the run took, or None while it runs."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
