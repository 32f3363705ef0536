"""Render the default period's PDF reports after the job that stored their figures.

A department's report at province scale is dozens of A4 pages: seconds of WeasyPrint. When
the status refresh (or ``requests recompute``) has stored the accountability figures anew,
this renders the PDF of each report of the default period, the province's and every
department's, in every language, whose printed content has no kept file yet
(portal/web/accountability/report_pdf.py), so that a download reads a kept file instead of
waiting for the layout. It stops after PORTAL_REPORT_PDF_SECONDS of CPU (0 turns it off);
the next run goes on where this one stopped, since the files kept are skipped. A report of
another period, or one whose content changed since the last run, is rendered for its
download (a GET never writes: downloads keep nothing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Flask, has_request_context
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import languages
from portal.models.catalogue import Department
from portal.services.accountability.report_files import report_files_prune
from portal.services.accountability.tables import DEFAULT_PERIOD
from portal.web.accountability.report_pdf import (
    ReportUnavailable,
    load_weasyprint,
    report_pdf_keep,
)

log = logging.getLogger(__name__)


def _report_paths() -> Iterator[str]:
    """The default period's report pages: the province's first, then each department's."""
    codes = list(db.session.scalars(select(Department.code).order_by(Department.code)))
    for lang in languages():
        yield f"/{lang}/accountability/report?period={DEFAULT_PERIOD}"
        for code in codes:
            yield f"/{lang}/accountability/departments/{code}/report?period={DEFAULT_PERIOD}"


def prepare_report_pdfs(app: Flask, **_: object) -> tuple[int, int]:
    """Render and keep the PDFs of the default period's reports whose content changed.

    Connected to ``accountability_stored``. Returns (rendered, already kept); does nothing
    in a web request, or when WeasyPrint cannot run here.
    """
    budget = app.config.get("PORTAL_REPORT_PDF_SECONDS", 0)
    if budget <= 0 or has_request_context():
        return 0, 0
    try:
        load_weasyprint()
    except ReportUnavailable:
        return 0, 0
    report_files_prune()
    base = app.config["PORTAL_BASE_URL"].rstrip("/")
    started, rendered, kept = time.process_time(), 0, 0
    client = app.test_client()
    for path in _report_paths():
        if time.process_time() - started > budget:
            log.info("report PDFs: CPU budget spent, the next run goes on (%s)", path)
            break
        page = client.get(path)
        if page.status_code != 200:
            continue
        with app.test_request_context(path):
            try:
                if report_pdf_keep(page.get_data(as_text=True), base + path):
                    rendered += 1
                else:
                    kept += 1
            except Exception:  # one report's failure must not fail the status refresh
                db.session.rollback()
                log.exception("report PDF not prepared: %s", path)
    log.info("report PDFs: %d rendered, %d already kept", rendered, kept)
    return rendered, kept


__all__ = ["prepare_report_pdfs"]
