"""Backup and restore: every feedback, request, aggregate and attachment comes back equal.

The PostgreSQL half needs TEST_DATABASE_URL (CI's PostgreSQL run sets it) and pg_dump.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import MetaData, inspect, select

from portal import create_app
from portal.cli import backup
from portal.extensions import db
from portal.models import Service
from portal.services.feedback.citizen import feedback_get, feedback_submit
from portal.services.metrics.service_requests import service_requests_ingest
from tests.conftest import PG_URL, ROOT, fresh_database_url, make_test_config, run_flask
from tests.factories import create_service
from tests.feedback_support import (
    FRIDAY_15_AUG,
    IDENTITY,
    PDF_BYTES,
    create_triage_unit,
    jpeg_with_exif,
    valid_data,
)

NOW = datetime(2025, 9, 30, 5, 0, tzinfo=UTC)  # Tuesday 30 September 2025, 12:00 WIB
HEAD = ScriptDirectory(str(ROOT / "migrations")).get_heads()[0]


def _database_urls(kind: str, tmp_path: Path) -> tuple[str, str]:
    """Return the URLs of a source and an empty target database of one kind."""
    if kind == "sqlite":
        return (f"sqlite:///{tmp_path / 'source.sqlite3'}",
                f"sqlite:///{tmp_path / 'target.sqlite3'}")
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: the PostgreSQL backup runs in CI's "
                    "PostgreSQL pass")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing beside PostgreSQL: apt-get install postgresql-client")
    return (fresh_database_url("backup_source", tmp_path),
            fresh_database_url("backup_target", tmp_path))


class Installation:
    """One portal: its database, its upload folder, and an app bound to them."""

    def __init__(self, url: str, uploads: Path) -> None:
        self.url = url
        self.uploads = uploads
        self.app: Flask = create_app(make_test_config(
            SQLALCHEMY_DATABASE_URI=url, PORTAL_UPLOAD_DIR=str(uploads)))

    def upgrade(self) -> None:
        """Create the schema as an installation does: flask db upgrade."""
        run_flask({**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": "backup-test"},
                  "db", "upgrade")

    def flask(self, *args: str):
        """Run a flask command of this installation; return click's result."""
        return self.app.test_cli_runner().invoke(args=list(args))

    def rows(self) -> dict[str, list[tuple]]:
        """Return every row of every table the database has, in primary-key order."""
        with self.app.app_context(), db.engine.connect() as conn:
            tables = MetaData()
            tables.reflect(conn)
            return {
                table.name: [tuple(row) for row in conn.execute(
                    select(table).order_by(*(table.primary_key.columns or table.columns)))]
                for table in tables.sorted_tables
            }

    def table_names(self) -> list[str]:
        """Return the tables the database has."""
        with self.app.app_context(), db.engine.connect() as conn:
            return inspect(conn).get_table_names()

    def files(self) -> dict[str, bytes]:
        """Return every entry of the upload folder with its content."""
        if not self.uploads.exists():
            return {}
        return {path.name: path.read_bytes() for path in self.uploads.iterdir()}

    def close(self) -> None:
        """Close the app's database connections."""
        with self.app.app_context():
            db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def installations(request, tmp_path) -> Iterator[tuple[Installation, Installation]]:
    """A source installation and an empty target one, on SQLite and on PostgreSQL."""
    source_url, target_url = _database_urls(request.param, tmp_path)
    source = Installation(source_url, tmp_path / "source-uploads")
    target = Installation(target_url, tmp_path / "target-uploads")
    yield source, target
    source.close()
    target.close()


def _item(service, external_id: str, received: str, completed: str | None = None) -> dict:
    """Return one reported request as a department's system sends it."""
    return {"service": service.code, "id": external_id, "received_at": received,
            "completed_at": completed, "first_response_at": None}


def fill(source: Installation) -> dict[str, str]:
    """File requests and feedback through the services; return the tracking codes."""
    source.upgrade()
    with source.app.app_context():
        create_triage_unit()
        service = create_service(commitment_value=5, commitment_unit="working_days")
        other = create_service(department=service.department)
        service_requests_ingest(service.department, [
            _item(service, "REQ-1", "2025-09-01T09:00:00+07:00", "2025-09-03T15:00:00+07:00"),
            _item(service, "REQ-2", "2025-09-02T09:00:00+07:00", "2025-09-15T10:00:00+07:00"),
            _item(other, "REQ-3", "2025-09-22T09:00:00+07:00"),
        ], now=NOW)
        named = feedback_submit(
            valid_data(service=service.code, confidential=True, **IDENTITY), "id",
            attachments=[("foto.jpg", jpeg_with_exif()), ("surat.pdf", PDF_BYTES)],
            now=FRIDAY_15_AUG)
        anonymous = feedback_submit(valid_data(kind="suggestion", anonymous=True), "en",
                                    now=FRIDAY_15_AUG)
        return {"named": named.tracking_code, "anonymous": anonymous.tracking_code}


def _only_archive(folder: Path) -> Path:
    """Return the one archive a backup into a folder wrote."""
    archives = list(folder.iterdir())
    assert len(archives) == 1, archives
    return archives[0]


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        stream = tar.extractfile("manifest.json")
        assert stream is not None
        return json.load(stream)


