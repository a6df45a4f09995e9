"""Commands for accounts: ``flask --app wsgi users ...``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from survey_app.accounts import users
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.models import ROLES

users_cli = AppGroup("users", help="Accounts for recorders, leads and admins.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--int", "int_slugs", multiple=True, help="An INT the user works in (repeat).")
@click.option("--site", "site_codes", multiple=True, help="A site a recorder records at (repeat).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="PULSE_NEW_USER_PASSWORD",
              help="Asked for when not given (or set PULSE_NEW_USER_PASSWORD).")
def users_create(email: str, role: str, int_slugs: tuple[str, ...],
                 site_codes: tuple[str, ...], password: str) -> None:
    """Create a user with a role and scopes."""
    session = get_session()
    try:
        user = users.create_user(session, email=email, password=password, role=role,
                                 now=utcnow(), neighbourhood_slugs=int_slugs,
                                 site_codes=site_codes)
    except users.AccountError as error:
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="users.create", target=user.email, now=utcnow())
    session.commit()
    scopes = ", ".join([*int_slugs, *site_codes]) or "everything"
    click.echo(f"Created {role} {user.email} ({scopes}).")


@users_cli.command("list")
def users_list() -> None:
    """List users, roles and whether they are active."""
    for user in users.list_users(get_session()):
        click.echo(f"{user.email:<40} {user.role:<9} {'active' if user.active else 'disabled'}")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
