"""Flask commands for staff accounts: flask --app wsgi users create|list|deactivate."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import AppGroup

from portal.services import auth
from portal.services.auth import CLI_OPERATOR, Role
from portal.services.errors import NotFound, ValidationError

users_cli = AppGroup("users", help="Staff accounts.")

PASSWORD_ENV = "PORTAL_NEW_PASSWORD"


def _fail(error: ValidationError) -> None:
    """Print each validation error on its own line to stderr and exit 1."""
    for item in error.errors:
        click.echo(f"{item.field}: {item.error}", err=True)
    sys.exit(1)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]),
              help="The account's role.")
@click.option("--department", default=None, help="Department code (officers only).")
@click.option("--full-name", default="", help="The person's name.")
@click.option("--email", default="", help="The person's work e-mail address.")
def users_create(
    username: str, role: str, department: str | None, full_name: str, email: str
) -> None:
    """Create a staff account; the password comes from PORTAL_NEW_PASSWORD or a prompt."""
    try:  # a wrong department or a taken name is said before the password is asked for
        auth.user_create_check(
            username, role, department, actor=CLI_OPERATOR, full_name=full_name, email=email
        )
    except ValidationError as error:
        _fail(error)
        return
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, err=True
        )
    try:
        user = auth.user_create(
            username, password, role, department_code=department, actor=CLI_OPERATOR,
            full_name=full_name, email=email,
        )
    except ValidationError as error:
        _fail(error)
        return
    where = f" in {user.department.code}" if user.department else ""
    click.echo(f"created {user.username} ({user.role}{where})")


@users_cli.command("list")
def users_list() -> None:
    """List staff accounts: username, role, department, active or not."""
    for user in auth.user_list(CLI_OPERATOR):
        department = user.department.code if user.department else "-"
        state = "active" if user.is_active else "inactive"
        click.echo(f"{user.username}\t{user.role}\t{department}\t{state}")


@users_cli.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Deactivate a staff account (it can no longer log in; its history stays)."""
    try:
        user = auth.user_by_username(username)
    except NotFound:
        click.echo(f"no user named {username}", err=True)
        sys.exit(1)
    auth.user_set_active(CLI_OPERATOR, user.id, False)
    click.echo(f"deactivated {user.username}")
