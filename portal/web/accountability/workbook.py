"""The accountability table as an Excel workbook for people: a DPRD secretariat opens it.

The CSV is the machine twin (codes, fractions, ISO dates; docs/accountability-export.md).
The workbook says the same figures for a reader, in the chosen language: translated headers
with their units, percentages as numbers formatted as percentages (so a spreadsheet in any
language shows its own decimal mark), differences in percentage points, dates as dates,
verdicts and statuses in words, a frozen header row and name column, column widths, and an
"about" sheet with the period and the definition of every column, in the words of the page
"How we measure" (its template is rendered and read, so the two never drift apart).

A workbook costs about 20 ms to write at province scale (XlsxWriter's cells and its zip), and
the same standard period is downloaded again and again until its figures are stored anew: the
last workbooks made are kept in the process under the digest of everything they show (the
figures, the language, the period, the commission, the source address), so that changed
figures are never answered from a kept file.

Texts never become formulas: every text cell is written as a string (a department named
``=HYPERLINK(...)`` stays that text), whatever it starts with.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from html.parser import HTMLParser
from types import MappingProxyType
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.models.metrics import SERVICE_STATUSES
from portal.web.accountability.pages import definitions_rendered
from portal.web.accountability.present import verdict_label
from portal.web.labels import service_status_label

# Number formats; the locale prefix makes month names follow the chosen language
# (LCID 0x421 Indonesian, 0x809 English, United Kingdom) in Excel and LibreOffice alike.
INTEGER = "#,##0"
RATE = "0.0%"
POINTS = "+0.0;-0.0;0.0"
DECIMAL_1 = "0.0"
DECIMAL_2 = "0.00"
_LCID = {"id": "[$-421]", "en": "[$-809]"}

REASON_LABELS = {
    "partial_history": _l("The reports do not cover the whole period before the move."),
    "too_few_requests": _l("Too few requests fell due for a verdict."),
    "no_service_with_verdict": _l("No service that moved has enough data for a verdict."),
    "no_verdict": _l("There is no verdict before adjustment."),
    "no_comparison_group": _l("No services stayed on-site over the same weeks with enough "
                              "data."),
    "different_change_dates": _l("The services moved on different dates."),
}


def reason_label(reason: str | None) -> str | None:
    """Say in words why a figure has no verdict (None when it has one)."""
    return None if reason is None else str(REASON_LABELS.get(reason, reason))


@dataclass(frozen=True)
class Column:
    """One column of the data sheet: header, how to read its value, format, width, meaning."""

    label: Any  # a lazy string: translated when the workbook is written
    read: Callable[[dict], Any]
    kind: str = "text"  # text, integer, rate, points, decimal1, decimal2, date, datetime
    width: int = 14
    # The anchor of its definition on "How we measure" (the about sheet quotes it).
    definition: str | None = None
    # Says a code in words (a verdict, a reason): said once per workbook and code.
    words: Callable[[Any], Any] | None = None


def _get(*path: str) -> Callable[[dict], Any]:
    """Read a value of a JSON row by its path; None where a part is missing."""
    if len(path) == 1:  # most columns: a plain look-up, the innermost loop of the sheet
        return lambda row: row.get(path[0])

    def read(row: dict) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value
    return read


def _points(*path: str) -> Callable[[dict], Any]:
    """Read a difference of rates (a fraction) as percentage points."""
    fraction = _get(*path)

    def read(row: dict) -> Any:
        value = fraction(row)
        return None if value is None else round(value * 100, 2)
    return read


def _day(*path: str) -> Callable[[dict], Any]:
    text = _get(*path)

    def read(row: dict) -> Any:
        value = text(row)
        return None if not value else date.fromisoformat(value)
    return read


def _status_column(status: str) -> Column:
    return Column(_l("Services with status “%(status)s”", status=_StatusName(status)),
                  _get("status_counts", status), "integer", 16, "status")


class _StatusName:
    """A status's name, translated when the header is written (not at import)."""

    def __init__(self, status: str) -> None:
        self.status = status

    def __str__(self) -> str:
        return service_status_label(self.status)


