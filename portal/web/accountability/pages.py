"""Accountability pages for the DPRD and citizens (aggregated figures are public).

/<lang>/accountability                               every department side by side
/<lang>/accountability/departments/<code>            one department down to its services
/<lang>/accountability/departments/<code>/wfa-impact its WFA impact, service by service
/<lang>/accountability/departments/<code>/changes    its services' changes of work mode
/<lang>/accountability/departments/<code>/report     the same as a print-ready A4 report
/<lang>/accountability/departments/<code>/report.pdf that report as a PDF (WeasyPrint)
/<lang>/how-we-measure                               every figure's definition, plainly
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from jinja2 import Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from portal.extensions import limiter
from portal.i18n import current_translations, localized, page_gettext
from portal.models.catalogue import DPRD_COMMISSIONS, WORK_MODES
from portal.models.metrics import SERVICE_STATUSES
from portal.models.survey import SURVEY_ELEMENTS
from portal.services.accountability.commissions import (
    accountability_commission_table,
    commission_resolve,
)
from portal.services.accountability.snapshots import accountability_data_version
from portal.services.accountability.tables import (
    MAX_PERIOD_DAYS,
    PERIOD_CHOICES,
    DepartmentScorecard,
    accountability_department,
    accountability_stored,
    period_resolve,
)
from portal.services.catalogue import arrangements
from portal.services.errors import ValidationError
from portal.services.metrics.service_requests import report_stored
from portal.services.metrics.status import AT_RISK_MARGIN, SILENCE_LIMIT, STATUS_WINDOW_DAYS
from portal.services.metrics.status import MIN_DUE as STATUS_MIN_DUE
from portal.services.metrics.wfa_impact import MIN_DUE as WFA_MIN_DUE
from portal.services.metrics.wfa_impact import WINDOW_DAYS as WFA_WINDOW_DAYS
from portal.services.survey.skm import ELEMENT_LABELS, GRADE_LABELS, MIN_RESPONSES
from portal.web.accountability import present
from portal.web.accountability.prepare import prepare_report_pdfs
from portal.web.accountability.refresh import refresh_after_report
from portal.web.accountability.report_pdf import ReportUnavailable, report_pdf_kept
from portal.web.formatting import Formats
from portal.web.public.live import cached_view, public_page
from portal.web.urls import absolute_url_for, address_maker

bp = Blueprint("accountability", __name__, url_prefix="/<lang>")

# The words of a PDF report's file name per language (a file name is ASCII, never translated
# text that might hold spaces or quotes).
REPORT_FILE_WORDS = {
    "id": {"report": "laporan-akuntabilitas", "commission": "komisi"},
    "en": {"report": "accountability-report", "commission": "commission"},
}
# A department's report changes these pages' stored figures: recompute them after it.
bp.record_once(lambda _state: report_stored.connect(refresh_after_report))
# A job stored them anew: render the default period's PDF reports whose content changed.
bp.record_once(lambda _state: accountability_stored.connect(prepare_report_pdfs))

# The limits the definitions and scorecards name, taken from the rules that apply them.
DEFINITION_LIMITS = {
    # A service's status: its window, the silence that makes it "no data", the requests due
    # it needs to be judged, and the margin of "at risk" in percentage points.
    "status_days": STATUS_WINDOW_DAYS,
    "silence_days": SILENCE_LIMIT.days,
    "status_min_due": STATUS_MIN_DUE,
    "at_risk_points": round(AT_RISK_MARGIN * 100),
    # The WFA impact: the days compared on each side of a move, the requests due each needs.
    "window_days": WFA_WINDOW_DAYS,
    "min_due": WFA_MIN_DUE,
    # The satisfaction index: the responses it needs.
    "min_responses": MIN_RESPONSES,
}


@bp.app_template_global()
def accountability_helpers() -> dict:
    """Give the accountability templates their formatting helpers (rows come formatted)."""
    return _HELPERS


# The same functions on every call: one dict (a page asks for them a dozen times).
_HELPERS = {
    "verdict_label": present.verdict_label,
    "verdict_badge": present.verdict_badge,
    "verdict_sentence": present.verdict_sentence,
    "ikm_html": present.ikm_html,
    "adjusted_sentence": present.adjusted_sentence,
    "rate_text": present.rate_or_dash,
    "pooled_services_text": present.pooled_services_text,
    "status_labels": present.status_labels,
    "verdict_labels": present.verdict_labels,
    "element_labels": ELEMENT_LABELS,
    "grade_labels": GRADE_LABELS,
    "page_number_parts": present.page_number_parts,
    # The long loops and repeated cells, as HTML (see present.py).
    "side_cell": present.side_cell,
    "hours_cell": present.hours_cell,
    "change_cell": present.change_cell,
    "comparison_cells": present.comparison_cells,
    "impact_rows_html": present.impact_rows_html,
    "comparison_rows_html": present.comparison_rows_html,
    "sentence_rows_html": present.sentence_rows_html,
    "service_rows_html": present.service_rows_html,
    "history_rows_html": present.history_rows_html,
    "interval_marks_svg": present.interval_marks_svg,
    "interval_ticks_svg": present.interval_ticks_svg,
    "rate_bars_svg": present.rate_bars_svg,
    "rate_ticks_svg": present.rate_ticks_svg,
    "key_row_html": present.key_row_html,
    "key_rows_html": present.key_rows_html,
    "details_rows_html": present.details_rows_html,
    "feedback_rows_html": present.feedback_rows_html,
}


def accountability_definition_link() -> tuple[str, Markup]:
    """Return the definitions page's address and "Definition of %(figure)s" as markup.

    Each header of the accountability tables links its figure's definition, 25 to 30 a page:
    looked up once a request and language rather than a url_for and a gettext a link.
    """
    lang = str(get_locale())
    parts = g.get("accountability_definition_link")
    if parts is None or parts[0] != lang:
        parts = g.accountability_definition_link = (
            lang, url_for("accountability.how_we_measure"), Markup(_("Definition of %(figure)s")))
    return parts[1], parts[2]


@bp.app_template_global()
def definition_link(anchor: str, figure: str) -> Markup:
    """Return the "?" after a figure's name that links its definition (hidden words say so).

    A function rather than a macro: a scorecard shows 29 of them, the province table 26.
    """
    href, words = accountability_definition_link()
    return _definition_link(href, words, anchor, figure)


@bp.app_template_global()
def column_header(column: str, label: str, anchor: str, sortable: bool, sort: str,
                  descending: bool, links: dict[str, str], attrs: str = "") -> Markup:
    """Return a province table's column header: a sort link when ``sortable``, and the "?"
    that links the figure's definition when it has an ``anchor``.

    ``attrs``: the cell's further attributes, as markup. A function rather than a macro: the
    province table has 25 headers, the same on every visit (made once, _column_header).
    """
    href, words = accountability_definition_link()
    return _column_header(label, anchor, links[column] if sortable else None,
                          descending if sortable and column == sort else None, attrs,
                          href, words)


def _page_column_header(href: str, words: Markup) -> Callable[..., Markup]:
    """Return column_header for one page, its definitions' link looked up already."""
    def page_column_header(column: str, label: str, anchor: str, sortable: bool, sort: str,
                           descending: bool, links: dict[str, str], attrs: str = "") -> Markup:
        return _column_header(label, anchor, links[column] if sortable else None,
                              descending if sortable and column == sort else None, attrs,
                              href, words)

    return page_column_header


