"""The department report as a PDF: real WeasyPrint output read back with pdftotext, the URL
fetcher's refusals, and the 503 page when WeasyPrint cannot be loaded.

The real-PDF tests are skipped only when WeasyPrint (Pango) or pdftotext is missing, and
fail instead under PORTAL_REQUIRE_BROWSER=1 (CI installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.web.accountability import pdf_render
from portal.web.accountability import report_pdf as report_pdf_module
from portal.web.accountability.report_pdf import (
    STATIC_DIR,
    ReportUnavailable,
    load_weasyprint,
    report_pdf,
    static_prefix,
)
from tests.accountability_support import move
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due

REQUIRED = os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
           "September", "Oktober", "November", "Desember"],
}


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (PORTAL_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture
def weasyprint():
    """The real WeasyPrint; skip (or fail in CI) when its system libraries are missing."""
    try:
        return load_weasyprint()
    except ReportUnavailable as error:
        _missing(f"WeasyPrint cannot be loaded here (needs Debian's libpango): {error}")


@pytest.fixture
def pdftotext(weasyprint):
    path = shutil.which("pdftotext")
    if not path:
        _missing("pdftotext not installed (apt-get install poppler-utils)")
    return path


def pdf_text(pdftotext: str, pdf: bytes) -> str:
    """Return the PDF's text with every run of whitespace made one space."""
    result = subprocess.run([pdftotext, "-enc", "UTF-8", "-", "-"], input=pdf,
                            capture_output=True, check=True, timeout=60)
    return " ".join(result.stdout.decode("utf-8").split())


@pytest.fixture
def scene(app):
    """One department, one service: 37 requests due two days ago, 29 of them on time."""
    today = wib_date(utc_now())
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office")
    service = create_due_service(department=slow, code="b", name_en="Permit B")
    report_due(service, today - timedelta(days=2), on_time=29, late=8)
    return today - timedelta(days=20), today - timedelta(days=1)


def long_date(day, lang: str) -> str:
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


@pytest.mark.parametrize(
    ("lang", "name", "rate", "period_words", "file_word", "page_words"),
    [("en", "Slow Office", "78.4%", "to", "accountability-report", ("Page", "of")),
     ("id", "Dinas Lambat", "78,4%", "sampai", "laporan-akuntabilitas", ("Halaman", "dari"))],
)
def test_pdf_has_the_department_the_period_and_the_api_figures(
    client, scene, pdftotext, lang, name, rate, period_words, file_word, page_words,
):
    start, end = scene
    query = f"from={start.isoformat()}&to={end.isoformat()}"
    api = client.get(f"/api/v1/accountability?{query}").get_json()
    row = next(d for d in api["departments"] if d["code"] == "lambat")
    # Hand-worked: 29 of 37 on time is 78.378…%, shown with one decimal.
    assert (row["completed"], row["due"], row["on_time"], row["on_time_rate"]) == (
        37, 37, 29, 0.7838)

    response = client.get(f"/{lang}/accountability/departments/lambat/report.pdf?{query}")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    # The file is named in the reader's language, for the last day of the period.
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{file_word}-lambat-{end.isoformat()}.pdf"')
    pdf = response.data
    assert pdf.startswith(b"%PDF-")
    assert 5_000 < len(pdf) < 2_000_000
    text = pdf_text(pdftotext, pdf)
    assert "Pantau Layanan" in text and name in text
    assert f"{long_date(start, lang)} {period_words} {long_date(end, lang)}" in text
    assert str(row["completed"]) in text and rate in text
    # Every page says its number and the count, in the reader's language.
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(pdf)).group(1))
    assert pages >= 2
    word, of = page_words
    for number in range(1, pages + 1):
        assert f"{word} {number} {of} {pages}" in text
    # The print stylesheet applies: no site header, navigation, footer or screen-only links.
    for screen_only in ("Skip to main content", "Staff login", "Download as PDF",
                        "Give feedback", "Track feedback"):
        assert screen_only not in text