def test_a_restored_backup_holds_every_row_and_attachment_of_the_original(installations,
                                                                          tmp_path):
    source, target = installations
    codes = fill(source)
    backups = tmp_path / "backups"
    backups.mkdir()

    created = source.flask("backup", "create", str(backups))
    assert created.exit_code == 0, created.output
    archive = _only_archive(backups)
    restored = target.flask("backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output

    original = source.rows()
    # What was filed above: 3 requests, 2 feedback, 2 attachments, and daily aggregates.
    assert len(original["service_request"]) == 3
    assert len(original["feedback"]) == 2
    assert len(original["feedback_attachment"]) == 2
    assert original["service_day"]
    assert target.rows() == original
    assert target.files() == source.files()
    assert len(target.files()) == 2
    with target.app.app_context():
        named = feedback_get(codes["named"])
        assert (named.reporter_name, named.reporter_email) == (IDENTITY["name"],
                                                               IDENTITY["email"])
        # Each attachment the restored feedback names is the very file the original had.
        assert len(named.attachments) == 2
        for attachment in named.attachments:
            assert (target.uploads / attachment.stored_name).read_bytes() \
                == (source.uploads / attachment.stored_name).read_bytes()
        assert feedback_get(codes["anonymous"]).reporter_name is None
        # The restored database goes on: a new feedback gets an id of its own.
        newest = feedback_submit(valid_data(), "id", now=FRIDAY_15_AUG)
        assert newest.id == max(row[0] for row in original["feedback"]) + 1


def test_the_archive_is_private_and_its_manifest_counts_what_it_holds(installations, tmp_path):
    source, _target = installations
    fill(source)
    archive = tmp_path / "nightly.tar"

    created = source.flask("backup", "create", str(archive))

    assert created.exit_code == 0, created.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    manifest = _manifest(archive)
    assert manifest["schema_revision"] == HEAD
    assert (manifest["tables"]["service_request"], manifest["tables"]["feedback"],
            manifest["tables"]["feedback_attachment"], manifest["tables"]["alembic_version"]) \
        == (3, 2, 2, 1)
    assert sorted(a["name"] for a in manifest["attachments"]) == sorted(source.files())
    with tarfile.open(archive) as tar:
        kind = "sqlite3" if source.url.startswith("sqlite") else "pgdump"
        assert sorted(tar.getnames()) == sorted(
            ["manifest.json", f"database.{kind}"]
            + [f"uploads/{name}" for name in source.files()])
    again = source.flask("backup", "create", str(archive))
    assert again.exit_code != 0
    assert "exists already" in again.output


@pytest.fixture
def sqlite_pair(tmp_path) -> Iterator[tuple[Installation, Installation]]:
    """A filled SQLite installation and an empty one."""
    source = Installation(f"sqlite:///{tmp_path / 'source.sqlite3'}", tmp_path / "source-up")
    target = Installation(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "target-up")
    fill(source)
    yield source, target
    source.close()
    target.close()


def test_a_restore_never_writes_over_a_database_that_has_tables(sqlite_pair, tmp_path):
    source, target = sqlite_pair
    archive = tmp_path / "backup.tar"
    assert source.flask("backup", "create", str(archive)).exit_code == 0
    target.upgrade()
    with target.app.app_context():
        create_service(code="layanan-baru")

    refused = target.flask("backup", "restore", str(archive))

    assert refused.exit_code != 0
    assert "restore into an empty database" in refused.output
    with target.app.app_context():
        assert list(db.session.scalars(select(Service.code))) == ["layanan-baru"]
    assert target.files() == {}


def test_a_damaged_attachment_in_the_archive_restores_nothing(sqlite_pair, tmp_path):
    source, target = sqlite_pair
    archive = tmp_path / "backup.tar"
    assert source.flask("backup", "create", str(archive)).exit_code == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()
            if member.name.endswith(".pdf"):
                data = data.replace(b"/MediaBox", b"/MediaBax")
                broken = member.name.removeprefix("uploads/")
            copy.addfile(member, io.BytesIO(data))

    refused = target.flask("backup", "restore", str(damaged))

    assert refused.exit_code != 0
    assert f"the attachment {broken} in the archive is damaged" in refused.output
    assert target.table_names() == []
    assert target.files() == {}


def test_an_attachment_missing_at_backup_time_is_named_and_the_rest_restored(sqlite_pair,
                                                                             tmp_path):
    source, target = sqlite_pair
    lost = next(name for name in source.files() if name.endswith(".jpg"))
    (source.uploads / lost).unlink()
    archive = tmp_path / "backup.tar"

    created = source.flask("backup", "create", str(archive))

    assert created.exit_code == 0, created.output
    assert f"attachment {lost} is missing" in created.stderr
    assert _manifest(archive)["missing_attachments"] == [lost]
    restored = target.flask("backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert f"attachment {lost} was already missing" in restored.stderr
    assert target.files() == source.files()
    assert target.rows() == source.rows()


def test_the_database_password_reaches_pg_dump_through_its_environment_not_its_arguments(
        monkeypatch):
    # Any user of the server can read a process's arguments (ps), not its environment.
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=(
        "postgresql+psycopg://pantau:s3cret%21@db.example.go.id:5432/pantau?sslmode=require")))
    calls = []

    def run(args, env, **_options):
        calls.append((args, env))
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    with app.app_context():
        backup._run_postgresql_tool("pg_dump", "--format=custom")

    [(args, env)] = calls
    assert not [arg for arg in args if "s3cret" in arg]
    assert env["PGPASSWORD"] == "s3cret!"
    assert args == ["/usr/bin/pg_dump", "--format=custom",
                    "--dbname=postgresql://pantau@db.example.go.id:5432/pantau?sslmode=require"]
