"""Recompute the stored accountability figures after a department's report.

A report changes the figures of the accountability table and scorecards; the stored ones
(portal/services/accountability/snapshots.py) are recomputed once they are older than
PORTAL_ACCOUNTABILITY_REFRESH_SECONDS, after the response has been sent: the department's
reporting system does not wait for it, and no visitor pays for it. One refresh at a time
per process; the 10-minute ``status refresh`` recomputes them whatever happens here.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from flask import Flask, Response, after_this_request, current_app, has_request_context

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.services.accountability.snapshots import snapshot_newest
from portal.services.accountability.tables import accountability_refresh

log = logging.getLogger(__name__)
_running = threading.Lock()


def _due(app: Flask) -> bool:
    """Tell whether the stored figures are older than the configured interval."""
    if not app.config.get("PORTAL_ACCOUNTABILITY_SNAPSHOTS", True):
        return False
    newest = snapshot_newest()
    interval = timedelta(seconds=app.config.get("PORTAL_ACCOUNTABILITY_REFRESH_SECONDS", 300))
    return newest is None or utc_now() - newest >= interval


def _refresh(app: Flask) -> None:
    """Recompute the stored figures unless this process is doing so already."""
    if not _running.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                if _due(app):
                    accountability_refresh(by_job=False)
            except Exception:  # the report is stored; the next job run refreshes
                db.session.rollback()
                log.exception("accountability figures not refreshed after a report")
    finally:
        _running.release()


def refresh_after_report(_department: Any, **_summary: Any) -> None:
    """Schedule the refresh of the stored figures (connected to ``report_stored``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _due(app):
        return
    if not has_request_context():
        _refresh(app)  # a command: nobody waits for a response
        return

    @after_this_request
    def refresh_when_sent(response: Response) -> Response:
        response.call_on_close(lambda: _refresh(app))
        return response


__all__ = ["refresh_after_report"]
