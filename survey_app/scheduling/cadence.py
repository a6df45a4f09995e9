"""Schedule arithmetic for recurring pulses: when waves open, when messages may go out,
and what a schedule asks of each person in a year.

Pure functions on dates and times: no database, no clock. Schedules are set
in England's local time (``Europe/London``) and every instant handed in or
out is UTC; a naive datetime is read as UTC, as SQLite returns them.

Clock changes: on the last Sunday of March 01:00-02:00 does not exist in
London, and on the last Sunday of October 01:00-02:00 happens twice. A local
time in the gap is taken as the same wall time before the change (01:30
becomes 01:30 GMT, shown as 02:30 BST); an ambiguous local time is taken at
its first occurrence (BST), unless that instant has already passed.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args

from survey_app.core.clock import LONDON, as_utc
from survey_app.core.dates import long_date

CadenceKind = Literal["weeks", "monthly", "quarterly"]
KINDS: tuple[str, ...] = get_args(CadenceKind)
QUARTER_MONTHS = (1, 4, 7, 10)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# The fatigue cap (DOMAIN.md): a person is invited at most once per 21 days.
DEFAULT_MIN_GAP_DAYS = 21
MIN_WINDOW_DAYS = 2
# As waves.open_wave allows.
MAX_WINDOW_DAYS = 60
MAX_EVERY_WEEKS = 52
DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often a team is pulsed.

    ``kind`` is one of:

    - ``"weeks"``: every ``every`` weeks from the schedule's start date (so on
      the start date's weekday); ``weekday`` and ``nth`` are not used.
    - ``"monthly"``: the ``nth`` ``weekday`` of every month (``nth`` 1-4, or
      -1 for the last), e.g. the first Tuesday.
    - ``"quarterly"``: the same, in January, April, July and October only.

    ``weekday`` counts from 0 = Monday. ``send_time`` is the local time the
    wave opens and its invitations go out.

    Raises
    ------
    ValueError
        Naming the field, if ``kind`` is unknown, ``every`` is not 1-52,
        ``weekday`` is not 0-6, ``nth`` is not 1-4 or -1, or ``send_time``
        carries a time zone (it is always London time).
    """

    kind: CadenceKind
    every: int = 4
    weekday: int = 0
    nth: int = 1
    send_time: time = time(9, 0)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "weeks" and not 1 <= self.every <= MAX_EVERY_WEEKS:
            raise ValueError(f"every must be between 1 and {MAX_EVERY_WEEKS} weeks, "
                             f"got {self.every}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if self.nth not in (1, 2, 3, 4, -1):
            raise ValueError(f"nth must be 1, 2, 3, 4 or -1 (the last), got {self.nth}")
        if self.send_time.tzinfo is not None:
            raise ValueError("send_time is a London local time and must not carry a time zone")

    def describe(self) -> str:
        """The cadence in words, for admin pages: "every 4 weeks", "quarterly on the
        last Friday"."""
        at = f"at {self.send_time:%H:%M}"
        if self.kind == "weeks":
            return f"every week {at}" if self.every == 1 else f"every {self.every} weeks {at}"
        ordinal = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}[self.nth]
        period = "monthly" if self.kind == "monthly" else "quarterly"
        return f"{period} on the {ordinal} {WEEKDAYS[self.weekday]} {at}"


@dataclass(frozen=True, slots=True)
class QuietHours:
    """When no message may go out, in London local time.

    Nightly from ``start`` to ``end`` (wrapping midnight when ``start`` is
    later than ``end``; equal times mean no nightly quiet hours), and all of
    Saturday and Sunday unless ``weekends`` is True (weekend sending allowed).
    """

    start: time = time(20, 0)
    end: time = time(8, 0)
    weekends: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are London local times and must not carry a time zone")

    def is_quiet(self, local: datetime) -> bool:
        """Whether a London wall-clock moment falls in quiet hours."""
        if not self.weekends and local.weekday() >= 5:
            return True
        clock = local.time()
        if self.start < self.end:
            return self.start <= clock < self.end
        if self.start > self.end:
            return clock >= self.start or clock < self.end
        return False


@dataclass(frozen=True, slots=True)
class Burden:
    """What a schedule asks of one person in a year, to show before it is saved.

    Attributes
    ----------
    invitations_per_year
        Waves a year (a yearly average for week-based cadences: 52.18 weeks).
    messages_per_year
        Invitations plus reminders, if the person never answers (the most
        anyone receives: reminders go only to those who have not).
    minutes_per_year
        Time answering, if the person answers every wave.
    minutes_per_pulse
        Time for one pulse.
    """

    invitations_per_year: float
    messages_per_year: float
    minutes_per_year: float
    minutes_per_pulse: float


def local_to_utc(local: datetime, *, not_before: datetime | None = None) -> datetime:
    """The UTC instant of a naive London wall-clock time.

    A time in the spring-forward gap is read with the offset before the change
    (01:30 on 2026-03-29 is 01:30 UTC). An ambiguous time in the autumn
    fall-back is its first occurrence, unless that is before ``not_before``,
    when it is the second: a moment never moves backwards.
    """
    first = local.replace(tzinfo=LONDON, fold=0).astimezone(UTC)
    if not_before is not None and first < not_before:
        second = local.replace(tzinfo=LONDON, fold=1).astimezone(UTC)
        if second >= not_before:
            return second
    return first


