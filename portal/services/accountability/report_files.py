"""Rendered PDF reports, kept under the digest of what they show.

Laying out a department's report at province scale takes seconds (dozens of A4 pages); its
content changes only when its figures do. The job that stores the figures renders the
reports and keeps each under a digest of its printed content; a download digests the report
it would print and reads the file kept under that digest (downloads never write). Files
nobody could ask for any more (their content has changed since) are pruned after
``KEEP_DAYS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.accountability import ReportFile

# A report's content changes at least daily (its period ends today): older files are dead.
KEEP_DAYS = 2


def report_file_read(digest: str) -> bytes | None:
    """Return the file kept under a digest, or None."""
    return db.session.scalar(select(ReportFile.body).where(ReportFile.digest == digest))


def report_file_exists(digest: str) -> bool:
    """Tell whether a file is kept under a digest (without reading it)."""
    return db.session.scalar(
        select(ReportFile.digest).where(ReportFile.digest == digest)) is not None


def report_file_keep(digest: str, body: bytes, now: datetime | None = None) -> None:
    """Keep a rendered file under its digest and commit; another process may have kept the
    same content meanwhile, which is as good."""
    db.session.add(ReportFile(digest=digest, body=body, created_at=now or utc_now()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def report_files_prune(now: datetime | None = None) -> int:
    """Delete the files older than KEEP_DAYS and commit; return how many."""
    cutoff = (now or utc_now()) - timedelta(days=KEEP_DAYS)
    deleted = db.session.execute(delete(ReportFile).where(ReportFile.created_at < cutoff))
    db.session.commit()
    return deleted.rowcount or 0


__all__ = ["KEEP_DAYS", "report_file_exists", "report_file_keep", "report_file_read",
           "report_files_prune"]
