"""Backup and restore: the database and the uploaded attachments in one archive.

``flask --app wsgi backup create PATH`` writes one tar archive, readable by its owner only
(it holds reporters' identities and attachments), with

- ``manifest.json``: the archive format, when it was made, the database kind, the schema
  revision (Alembic), the rows of every table, and the name, size and SHA-256 of every
  attachment;
- ``database.sqlite3`` (SQLite: a copy made with SQLite's online backup API, consistent while
  the portal keeps writing) or ``database.pgdump`` (PostgreSQL: ``pg_dump``'s custom format,
  taken in the very snapshot the manifest's counts were read in);
- ``uploads/NAME``: every attachment the database refers to.

``flask --app wsgi backup restore PATH`` puts them into an empty database and an empty upload
folder, never over data (restoring is for a new installation or after a disaster), then checks
every table's rows and every file against the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Connection

from portal.extensions import db
from portal.services.attachments import attachment_path, upload_dir

ARCHIVE_FORMAT = "pantau-layanan-backup"
ARCHIVE_VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_CHUNK = 1024 * 1024

backup_cli = AppGroup("backup", help="Back up and restore the database and the attachments.")


@dataclass(frozen=True)
class DatabaseFacts:
    """What the manifest records about a database: schema revision, rows, attachments."""

    revision: str | None
    tables: dict[str, int]
    attachments: list[str]


@dataclass(frozen=True)
class ArchivedFile:
    """An attachment as the archive holds it."""

    name: str
    path: Path
    size: int
    sha256: str


def database_facts(conn: Connection) -> DatabaseFacts:
    """Read the schema revision, the rows of every table and the attachment names."""
    names = sorted(inspect(conn).get_table_names())
    quote = conn.dialect.identifier_preparer.quote
    tables = {
        name: conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()
        for name in names
    }
    revision = None
    if "alembic_version" in names:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        revision = ",".join(sorted(versions)) or None
    attachments: list[str] = []
    if "feedback_attachment" in names:
        attachments = list(conn.execute(text(
            "SELECT stored_name FROM feedback_attachment ORDER BY stored_name")).scalars())
    return DatabaseFacts(revision=revision, tables=tables, attachments=attachments)


def _database_kind() -> str:
    """Return "sqlite" or "postgresql", the kind of the configured database."""
    kind = db.engine.dialect.name
    if kind not in DATABASE_MEMBERS:
        raise click.ClickException(f"backups support SQLite and PostgreSQL, not {kind}")
    return kind


def _sqlite_file() -> str:
    """Return the file of the configured SQLite database."""
    name = db.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise click.ClickException("the SQLite database must be a file (DATABASE_URL)")
    return name


def _run_postgresql_tool(tool: str, *args: str) -> None:
    """Run pg_dump or pg_restore on the configured database, the password in the environment.

    The password goes through PGPASSWORD, not the command line, which other users can read.
    """
    program = shutil.which(tool)
    if program is None:
        raise click.ClickException(
            f"{tool} is not installed: apt-get install postgresql-client "
            "(of the server's major version or newer)")
    url: URL = db.engine.url
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    # Built anew: URL.set(password=None) would keep the password.
    conninfo = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                          database=url.database, query=url.query).render_as_string()
    result = subprocess.run([program, *args, f"--dbname={conninfo}"], env=environment,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"{tool} failed: {result.stderr.strip()}")


def _sqlite_copy(target: Path) -> DatabaseFacts:
    """Copy the SQLite database with the online backup API; return the copy's facts."""
    with db.engine.connect() as conn:
        source = conn.connection.driver_connection
        with closing(sqlite3.connect(target)) as copy:
            # One step: the copy is the database as it was at one moment, whatever the
            # portal's processes write meanwhile.
            source.backup(copy)
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return database_facts(conn)
    finally:
        engine.dispose()