def occurrences(
    cadence: Cadence, start: date, end: date | None, after: datetime, until: datetime
) -> list[datetime]:
    """UTC instants at which waves open, in ``[after, until)``, in order.

    Waves open at ``cadence.send_time`` London time on days from ``start`` to
    ``end`` inclusive (``end`` None: no end). For ``"weeks"``, the days are
    ``start``, ``start + every weeks``, and so on.

    Raises
    ------
    ValueError
        If ``end`` is before ``start``.
    """
    if end is not None and end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    after, until = as_utc(after), as_utc(until)
    if until <= after:
        return []
    # A local day's opening is within a day of its UTC date; widen by one each side.
    first_day = max(start, after.date() - timedelta(days=1))
    last_day = until.date() + timedelta(days=1)
    if end is not None:
        last_day = min(last_day, end)
    moments = []
    for day in _opening_days(cadence, start, first_day, last_day):
        moment = local_to_utc(datetime.combine(day, cadence.send_time))
        if after <= moment < until:
            moments.append(moment)
    return moments


def _opening_days(cadence: Cadence, start: date, first: date, last: date) -> list[date]:
    """Opening days of ``cadence`` (anchored at ``start``) between ``first`` and ``last``."""
    if first > last:
        return []
    if cadence.kind == "weeks":
        step = 7 * cadence.every
        # Jump straight to the first opening on or after ``first``.
        k = max(0, math.ceil((first - start).days / step))
        days = []
        day = start + timedelta(days=k * step)
        while day <= last:
            days.append(day)
            day += timedelta(days=step)
        return days
    months = range(1, 13) if cadence.kind == "monthly" else QUARTER_MONTHS
    days = []
    for year in range(first.year, last.year + 1):
        for month in months:
            day = nth_weekday(year, month, cadence.weekday, cadence.nth)
            if first <= day <= last:
                days.append(day)
    return days


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` ``weekday`` (0 = Monday) of a month; ``nth`` -1 is the last.

    Raises
    ------
    ValueError
        If ``nth`` is not 1-4 or -1 (a fifth weekday is not in every month).
    """
    if nth not in (1, 2, 3, 4, -1):
        raise ValueError(f"nth must be 1, 2, 3, 4 or -1 (the last), got {nth}")
    if nth == -1:
        last_day = date(year, month, calendar.monthrange(year, month)[1])
        return last_day - timedelta(days=(last_day.weekday() - weekday) % 7)
    first_day = date(year, month, 1)
    return first_day + timedelta(days=(weekday - first_day.weekday()) % 7 + 7 * (nth - 1))


def next_allowed(moment_utc: datetime, quiet: QuietHours) -> datetime:
    """The first UTC instant at or after ``moment_utc`` outside quiet hours.

    Quiet hours are read on London's wall clock, so 08:00 is 07:00 UTC in
    summer and 08:00 UTC in winter, and a night that spans a clock change is
    an hour shorter or longer.
    """
    moment = as_utc(moment_utc)
    # Each step moves to the end of a quiet spell or to the next midnight; a
    # weekend night needs at most three (Sat, Sun, Mon morning), so eight is ample.
    for _ in range(8):
        local = moment.astimezone(LONDON)
        if not quiet.is_quiet(local):
            return moment
        moment = local_to_utc(_end_of_quiet_spell(local.replace(tzinfo=None), quiet),
                              not_before=moment)
    raise AssertionError("quiet hours leave no time to send")  # pragma: no cover


def _end_of_quiet_spell(local: datetime, quiet: QuietHours) -> datetime:
    """A later wall-clock time at which the quiet spell containing ``local`` may end."""
    today = local.date()
    if not quiet.weekends and local.weekday() >= 5:
        return datetime.combine(today + timedelta(days=1), time(0, 0))
    clock = local.time()
    if quiet.start > quiet.end and clock >= quiet.start:
        return datetime.combine(today + timedelta(days=1), quiet.end)
    return datetime.combine(today, quiet.end)


def reminder_time(
    opens_at: datetime,
    closes_at: datetime,
    quiet: QuietHours,
    *,
    after: timedelta | None = None,
) -> datetime | None:
    """When to remind non-responders: mid-window, or ``after`` the opening, moved
    out of quiet hours; None if no allowed moment remains before ``closes_at``.

    Raises
    ------
    ValueError
        If ``closes_at`` is not after ``opens_at``, or ``after`` does not fall
        inside the window.
    """
    opens_at, closes_at = as_utc(opens_at), as_utc(closes_at)
    if closes_at <= opens_at:
        raise ValueError(f"closes_at ({closes_at}) must be after opens_at ({opens_at})")
    window = closes_at - opens_at
    if after is None:
        after = window / 2
    elif not timedelta(0) < after < window:
        raise ValueError(f"after ({after}) must fall inside the window ({window})")
    moment = next_allowed(opens_at + after, quiet)
    return moment if moment < closes_at else None


def shortest_gap_days(cadence: Cadence) -> int:
    """The fewest days between two consecutive openings.

    An nth weekday falls in the same seven days of every month, so consecutive
    months' openings are 28 or 35 days apart; quarter months are 90-92 days
    apart, so quarterly openings are 84, 91 or 98 days apart.
    """
    if cadence.kind == "weeks":
        return 7 * cadence.every
    return 28 if cadence.kind == "monthly" else 84


def invitations_per_year(cadence: Cadence) -> float:
    if cadence.kind == "weeks":
        return DAYS_PER_YEAR / (7 * cadence.every)
    return 12.0 if cadence.kind == "monthly" else 4.0


def burden(
    cadence: Cadence,
    window_days: int,
    items_per_pulse: int,
    seconds_per_item: float = 12,
    reminders: int = 1,
) -> Burden:
    """What ``cadence`` asks of one person a year.

    Assumes about 12 seconds an item, so the usual pulse (the two core items
    and three rotating ones, with the free-text box left empty, as most
    leave it) takes about a minute. Someone in two teams is counted once:
    the 21-day cap gives them one pulse per window, not two.

    Raises
    ------
    ValueError
        If ``window_days`` or ``items_per_pulse`` is below 1, ``seconds_per_item``
        is not positive, or ``reminders`` is not 0 or 1 (the cap is two
        messages a wave).
    """
    if window_days < 1:
        raise ValueError(f"window_days must be at least 1, got {window_days}")
    if items_per_pulse < 1:
        raise ValueError(f"items_per_pulse must be at least 1, got {items_per_pulse}")
    if seconds_per_item <= 0:
        raise ValueError(f"seconds_per_item must be positive, got {seconds_per_item}")
    if reminders not in (0, 1):
        raise ValueError(f"reminders must be 0 or 1, got {reminders}")
    invitations = invitations_per_year(cadence)
    minutes_per_pulse = items_per_pulse * seconds_per_item / 60
    return Burden(
        invitations_per_year=invitations,
        messages_per_year=invitations * (1 + reminders),
        minutes_per_year=invitations * minutes_per_pulse,
        minutes_per_pulse=minutes_per_pulse,
    )


def validate_schedule(
    cadence: Cadence,
    *,
    start: date,
    end: date | None,
    window_days: int,
    quiet: QuietHours | None = None,
    reminders: int = 1,
    min_gap_days: int = DEFAULT_MIN_GAP_DAYS,
) -> None:
    """Check a schedule as a whole; the :class:`Cadence` has checked its own fields.

    Raises
    ------
    ValueError
        With a message for the admin, if: ``end`` is before ``start``; the
        window is shorter than 2 days, longer than 60, or longer than the gap
        between openings (waves would overlap); openings are closer than
        ``min_gap_days`` (the fatigue cap, 21 days by default); ``reminders``
        is not 0 or 1; or, given ``quiet``, invitations would be due in quiet
        hours (the send time, or a weekend opening day) and so always go late.
    """
    if end is not None and end < start:
        raise ValueError(f"The end date {long_date(end)} is before the start date "
                         f"{long_date(start)}.")
    if window_days < MIN_WINDOW_DAYS:
        raise ValueError(f"A pulse must stay open for at least {MIN_WINDOW_DAYS} days, "
                         f"so people who work part-time or on shifts can answer; "
                         f"got {window_days}.")
    if window_days > MAX_WINDOW_DAYS:
        raise ValueError(f"A pulse can stay open for at most {MAX_WINDOW_DAYS} days; "
                         f"got {window_days}.")
    gap = shortest_gap_days(cadence)
    if gap < min_gap_days:
        raise ValueError(f"Pulses {cadence.describe()} would invite people every {gap} days; "
                         f"the limit is once every {min_gap_days} days, to avoid survey "
                         f"fatigue. Choose every {math.ceil(min_gap_days / 7)} weeks or more.")
    if window_days > gap:
        raise ValueError(f"A {window_days}-day window is longer than the {gap} days between "
                         f"pulses {cadence.describe()}, so one would open before the last "
                         f"closed. Shorten the window to {gap} days or fewer.")
    if reminders not in (0, 1):
        raise ValueError(f"A pulse sends at most one reminder; got {reminders}.")
    if quiet is not None:
        # Any weekday will do: the weekend is checked below.
        if quiet.is_quiet(datetime.combine(date(2026, 1, 7), cadence.send_time)):
            raise ValueError(f"The send time {cadence.send_time:%H:%M} is in quiet hours "
                             f"({quiet.start:%H:%M}-{quiet.end:%H:%M}); choose a time "
                             "outside them.")
        weekday = start.weekday() if cadence.kind == "weeks" else cadence.weekday
        if weekday >= 5 and not quiet.weekends:
            raise ValueError(f"Pulses would open on a {WEEKDAYS[weekday]}, but no messages "
                             "are sent at weekends; choose a weekday or allow weekends.")
