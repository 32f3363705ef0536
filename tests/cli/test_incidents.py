"""The incidents, maintenance and checks commands."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from portal.extensions import db
from portal.models import AvailabilityCheck, Incident, Maintenance
from portal.services.metrics.incidents import service_ids_disrupted_now
from tests.factories import create_service


def test_incidents_open_update_and_list(runner, app):
    service = create_service(code="samsat-pkb")

    opened = runner.invoke(args=[
        "incidents", "open", "--service", "samsat-pkb", "--impact", "major",
        "--title-id", "SAMSAT daring lambat", "--title-en", "Online SAMSAT slow",
        "--body-id", "Sedang diselidiki.", "--body-en", "Investigating.",
    ])

    assert opened.exit_code == 0, opened.output
    incident = db.session.scalar(select(Incident))
    assert f"incident {incident.id} opened (major) on samsat-pkb" in opened.output
    assert incident.created_by == "cli"
    assert service_ids_disrupted_now() == {service.id}

    listed = runner.invoke(args=["incidents", "list", "--open-only"])
    assert "SAMSAT daring lambat" in listed.output
    assert "1 incident(s)" in listed.output

    resolved = runner.invoke(args=[
        "incidents", "update", str(incident.id), "--state", "resolved",
        "--body-id", "Sudah pulih.", "--body-en", "Restored.",
    ])
    assert resolved.exit_code == 0, resolved.output
    assert service_ids_disrupted_now() == set()
    assert "0 incident(s)" in runner.invoke(args=["incidents", "list", "--open-only"]).output


def test_incidents_open_with_an_unknown_service_fails_and_writes_nothing(runner, app):
    result = runner.invoke(args=[
        "incidents", "open", "--service", "nope", "--impact", "major",
        "--title-id", "Judul", "--body-id", "Isi",
    ])

    assert result.exit_code == 1
    assert "nope" in result.output
    assert db.session.scalar(select(Incident)) is None


def test_incidents_update_of_an_unknown_incident_fails(runner, app):
    result = runner.invoke(args=[
        "incidents", "update", "999", "--state", "resolved", "--body-id", "Isi",
    ])

    assert result.exit_code == 1
    assert "not found" in result.output


def test_maintenance_add_stores_the_window_in_utc(runner, app):
    create_service(code="samsat-pkb")

    result = runner.invoke(args=[
        "maintenance", "add", "--service", "samsat-pkb", "--start", "2026-03-07T22:00+07:00",
        "--end", "2026-03-08T02:00+07:00", "--title-id", "Pemeliharaan",
        "--title-en", "Maintenance",
    ])

    assert result.exit_code == 0, result.output
    stored = db.session.scalar(select(Maintenance))
    assert (stored.starts_at, stored.ends_at) == (
        datetime(2026, 3, 7, 15, 0, tzinfo=UTC), datetime(2026, 3, 7, 19, 0, tzinfo=UTC)
    )
    assert "Pemeliharaan" in runner.invoke(args=["maintenance", "list"]).output


def test_maintenance_add_refuses_a_time_without_offset(runner, app):
    create_service(code="samsat-pkb")

    result = runner.invoke(args=[
        "maintenance", "add", "--service", "samsat-pkb", "--start", "2026-03-07T22:00",
        "--end", "2026-03-08T02:00+07:00", "--title-id", "Pemeliharaan",
    ])

    assert result.exit_code == 1
    assert "time zone offset" in result.output
    assert db.session.scalar(select(Maintenance)) is None


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


def test_checks_run_prints_a_summary(runner, app, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        create_service(code="svc-up", online_url=f"http://127.0.0.1:{server.server_port}/")
        create_service(code="svc-counter", online_url="")

        result = runner.invoke(args=["checks", "run", "--timeout", "2"])
    finally:
        server.shutdown()
        server.server_close()

    assert result.exit_code == 0, result.output
    assert "svc-up" in result.output
    assert result.output.strip().splitlines()[-1] == "1 checked, 1 succeeded, 0 failed"
    assert [c.ok for c in db.session.scalars(select(AvailabilityCheck))] == [True]
