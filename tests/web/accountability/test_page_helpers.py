"""The accountability pages' helpers made once a page or a language (pages.py, present.py).

Each must give, byte for byte, what the template code or the call it replaced gave: the
translations without values, the links, the column headers, the charts' scales, the verdict
badges, and the table rows that format a repeated value once a table.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask import render_template_string, url_for
from markupsafe import Markup, escape

from portal.domain.calendar import utc_now, wib_date
from portal.i18n import localized
from portal.services.accountability.tables import accountability_refresh
from portal.web.accountability import pages, present
from portal.web.formatting import Formats
from portal.web.public.live import page_cache
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due

TRICKY = 'Office <b>"A" & B\'s</b>'


@contextlib.contextmanager
def _page(app, lang: str) -> Iterator[None]:
    """Run the block as inside a request for an accountability page in ``lang``."""
    with app.test_request_context(f"/{lang}/accountability"):
        app.preprocess_request()
        yield


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_page_translates_as_the_template_gettext_does(app, lang):
    with _page(app, lang):
        helpers = pages._page_helpers()
        source = ('{{ _("Period") }}|{{ _("How we measure") }}|'
                  '{{ _("Scorecard: %(department)s", department=name) }}|'
                  '{{ _("90th percentile: nine in ten requests were completed within this time. '
                  'Like the median, it is read from the sorted list of completion times (the '
                  'value at position 90%% of the list, rounded up).") }}')
        expected = render_template_string(source, name=TRICKY)
        # Twice: the second reads the texts translated once (with their "%%" made "%").
        assert render_template_string(source, name=TRICKY, **helpers) == expected
        assert render_template_string(source, name=TRICKY, **helpers) == expected
        assert "&lt;b&gt;" in expected and "90%" in expected and "90%%" not in expected


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_page_links_are_those_url_for_builds(app, lang):
    with _page(app, lang):
        page_url_for = pages._page_helpers()["url_for"]
        calls = [
            ("accountability.index", {}),
            ("accountability.index", {"period": "90", "commission": "II"}),
            ("accountability.index", {"from": "2026-01-05", "to": "2026-03-31"}),
            ("accountability.report", {"code": "bapenda", "period": "30"}),
            ("accountability.how_we_measure", {}),
            ("api.accountability_csv", {"lang": lang, "from": "2026-01-05",
                                        "to": "2026-03-31"}),
            ("public.department", {"code": "a b&c"}),
            ("accountability.index", {"_external": True}),
        ]
        for _round in range(2):  # the second round reads the links built in the first
            for endpoint, values in calls:
                assert page_url_for(endpoint, **values) == url_for(endpoint, **values)


def test_a_page_keeps_its_language_in_its_links(app):
    links = {}
    for lang in ("id", "en"):
        with _page(app, lang):
            links[lang] = pages._page_helpers()["url_for"]("accountability.how_we_measure")
    assert links == {"id": "/id/how-we-measure", "en": "/en/how-we-measure"}


@pytest.mark.parametrize("sortable, sort, descending", [
    (False, "name", False), (True, "other", False), (True, "name", False),
    (True, "name", True)])
def test_column_headers_escape_labels_and_links_as_before(app, sortable, sort, descending):
    with _page(app, "en"):
        links = {"name": "/en/accountability?sort=name&dir=asc"}
        attrs = Markup(' rowspan="2"')
        page_header = pages._page_helpers()["column_header"]
        headers = [header("name", TRICKY, "on-time", sortable, sort, descending, links, attrs)
                   for header in (pages.column_header, page_header)]
        text, link = escape(TRICKY), escape(links["name"])
        definition = pages.definition_link("on-time", TRICKY)
        if not sortable:
            expected = f'<th scope="col" rowspan="2">{text} {definition}</th>'
        elif sort != "name":
            expected = (f'<th scope="col" rowspan="2"><a href="{link}">{text}</a> '
                        f"{definition}</th>")
        else:
            order, arrow = ("descending", "▼") if descending else ("ascending", "▲")
            expected = (f'<th scope="col" rowspan="2" aria-sort="{order}"><a href="{link}">'
                        f'{text}<span aria-hidden="true"> {arrow}</span></a> {definition}</th>')
        assert headers == [expected, expected]
        assert "&lt;b&gt;" in expected and "&amp;dir=" in expected or not sortable


def test_the_charts_scales_are_those_the_templates_loops_printed(app):
    interval = SimpleNamespace(height=200, ticks=[(220.0, "−20"), (410.5, "0"),
                                                  (601.0, "+20"), (700.0, TRICKY)])
    rate = SimpleNamespace(height=300, top=26, ticks=[(250.0, "0%"), (337.5, "25%")])
    with app.test_request_context("/en/accountability"):
        old_interval = render_template_string(
            '{% for x, label in chart.ticks %}\n  <line x1="{{ x }}" x2="{{ x }}" y1="20" '
            'y2="{{ chart.height - 10 }}" stroke="#d5d9dd" stroke-width="1"/>\n  <text x="'
            '{{ x }}" y="14" font-size="11" text-anchor="middle" fill="#3d4449">{{ label }}'
            "</text>\n  {% endfor %}", chart=interval)
        old_rate = render_template_string(
            '{% for x, label in chart.ticks %}\n  <line x1="{{ x }}" x2="{{ x }}" y1="'
            '{{ chart.top - 6 }}" y2="{{ chart.height - 4 }}" stroke="#d5d9dd" '
            'stroke-width="1"/>\n  <text x="{{ x }}" y="{{ chart.top - 10 }}" font-size="11" '
            'text-anchor="middle" fill="#3d4449">{{ label }}</text>\n  {% endfor %}',
            chart=rate)
    assert present.interval_ticks_svg(interval) == old_interval
    assert present.rate_ticks_svg(rate) == old_rate


@pytest.mark.parametrize("lang", ["id", "en"])
def test_verdict_badges_are_those_the_macro_printed(app, lang):
    with _page(app, lang):
        macro = ('{% macro verdict_badge(verdict, label=none) -%}\n{% if label is none %}'
                 "{% set label = accountability_helpers().verdict_label(verdict) %}{% endif %}"
                 '\n<span class="verdict verdict-{{ verdict }}">{{ label }}</span>\n'
                 "{%- endmacro %}{{ verdict_badge(verdict, label) }}")
        for verdict, label in [("decline", None), ("not_enough_data", None),
                               ("improvement", TRICKY), ("odd<verdict>", None)]:
            expected = render_template_string(macro, verdict=verdict, label=label)
            assert present.verdict_badge(verdict, label) == expected
            # Named from the names memoised for the page's language: the same badge.
            assert present.verdict_badge(verdict, label, Formats()) == expected


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_satisfaction_index_is_what_the_macro_printed(app, lang):
    with _page(app, lang):
        # The scorecard's former macro (accountability/_macros.html, ikm_text).
        macro = ('{% macro ikm_text(result) -%}\n{% if result.ikm is not none %}'
                 '{{ result.ikm|number }} <span class="grade">({{ result.grade }})</span>'
                 '{% else %}<span class="muted">{{ _("Not enough responses") }}</span>'
                 "{% endif %}\n{%- endmacro %}{{ ikm_text(result) }}")
        not_enough = render_template_string('{{ _("Not enough responses") }}')
        results = [SimpleNamespace(ikm=Decimal("81.25"), grade="B"),
                   SimpleNamespace(ikm=Decimal("1234.5"), grade="<A>"),
                   SimpleNamespace(ikm=None, grade=None)]
        for result in results:
            shown = present.ikm_html(result, Formats(), not_enough)
            assert shown == render_template_string(macro, result=result)
        assert "(&lt;A&gt;)" in present.ikm_html(results[1], Formats(), not_enough)
        assert 'class="muted"' in present.ikm_html(results[2], Formats(), not_enough)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_name_is_escaped_and_marked_as_localized_marks_it(app, lang):
    with _page(app, lang):
        for name_id, name_en in [("Izin", "Permit"), (TRICKY, TRICKY), ("Izin <i>", ""),
                                 ("Izin", "   "), ("", "")]:
            service = SimpleNamespace(name_id=name_id, name_en=name_en)
            assert present._name_html(service, lang) == present._esc(
                localized(service, "name", lang))


def _service(code: str, mode: str, value: int, status: str) -> SimpleNamespace:
    return SimpleNamespace(
        service=SimpleNamespace(code=code, name_id=f"Layanan {code}", name_en=f"Service {code}",
                                work_mode=mode, commitment_value=value,
                                commitment_unit="days", on_time_target=0.9),
        requests=SimpleNamespace(completed=10, due=8, on_time_rate=0.75,
                                 median_completion_hours=12.25),
        status=SimpleNamespace(status=status),
        ikm=SimpleNamespace(ikm=None, grade=None))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_service_rows_show_each_services_own_mode_commitment_and_status(app, lang):
    with _page(app, lang):
        fmt = Formats()
        rows = [_service("a", "wfa", 3, "meeting"), _service("b", "wfa", 3, "breaching"),
                _service("c", "onsite", 1, "meeting")]
        html = present.service_rows_html(rows, fmt, lambda code: f"/s/{code}?x=1&y=2",
                                         False, "Not <enough>")
        cells = [re.findall(r"<td>(.*?)</td>", row)
                 for row in html.split("</tr>") if "<th" in row]
        assert [row[:3] for row in cells] == [
            [str(escape(fmt.work_mode_label(r.service.work_mode))),
             str(escape(fmt.commitment_text(r.service.commitment_value, "days", 0.9))),
             f'<span class="status status-{r.status.status}">'
             f"{escape(fmt.status_label(r.status.status))}</span>"]
            for r in rows]
        assert '<a href="/s/a?x=1&amp;y=2">' in html
        assert html.count('<span class="muted">Not &lt;enough&gt;</span>') == 3


@pytest.mark.parametrize("lang", ["id", "en"])
def test_history_rows_show_each_changes_own_values_and_people(app, lang):
    with _page(app, lang):
        fmt = Formats()
        service = SimpleNamespace(id=1, name_id="Izin", name_en="Permit")
        promise = SimpleNamespace(commitment_value=3, commitment_unit="days",
                                  on_time_target=0.9)
        slower = SimpleNamespace(commitment_value=5, commitment_unit="days",
                                 on_time_target=0.9)
        recorded_at = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
        fmt_time = fmt.datetime_wib(recorded_at)
        entries = [
            SimpleNamespace(service=service, kind="work_mode", effective_from=date(2026, 3, 2),
                            recorded_at=recorded_at, recorded_by="admin <1>", before="onsite",
                            after="wfa", reason=TRICKY),
            SimpleNamespace(service=service, kind="commitment", effective_from=None,
                            recorded_at=recorded_at, recorded_by="officer-2", before=promise,
                            after=slower, reason=""),
            SimpleNamespace(service=service, kind="work_mode", effective_from=date(2026, 3, 2),
                            recorded_at=recorded_at, recorded_by="admin <1>", before="wfa",
                            after="onsite", reason=None),
        ]
        html = present.history_rows_html(entries, fmt, ("Began", "Mode", "Promise"))
        rows = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
                for row in html.split("</tr>") if "<td" in row]
        mode = {m: str(escape(fmt.work_mode_label(m))) for m in ("onsite", "wfa")}

        def says(value):
            return str(escape(fmt.commitment_text(value.commitment_value, "days", 0.9)))

        day = str(escape(fmt.date_long(date(2026, 3, 2))))
        assert rows == [
            [day, "Izin" if lang == "id" else "Permit", "Mode", mode["onsite"], mode["wfa"],
             "admin &lt;1&gt;", fmt_time, str(escape(TRICKY))],
            ["Began", "Izin" if lang == "id" else "Permit", "Promise", says(promise),
             says(slower), "officer-2", fmt_time, "—"],
            [day, "Izin" if lang == "id" else "Permit", "Mode", mode["wfa"], mode["onsite"],
             "admin &lt;1&gt;", fmt_time, "—"],
        ]


class _Figures:
    """Figures as the snapshots hold them: objects compared by identity."""


def test_kept_formatting_is_made_once_per_figures_objects_and_key():
    kept = present.KeptFormatting(2)
    made = []

    def make(text):
        made.append(text)
        return text

    figures, refreshed = _Figures(), _Figures()  # a refresh's new figures
    assert kept.get((figures,), ("en",), lambda: make("en")) == "en"
    assert kept.get((figures,), ("en",), lambda: make("en again")) == "en"
    assert kept.get((refreshed,), ("en",), lambda: make("refreshed")) == "refreshed"
    assert kept.get((figures, refreshed), ("en",), lambda: make("both")) == "both"
    # Two entries at most: the least recently used went first.
    assert kept.get((figures,), ("en",), lambda: make("en anew")) == "en anew"
    assert kept.get((figures,), ("id",), lambda: make("id")) == "id"
    assert made == ["en", "refreshed", "both", "en anew", "id"]


def test_kept_formatting_goes_with_its_figures():
    kept = present.KeptFormatting(10)
    figures = _Figures()
    kept.get((figures,), ("en",), lambda: "en")
    kept.get((figures, _Figures()), ("en",), lambda: "gone at once")
    assert len(kept) == 2
    del figures
    gc.collect()
    # What the snapshots no longer keep is dropped with its texts (at the next look-up).
    assert kept.get((_Figures(),), ("id",), lambda: "other") == "other"
    assert len(kept) == 1


def test_kept_formatting_formats_every_time_what_takes_no_weak_reference():
    kept = present.KeptFormatting(10)
    rows = [SimpleNamespace(name="a")]
    assert kept.get((rows[0],), ("en",), lambda: "first") == "first"
    assert kept.get((rows[0],), ("en",), lambda: "second") == "second"
    assert len(kept) == 0


def test_kept_formatting_keeps_nothing_while_the_page_cache_is_off():
    cache = {"on": False}
    kept = present.KeptFormatting(10, enabled=lambda: cache["on"])
    figures = _Figures()
    assert kept.get((figures,), ("en",), lambda: "first") == "first"
    assert kept.get((figures,), ("en",), lambda: "second") == "second"
    assert len(kept) == 0
    cache["on"] = True
    assert kept.get((figures,), ("en",), lambda: "third") == "third"
    assert kept.get((figures,), ("en",), lambda: "fourth") == "third"


def test_the_pages_rows_are_kept_only_while_the_page_cache_is_on(app):
    with app.test_request_context("/"):
        assert not present.KEPT._enabled()  # the tests' setting, as in development
        app.config["PORTAL_PAGE_CACHE_SECONDS"] = 60
        try:
            assert present.KEPT._enabled()
        finally:
            app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0


@pytest.mark.parametrize("cache_seconds", [0, 60])
def test_stored_figures_are_shown_anew_after_a_refresh_in_each_language(app, client,
                                                                        cache_seconds):
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = cache_seconds  # on: the rows are kept (KEPT)
    page_cache().clear()
    today = wib_date(utc_now())
    office = create_department(code="cepat", name_id="Dinas Cepat", name_en="Fast Office")
    service = create_due_service(department=office, code="a", name_en="Permit A")
    report_due(service, today - timedelta(days=2), on_time=10)
    pages = [f"/{lang}/accountability{page}?period=30" for lang in ("en", "id")
             for page in ("", "/report", "/departments/cepat", "/departments/cepat/report")]
    app.config["PORTAL_ACCOUNTABILITY_SNAPSHOTS"] = True
    try:
        accountability_refresh()
        first = [client.get(path).get_data(as_text=True) for path in pages]
        # The same stored figures: the same pages, each in its own language.
        assert [client.get(path).get_data(as_text=True) for path in pages] == first
        assert all('lang="en"' in html for html in first[:4])
        assert all('lang="id"' in html for html in first[4:])
        assert not any('<td class="num">17</td>' in html for html in first)
        report_due(service, today - timedelta(days=1), on_time=7)  # 17 due now
        accountability_refresh()
        page_cache().clear()  # the page cache's one-second reuse of the data version
        assert all('<td class="num">17</td>' in client.get(path).get_data(as_text=True)
                   for path in pages)
    finally:
        app.config["PORTAL_ACCOUNTABILITY_SNAPSHOTS"] = False
        app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0
        page_cache().clear()
