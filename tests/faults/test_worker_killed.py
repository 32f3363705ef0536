"""A worker is killed (SIGKILL) in the middle of storing a report: nothing of it is stored.

Gunicorn serves the portal on this run's database (SQLite or PostgreSQL); a department
sends its largest allowed report; once the worker has begun writing it, the worker is
killed. On PostgreSQL the test holds the daily figures' table locked against writes, so the
worker is caught for certain between writing the requests and writing their daily figures
(a report is stored in well under a second, too fast to be caught by polling alone); on
SQLite, whose locks cover the whole database, the test watches for the write journal.
No request, daily figure or report time of that batch may remain; gunicorn starts a new
worker, and the same report sent again is stored whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.domain.calendar import WIB, utc_now
from portal.extensions import db
from portal.models import ServiceDay, ServiceReport, ServiceRequest, ServiceStatus
from portal.services.auth import CLI_OPERATOR
from portal.services.metrics.tokens import token_create
from tests.conftest import fresh_database_url, make_test_config
from tests.factories import create_department, create_service
from tests.ops.support import fetch, start_gunicorn

TABLES = (ServiceRequest, ServiceDay, ServiceReport, ServiceStatus)
# A large report, stored in about a second on a slow machine: long enough to be interrupted.
BATCH = 1000


@pytest.fixture
def reporting_server(tmp_path):
    """Gunicorn (one worker, one thread) on a fresh database with a department and a token."""
    url = fresh_database_url("faults_ingest", tmp_path)
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        db.create_all()
        department = create_department(code="dinas-kependudukan")
        for number in range(4):
            create_service(department=department, code=f"izin-{number}")
        _token, plaintext = token_create("dinas-kependudukan", "faults", actor=CLI_OPERATOR)
        db.session.remove()
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "faults",
           "PORTAL_RATELIMIT_ENABLED": "0", "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads")}
    server = start_gunicorn(env, workers=1, threads=1)
    yield server, url, plaintext
    server.process.send_signal(signal.SIGINT)  # quick shutdown: no request is waited for
    server.stop()


def _batch() -> bytes:
    """A large report: BATCH requests over four services, two in three completed."""
    now = utc_now()
    requests = []
    for number in range(BATCH):
        received = now - timedelta(days=30, minutes=number * 7)
        item = {"service": f"izin-{number % 4}", "id": f"REQ-{number:05d}",
                "received_at": received.astimezone(WIB).isoformat(), "channel": "online"}
        if number % 3:
            item["completed_at"] = (received + timedelta(days=2)).astimezone(WIB).isoformat()
        requests.append(item)
    return json.dumps({"requests": requests}).encode()


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {model.__tablename__: connection.scalar(
                select(func.count()).select_from(model)) for model in TABLES}
    finally:
        engine.dispose()


def _worker_pid(master: int) -> int:
    """Return the pid of the gunicorn master's one worker."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            return int(entry.name)
    raise AssertionError("gunicorn has no worker")


@contextlib.contextmanager
def _watching(url: str) -> Iterator[Callable[[], bool]]:
    """Yield a function telling whether a transaction is writing the report (not committed).

    On PostgreSQL, the daily figures' table stays locked against writes (reads pass) while
    the block runs: a worker that has written the requests waits there, inside its
    transaction, until the block ends.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A rollback journal exists while a write transaction runs (and after a crash in one).
        journal = Path(f"{parsed.database}-journal")
        yield journal.exists
        return
    engine = create_engine(url)
    try:
        with engine.connect() as gate, engine.connect() as watcher:
            gate.execute(text("LOCK TABLE service_day IN EXCLUSIVE MODE"))
            query = text(
                "SELECT count(*) FROM pg_locks WHERE relation = 'service_request'::regclass "
                "AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()")

            def writing() -> bool:
                with watcher.begin():
                    return bool(watcher.scalar(query))

            yield writing
            gate.rollback()
    finally:
        engine.dispose()


def test_a_worker_killed_mid_report_leaves_no_partial_batch(reporting_server):
    server, url, token = reporting_server
    body = _batch()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    worker = _worker_pid(server.process.pid)
    answers: list[object] = []

    def send() -> None:
        request = urllib.request.Request(f"{server.base}/api/v1/service-requests", data=body,
                                         method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                answers.append(response.status)
        except urllib.error.HTTPError as error:
            answers.append(error.code)
        except (urllib.error.URLError, ConnectionError) as error:  # died with the worker
            answers.append(error)

    with _watching(url) as writing:
        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 60
        while not writing():
            assert not answers, f"the report finished before it could be interrupted: {answers}"
            assert time.monotonic() < deadline, "the worker never began writing the report"
            time.sleep(0.002)
        os.kill(worker, signal.SIGKILL)
        sender.join(timeout=30)

    # The client got no answer: the worker died inside the request, after writing began.
    assert answers and isinstance(answers[0], OSError), answers
    assert not isinstance(answers[0], TimeoutError)
    assert _counts(url) == {model.__tablename__: 0 for model in TABLES}

    # Gunicorn replaces the worker; the same report, sent again, is stored whole.
    status, answer, _headers = fetch(f"{server.base}/api/v1/service-requests", data=body,
                                     method="POST", headers=headers)
    assert status == 200, answer
    assert json.loads(answer) == {"created": BATCH, "updated": 0}
    counts = _counts(url)
    assert counts["service_request"] == BATCH
    assert counts["service_report"] == 4
