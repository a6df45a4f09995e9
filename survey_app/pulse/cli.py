"""Commands for INTs, teams and pulse waves: ``flask --app wsgi int|team|wave ...``."""

from __future__ import annotations

import click
from flask import Flask, current_app, render_template
from flask.cli import AppGroup

from survey_app.core import audit, tokens
from survey_app.core.cli import echo_json
from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine, get_session
from survey_app.core.extensions import team_pulse
from survey_app.pulse import erasure, teams, waves

int_cli = AppGroup("int", help="Integrated Neighbourhood Teams.")
team_cli = AppGroup("team", help="Teams of each INT.")
wave_cli = AppGroup("wave", help="Open, follow and close pulse waves.")


def personal_link(token: str) -> str:
    """The address of one person's pulse link."""
    return f"{current_app.config['PULSE_BASE_URL']}/p/{token}"


@int_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The INT's full name.")
def int_create(slug: str, name: str) -> None:
    """Create an INT; SLUG is used in addresses (lower-case letters, digits, hyphens)."""
    session = get_session()
    try:
        teams.create_neighbourhood(session, slug=slug, name=name)
    except teams.SetupError as error:
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="int.create", target=slug, now=utcnow())
    session.commit()
    click.echo(f"Created INT {slug}. Add teams with: flask --app wsgi team create {slug}/SLUG "
               "--name NAME")


@team_cli.command("create")
@click.argument("int_and_slug", metavar="INT/SLUG")
@click.option("--name", required=True, help="The team's name as staff know it.")
def team_create(int_and_slug: str, name: str) -> None:
    """Create a team in an INT, e.g. `team create riverside/podiatry --name Podiatry`."""
    int_slug, _, slug = int_and_slug.partition("/")
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None or not slug:
        raise click.ClickException(f"Name the team as INT/SLUG with an existing INT: "
                                   f"got {int_and_slug!r}")
    try:
        teams.create_team(session, neighbourhood=neighbourhood, slug=slug, name=name)
    except teams.SetupError as error:
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="team.create", target=int_and_slug,
                 now=utcnow())
    session.commit()
    click.echo(f"Created team {int_and_slug}. Import its staff with `roster import`.")


@team_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def team_list(as_json: bool) -> None:
    """List teams with their slugs and current member counts."""
    summaries = teams.list_teams(get_session(), on=utcnow().date())
    if as_json:
        echo_json([{"int": t.neighbourhood_slug, "slug": t.slug, "name": t.name,
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
@click.option("--ignore-gap", is_flag=True,
              help="Also invite people asked within the INT's fatigue gap (a deliberate re-run).")
def wave_open(team_slug: str, days: int, as_json: bool, ignore_gap: bool) -> None:
    """Open a wave for a team and print each member's personal link, once."""
    session = get_session()
    try:
        team = teams.find_team(session, slug=team_slug)
        opened = waves.open_wave(session, team=team, now=utcnow(), days=days,
                                 instrument=team_pulse(),
                                 respect_gap=not ignore_gap)
    except (teams.NoSuchTeam, waves.WaveError) as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    links = [{"name": link.name, "url": personal_link(link.token)} for link in opened.links]
    if as_json:
        echo_json({"wave_id": opened.wave.id, "closes_at": opened.wave.closes_at.isoformat(),
                   "links": links, "skipped_recently_invited": opened.skipped_recently_invited})
        return
    if opened.skipped_recently_invited:
        click.echo(f"{opened.skipped_recently_invited} people were invited to another pulse "
                   "recently and are not asked again yet (--ignore-gap to include them).")
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
        echo_json({"wave_id": wave_id, "int": status.neighbourhood, "team": status.team,
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
    # Remove the old versions of the rows the close rewrote (see docs/privacy.md).
    erased = erasure.erase_old_versions(get_engine())
    click.echo(f"Wave {wave_id} closed." if closed else f"Wave {wave_id} was already closed.")
    if not erased.complete:
        click.echo("Another transaction still holds old row versions of the rewritten rows; "
                   "the scheduler removes them on its next ticks.", err=True)


@wave_cli.command("codes")
@click.argument("wave_id", type=int)
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the cards to this HTML file instead of standard output.")
@click.option("--unreached", is_flag=True,
              help="Also for people whose messages all failed or may not have arrived.")
def wave_codes(wave_id: int, output: str | None, unreached: bool) -> None:
    """Printable one-time code cards for invitees with no email and no mobile.

    Each run makes new codes and cancels the earlier cards of the same people.
    """
    session = get_session()
    try:
        wave = waves.get_wave(session, wave_id=wave_id)
        issued = waves.issue_codes(session, wave_id=wave_id, now=utcnow(), unreached=unreached)
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


def init_app(app: Flask) -> None:
    for group in (int_cli, team_cli, wave_cli):
        app.cli.add_command(group)
