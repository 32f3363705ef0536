"""Geometry of the server-rendered SVG charts of the service page (no script, no library).

Bars encode the on-time rate by their height, so colour only repeats what the height says;
days or weeks without any completed request are drawn hatched at full height (never as a
0 % bar), and every chart has a table with the same figures, on the service's tables page
linked below the chart (portal/web/public/service_page.py service_tables).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal.services.metrics.figures import DayPoint
from portal.services.metrics.page_figures import TrendWeek, WfaTrend
from portal.services.metrics.status import AT_RISK_MARGIN
from portal.web.formatting import rate_text

PLOT_TOP = 2
PLOT_HEIGHT = 100
CHART_HEIGHT = PLOT_TOP * 2 + PLOT_HEIGHT
_EPSILON = 1e-9


class Bar(NamedTuple):
    """One bar: its box in chart units, its CSS class and its tooltip sentence.

    A named tuple: a chart has up to 90 bars, made and read on every view of the page.
    """

    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


# The classes _bar gives (their text has nothing to escape).
_BAR_CLASSES = frozenset({"bar-ok", "bar-warn", "bar-bad", "bar-none", "bar-before",
                          "bar-after"})


@dataclass(frozen=True)
class Chart:
    """A bar chart ready for the template: viewBox size, bars, target line, move marker."""

    width: float
    height: float
    bars: list[Bar]
    target_y: float
    marker_x: float | None = None

    def scale(self) -> list[tuple[float, str]]:
        """Return the scale's gridlines, top to bottom: (y in chart units, label)."""
        return [(round(PLOT_TOP + PLOT_HEIGHT * (1 - share), 1), rate_text(share))
                for share in (1.0, 0.5, 0.0)]


def bars_svg(chart: Chart, chart_id: str) -> Markup:
    """Render a chart's bars as SVG rects with their tooltips, in one string.

    What the bar_chart macro's loop gave (heights and tops to 0.1 unit, a hatched bar filled
    with the chart's pattern), built once here: a chart has up to 90 bars. Their box is
    numbers, written as the template wrote them (a number's text has nothing to escape).
    """
    hatch = str(Markup(' fill="url(#{}-hatch)"').format(chart_id))
    # Each class's attributes written once a chart (a hatched bar's with its fill), not a bar.
    attributes = {css: f'class="{css}"{hatch if css == "bar-none" else ""}'
                  for css in _BAR_CLASSES}
    return Markup("".join([
        f'<rect x="{x}" y="{round(y, 1)}" width="{width}" height="{round(height, 1)}" '
        f'{attributes.get(css) or _class_attribute(css)}><title>{_escaped(label)}</title>'
        '</rect>'
        for x, y, width, height, css, label in chart.bars
    ]))


def _class_attribute(css: str) -> str:
    """Write the class attribute of a bar whose class is not one of _bar's."""
    return f'class="{escape(css)}"'


@lru_cache(maxsize=8192, typed=True)
def _escaped(label: str) -> str:
    """Escape a bar's tooltip sentence, memoised: a chart's sentences are memoised per
    language (portal/web/public/service_page.py), so the same few thousand recur. Typed: a
    sentence given as Markup is kept as it is, never taken for the same text escaped."""
    return str(escape(label))


def plot_svg(chart: Chart, chart_id: str, title: str, desc: str) -> Markup:
    """Render a chart's plot: its scale's labels, then the SVG with its title and description
    (what assistive technology reads), hatch pattern, gridlines, bars, target line and move
    marker, in one string.

    What the bar_chart macro rendered (tests/web/test_charts.py keeps it as the reference),
    built here: a macro call and its dozen expressions cost more than the markup. The
    numbers are written as the template wrote them; the texts are escaped.
    """
    scale = chart.scale()
    width, name = chart.width, escape(chart_id)
    labels = "".join(f"<span>{escape(label)}</span>" for _y, label in scale)
    grid = "".join(f'<line class="grid-line" x1="0" x2="{width}" y1="{y}" y2="{y}" '
                   'vector-effect="non-scaling-stroke"/>' for y, _label in scale)
    target = round(chart.target_y, 1)
    marker = ("" if chart.marker_x is None else
              f'<line class="move-line" x1="{chart.marker_x}" x2="{chart.marker_x}" y1="0" '
              f'y2="{chart.height}" vector-effect="non-scaling-stroke"/>')
    return Markup(
        f'<div class="chart-plot">\n<p class="chart-y-axis" aria-hidden="true">{labels}</p>\n'
        f'<svg class="chart" viewBox="0 0 {width} {chart.height}" preserveAspectRatio="none" '
        f'role="img" aria-labelledby="{name}-title {name}-desc" focusable="false">\n'
        f'<title id="{name}-title">{escape(title)}</title>\n'
        f'<desc id="{name}-desc">{escape(desc)}</desc>\n'
        f'<defs><pattern id="{name}-hatch" width="4" height="4" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" '
        'height="4" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="4" stroke="#6b7280" '
        'stroke-width="1.5"/></pattern></defs>\n'
        f'{grid}\n{bars_svg(chart, chart_id)}\n'
        f'<line class="target-line" x1="0" x2="{width}" y1="{target}" y2="{target}" '
        'vector-effect="non-scaling-stroke"/>\n'
        f'{marker}\n</svg>\n</div>')


