"""Flask commands for Open311: the keys applications file requests with."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.cli.credentials import credential_line
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
        click.echo(credential_line(key, after=key.name))


@keys_cli.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke key KEY_ID: requests filed with it are refused from now on."""
    try:
        key = open311_key_revoke(key_id, actor=CLI_OPERATOR)
    except NotFound:
        _fail(f"no key {key_id}")
    click.echo(f"key {key.id} ({key.name}) revoked")
