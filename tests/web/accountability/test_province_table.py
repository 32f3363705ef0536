"""The province table for the DPRD (issue 13): key figures, commissions, the chart, the report.

The layout itself (what fits a laptop, the cards on a phone) is measured in a real browser:
tests/browser/test_province_table.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models.catalogue import Department
from portal.web.accountability.present import label_lines
from tests.accountability_support import move
from tests.factories import create_department
from tests.web.accountability.test_report_pdf import (  # noqa: F401 (fixtures)
    no_pango,
    pdf_text,
    pdftotext,
    weasyprint,
)
from tests.wfa_support import create_due_service, report_due

LONG_NAME = "Badan Penanggulangan Bencana Daerah dan Pemadam Kebakaran Provinsi"


@pytest.fixture
def scene(app):
    """Komisi I oversees the slow office, Komisi III the fast one; a third has none."""
    today = wib_date(utc_now())
    fast = create_department(code="cepat", name_id="Dinas Cepat", name_en="Fast Office",
                             dprd_commission="III")
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office",
                             dprd_commission="I")
    long = create_department(code="bpbd", name_id=LONG_NAME, name_en=LONG_NAME)
    a = create_due_service(department=fast, code="a", name_en="Permit A")
    b = create_due_service(department=slow, code="b", name_en="Permit B")
    c = create_due_service(department=long, code="c", name_en="Permit C")
    report_due(a, today - timedelta(days=2), on_time=10)
    report_due(b, today - timedelta(days=2), on_time=4, late=6)
    report_due(c, today - timedelta(days=2), on_time=7, late=3)
    change = today - timedelta(days=100)
    move(b, "wfa", change)
    report_due(b, change - timedelta(days=95), on_time=1)
    report_due(b, change - timedelta(days=40), on_time=57, late=3)
    report_due(b, change + timedelta(days=40), on_time=30, open_=30)
    return today


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _table(html: str, css_class: str) -> str:
    return re.search(rf'<table class="[^"]*{css_class}[^"]*">(.*?)</table>', html, re.S).group(1)


def _body_names(table: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    return [unescape(re.sub(r"<[^>]+>", "", name)).strip()
            for name in re.findall(r'<th scope="row" class="col-name">(.*?)</th>', body, re.S)]


def test_the_key_table_holds_the_key_columns_and_labels_every_cell(client, scene):
    html = _html(client, "/en/accountability")
    table = _table(html, "key-table")
    head = unescape(re.sub(r"<[^>]+>", " ", re.search(r"<thead[^>]*>(.*?)</thead>", table,
                                                      re.S).group(1)))
    for column in ("Department", "DPRD commission", "Services by status today", "Disrupted",
                   "No data", "Not enough data", "Meeting its commitment", "At risk",
                   "Breaching its commitment", "On time", "After WFA",
                   "Feedback overdue now", "Satisfaction (IKM)"):
        assert column in head, column
    # Secondary figures live in the second table, not in the key one.
    assert "Median hours" not in head and "Median hours" in html
    # On a phone each cell shows its column's name (the card view reads data-label).
    cells = re.findall(r"<td[^>]*>", re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1))
    assert cells and all("data-label=" in cell for cell in cells)
    assert _body_names(table) == sorted(["Fast Office", "Slow Office", LONG_NAME])
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    commissions = re.findall(r'<td class="col-commission"[^>]*>(.*?)</td>', body, re.S)
    # Alphabetical: the long name (no commission), Fast Office (III), Slow Office (I).
    assert commissions == ['<span class="muted">None</span>', "III", "I"]


def test_a_commission_keeps_its_departments_and_its_links(client, scene):
    html = _html(client, "/en/accountability?period=30&commission=I")
    for css_class in ("key-table", "sticky-names"):
        assert _body_names(_table(html, css_class)) == ["Slow Office"]
    assert '<option value="I" selected>Commission I</option>' in html
    assert "overseen by DPRD commission I" in html
    # The province's totals stay the whole province's: 30 requests due in all.
    every = _html(client, "/en/accountability?period=30")
    province = re.compile(r"<tfoot>(.*?)</tfoot>", re.S)
    assert province.findall(html) == province.findall(every)
    # Sorting, the departments and every download keep the commission and the period.
    for href in re.findall(r'href="([^"]*(?:sort=|accountability\.|report)[^"]*)"', html):
        if "how-we-measure" in href:
            continue
        assert "commission=I" in unescape(href), href
    link = re.search(r'href="([^"]*/departments/lambat[^"]*)"', html).group(1)
    assert "commission=I" in unescape(link)
    assert "Show every department" in html


def test_a_commission_is_sortable_and_empty_commissions_say_so(client, scene):
    html = _html(client, "/en/accountability?sort=commission&dir=asc")
    assert _body_names(_table(html, "key-table")) == ["Slow Office", "Fast Office", LONG_NAME]
    html = _html(client, "/en/accountability?commission=iv")
    assert "No department is overseen by this commission." in html


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_unknown_commission_is_refused_with_a_message_and_every_department(
        client, scene, lang):
    response = client.get(f"/{lang}/accountability?commission=V")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'href="#period-commission"' in html
    assert 'aria-invalid="true" aria-describedby="period-commission-error"' in html
    if lang == "en":
        assert "There is no such DPRD commission: choose I, II, III or IV" in html
        assert "The figures below are for every department instead." in html
    assert len(_body_names(_table(html, "key-table"))) == 3


def test_the_chart_wraps_long_names_and_shows_its_scale(client, scene):
    html = _html(client, "/en/accountability")
    svg = re.search(r'<svg role="img" aria-labelledby="ontime-title.*?</svg>', html, re.S)
    svg = svg.group(0)
    # The full name in a <title>; the drawn lines start as the name starts, end in "…".
    assert f"<title>{LONG_NAME}</title>" in svg
    lines = re.findall(r"<tspan[^>]*>(.*?)</tspan>", svg)
    assert "Badan Penanggulangan Bencana" in lines
    assert all(len(line) <= 28 for line in lines)
    assert not [line for line in lines if LONG_NAME.endswith(line) and line != LONG_NAME]
    # A labelled scale: 0% to 100% in quarters.
    ticks = re.findall(r'text-anchor="middle"[^>]*>([^<]+)</text>', svg)
    assert ticks == ["0%", "25%", "50%", "75%", "100%"]


def test_label_lines_wrap_at_words_and_cut_only_at_the_end():
    assert label_lines("Dinas Kesehatan") == ["Dinas Kesehatan"]
    assert label_lines(LONG_NAME) == ["Badan Penanggulangan Bencana",
                                      "Daerah dan Pemadam Kebakara…"]
    assert label_lines("Pembayaran Pajak Kendaraan Bermotor", 28) == [
        "Pembayaran Pajak Kendaraan", "Bermotor"]


def test_the_wfa_chart_labels_keep_the_full_service_name(client, scene):
    db.session.execute(db.update(Department).where(Department.code == "lambat").values(
        name_en="Slow Office"))
    from portal.models.catalogue import Service
    db.session.execute(db.update(Service).where(Service.code == "b").values(
        name_en="Payment of the Annual Motor Vehicle Tax and Ownership Transfer Fees"))
    db.session.commit()
    html = _html(client, "/en/accountability/departments/lambat/wfa-impact")
    chart = re.search(r'<svg role="img" aria-labelledby="wfa-chart-title.*?</svg>', html,
                      re.S).group(0)
    assert ("<title>Payment of the Annual Motor Vehicle Tax and Ownership Transfer Fees"
            "</title>") in chart
    lines = re.findall(r"<tspan[^>]*>(.*?)</tspan>", chart)
    assert lines[0] == "Payment of the Annual Motor" and all(len(x) <= 28 for x in lines)


@pytest.mark.parametrize(("lang", "name", "page_words"), [
    ("en", "accountability-report-commission-I", ("Page", "of")),
    ("id", "laporan-akuntabilitas-komisi-I", ("Halaman", "dari")),
])
def test_the_table_report_pdf_follows_the_commission_with_page_numbers(
        client, scene, pdftotext, lang, name, page_words):  # noqa: F811 (the fixture)
    response = client.get(f"/{lang}/accountability/report.pdf?period=30&commission=I")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{name}-{scene.isoformat()}.pdf"')
    text = pdf_text(pdftotext, response.data)
    assert "Slow Office" in text or "Dinas Lambat" in text
    assert "Fast Office" not in text and "Dinas Cepat" not in text
    word, of = page_words
    pages = int(re.findall(rf"{word} 1 {of} (\d+)", text)[0])
    assert pages >= 2 and f"{word} {pages} {of} {pages}" in text


def test_the_province_report_is_named_for_its_day_and_printable(client, scene):
    html = _html(client, "/id/accountability/report")
    assert 'class="page-number-words"' in html and 'data-before="Halaman "' in html
    assert 'data-between=" dari "' in html
    assert _body_names(_table(html, "key-table")) == sorted(
        ["Dinas Cepat", "Dinas Lambat", LONG_NAME])
    # Plain headers in the report: nothing to sort on paper.
    assert "sort=" not in _table(html, "key-table")


def test_a_wrong_commission_gets_no_pdf(client, scene):
    response = client.get("/en/accountability/report.pdf?commission=X")
    assert response.status_code == 422
    assert response.mimetype == "text/html"


def test_the_scorecard_leads_back_to_the_commissions_table(client, scene):
    html = _html(client, "/en/accountability/departments/lambat?period=30&commission=I")
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    back = unescape(re.search(r'href="([^"]+)"', crumbs).group(1))
    assert "commission=I" in back and "period=30" in back
    # A wrong commission filters nothing on a scorecard and is not carried on.
    html = _html(client, "/en/accountability/departments/lambat?commission=X")
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert "commission" not in crumbs


def test_without_weasyprint_the_table_pdf_points_to_the_print_view(
        client, scene, no_pango):  # noqa: F811 (the fixture)
    response = client.get("/en/accountability/report.pdf?period=30&commission=I")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'href="/en/accountability/report?period=30&amp;commission=I"' in html
