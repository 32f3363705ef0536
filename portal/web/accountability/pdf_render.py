"""Lay a report page out as PDF with WeasyPrint, reading only the portal's static files.

Imported by portal/web/accountability/report_pdf.py, and run by it as a script in a child
process (``python pdf_render.py BASE_URL PREFIX STATIC_ROOT`` with the HTML on stdin, the PDF
on stdout): laying out a report of dozens of pages takes hundreds of megabytes that a web
worker would keep after returning them to its allocator, a child gives them back when it
exits. It therefore imports nothing of the portal (and neither Flask nor the database), only
the standard library and WeasyPrint.

The renderer may load only the portal's own static files, read from disk: the HTML is built
from our templates, but a figure or a name in it must never make the server fetch a URL from
the network or read a file outside static/.
"""

from __future__ import annotations

import logging
import mimetypes
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

# The exit status of a child that cannot import WeasyPrint (or load Pango).
EXIT_UNAVAILABLE = 3


class StaticFiles:
    """Map the portal's fingerprinted static URLs to files in static/; refuse everything else.

    ``origin`` is the scheme and host of the rendered page's base URL and ``prefix`` the path
    under which the portal serves static/ (``/static/<fingerprint>/``, see portal/__init__.py).
    """

    def __init__(self, origin: str, prefix: str, root: Path) -> None:
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


def fetcher(weasyprint: ModuleType, files: StaticFiles):
    """Return a WeasyPrint URL fetcher that serves ``files`` and nothing else."""

    class StaticOnlyFetcher(weasyprint.URLFetcher):
        def fetch(self, url: str, headers: dict | None = None):
            path = files.path(url)
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(
                url, path.read_bytes(), {"Content-Type": mime_type})

    # No handler may ever be used: fetch() above never calls the opener's open().
    return StaticOnlyFetcher(allowed_protocols=("http", "https"))


def quiet(weasyprint: ModuleType) -> ModuleType:
    """Keep WeasyPrint's errors in the logs, not its warnings: they name the screen-only CSS
    it skips (width queries, sticky headers) on every report."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return weasyprint


def render(weasyprint: ModuleType, html: str, base_url: str, prefix: str, root: Path) -> bytes:
    """Render a report page to PDF bytes, A4 per its print CSS.

    ``base_url`` is the page's absolute address: relative and root-relative URLs of the page
    resolve against it, and only those under ``prefix`` on its host are loaded, from ``root``.
    """
    document = weasyprint.HTML(
        string=html, base_url=base_url, url_fetcher=fetcher(weasyprint, StaticFiles(
            base_url, prefix, root)),
        media_type="print",
    )
    return document.write_pdf()


def main(argv: list[str]) -> int:
    """The child: HTML on stdin, PDF on stdout."""
    base_url, prefix, root = argv
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        print(f"WeasyPrint cannot be loaded: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    html = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(render(quiet(weasyprint), html, base_url, prefix, Path(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