def _pdfinfo(pdf: bytes) -> str:
    return subprocess.run([shutil.which("pdfinfo") or "pdfinfo", "-"], input=pdf,
                          capture_output=True, check=True, timeout=60).stdout.decode()


def test_pdf_pages_are_a4_and_the_chart_is_drawn(client, app, pdftotext, weasyprint):
    today = wib_date(utc_now())
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office")
    service = create_due_service(department=slow, code="b", name_en="Permit B")
    change = today - timedelta(days=100)
    move(service, "wfa", change)
    report_due(service, change - timedelta(days=95), on_time=1)
    report_due(service, change - timedelta(days=40), on_time=57, late=3)
    report_due(service, change + timedelta(days=40), on_time=30, open_=30)
    pdf = client.get("/en/accountability/departments/lambat/report.pdf?period=365").data
    info = subprocess.run([shutil.which("pdfinfo") or "pdfinfo", "-"], input=pdf,
                          capture_output=True, check=True, timeout=60).stdout.decode()
    assert "(A4)" in info
    text = pdf_text(pdftotext, pdf)
    # The inline SVG chart is drawn: its tick labels and service label are text in the PDF
    # (95% → 50% on time is −45 points, so the axis runs from −60 to +20).
    # No on-site service to compare with: no second (net) chart.
    assert ("not blamed on WFA. −60 −40 −20 0 +20 Permit B Each line is the 95 percent "
            "confidence interval of the change") in text
    assert "confidence interval of the net change" not in text
    assert "Definitions of every figure" in text


def test_render_never_fetches_from_the_network(app, weasyprint):
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    page = f"http://127.0.0.1:{port}/en/accountability/departments/x/report"
    html = (
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/evil.css">'
        f'<link rel="stylesheet" href="/other/css/portal.css">'
        '<link rel="stylesheet" href="file:///etc/passwd">'
        f'<p>Hello</p><img src="http://127.0.0.1:{port}/pixel.png" alt="">'
    )
    try:
        with app.test_request_context():
            pdf = report_pdf(html, page)
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF-")
    assert hits == []


def test_the_fetcher_serves_our_stylesheet_and_nothing_else(app, weasyprint):
    with app.test_request_context():
        prefix = static_prefix()
    files = pdf_render.StaticFiles("http://127.0.0.1:8000/en/accountability", prefix, STATIC_DIR)
    fetcher = pdf_render.fetcher(weasyprint, files)
    css = fetcher.fetch(f"http://127.0.0.1:8000{prefix}css/portal.css")
    assert css.read() == (STATIC_DIR / "css" / "portal.css").read_bytes()
    assert css.content_type == "text/css"
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("https://example.com/x.css")


def test_static_files_refuse_everything_outside_static(app):
    with app.test_request_context():
        prefix = static_prefix()
    assert prefix.startswith("/static/") and prefix.endswith("/")
    files = pdf_render.StaticFiles("http://127.0.0.1:8000/en/x", prefix, STATIC_DIR)
    origin = "http://127.0.0.1:8000"
    assert files.path(f"{origin}{prefix}css/portal.css") == STATIC_DIR / "css" / "portal.css"
    assert files.path(f"{origin}{prefix}js/refresh.js?v=1#x") == STATIC_DIR / "js" / "refresh.js"
    for url in (
        "https://example.com/css/portal.css",  # another host
        f"http://example.com{prefix}css/portal.css",  # our path on another host
        f"https://127.0.0.1:8000{prefix}css/portal.css",  # another scheme
        "file:///etc/passwd",
        f"file://{STATIC_DIR}/css/portal.css",  # even static/ is served only by its URL
        f"{origin}/static/000000000000/css/portal.css",  # not the current fingerprint
        f"{origin}{prefix}../portal/config.py",  # out of static/
        f"{origin}{prefix}%2e%2e/portal/config.py",
        f"{origin}{prefix}..%2f..%2fetc%2fpasswd",
        f"{origin}{prefix}/etc/passwd",
        f"{origin}{prefix}",  # the directory itself
        f"{origin}{prefix}css/missing.css",
        f"{origin}/en/accountability",  # a page of the portal
        "data:text/css,body{}",
    ):
        with pytest.raises(ValueError, match="refused"):
            files.path(url)


