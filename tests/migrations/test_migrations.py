"""Migrations: numbered revisions, a full round trip, and the due-date backfill."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models.metrics import ServiceDay
from tests.conftest import fresh_database_url, make_test_config

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def test_every_revision_file_is_numbered_after_its_revision_id():
    for path in VERSIONS.glob("*.py"):
        match = re.match(r"(\d{4})_\w+\.py$", path.name)
        assert match, path.name
        assert f'revision = "{match.group(1)}"' in path.read_text().replace("'", '"'), path.name


@pytest.fixture
def migration_app(tmp_path):
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=fresh_database_url("roundtrip", tmp_path)))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again(migration_app):
    with migration_app.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        with db.engine.connect() as connection:
            assert "service_day" in db.inspect(connection).get_table_names()


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _insert(connection, table_name: str, **values: object) -> None:
    """Insert a row into a table as the database has it, filling required columns blandly."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    row: dict[str, object] = {}
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        python_type = column.type.python_type
        row[column.name] = {str: "", int: 0, float: 0.9, bool: False}.get(
            python_type, _utc(2026, 11, 1) if python_type is datetime else date(2026, 11, 1))
    row.update(values)
    connection.execute(table.insert().values(**row))


def test_upgrade_counts_stored_requests_on_their_due_dates(migration_app):
    """A database from before the due-date aggregates shows due figures right after upgrade."""
    with migration_app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            _insert(connection, "department", id=1, code="dpm")
            _insert(connection, "service", id=1, code="izin", department_id=1,
                    work_mode="onsite", commitment_value=1, commitment_unit="working_days")
            # As 0001's ingest left them: the requests, and aggregates by receipt and
            # completion day only. Received Tue 1 Dec 2026 09:00 WIB (02:00 UTC).
            for external_id, completed_at, deadline in (
                # deadline 24:00 WIB on Wed 2 Dec = 17:00 UTC; completed on time
                ("a", _utc(2026, 12, 1, 3), _utc(2026, 12, 2, 17)),
                # the same deadline, never completed: late once due
                ("b", None, _utc(2026, 12, 2, 17)),
                # an hour deadline at 10:00 WIB on 3 Dec; completed after it, on 4 Dec
                ("c", _utc(2026, 12, 4, 1), _utc(2026, 12, 3, 3)),
            ):
                _insert(connection, "service_request", service_id=1, external_id=external_id,
                        received_at=_utc(2026, 12, 1, 2), completed_at=completed_at,
                        completion_deadline=deadline, reported_at=_utc(2026, 12, 4, 2))
            _insert(connection, "service_day", service_id=1, day=date(2026, 12, 1),
                    received=3, completed=1, completed_on_time=1, completion_histogram="{}")
            _insert(connection, "service_day", service_id=1, day=date(2026, 12, 4),
                    completed=1, completion_histogram="{}")
        upgrade()
        rows = {row.day: row for row in db.session.scalars(
            select(ServiceDay).where(ServiceDay.service_id == 1))}
        assert (rows[date(2026, 12, 2)].due, rows[date(2026, 12, 2)].due_on_time) == (2, 1)
        # Request a took one hour; b was never completed, so it has no completion time.
        assert rows[date(2026, 12, 2)].due_completion_histogram == '{"3600":1}'
        assert (rows[date(2026, 12, 3)].due, rows[date(2026, 12, 3)].due_on_time) == (1, 0)
        # What 0001 stored by receipt and completion day is kept as it was.
        assert (rows[date(2026, 12, 1)].received, rows[date(2026, 12, 1)].due) == (3, 0)
        assert rows[date(2026, 12, 4)].completed == 1
        db.session.remove()


def test_the_stored_page_figures_move_to_their_own_table_and_back(migration_app):
    """0015 moves the figures stored in service_status rows to service_page_figures; a
    downgrade puts them back."""
    with migration_app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as connection:
            _insert(connection, "department", id=1, code="dpm")
            for service_id, code in ((1, "izin"), (2, "ktp")):
                _insert(connection, "service", id=service_id, code=code, department_id=1,
                        work_mode="onsite", commitment_value=1,
                        commitment_unit="working_days")
            _insert(connection, "service_status", service_id=1, status="meeting",
                    page_figures='{"format":1}')
            _insert(connection, "service_status", service_id=2, status="no_data")
        upgrade(revision="0015")
        with db.engine.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT service_id, figures FROM service_page_figures")).all() == [
                    (1, '{"format":1}')]
            columns = {c["name"] for c in db.inspect(connection).get_columns("service_status")}
            assert "page_figures" not in columns
        downgrade(revision="0014")
        with db.engine.connect() as connection:
            assert connection.execute(sa.text(
                "SELECT service_id, page_figures FROM service_status ORDER BY service_id"
            )).all() == [(1, '{"format":1}'), (2, None)]
        db.session.remove()