COLUMNS: list[Column] = [
    Column(_l("Code"), _get("code"), width=12),
    Column(_l("Department"), _get("name"), width=44),
    Column(_l("DPRD commission"), _get("dprd_commission"), width=12, definition="commission"),
    Column(_l("Services"), _get("services"), "integer", 10, "work-mode"),
    Column(_l("On-site services"), _get("services_by_work_mode", "onsite"), "integer", 10,
           "work-mode"),
    Column(_l("Hybrid services"), _get("services_by_work_mode", "hybrid"), "integer", 10,
           "work-mode"),
    Column(_l("WFA services"), _get("services_by_work_mode", "wfa"), "integer", 10,
           "work-mode"),
    Column(_l("Requests completed"), _get("completed"), "integer", 12, "completed"),
    Column(_l("Requests due"), _get("due"), "integer", 12, "due"),
    Column(_l("Requests due completed on time"), _get("on_time"), "integer", 14, "on-time"),
    Column(_l("On time (%)"), _get("on_time_rate"), "rate", 11, "on-time"),
    Column(_l("Median hours"), _get("median_completion_hours"), "decimal1", 11,
           "median-hours"),
    *[_status_column(status) for status in SERVICE_STATUSES],
    Column(_l("Services breaching their commitment today"), _get("breaching_names"),
           width=36, definition="breaching"),
    Column(_l("Feedback submitted"), _get("feedback", "submitted"), "integer", 12,
           "fb-submitted"),
    Column(_l("Feedback routed"), _get("feedback", "routed"), "integer", 12, "fb-routed"),
    Column(_l("First response on time (%)"), _get("feedback", "first_response_on_time_rate"),
           "rate", 13, "fb-first-response"),
    Column(_l("Median days to first response"),
           _get("feedback", "median_days_to_first_response"), "decimal1", 13,
           "fb-median-days"),
    Column(_l("Resolved on time (%)"), _get("feedback", "resolved_on_time_rate"), "rate", 13,
           "fb-resolved"),
    Column(_l("Feedback overdue now"), _get("feedback", "overdue_now"), "integer", 12,
           "fb-overdue"),
    Column(_l("Transfers"), _get("feedback", "transfers"), "integer", 10, "fb-transfers"),
    Column(_l("Reopen rate (%)"), _get("feedback", "reopen_rate"), "rate", 11, "fb-reopen"),
    Column(_l("Survey respondents"), _get("ikm", "responses"), "integer", 12, "ikm"),
    Column(_l("Satisfaction (IKM)"), _get("ikm", "ikm"), "decimal2", 12, "ikm"),
    Column(_l("IKM grade"), _get("ikm", "grade"), width=8, definition="ikm"),
    Column(_l("WFA: services with a verdict, added up"), _get("wfa_impact", "services"),
           "integer", 14, "pooled"),
    Column(_l("WFA: services that moved"), _get("wfa_impact", "services_moved"), "integer",
           12, "pooled"),
    Column(_l("WFA: date of the move"), _day("wfa_impact", "change_date"), "date", 16,
           "wfa-impact"),
    Column(_l("WFA: requests due before"), _get("wfa_impact", "before", "due"), "integer", 12,
           "wfa-impact"),
    Column(_l("WFA: on time before (%)"), _get("wfa_impact", "before", "on_time_rate"),
           "rate", 12, "wfa-impact"),
    Column(_l("WFA: requests due after"), _get("wfa_impact", "after", "due"), "integer", 12,
           "wfa-impact"),
    Column(_l("WFA: on time after (%)"), _get("wfa_impact", "after", "on_time_rate"), "rate",
           12, "wfa-impact"),
    Column(_l("WFA: median hours before"),
           _get("wfa_impact", "before", "median_completion_hours"), "decimal1", 12,
           "median-hours"),
    Column(_l("WFA: median hours after"),
           _get("wfa_impact", "after", "median_completion_hours"), "decimal1", 12,
           "median-hours"),
    Column(_l("WFA: change (percentage points)"), _points("wfa_impact", "difference"),
           "points", 13, "wfa-impact"),
    Column(_l("WFA: 95 percent confidence interval, low (points)"), _points("wfa_impact", "ci_low"),
           "points", 14, "confidence-interval"),
    Column(_l("WFA: 95 percent confidence interval, high (points)"),
           _points("wfa_impact", "ci_high"), "points", 14, "confidence-interval"),
    Column(_l("WFA: verdict"), _get("wfa_impact", "verdict"), width=24,
           definition="confidence-interval", words=verdict_label),
    Column(_l("WFA: why there is no verdict"), _get("wfa_impact", "verdict_reason"), width=30,
           definition="not-enough-data", words=reason_label),
    Column(_l("WFA: services that stayed on-site (comparison group)"),
           _get("comparison_text"), width=30, definition="comparison-group"),
    Column(_l("WFA: their change (percentage points)"),
           _points("wfa_impact", "comparison", "difference"), "points", 13,
           "comparison-group"),
    Column(_l("WFA: net change (percentage points)"), _points("wfa_impact", "net_difference"),
           "points", 13, "net-difference"),
    Column(_l("WFA: net change, 95 percent confidence interval, low (points)"),
           _points("wfa_impact", "net_ci_low"), "points", 14, "net-difference"),
    Column(_l("WFA: net change, 95 percent confidence interval, high (points)"),
           _points("wfa_impact", "net_ci_high"), "points", 14, "net-difference"),
    Column(_l("WFA: adjusted verdict"), _get("wfa_impact", "adjusted_verdict"), width=24,
           definition="net-difference", words=verdict_label),
    Column(_l("WFA: why there is no adjusted verdict"),
           _get("wfa_impact", "adjusted_verdict_reason"), width=30,
           definition="net-difference", words=reason_label),
]


