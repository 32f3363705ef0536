"""Availability: real probes of loopback servers, and the ratio over a window minus maintenance."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from portal.domain.calendar import WIB, wib_midnight
from portal.extensions import db
from portal.models import AvailabilityCheck, User
from portal.services.metrics.availability import availability_for_service, checks_run, probe
from portal.services.metrics.incidents import maintenance_schedule
from tests.conftest import free_port
from tests.factories import create_service

ADMIN = User(username="admin", role="admin", department_id=None, is_active=True)
SHORT_TIMEOUT = 0.4
SLOW_SECONDS = 1.2


class _Handler(BaseHTTPRequestHandler):
    """Answer by path: /ok 200, /redirect 302, /error 500, /slow after a long pause."""

    def do_GET(self) -> None:  # the name http.server calls
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
        status = {"/ok": 200, "/redirect": 302, "/error": 500, "/slow": 200}.get(self.path, 404)
        self.send_response(status)
        if status == 302:
            # Following this would reach the failing page: a probe must stop at the 302.
            self.send_header("Location", "/error")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    """A real HTTP server on a free loopback port, for the duration of the module."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe loopback directly even where the environment names a proxy."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


# Probing real servers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "ok", "status_code", "error"),
    [
        ("/ok", True, 200, ""),
        ("/redirect", True, 302, ""),
        ("/error", False, 500, "HTTP 500"),
        ("/missing", False, 404, "HTTP 404"),
        ("/slow", False, None, "timeout"),
    ],
)
def test_probe_of_a_loopback_server(loopback, path, ok, status_code, error):
    result = probe(loopback + path, timeout=SHORT_TIMEOUT)

    assert (result.ok, result.status_code, result.error) == (ok, status_code, error)
    assert result.elapsed_ms is not None and result.elapsed_ms >= 0


def test_probe_of_a_closed_port_fails_as_refused():
    result = probe(f"http://127.0.0.1:{free_port()}/", timeout=SHORT_TIMEOUT)

    assert (result.ok, result.status_code, result.error) == (False, None, "connection refused")


def test_checks_run_probes_every_online_service_concurrently_and_stores_one_check_each(
    app, loopback
):
    urls = {
        "svc-ok": f"{loopback}/ok",
        "svc-redirect": f"{loopback}/redirect",
        "svc-error": f"{loopback}/error",
        "svc-slow": f"{loopback}/slow",
        "svc-slow-too": f"{loopback}/slow",
        "svc-closed": f"http://127.0.0.1:{free_port()}/",
    }
    services = {code: create_service(code=code, online_url=url) for code, url in urls.items()}
    counter_only = create_service(code="svc-counter", online_url="")
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)

    started = time.monotonic()
    summary = checks_run(timeout=SHORT_TIMEOUT, now=now)
    elapsed = time.monotonic() - started

    # Two slow probes one after the other would take at least twice the timeout.
    assert elapsed < 2 * SHORT_TIMEOUT + 0.3
    assert (summary.total, summary.succeeded, summary.failed) == (6, 2, 4)
    db.session.expire_all()
    stored = {
        check.service_id: check for check in db.session.scalars(select(AvailabilityCheck))
    }
    assert counter_only.id not in stored
    by_code = {code: stored[service.id] for code, service in services.items()}
    assert {code: (c.ok, c.status_code, c.error) for code, c in by_code.items()} == {
        "svc-ok": (True, 200, ""),
        "svc-redirect": (True, 302, ""),
        "svc-error": (False, 500, "HTTP 500"),
        "svc-slow": (False, None, "timeout"),
        "svc-slow-too": (False, None, "timeout"),
        "svc-closed": (False, None, "connection refused"),
    }
    assert {c.checked_at for c in by_code.values()} == {now}


def test_checks_run_without_online_services_stores_nothing(app):
    create_service(online_url="")

    summary = checks_run(timeout=SHORT_TIMEOUT)

    assert summary.total == 0
    assert db.session.scalars(select(AvailabilityCheck)).all() == []


# The availability ratio -----------------------------------------------------------------------

DAY = date(2026, 3, 2)
START, END = wib_midnight(DAY), wib_midnight(DAY + timedelta(days=1))


def at_wib(day: date, hour: int, minute: int = 0) -> datetime:
    """Return an aware time given in WIB."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


def add_check(service, when: datetime, ok: bool) -> None:
    """Store one check result."""
    db.session.add(AvailabilityCheck(
        service_id=service.id, checked_at=when, ok=ok, status_code=200 if ok else 500,
        elapsed_ms=50, error="" if ok else "HTTP 500",
    ))
    db.session.commit()


@pytest.fixture
def day_of_checks(app):
    """A service with checks around 2 March 2026 (WIB) and a maintenance 10:00–12:00 WIB."""
    service = create_service(online_url="https://example.test/")
    neighbour = create_service(online_url="https://neighbour.test/")
    add_check(service, at_wib(DAY - timedelta(days=1), 23, 59), False)  # before the window
    add_check(service, at_wib(DAY, 0), True)  # at the window's start: counted
    add_check(service, at_wib(DAY, 6), True)
    add_check(service, at_wib(DAY, 8), False)  # in the neighbour's maintenance: still counted
    add_check(service, at_wib(DAY, 10), False)  # at maintenance start: excluded
    add_check(service, at_wib(DAY, 11), False)  # during maintenance: excluded
    add_check(service, at_wib(DAY, 12), True)  # at maintenance end: counted
    add_check(service, at_wib(DAY, 18), True)
    add_check(service, at_wib(DAY + timedelta(days=1), 0), False)  # at the window's end
    add_check(neighbour, at_wib(DAY, 9), False)
    maintenance_schedule(ADMIN, [service.code], at_wib(DAY, 10), at_wib(DAY, 12), "Pemeliharaan")
    maintenance_schedule(ADMIN, [neighbour.code], at_wib(DAY, 7), at_wib(DAY, 9, 30), "Lain")
    return service, neighbour


def test_availability_counts_the_window_and_excludes_declared_maintenance(day_of_checks):
    service, _ = day_of_checks

    # Counted: 00:00 ok, 06:00 ok, 08:00 failed, 12:00 ok, 18:00 ok -> 4 of 5.
    assert availability_for_service(service, START, END) == pytest.approx(4 / 5)
    assert availability_for_service(service.id, START, END) == pytest.approx(4 / 5)


def test_availability_window_boundaries(day_of_checks):
    service, _ = day_of_checks

    # From 1 March 23:59 WIB to 2 March 00:00 WIB: only the failed check of 23:59.
    assert availability_for_service(service, at_wib(DAY - timedelta(days=1), 23, 59), START) == 0
    # [2 March 12:00, 3 March 00:01) holds 12:00 ok, 18:00 ok and 3 March 00:00 failed.
    end = at_wib(DAY + timedelta(days=1), 0, 1)
    assert availability_for_service(service, at_wib(DAY, 12), end) == pytest.approx(2 / 3)


def test_availability_is_none_without_checks_or_when_all_fall_in_maintenance(day_of_checks):
    service, neighbour = day_of_checks

    assert availability_for_service(service, END + timedelta(days=1), END + timedelta(days=2)) \
        is None
    assert availability_for_service(service, at_wib(DAY, 10), at_wib(DAY, 12)) is None
    # The neighbour's only check (09:00) falls in its own maintenance (07:00–09:30).
    assert availability_for_service(neighbour, START, END) is None
