"""Shared fixtures: the app on a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL
is set), a client, factories, and a live gunicorn server for browser tests."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import template_rendered
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.web.public.live import page_cache

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _worker() -> str:
    """Name of this xdist worker ("main" without xdist)."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def fresh_database_url(purpose: str, tmp_dir: Path) -> str:
    """Create an empty database for one purpose and return its URL."""
    if not PG_URL:
        return f"sqlite:///{tmp_dir / f'{purpose}-{uuid.uuid4().hex[:8]}.sqlite3'}"
    base = make_url(PG_URL)
    name = re.sub(r"[^a-z0-9_]", "_", f"{base.database}_{purpose}_{_worker()}".lower())
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per test worker, with the schema created once."""
    return fresh_database_url("unit", tmp_path_factory.mktemp("db"))


def make_test_config(**overrides: object) -> dict:
    """Return the test configuration as a dict, with overrides."""
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    # Rate-limit counters of parallel test workers must not meet in a shared Redis.
    config["RATELIMIT_KEY_PREFIX"] = f"test-{_worker()}-{uuid.uuid4().hex[:8]}"
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def _app_session(database_url: str):
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url))
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def app(_app_session):
    """The app inside an app context; every table is emptied after the test."""
    with _app_session.app_context():
        yield _app_session
        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def fresh_rate_limits(app, monkeypatch):
    """Switch rate limits on for one test, counting under a key prefix of its own.

    Fresh counters without clearing the storage, which a shared Redis holds for every other
    test worker too (limiter.reset() would clear theirs).
    """
    monkeypatch.setitem(app.config, "PORTAL_RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX",
                        f"test-{_worker()}-{uuid.uuid4().hex}")
    return app


@pytest.fixture
def client(app):
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for flask commands."""
    return app.test_cli_runner()


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run a flask command of the portal in a subprocess, failing loudly."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result


def _run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder shared by every xdist worker of this run (and by no other run)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def demo_database_copy(tmp_path_factory: pytest.TempPathFactory, purpose: str = "copy") -> str:
    """Return the URL of this worker's own copy of a database holding the demo data.

    The demo is loaded once per test run, by whichever worker comes first, into a template
    database; every worker then copies it (a file copy on SQLite, CREATE DATABASE ...
    TEMPLATE on PostgreSQL), under a lock, since PostgreSQL copies a template only while
    nobody else uses it.
    """
    shared = _run_directory(tmp_path_factory)
    with open(shared / "demo-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = shared / "demo-template.url"
        if not marker.exists():
            template = fresh_database_url("demo_template", shared)
            env = {**os.environ, "DATABASE_URL": template, "SECRET_KEY": "live-test"}
            run_flask(env, "db", "upgrade")
            run_flask(env, "demo", "load")
            marker.write_text(template)
        template = marker.read_text()
        if not PG_URL:
            copy = shared / f"demo-{_worker()}-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copyfile(template.removeprefix("sqlite:///"), copy)
            return f"sqlite:///{copy}"
        source = make_url(template)
        # One copy per purpose and worker: a second purpose must not drop the first's copy.
        name = re.sub(r"[^a-z0-9_]", "_", f"{source.database}_{purpose}_{_worker()}".lower())
        admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
        admin.dispose()
        return source.set(database=name).render_as_string(hide_password=False)


class LiveServer(str):
    """The live server's base URL, carrying the environment its processes run with.

    ``env`` (with DATABASE_URL) lets a test run flask commands against the server's database
    with ``run_flask(live_server.env, ...)``.
    """

    env: dict[str, str]


@pytest.fixture(scope="session")
def live_env(live_server: LiveServer) -> dict[str, str]:
    """The environment (DATABASE_URL...) of the live server, for run_flask."""
    return dict(live_server.env)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Gunicorn serving the portal with the demo data, on a free loopback port."""
    yield from serve_live(demo_database_copy(tmp_path_factory))


def serve_live(url: str, **settings: str) -> Iterator[LiveServer]:
    """Run gunicorn on the database at url (and extra environment settings) until closed."""
    # Its own rate-limit counters: a Redis shared with earlier runs (within the hour of a
    # limit) must not refuse this run's forms.
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "live-test",
           "PORTAL_ACCESS_LOG": "/dev/null",
           "PORTAL_RATELIMIT_KEY_PREFIX": f"live-{uuid.uuid4().hex}", **settings}
    port = free_port()
    # A file, not a pipe: a long run logs more than a pipe holds, and gunicorn would block.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except OSError as error:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                message = log.read().decode(errors="replace")
                raise RuntimeError(f"gunicorn did not start: {message}") from error
            time.sleep(0.2)
    server = LiveServer(base)
    server.env = env
    yield server
    process.terminate()
    process.wait(timeout=10)
    log.close()


def a_second_later() -> None:
    """Let the next request read the data versions again (with the page cache on they are
    read at most once a second)."""
    cache = page_cache()
    cache.version_read = (float("-inf"), "")
    cache.versions_read = {}


@pytest.fixture
def cached(app):
    """Switch the in-process page cache on (the test configuration keeps it off); yield the
    names of the templates rendered meanwhile."""
    before = app.config["PORTAL_PAGE_CACHE_SECONDS"]
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 60
    page_cache().clear()
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    yield rendered
    template_rendered.disconnect(record, app)
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = before
    page_cache().clear()