@lru_cache(maxsize=8)
def _column_labels(_lang: str) -> tuple[str, ...]:
    """Return the columns' headers in the active language (given as the key): translated
    once per language and process (55 gettext calls, 0.6 ms a workbook otherwise)."""
    return tuple(str(column.label) for column in COLUMNS)


def _number_format(kind: str, lang: str) -> str | None:
    lcid = _LCID.get(lang, "")
    return {
        "integer": INTEGER, "rate": RATE, "points": POINTS, "decimal1": DECIMAL_1,
        "decimal2": DECIMAL_2, "date": f"{lcid}d mmmm yyyy",
        "datetime": f"{lcid}d mmmm yyyy hh:mm",
    }.get(kind)


class _DefinitionTexts(HTMLParser):
    """Collect the text of every element with an id on the "How we measure" template."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self.order: list[tuple[str, str]] = []  # (tag, text) of headings and paragraphs
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h2", "h3", "p", "li"):
            self._open.append((tag, dict(attrs).get("id"), []))

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            tag, anchor, parts = self._open.pop()
            text = " ".join("".join(parts).split())
            if anchor:
                self.texts[anchor] = text
            self.order.append((tag, text))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


@dataclass(frozen=True)
class Definitions:
    """The definitions of "How we measure" as texts: by anchor, and every heading and
    paragraph in their order (tag, text)."""

    texts: Mapping[str, str]
    order: tuple[tuple[str, str], ...]


def definition_texts(limits: dict) -> Definitions:
    """Read the definitions of "How we measure" as the pages render them, in the current
    language.

    The pages render them once per language (definitions_rendered); they are read once per
    rendering (2 ms a workbook otherwise), and the same rendering gives the same object.
    """
    return _definition_texts(definitions_rendered(limits))


@lru_cache(maxsize=8)
def _definition_texts(html: str) -> Definitions:
    parser = _DefinitionTexts()
    parser.feed(str(html))
    parser.close()
    return Definitions(MappingProxyType(dict(parser.texts)), tuple(parser.order))


def _when(text: str | None) -> datetime | None:
    """A WIB timestamp of the JSON as a spreadsheet date-time (WIB, without its offset)."""
    return None if not text else datetime.fromisoformat(text).replace(tzinfo=None)


class _Sheet:
    """One worksheet written with XlsxWriter: every value by its type, texts always as text
    (a name such as "=HYPERLINK(...)" is no formula), formats made once per workbook."""

    def __init__(self, workbook: Any, title: str, lang: str) -> None:
        self.workbook = workbook
        self.sheet = workbook.add_worksheet(title)
        self.lang = lang
        self._formats: dict[tuple, Any] = {}
        self.rows = 0

    def style(self, kind: str | None = None, bold: bool = False, wrap: bool = False) -> Any:
        """Return the format of a number kind (see _number_format), bold and wrapped or not."""
        key = (kind, bold, wrap)
        if key not in self._formats:
            options: dict[str, Any] = {}
            number_format = _number_format(kind, self.lang) if kind else None
            if number_format:
                options["num_format"] = number_format
            if bold:
                options["bold"] = True
            if wrap:
                options.update(text_wrap=True, valign="top")
            self._formats[key] = self.workbook.add_format(options) if options else None
        return self._formats[key]

    def write(self, column: int, value: Any, style: Any = None) -> None:
        """Write one cell of the current row by its value's type."""
        row = self.rows
        if value is None or value == "":  # an empty text is an empty cell
            if style is not None:
                self.sheet.write_blank(row, column, None, style)
        elif isinstance(value, str):
            self.sheet.write_string(row, column, value, style)
        elif isinstance(value, date):  # a datetime too
            self.sheet.write_datetime(row, column, value, style)
        else:
            self.sheet.write_number(row, column, value, style)

    def next_row(self) -> None:
        self.rows += 1


