"""Flask commands for e-mail subscriptions: announce pending events, send the DPRD digest."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from portal.cli.jobs import periodic_job
from portal.services.subscriptions.digest import dprd_digest_send
from portal.services.subscriptions.notify import subscriptions_notify

subscriptions_cli = AppGroup("subscriptions", help="E-mail subscriptions and the DPRD digest.")


def notify_and_report() -> None:
    """Announce what subscribers have not been told yet and print what was done."""
    summary = subscriptions_notify()
    if summary.already_sent:
        click.echo("subscriptions: another run announced the same events")
        return
    click.echo(f"subscriptions: {summary.events} events announced in {summary.mails} mails, "
               f"{summary.expired} unconfirmed subscriptions expired")


@subscriptions_cli.command("notify")
def notify_command() -> None:
    """Mail subscribers the status changes, incidents and maintenance not announced yet."""
    notify_and_report()


@subscriptions_cli.command("digest")
@periodic_job("subscriptions digest")
def send_digest_command() -> None:
    """Queue the DPRD digest of the last complete week (once per week; run it on Mondays)."""
    summary = dprd_digest_send()
    if summary.already_sent:
        click.echo(f"DPRD digest of week {summary.week}: already sent")
    else:
        click.echo(f"DPRD digest of week {summary.week}: {summary.mails} mails queued")


def init_subscriptions_cli(app: Flask) -> None:
    """Register the subscription commands."""
    app.cli.add_command(subscriptions_cli)
