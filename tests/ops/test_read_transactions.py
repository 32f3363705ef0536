"""A read that went well ends its transaction with COMMIT; everything else as before (ROLLBACK).

psycopg deallocates a connection's prepared statements at every ROLLBACK, so pages that ended
with one had every statement planned again on every visit (portal.extensions,
end_reads_with_commit). These tests run requests the way a server does, each in an app context
of its own (the other tests share one app context across requests, where no request ends the
session).
"""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import event, func, select, text

from portal import create_app
from portal.extensions import db
from portal.models import Department
from tests.conftest import PG_URL, fresh_database_url, make_test_config


@pytest.fixture
def server_app(tmp_path):
    """An app of its own database, with three test routes, and its transaction endings."""
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=fresh_database_url("readtx", tmp_path),
        PROPAGATE_EXCEPTIONS=False))

    @app.get("/test/pending")
    def pending():
        db.session.add(Department(code="pending", name_id="Tertunda", name_en="Pending"))
        db.session.flush()
        return "added, not committed"

    @app.get("/test/fails")
    def fails():
        db.session.scalar(select(func.count(Department.id)))
        raise RuntimeError("a read that fails")

    @app.get("/test/missing")
    def missing():
        db.session.scalar(select(func.count(Department.id)))
        abort(404)

    with app.app_context():
        db.create_all()
        endings: list[str] = []
        event.listen(db.engine, "commit", lambda conn: endings.append("commit"))
        event.listen(db.engine, "rollback", lambda conn: endings.append("rollback"))
    app.extensions["test_endings"] = endings
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _ending(app, method: str, path: str, **kwargs) -> tuple[int, list[str]]:
    endings = app.extensions["test_endings"]
    endings.clear()
    response = app.test_client().open(path, method=method, **kwargs)
    return response.status_code, list(endings)


def test_a_page_read_ends_with_commit(server_app):
    status, endings = _ending(server_app, "GET", "/id/services")
    assert status == 200
    assert endings == ["commit"]


def test_a_read_answered_not_found_still_commits(server_app):
    status, endings = _ending(server_app, "GET", "/test/missing")
    assert status == 404
    assert endings == ["commit"]


def test_a_read_that_raises_rolls_back(server_app):
    status, endings = _ending(server_app, "GET", "/test/fails")
    assert status == 500
    assert "commit" not in endings and "rollback" in endings


def test_a_read_that_left_changes_pending_rolls_them_back(server_app):
    status, endings = _ending(server_app, "GET", "/test/pending")
    assert status == 200
    assert "commit" not in endings and "rollback" in endings
    with server_app.app_context():
        assert db.session.scalar(select(func.count(Department.id))) == 0


def test_a_post_never_commits_by_this_rule(server_app):
    # A refused form (no CSRF token) ends as every non-read request does.
    status, endings = _ending(server_app, "POST", "/id/feedback/new", data={"title": "x"})
    assert status == 400
    assert "commit" not in endings


@pytest.mark.skipif(not PG_URL, reason="prepared statements are PostgreSQL's (TEST_DATABASE_URL)")
def test_statements_stay_prepared_across_page_visits(server_app):
    # Requests one after another check out the pool's one connection, as does the count below.
    client = server_app.test_client()
    for _ in range(8):  # psycopg prepares a statement at its 5th execution on a connection
        assert client.get("/id/").status_code == 200
    with server_app.app_context():
        prepared = db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    assert prepared > 0