def _reader(column: Column) -> Callable[[dict], Any]:
    """Return how a column's cell is read from a row, its code said in words if it has one
    (each code once per workbook: a province has forty rows and four verdicts)."""
    if column.words is None:
        return column.read
    read, say = column.read, column.words
    said: dict[Any, str] = {}

    def read_words(row: dict) -> Any:
        value = read(row)
        if value is None:
            return None
        if value not in said:
            said[value] = str(say(value))
        return said[value]
    return read_words


def _figures_sheet(workbook: Any, body: dict, lang: str) -> None:
    """Write the data sheet: a header in words, one row per department, the province last."""
    sheet = _Sheet(workbook, _("Figures")[:31], lang)
    header = sheet.style(bold=True, wrap=True)
    for index, (column, label) in enumerate(zip(COLUMNS, _column_labels(lang), strict=True)):
        sheet.sheet.set_column(index, index, column.width)
        sheet.write(index, label, header)
    # Each column's style in a department's row and in the province's (bold) row.
    styles = {bold: [sheet.style(column.kind if _number_format(column.kind, lang) else None,
                                 bold, wrap=not _number_format(column.kind, lang)
                                 and column.width >= 30) for column in COLUMNS]
              for bold in (False, True)}
    readers = [_reader(column) for column in COLUMNS]
    rows = [*body["departments"], {**body["province"], "code": "", "name": _("Province")}]
    # The cells as _Sheet.write writes them, inlined: 2,000 cells at province scale.
    write_blank, write_string = sheet.sheet.write_blank, sheet.sheet.write_string
    write_datetime, write_number = sheet.sheet.write_datetime, sheet.sheet.write_number
    for number, row in enumerate(rows, start=1):
        row_styles = styles[number == len(rows)]  # the province's totals are bold
        for index, read in enumerate(readers):
            value, style = read(row), row_styles[index]
            if value is None or value == "":  # an empty text is an empty cell
                if style is not None:
                    write_blank(number, index, None, style)
            elif isinstance(value, str):
                write_string(number, index, value, style)
            elif isinstance(value, date):  # a datetime too
                write_datetime(number, index, value, style)
            else:
                write_number(number, index, value, style)
    sheet.sheet.freeze_panes(1, 2)  # the header row and the department's code and name


