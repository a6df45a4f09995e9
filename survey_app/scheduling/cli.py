"""Commands for the scheduler, schedules and rosters:
``flask --app wsgi scheduler|schedule|roster ...``."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import team_pulse
from survey_app.models import CADENCE_KINDS
from survey_app.pulse import teams
from survey_app.scheduling import roster, schedules
from survey_app.scheduling import roster_import as roster_import_service

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
        except teams.NoSuchTeam as error:
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
    return int(team_pulse().items_per_pulse)


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
                                                     parsed=parsed, progress=_written)
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


def _written(done: int, total: int) -> None:
    # Called after each batch; the total grows once team moves are known, so a line per
    # batch says more than a bar that would jump back.
    click.echo(f"  {done:,} of {total:,} changes written", err=True)


def init_app(app: Flask) -> None:
    for group in (scheduler_cli, schedule_cli, roster_cli):
        app.cli.add_command(group)
