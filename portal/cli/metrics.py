"""Flask commands for service-level metrics: API tokens, request import, status refresh."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.cli.credentials import credential_line
from portal.cli.jobs import periodic_job
from portal.cli.subscriptions import notify_and_report
from portal.extensions import db
from portal.models.catalogue import Service
from portal.services.accountability.tables import accountability_refresh
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotFound, ValidationError
from portal.services.metrics.service_requests import (
    service_requests_import_csv,
    service_requests_recompute,
)
from portal.services.metrics.status import STATUS_WINDOW_DAYS, status_refresh
from portal.services.metrics.tokens import token_create, token_list, token_revoke

tokens_cli = AppGroup("tokens", help="Department API tokens for the reporting API.")
requests_cli = AppGroup("requests", help="Service requests reported by departments.")
status_cli = AppGroup("status", help=f"Service status over the last {STATUS_WINDOW_DAYS} days.")


@tokens_cli.command("create")
@click.argument("department_code")
@click.option("--label", default="", help="What the token is for (e.g. the sending system).")
def tokens_create(department_code: str, label: str) -> None:
    """Create an API token for a department and print it (last line, shown only once)."""
    try:
        token, plaintext = token_create(department_code, label, actor=CLI_OPERATOR)
    except NotFound:
        click.echo(f"unknown department: {department_code}", err=True)
        sys.exit(1)
    except ValidationError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"token {token.id} created for {department_code}; store it now, it is not "
               "shown again:")
    click.echo(plaintext)


@tokens_cli.command("list")
@click.option("--department", "department_code", default=None, help="Only this department.")
def tokens_list(department_code: str | None) -> None:
    """List tokens by id (never their value)."""
    for token in token_list(department_code, actor=CLI_OPERATOR):
        click.echo(credential_line(token, token.department.code, after=token.label))


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token: it stops working at once."""
    try:
        token_revoke(token_id, actor=CLI_OPERATOR)
    except NotFound:
        click.echo(f"unknown token: {token_id}", err=True)
        sys.exit(1)
    click.echo(f"token {token_id} revoked")


@requests_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--department", "department_code", required=True, help="The reporting department.")
def requests_import(path: Path, department_code: str) -> None:
    """Import a CSV of service requests for one department: all rows or none."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            summary = service_requests_import_csv(department_code, stream)
    except UnicodeDecodeError:
        click.echo("the file is not UTF-8 text", err=True)
        sys.exit(1)
    except ValidationError as error:
        for item in error.errors:
            where = f"line {item.index}: " if item.index is not None else ""
            click.echo(f"{where}{item.field} {item.error}", err=True)
        click.echo(f"{len(error.errors)} problem(s): nothing was imported.", err=True)
        sys.exit(1)
    click.echo(f"requests: {summary.created} created, {summary.updated} updated, "
               f"{summary.unchanged} unchanged")


@requests_cli.command("recompute")
@click.option("--service", "service_codes", multiple=True,
              help="Only this service (repeat for several); all services by default.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only requests received on or after this WIB date (YYYY-MM-DD).")
def requests_recompute(service_codes: tuple[str, ...], since) -> None:
    """Recompute deadlines, daily figures and statuses (all history: rebuilt from requests)."""
    ids = None
    if service_codes:
        found = dict(db.session.execute(
            select(Service.code, Service.id).where(Service.code.in_(service_codes))
        ).all())
        unknown = sorted(set(service_codes) - set(found))
        if unknown:
            click.echo(f"unknown service: {', '.join(unknown)}", err=True)
            sys.exit(1)
        ids = list(found.values())
    # Without --since every stored figure is rebuilt from the requests under the current
    # definitions; with it, only what deadlines from that day on change.
    summary = service_requests_recompute(ids, received_from=since.date() if since else None,
                                         rebuild=since is None)
    click.echo(f"deadlines recomputed: {summary.requests} requests of {summary.services} "
               f"services read, {summary.changed} changed")
    _refresh_accountability()


@status_cli.command("refresh")
@periodic_job("status refresh")
def status_refresh_command() -> None:
    """Recompute every service's status (run it periodically, e.g. every 10 minutes)."""
    count = status_refresh()
    click.echo(f"status refreshed for {count} services")
    # Subscribers hear of the changes this refresh stored (and of new incidents, maintenance).
    notify_and_report()
    _refresh_accountability()


def _refresh_accountability() -> None:
    """Store the accountability figures of the standard periods anew (when they are stored)."""
    if current_app.config.get("PORTAL_ACCOUNTABILITY_SNAPSHOTS", True):
        stored = accountability_refresh()
        click.echo(f"accountability figures stored: {stored}")


def init_metrics_cli(app: Flask) -> None:
    """Register the metrics command groups."""
    for group in (tokens_cli, requests_cli, status_cli):
        app.cli.add_command(group)