def _about_sheet(workbook: Any, body: dict, texts: Definitions, source: str,
                 lang: str) -> None:
    """Write the "about" sheet: the period, the source and every column's definition."""
    sheet = _Sheet(workbook, _("About")[:31], lang)
    lines: list[tuple[Any, Any]] = [
        (_("Accountability figures per department"), None),
        (_("Period from"), date.fromisoformat(body["from"])),
        (_("Period to (included)"), date.fromisoformat(body["to"])),
        (_("Data as of (WIB)"), _when(body["data_as_of"])),
        (_("Generated (WIB)"), _when(body["generated_at"])),
        (_("Departments shown"), _("Those overseen by DPRD commission %(commission)s",
                                   commission=body["commission"]) if body.get("commission")
         else _("All departments")),
        (_("Source"), source),
        (_("Definitions"), _("Every figure follows the rules of the page How we measure.")),
        (None, None),
        (_("Column"), _("What it means")),
    ]
    lines += [(label, texts.texts.get(column.definition or "", ""))
              for column, label in zip(COLUMNS, _column_labels(lang), strict=True)
              if column.definition]
    lines.append((None, None))
    for tag, text in texts.order:
        lines.append((text, None) if tag in ("h2", "h3") else (None, text))
    sheet.sheet.set_column(0, 0, 44)
    sheet.sheet.set_column(1, 1, 100)
    label_style = sheet.style(bold=True, wrap=True)
    for number, (label, value) in enumerate(lines):
        if number:
            sheet.next_row()
        sheet.write(0, label, label_style)
        if isinstance(value, datetime):
            sheet.write(1, value, sheet.style("datetime"))
        elif isinstance(value, date):
            sheet.write(1, value, sheet.style("date"))
        else:
            sheet.write(1, value, sheet.style(wrap=True))


# The workbooks made last, by the digest of what they show (see the module's docstring):
# about 25 KB each at province scale. The standard downloads (3 periods, 2 languages, all
# departments or one of 4 commissions) make 30.
KEEP_WORKBOOKS = 32
_kept: OrderedDict[str, tuple[Definitions, bytes]] = OrderedDict()
_kept_lock = threading.Lock()


def _refuse(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


def _content_digest(lang: str, source: str, limits: dict, body: dict) -> str | None:
    """Digest everything a workbook shows but the code's texts; None when the body holds a
    value JSON cannot spell exactly (such a workbook is written, never kept)."""
    try:
        content = json.dumps([lang, source, limits, body], separators=(",", ":"),
                             default=_refuse, check_circular=False)
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(content.encode()).hexdigest()


def accountability_workbook(body: dict, limits: dict, source: str) -> bytes:
    """Write the accountability JSON body as a workbook: the figures and an "about" sheet.

    ``body`` is the API's JSON (its department rows carry ``breaching_names`` and
    ``comparison_text`` for people); ``limits`` are the numbers the definitions name;
    ``source`` is the address the file came from. A workbook made for the same content (the
    same digest, and the same definitions: the code's texts) is answered as it was kept.
    """
    lang = str(get_locale() or "id")
    texts = definition_texts(limits)
    digest = _content_digest(lang, source, limits, body)
    if digest is not None:
        with _kept_lock:
            kept = _kept.get(digest)
            if kept is not None and kept[0] is texts:
                _kept.move_to_end(digest)
                return kept[1]
    workbook = _write_workbook(body, texts, source, lang)
    if digest is not None:
        with _kept_lock:
            _kept[digest] = (texts, workbook)
            _kept.move_to_end(digest)
            while len(_kept) > KEEP_WORKBOOKS:
                _kept.popitem(last=False)
    return workbook


def _write_workbook(body: dict, texts: Definitions, source: str, lang: str) -> bytes:
    """Write the workbook with XlsxWriter (about four times faster than building the same
    workbook with openpyxl, bench/README.md)."""
    import xlsxwriter  # loaded on the first download, not at every start

    out = io.BytesIO()
    # Texts are written as texts; XlsxWriter is told never to read one as anything else.
    workbook = xlsxwriter.Workbook(out, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False,
    })
    _figures_sheet(workbook, body, lang)
    _about_sheet(workbook, body, texts, source, lang)
    workbook.close()
    return out.getvalue()
