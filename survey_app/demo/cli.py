"""Commands for the synthetic demo INT: ``flask --app wsgi demo ...``; its ``init_app``
is the demo feature's (the package itself is the loader, with no Flask in it)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from survey_app import demo
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import team_pulse
from survey_app.demo import patients
from survey_app.pulse import waves
from survey_app.pulse.cli import personal_link

demo_cli = AppGroup("demo", help="The synthetic demo INT.")


@demo_cli.command("load")
@click.option("--links", default=3, show_default=True, help="Pulse links to print.")
def demo_load(links: int) -> None:
    """Load the synthetic demo INT (if it is not there yet) and print links to try."""
    if current_app.config["PULSE_ENV"] == "production":
        raise click.ClickException("The demo has known passwords: it is not loaded in production.")
    session = get_session()
    already = demo.is_loaded(session)
    if already:
        click.echo("The demo INT is already loaded.")
    else:
        summary = demo.load(session, now=utcnow(),
                            instruments=current_app.extensions["pulse_instruments"],
                            pseudonym_key=current_app.config["PULSE_PSEUDONYM_KEY"],
                            totp_key=current_app.config["PULSE_TOTP_KEY"])
        session.commit()
        click.echo(f"Loaded the demo INT: {summary}.")
    _print_demo_links(links, replacing=already)
    base = current_app.config["PULSE_BASE_URL"]
    click.echo(f"Sign in at {base}/login with password '{patients.DEMO_PASSWORD}' as:")
    for email, role in patients.DEMO_USERS:
        secret = patients.DEMO_TOTP_SECRETS.get(email)
        # Shown only outside production (above): the demo's documented two-step secrets.
        step = f"  two-step secret {secret} (add it to an authenticator app)" if secret else ""
        click.echo(f"  {role:<9} {email}{step}")
    click.echo(f"Patients answer by QR at {base}/q/{patients.STEADY_SITE}; "
               f"to make this browser a kiosk, sign in as admin and open {base}/kiosk/enrol")


@demo_cli.command("links")
@click.option("--count", default=3, show_default=True, help="How many links.")
def demo_links(count: int) -> None:
    """Print fresh personal links for unanswered people in the demo's open wave (the links
    printed before for the same people stop working)."""
    _print_demo_links(count, replacing=True)


def _print_demo_links(count: int, *, replacing: bool) -> None:
    session = get_session()
    wave_id = demo.ensure_open_wave(
        session, now=utcnow(), instrument=team_pulse()
    )
    issued = waves.reissue_links(session, wave_id=wave_id, count=count)
    session.commit()
    if replacing and issued:
        # Only the newest link of each person opens: say so, or an older one that is
        # tried first looks like a fault.
        click.echo("Issued new links: the links printed before no longer open.")
    click.echo(f"Try the staff pulse (demo wave {wave_id}); each link works once:")
    for link in issued:
        click.echo(f"  {link.name:<28} {personal_link(link.token)}")
    code_url = f"{current_app.config['PULSE_BASE_URL']}/p"
    click.echo(f"Count the answers with: flask --app wsgi wave status {wave_id}  "
               f"(code entry page: {code_url})")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