@lru_cache(maxsize=1024, typed=True)
def _column_header(label: str, anchor: str, link: str | None, descending: bool | None,
                   attrs: str, href: str, words: Markup) -> Markup:
    """Return a column header linking ``link`` (None: not sortable), sorted by it in the
    order ``descending`` says (None: not sorted by it)."""
    text = escape(label)
    definition = f" {_definition_link(href, words, anchor, label)}" if anchor else ""
    if link is None:
        return Markup(f'<th scope="col"{attrs}>{text}{definition}</th>')
    if descending is not None:
        order = "descending" if descending else "ascending"
        arrow = " ▼" if descending else " ▲"
        return Markup(f'<th scope="col"{attrs} aria-sort="{order}"><a href="'
                      f'{escape(link)}">{text}<span aria-hidden="true">{arrow}</span>'
                      f"</a>{definition}</th>")
    return Markup(f'<th scope="col"{attrs}><a href="{escape(link)}">{text}</a>'
                  f"{definition}</th>")


# The same few links on every page, in each language: made once. Typed: a figure's name as
# text is escaped, as markup it is not (equal keys otherwise).
@lru_cache(maxsize=512, typed=True)
def _definition_link(href: str, words: Markup, anchor: str, figure: str) -> Markup:
    return Markup(f'<a class="def-link" href="{escape(href)}#{escape(anchor)}">'
                  f'<span aria-hidden="true">?</span>'
                  f'<span class="visually-hidden">{words % {"figure": figure}}</span></a>')


