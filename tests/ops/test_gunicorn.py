"""Under gunicorn: metrics add up every worker's, and the logs are JSON lines without codes."""

from __future__ import annotations

import os
import re
import runpy
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, fresh_database_url, run_flask
from tests.ops.support import fetch, start_gunicorn

CONF = ROOT / "gunicorn.conf.py"
HEALTHZ = frozenset({("endpoint", "root.healthz"), ("method", "GET"), ("status", "200")})


def _healthz_count(base: str) -> float:
    status, body, _headers = fetch(f"{base}/metrics")
    assert status == 200
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "portal_http_requests_total" and \
                    frozenset(sample.labels.items()) == HEALTHZ:
                return sample.value
    return 0.0


def _eventually(read, timeout: float = 5.0):
    """Return read()'s first truthy answer: a request is logged and counted just after its
    last byte left, so an instant after the client read it, not before."""
    deadline = time.monotonic() + timeout
    while True:
        answer = read()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_on_starting_gives_the_workers_a_fresh_folder_removed_on_exit(monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    hooks = runpy.run_path(str(CONF))
    hooks["on_starting"](None)
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert folder.is_dir() and list(folder.iterdir()) == []
    hooks["on_exit"](None)
    assert not folder.exists()


def test_a_configured_folder_is_emptied_of_the_last_run_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"old counts")
    (tmp_path / "README").write_text("not ours")
    hooks = runpy.run_path(str(CONF))
    hooks["on_starting"](None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README"]
    hooks["on_exit"](None)
    assert tmp_path.is_dir()


def test_a_dead_workers_live_gauges_go_and_its_counters_stay(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db",
                 "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")
    hooks = runpy.run_path(str(CONF))
    hooks["child_exit"](None, type("Worker", (), {"pid": 4242}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db",
                                                          "gauge_livesum_4343.db"]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    url = fresh_database_url("gunicorn_ops", tmp_path_factory.mktemp("gunicorn"))
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "ops-test",
           "PORTAL_VERSION": "v1.2.3-test"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("REDIS_URL", None)
    run_flask(env, "db", "upgrade")
    server = start_gunicorn(env, workers=2)
    yield server
    server.stop()


def test_metrics_add_up_every_workers_requests(two_workers):
    base = two_workers.base
    # The start-up check's request, counted an instant after it was answered.
    before = _eventually(lambda: _healthz_count(base))
    sent = 0
    pids: set = set()
    # Each request on a new connection, until both workers have answered some. On a loaded
    # machine the second worker may still be starting: keep asking for up to a minute,
    # pausing now and then so that an idle worker gets to accept a connection.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert fetch(f"{base}/healthz")[0] == 200
        sent += 1
        if sent % 20 == 0:
            pids = {line["pid"] for line in two_workers.log_lines()
                    if line.get("endpoint") == "root.healthz"}
            if len(pids) == 2:
                break
            time.sleep(0.2)
    assert len(pids) == 2, "one worker answered everything: the test proves nothing"
    assert _eventually(lambda: _healthz_count(base) - before == sent)
    # Whichever worker answers the scrape, it counts both workers' requests.
    assert [_healthz_count(base) - before for _ in range(4)] == [sent] * 4


def test_the_server_logs_json_lines_and_is_ready(two_workers):
    base = two_workers.base
    status, body, headers = fetch(f"{base}/readyz")
    assert status == 200, body
    assert b'"version":"v1.2.3-test"' in body
    status, _body, headers = fetch(f"{base}/id/feedback/K7QM-3TXV-9PHD",
                                   headers={"X-Request-ID": "a1b2c3d4e5f60718"})
    assert status == 404 and headers["X-Request-ID"] == "a1b2c3d4e5f60718"
    [line] = _eventually(lambda: [line for line in two_workers.log_lines()
                                  if line.get("request_id") == "a1b2c3d4e5f60718"])
    assert (line["path"], line["status"], line["endpoint"]) == (
        "/id/feedback/[code]", 404, "feedback.show")
    assert line["level"] == "info" and line["time"]
    assert all("K7QM" not in str(line) for line in two_workers.log_lines())


def test_static_files_sent_by_the_server_are_logged_too(two_workers):
    page = fetch(f"{two_workers.base}/en/")[1].decode()
    stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page).group(1)
    status, body, headers = fetch(f"{two_workers.base}{stylesheet}",
                                  headers={"X-Request-ID": "5747a71cf11e5000"})
    assert status == 200 and body and headers["X-Request-ID"] == "5747a71cf11e5000"
    [line] = _eventually(lambda: [line for line in two_workers.log_lines()
                                  if line.get("request_id") == "5747a71cf11e5000"])
    assert (line["endpoint"], line["status"], line["path"]) == ("static", 200, stylesheet)