class _NoPango:
    """An import hook that fails like a machine without Pango: OSError on import."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError("cannot load library 'libpango-1.0-0': no such file")


@pytest.fixture
def no_pango(monkeypatch):
    """Make `import weasyprint` fail with OSError, as without Debian's Pango (this test only)."""
    for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])


def test_load_weasyprint_turns_a_missing_pango_into_report_unavailable(no_pango):
    with pytest.raises(ReportUnavailable, match="libpango"):
        load_weasyprint()


@pytest.mark.parametrize("lang", ["en", "id"])
def test_without_weasyprint_the_pdf_address_answers_503_pointing_to_the_print_view(
    client, scene, no_pango, lang,
):
    response = client.get(f"/{lang}/accountability/departments/lambat/report.pdf?period=30")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert f'href="/{lang}/accountability/departments/lambat/report?period=30"' in html
    if lang == "en":
        assert "The PDF cannot be made on this server right now." in html
        assert "Print command to save it as a PDF" in html


def test_unknown_department_is_404_and_a_wrong_period_422_not_a_pdf(client, scene):
    assert client.get("/en/accountability/departments/nope/report.pdf").status_code == 404
    response = client.get("/en/accountability/departments/lambat/report.pdf"
                          "?period=custom&from=2025-03-10&to=2025-03-01")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "on or after the start date" in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("page", ["", "/report"])
def test_scorecard_and_report_link_to_the_pdf_with_the_period(client, scene, lang, page):
    html = client.get(f"/{lang}/accountability/departments/lambat{page}?period=90").get_data(
        as_text=True)
    assert (f'href="/{lang}/accountability/departments/lambat/report.pdf?period=90" '
            'type="application/pdf"') in html


def test_a_failing_renderer_points_to_the_print_view_and_keeps_nothing(
        client, scene, weasyprint, monkeypatch):
    # The child process cannot run (its interpreter exits at once with a failure).
    monkeypatch.setattr(report_pdf_module.sys, "executable", shutil.which("false"))
    response = client.get("/en/accountability/departments/lambat/report.pdf?period=30")
    assert response.status_code == 503
    assert 'href="/en/accountability/departments/lambat/report?period=30"' in response.get_data(
        as_text=True)
    monkeypatch.undo()
    # Nothing was kept for that content: the next download renders it.
    again = client.get("/en/accountability/departments/lambat/report.pdf?period=30")
    assert again.status_code == 200 and again.data.startswith(b"%PDF-")


_MEMORY_PROBE = """
import sys
from pathlib import Path
from portal import create_app
from portal.web.accountability.report_pdf import report_pdf

def status(field):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines()
                if l.startswith(field + ":"))
    return int(line.split()[1]) // 1024  # MB

rows = "".join(f"<tr><th>Layanan {i}</th><td>{i * 7 % 100},{i % 10}%</td><td>Memenuhi standar "
               f"pelayanan yang dijanjikan</td></tr>" for i in range(600))
html = f'<html><body><article class="report"><table>{rows}</table></article></body></html>'
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "probe"})
with app.test_request_context():
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from now
    before = status("VmRSS")
    pdf = report_pdf(html, "http://127.0.0.1:8000/en/x", in_process=sys.argv[1] == "in")
    grown = status("VmHWM") - before
print(len(pdf) > 10_000, grown)
"""


def test_a_worker_stays_small_while_a_long_report_is_laid_out(weasyprint):
    """The layout's memory is the child's: the process that asked grows by little, where
    laying the same report out itself grows by far more (peak resident size, in MB)."""
    def grown(mode: str) -> int:
        result = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, mode], cwd=STATIC_DIR.parent,
                                capture_output=True, text=True, timeout=600, check=True)
        made, megabytes = result.stdout.split()
        assert made == "True"
        return int(megabytes)

    in_process, in_child = grown("in"), grown("child")
    assert in_process >= 40, in_process  # laying 600 rows out takes this much
    assert in_child < 10, in_child