@bp.app_template_global()
def definitions_html() -> Markup:
    """Return every figure's definition (accountability/_definitions.html) as HTML.

    Its text depends on the reader's language only (translations and the rules' limits), and
    each printed report shows it whole: rendered once a language, not once a report.
    """
    return definitions_rendered(DEFINITION_LIMITS)


def definitions_rendered(limits: Mapping[str, Any]) -> Markup:
    """Return every figure's definition as HTML with the limits given, in the current
    language: rendered once per language and limits (the pages, and the workbook's "about"
    sheet, which reads it, portal/web/accountability/workbook.py)."""
    template = current_app.jinja_env.get_template("accountability/_definitions.html")
    return _definitions(template, str(get_locale()), tuple(limits.items()))


@lru_cache(maxsize=8)
def _definitions(template: Template, _lang: str, limits: tuple[tuple[str, Any], ...]) -> Markup:
    # Keyed by the template too: one edited in development (auto-reload) is a new object.
    return Markup(template.render(**dict(limits)))


def _page_helpers() -> dict:
    """Return the page's ``gettext`` and ``ngettext`` (portal.i18n.page_gettext), ``_``, and
    its ``definition_link``, ``column_header`` and ``url_for``, made for the request's
    language once a page.

    A template's ``_()`` is Jinja's alias that looks ``gettext`` up in the context and calls
    it, two context calls a string; given as ``_`` itself, the page's gettext is called once.
    The same text: a scorecard translates about 170 strings, the province table 110, most of
    them headings and labels without values, translated once a language (_fixed_texts).
    """
    translations = page_gettext()
    gettext = translations["gettext"]
    texts = _fixed_texts(current_translations())

    @pass_context
    def translate(__context: Context, __string: str, **variables: object) -> str:
        if variables or not __context.eval_ctx.autoescape:
            return gettext(__context, __string, **variables)
        text = texts.get(__string)
        if text is None:
            text = texts[__string] = gettext(__context, __string)
        return text

    href, words = accountability_definition_link()

    def page_definition_link(anchor: str, figure: str) -> Markup:
        return _definition_link(href, words, anchor, figure)

    return {**translations, "_": translate, "definition_link": page_definition_link,
            "column_header": _page_column_header(href, words), "url_for": _page_url_for()}


# The texts without values that the pages' templates translate (as markup: autoescaped), per
# catalogue: the same few hundred headings and labels on every visit. Keyed by the catalogue
# object itself, so another language, or a catalogue reloaded, has its own.
_FIXED_TEXTS: WeakKeyDictionary[Any, dict[str, str]] = WeakKeyDictionary()
_fixed_texts_lock = threading.Lock()


def _fixed_texts(translations: Any) -> dict[str, str]:
    with _fixed_texts_lock:
        texts = _FIXED_TEXTS.get(translations)
        if texts is None:
            texts = _FIXED_TEXTS[translations] = {}
        return texts


# The pages' own links (the period's, the downloads', the way back), by where the portal is
# mounted, the language and the link's values: the same few on every visit, and url_for
# costs tens of microseconds a link. Bounded: emptied when full (custom periods vary).
_LINKS: dict[tuple, str] = {}
_LINKS_SIZE = 4096


def _page_url_for() -> Callable[..., str]:
    """Return ``url_for`` for one page's links: the same addresses, each built once.

    Links with options (``_external`` and the like, which may read the request's host),
    relative to the blueprint of the request (".index"), or with values that are not plain
    keys, are built by url_for itself every time.
    """
    where = (request.script_root, g.get("lang"))

    def page_url_for(endpoint: str, **values: Any) -> str:
        try:
            key = (*where, endpoint, *sorted(values.items()))
            found = _LINKS.get(key)
        except TypeError:  # a value that is not hashable (a list of values)
            return url_for(endpoint, **values)
        if found is None:
            found = url_for(endpoint, **values)
            if not endpoint.startswith(".") and not any(
                    name.startswith("_") for name in values):
                if len(_LINKS) >= _LINKS_SIZE:
                    _LINKS.clear()
                _LINKS[key] = found
        return found

    return page_url_for


