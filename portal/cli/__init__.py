"""Flask commands: catalogue import, demo data, calendar exceptions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from portal.cli.backup import backup_cli
from portal.cli.feedback import init_feedback_cli
from portal.cli.incidents import COMMAND_GROUPS as incident_groups
from portal.cli.metrics import init_metrics_cli
from portal.cli.open311 import open311_cli
from portal.cli.subscriptions import init_subscriptions_cli
from portal.cli.users import users_cli
from portal.config import BASE_DIR
from portal.services.catalogue import directory as catalogue_service
from portal.services.catalogue import pointers as pointer_service
from portal.services.demo import load as demo_service
from portal.services.errors import ValidationError
from portal.services.metrics.calendar_changes import calendar_day_set, calendar_day_unset

catalogue_cli = AppGroup("catalogue", help="Manage the catalogue of departments and services.")
demo_cli = AppGroup("demo", help="Demo data.")
calendar_cli = AppGroup("calendar", help="Extra non-working days and working-day overrides.")


def _print_errors(error: ValidationError) -> None:
    """Print each validation error on its own line to stderr."""
    for item in error.errors:
        where = f"line {item.index}: " if item.index is not None else ""
        click.echo(f"{where}{item.field} {item.error}", err=True)


@catalogue_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pointers", "pointers_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also replace the pointers to services the province does not provide "
                   "(a second CSV: code,topic_id,topic_en,where_id,where_en,url,"
                   "keywords_id,keywords_en).")
def catalogue_import(path: Path, pointers_path: Path | None) -> None:
    """Import a catalogue CSV (and optionally the pointers CSV): all rows or none."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            rows = catalogue_service.catalogue_parse(stream)
        pointer_rows = None
        if pointers_path is not None:
            with pointers_path.open(encoding="utf-8-sig", newline="") as stream:
                pointer_rows = pointer_service.pointer_parse(stream)
        summary = catalogue_service.catalogue_import(rows)
        if pointer_rows is not None:
            pointers = pointer_service.pointer_import(pointer_rows)
            click.echo(
                f"pointers: {pointers.created} created, {pointers.updated} updated, "
                f"{pointers.removed} removed, {pointers.unchanged} unchanged"
            )
    except UnicodeDecodeError:
        click.echo("the file is not UTF-8 text", err=True)
        sys.exit(1)
    except ValidationError as error:
        _print_errors(error)
        click.echo(f"{len(error.errors)} problem(s): nothing was imported.", err=True)
        sys.exit(1)
    click.echo(
        f"departments: {summary.departments_created} created, "
        f"{summary.departments_updated} updated; services: {summary.services_created} created, "
        f"{summary.services_updated} updated, {summary.services_unchanged} unchanged"
    )


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo catalogue (and its generated history) and show the demo notice."""
    summary = demo_service.demo_load()
    click.echo(
        f"demo data loaded: {summary.services_created} services created, "
        f"{summary.services_updated} updated, {summary.services_unchanged} unchanged"
    )


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--non-working", required=True, help="Mark the day as working or not.")
@click.option("--note", default="", help="Why (shown to administrators).")
def calendar_set(day, working: bool, note: str) -> None:
    """Record an extra non-working day or a working-day override."""
    calendar_day_set(day.date(), working, note)
    click.echo(f"{day.date().isoformat()}: {'working' if working else 'non-working'}")


@calendar_cli.command("unset")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def calendar_unset(day) -> None:
    """Remove an administrator's exception for a day."""
    calendar_day_unset(day.date())
    click.echo(f"{day.date().isoformat()}: back to the national calendar")


translate_cli = AppGroup("translate", help="Translation catalogues (Flask-Babel).")
_BABEL = [sys.executable, "-m", "babel.messages.frontend"]


def _babel(*args: str) -> None:
    """Run a pybabel command from the repository root, failing loudly."""
    subprocess.run([*_BABEL, *args], cwd=BASE_DIR, check=True)


@translate_cli.command("update")
def translate_update() -> None:
    """Extract the source strings and merge them into every catalogue."""
    _babel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
           "-o", "messages.pot", "portal")
    _babel("update", "-i", "messages.pot", "-d", "translations", "--no-fuzzy-matching",
           "--ignore-obsolete")
    os.remove("messages.pot")


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile every catalogue to the .mo files the portal reads."""
    _babel("compile", "-d", "translations", "--statistics")


@translate_cli.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start a catalogue for a new language."""
    _babel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
           "-o", "messages.pot", "portal")
    _babel("init", "-i", "messages.pot", "-d", "translations", "-l", language)
    os.remove("messages.pot")


def init_cli(app: Flask) -> None:
    """Register the command groups."""
    for group in (catalogue_cli, demo_cli, calendar_cli, translate_cli):
        app.cli.add_command(group)
    init_metrics_cli(app)
    app.cli.add_command(users_cli)
    for group in incident_groups:
        app.cli.add_command(group)
    init_feedback_cli(app)
    app.cli.add_command(open311_cli)
    app.cli.add_command(backup_cli)
    init_subscriptions_cli(app)
