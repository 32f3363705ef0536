"""A department's scorecard, its WFA impact and its history of changes, as pages of their own.

The scorecard leads to the two pages, which show in full what the printed report shows; each
page formats only what it shows.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask import template_rendered

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models.arrangements import WfaArrangement
from tests.accountability_support import move
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due

SCORECARD = "/{lang}/accountability/departments/{code}"
WFA_PAGE = SCORECARD + "/wfa-impact"
CHANGES_PAGE = SCORECARD + "/changes"
REPORT = SCORECARD + "/report"
NEW_PAGES = [WFA_PAGE, CHANGES_PAGE]


@pytest.fixture
def scene(app):
    """A department of commission I with two services moved to WFA and one on-site; another
    department whose only service never moved."""
    today = wib_date(utc_now())
    slow = create_department(code="lambat", name_id="Dinas Lambat", name_en="Slow Office",
                             dprd_commission="I")
    still = create_department(code="tetap", name_id="Dinas Tetap", name_en="Steady Office",
                              dprd_commission="I")
    change = today - timedelta(days=100)
    b = create_due_service(department=slow, code="b", name_en="Permit B")
    d = create_due_service(department=slow, code="d", name_en="Permit D")
    c = create_due_service(department=slow, code="c", name_en="Permit C")
    for service in (b, d):
        move(service, "wfa", change)
    # B falls from 57 of 60 to 30 of 60, D from 55 of 60 to 50 of 60; C, on-site over the
    # same weeks, from 45 of 50 to 40 of 50.
    for service, before, after in ((b, (57, 3, 0), (30, 0, 30)), (d, (55, 5, 0), (50, 10, 0)),
                                   (c, (45, 5, 0), (40, 10, 0))):
        report_due(service, change - timedelta(days=95), on_time=1)
        report_due(service, change - timedelta(days=40), *before)
        report_due(service, change + timedelta(days=40), *after)
    quiet = create_due_service(department=still, code="e", name_en="Permit E")
    report_due(quiet, today - timedelta(days=2), on_time=10)
    return today


def _html(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    return response.get_data(as_text=True)


def _section(html: str, title: str) -> str:
    """Return the <section> labelled by ``title``, whole."""
    found = re.search(rf'<section aria-labelledby="{title}">.*?</section>', html, re.S)
    assert found, title
    return found.group(0)


def _rows(section: str) -> list[str]:
    """Return the body rows of every table of a section."""
    return re.findall(r"<tr[ >].*?</tr>", "".join(re.findall(r"<tbody>.*?</tbody>", section,
                                                             re.S)), re.S)


def _links(html: str) -> set[str]:
    return {unescape(href) for href in re.findall(r'href="([^"]+)"', html)}


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("query", ["period=30", "period=custom&from=2026-01-05&to=2026-03-31",
                                   "period=365&commission=I"])
def test_the_scorecard_links_both_pages_keeping_the_period(client, scene, lang, query):
    html = _html(client, SCORECARD.format(lang=lang, code="lambat") + f"?{query}")
    wanted = query.replace("period=custom&", "")  # a custom period is kept by its dates
    assert WFA_PAGE.format(lang=lang, code="lambat") + f"?{wanted}" in _links(html)
    assert CHANGES_PAGE.format(lang=lang, code="lambat") + f"?{wanted}" in _links(html)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_new_pages_lead_back_to_the_scorecard_and_table_keeping_the_period(client, scene,
                                                                                lang):
    for page in NEW_PAGES:
        html = _html(client, page.format(lang=lang, code="lambat") + "?period=30&commission=I")
        crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
        assert re.findall(r'href="([^"]+)"', unescape(crumbs)) == [
            f"/{lang}/accountability?period=30&commission=I",
            SCORECARD.format(lang=lang, code="lambat") + "?period=30&commission=I"]
        assert SCORECARD.format(lang=lang, code="lambat") + "?period=30&commission=I" in \
            _links(_section_after(html, "</nav>"))
        # The period form asks this page again.
        form = re.search(r'<form method="get" action="([^"]+)"', html).group(1)
        assert form == page.format(lang=lang, code="lambat")


def _section_after(html: str, marker: str) -> str:
    return html[html.index(marker) + len(marker):]


def test_the_scorecard_shows_leads_instead_of_the_wfa_tables_and_the_history(client, scene):
    card = _html(client, "/en/accountability/departments/lambat")
    changes = _html(client, "/en/accountability/departments/lambat/changes")
    wfa = _section(card, "wfa-title")
    assert "Did services get slower after moving to WFA?" in wfa
    assert "2 services of this department moved to WFA or hybrid work." in wfa
    # The pooled verdicts' badges, the sentences being in the summary above.
    assert "Department-wide verdicts (the services with a verdict, added up):" in wfa
    assert wfa.count('<span class="verdict verdict-') == 2
    assert "<table" not in wfa and "<svg" not in wfa
    assert "wfa-comparison-caption" not in card and "What the figures say" not in card
    history = _section(card, "history-title")
    count = len(_rows(_section(changes, "history-title")))
    assert count >= 3  # each service's first work mode and commitment, and two moves
    assert f"{count} changes of work mode or commitment are recorded for this department" \
        "'s services." in unescape(history)
    assert "<table" not in history and "Recorded by" not in card
    # The services table stays, each service linked.
    assert 'href="/en/services/b"' in card and 'href="/en/services/c"' in card


def test_the_indonesian_scorecard_says_the_same_in_indonesian(client, scene):
    card = unescape(_html(client, "/id/accountability/departments/lambat"))
    assert "2 layanan perangkat daerah ini beralih ke pola kerja WFA atau hibrida." in card
    assert ">Dampak WFA pada setiap layanan</a>" in card
    assert ">Semua perubahan pola kerja dan komitmen</a>" in card
    assert "perubahan pola kerja atau komitmen tercatat untuk layanan perangkat daerah ini." \
        in card


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_wfa_page_shows_the_reports_wfa_section(client, scene, lang):
    page = _section(_html(client, WFA_PAGE.format(lang=lang, code="lambat")), "wfa-title")
    report = _section(_html(client, REPORT.format(lang=lang, code="lambat")), "wfa-title")
    rows = _rows(page)
    # Two services and their pooled row, in each of the three tables.
    assert len(rows) == 9 and sum('class="row-pooled"' in row for row in rows) == 3
    assert page.count('<svg role="img"') == 2
    # The same section: only the charts' ids differ (the report's end in -print).
    assert page == report.replace("-print-", "-")
    assert rows == _rows(report)


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_changes_page_shows_the_reports_history(client, scene, lang):
    page = _section(_html(client, CHANGES_PAGE.format(lang=lang, code="lambat")),
                    "history-title")
    report = _section(_html(client, REPORT.format(lang=lang, code="lambat")), "history-title")
    assert page == report
    assert len(_rows(page)) >= 3


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_report_still_holds_every_section_in_full(client, scene, lang):
    report = _html(client, REPORT.format(lang=lang, code="lambat"))
    for title in ("summary-title", "wfa-title", "services-title", "skm-title", "fb-title",
                  "history-title"):
        assert _section(report, title)
    assert len(_rows(_section(report, "wfa-title"))) == 9
    assert len(_rows(_section(report, "history-title"))) >= 3
    # No lead to the pages: the report is the complete document.
    assert "/wfa-impact" not in report and "/changes" not in report


@pytest.mark.parametrize(("lang", "title", "crumb"), [
    ("en", "WFA impact, service by service: Slow Office", "WFA impact, service by service"),
    ("id", "Dampak WFA pada setiap layanan: Dinas Lambat", "Dampak WFA pada setiap layanan"),
])
def test_the_wfa_page_is_titled_in_the_reader_language(client, scene, lang, title, crumb):
    html = _html(client, WFA_PAGE.format(lang=lang, code="lambat"))
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{title}</h1>" in html
    assert f"</a> › {crumb}</nav>" in html


@pytest.mark.parametrize(("lang", "title"), [
    ("en", "Changes of work mode and commitment: Slow Office"),
    ("id", "Perubahan pola kerja dan komitmen: Dinas Lambat"),
])
def test_the_changes_page_is_titled_in_the_reader_language(client, scene, lang, title):
    html = _html(client, CHANGES_PAGE.format(lang=lang, code="lambat"))
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{title}</h1>" in html


def test_without_a_move_the_scorecard_says_so_and_links_no_wfa_page(client, scene):
    sentence = "No service of this department moved to WFA or hybrid work."
    card = _html(client, "/en/accountability/departments/tetap")
    assert sentence in _section(card, "wfa-title")
    assert "/wfa-impact" not in card
    # The history still has the service's first work mode and commitment.
    assert "/en/accountability/departments/tetap/changes?period=90" in _links(card)
    page = _html(client, "/en/accountability/departments/tetap/wfa-impact")
    assert sentence in _section(page, "wfa-title") and "<table" not in _section(
        page, "wfa-title")


@pytest.mark.parametrize("page", NEW_PAGES)
def test_an_unknown_department_is_404(client, scene, page):
    assert client.get(page.format(lang="en", code="nope")).status_code == 404


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize("page", NEW_PAGES)
def test_a_wrong_period_is_422_with_the_form_messages(client, scene, page, lang):
    html = _html(client, page.format(lang=lang, code="lambat")
                 + "?period=custom&from=2025-03-10&to=2025-03-01", status=422)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert 'href="#period-to"' in html
    # The page still shows its content (for the default period).
    title = "wfa-title" if page == WFA_PAGE else "history-title"
    assert _rows(_section(html, title))


@pytest.fixture
def contexts(app):
    """Yield the contexts of the templates rendered meanwhile, by template name."""
    found: dict[str, dict] = {}

    def record(sender, template, context, **extra):
        found[template.name] = context

    template_rendered.connect(record, app)
    yield found
    template_rendered.disconnect(record, app)


@pytest.mark.parametrize(("page", "template", "shown", "not_formatted"), [
    (SCORECARD, "accountability/department.html", {"service_rows", "wfa_moved"},
     {"impact_rows", "pooled_row", "chart", "net_chart", "history_rows"}),
    (WFA_PAGE, "accountability/wfa_impact.html", {"impact_rows", "pooled_row", "chart"},
     {"service_rows", "history_rows", "arrangement_measures"}),
    (CHANGES_PAGE, "accountability/changes.html", {"history_rows"},
     {"impact_rows", "pooled_row", "chart", "service_rows", "arrangement_measures"}),
])
def test_each_page_computes_only_what_it_shows(client, scene, contexts, page, template,
                                               shown, not_formatted):
    _html(client, page.format(lang="en", code="lambat"))
    context = contexts[template]
    assert shown <= context.keys()
    assert not not_formatted & context.keys()


def test_the_sitemap_lists_both_pages_in_both_languages(client, scene):
    body = client.get("/sitemap.xml").get_data(as_text=True)
    for lang in ("id", "en"):
        for page in NEW_PAGES:
            assert f"{page.format(lang=lang, code='lambat')}</loc>" in body


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_scorecard_shows_the_arrangement_panel_the_department_page_shows(app, client,
                                                                             lang):
    # The panel's macro (public/_arrangement.html), imported with each page's context (its
    # translations): the same words, links and versions on both, an English text missing
    # marked as Indonesian, a text with markup escaped.
    department = create_department(code="atur", name_id="Dinas Atur", name_en="Rule Office")
    create_due_service(department=department, code="atur-1", name_en="Permit A")
    today = wib_date(utc_now())
    for days, applies, share, reason in [(40, "pilot", 20, "Uji coba"),
                                         (10, "yes", 40, 'Perluasan <b>"A"</b> & B'),
                                         (-5, "no", None, "Diumumkan")]:
        db.session.add(WfaArrangement(
            department_id=department.id, effective_from=today - timedelta(days=days),
            wfa_applies=applies, remote_share_percent=share, recorded_by="rina",
            legal_basis_title="Keputusan <Kepala>", legal_basis_number="440/1",
            legal_basis_date=today - timedelta(days=50),
            legal_basis_url="https://atur.example.go.id/wfa.pdf",
            supervision_id="Atasan memeriksa capaian.", supervision_en="",
            reporting_id="Laporan harian.", reporting_en="Daily reports.", reason=reason))
    db.session.commit()

    def panel(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        found = re.search(r'<section class="arrangement".*?</section>', html, re.S)
        assert found, path
        return found.group(0)

    scorecard = panel(SCORECARD.format(lang=lang, code="atur"))
    assert scorecard == panel(f"/{lang}/departments/atur")
    assert scorecard.count("<tr><td>") == 3  # every version in the history
    assert "Keputusan &lt;Kepala&gt;" in scorecard
    assert "Perluasan &lt;b&gt;&#34;A&#34;&lt;/b&gt; &amp; B" in scorecard
    if lang == "en":
        assert 'lang="id">Atasan memeriksa capaian.</span>' in scorecard
        assert "Daily reports." in scorecard