def _period() -> tuple[dict, list]:
    """Read the period from the query string; on errors fall back to the default period."""
    args = request.args
    errors = []
    try:
        key, from_date, to_date = period_resolve(
            args.get("period"), args.get("from"), args.get("to"))
    except ValidationError as error:
        errors = error.errors
        key, from_date, to_date = period_resolve(None, None, None)
        key = "custom"
    period = {
        "key": key,
        "from": from_date,
        "to": to_date,
        "from_text": args.get("from", from_date.isoformat())[:10],
        "to_text": args.get("to", to_date.isoformat())[:10],
        # Query values that keep the period in links (sorting, departments, downloads).
        "query": {"from": from_date.isoformat(), "to": to_date.isoformat()}
        if key == "custom" and not errors else {"period": key},
        "api_query": {"from": from_date.isoformat(), "to": to_date.isoformat()},
    }
    return period, errors


def _common(period: dict, errors: list) -> dict:
    return {
        "period": period,
        "period_errors": {e.field: e.error for e in errors},
        "period_choices": PERIOD_CHOICES,
        "max_period_days": MAX_PERIOD_DAYS,
        "work_modes": WORK_MODES,
        "statuses": SERVICE_STATUSES,
    }


def _commission(period: dict) -> tuple[str | None, list]:
    """Read ?commission; keep it in the period's links. A wrong one shows every department."""
    try:
        commission = commission_resolve(request.args.get("commission"))
    except ValidationError as error:
        return None, error.errors
    period["query_all"] = dict(period["query"])
    if commission:
        period["query"] = {**period["query"], "commission": commission}
        period["api_query"] = {**period["api_query"], "commission": commission}
    return commission, []


# A column's and a direction's place in the sort links built once a page (the province table
# links every department, a scorecard every service: those links by address_maker).
_COLUMN, _DIRECTION = "__column__", "__direction__"


def _sort_links(sort: str, descending: bool, query: dict) -> dict[str, str]:
    """Return the link of each sortable column header (a second click reverses the order).

    One url_for a page, completed per column (identifiers, which a query keeps as they are).
    """
    link = url_for("accountability.index", sort=_COLUMN, dir=_DIRECTION, **query)
    links = {}
    for column in present.SORT_KEYS:
        direction = "asc" if column == sort and descending else (
            "desc" if column == sort else ("asc" if column == "name" else "desc"))
        links[column] = link.replace(_COLUMN, column).replace(_DIRECTION, direction)
    return links


def _table_context() -> tuple[dict, int]:
    """Return the province table's page context for the query, and its HTTP status."""
    period, errors = _period()
    commission, commission_errors = _commission(period)
    table = accountability_commission_table(period["from"], period["to"], commission)
    sort = request.args.get("sort", "name")
    if sort not in present.SORT_KEYS:
        sort = "name"
    descending = request.args.get("dir") == "desc"
    fmt = Formats()
    link = address_maker("accountability.department", "code", **period["query"])
    rows = [present.kept_table_row(row, fmt, link(row.department.code))
            for row in present.sort_rows(table.departments, sort, descending, fmt.lang)]
    chart_items = [(localized(r.department, "name", fmt.lang).text, r.requests.on_time_rate)
                   for r in table.departments if r.requests.on_time_rate is not None]
    context = {
        "table": table,
        "rows": rows,  # formatted (see present.py): the templates print ready text
        "province_row": present.kept_table_row(table.province, fmt),
        "sort": sort,
        "descending": descending,
        "sort_links": _sort_links(sort, descending, period["query"]),
        "commission": commission,
        "commissions": DPRD_COMMISSIONS,
        "chart": present.rate_chart(chart_items, fmt) if chart_items else None,
        "fmt": fmt,  # the province's sentences are formatted with the page's formatters
        **DEFINITION_LIMITS,
        **_common(period, [*errors, *commission_errors]),
        **_page_helpers(),
    }
    return context, 422 if errors or commission_errors else 200


