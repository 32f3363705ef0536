"""Two app servers on one PostgreSQL and one Redis behave as one portal.

Two gunicorn instances share the database and Redis as two machines behind a proxy would
(the proxy's X-Forwarded-For names the client): what one stores the other shows, rate limits
count across both, a staff session from one works on the other, and the periodic commands
started on both at once do each job once.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from portal.domain.calendar import WIB, utc_now
from tests.conftest import PG_URL, ROOT, free_port, fresh_database_url, run_flask
from tests.feedback_support import start_smtp
from tests.ops.support import Server, fetch, start_gunicorn

pytestmark = pytest.mark.skipif(
    not (PG_URL and os.environ.get("REDIS_URL")),
    reason="two servers share one PostgreSQL and one Redis: set TEST_DATABASE_URL and "
           "REDIS_URL (.ci/run's PostgreSQL pass sets both)",
)

PASSWORD = "kalteng-berintegritas-2025"
CACHE_SECONDS = 2
CATALOGUE = """department_code,department_name_id,department_name_en,service_code,\
service_name_id,service_name_en,work_mode,work_mode_since,commitment_value,commitment_unit,\
on_time_target,online_url
dinkes,Dinas Kesehatan,Health Office,izin-klinik,Izin Klinik,Clinic Permit,onsite,,5,\
working_days,0.9,{online_url}
ulp,Unit Layanan Pengaduan,Complaints Unit,ulp-aduan,Pengaduan,Complaints,onsite,,5,\
working_days,0.9,
"""
# Run once, in a process of its own, as an administrator at the command line would.
SETUP = """
import sys
from portal import create_app
from portal.services import auth
from portal.services.auth import CLI_OPERATOR
from portal.services.catalogue.directory import catalogue_import_file
from portal.services.feedback.routing import routing_triage_unit_set
from portal.services.metrics.tokens import token_create

with create_app().app_context():
    catalogue_import_file(sys.stdin.read())
    routing_triage_unit_set("ulp", actor=CLI_OPERATOR)
    auth.user_create("adi", sys.argv[1], "admin", actor=CLI_OPERATOR)
    auth.user_create("rina", sys.argv[1], "officer", department_code="dinkes",
                     actor=CLI_OPERATOR, email="rina@dinkes.example.go.id")
    print(token_create("dinkes", "sik", actor=CLI_OPERATOR)[1])
"""


@dataclass
class Portal:
    """The two servers, their shared database and what was set up in it."""

    a: Server
    b: Server
    env: dict[str, str]
    database: object
    token: str
    mail: object


def _client_address() -> str:
    """Return an address no earlier run used in Redis within the hour (a fresh limit)."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    url = fresh_database_url("two_servers", tmp_path_factory.mktemp("two-servers"))
    smtp_port = free_port()
    controller, sink = start_smtp(smtp_port)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "the-same-key-on-every-server",
           "PORTAL_PAGE_CACHE_SECONDS": str(CACHE_SECONDS),
           "PORTAL_FEEDBACK_RATE_LIMIT": "3 per hour", "PORTAL_TRUSTED_PROXIES": "1",
           "PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(smtp_port)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    run_flask(env, "db", "upgrade")
    a = start_gunicorn(env)
    b = start_gunicorn(env)
    setup = subprocess.run(
        [sys.executable, "-c", SETUP, PASSWORD], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, input=CATALOGUE.format(online_url=f"{a.base}/healthz"),
    )
    assert setup.returncode == 0, setup.stderr
    database = create_engine(url)
    yield Portal(a, b, env, database, setup.stdout.strip().splitlines()[-1], sink)
    database.dispose()
    a.stop()
    b.stop()
    controller.stop()


def test_a_report_stored_through_one_server_shows_on_the_other(portal):
    page = f"{portal.b.base}/en/services/izin-klinik"
    for _ in range(2):  # the second answer comes from server B's page cache
        status, body, _headers = fetch(page)
        assert status == 200 and b"Last report from the department" not in body
    received = (utc_now() - timedelta(days=2)).astimezone(WIB)
    status, body, _headers = fetch(
        f"{portal.a.base}/api/v1/service-requests", method="POST",
        data=json.dumps({"requests": [{
            "service": "izin-klinik", "id": "sik-1", "received_at": received.isoformat(),
            "completed_at": (received + timedelta(hours=3)).isoformat()}]}).encode(),
        headers={"Authorization": f"Bearer {portal.token}", "Content-Type": "application/json"},
    )
    assert status == 200, body
    stored = time.monotonic()
    while b"Last report from the department" not in fetch(page)[1]:
        assert time.monotonic() - stored < CACHE_SECONDS + 2, "server B still shows old data"
        time.sleep(0.1)


def test_rate_limits_count_across_both_servers(portal):
    client = {"X-Forwarded-For": _client_address()}
    statuses = [
        fetch(f"{server.base}/api/v1/feedback", method="POST", data=b"not json",
              headers={**client, "Content-Type": "application/json"})[0]
        for server in (portal.a, portal.b, portal.a, portal.b, portal.a)
    ]
    # 3 per hour: the first three count on both servers together; the fourth is refused.
    assert statuses == [400, 400, 400, 429, 429]


