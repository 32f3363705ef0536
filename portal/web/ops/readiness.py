"""/readyz: may this server take traffic? The database, its schema, Redis and rate limits.

``/healthz`` (portal.web.root) stays the cheap liveness check a supervisor restarts on.
``/readyz`` answers 200 only when

- the database answers;
- its schema is at the migration head (``alembic_version`` against the head of
  ``migrations/``, read once per process): after ``flask db upgrade`` of a new release, the
  servers still running the old code see a head they do not know, and the new ones wait
  for the upgrade;
- Redis answers, when ``REDIS_URL`` is set;
- rate limits are counted where configured: when Redis goes away, Flask-Limiter counts in
  each process's memory instead (limits then hold per process only) and logs one warning
  per outage; this check fails until it counts in Redis again;

and 503 otherwise, with a JSON body naming each check and the version. The periodic jobs
that have not succeeded within twice their cadence are listed under ``jobs`` but do not fail
the check: a missed timer is no reason to take every server out of service.
"""

from __future__ import annotations

import functools
from typing import Any

import redis
from alembic.script import ScriptDirectory
from flask import current_app, jsonify
from sqlalchemy import text

from portal.extensions import db, limiter
from portal.services.jobs import job_states
from portal.web.ops.blueprint import bp
from portal.web.ops.version import application_version

# Seconds Redis may take to connect or answer before the check fails.
REDIS_TIMEOUT = 1.0


@functools.cache
def migration_heads(directory: str) -> tuple[str, ...]:
    """Return the head revisions of the migrations in directory (read once per process)."""
    return tuple(sorted(ScriptDirectory(directory).get_heads()))


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    """Return a client for url, kept for the process (its connection pool is reused)."""
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT,
                                socket_timeout=REDIS_TIMEOUT)


def rate_limits_fell_back() -> bool:
    """Tell whether Flask-Limiter counts in this process's memory because its storage failed."""
    # Flask-Limiter 4.1 (pinned) keeps this only in a private attribute; tests/ops pin its
    # behaviour with a storage that refuses connections.
    return bool(getattr(limiter, "_storage_dead", False))


def _failure(error: Exception) -> dict[str, Any]:
    """Describe a failed check by the error's class only (messages may hold hosts, users)."""
    return {"ok": False, "error": type(error).__name__}


def _database_and_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """Check that the database answers and that its schema is at the migration head."""
    heads = migration_heads(current_app.extensions["migrate"].directory)
    head = ",".join(heads)
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database
        db.session.rollback()
        return _failure(error), {"ok": False, "revision": None, "head": head}
    try:
        revisions = tuple(sorted(db.session.scalars(
            text("SELECT version_num FROM alembic_version"))))
    except Exception:  # no alembic_version table: never upgraded (flask db upgrade)
        db.session.rollback()
        revisions = ()
    revision = ",".join(revisions) or None
    return {"ok": True}, {"ok": revisions == heads, "revision": revision, "head": head}


def _redis() -> dict[str, Any]:
    """Check that Redis answers, when one is configured."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return {"ok": True, "configured": False}
    try:
        _redis_client(url).ping()
    except Exception as error:  # redis.RedisError, or an OSError on a strange URL
        return _failure(error)
    return {"ok": True, "configured": True}


def _rate_limits() -> dict[str, Any]:
    """Report where rate limits are counted: the configured storage, or memory after a fault."""
    configured = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    storage = configured.split(":", 1)[0]
    if storage != "memory" and rate_limits_fell_back():
        return {"ok": False, "storage": "memory", "configured": storage, "fell_back": True}
    return {"ok": True, "storage": storage, "configured": storage, "fell_back": False}


def _jobs() -> dict[str, Any] | None:
    """List the periodic jobs that are overdue, with each one's last success."""
    try:
        states = job_states()
    except Exception:  # no job_run table yet (schema behind): the schema check says so
        db.session.rollback()
        return None
    return {
        "overdue": [state.job.name for state in states if state.overdue],
        "last_success": {
            state.job.name: state.last_success_at.isoformat() if state.last_success_at else None
            for state in states
        },
    }


@bp.get("/readyz")
def readyz():
    """Answer 200 when this server can serve (database, schema, Redis, limits), else 503."""
    database, schema = _database_and_schema()
    checks = {"database": database, "schema": schema, "redis": _redis(),
              "rate_limits": _rate_limits()}
    ready = all(check["ok"] for check in checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "version": application_version(),
        "checks": checks,
        "jobs": _jobs() if database["ok"] else None,
    }
    return jsonify(body), 200 if ready else 503
