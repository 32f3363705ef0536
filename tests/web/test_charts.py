"""The service page's charts (portal/web/charts.py): a labelled scale, legends that match,
bars and table rows rendered in Python as the template's loops rendered them."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import render_template_string

from portal.domain.calendar import utc_now, wib_date
from portal.services.catalogue.public_figures import TrendWeek, WfaTrend
from portal.services.metrics.figures import DayPoint
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


def test_table_rows_in_one_string_are_the_template_loops_rows(app):
    days = [("1 Januari 2026", 3, 2, "66,7%"), ("<b>&", 0, 0, "—")]
    weeks = [("1 to 7 January", "WFA", 3, 2, "66.7%"), ("x", "<i>Before</i>", 10, 10, "100%")]
    with app.test_request_context("/en/"):
        assert str(charts.table_rows(days)) == render_template_string(_DAY_ROWS_LOOP, rows=days)
        assert str(charts.table_rows(weeks, text_cells=1)) == render_template_string(
            _WEEK_ROWS_LOOP, rows=weeks)
