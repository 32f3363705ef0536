"""The department and province reports as PDF, rendered on the server with WeasyPrint.

WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0); without it
``import weasyprint`` raises OSError. It is therefore imported only when a PDF is asked for,
and its absence becomes ``ReportUnavailable`` (the view answers 503 and points to the
printable page, which browsers can save as a PDF themselves).

A web worker lays a report out in a child process (portal/web/accountability/pdf_render.py,
which reads only the portal's static files): the hundreds of megabytes a long report takes
are given back when the child exits, so a worker stays small. The job that prepares the
default period's reports (prepare.py) renders in its own process, which exits too.

Laying a report out takes seconds; its content changes only with its figures. The job that
stores the figures renders the default period's reports and keeps each PDF under a digest of
what it prints (report_pdf_keep); a download of the same content reads it (report_pdf_kept),
any other is rendered for its download (and held by the page cache, not stored: a GET never
writes).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from flask import current_app

from portal.config import BASE_DIR
from portal.services.accountability.report_files import (
    report_file_exists,
    report_file_keep,
    report_file_read,
)
from portal.services.errors import DomainError
from portal.web.accountability import pdf_render

STATIC_DIR = BASE_DIR / "static"
# A child that takes longer is stopped: the visitor is pointed to the printable page.
RENDER_TIMEOUT_SECONDS = 300
# What a report prints: its <article> (the site's header, footer and forms are not printed,
# and carry a per-visitor CSRF token); the time it was generated is left out of its digest.
_PRINTED = re.compile(r'<article class="report">.*</article>', re.S)
_GENERATED = re.compile(r'<dd class="report-generated">.*?</dd>', re.S)
log = logging.getLogger(__name__)


class ReportUnavailable(DomainError):
    """The PDF cannot be made on this server (WeasyPrint or its system libraries are missing,
    or the renderer failed)."""


def load_weasyprint() -> ModuleType:
    """Import WeasyPrint, or raise ReportUnavailable when it or Pango cannot be loaded."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        log.warning("PDF reports unavailable: WeasyPrint cannot be loaded (%s)", error)
        raise ReportUnavailable(str(error)) from error
    return pdf_render.quiet(weasyprint)


def _installed() -> None:
    """Raise ReportUnavailable when WeasyPrint is not installed, without importing it here
    (a worker that only starts the renderer need not hold it in memory; a child that cannot
    load Pango says so by its exit status)."""
    try:
        found = importlib.util.find_spec("weasyprint") is not None
    except (ImportError, OSError, ValueError) as error:
        found, reason = False, str(error)
    else:
        reason = "WeasyPrint is not installed"
    if not found:
        log.warning("PDF reports unavailable: %s", reason)
        raise ReportUnavailable(reason)


def static_prefix() -> str:
    """Return the current app's static URL prefix, ``/static/<fingerprint>/``."""
    return current_app.jinja_env.globals["static_url"]("")


def static_files(base_url: str) -> pdf_render.StaticFiles:
    """The static files a report rendered for ``base_url`` may load."""
    return pdf_render.StaticFiles(base_url, static_prefix(), STATIC_DIR)


def report_pdf(html: str, base_url: str, *, in_process: bool = False) -> bytes:
    """Render a report page (HTML from our templates) to PDF bytes, A4 per its print CSS.

    ``base_url`` is the page's absolute address: relative and root-relative URLs of the page
    resolve against it, and only those under the static prefix on its host are loaded. A
    child process renders unless ``in_process`` (a job's own process). Raises
    ReportUnavailable when WeasyPrint cannot be loaded or the renderer fails.
    """
    if in_process:
        return pdf_render.render(load_weasyprint(), html, base_url, static_prefix(), STATIC_DIR)
    _installed()
    command = [sys.executable, str(Path(pdf_render.__file__)), base_url, static_prefix(),
               str(STATIC_DIR)]
    try:
        child = subprocess.run(command, input=html.encode(), capture_output=True,  # noqa: S603
                               timeout=RENDER_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as error:
        log.error("PDF report not rendered within %d s", RENDER_TIMEOUT_SECONDS)
        raise ReportUnavailable("the PDF renderer took too long") from error
    if child.returncode == pdf_render.EXIT_UNAVAILABLE:
        reason = child.stderr.decode(errors="replace").strip()
        log.warning("PDF reports unavailable: %s", reason)
        raise ReportUnavailable(reason)
    if child.returncode != 0 or not child.stdout.startswith(b"%PDF-"):
        log.error("PDF renderer failed (exit %d): %s", child.returncode,
                  child.stderr.decode(errors="replace")[-2000:])
        raise ReportUnavailable("the PDF renderer failed")
    return child.stdout


def report_digest(html: str) -> str:
    """Digest what a report page prints, with the style sheets (their fingerprinted prefix)
    that lay it out, leaving out when it was generated: equal digests print equal PDFs."""
    printed = _PRINTED.search(html)
    content = _GENERATED.sub("", printed.group(0) if printed else html)
    return hashlib.sha256(f"{static_prefix()}\0{content}".encode()).hexdigest()


def report_pdf_kept(html: str, base_url: str) -> bytes:
    """Return the PDF of a report page: the file kept for its content, or one rendered now.

    A download only reads (every GET is replica-safe): files are kept by the job that
    prepares them (prepare.py, report_pdf_keep). A kept file states the time its content was
    first generated; its figures are the page's. Raises ReportUnavailable like report_pdf.
    """
    kept = report_file_read(report_digest(html))
    return kept if kept is not None else report_pdf(html, base_url)


def report_pdf_keep(html: str, base_url: str) -> bool:
    """Render a report page in this process and keep the PDF under its digest, unless a
    file is kept for it already; return whether it rendered (a job's step)."""
    digest = report_digest(html)
    if report_file_exists(digest):
        return False
    report_file_keep(digest, report_pdf(html, base_url, in_process=True))
    return True
