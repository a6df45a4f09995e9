"""Setting a team's (or an INT's) pulse schedule, with its burden shown first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import Session, col, select

from survey_app.models import Neighbourhood, Schedule, Team
from survey_app.scheduling.cadence import Burden, Cadence, QuietHours, burden, validate_schedule

SECONDS_PER_ITEM = 12


class ScheduleError(ValueError):
    """Settings that cannot make a schedule; the message is for the admin."""


@dataclass(frozen=True)
class ScheduleSettings:
    cadence_kind: str
    every_weeks: int | None = 4
    weekday: int = 0
    nth: int | None = 1
    send_time: str = "09:00"
    window_days: int = 14
    reminder: bool = True
    quiet_start: str = "20:00"
    quiet_end: str = "08:00"
    weekends_allowed: bool = False
    start_date: date | None = None
    end_date: date | None = None


_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_clock(text: str, what: str) -> time:
    """A UK wall-clock time written HH:MM (24-hour), the only form stored."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ScheduleError(f"{what} must be a 24-hour time like 09:00, got '{text}'")
    return time(int(match.group(1)), int(match.group(2)))


def check(settings: ScheduleSettings, *, items_per_pulse: int, min_gap_days: int) -> Burden:
    """Validate the settings and return the burden they put on one person a year.

    Raises
    ------
    ScheduleError
        Naming what is wrong, for any invalid combination.
    """
    if settings.start_date is None:
        raise ScheduleError("Give a start date")
    try:
        cadence = Cadence(kind=settings.cadence_kind,  # type: ignore[arg-type]
                          every=settings.every_weeks or 4, weekday=settings.weekday,
                          nth=settings.nth or 1,
                          send_time=parse_clock(settings.send_time, "The send time"))
        quiet = QuietHours(start=parse_clock(settings.quiet_start, "Quiet hours' start"),
                           end=parse_clock(settings.quiet_end, "Quiet hours' end"),
                           weekends=settings.weekends_allowed)
        validate_schedule(cadence, start=settings.start_date, end=settings.end_date,
                          window_days=settings.window_days, quiet=quiet,
                          reminders=1 if settings.reminder else 0, min_gap_days=min_gap_days)
    except ValueError as error:
        raise ScheduleError(str(error)) from None
    # Core items, the rotating ones and the optional free text.
    return burden(cadence, settings.window_days, items_per_pulse,
                  seconds_per_item=SECONDS_PER_ITEM, reminders=1 if settings.reminder else 0)


def set_schedule(session: Session, *, neighbourhood: Neighbourhood, team: Team | None,
                 settings: ScheduleSettings, items_per_pulse: int,
                 now: datetime) -> tuple[Schedule, Burden]:
    """Create the schedule for this INT or team, or replace its settings.

    Raises
    ------
    ScheduleError
        For invalid settings (nothing is changed).
    """
    figures = check(settings, items_per_pulse=items_per_pulse,
                    min_gap_days=neighbourhood.invitation_gap_days)
    assert settings.start_date is not None  # nosec B101  # check() refused it otherwise
    team_id = team.id if team is not None else None
    schedule = session.exec(
        select(Schedule).where(Schedule.neighbourhood_id == neighbourhood.id,
                               Schedule.team_id == team_id if team_id is not None
                               else col(Schedule.team_id).is_(None))
    ).first()
    if schedule is None:
        schedule = Schedule(neighbourhood_id=neighbourhood.id or 0, team_id=team_id,
                            cadence_kind=settings.cadence_kind, start_date=settings.start_date,
                            created_at=now)
    for name in ("cadence_kind", "every_weeks", "weekday", "nth", "window_days", "reminder",
                 "weekends_allowed", "start_date", "end_date"):
        setattr(schedule, name, getattr(settings, name))
    # Stored as checked, HH:MM, which the scheduler reads back.
    for name in ("send_time", "quiet_start", "quiet_end"):
        setattr(schedule, name, f"{parse_clock(getattr(settings, name), name):%H:%M}")
    schedule.active = True
    session.add(schedule)
    session.flush()
    return schedule, figures


def list_schedules(session: Session) -> list[tuple[Schedule, Neighbourhood, Team | None]]:
    rows = session.exec(
        select(Schedule, Neighbourhood, Team)
        .join(Neighbourhood, col(Neighbourhood.id) == col(Schedule.neighbourhood_id))
        .outerjoin(Team, col(Team.id) == col(Schedule.team_id))
        .order_by(col(Neighbourhood.slug), col(Schedule.id))
    ).all()
    return [(schedule, neighbourhood, team) for schedule, neighbourhood, team in rows]


def set_active(session: Session, *, schedule_id: int, active: bool) -> Schedule:
    """Pause or resume a schedule. Raises :class:`ScheduleError` if there is none."""
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        raise ScheduleError(f"No schedule {schedule_id}")
    schedule.active = active
    session.add(schedule)
    return schedule