@bp.get("/accountability")
@cached_view(accountability_data_version)
def index():
    """Show every department side by side over a period, sortable by any column.

    ``?commission=I`` (to IV) keeps the departments one DPRD commission oversees.
    """
    context, status = _table_context()
    return render_template("accountability/index.html", **context), status


@bp.get("/accountability/report")
@cached_view(accountability_data_version)
def table_report():
    """Show the province table (or one commission's) as a print-ready A4 report."""
    context, status = _table_context()
    return render_template("accountability/table_report.html", **context), status


def _pdf_filename(*parts: str) -> str:
    """Name a PDF report in the reader's language, e.g. laporan-akuntabilitas-2026-12-01.pdf."""
    words = REPORT_FILE_WORDS.get(str(get_locale()), REPORT_FILE_WORDS["en"])
    safe = [re.sub(r"[^A-Za-z0-9_-]", "_", part) for part in parts if part]
    return "-".join([words["report"], *safe]) + ".pdf"


def _pdf_response(html: str, base_url: str, filename: str):
    """Render a report page to a PDF attachment (or read the file kept for its content);
    None when WeasyPrint cannot run here."""
    try:
        pdf = report_pdf_kept(html, base_url)
    except ReportUnavailable:
        return None
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/accountability/report.pdf")
@limiter.limit("20 per minute")  # rendering a PDF costs about a second of CPU
@cached_view(accountability_data_version)
def table_report_download():
    """Send the province table's report (or one commission's) as an A4 PDF file."""
    context, status = _table_context()
    if status != 200:
        return render_template("accountability/index.html", **context), status
    period, commission = context["period"], context["commission"]
    html = render_template("accountability/table_report.html", **context)
    words = REPORT_FILE_WORDS.get(str(get_locale()), REPORT_FILE_WORDS["en"])
    response = _pdf_response(
        html, absolute_url_for("accountability.table_report", **period["query"]),
        _pdf_filename(f"{words['commission']}-{commission}" if commission else "",
                      period["to"].isoformat()))
    if response is None:
        return render_template("accountability/report_unavailable.html", department=None,
                               period=period, report_url=url_for(
                                   "accountability.table_report", **period["query"])), 503
    return response


# What each department page shows beyond its heading and period: the scorecard its summary,
# arrangement, services, satisfaction and feedback, with a short lead to the WFA impact and to
# the history of changes; the two pages of those in full; the report everything. Each page
# formats only what it shows (a province department's WFA tables and history are half of the
# full scorecard's cost).
SCORECARD, WFA_IMPACT, CHANGES = "scorecard", "wfa_impact", "changes"
REPORT = (SCORECARD, WFA_IMPACT, CHANGES)


def _department_context(code: str, parts: tuple[str, ...] = REPORT) -> tuple[dict, int]:
    """Return a department page's context for the query's period, and its HTTP status.

    ``parts``: what the page shows (SCORECARD, WFA_IMPACT, CHANGES); the report shows all.
    """
    period, errors = _period()
    # A commission the table was filtered by stays in the way back to it (a wrong one is
    # dropped: it filters nothing here).
    _commission(period)
    card = accountability_department(code, period["from"], period["to"])
    fmt = Formats()
    department = card.scorecard.department
    in_full = WFA_IMPACT in parts and CHANGES in parts
    context = {
        "card": card,
        "department": department,
        "fmt": fmt,
        # The scorecard's WFA section and history in full (the report), or as leads that
        # link their pages (the scorecard page).
        "in_full": in_full,
        **DEFINITION_LIMITS,
        **_common(period, errors),
        **_page_helpers(),
    }
    if SCORECARD in parts:
        history = arrangements.arrangement_history(department)
        context.update({
            "service_rows": card.services,  # formatted with fmt, linked with service_link
            "service_link": address_maker("public.service", "code"),
            "elements": SURVEY_ELEMENTS,
            "arrangement": arrangements.arrangement_in_force(history),
            "arrangement_history": history,
            "arrangement_measures": arrangements.arrangement_measures(department),
        })
        if not in_full:
            context.update(_wfa_lead(card))
    if WFA_IMPACT in parts:
        # The WFA tables' rows and charts, formatted once while the card's figures are kept.
        context.update(present.KEPT.get((card,), ("wfa_impacts", fmt.lang),
                                        lambda: _wfa_impacts(card, fmt)))
    if CHANGES in parts:
        context["history_rows"] = card.history  # formatted with the page's formatters (fmt)
    return context, 422 if errors else 200


