"""Kept PDF reports: the status refresh renders the default period's reports before anyone
asks, a download reads the file kept for its content (and never writes), new figures are
never served from an older file.

The kept file is recognised by replacing its bytes with a marker: a download that answers
the marker read the kept file instead of laying the report out again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import Department, ReportFile, Service
from portal.services.accountability.tables import accountability_refresh
from portal.web.accountability import pdf_render
from portal.web.accountability.report_pdf import report_digest, report_pdf_keep
from tests.factories import create_department
from tests.web.accountability.test_report_pdf import (  # noqa: F401 (fixtures)
    pdf_text,
    pdftotext,
    scene,
    weasyprint,
)
from tests.wfa_support import create_due_service, report_due

MARKER = b"%PDF-1.7 kept file\n"


def _kept() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportFile))


def _mark_kept_files() -> None:
    db.session.execute(update(ReportFile).values(body=MARKER))
    db.session.commit()


def test_a_download_reads_the_kept_file_of_its_content_and_never_writes(
        app, client, scene, weasyprint):  # noqa: F811 (the fixtures)
    path = "/en/accountability/departments/lambat/report.pdf?period=30"
    with app.test_request_context(path):
        html = client.get(path.replace(".pdf", "")).get_data(as_text=True)
        assert report_pdf_keep(html, "http://127.0.0.1:8000" + path.replace(".pdf", ""))
        # Kept once: the same content is not rendered again.
        assert not report_pdf_keep(html, "http://127.0.0.1:8000" + path.replace(".pdf", ""))
    assert _kept() == 1
    _mark_kept_files()

    again = client.get(path)
    assert again.status_code == 200
    assert again.data == MARKER
    # The other language prints other words: rendered for its download, and not kept (a GET
    # never writes: a read replica may serve it).
    other = client.get("/id/accountability/departments/lambat/report.pdf?period=30")
    assert other.data.startswith(b"%PDF-") and other.data != MARKER
    assert _kept() == 1


def test_new_figures_are_not_served_from_an_older_file(
        app, client, scene, pdftotext):  # noqa: F811 (the fixtures)
    path = "/en/accountability/departments/lambat/report.pdf?period=30"
    with app.test_request_context(path):
        html = client.get(path.replace(".pdf", "")).get_data(as_text=True)
        report_pdf_keep(html, "http://127.0.0.1:8000" + path.replace(".pdf", ""))
    _mark_kept_files()
    service = db.session.scalar(select(Service).where(Service.code == "b"))
    # 8 more due yesterday, all on time: 37 of 45 on time now (82.2%), no longer 29 of 37.
    report_due(service, wib_date(utc_now()) - timedelta(days=1), on_time=8, late=0)

    response = client.get(path)

    assert response.data != MARKER
    text = pdf_text(pdftotext, response.data)
    assert "82.2%" in text and "78.4%" not in text


def test_the_digest_covers_what_is_printed_but_not_when_it_was_generated(app):
    def page(generated: str, token: str, figure: str) -> str:
        return (f'<html><body><header><form><input name="csrf_token" value="{token}">'
                f'</form></header><main><article class="report"><dl><dt>Generated</dt>'
                f'<dd class="report-generated">{generated}</dd></dl><p>{figure}</p>'
                f'</article></main></body></html>')

    with app.test_request_context("/en/accountability/report"):
        digest = report_digest(page("1 Dec 2026 10:00", "a1", "78.4%"))
        # Generated later, for another visitor (another CSRF token): the same printed content.
        assert report_digest(page("1 Dec 2026 10:10", "b2", "78.4%")) == digest
        # Another figure: another file.
        assert report_digest(page("1 Dec 2026 10:00", "a1", "82.2%")) != digest


@pytest.fixture
def refresh_prepares(app, monkeypatch):
    """Stored figures on, and a refresh allowed a generous CPU budget for the PDFs."""
    monkeypatch.setitem(app.config, "PORTAL_ACCOUNTABILITY_SNAPSHOTS", True)
    monkeypatch.setitem(app.config, "PORTAL_REPORT_PDF_SECONDS", 600)


def test_the_status_refresh_renders_the_default_periods_reports_before_anyone_asks(
        app, client, runner, weasyprint, refresh_prepares):  # noqa: F811 (the fixture)
    today = wib_date(utc_now())
    for code, name in (("lambat", "Slow Office"), ("cepat", "Quick Office")):
        department = create_department(code=code, name_id=name, name_en=name)
        service = create_due_service(department=department, code=f"{code}-1", name_en=name)
        report_due(service, today - timedelta(days=3), on_time=9, late=1)
    departments = db.session.scalar(select(func.count()).select_from(Department))

    result = runner.invoke(args=["status", "refresh"])

    assert result.exit_code == 0, result.output
    # The province's report and each department's, in Indonesian and English.
    assert _kept() == 2 * (1 + departments)
    _mark_kept_files()
    # The default period's downloads read them: with or without the period in the address.
    for path in ("/id/accountability/departments/lambat/report.pdf",
                 "/en/accountability/departments/cepat/report.pdf?period=90",
                 "/en/accountability/report.pdf"):
        assert client.get(path).data == MARKER, path
    # Another period is rendered by its download.
    assert client.get("/en/accountability/report.pdf?period=30").data != MARKER

    # Nothing changed: the next refresh renders nothing again.
    runner.invoke(args=["status", "refresh"])
    assert client.get("/id/accountability/departments/lambat/report.pdf").data == MARKER


def test_a_refresh_with_the_same_figures_prints_the_same_reports(
        app, client, scene, refresh_prepares):  # noqa: F811 (the fixture)
    now = utc_now()
    # Two refreshes two minutes apart, on the same WIB day (the period ends that day).
    earlier = now - timedelta(minutes=2)
    if wib_date(earlier) != wib_date(now):
        earlier, now = now, now + timedelta(minutes=2)
    pages = ("/en/accountability/report?period=90",
             "/id/accountability/departments/lambat/report?period=90")
    accountability_refresh(earlier, by_job=False)
    before = [client.get(path).get_data(as_text=True) for path in pages]
    accountability_refresh(now, by_job=False)
    after = [client.get(path).get_data(as_text=True) for path in pages]

    with app.test_request_context(pages[0]):
        for old, new in zip(before, after, strict=True):
            assert old != new  # each says when it was generated
            assert report_digest(old) == report_digest(new)


def test_a_report_that_cannot_be_rendered_does_not_fail_the_status_refresh(
        app, runner, weasyprint, refresh_prepares, monkeypatch):  # noqa: F811 (the fixture)
    today = wib_date(utc_now())
    for code, name in (("lambat", "Slow Office"), ("cepat", "Quick Office")):
        department = create_department(code=code, name_id=name, name_en=name)
        service = create_due_service(department=department, code=f"{code}-1", name_en=name)
        report_due(service, today - timedelta(days=3), on_time=9, late=1)
    departments = db.session.scalar(select(func.count()).select_from(Department))
    render = pdf_render.render

    def failing_for_quick_office(weasyprint, html, *args):
        if '<h1>Accountability report: Quick Office' in html or \
                '<h1>Laporan akuntabilitas: Quick Office' in html:
            raise RuntimeError("layout failed")
        return render(weasyprint, html, *args)

    monkeypatch.setattr(pdf_render, "render", failing_for_quick_office)
    result = runner.invoke(args=["status", "refresh"])

    assert result.exit_code == 0, result.output
    # Every report but Quick Office's two (Indonesian, English) is kept.
    assert _kept() == 2 * (1 + departments) - 2
