"""The service list and the department list read what they show in few statements: a page's
services with their statuses and the count in one, the departments with their services counted
by status and the oldest status's time in one. What they show is what the status reads give."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from portal.domain.calendar import UTC, utc_now
from portal.extensions import db
from portal.models import Service, ServiceReport, ServiceStatus
from portal.services.metrics.status import status_for_services, status_reason_text
from portal.web.api.answers import api_timestamp
from tests.factories import create_department, create_service

CARD = re.compile(r'<h2 class="card-title"><a href="/(?:id|en)/services/([a-z0-9-]+)">.*?'
                  r'<span class="badge status-([a-z_]+)">', re.S)


@pytest.fixture
def stored(app) -> dict[str, str]:
    """Services of two departments (and a third without services), each stored row with its
    data status as the evaluation writes it: {code: the status a reader sees}."""
    now = utc_now()
    recently, long_ago = now - timedelta(days=1), now - timedelta(days=9)
    revenue = create_department(code="bapenda", name_id="Badan Pendapatan",
                                name_en="Revenue Agency")
    health = create_department(code="dinkes", name_id="Dinas Kesehatan", name_en="Health Office")
    create_department(code="arsip", name_id="Dinas Arsip", name_en="Archives Office")
    # code: (department, stored data status, last report, computed minutes ago)
    rows = {
        "akta": (revenue, "meeting", recently, 5),
        "bea": (revenue, "breaching", recently, 90),
        "cuti": (revenue, "meeting", long_ago, 5),  # silent since: no data
        "dana": (health, "at_risk", recently, 5),
        "efek": (health, "breaching", recently, 5),
        "faskes": (health, None, None, None),  # never evaluated
    }
    for code, (department, data_status, reported, minutes) in rows.items():
        service = create_service(department=department, code=code, name_id=code.title(),
                                 name_en=code.title())
        if data_status is not None:
            params = {"n": 12, "rate": 0.9, "target": 0.9, "data_status": data_status}
            db.session.add(ServiceStatus(
                service_id=service.id, status=data_status,
                computed_at=now - timedelta(minutes=minutes),
                reason_params=json.dumps(params), metrics=json.dumps({"due": 12}),
                data_status=data_status))
        if reported is not None:
            db.session.add(ServiceReport(service_id=service.id, last_reported_at=reported))
    db.session.commit()
    return {"akta": "meeting", "bea": "breaching", "cuti": "no_data", "dana": "at_risk",
            "efek": "breaching", "faskes": "no_data"}


def _get(client, path: str, data_version: bool = True):
    """GET an answer; return it and the statements it ran (but the public data version's
    unless ``data_version``: read by every page with a live script, and telling the demo
    flag, from site_setting)."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if data_version or "FROM site_setting" not in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert response.status_code == 200, path
    return response, statements


def _read(client, path: str) -> tuple[str, list[str]]:
    """GET a page; return its HTML and the statements it ran, but the data version's."""
    response, statements = _get(client, path, data_version=False)
    return response.get_data(as_text=True), statements


@pytest.mark.parametrize("path", ["/id/services", "/en/services?per_page=2&page=2",
                                  "/id/services?department=dinkes"])
def test_a_page_of_the_list_is_read_with_its_statuses_and_count_in_one_statement(
        client, stored, path):
    html, statements = _read(client, path)
    # The page (its services, their statuses, the count), and the department filter's choices.
    assert len(statements) == 2, statements
    page = statements[0]
    assert "service_status.reason_params" in page and "count(*) OVER" in page
    assert "department.name_id" in page
    shown = dict(CARD.findall(html))
    assert shown and all(stored[code] == status for code, status in shown.items())


def test_the_list_shows_the_status_reads_statuses(client, stored):
    html, _ = _read(client, "/id/services")
    services = list(db.session.scalars(select(Service)))
    views = status_for_services([s.id for s in services])
    assert dict(CARD.findall(html)) == {s.code: views[s.id].status for s in services} == stored


@pytest.mark.parametrize(("status", "codes"), [
    ("breaching", ["bea", "efek"]), ("no_data", ["cuti", "faskes"]), ("disrupted", []),
])
def test_a_status_filter_reads_the_services_of_that_status_by_name_in_one_statement(
        client, stored, status, codes):
    html, statements = _read(client, f"/id/services?status={status}")
    # The services of the status by name, the page (none when empty), the filter's choices.
    assert len(statements) == (3 if codes else 2), statements
    assert [code for code, _status in CARD.findall(html)] == codes


def test_the_department_list_is_read_in_one_statement(client, stored):
    html, statements = _read(client, "/en/departments")
    assert len(statements) == 1, statements
    cards = re.findall(r'<a href="/en/departments/([a-z]+)">[^<]*</a></h2>\n'
                       r'    <p class="muted">([^<]*)</p>\n    (.*?)\n  </li>', html, re.S)
    # By name; a department without services is listed, with none counted.
    assert [(code, services) for code, services, _counts in cards] == [
        ("bapenda", "3 services"), ("arsip", "0 services"),
        ("dinkes", "3 services")]
    counts = {code: dict(re.findall(r'status-([a-z_]+)">[^<]*</span> '
                                    r'<span class="status-count">(\d+)', counted))
              for code, _services, counted in cards}
    assert counts == {"bapenda": {"meeting": "1", "breaching": "1", "no_data": "1"},
                      "arsip": {},
                      "dinkes": {"at_risk": "1", "breaching": "1", "no_data": "1"}}
    # Updated as of the least recently computed status.
    oldest = min(row.computed_at for row in db.session.scalars(select(ServiceStatus)))
    at = oldest.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    assert f'<time class="updated" datetime="{at}"' in html


def _read_json(client, path: str) -> tuple[dict, list[str]]:
    """GET an API answer; return its JSON and every statement it ran."""
    response, statements = _get(client, path)
    return response.get_json(), statements


def test_the_api_reads_a_page_of_services_with_their_statuses_in_one_statement(client, stored):
    body, statements = _read_json(client, "/api/v1/services?lang=en")
    assert len(statements) == 1, statements
    assert {s["code"]: s["status"] for s in body["services"]} == stored
    assert body["total"] == len(stored)


def test_the_api_filtered_by_status_chooses_then_reads_the_page_with_its_statuses(
        client, stored):
    body, statements = _read_json(client, "/api/v1/services?status=breaching&lang=en")
    # The ids shown with that status, then their page with its statuses.
    assert len(statements) == 2, statements
    assert [s["code"] for s in body["services"]] == ["bea", "efek"]
    assert {s["status"] for s in body["services"]} == {"breaching"}


@pytest.mark.parametrize("code", ["akta", "cuti", "faskes"])
def test_the_api_reads_one_service_with_its_status_in_one_statement(client, stored, code):
    body, statements = _read_json(client, f"/api/v1/services/{code}")
    assert len(statements) == 1, statements
    assert body["status"] == stored[code]
    # As the status read shows it: its reason and evaluation time too.
    service_id = db.session.scalar(select(Service.id).where(Service.code == code))
    view = status_for_services([service_id])[service_id]
    assert body["status_computed_at"] == api_timestamp(view.computed_at)
    assert body["status_reason"] == status_reason_text(view)