def test_a_staff_session_from_one_server_works_on_the_other(portal):
    cookies = http.cookiejar.CookieJar()  # both servers are 127.0.0.1: one browser, two ports
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies),
                                          _NoRedirect())
    login = browser.open(f"{portal.a.base}/en/staff/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "username": "adi",
                                   "password": PASSWORD}).encode()
    try:
        browser.open(f"{portal.a.base}/en/staff/login", data=form)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
    dashboard = browser.open(f"{portal.b.base}/en/staff/").read().decode()
    assert "adi" in dashboard and "/en/staff/jobs" in dashboard


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let a test see a login's 302 instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


def _file_feedback(server: Server) -> str:
    status, body, _headers = fetch(
        f"{server.base}/api/v1/feedback", method="POST",
        data=json.dumps({"kind": "complaint", "service": "izin-klinik",
                         "subject": "Antrean panjang", "body": "Menunggu tiga jam.",
                         "regency": "kapuas", "email": "warga@example.com"}).encode(),
        headers={"X-Forwarded-For": _client_address(), "Content-Type": "application/json"})
    assert status == 201, body
    return json.loads(body)["tracking_code"].replace("-", "")


def _on_both_servers_at_once(env: dict[str, str], *commands: tuple[str, ...]) -> None:
    """Start each periodic command on both servers at the same moment; wait for them all."""
    processes = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", *command],
                                  cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for command in commands for _server in range(2)]
    for process in processes:
        _stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr


def test_periodic_commands_run_on_both_servers_do_each_job_once(portal):
    resolved, overdue = _file_feedback(portal.a), _file_feedback(portal.b)
    now = utc_now()
    with portal.database.begin() as db:
        # One feedback resolved a month ago (the tick closes it), one past its first
        # response (the tick reminds the officer, the digest lists it).
        db.execute(text("UPDATE feedback SET status = 'resolved', resolved_at = :at, "
                        "auto_close_due = :due WHERE tracking_code = :code"),
                   {"at": now - timedelta(days=30), "due": now - timedelta(days=1),
                    "code": resolved})
        db.execute(text("UPDATE feedback SET first_response_due = :due "
                        "WHERE tracking_code = :code"),
                   {"due": now - timedelta(days=2), "code": overdue})

    # As the timers fire: every command on both servers, then (a minute later) the mail.
    _on_both_servers_at_once(portal.env, ("status", "refresh"), ("checks", "run"),
                             ("feedback", "tick"), ("feedback", "digest"))
    _on_both_servers_at_once(portal.env, ("outbox", "send"))

    with portal.database.connect() as db:
        def rows(sql: str, **params) -> list:
            return list(db.execute(text(sql), params))

        # The availability check counted once; the resolved feedback closed once.
        assert rows("SELECT count(*) FROM availability_check")[0][0] == 1
        assert rows("SELECT count(*) FROM feedback_event e JOIN feedback f ON "
                    "f.id = e.feedback_id WHERE f.tracking_code = :c AND e.kind = 'closed'",
                    c=resolved)[0][0] == 1
        # Today's digest for the department, once.
        assert rows("SELECT count(*) FROM feedback_digest")[0][0] == 1
        # Every queued mail sent once: no two alike, and each received once.
        mail = rows("SELECT to_address, kind, feedback_id, sent_at FROM outbox_message")
        assert all(sent_at is not None for *_rest, sent_at in mail)
        assert len({tuple(row[:3]) for row in mail}) == len(mail)
        assert len(portal.mail.messages) == len(mail)
        kinds = sorted(kind for _to, kind, _id, _sent in mail)
        assert kinds.count("feedback.staff.digest") == 1
        runs = rows("SELECT job, outcome, started_at, finished_at FROM job_run "
                    "ORDER BY job, started_at")
    by_job: dict[str, list] = {}
    for job, outcome, started, finished in runs:
        by_job.setdefault(job, []).append((outcome, started, finished))
    assert sorted(by_job) == ["checks run", "feedback digest", "feedback tick", "outbox send",
                              "status refresh"]
    for job, job_runs in by_job.items():
        assert len(job_runs) == 2, job  # both servers' runs are recorded
        succeeded = [(s, f) for outcome, s, f in job_runs if outcome == "succeeded"]
        assert succeeded, job
        if job != "outbox send":
            # Never two at once: a run that found the lock taken was skipped.
            assert all(first[1] <= second[0]
                       for first, second in zip(succeeded, succeeded[1:], strict=False)), job
    # Checks would count twice in the availability: the second server's run was skipped.
    assert sorted(outcome for outcome, *_ in by_job["checks run"]) == ["skipped", "succeeded"]


def test_both_servers_are_ready_with_redis(portal):
    for server in (portal.a, portal.b):
        status, body, _headers = fetch(f"{server.base}/readyz")
        answer = json.loads(body)
        assert status == 200, answer
        assert answer["checks"]["redis"] == {"ok": True, "configured": True}
        assert answer["checks"]["rate_limits"]["storage"] == "redis"

