"""Periodic jobs: every command's run recorded, one at a time, overdue ones shown to admins."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models import JobRun
from portal.services import jobs as jobs_service
from portal.services.jobs import JOBS, JOBS_BY_NAME, _lock_key, job_states
from tests.conftest import PG_URL
from tests.factories import create_user, login

README = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = {
    "status refresh": ["status", "refresh"],
    "checks run": ["checks", "run"],
    "outbox send": ["outbox", "send"],
    "feedback tick": ["feedback", "tick"],
    "feedback digest": ["feedback", "digest"],
    "subscriptions digest": ["subscriptions", "digest"],
}


def _runs(job: str | None = None) -> list[JobRun]:
    stmt = select(JobRun).order_by(JobRun.id)
    if job:
        stmt = stmt.where(JobRun.job == job)
    return list(db.session.scalars(stmt))


def _record(job: str, outcome: str, started_ago: timedelta, took: timedelta = timedelta(0)):
    started = utc_now() - started_ago
    run = JobRun(job=job, started_at=started, finished_at=started + took, outcome=outcome,
                 host="app-1")
    db.session.add(run)
    db.session.commit()
    return run


def test_the_cadences_are_the_readme_operations_table():
    section = README.read_text(encoding="utf-8").split("## Operations", 1)[1]
    rows = re.findall(r"^\| `flask --app wsgi ([a-z ]+)` \| ([^|]+) \|", section, re.M)
    readme = {}
    for command, when in rows:
        minutes = re.match(r"every (?:(\d+) )?minutes?", when.strip())
        readme[command] = (timedelta(minutes=int(minutes.group(1) or 1)) if minutes
                           else timedelta(days=1) if when.startswith("daily")
                           else timedelta(days=7) if when.startswith("weekly") else None)
    assert readme == {
        "status refresh": timedelta(minutes=10), "checks run": timedelta(minutes=5),
        "outbox send": timedelta(minutes=1), "feedback tick": timedelta(minutes=15),
        "feedback digest": timedelta(days=1), "subscriptions digest": timedelta(days=7),
    }
    assert {job.name: job.cadence for job in JOBS} == readme


@pytest.mark.parametrize("job", sorted(COMMANDS))
def test_each_periodic_command_records_its_run(runner, job):
    before = utc_now()
    result = runner.invoke(args=COMMANDS[job])
    assert result.exit_code == 0, result.output
    [run] = _runs()
    assert (run.job, run.outcome, run.detail) == (job, "succeeded", "")
    assert before <= run.started_at <= run.finished_at <= utc_now()
    assert run.host


def test_a_failing_job_is_recorded_by_its_error_class_and_fails_the_command(runner, monkeypatch):
    import portal.cli.metrics as metrics_cli

    def broken():
        raise RuntimeError("could not reach siti.rahma@example.com")

    monkeypatch.setattr(metrics_cli, "status_refresh", broken)
    result = runner.invoke(args=["status", "refresh"])
    assert result.exit_code != 0
    [run] = _runs()
    # The class only: a message may quote an address.
    assert (run.outcome, run.detail) == ("failed", "RuntimeError")
    assert run.finished_at is not None


def test_checks_run_once_in_half_its_cadence_whichever_server_starts_it(runner):
    _record("checks run", "succeeded", started_ago=timedelta(minutes=2))
    skipped = runner.invoke(args=["checks", "run"])
    assert skipped.exit_code == 0, skipped.output
    assert "checks run: skipped" in skipped.output
    assert [(r.outcome, r.detail) for r in _runs()][-1] == ("skipped", "recent")

    db.session.execute(JobRun.__table__.delete())
    db.session.commit()
    # Half of 5 minutes has passed since the last success: it runs.
    _record("checks run", "succeeded", started_ago=timedelta(minutes=2, seconds=31))
    ran = runner.invoke(args=["checks", "run"])
    assert ran.output.strip().splitlines()[-1] == "0 checked, 0 succeeded, 0 failed"
    assert _runs()[-1].outcome == "succeeded"


def test_the_idempotent_jobs_run_again_right_after_a_success(runner):
    # Running them twice changes nothing twice (tested with each service); skipping them would
    # only delay work a timer brought forward.
    _record("status refresh", "succeeded", started_ago=timedelta(seconds=5))
    result = runner.invoke(args=["status", "refresh"])
    assert result.output.startswith("status refreshed")
    assert _runs()[-1].outcome == "succeeded"


@pytest.mark.skipif(not PG_URL, reason="advisory locks are PostgreSQL's: set TEST_DATABASE_URL "
                    "(CI's PostgreSQL pass); SQLite serves one server and needs none")
def test_a_run_finding_the_lock_held_elsewhere_is_skipped(runner, app):
    other_server = create_engine(db.engine.url)
    with other_server.connect() as connection:
        assert connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                 {"key": _lock_key("status refresh")})
        other_backend = connection.scalar(text("SELECT pg_backend_pid()"))
        result = runner.invoke(args=["status", "refresh"])
        assert result.exit_code == 0, result.output
        assert "skipped, another run of this job held its lock" in result.output
        assert [(r.outcome, r.detail) for r in _runs()] == [("skipped", "locked")]
    other_server.dispose()
    # The server ends a closed connection's backend a moment after the client closed it.
    # pg_stat_activity is read once per transaction (PostgreSQL keeps that snapshot until the
    # transaction ends): each look is a transaction of its own, or a backend seen alive at the
    # first look stays alive for every later one.
    deadline = time.monotonic() + 30
    while True:
        alive = db.session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                  {"pid": other_backend})
        db.session.rollback()
        if not alive:
            break
        assert time.monotonic() < deadline, "the other server's connection never ended"
        time.sleep(0.01)
    # Freed when the other server's connection ends: the next run does the job.
    assert runner.invoke(args=["status", "refresh"]).output.startswith("status refreshed")
    assert _runs()[-1].outcome == "succeeded"


def test_the_outbox_sender_takes_no_lock_since_messages_are_claimed_one_by_one():
    assert JOBS_BY_NAME["outbox send"].exclusive is False
    assert all(job.exclusive for job in JOBS if job.name != "outbox send")


def test_a_job_is_overdue_after_twice_its_cadence_without_success(app):
    # status refresh runs every 10 minutes: overdue after 20 minutes without a success.
    _record("status refresh", "succeeded", started_ago=timedelta(minutes=21))
    _record("status refresh", "failed", started_ago=timedelta(minutes=1))
    # feedback tick runs every 15 minutes: a success 29 minutes ago is still on time.
    _record("feedback tick", "succeeded", started_ago=timedelta(minutes=29))
    states = {state.job.name: state for state in job_states()}
    assert states["status refresh"].overdue is True
    assert states["status refresh"].last_run.outcome == "failed"
    assert states["feedback tick"].overdue is False
    # Never succeeded: overdue, with no last success.
    assert (states["outbox send"].overdue, states["outbox send"].last_success_at) == (True, None)


def test_runs_older_than_a_week_are_deleted_but_the_last_success_is_kept(runner, monkeypatch):
    import portal.cli.feedback as feedback_cli

    last_success = _record("feedback digest", "succeeded", started_ago=timedelta(days=10))
    _record("feedback digest", "failed", started_ago=timedelta(days=9))
    _record("feedback digest", "failed", started_ago=timedelta(days=8))
    recent_failure = _record("feedback digest", "failed", started_ago=timedelta(days=6))
    other_job = _record("feedback tick", "failed", started_ago=timedelta(days=9))

    def broken():
        raise ConnectionError

    monkeypatch.setattr(feedback_cli, "feedback_digest", broken)
    assert runner.invoke(args=["feedback", "digest"]).exit_code != 0
    kept = [(run.id, run.outcome) for run in _runs("feedback digest")]
    assert kept[:2] == [(last_success.id, "succeeded"), (recent_failure.id, "failed")]
    assert kept[2][1] == "failed" and len(kept) == 3
    # Another job's runs are pruned when that job runs.
    assert [run.id for run in _runs("feedback tick")] == [other_job.id]


# -- the staff page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("officer", 403), ("triage", 403), ("dprd", 403), ("admin", 200)],
)
def test_the_jobs_page_is_for_administrators(app, role, status):
    client = app.test_client()
    if role != "anonymous":
        user = create_user(role)
        assert login(client, user.username).status_code == 302
    response = client.get("/en/staff/jobs")
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_jobs_page_shows_last_runs_and_overdue_jobs(app, runner, lang):
    _record("feedback tick", "succeeded", started_ago=timedelta(hours=2),
            took=timedelta(seconds=3))
    assert runner.invoke(args=["status", "refresh"]).exit_code == 0
    client = app.test_client()
    login(client, create_user("admin").username, lang=lang)
    html = client.get(f"/{lang}/staff/jobs").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    rows = {name: row for name, row in re.findall(
        r'<th scope="row"><code>([a-z ]+)</code>(.*?)</tr>', html, re.S)}
    assert set(rows) == {job.name for job in JOBS}
    if lang == "en":
        assert "Succeeded" in rows["status refresh"] and "On time" in rows["status refresh"]
        # Two hours without a success, for a job due every 15 minutes.
        assert "Overdue" in rows["feedback tick"] and "3 s" in rows["feedback tick"]
        assert "Never succeeded" in rows["outbox send"]
        assert "every 10 minutes" in rows["status refresh"]


def test_a_skipped_run_says_why_on_the_page(app):
    db.session.add(JobRun(job="status refresh", started_at=utc_now(), finished_at=utc_now(),
                          outcome="skipped", detail=jobs_service.SKIPPED_LOCKED, host="app-2"))
    db.session.commit()
    client = app.test_client()
    login(client, create_user("admin").username)
    html = client.get("/en/staff/jobs").get_data(as_text=True)
    assert "Another server was running this job." in html
    assert "app-2" in html