def _wfa_lead(card: DepartmentScorecard) -> dict:
    """Return what the scorecard says of its WFA impact and history: how many services
    moved, the pooled impact (when the WFA tables have a pooled row), how many changes."""
    moved = sum(1 for row in card.services if row.wfa is not None)
    return {
        "wfa_moved": moved,
        # As _wfa_impacts: the pooled row only when more than one service moved.
        "wfa_pooled": card.scorecard.wfa if moved > 1 else None,
        "history_count": len(card.history),
    }


def _wfa_impacts(card: DepartmentScorecard, fmt: Formats) -> dict:
    """Format a scorecard's WFA impacts: each table's rows (see present.py: the templates
    print ready text) and the two charts."""
    impacts = [(row.service, row.wfa) for row in card.services if row.wfa is not None]
    formatter = present.ImpactFormatter(fmt)
    pooled = card.scorecard.wfa if len(impacts) > 1 else None
    chart_items = [(localized(service, "name", fmt.lang).text, impact)
                   for service, impact in impacts]
    if pooled is not None:
        chart_items.append((present.pooled_label(fmt), pooled))
    chart, net_chart = present.interval_charts(chart_items, fmt) if chart_items else (None, None)
    if not any(impact.net_difference is not None for _label, impact in chart_items):
        net_chart = None  # nothing to draw: every mark would say "not enough data"
    return {
        "impact_rows": [formatter.service_row(service, impact) for service, impact in impacts],
        "pooled_row": None if pooled is None else formatter.pooled_row(pooled),
        "chart": chart,
        "net_chart": net_chart,
    }


@bp.get("/accountability/departments/<code>")
@cached_view(accountability_data_version)
def department(code: str):
    """Show one department's scorecard down to its services, leading to its WFA impact and
    its history of changes (pages of their own)."""
    context, status = _department_context(code, (SCORECARD,))
    return render_template("accountability/department.html", **context), status


@bp.get("/accountability/departments/<code>/wfa-impact")
@cached_view(accountability_data_version)
def department_wfa_impact(code: str):
    """Show whether the department's services got slower after moving to WFA, service by
    service: the charts, the tables and the sentences of the report's WFA section."""
    context, status = _department_context(code, (WFA_IMPACT,))
    return render_template("accountability/wfa_impact.html", **context), status


@bp.get("/accountability/departments/<code>/changes")
@cached_view(accountability_data_version)
def department_changes(code: str):
    """Show every change of work mode and commitment of the department's services."""
    context, status = _department_context(code, (CHANGES,))
    return render_template("accountability/changes.html", **context), status


@bp.get("/accountability/departments/<code>/report")
@cached_view(accountability_data_version)
def report(code: str):
    """Show the department's scorecard as a print-ready A4 report with every definition."""
    context, status = _department_context(code)
    return render_template("accountability/report.html", **context), status


@bp.get("/accountability/departments/<code>/report.pdf")
@limiter.limit("20 per minute")  # rendering a PDF costs about a second of CPU
@cached_view(accountability_data_version)
def report_download(code: str):
    """Send the print-ready report (the same page and figures) as an A4 PDF file."""
    context, status = _department_context(code)
    if status != 200:
        # A wrong period: show the scorecard's period form with its messages, not a PDF of
        # another period than the one asked for (the report's context holds the scorecard's).
        return render_template("accountability/department.html", **context), status
    period = context["period"]
    html = render_template("accountability/report.html", **context)
    response = _pdf_response(
        html, absolute_url_for("accountability.report", code=code, **period["query"]),
        _pdf_filename(context["department"].code, period["to"].isoformat()))
    if response is None:
        return render_template(
            "accountability/report_unavailable.html",
            department=context["department"], period=period,
            report_url=url_for("accountability.report", code=code, **period["query"]),
        ), 503
    return response


@bp.get("/how-we-measure")
@public_page
def how_we_measure() -> str:
    """Explain every figure of the portal to a non-specialist."""
    return render_template(
        "accountability/how_we_measure.html",
        elements=SURVEY_ELEMENTS,
        **DEFINITION_LIMITS,
    )
