"""Commands for metrics: tokens create/list/revoke, requests import, status refresh."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import func, select

from portal.domain.calendar import WIB
from portal.extensions import db
from portal.models import ApiToken, CalendarDay, ServiceRequest, ServiceStatus
from portal.services.metrics.service_requests import service_requests_report
from portal.services.metrics.tokens import token_authenticate
from tests.factories import create_department, create_service


def test_tokens_create_prints_the_token_last_and_stores_only_its_hash(runner, caplog):
    create_department(code="dinas-a")
    with caplog.at_level(logging.INFO):
        result = runner.invoke(args=["tokens", "create", "dinas-a", "--label", "SIMPEL"])
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    token = token_authenticate(plaintext)
    assert token is not None and token.department.code == "dinas-a"
    assert plaintext not in {t.token_hash for t in db.session.scalars(select(ApiToken))}
    assert plaintext not in caplog.text
    assert f"api token {token.id} created" in caplog.text


def test_tokens_create_for_an_unknown_department_fails(runner):
    result = runner.invoke(args=["tokens", "create", "nope"])
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_tokens_list_shows_ids_never_values_and_revoke_stops_the_token(runner):
    create_department(code="dinas-a")
    plaintext = runner.invoke(args=["tokens", "create", "dinas-a"]).output.strip().splitlines()[-1]
    token_id = token_authenticate(plaintext).id
    listing = runner.invoke(args=["tokens", "list"])
    assert listing.output.startswith(f"{token_id}\tdinas-a\tactive")
    assert plaintext not in listing.output
    result = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert result.exit_code == 0
    assert token_authenticate(plaintext) is None
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    assert runner.invoke(args=["tokens", "revoke", "999"]).exit_code == 1


def test_requests_import_prints_bad_rows_and_stores_nothing(runner, tmp_path):
    service = create_service()
    path = tmp_path / "requests.csv"
    path.write_text(
        "service,id,received_at,first_response_at,completed_at,channel\n"
        f"{service.code},a,2025-09-01T09:00:00+07:00,,,online\n"
        f"{service.code},b,2025-09-01T09:00:00,,,online\n"
        f"{service.code},c,2025-09-01T09:00:00+07:00,,,fax\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["requests", "import", str(path), "--department",
                                 service.department.code])
    assert result.exit_code == 1
    assert "line 3: received_at" in result.output
    assert "line 4: channel" in result.output
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_requests_import_stores_a_good_file(runner, tmp_path):
    service = create_service()
    path = tmp_path / "requests.csv"
    path.write_text(
        "service,id,received_at,first_response_at,completed_at,channel\n"
        f"{service.code},a,2025-09-01T09:00:00+07:00,,2025-09-02T09:00:00+07:00,online\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["requests", "import", str(path), "--department",
                                 service.department.code])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output


def test_status_refresh_evaluates_every_service(runner):
    create_service()
    create_service()
    result = runner.invoke(args=["status", "refresh"])
    assert result.exit_code == 0
    assert "2 services" in result.output
    statuses = list(db.session.scalars(select(ServiceStatus.status)))
    assert statuses == ["no_data", "no_data"]


def test_requests_recompute_follows_a_calendar_written_behind_the_services_back(runner):
    service = create_service(code="izin-a", commitment_value=1, commitment_unit="working_days")
    other = create_service(code="izin-b", commitment_value=1, commitment_unit="working_days")
    for s in (service, other):
        service_requests_report(s.department, {"requests": [{
            "service": s.code, "id": "r1",
            "received_at": datetime(2025, 7, 3, 10, tzinfo=WIB).isoformat(),
            "completed_at": datetime(2025, 7, 7, 11, tzinfo=WIB).isoformat()}]})
    db.session.add(CalendarDay(day=date(2025, 7, 4), is_working=False))  # e.g. a restore
    db.session.commit()
    result = runner.invoke(args=["requests", "recompute", "--service", "izin-a",
                                 "--since", "2025-07-01"])
    assert result.exit_code == 0, result.output
    assert "1 requests of 1 services read, 1 changed" in result.output
    deadlines = dict(db.session.execute(
        select(ServiceRequest.service_id, ServiceRequest.completion_deadline)).all())
    assert deadlines[service.id] == datetime(2025, 7, 8, tzinfo=WIB)
    assert deadlines[other.id] == datetime(2025, 7, 5, tzinfo=WIB)  # not asked for
    everything = runner.invoke(args=["requests", "recompute"])
    assert "2 requests of 2 services read, 1 changed" in everything.output
    unknown = runner.invoke(args=["requests", "recompute", "--service", "nope"])
    assert unknown.exit_code == 1 and "unknown service: nope" in unknown.output
