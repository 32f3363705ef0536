"""Flask commands for incidents, planned maintenance and availability checks.

The staff pages do the same through the same services; here the command line acts as the
CLI operator (an administrator's permissions, incidents signed "cli").
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import NoReturn

import click
from flask.cli import AppGroup

from portal.cli.jobs import periodic_job
from portal.models.incidents import INCIDENT_IMPACTS, INCIDENT_STATES
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotFound, ValidationError
from portal.services.metrics import availability as availability_service
from portal.services.metrics import incidents as incident_service
from portal.services.subscriptions.notify import subscriptions_notify_now

incidents_cli = AppGroup("incidents", help="Open, update and list incidents.")
maintenance_cli = AppGroup("maintenance", help="Declare and list planned maintenance.")
checks_cli = AppGroup("checks", help="Availability checks of the services' online channels.")


def _fail(error: ValidationError | NotFound) -> NoReturn:
    """Print a domain error to stderr and exit with status 1."""
    if isinstance(error, NotFound):
        click.echo(f"not found: {error}", err=True)
    else:
        for item in error.errors:
            click.echo(f"{item.field}: {item.error}", err=True)
        click.echo("nothing was written.", err=True)
    sys.exit(1)


def _parse_time(value: str, option: str) -> datetime:
    """Read an ISO 8601 time that carries a time zone offset, or exit."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        click.echo(f"{option}: not an ISO 8601 time: {value}", err=True)
        sys.exit(1)
    if parsed.tzinfo is None:
        click.echo(f"{option}: add a time zone offset, e.g. {value}+07:00", err=True)
        sys.exit(1)
    return parsed


def _service_codes(incident) -> str:
    """Return the codes of an incident's or maintenance's services, comma separated."""
    return ",".join(s.code for s in incident.services)


@incidents_cli.command("open")
@click.option("--service", "services", multiple=True, required=True, help="Service code.")
@click.option("--impact", type=click.Choice(INCIDENT_IMPACTS), required=True)
@click.option("--state", type=click.Choice(INCIDENT_STATES[:-1]), default="investigating",
              show_default=True)
@click.option("--title-id", required=True, help="Title in Indonesian.")
@click.option("--title-en", default="", help="Title in English.")
@click.option("--body-id", required=True, help="First update in Indonesian.")
@click.option("--body-en", default="", help="First update in English.")
def incidents_open(
    services: tuple[str, ...], impact: str, state: str, title_id: str, title_en: str,
    body_id: str, body_en: str,
) -> None:
    """Open an incident on one or more services."""
    try:
        incident = incident_service.incident_open(
            CLI_OPERATOR, list(services), impact, title_id, title_en, body_id, body_en, state=state
        )
    except ValidationError as error:
        _fail(error)
    click.echo(f"incident {incident.id} opened ({impact}) on {_service_codes(incident)}")
    subscriptions_notify_now()


@incidents_cli.command("update")
@click.argument("incident_id", type=int)
@click.option("--state", type=click.Choice(INCIDENT_STATES), required=True)
@click.option("--body-id", required=True, help="Update in Indonesian.")
@click.option("--body-en", default="", help="Update in English.")
def incidents_update(incident_id: int, state: str, body_id: str, body_en: str) -> None:
    """Post an update to an incident (state resolved closes it)."""
    try:
        incident_service.incident_update(CLI_OPERATOR, incident_id, state, body_id, body_en)
    except (ValidationError, NotFound) as error:
        _fail(error)
    click.echo(f"incident {incident_id} is now {state}")
    subscriptions_notify_now()  # a resolution is announced to subscribers


@incidents_cli.command("list")
@click.option("--open-only", is_flag=True, help="Only incidents not resolved yet.")
@click.option("--service", default=None, help="Only incidents naming this service code.")
@click.option("--limit", type=int, default=50, show_default=True)
def incidents_list(open_only: bool, service: str | None, limit: int) -> None:
    """List incidents, open ones first."""
    incidents = incident_service.incident_list(
        service=service, include_resolved=not open_only, limit=limit
    )
    for incident in incidents:
        resolved = incident.resolved_at.isoformat() if incident.resolved_at else "-"
        click.echo(
            f"{incident.id}\t{incident.impact}\t{incident.state}\t"
            f"{incident.started_at.isoformat()}\t{resolved}\t{_service_codes(incident)}\t"
            f"{incident.title_id}"
        )
    click.echo(f"{len(incidents)} incident(s)")


@maintenance_cli.command("add")
@click.option("--service", "services", multiple=True, required=True, help="Service code.")
@click.option("--start", required=True, help="ISO 8601 with offset, e.g. 2026-03-07T22:00+07:00")
@click.option("--end", required=True, help="ISO 8601 with offset, after the start.")
@click.option("--title-id", required=True, help="Title in Indonesian.")
@click.option("--title-en", default="", help="Title in English.")
@click.option("--description-id", default="", help="Description in Indonesian.")
@click.option("--description-en", default="", help="Description in English.")
def maintenance_add(
    services: tuple[str, ...], start: str, end: str, title_id: str, title_en: str,
    description_id: str, description_en: str,
) -> None:
    """Declare planned maintenance of one or more services."""
    starts_at, ends_at = _parse_time(start, "--start"), _parse_time(end, "--end")
    try:
        maintenance = incident_service.maintenance_schedule(
            CLI_OPERATOR, list(services), starts_at, ends_at, title_id, title_en,
            description_id, description_en,
        )
    except ValidationError as error:
        _fail(error)
    click.echo(
        f"maintenance {maintenance.id} scheduled on {_service_codes(maintenance)} from "
        f"{maintenance.starts_at.isoformat()} to {maintenance.ends_at.isoformat()}"
    )
    subscriptions_notify_now()


@maintenance_cli.command("list")
@click.option("--when", type=click.Choice(incident_service.MAINTENANCE_WHEN), default=None,
              help="Only upcoming, ongoing, past or current (ongoing or upcoming) windows.")
def maintenance_list(when: str | None) -> None:
    """List planned maintenance windows."""
    items = incident_service.maintenance_list(when=when)
    for item in items:
        click.echo(
            f"{item.id}\t{item.starts_at.isoformat()}\t{item.ends_at.isoformat()}\t"
            f"{_service_codes(item)}\t{item.title_id}"
        )
    click.echo(f"{len(items)} maintenance window(s)")


@checks_cli.command("run")
@click.option("--timeout", type=float, default=availability_service.DEFAULT_TIMEOUT,
              show_default=True, help="Seconds a check may take to succeed.")
@periodic_job("checks run")
def checks_run(timeout: float) -> None:
    """Probe every service's online channel once and store the results."""
    summary = availability_service.checks_run(timeout=timeout)
    for code, url, result in summary.results:
        outcome = "ok" if result.ok else f"FAILED ({result.error})"
        click.echo(f"{code}\t{url}\t{result.status_code or '-'}\t{result.elapsed_ms} ms\t"
                   f"{outcome}")
    click.echo(
        f"{summary.total} checked, {summary.succeeded} succeeded, {summary.failed} failed"
    )


COMMAND_GROUPS = (incidents_cli, maintenance_cli, checks_cli)
