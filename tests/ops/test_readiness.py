"""/readyz: 200 only with the database up, its schema at the head, Redis and shared limits."""

from __future__ import annotations

import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from limits.storage import storage_from_string
from sqlalchemy import text

from portal import create_app
from portal.domain.calendar import utc_now
from portal.extensions import db, limiter
from portal.models import JobRun
from tests.conftest import make_test_config

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
# The newest numbered migration file is the head (one head: tests/test_project.py).
HEAD = max(re.match(r"(\d{4})_", path.name).group(1) for path in VERSIONS.glob("0*.py"))
REFUSING_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused


@pytest.fixture
def stamp(app):
    """Write a revision into alembic_version (None: the table without a row; dropped after)."""

    def write(revision: str | None) -> None:
        with db.engine.begin() as connection:
            connection.execute(text(
                "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("DELETE FROM alembic_version"))
            if revision:
                connection.execute(text("INSERT INTO alembic_version VALUES (:v)"),
                                   {"v": revision})

    yield write
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_ready_with_the_database_at_the_head_naming_each_check_and_the_version(
    app, client, stamp, monkeypatch
):
    stamp(HEAD)
    monkeypatch.setitem(app.config, "PORTAL_VERSION", "v2.3.0-4-gabc1234")
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["version"] == "v2.3.0-4-gabc1234"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["schema"] == {"ok": True, "revision": HEAD, "head": HEAD}
    assert body["checks"]["redis"] == {"ok": True, "configured": False}
    assert body["checks"]["rate_limits"]["ok"] is True
    assert response.headers["Cache-Control"] == "no-store"


def test_the_version_comes_from_git_when_none_was_written(app, client, stamp, monkeypatch):
    stamp(HEAD)
    monkeypatch.setitem(app.config, "PORTAL_VERSION", "")
    version = client.get("/readyz").get_json()["version"]
    # This checkout's `git describe --always` (an abbreviated commit at least), or "unknown"
    # where git cannot read it.
    assert version == "unknown" or re.match(r"^[\w.-]*[0-9a-f]{7,}(-dirty)?$", version)


@pytest.mark.parametrize(("revision", "shown"), [("0003", "0003"), (None, None)])
def test_unavailable_when_the_schema_is_not_at_the_head(client, stamp, revision, shown):
    stamp(revision)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["schema"] == {"ok": False, "revision": shown, "head": HEAD}


def test_unavailable_when_the_database_does_not_answer(tmp_path):
    (tmp_path / "not-a-database").mkdir()  # SQLite cannot open a folder
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'not-a-database'}"))
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["schema"]["ok"] is False
    assert body["jobs"] is None
    # The liveness check agrees.
    assert client.get("/healthz").status_code == 503


def test_unavailable_when_the_configured_redis_does_not_answer(app, client, stamp, monkeypatch):
    stamp(HEAD)
    monkeypatch.setitem(app.config, "REDIS_URL", REFUSING_REDIS)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                    reason="REDIS_URL is not set: CI's PostgreSQL pass runs this with Redis")
def test_ready_when_the_configured_redis_answers(app, client, stamp, monkeypatch):
    stamp(HEAD)
    monkeypatch.setitem(app.config, "REDIS_URL", os.environ["REDIS_URL"])
    response = client.get("/readyz")
    assert response.get_json()["checks"]["redis"] == {"ok": True, "configured": True}
    assert response.status_code == 200


def test_limits_falling_back_to_memory_are_logged_once_and_shown(
    app, client, stamp, monkeypatch, caplog
):
    stamp(HEAD)
    # Redis, as the rate-limit storage, goes away.
    dead = storage_from_string(REFUSING_REDIS)
    monkeypatch.setattr(limiter, "_storage", dead)
    monkeypatch.setattr(limiter, "_limiter", type(limiter._limiter)(dead))
    monkeypatch.setattr(limiter, "_storage_dead", False)
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", REFUSING_REDIS)
    monkeypatch.setitem(app.config, "PORTAL_RATELIMIT_ENABLED", True)
    caplog.set_level(logging.INFO)

    # Rate-limited requests are still answered (counted in memory), never refused with a 500.
    statuses = [client.post("/api/v1/feedback", data="not json").status_code
                for _ in range(3)]
    assert statuses == [400, 400, 400]
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING
                and "storage unreachable" in record.getMessage()]
    assert len(warnings) == 1

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["rate_limits"] == {
        "ok": False, "storage": "memory", "configured": "redis", "fell_back": True}


def test_overdue_jobs_are_listed_without_failing_readiness(app, client, stamp):
    stamp(HEAD)
    now = utc_now()
    db.session.add(JobRun(job="outbox send", started_at=now - timedelta(seconds=40),
                          finished_at=now - timedelta(seconds=39), outcome="succeeded"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 200
    jobs = response.get_json()["jobs"]
    assert jobs["overdue"] == ["status refresh", "checks run", "feedback tick",
                               "feedback digest", "subscriptions digest"]
    assert jobs["last_success"]["outbox send"] == (now - timedelta(seconds=39)).isoformat()
    assert jobs["last_success"]["status refresh"] is None
