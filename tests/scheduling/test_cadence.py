"""Schedule arithmetic, against dates worked out by hand from a 2026 calendar.

In 2026 British Summer Time starts at 01:00 UTC on Sunday 29 March (01:00 GMT
becomes 02:00 BST) and ends at 01:00 UTC on Sunday 25 October (02:00 BST
becomes 01:00 GMT). 1 January 2026 is a Thursday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey_app.core.clock import LONDON
from survey_app.scheduling.cadence import (
    Burden,
    Cadence,
    QuietHours,
    burden,
    local_to_utc,
    next_allowed,
    nth_weekday,
    occurrences,
    reminder_time,
    shortest_gap_days,
    validate_schedule,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


NIGHTS_AND_WEEKENDS = QuietHours()
NIGHTS_ONLY = QuietHours(weekends=True)


# --- next_allowed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "quiet", "expected"),
    [
        # Spring forward: 01:30 UTC is 02:30 BST, so the night ends at 08:00 BST = 07:00 UTC.
        (utc(2026, 3, 29, 1, 30), NIGHTS_ONLY, utc(2026, 3, 29, 7, 0)),
        # The hour before the change, still GMT: the same 08:00 BST.
        (utc(2026, 3, 29, 0, 30), NIGHTS_ONLY, utc(2026, 3, 29, 7, 0)),
        # Fall back: 00:30 UTC is the first 01:30 (BST), 01:30 UTC the second (GMT);
        # both wait for 08:00 GMT = 08:00 UTC.
        (utc(2026, 10, 25, 0, 30), NIGHTS_ONLY, utc(2026, 10, 25, 8, 0)),
        (utc(2026, 10, 25, 1, 30), NIGHTS_ONLY, utc(2026, 10, 25, 8, 0)),
        # The same Sundays with weekends quiet: Monday 08:00 local.
        (utc(2026, 3, 29, 1, 30), NIGHTS_AND_WEEKENDS, utc(2026, 3, 30, 7, 0)),
        (utc(2026, 10, 25, 0, 30), NIGHTS_AND_WEEKENDS, utc(2026, 10, 26, 8, 0)),
        # Friday 20:00 GMT waits the weekend, over the change, to Monday 08:00 BST.
        (utc(2026, 3, 27, 20, 0), NIGHTS_AND_WEEKENDS, utc(2026, 3, 30, 7, 0)),
        (utc(2026, 3, 27, 19, 59), NIGHTS_AND_WEEKENDS, utc(2026, 3, 27, 19, 59)),
        # Friday 19:30 BST is allowed; 20:00 BST (19:00 UTC) waits until Monday 08:00 GMT.
        (utc(2026, 10, 23, 18, 30), NIGHTS_AND_WEEKENDS, utc(2026, 10, 23, 18, 30)),
        (utc(2026, 10, 23, 19, 0), NIGHTS_AND_WEEKENDS, utc(2026, 10, 26, 8, 0)),
        # Summer weekday edges: 19:59 BST allowed, 20:00 BST quiet until 08:00 BST.
        (utc(2026, 7, 15, 18, 59), NIGHTS_AND_WEEKENDS, utc(2026, 7, 15, 18, 59)),
        (utc(2026, 7, 15, 19, 0), NIGHTS_AND_WEEKENDS, utc(2026, 7, 16, 7, 0)),
        (utc(2026, 7, 16, 6, 59), NIGHTS_AND_WEEKENDS, utc(2026, 7, 16, 7, 0)),
        (utc(2026, 7, 16, 7, 0), NIGHTS_AND_WEEKENDS, utc(2026, 7, 16, 7, 0)),
        # Winter: 07:59 GMT waits a minute.
        (utc(2026, 1, 14, 7, 59), NIGHTS_AND_WEEKENDS, utc(2026, 1, 14, 8, 0)),
        # Sunday 23:00 is weekend, then Monday's night until 08:00.
        (utc(2026, 1, 18, 23, 0), NIGHTS_AND_WEEKENDS, utc(2026, 1, 19, 8, 0)),
        # Quiet hours that do not wrap midnight (a lunch break).
        (utc(2026, 1, 14, 12, 30), QuietHours(time(12), time(13), weekends=True),
         utc(2026, 1, 14, 13, 0)),
        # Equal start and end: no nightly quiet hours at all.
        (utc(2026, 1, 14, 3, 0), QuietHours(time(8), time(8), weekends=True),
         utc(2026, 1, 14, 3, 0)),
    ],
)
def test_next_allowed(due: datetime, quiet: QuietHours, expected: datetime) -> None:
    assert next_allowed(due, quiet) == expected


QUIET_UNTIL_0130 = QuietHours(start=time(0, 0), end=time(1, 30), weekends=True)


def test_a_quiet_spell_ending_in_the_spring_gap_ends_at_the_same_wall_time_in_gmt() -> None:
    # 01:30 does not exist on 29 March: it is read as 01:30 GMT, shown as 02:30 BST.
    assert next_allowed(utc(2026, 3, 29, 0, 45), QUIET_UNTIL_0130) == utc(2026, 3, 29, 1, 30)


def test_a_quiet_spell_ending_at_an_ambiguous_time_ends_at_its_next_occurrence() -> None:
    # 00:10 UTC is 01:10 BST: quiet until the first 01:30 (BST), 00:30 UTC.
    assert next_allowed(utc(2026, 10, 25, 0, 10), QUIET_UNTIL_0130) == utc(2026, 10, 25, 0, 30)
    # 01:10 UTC is the second 01:10 (GMT): the first 01:30 has passed, so the second.
    assert next_allowed(utc(2026, 10, 25, 1, 10), QUIET_UNTIL_0130) == utc(2026, 10, 25, 1, 30)


def test_naive_moments_are_read_as_utc() -> None:
    assert next_allowed(datetime(2026, 3, 29, 1, 30), NIGHTS_ONLY) == utc(2026, 3, 29, 7, 0)


@given(
    moment=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC)),
    weekends=st.booleans(),
)
def test_next_allowed_is_the_first_allowed_moment(moment: datetime, weekends: bool) -> None:
    quiet = QuietHours(weekends=weekends)
    result = next_allowed(moment, quiet)
    assert result >= moment
    assert not quiet.is_quiet(result.astimezone(LONDON))
    if result > moment:
        # Quiet spells end on the minute: the second before was still quiet.
        assert quiet.is_quiet((result - timedelta(seconds=1)).astimezone(LONDON))
    assert result - moment < timedelta(days=3)


def test_local_to_utc_handles_gap_and_fold() -> None:
    assert local_to_utc(datetime(2026, 3, 29, 1, 30)) == utc(2026, 3, 29, 1, 30)
    assert local_to_utc(datetime(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 0, 30)
    assert local_to_utc(datetime(2026, 10, 25, 1, 30),
                        not_before=utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1, 30)


# --- occurrences ---------------------------------------------------------------------

YEAR_2026 = (utc(2026, 1, 1), utc(2027, 1, 1))


def test_monthly_on_the_first_tuesday_through_2026() -> None:
    cadence = Cadence("monthly", weekday=1, nth=1)
    expected = [
        utc(2026, 1, 6, 9), utc(2026, 2, 3, 9), utc(2026, 3, 3, 9),
        # BST, 29 March to 25 October: 09:00 local is 08:00 UTC.
        utc(2026, 4, 7, 8), utc(2026, 5, 5, 8), utc(2026, 6, 2, 8), utc(2026, 7, 7, 8),
        utc(2026, 8, 4, 8), utc(2026, 9, 1, 8), utc(2026, 10, 6, 8),
        utc(2026, 11, 3, 9), utc(2026, 12, 1, 9),
    ]
    assert occurrences(cadence, date(2026, 1, 1), None, *YEAR_2026) == expected


def test_quarterly_on_the_last_friday_of_january_april_july_october() -> None:
    cadence = Cadence("quarterly", weekday=4, nth=-1, send_time=time(10, 30))
    assert occurrences(cadence, date(2025, 6, 1), None, *YEAR_2026) == [
        utc(2026, 1, 30, 10, 30), utc(2026, 4, 24, 9, 30), utc(2026, 7, 31, 9, 30),
        utc(2026, 10, 30, 10, 30),
    ]


def test_every_three_weeks_across_the_autumn_change() -> None:
    cadence = Cadence("weeks", every=3)
    assert occurrences(cadence, date(2026, 10, 5), None, *YEAR_2026) == [
        utc(2026, 10, 5, 8), utc(2026, 10, 26, 9), utc(2026, 11, 16, 9),
        utc(2026, 12, 7, 9), utc(2026, 12, 28, 9),
    ]


def test_every_four_weeks_across_the_spring_change_from_a_later_window() -> None:
    cadence = Cadence("weeks", every=4)
    assert occurrences(cadence, date(2026, 1, 5), None,
                       utc(2026, 3, 1), utc(2026, 5, 1)) == [
        utc(2026, 3, 2, 9), utc(2026, 3, 30, 8), utc(2026, 4, 27, 8)]


def test_the_range_is_half_open_and_the_end_date_inclusive() -> None:
    cadence = Cadence("weeks", every=4)
    start, opening = date(2026, 3, 2), utc(2026, 3, 30, 8)
    assert occurrences(cadence, start, None, opening, opening + timedelta(days=28)) == [
        opening]
    assert occurrences(cadence, start, None, opening - timedelta(days=28), opening) == [
        utc(2026, 3, 2, 9)]
    assert occurrences(cadence, start, date(2026, 3, 30), *YEAR_2026)[-1] == opening
    assert occurrences(cadence, start, date(2026, 3, 29), *YEAR_2026)[-1] == utc(2026, 3, 2, 9)


def test_nothing_opens_before_the_start_date() -> None:
    cadence = Cadence("monthly", weekday=1, nth=1)
    assert occurrences(cadence, date(2026, 12, 2), None, *YEAR_2026) == []


def test_a_send_time_in_the_gap_or_the_fold() -> None:
    at_0130 = Cadence("weeks", every=30, send_time=time(1, 30))
    assert occurrences(at_0130, date(2026, 3, 29), None, *YEAR_2026)[0] == utc(2026, 3, 29, 1, 30)
    assert occurrences(at_0130, date(2026, 10, 25), None, *YEAR_2026)[0] == utc(2026, 10, 25,
                                                                                 0, 30)


def test_occurrences_refuses_an_end_before_the_start() -> None:
    with pytest.raises(ValueError, match="before start"):
        occurrences(Cadence("weeks"), date(2026, 2, 1), date(2026, 1, 31), *YEAR_2026)


def test_occurrences_over_an_empty_range() -> None:
    assert occurrences(Cadence("weeks"), date(2026, 1, 1), None, utc(2026, 5, 1),
                       utc(2026, 5, 1)) == []


@pytest.mark.parametrize(
    ("year", "month", "weekday", "nth", "expected"),
    [(2026, 2, 0, 1, date(2026, 2, 2)), (2026, 2, 0, 4, date(2026, 2, 23)),
     (2026, 2, 0, -1, date(2026, 2, 23)), (2026, 3, 1, -1, date(2026, 3, 31)),
     (2026, 3, 6, -1, date(2026, 3, 29)), (2026, 10, 6, -1, date(2026, 10, 25)),
     (2024, 2, 3, -1, date(2024, 2, 29))],
)
def test_nth_weekday(year: int, month: int, weekday: int, nth: int, expected: date) -> None:
    assert nth_weekday(year, month, weekday, nth) == expected


def test_the_shortest_gaps_hold_over_a_full_28_year_calendar_cycle() -> None:
    after, until = utc(2024, 1, 1), utc(2052, 1, 1)
    for kind, gap in (("monthly", 28), ("quarterly", 84)):
        for weekday in range(7):
            for nth in (1, 2, 3, 4, -1):
                cadence = Cadence(kind, weekday=weekday, nth=nth)  # type: ignore[arg-type]
                days = [moment.astimezone(LONDON).date()
                        for moment in occurrences(cadence, date(2024, 1, 1), None, after, until)]
                assert min((b - a).days for a, b in zip(days, days[1:], strict=False)) == gap
                assert shortest_gap_days(cadence) == gap


# --- reminders ----------------------------------------------------------------------


def test_reminder_mid_window() -> None:
    opens = utc(2026, 3, 23, 9)
    assert reminder_time(opens, opens + timedelta(days=14), NIGHTS_AND_WEEKENDS) == utc(
        2026, 3, 30, 9)


def test_reminder_moved_out_of_a_weekend() -> None:
    # Opens Wednesday 09:00 BST for 7 days; mid-window is Saturday 21:00 BST.
    opens = utc(2026, 7, 1, 8)
    assert reminder_time(opens, opens + timedelta(days=7), NIGHTS_AND_WEEKENDS) == utc(
        2026, 7, 6, 7)


def test_no_reminder_when_no_allowed_moment_remains() -> None:
    # Opens Friday 09:00 BST, closes Sunday 09:00 BST: the mid-point is Saturday.
    opens = utc(2026, 7, 3, 8)
    assert reminder_time(opens, opens + timedelta(days=2), NIGHTS_AND_WEEKENDS) is None
    assert reminder_time(opens, opens + timedelta(days=2), NIGHTS_ONLY) == utc(2026, 7, 4, 8)


def test_reminder_after_a_chosen_delay() -> None:
    opens = utc(2026, 1, 5, 9)
    assert reminder_time(opens, opens + timedelta(days=14), NIGHTS_AND_WEEKENDS,
                         after=timedelta(days=3, hours=12)) == utc(2026, 1, 9, 8)


@pytest.mark.parametrize(
    ("closes", "after", "message"),
    [(utc(2026, 1, 5, 9), None, "must be after"),
     (utc(2026, 1, 19, 9), timedelta(days=14), "inside the window"),
     (utc(2026, 1, 19, 9), timedelta(0), "inside the window")],
)
def test_reminder_refuses_a_bad_window(closes: datetime, after: timedelta | None,
                                       message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reminder_time(utc(2026, 1, 5, 9), closes, NIGHTS_AND_WEEKENDS, after=after)


# --- burden -------------------------------------------------------------------------


def test_burden_of_a_four_weekly_pulse() -> None:
    # 365.2425 / 28 = 13.044375 waves a year; 5 items x 12 s = 1 minute each.
    assert burden(Cadence("weeks", every=4), 14, 5) == pytest.approx(
        Burden(13.044375, 26.08875, 13.044375, 1.0))


def test_burden_of_a_quarterly_pulse_without_reminders() -> None:
    result = burden(Cadence("quarterly"), 14, 4, seconds_per_item=15, reminders=0)
    assert (result.invitations_per_year, result.messages_per_year) == (4.0, 4.0)
    assert result.minutes_per_year == pytest.approx(4.0)
    assert burden(Cadence("monthly"), 14, 5).messages_per_year == 24.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"window_days": 0}, "window_days"), ({"items_per_pulse": 0}, "items_per_pulse"),
     ({"seconds_per_item": 0}, "seconds_per_item"), ({"reminders": 2}, "reminders")],
)
def test_burden_refuses_bad_parameters(kwargs: dict[str, int], name: str) -> None:
    arguments = {"window_days": 14, "items_per_pulse": 5} | kwargs
    with pytest.raises(ValueError, match=name):
        burden(Cadence("monthly"), **arguments)


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"kind": "fortnightly"}, "kind must be one of"),
     ({"kind": "weeks", "every": 0}, "every must be between 1 and 52"),
     ({"kind": "weeks", "every": 53}, "every must be between 1 and 52"),
     ({"kind": "monthly", "weekday": 7}, "weekday must be 0"),
     ({"kind": "monthly", "nth": 5}, "nth must be 1, 2, 3, 4 or -1"),
     ({"kind": "quarterly", "nth": 0}, "nth must be"),
     ({"kind": "monthly", "send_time": time(9, tzinfo=UTC)}, "must not carry a time zone")],
)
def test_a_cadence_refuses_bad_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Cadence(**fields)  # type: ignore[arg-type]


FOUR_WEEKLY = Cadence("weeks", every=4)


def schedule(cadence: Cadence = FOUR_WEEKLY, **overrides: object) -> None:
    arguments: dict[str, object] = {"start": date(2026, 1, 5), "end": None, "window_days": 14,
                                    "quiet": NIGHTS_AND_WEEKENDS}
    validate_schedule(cadence, **(arguments | overrides))  # type: ignore[arg-type]


def test_sound_schedules_pass() -> None:
    schedule()
    schedule(Cadence("weeks", every=3), window_days=21)
    schedule(Cadence("monthly", weekday=1, nth=1), window_days=28)
    schedule(Cadence("quarterly", weekday=4, nth=-1), window_days=60, end=date(2026, 1, 5))
    schedule(Cadence("monthly", weekday=5), quiet=NIGHTS_ONLY)


@pytest.mark.parametrize(
    ("cadence", "overrides", "message"),
    [
        (Cadence("weeks", every=4), {"end": date(2026, 1, 4)},
         "end date 4 January 2026 is before the start date 5 January 2026"),
        (Cadence("weeks", every=4), {"window_days": 1}, "at least 2 days"),
        (Cadence("quarterly"), {"window_days": 61}, "at most 60 days"),
        (Cadence("weeks", every=4), {"window_days": 29}, "longer than the 28 days"),
        (Cadence("monthly"), {"window_days": 29}, "longer than the 28 days"),
        (Cadence("weeks", every=2), {"window_days": 7},
         "every 14 days; the limit is once every 21 days"),
        (Cadence("weeks", every=1), {"window_days": 7}, "Choose every 3 weeks or more"),
        (Cadence("weeks", every=3), {"min_gap_days": 28}, "once every 28 days"),
        (Cadence("weeks", every=4), {"reminders": 2}, "at most one reminder"),
        (Cadence("weeks", every=4, send_time=time(20, 0)), {}, "20:00 is in quiet hours"),
        (Cadence("weeks", every=4, send_time=time(7, 59)), {}, "07:59 is in quiet hours"),
        (Cadence("weeks", every=4), {"start": date(2026, 1, 3)}, "open on a Saturday"),
        (Cadence("monthly", weekday=6), {}, "open on a Sunday"),
    ],
)
def test_invalid_schedules_are_refused_with_a_reason(
    cadence: Cadence, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        schedule(cadence, **overrides)


def test_describe() -> None:
    assert Cadence("weeks", every=4).describe() == "every 4 weeks at 09:00"
    assert Cadence("weeks", every=1).describe() == "every week at 09:00"
    assert (Cadence("quarterly", weekday=4, nth=-1, send_time=time(10, 30)).describe()
            == "quarterly on the last Friday at 10:30")
