"""The accountability workbook: a file made earlier is never answered for other figures or
another language (portal/web/accountability/workbook.py keeps the last ones it made)."""

from __future__ import annotations

import io

from flask import g
from flask_babel import refresh
from openpyxl import load_workbook

from portal.web.accountability.pages import DEFINITION_LIMITS
from portal.web.accountability.workbook import accountability_workbook

SOURCE = "https://pantau.example.go.id/api/v1/accountability.xlsx?period=30"


def _body(**department) -> dict:
    """The API's body of a one-department table; the same period and times every call."""
    row = {"code": "d1", "name": "Office One", "dprd_commission": None, "services": 2,
           "due": 7, "on_time": 3, "on_time_rate": 0.4286, **department}
    return {"from": "2026-11-01", "to": "2026-11-30", "commission": None,
            "data_as_of": "2026-11-30T10:00:00+07:00",
            "generated_at": "2026-11-30T10:05:00+07:00",
            "departments": [row],
            "province": {"services": 2, "due": 7, "on_time": 3, "on_time_rate": 0.4286}}


def _workbook(app, lang: str, body: dict, source: str = SOURCE):
    with app.test_request_context(f"/api/v1/accountability.xlsx?lang={lang}"):
        g.lang = lang
        refresh()
        return load_workbook(io.BytesIO(accountability_workbook(body, DEFINITION_LIMITS,
                                                                source)))


def _rows(workbook) -> dict:
    header, *rows = workbook.worksheets[0].iter_rows(values_only=True)
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_changed_figures_are_never_answered_with_a_workbook_made_before(app):
    first = _rows(_workbook(app, "en", _body()))
    assert (first["d1"]["Department"], first["d1"]["Requests due"]) == ("Office One", 7)
    # The same period, times and address: only a figure or a name differs.
    assert _rows(_workbook(app, "en", _body(due=8)))["d1"]["Requests due"] == 8
    renamed = _rows(_workbook(app, "en", _body(name="Office One and Two")))
    assert (renamed["d1"]["Department"], renamed["d1"]["Requests due"]) == (
        "Office One and Two", 7)
    # Another address is another file: the about sheet names where it came from.
    other = "https://pantau.example.go.id/api/v1/accountability.xlsx?period=30&lang=en"
    about = dict(_workbook(app, "en", _body(), other).worksheets[1].iter_rows(
        values_only=True))
    assert about["Source"] == other


def test_each_language_gets_its_headers_and_definitions_whatever_was_asked_before(app):
    for lang in ("en", "id", "en", "id"):
        workbook = _workbook(app, lang, _body())
        header = [cell.value for cell in workbook.worksheets[0][1]]
        about = dict(workbook.worksheets[1].iter_rows(values_only=True))
        if lang == "en":
            assert workbook.sheetnames == ["Figures", "About"]
            assert "Requests due" in header
            assert about["On time (%)"].startswith("On time: of the requests that fell due")
        else:
            assert workbook.sheetnames == ["Data kinerja", "Tentang"]
            assert "Permohonan yang jatuh tempo" in header
            assert about["Tepat waktu (%)"].startswith(
                "Tepat waktu: dari permohonan yang jatuh tempo")
