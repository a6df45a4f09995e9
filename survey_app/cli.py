"""Thin command-line wrappers over the services: ``flask --app wsgi ...``."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app, render_template
from flask.cli import AppGroup

from survey_app import demo
from survey_app.accounts import users
from survey_app.activation import ratings, sites
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.demo import patients
from survey_app.models import CADENCE_KINDS, ROLES, SITE_KINDS
from survey_app.pulse import teams, tokens, waves
from survey_app.scheduling import roster, schedules
from survey_app.scheduling import roster_import as roster_import_service

team_cli = AppGroup("team", help="Teams of each INT.")
wave_cli = AppGroup("wave", help="Open, follow and close pulse waves.")
demo_cli = AppGroup("demo", help="The synthetic demo INT.")


def _link(token: str) -> str:
    return f"{current_app.config['PULSE_BASE_URL']}/p/{token}"


def _echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


int_cli = AppGroup("int", help="Integrated Neighbourhood Teams.")


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
@click.option("--ignore-gap", is_flag=True,
              help="Also invite people asked within the INT's fatigue gap (a deliberate re-run).")
def wave_open(team_slug: str, days: int, as_json: bool, ignore_gap: bool) -> None:
    """Open a wave for a team and print each member's personal link, once."""
    session = get_session()
    try:
        team = teams.find_team(session, slug=team_slug)
        opened = waves.open_wave(session, team=team, now=utcnow(), days=days,
                                 instrument=current_app.extensions["pulse_instruments"]["team-pulse"],
                                 respect_gap=not ignore_gap)
    except (teams.LookupError_, waves.WaveError) as error:
        raise click.ClickException(str(error)) from None
    session.commit()
    links = [{"name": link.name, "url": _link(link.token)} for link in opened.links]
    if as_json:
        _echo_json({"wave_id": opened.wave.id, "closes_at": opened.wave.closes_at.isoformat(),
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


@demo_cli.command("load")
@click.option("--links", default=3, show_default=True, help="Pulse links to print.")
def demo_load(links: int) -> None:
    """Load the synthetic demo INT (if it is not there yet) and print links to try."""
    if current_app.config["PULSE_ENV"] == "production":
        raise click.ClickException("The demo has known passwords: it is not loaded in production.")
    session = get_session()
    if demo.is_loaded(session):
        click.echo("The demo INT is already loaded.")
    else:
        summary = demo.load(session, now=utcnow(),
                            instruments=current_app.extensions["pulse_instruments"],
                            pseudonym_key=current_app.config["PULSE_PSEUDONYM_KEY"])
        session.commit()
        click.echo(f"Loaded the demo INT: {summary}.")
    _print_demo_links(links)
    base = current_app.config["PULSE_BASE_URL"]
    click.echo(f"Sign in at {base}/login with password '{patients.DEMO_PASSWORD}' as:")
    for email, role in patients.DEMO_USERS:
        click.echo(f"  {role:<9} {email}")
    click.echo(f"Patients answer by QR at {base}/q/{patients.STEADY_SITE}; "
               f"to make this browser a kiosk, sign in as admin and open {base}/kiosk/enrol")


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


site_cli = AppGroup("site", help="Sites where an INT sees patients.")
activation_cli = AppGroup("activation", help="Patient activation ratings.")
users_cli = AppGroup("users", help="Accounts for recorders, leads and admins.")


@site_cli.command("create")
@click.argument("code")
@click.option("--int", "int_slug", required=True, help="INT slug.")
@click.option("--name", required=True, help="The site's name as patients know it.")
@click.option("--kind", type=click.Choice(SITE_KINDS), default="gp_practice",
              show_default=True)
def site_create(code: str, int_slug: str, name: str, kind: str) -> None:
    """Create a site; CODE (2-12 letters and digits) goes in its QR address."""
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        raise click.ClickException(f"No INT {int_slug!r}")
    try:
        site = sites.create_site(session, neighbourhood=neighbourhood, code=code, name=name,
                                 kind=kind)
    except sites.SiteError as error:
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="site.create", target=site.code, now=utcnow())
    session.commit()
    click.echo(f"Created site {site.code}: {current_app.config['PULSE_BASE_URL']}/q/{site.code}")


@site_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def site_list(as_json: bool) -> None:
    """List sites with their codes (used in QR links) and INTs."""
    summaries = sites.list_sites(get_session())
    if as_json:
        _echo_json([{"code": s.code, "name": s.name, "kind": s.kind, "int": s.neighbourhood_slug}
                    for s in summaries])
        return
    if not summaries:
        click.echo("No sites yet. Load the demo with `flask --app wsgi demo load`.")
    for s in summaries:
        click.echo(f"{s.code:<8} {s.neighbourhood_slug:<14} {s.kind:<16} {s.name}")


@activation_cli.command("summary")
@click.option("--int", "int_slug", required=True, help="INT slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def activation_summary(int_slug: str, as_json: bool) -> None:
    """Counts of activation ratings for an INT, by rating and by channel."""
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        raise click.ClickException(f"No INT '{int_slug}'.")
    summary = ratings.summarise(session, neighbourhood=neighbourhood)
    if as_json:
        _echo_json({"int": int_slug, "total": summary.total, "by_rating": summary.by_rating,
                    "by_channel": summary.by_channel,
                    "patients_followed": summary.patients_followed})
        return
    click.echo(f"{summary.total} activation ratings in {int_slug}")
    for value, count in summary.by_rating.items():
        click.echo(f"  {value}: {count}")
    click.echo("  by channel: " + ", ".join(f"{k} {v}" for k, v in summary.by_channel.items()))
    click.echo(f"  patients with a pseudonym for follow-up: {summary.patients_followed}")


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


scheduler_cli = AppGroup("scheduler", help="The process that opens, reminds, closes and sends.")
schedule_cli = AppGroup("schedule", help="When each team is pulsed.")
roster_cli = AppGroup("roster", help="Staff lists from the Electronic Staff Record.")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the scheduler: tick every minute until stopped."""
    from survey_app.scheduling.process import run_forever

    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("tick")
@click.option("--at", "at", help="Act as if it were this time: ISO date-time; without a "
              "zone it is UK time (e.g. 2026-12-01T09:00).")
def scheduler_tick(at: str | None) -> None:
    """Do, once, whatever is due now (or --at a chosen time)."""
    from survey_app.scheduling.process import run_tick

    now = parse_uk_time(at) if at else utcnow()
    report = run_tick(current_app._get_current_object(), now=now)  # type: ignore[attr-defined]
    click.echo(f"Tick at {now:%Y-%m-%d %H:%M} UTC: {report.summary()}.")
    for failure in report.dispatch.failures:
        click.echo(f"  failed: {failure}")


def parse_uk_time(text: str) -> datetime:
    from datetime import UTC

    from survey_app.core.clock import LONDON

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a date-time like 2026-12-01T09:00",
                                 param_hint="--at") from None
    return (moment.replace(tzinfo=LONDON) if moment.tzinfo is None else moment).astimezone(UTC)


@schedule_cli.command("set")
@click.option("--int", "int_slug", required=True, help="INT slug.")
@click.option("--team", "team_slug", help="Team slug; without it, every team of the INT.")
@click.option("--cadence", type=click.Choice(CADENCE_KINDS), required=True)
@click.option("--every", "every_weeks", type=int, default=4, show_default=True,
              help="For --cadence weeks: every N weeks.")
@click.option("--weekday", type=click.Choice(WEEKDAYS), default="tue", show_default=True,
              help="For monthly/quarterly: which weekday.")
@click.option("--nth", type=int, default=1, show_default=True,
              help="For monthly/quarterly: 1-4, or -1 for the last such weekday.")
@click.option("--time", "send_time", default="09:00", show_default=True, help="UK time.")
@click.option("--window", "window_days", type=int, default=14, show_default=True)
@click.option("--reminder/--no-reminder", default=True, show_default=True)
@click.option("--quiet", default="20:00-08:00", show_default=True,
              help="Hours with no messages, UK time.")
@click.option("--weekends/--no-weekends", default=False, show_default=True,
              help="Allow messages at weekends.")
@click.option("--start", "start_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--end", "end_date", type=click.DateTime(["%Y-%m-%d"]))
def schedule_set(int_slug: str, team_slug: str | None, cadence: str, every_weeks: int,
                 weekday: str, nth: int, send_time: str, window_days: int, reminder: bool,
                 quiet: str, weekends: bool, start_date: datetime,
                 end_date: datetime | None) -> None:
    """Create or change a schedule, and show the burden it puts on each person."""
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        raise click.ClickException(f"No INT '{int_slug}'.")
    team = None
    if team_slug:
        try:
            team = teams.find_team(session, slug=f"{int_slug}/{team_slug}")
        except teams.LookupError_ as error:
            raise click.ClickException(str(error)) from None
    quiet_start, _, quiet_end = quiet.partition("-")
    settings = schedules.ScheduleSettings(
        cadence_kind=cadence, every_weeks=every_weeks, weekday=WEEKDAYS.index(weekday), nth=nth,
        send_time=send_time, window_days=window_days, reminder=reminder,
        quiet_start=quiet_start, quiet_end=quiet_end or "", weekends_allowed=weekends,
        start_date=start_date.date(), end_date=end_date.date() if end_date else None,
    )
    try:
        schedule, figures = schedules.set_schedule(
            session, neighbourhood=neighbourhood, team=team, settings=settings,
            items_per_pulse=_items_per_pulse(), now=utcnow())
    except schedules.ScheduleError as error:
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="schedule.set", target=str(schedule.id),
                 now=utcnow())
    session.commit()
    scope = team.name if team else f"every team of {neighbourhood.name}"
    click.echo(f"Schedule {schedule.id} saved for {scope}.")
    click.echo(f"Each person: {figures.invitations_per_year:.0f} invitations and at most "
               f"{figures.messages_per_year:.0f} messages a year, about "
               f"{figures.minutes_per_year:.0f} minutes a year answering.")


class _CountedLines:
    """A text file over given lines that reports each line read (for a progress bar)."""

    def __init__(self, lines: list[str], advance: Any) -> None:
        self.lines = lines
        self.advance = advance

    def read(self, size: int = -1) -> str:
        return "" if size == 0 else "".join(self.lines)

    def __iter__(self) -> Any:
        for line in self.lines:
            self.advance(1)
            yield line


def _items_per_pulse() -> int:
    return int(current_app.extensions["pulse_instruments"]["team-pulse"].items_per_pulse)


@schedule_cli.command("list")
def schedule_list() -> None:
    """List schedules."""
    for schedule, neighbourhood, team in schedules.list_schedules(get_session()):
        scope = team.slug if team else "(all teams)"
        state = "active" if schedule.active else "paused"
        click.echo(f"{schedule.id:>4} {neighbourhood.slug}/{scope:<20} {schedule.cadence_kind:<9} "
                   f"window {schedule.window_days}d from {schedule.start_date} {state}")


@roster_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--int", "int_slug", required=True, help="INT slug.")
def roster_import(file: Any, int_slug: str) -> None:
    """Import an ESR-style staff CSV: all or nothing; re-importing changes nothing."""
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        raise click.ClickException(f"No INT '{int_slug}'.")
    try:
        lines = file.read().decode("utf-8-sig").splitlines(keepends=True)
    except UnicodeDecodeError:
        raise click.ClickException("The file is not UTF-8 text: save it as CSV UTF-8.") from None
    known = roster_import_service.known_teams(session, neighbourhood=neighbourhood)
    with click.progressbar(length=len(lines), label="Checking rows", file=sys.stderr) as bar:
        parsed = roster.parse_roster(_CountedLines(lines, bar.update),  # type: ignore[arg-type]
                                     known_teams=known)
    try:
        click.echo(f"Importing {len(parsed.rows)} rows...", err=True)
        report = roster_import_service.import_roster(session, neighbourhood=neighbourhood,
                                                     parsed=parsed)
    except roster_import_service.RosterError as error:
        for problem in error.errors[:50]:
            click.echo(f"  row {problem.row}, {problem.column}: {problem.message}", err=True)
        if len(error.errors) > 50:
            click.echo(f"  ... and {len(error.errors) - 50} more", err=True)
        raise click.ClickException(str(error)) from None
    audit.record(session, user_id=None, action="roster.import", target=int_slug, now=utcnow(),
                 detail={"created": report.created, "updated": report.updated})
    session.commit()
    click.echo(report.summary())


def init_app(app: Flask) -> None:
    for group in (int_cli, team_cli, wave_cli, demo_cli, site_cli, activation_cli, users_cli,
                  scheduler_cli, schedule_cli, roster_cli):
        app.cli.add_command(group)
