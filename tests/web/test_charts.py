"""The service page's charts (portal/web/charts.py): a labelled scale, legends that match,
bars and table rows rendered in Python as the template's loops rendered them."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import render_template_string

from portal.domain.calendar import utc_now, wib_date
from portal.services.metrics.figures import DayPoint
from portal.services.metrics.page_figures import TrendWeek, WfaTrend
from portal.web import charts
from tests.factories import create_department, create_service
from tests.wfa_support import report_due


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start:html.index("</section>", start)]


def test_the_trend_legend_shows_the_colours_of_its_bars(client, app):
    today = wib_date(utc_now())
    department = create_department(code="bapenda")
    service = create_service(code="moved", department=department, work_mode="wfa",
                             work_mode_since=today - timedelta(days=30))
    report_due(service, today - timedelta(days=50), on_time=8, late=2)
    report_due(service, today - timedelta(days=10), on_time=5, late=5)
    section = _section(_page(client, "/en/services/moved"), "trend-title")
    svg = re.search(r"<svg.*?</svg>", section, re.S).group(0)
    legend = re.search(r'<ul class="chart-legend">.*?</ul>', section, re.S).group(0)
    bar_colours = set(re.findall(r'class="bar-(before|after)"', svg))
    assert bar_colours == {"before", "after"}
    swatches = set(re.findall(r'class="swatch swatch-(\w+)"', legend))
    # Every colour drawn has its swatch; no swatch of a colour the chart does not draw.
    assert {f"{c}" for c in bar_colours} <= swatches
    assert not swatches & {"ok", "warn"}
    assert "Lighter bars: the weeks before the change of work mode." in legend
    assert "Darker bars: the weeks from the change of work mode on." in legend


def test_both_charts_show_a_scale_from_0_to_100_percent(client, app):
    today = wib_date(utc_now())
    service = create_service(code="loket", work_mode="wfa",
                             work_mode_since=today - timedelta(days=30))
    report_due(service, today - timedelta(days=3), on_time=9, late=1)
    html = _page(client, "/en/services/loket")
    for heading in ("daily-title", "trend-title"):
        section = _section(html, heading)
        axis = re.search(r'<p class="chart-y-axis" aria-hidden="true">(.*?)</p>', section)
        assert re.findall(r"<span>(.*?)</span>", axis.group(1)) == ["100%", "50%", "0%"]
        # Gridlines at the top, the middle and the bottom of the plot.
        assert len(re.findall(r'<line class="grid-line"', section)) == 3
    html = _page(client, "/id/services/loket")
    axis = re.search(r'<p class="chart-y-axis" aria-hidden="true">(.*?)</p>', html).group(1)
    assert "<span>50%</span>" in axis


# The bars and the tables' rows are rendered in Python, one string each; they must be what
# the template's loops rendered (these are those loops, kept here as the reference).
_BARS_LOOP = (
    "{% for b in chart.bars %}<rect x=\"{{ b.x }}\" y=\"{{ b.y|round(1) }}\" "
    "width=\"{{ b.width }}\" height=\"{{ b.height|round(1) }}\" class=\"{{ b.css }}\""
    "{% if b.css == 'bar-none' %} fill=\"url(#{{ id }}-hatch)\"{% endif %}>"
    "<title>{{ b.label }}</title></rect>{% endfor %}"
)
# The bar_chart macro that rendered a chart's plot before plot_svg (chart_bars: bars_svg).
_PLOT_MACRO = (
    "{% macro bar_chart(chart, id, title, desc) -%}\n{%- set scale = chart.scale() -%}\n"
    "<div class=\"chart-plot\">\n<p class=\"chart-y-axis\" aria-hidden=\"true\">"
    "{% for _y, label in scale %}<span>{{ label }}</span>{% endfor %}</p>\n"
    "<svg class=\"chart\" viewBox=\"0 0 {{ chart.width }} {{ chart.height }}\" "
    "preserveAspectRatio=\"none\" role=\"img\" aria-labelledby=\"{{ id }}-title "
    "{{ id }}-desc\" focusable=\"false\">\n<title id=\"{{ id }}-title\">{{ title }}</title>\n"
    "<desc id=\"{{ id }}-desc\">{{ desc }}</desc>\n<defs><pattern id=\"{{ id }}-hatch\" "
    "width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
    "<rect width=\"4\" height=\"4\" fill=\"#ffffff\"/><line x1=\"0\" y1=\"0\" x2=\"0\" "
    "y2=\"4\" stroke=\"#6b7280\" stroke-width=\"1.5\"/></pattern></defs>\n"
    "{% for y, _label in scale %}<line class=\"grid-line\" x1=\"0\" x2=\"{{ chart.width }}\" "
    "y1=\"{{ y }}\" y2=\"{{ y }}\" vector-effect=\"non-scaling-stroke\"/>{% endfor %}\n"
    "{{ chart_bars(chart, id) }}\n<line class=\"target-line\" x1=\"0\" x2=\"{{ chart.width }}\" "
    "y1=\"{{ chart.target_y|round(1) }}\" y2=\"{{ chart.target_y|round(1) }}\" "
    "vector-effect=\"non-scaling-stroke\"/>\n{% if chart.marker_x is not none %}"
    "<line class=\"move-line\" x1=\"{{ chart.marker_x }}\" x2=\"{{ chart.marker_x }}\" "
    "y1=\"0\" y2=\"{{ chart.height }}\" vector-effect=\"non-scaling-stroke\"/>{% endif %}\n"
    "</svg>\n</div>\n{%- endmacro %}{{ bar_chart(chart, id, title, desc) }}"
)
# The service page's figures table as its template rendered it (service_page._figure_rows now).
_FIGURE_ROWS_LOOPS = "\n      ".join([
    '<tr><th scope="row">{{ _("Requests received") }}</th>{% for w in figures.windows %}<'
    'td class="num">{{ w.received|number }}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("Requests completed") }}</th>{% for w in figures.windows %}'
    '<td class="num">{{ w.completed|number }}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("Requests due (deadline passed)") }}</th>{% for w in figure'
    's.windows %}<td class="num">{{ w.due|number }}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("Completed on time, of those due") }}</th>{% for w in figur'
    'es.windows %}<td class="num">{{ rate_against_target(w.on_time_rate, service.on_time_'
    'target) if w.on_time_rate is not none else rate_text(None) }}{% if w.due %} <span cl'
    'ass="muted">{{ _("(%(on_time)s of %(due)s)", on_time=w.on_time|number, due=w.due|num'
    'ber) }}</span>{% endif %}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("Late, of those due") }}</th>{% for w in figures.windows %}'
    '<td class="num">{{ w.late|number }}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("Late and still open") }}</th>{% for w in figures.windows %'
    '}<td class="num">{{ w.late_open|number }}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("Median completion time") }}</th>{% for w in figures.window'
    's %}<td class="num">{{ duration_text(w.median_completion_hours) }}</td>{% endfor %}<'
    '/tr>',
    '<tr><th scope="row">{{ _("Completion time of 9 requests in 10 (90th percentile)") }}'
    '</th>{% for w in figures.windows %}<td class="num">{{ duration_text(w.p90_completion'
    '_hours) }}</td>{% endfor %}</tr>',
    '<tr><th scope="row">{{ _("First response on time") }}</th>{% for w in figures.window'
    's %}<td class="num">{{ rate_text(w.first_response_on_time_rate) }}</td>{% endfor %}<'
    '/tr>',
    '<tr><th scope="row">{{ _("Requests received online (digital share)") }}</th>{% for w'
    ' in figures.windows %}<td class="num">{{ rate_text(w.digital_share) }}</td>{% endfor'
    ' %}</tr>',
    '{% if service.online_url %}<tr><th scope="row">{{ _("Online channel availability") }'
    '}</th>{% for w in figures.windows %}<td class="num">{{ rate_text(w.availability) }}<'
    '/td>{% endfor %}</tr>{% endif %}',
])
_DAY_ROWS_LOOP = (
    "{% for day, due, on_time, rate in rows %}<tr><th scope=\"row\">{{ day }}</th>"
    "<td class=\"num\">{{ due }}</td><td class=\"num\">{{ on_time }}</td>"
    "<td class=\"num\">{{ rate }}</td></tr>{% endfor %}"
)
_WEEK_ROWS_LOOP = (
    "{% for week, mode, due, on_time, rate in rows %}<tr><th scope=\"row\">{{ week }}</th>"
    "<td>{{ mode }}</td><td class=\"num\">{{ due }}</td><td class=\"num\">{{ on_time }}</td>"
    "<td class=\"num\">{{ rate }}</td></tr>{% endfor %}"
)


def _points() -> list[DayPoint]:
    """Days with every kind of bar: none due, every rate band, odd fractions, a tiny rate."""
    start = date(2026, 1, 1)
    figures = [(0, 0), (3, 3), (7, 6), (9, 7), (3, 1), (1000, 1), (7, 0), (11, 10)]
    return [DayPoint(day=start + timedelta(days=i), received=due, completed=due, due=due,
                     on_time=on_time, on_time_rate=on_time / due if due else None)
            for i, (due, on_time) in enumerate(figures)]


def test_bars_in_one_string_are_the_template_loops_bars(app):
    points = _points()
    trend = WfaTrend(mode="wfa", moved_on=points[3].day, starts_after_move=False, weeks=[
        TrendWeek(p.day, p.day + timedelta(days=6), p.due, p.on_time, p.on_time_rate,
                  after_move=i >= 3) for i, p in enumerate(points)])
    with app.test_request_context("/en/"):
        for chart in (charts.daily_bar(points, 0.9, lambda p: f"{p.day} <&> \"{p.due}\""),
                      charts.trend_chart(trend, 0.85, lambda w: f"{w.first_day}: 'x'")):
            expected = render_template_string(_BARS_LOOP, chart=chart, id="c-1")
            assert str(charts.bars_svg(chart, "c-1")) == expected
            # A hatched bar, and the sentences escaped.
            assert "bar-none" in expected
            assert "<&>" not in expected and "'x'" not in expected


def test_a_plot_in_one_string_is_the_macros_plot(app):
    points = _points()
    trend = WfaTrend(mode="hybrid", moved_on=points[3].day, starts_after_move=False, weeks=[
        TrendWeek(p.day, p.day + timedelta(days=6), p.due, p.on_time, p.on_time_rate,
                  after_move=i >= 3) for i, p in enumerate(points)])
    plots = [charts.daily_bar(points, 0.9, lambda p: f"{p.day} <&>"),
             charts.trend_chart(trend, 0.85, lambda w: str(w.first_day)),
             charts.daily_bar(points[:1], 1 / 3, str)]
    for lang in ("en", "id"):
        with app.test_request_context(f"/{lang}/"):
            app.preprocess_request()
            for chart in plots:
                for title, desc, chart_id in [("Daily <b>", "Of 8 days & 'x'", "daily-chart"),
                                              ("T", "D", 'a"b')]:
                    expected = render_template_string(
                        _PLOT_MACRO, chart=chart, id=chart_id, title=title, desc=desc,
                        chart_bars=charts.bars_svg)
                    assert str(charts.plot_svg(chart, chart_id, title, desc)) == expected
    # The move marker is drawn where the trend has one, and the texts are escaped.
    assert 'class="move-line"' in str(charts.plot_svg(plots[1], "t", "T", "D"))
    assert 'class="move-line"' not in str(charts.plot_svg(plots[0], "t", "T", "D"))
    assert "Daily &lt;b&gt;" in str(charts.plot_svg(plots[0], "t", "Daily <b>", "D"))


def test_table_rows_in_one_string_are_the_template_loops_rows(app):
    days = [("1 Januari 2026", 3, 2, "66,7%"), ("<b>&", 0, 0, "—")]
    weeks = [("1 to 7 January", "WFA", 3, 2, "66.7%"), ("x", "<i>Before</i>", 10, 10, "100%")]
    with app.test_request_context("/en/"):
        assert str(charts.table_rows(days)) == render_template_string(_DAY_ROWS_LOOP, rows=days)
        assert str(charts.table_rows(weeks, text_cells=1)) == render_template_string(
            _WEEK_ROWS_LOOP, rows=weeks)


def test_figure_rows_in_one_string_are_the_template_loops_rows(app):
    from types import SimpleNamespace

    from portal.i18n import page_gettext
    from portal.web.formatting import Formats
    from portal.web.public.service_page import _figure_rows

    empty = {"received": 0, "completed": 0, "due": 0, "on_time": 0, "on_time_rate": None,
             "late": 0, "late_open": 0, "median_completion_hours": None,
             "p90_completion_hours": None, "first_response_on_time_rate": None,
             "digital_share": None, "availability": None, "days": 30}
    window_sets = [
        [empty, {**empty, "received": 1234567, "completed": 3, "due": 3, "on_time": 2,
                 "on_time_rate": 2 / 3, "late": 1, "late_open": 1,
                 "median_completion_hours": 0.5, "p90_completion_hours": 49.26,
                 "first_response_on_time_rate": 0.89999, "digital_share": 0.123456,
                 "availability": 1.0, "days": 90}],
        [{**empty, "due": 12345, "on_time": 11106, "on_time_rate": 11106 / 12345,
          "median_completion_hours": 1.0, "p90_completion_hours": 24.0}],
    ]
    for lang in ("id", "en"):
        with app.test_request_context(f"/{lang}/"):
            app.preprocess_request()
            for windows in window_sets:
                for target, online in [(0.9, True), (0.9, False), (0.95, True)]:
                    service = SimpleNamespace(on_time_target=target,
                                              online_url="https://x.example" if online else None)
                    expected = render_template_string(
                        _FIGURE_ROWS_LOOPS, figures=SimpleNamespace(windows=windows),
                        service=service, **page_gettext())
                    assert str(_figure_rows(windows, target, online, Formats())) == expected