def _postgresql_dump(target: Path) -> DatabaseFacts:
    """Dump the PostgreSQL database with pg_dump; return the facts of the dumped snapshot."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        # pg_dump reads the snapshot this transaction exports, so the counts below describe
        # exactly what it dumps, whatever the portal writes meanwhile.
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = database_facts(conn)
        _run_postgresql_tool("pg_dump", "--format=custom", f"--snapshot={snapshot}",
                             f"--file={target}")
    return facts


def _sha256(stream: IO[bytes]) -> str:
    """Return the SHA-256 of what a binary stream holds from where it is."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _attachment_files(names: list[str]) -> tuple[list[ArchivedFile], list[str]]:
    """Return the attachment files to archive, and the names of those missing on disk."""
    files, missing = [], []
    for name in names:
        path = attachment_path(name)
        try:
            with path.open("rb") as stream:
                files.append(ArchivedFile(name=path.name, path=path,
                                          size=path.stat().st_size, sha256=_sha256(stream)))
        except FileNotFoundError:
            missing.append(name)
    return files, missing


def _write_archive(partial: Path, manifest: dict[str, Any], database_file: Path,
                   files: list[ArchivedFile]) -> None:
    """Write the archive to a new file that only its owner may read, and flush it to disk."""
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(data))
            tar.add(database_file, arcname=database_file.name, recursive=False)
            for file in files:
                tar.add(file.path, arcname=UPLOADS + file.name, recursive=False)
        stream.flush()
        os.fsync(stream.fileno())


@backup_cli.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def backup_create(path: Path) -> None:
    """Write the database and the attachments to one archive: PATH, or a new file in PATH."""
    now = datetime.now(UTC)
    archive = path / f"pantau-{now:%Y%m%d-%H%M%S}.tar" if path.is_dir() else path
    if archive.exists():
        raise click.ClickException(f"{archive} exists already: choose another name")
    if not archive.parent.is_dir():
        raise click.ClickException(f"{archive.parent} is not a folder")
    kind = _database_kind()
    # Staged beside the archive (where space for it was planned), then renamed into place:
    # a failed or interrupted backup never leaves a partial archive under PATH.
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".pantau-backup-") as stage:
        database_file = Path(stage) / DATABASE_MEMBERS[kind]
        facts = _sqlite_copy(database_file) if kind == "sqlite" else _postgresql_dump(
            database_file)
        files, missing = _attachment_files(facts.attachments)
        manifest = {
            "format": ARCHIVE_FORMAT,
            "format_version": ARCHIVE_VERSION,
            "created_at": now.isoformat(timespec="seconds"),
            "database": kind,
            "schema_revision": facts.revision,
            "tables": facts.tables,
            "attachments": [{"name": f.name, "size": f.size, "sha256": f.sha256}
                            for f in files],
            "missing_attachments": missing,
        }
        partial = Path(stage) / "archive.tar"
        _write_archive(partial, manifest, database_file, files)
        os.replace(partial, archive)
    for name in missing:
        click.echo(f"warning: attachment {name} is missing from {upload_dir()}; the archive "
                   "lists it as missing", err=True)
    click.echo(f"backup written to {archive}: {sum(facts.tables.values())} rows in "
               f"{len(facts.tables)} tables, {len(files)} attachments, schema revision "
               f"{facts.revision or 'unknown'}")


def _read_manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    """Return the archive's manifest, refusing a file that is no backup of the portal."""
    try:
        stream = tar.extractfile(MANIFEST)
        manifest = json.load(stream) if stream else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise click.ClickException(f"{path} is not a backup of Pantau Layanan")
    if manifest.get("format_version") != ARCHIVE_VERSION:
        raise click.ClickException(
            f"{path} is a backup of format {manifest.get('format_version')}; this release "
            f"reads format {ARCHIVE_VERSION}")
    return manifest


def _check_restorable(manifest: dict[str, Any], kind: str) -> None:
    """Refuse an archive of another database kind or of a schema this release does not know."""
    if manifest["database"] != kind:
        raise click.ClickException(
            f"the archive holds a {manifest['database']} database and DATABASE_URL names a "
            f"{kind} one: restore it into the same kind")
    revision = manifest.get("schema_revision")
    if revision:
        scripts = ScriptDirectory(current_app.extensions["migrate"].directory)
        for number in revision.split(","):
            try:
                scripts.get_revision(number)
            except CommandError:
                raise click.ClickException(
                    f"the archive's schema revision {revision} is unknown to this release: "
                    "restore it with the release that made it, or a newer one") from None
    with db.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        raise click.ClickException(
            f"the database already has {len(tables)} tables: restore into an empty database "
            "(README, \"Backup and restore\")")
    if any(upload_dir().iterdir()):
        raise click.ClickException(f"{upload_dir()} is not empty: restore into an empty folder")


