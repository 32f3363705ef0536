"""The service page's charts (portal/web/charts.py): a labelled scale, legends that match."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.domain.calendar import utc_now, wib_date
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
