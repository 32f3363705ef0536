"""Flask commands for feedback: routing rules, the triage unit, the periodic tick, the outbox."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.cli.jobs import periodic_job
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback.citizen import feedback_tick
from portal.services.feedback.digest import feedback_digest
from portal.services.feedback.routing import (
    integrity_phrase_add,
    integrity_phrase_delete,
    integrity_phrase_list,
    integrity_unit,
    routing_integrity_unit_set,
    routing_rule_add,
    routing_rule_delete,
    routing_rule_list,
    routing_triage_unit_set,
    triage_unit,
)
from portal.services.outbox import outbox_pending_count, outbox_send

routing_cli = AppGroup(
    "routing", help="Feedback routing rules, the triage unit, integrity phrases and unit.")
feedback_cli = AppGroup("feedback", help="Citizen feedback.")
outbox_cli = AppGroup("outbox", help="The mail outbox.")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@routing_cli.command("add")
@click.argument("department_code")
@click.argument("phrase")
@click.option("--priority", type=int, default=0, show_default=True,
              help="Higher wins when several rules match.")
def routing_add(department_code: str, phrase: str, priority: int) -> None:
    """Route feedback mentioning PHRASE (whole words) to DEPARTMENT_CODE."""
    try:
        rule = routing_rule_add(department_code, phrase, priority, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no department with code {department_code!r}")
    except ValidationError as error:
        _fail(str(error))
    click.echo(f"rule {rule.id}: {rule.phrase!r} -> {department_code} (priority {priority})")


@routing_cli.command("list")
def routing_list() -> None:
    """List the units, the integrity phrases, and the routing rules in the order they win."""
    unit = triage_unit()
    click.echo(f"triage unit: {unit.code if unit else '(none: run routing triage-unit CODE)'}")
    integrity = integrity_unit()
    click.echo("integrity unit: "
               f"{integrity.code if integrity else '(none: run routing integrity-unit CODE)'}")
    for item in integrity_phrase_list(CLI_OPERATOR):
        click.echo(f"integrity {item.id}\t{item.phrase}")
    for rule in routing_rule_list(CLI_OPERATOR):
        click.echo(f"{rule.id}\t{rule.priority}\t{rule.department.code}\t{rule.phrase}")


@routing_cli.command("add-integrity")
@click.argument("phrase")
def routing_add_integrity(phrase: str) -> None:
    """Make feedback mentioning PHRASE (whole words) an integrity report (routing rule 0)."""
    try:
        with force_locale("en"):  # CLI messages in English, like the help text
            item = integrity_phrase_add(phrase, actor=CLI_OPERATOR)
    except ValidationError as error:
        _fail(str(error))
    click.echo(f"integrity phrase {item.id}: {item.phrase!r} -> the integrity unit")


@routing_cli.command("list-integrity")
def routing_list_integrity() -> None:
    """List the integrity unit and the integrity phrases (id, phrase)."""
    integrity = integrity_unit()
    click.echo("integrity unit: "
               f"{integrity.code if integrity else '(none: run routing integrity-unit CODE)'}")
    for item in integrity_phrase_list(CLI_OPERATOR):
        click.echo(f"{item.id}\t{item.phrase}")


@routing_cli.command("remove-integrity")
@click.argument("phrase_id", type=int)
def routing_remove_integrity(phrase_id: int) -> None:
    """Delete an integrity phrase (by the id that list-integrity shows)."""
    try:
        integrity_phrase_delete(phrase_id, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no integrity phrase {phrase_id}")
    click.echo(f"integrity phrase {phrase_id} removed")


@routing_cli.command("integrity-unit")
@click.argument("department_code")
def routing_integrity_unit(department_code: str) -> None:
    """Mark DEPARTMENT_CODE as the integrity unit (the only one), e.g. the Inspektorat."""
    try:
        routing_integrity_unit_set(department_code, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no department with code {department_code!r}")
    click.echo(f"integrity unit: {department_code}")


@routing_cli.command("remove")
@click.argument("rule_id", type=int)
def routing_remove(rule_id: int) -> None:
    """Delete a routing rule."""
    try:
        routing_rule_delete(rule_id, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no rule {rule_id}")
    click.echo(f"rule {rule_id} removed")


@routing_cli.command("triage-unit")
@click.argument("department_code")
def routing_triage_unit(department_code: str) -> None:
    """Mark DEPARTMENT_CODE as the triage unit (the only one)."""
    try:
        routing_triage_unit_set(department_code, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no department with code {department_code!r}")
    click.echo(f"triage unit: {department_code}")


@feedback_cli.command("tick")
@periodic_job("feedback tick")
def feedback_tick_command() -> None:
    """Close resolved feedback past its automatic close; queue overdue reminders once."""
    summary = feedback_tick()
    click.echo(f"closed: {summary.closed}, reminders queued: {summary.reminders}")


@feedback_cli.command("digest")
@periodic_job("feedback digest")
def feedback_digest_command() -> None:
    """Queue today's digest of overdue feedback to each department (once per WIB day)."""
    summary = feedback_digest()
    click.echo(
        f"departments: {summary.departments}, mails queued: {summary.mails}, "
        f"already sent today: {summary.already_sent}"
    )


@outbox_cli.command("send")
@click.option("--limit", type=int, default=100, show_default=True)
@periodic_job("outbox send")
def outbox_send_command(limit: int) -> None:
    """Send the mail that is due; failures are retried later with backoff."""
    summary = outbox_send(limit=limit)
    click.echo(
        f"sent: {summary.sent}, failed: {summary.failed}, still pending: {outbox_pending_count()}"
    )


def init_feedback_cli(app: Flask) -> None:
    """Register the feedback command groups."""
    for group in (routing_cli, feedback_cli, outbox_cli):
        app.cli.add_command(group)
