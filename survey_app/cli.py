"""Thin command-line wrappers over the services: ``flask --app wsgi ...``."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import Flask, current_app, render_template
from flask.cli import AppGroup

from survey_app.db import get_session
from survey_app.services import demo, teams, tokens, waves
from survey_app.services.clock import utcnow

team_cli = AppGroup("team", help="Teams of each INT.")
wave_cli = AppGroup("wave", help="Open, follow and close pulse waves.")
demo_cli = AppGroup("demo", help="The synthetic demo INT.")


def _link(token: str) -> str:
    return f"{current_app.config['PULSE_BASE_URL']}/p/{token}"


def _echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


@team_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def team_list(as_json: bool) -> None:
    """List teams with their slugs and current member counts."""
    summaries = teams.list_teams(get_session(), on=utcnow().date())
    if as_json:
        _echo_json([{"int": t.neighbourhood_slug, "slug": t.slug, "name": t.name,
                     "members": t.members} for t in summaries])
        return
    if not summaries:
        click.echo("No teams yet. Load the demo with `flask --app wsgi demo load`.")
    for t in summaries:
        click.echo(f"{t.neighbourhood_slug}/{t.slug:<24} {t.members:>4} members  {t.name}")


@wave_cli.command("open")
@click.option("--team", "team_slug", required=True, help="Team slug (or INT/slug).")
@click.option("--days", default=7, show_default=True, type=int, help="Days the wave stays open.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def wave_open(team_slug: str, days: int, as_json: bool) -> None:
    """Open a wave for a team and print each member's personal link, once."""
    session = get_session()
    try:
        team = teams.find_team(session, slug=team_slug)
        opened = waves.open_wave(session, team=team, now=utcnow(), days=days,
                                 instrument=current_app.extensions["pulse_instruments"]["team-pulse"])
    except (teams.LookupError_, waves.WaveError) as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    links = [{"name": link.name, "url": _link(link.token)} for link in opened.links]
    if as_json:
        _echo_json({"wave_id": opened.wave.id, "closes_at": opened.wave.closes_at.isoformat(),
                    "links": links})
        return
    click.echo(f"Wave {opened.wave.id} is open for {team.name} until "
               f"{opened.wave.closes_at:%d %b %Y %H:%M} UTC.")
    click.echo("Personal links (shown once only: they are stored as hashes):")
    for link in links:
        click.echo(f"  {link['name']:<28} {link['url']}")


@wave_cli.command("status")
@click.argument("wave_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def wave_status(wave_id: int, as_json: bool) -> None:
    """Invited, responded and response rate for a wave."""
    try:
        status = waves.wave_status(get_session(), wave_id=wave_id, now=utcnow())
    except waves.WaveError as error:
        raise click.ClickException(str(error)) from None
    rate = status.response_rate
    if as_json:
        _echo_json({"wave_id": wave_id, "int": status.neighbourhood, "team": status.team,
                    "open": status.is_open, "opens_at": status.opens_at.isoformat(),
                    "closes_at": status.closes_at.isoformat(), "invited": status.invited,
                    "responded": status.responded, "response_rate": rate})
        return
    state = "open" if status.is_open else "closed"
    shown_rate = f"{rate:.0%}" if rate is not None else "n/a"
    click.echo(f"Wave {wave_id} ({status.neighbourhood}/{status.team}, {state}): "
               f"{status.responded} of {status.invited} answered, response rate {shown_rate}")


@wave_cli.command("close")
@click.argument("wave_id", type=int)
def wave_close(wave_id: int) -> None:
    """Close a wave now: its links stop working and its results can be reported."""
    session = get_session()
    try:
        wave = waves.get_wave(session, wave_id=wave_id)
    except waves.WaveError as error:
        raise click.ClickException(str(error)) from None
    closed = waves.close_wave(session, wave=wave, now=utcnow())
    session.commit()
    click.echo(f"Wave {wave_id} closed." if closed else f"Wave {wave_id} was already closed.")


@wave_cli.command("codes")
@click.argument("wave_id", type=int)
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the cards to this HTML file instead of standard output.")
def wave_codes(wave_id: int, output: str | None) -> None:
    """Printable one-time code cards for invitees with no email and no mobile.

    Each run makes new codes and cancels the earlier cards of the same people.
    """
    session = get_session()
    try:
        wave = waves.get_wave(session, wave_id=wave_id)
        issued = waves.issue_codes(session, wave_id=wave_id, now=utcnow())
        status = waves.wave_status(session, wave_id=wave_id, now=utcnow())
    except waves.WaveError as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    html = render_template(
        "pulse/code_cards.html",
        cards=[(member.name, tokens.format_code(code)) for member, code in issued],
        entry_url=f"{current_app.config['PULSE_BASE_URL']}/p",
        team=status.team, closes_at=wave.closes_at,
    )
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(html)
        click.echo(f"{len(issued)} code cards written to {output}.", err=True)
    else:
        click.echo(html)


@demo_cli.command("load")
@click.option("--links", default=3, show_default=True, help="Pulse links to print.")
def demo_load(links: int) -> None:
    """Load the synthetic demo INT (if it is not there yet) and print links to try."""
    session = get_session()
    if demo.is_loaded(session):
        click.echo("The demo INT is already loaded.")
    else:
        summary = demo.load(session, now=utcnow(),
                            instrument=current_app.extensions["pulse_instruments"]["team-pulse"])
        session.commit()
        click.echo(f"Loaded the demo INT: {summary}.")
    _print_demo_links(links)


@demo_cli.command("links")
@click.option("--count", default=3, show_default=True, help="How many links.")
def demo_links(count: int) -> None:
    """Print fresh personal links for unanswered people in the demo's open wave."""
    _print_demo_links(count)


def _print_demo_links(count: int) -> None:
    session = get_session()
    wave_id = demo.ensure_open_wave(
        session, now=utcnow(), instrument=current_app.extensions["pulse_instruments"]["team-pulse"]
    )
    issued = waves.reissue_links(session, wave_id=wave_id, count=count)
    session.commit()
    click.echo(f"Try the staff pulse (demo wave {wave_id}); each link works once:")
    for link in issued:
        click.echo(f"  {link.name:<28} {_link(link.token)}")
    code_url = f"{current_app.config['PULSE_BASE_URL']}/p"
    click.echo(f"Count the answers with: flask --app wsgi wave status {wave_id}  "
               f"(code entry page: {code_url})")


def init_app(app: Flask) -> None:
    for group in (team_cli, wave_cli, demo_cli):
        app.cli.add_command(group)
