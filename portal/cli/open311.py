"""Flask commands for Open311: the keys applications file requests with."""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup

from portal.domain.calendar import to_wib
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotFound, ValidationError
from portal.services.open311.keys import (
    open311_key_create,
    open311_key_list,
    open311_key_revoke,
)

open311_cli = AppGroup("open311", help="Open311 GeoReport v2 (/open311/v2).")
keys_cli = AppGroup("keys", help="The api_keys applications file requests with.")
open311_cli.add_command(keys_cli)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _when(value: datetime | None) -> str:
    return to_wib(value).strftime("%Y-%m-%d %H:%M WIB") if value else "-"


@keys_cli.command("create")
@click.argument("name")
def keys_create(name: str) -> None:
    """Issue a key to the application NAME and print it (it is shown only this once)."""
    try:
        key, plaintext = open311_key_create(name, actor=CLI_OPERATOR)
    except ValidationError as error:
        _fail(str(error))
    click.echo(f"key {key.id} for {key.name}: {plaintext}")
    click.echo("Store it now: only its hash is kept, it cannot be shown again.", err=True)


@keys_cli.command("list")
def keys_list() -> None:
    """List the keys (never their values): id, state, created, last used, name."""
    for key in open311_key_list(actor=CLI_OPERATOR):
        state = "active" if key.is_active else f"revoked {_when(key.revoked_at)}"
        click.echo(
            f"{key.id}\t{state}\tcreated {_when(key.created_at)}\t"
            f"last used {_when(key.last_used_at)}\t{key.name}"
        )


@keys_cli.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke key KEY_ID: requests filed with it are refused from now on."""
    try:
        key = open311_key_revoke(key_id, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no key {key_id}")
    click.echo(f"key {key.id} ({key.name}) revoked")
