"""The service page and its charts' figures as tables (one service: figures, charts, notices).

Served through ``public_page`` like the other public pages (portal/web/public/pages.py, whose
blueprint and ``_render`` these views use: read as ``pages._render``, so that a test can
swap it for Flask's own render_template on every public page at once).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import partial

from flask import url_for
from markupsafe import Markup, escape

from portal.i18n import localized
from portal.models.catalogue import STANDARD_FIELDS, Service
from portal.services.catalogue import directory as catalogue
from portal.services.catalogue.places import service_place
from portal.services.catalogue.public_figures import ServiceFigures, WfaTrend, service_figures
from portal.web import charts
from portal.web.formatting import Formats, first_response_text, memo_by_lang
from portal.web.public import pages
from portal.web.public.live import public_page, updated_ago
from portal.web.public.pages import bp

# The bars' sentences, memoised per language (given first: the page's, looked up once).
_day_sentence = memo_by_lang(charts.day_sentence)
_week_sentence = memo_by_lang(charts.week_sentence)
_first_response_text = memo_by_lang(first_response_text)


def _daily_rows(figures: ServiceFigures, fmt: Formats) -> list[tuple[str, int, int, str]]:
    """Return the daily table's rows, newest first: day, due, on time, on-time rate."""
    return [(fmt.date_long(p.day), p.due, p.on_time, fmt.rate(p.on_time_rate))
            for p in reversed(figures.daily)]


def _trend_rows(trend: WfaTrend, fmt: Formats) -> list[tuple[str, str, int, int, str]]:
    """Return the weekly table's rows, newest first: week, work mode, due, on time, rate."""
    after, before = fmt.work_mode_label(trend.mode, True), fmt.gettext("Before the change")
    return [(fmt.gettext("%(start)s to %(end)s", start=fmt.date_long(w.first_day),
                         end=fmt.date_long(w.last_day)),
             after if w.after_move else before, w.due, w.on_time, fmt.rate(w.on_time_rate))
            for w in reversed(trend.weeks)]


def _figure_rows(windows: list[dict], target: float, online: bool, fmt: Formats) -> Markup:
    """Render the body rows of a service page's figures table (a row a figure, a cell a
    window) in one string, as the template's loops rendered them: the row headers are
    translations as they are (as ``_()`` gives them), the cells escaped."""
    def row(label: str, cells: Iterable[str]) -> str:
        return (f'<tr><th scope="row">{label}</th>'
                + "".join(f'<td class="num">{escape(cell)}</td>' for cell in cells) + "</tr>")

    def numbers(key: str) -> list[str]:
        return [fmt.number(w.get(key)) for w in windows]

    of_due = Markup(fmt.gettext("(%(on_time)s of %(due)s)"))
    on_time = []
    for w in windows:
        rate, due = w.get("on_time_rate"), w.get("due")
        cell = escape(fmt.rate_against_target(rate, target) if rate is not None
                      else fmt.rate(None))
        if due:
            cell += Markup(' <span class="muted">{}</span>').format(
                of_due % {"on_time": fmt.number(w.get("on_time")), "due": fmt.number(due)})
        on_time.append(cell)
    rows = [
        row(fmt.gettext("Requests received"), numbers("received")),
        row(fmt.gettext("Requests completed"), numbers("completed")),
        row(fmt.gettext("Requests due (deadline passed)"), numbers("due")),
        row(fmt.gettext("Completed on time, of those due"), on_time),
        row(fmt.gettext("Late, of those due"), numbers("late")),
        row(fmt.gettext("Late and still open"), numbers("late_open")),
        row(fmt.gettext("Median completion time"),
            [fmt.duration(w.get("median_completion_hours")) for w in windows]),
        row(fmt.gettext("Completion time of 9 requests in 10 (90th percentile)"),
            [fmt.duration(w.get("p90_completion_hours")) for w in windows]),
        row(fmt.gettext("First response on time"),
            [fmt.rate(w.get("first_response_on_time_rate")) for w in windows]),
        row(fmt.gettext("Requests received online (digital share)"),
            [fmt.rate(w.get("digital_share")) for w in windows]),
        row(fmt.gettext("Online channel availability"),
            [fmt.rate(w.get("availability")) for w in windows]) if online else "",
    ]
    return Markup("\n      ".join(rows))