def _archived_uploads(tar: tarfile.TarFile,
                      manifest: dict[str, Any]) -> Iterator[tuple[str, str, IO[bytes]]]:
    """Yield (name, SHA-256, content) of every attachment the manifest lists."""
    for entry in manifest["attachments"]:
        name = entry["name"]
        # Names are the portal's random ones: a path in one would write outside the folder.
        if os.path.basename(name) != name or name.startswith("."):
            raise click.ClickException(f"the archive names an attachment {name!r}")
        try:
            member = tar.getmember(UPLOADS + name)
        except KeyError:
            raise click.ClickException(f"the archive lacks the attachment {name}") from None
        stream = tar.extractfile(member) if member.isfile() else None
        if stream is None:
            raise click.ClickException(f"the archive's attachment {name} is not a file")
        yield name, entry["sha256"], stream


def _stage_uploads(tar: tarfile.TarFile, manifest: dict[str, Any], stage: Path) -> None:
    """Extract every attachment into stage, each checked against its SHA-256."""
    for name, expected, stream in _archived_uploads(tar, manifest):
        digest = hashlib.sha256()
        with open(stage / name, "xb") as out:
            for chunk in iter(lambda stream=stream: stream.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            raise click.ClickException(
                f"the attachment {name} in the archive is damaged (its SHA-256 differs from "
                "the manifest's)")


def _restore_database(tar: tarfile.TarFile, kind: str) -> None:
    """Restore the archive's database into the configured, empty one."""
    try:
        member = tar.getmember(DATABASE_MEMBERS[kind])
    except KeyError:
        raise click.ClickException("the archive holds no database") from None
    with tempfile.TemporaryDirectory(prefix="pantau-restore-") as stage:
        dump = Path(stage) / DATABASE_MEMBERS[kind]
        source = tar.extractfile(member)
        if source is None:
            raise click.ClickException("the archive's database is not a file")
        with open(dump, "xb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
        db.engine.dispose()
        if kind == "sqlite":
            with closing(sqlite3.connect(dump)) as copy, \
                    closing(sqlite3.connect(_sqlite_file())) as target:
                copy.backup(target)
        else:
            # One transaction: a failed restore leaves the database empty, not half-filled.
            # Owners and grants are those of whoever restores, whatever role made the dump.
            _run_postgresql_tool("pg_restore", "--single-transaction", "--exit-on-error",
                                 "--no-owner", "--no-privileges", str(dump))
        db.engine.dispose()


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def backup_restore(path: Path) -> None:
    """Restore an archive into an empty database and upload folder, then check them."""
    kind = _database_kind()
    with tarfile.open(path, mode="r") as tar:
        manifest = _read_manifest(tar, path)
        _check_restorable(manifest, kind)
        folder = upload_dir()
        # Attachments are extracted and checked first, inside the upload folder (the only
        # place the service may write), then the database, then the files move into place:
        # a damaged archive restores nothing.
        stage = Path(tempfile.mkdtemp(dir=folder, prefix=".restoring-"))
        try:
            _stage_uploads(tar, manifest, stage)
            _restore_database(tar, kind)
            for staged in stage.iterdir():
                os.replace(staged, folder / staged.name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    with db.engine.connect() as conn:
        restored = database_facts(conn)
    differences = [
        f"{table}: {manifest['tables'].get(table)} in the archive, {restored.tables.get(table)} "
        "restored"
        for table in sorted(set(manifest["tables"]) | set(restored.tables))
        if manifest["tables"].get(table) != restored.tables.get(table)
    ]
    if differences:
        raise click.ClickException("the restored database differs from the archive: "
                                   + "; ".join(differences))
    for name in manifest.get("missing_attachments", []):
        click.echo(f"warning: attachment {name} was already missing when the backup was made",
                   err=True)
    click.echo(f"restored from {path} (made {manifest['created_at']}): "
               f"{sum(restored.tables.values())} rows in {len(restored.tables)} tables, "
               f"{len(manifest['attachments'])} attachments, schema revision "
               f"{restored.revision or 'unknown'}. Run `flask --app wsgi db upgrade` if this "
               "release is newer than the one that made the backup.")