def table_rows(rows: list[tuple], text_cells: int = 0) -> Markup:
    """Render the body rows of a chart's table in one string.

    Each row is (header, *cells): the header a row header, then ``text_cells`` plain cells,
    then right-aligned number cells (class "num"). A chart's table has up to 90 rows. Cells
    are escaped as the template escaped them, but for whole numbers (the counts), whose text
    has nothing to escape.
    """
    parts = []
    for header, *cells in rows:
        parts.append(f'<tr><th scope="row">{escape(header)}</th>')
        parts.extend(f"<td>{escape(cell)}</td>" for cell in cells[:text_cells])
        for cell in cells[text_cells:]:
            parts.append(f'<td class="num">{cell if type(cell) is int else escape(cell)}</td>')
        parts.append("</tr>")
    return Markup("".join(parts))


def level_class(rate: float | None, target: float) -> str:
    """Return the bar class of a rate: meets the target, at most 10 points below it, or lower."""
    if rate is None:
        return "bar-none"
    if rate >= target - _EPSILON:
        return "bar-ok"
    if rate >= target - AT_RISK_MARGIN - _EPSILON:
        return "bar-warn"
    return "bar-bad"


def _bar(x: float, width: float, rate: float | None, css: str, label: str) -> Bar:
    """Place a bar whose height is the rate (hatched at full height when there is none)."""
    if rate is None:
        return Bar(x, PLOT_TOP, width, PLOT_HEIGHT, "bar-none", label)
    height = max(2.0, rate * PLOT_HEIGHT)
    return Bar(x, PLOT_TOP + PLOT_HEIGHT - height, width, height, css, label)


def _target_y(target: float) -> float:
    return PLOT_TOP + PLOT_HEIGHT - target * PLOT_HEIGHT


def day_sentence(point: DayPoint) -> str:
    """Say one day's on-time figure as a sentence (tooltips)."""
    day = format_date(point.day, "d MMMM y")
    if not point.due:
        return _("%(date)s: no request fell due", date=day)
    return ngettext(
        "%(date)s: %(rate)s on time, of %(num)d request due",
        "%(date)s: %(rate)s on time, of %(num)d requests due",
        point.due, date=day, rate=rate_text(point.on_time_rate),
    )


def daily_bar(
    points: list[DayPoint], target: float, sentence: Callable[[DayPoint], str] = day_sentence
) -> Chart:
    """Lay out the status-page style bar: one bar per day, oldest on the left."""
    step, width = 10, 8
    bars = [
        _bar(i * step + 1, width, p.on_time_rate, level_class(p.on_time_rate, target),
             sentence(p))
        for i, p in enumerate(points)
    ]
    return Chart(len(points) * step, CHART_HEIGHT, bars, _target_y(target))


def week_sentence(week: TrendWeek) -> str:
    """Say one week's on-time figure as a sentence (tooltips)."""
    return ngettext(
        "%(start)s to %(end)s: %(rate)s on time, of %(num)d request due",
        "%(start)s to %(end)s: %(rate)s on time, of %(num)d requests due",
        week.due, start=format_date(week.first_day, "d MMMM y"),
        end=format_date(week.last_day, "d MMMM y"), rate=rate_text(week.on_time_rate),
    )


def trend_chart(
    trend: WfaTrend, target: float, sentence: Callable[[TrendWeek], str] = week_sentence
) -> Chart:
    """Lay out the weekly trend: bars before the move plain, after it solid, a line between."""
    step, width = 12, 9
    bars = []
    marker = None
    for i, week in enumerate(trend.weeks):
        if week.after_move and marker is None and not trend.starts_after_move:
            marker = i * step
        css = "bar-after" if week.after_move else "bar-before"
        bars.append(_bar(i * step + 1.5, width, week.on_time_rate, css, sentence(week)))
    return Chart(len(trend.weeks) * step, CHART_HEIGHT, bars, _target_y(target), marker)


def daily_summary(points: list[DayPoint], target: float) -> str:
    """Describe the daily bar in one sentence (the SVG's desc)."""
    with_data = [p for p in points if p.due]
    meeting = sum(1 for p in with_data if level_class(p.on_time_rate, target) == "bar-ok")
    return _(
        "Of the last %(days)d days, %(with_data)d had requests falling due; on %(meeting)d of "
        "them at least %(target)s of those were completed on time. The table linked below "
        "the chart gives each day.",
        days=len(points), with_data=len(with_data), meeting=meeting, target=rate_text(target),
    )


def trend_summary(trend: WfaTrend) -> str:
    """Describe the trend chart in one sentence (the SVG's desc)."""
    return _(
        "Weekly on-time rate from %(start)s to %(end)s; the service changed its work mode on "
        "%(date)s. The table linked below the chart gives each week.",
        start=format_date(trend.weeks[0].first_day, "d MMMM y"),
        end=format_date(trend.weeks[-1].last_day, "d MMMM y"),
        date=format_date(trend.moved_on, "d MMMM y"),
    )