def _history_rows(service: Service, fmt: Formats) -> tuple[Markup, Markup]:
    """Render the body rows of the work mode and the commitment histories, each table's in
    one string, as the template's loops rendered them (their whitespace too): a row a
    change, its dates and sentences formatted with the reader's language looked up once,
    every value escaped (the "before records began" translation as it is, as ``_()`` gives
    it)."""
    before = fmt.gettext("Before records began")

    def since(day: date | None) -> str:
        return escape(fmt.date_long(day)) if day else before

    modes = "".join(
        f"\n      <tr><td>{since(change.effective_from)}</td>"
        f"<td>{escape(fmt.work_mode_label(change.work_mode))}</td>"
        f"<td>{escape(fmt.datetime_wib(change.recorded_at))}</td></tr>\n    "
        for change in service.work_mode_history)
    commitments = []
    for change in service.commitment_history:
        promise = escape(fmt.commitment_text(change.commitment_value, change.commitment_unit,
                                             change.on_time_target))
        if change.first_response_value is not None:
            promise += Markup("<br>") + _first_response_text(
                fmt.lang, change.first_response_value, change.first_response_unit)
        commitments.append(
            f"\n      <tr><td>{since(change.effective_from)}</td><td>{promise}</td>"
            f"<td>{escape(change.reason or '—')}</td>"
            f"<td>{escape(fmt.datetime_wib(change.recorded_at))}</td></tr>\n    ")
    return Markup(modes), Markup("".join(commitments))


def _standard_rows(service: Service, fmt: Formats) -> Markup:
    """Render the service standard's published texts (requirements, procedure, cost, product,
    opening hours) in one string, as the template's loop rendered them (its whitespace too):
    each text escaped as its ``__html__`` says (an Indonesian fallback marked as such), the
    labels translations as they are (as ``_()`` gives them)."""
    unpublished = fmt.gettext("Not published yet.")
    rows = []
    labels = (fmt.gettext("Requirements"), fmt.gettext("Procedure"), fmt.gettext("Cost"),
              fmt.gettext("Product"), fmt.gettext("Opening hours"))
    for field, label in zip(STANDARD_FIELDS, labels, strict=True):
        text = localized(service, field, fmt.lang)
        shown = escape(text) if text.text else f'<span class="muted">{unpublished}</span>'
        rows.append(f"\n    \n    <dt>{label}</dt>\n    <dd>{shown}</dd>\n    ")
    return Markup("".join(rows))


@bp.get("/services/<code>")
@public_page
def service(code: str) -> str:
    """Show one service: its status and figures, charts, incidents, commitment, histories.

    The charts' figures as tables (a row a day, a row a week: hundreds of dates and rates)
    are on a page of their own, :func:`service_tables`, linked below each chart: the service
    page stays light on a phone. The figures table's rows, the service standard's texts and
    the histories' rows are formatted here with the reader's language looked up once, each
    in one string (a template loop's placements and filters cost more than their markup).
    The template sets no variable of its own
    (``updated``, ``trend`` are given): each translated text after such a variable made
    Jinja copy the whole context to call ``_()``.
    """
    found = catalogue.service_get(code)
    figures = service_figures(found)
    target = found.on_time_target
    fmt = Formats()
    return pages._render(
        "public/service.html",
        service=found,
        place=service_place(found),
        figures=figures,
        # Every section says how old its figures are: one instant, one sentence.
        updated=updated_ago(figures.as_of),
        trend=figures.trend,
        figure_rows=_figure_rows(figures.windows, target, bool(found.online_url), fmt),
        daily_chart=charts.daily_bar(figures.daily, target, partial(_day_sentence, fmt.lang)),
        daily_summary=charts.daily_summary(figures.daily, target),
        trend_chart=(charts.trend_chart(figures.trend, target, partial(_week_sentence, fmt.lang))
                     if figures.trend else None),
        trend_summary=charts.trend_summary(figures.trend) if figures.trend else "",
        tables_url=url_for("public.service_tables", code=found.code, lang=fmt.lang),
        standard_rows=_standard_rows(found, fmt),
        history_rows=_history_rows(found, fmt),
    )


@bp.get("/services/<code>/tables")
@public_page
def service_tables(code: str) -> str:
    """Show the figures of a service page's charts as tables: a row a day, a row a week.

    The same figures as the charts, as of the same instant. The rows are formatted here
    with the reader's language looked up once and rendered in one string a table
    (portal/web/charts.py), not a cell at a time by the template.
    """
    found = catalogue.service_get(code)
    figures = service_figures(found)
    fmt = Formats()
    return pages._render(
        "public/service_tables.html",
        service=found,
        figures=figures,
        updated=updated_ago(figures.as_of),
        trend=figures.trend,
        daily_rows=charts.table_rows(_daily_rows(figures, fmt)),
        trend_rows=(charts.table_rows(_trend_rows(figures.trend, fmt), text_cells=1)
                    if figures.trend else ""),
    )
