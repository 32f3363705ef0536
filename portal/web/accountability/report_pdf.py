"""The department report as a PDF, rendered on the server with WeasyPrint.

WeasyPrint needs Pango (Debian: libpango-1.0-0, libpangoft2-1.0-0); without it
``import weasyprint`` raises OSError. It is therefore imported only when a PDF is asked for,
and its absence becomes ``ReportUnavailable`` (the view answers 503 and points to the
printable page, which browsers can save as a PDF themselves).

The renderer may load only the portal's own static files, read from disk: the HTML is built
from our templates, but a figure or a name in it must never make the server fetch a URL from
the network or read a file outside static/.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

from flask import current_app

from portal.config import BASE_DIR
from portal.services.errors import DomainError

STATIC_DIR = BASE_DIR / "static"
log = logging.getLogger(__name__)


class ReportUnavailable(DomainError):
    """The PDF cannot be made on this server (WeasyPrint or its system libraries are missing)."""


def load_weasyprint() -> ModuleType:
    """Import WeasyPrint, or raise ReportUnavailable when it or Pango cannot be loaded."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        log.warning("PDF reports unavailable: WeasyPrint cannot be loaded (%s)", error)
        raise ReportUnavailable(str(error)) from error
    return weasyprint


class StaticFiles:
    """Map the portal's fingerprinted static URLs to files in static/; refuse everything else.

    ``origin`` is the scheme and host of the rendered page's base URL and ``prefix`` the path
    under which the portal serves static/ (``/static/<fingerprint>/``, see portal/__init__.py).
    """

    def __init__(self, origin: str, prefix: str, root: Path = STATIC_DIR) -> None:
        parts = urlsplit(origin)
        self.scheme, self.netloc = parts.scheme.lower(), parts.netloc.lower()
        self.prefix = prefix
        self.root = root.resolve()

    def path(self, url: str) -> Path:
        """Return the file a URL stands for; ValueError when it is not one of ours."""
        parts = urlsplit(url)
        if (parts.scheme.lower(), parts.netloc.lower()) != (self.scheme, self.netloc) or \
                self.scheme not in ("http", "https"):
            raise ValueError(f"refused (not the portal's static files): {url}")
        path = unquote(parts.path)
        if not path.startswith(self.prefix):
            raise ValueError(f"refused (outside the static prefix): {url}")
        candidate = (self.root / path.removeprefix(self.prefix)).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            raise ValueError(f"refused (not a file in static/): {url}")
        return candidate


def static_prefix() -> str:
    """Return the current app's static URL prefix, ``/static/<fingerprint>/``."""
    return current_app.jinja_env.globals["static_url"]("")


def _fetcher(weasyprint: ModuleType, files: StaticFiles):
    """Return a WeasyPrint URL fetcher that serves ``files`` and nothing else."""

    class StaticOnlyFetcher(weasyprint.URLFetcher):
        def fetch(self, url: str, headers: dict | None = None):
            path = files.path(url)
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(
                url, path.read_bytes(), {"Content-Type": mime_type})

    # No handler may ever be used: fetch() above never calls the opener's open().
    return StaticOnlyFetcher(allowed_protocols=("http", "https"))


def report_pdf(html: str, base_url: str) -> bytes:
    """Render a report page (HTML from our templates) to PDF bytes, A4 per its print CSS.

    ``base_url`` is the page's absolute address: relative and root-relative URLs of the page
    resolve against it, and only those under the static prefix on its host are loaded.
    Raises ReportUnavailable when WeasyPrint cannot be loaded.
    """
    weasyprint = load_weasyprint()
    files = StaticFiles(base_url, static_prefix())
    document = weasyprint.HTML(
        string=html, base_url=base_url, url_fetcher=_fetcher(weasyprint, files),
        media_type="print",
    )
    return document.write_pdf()
