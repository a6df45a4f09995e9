"""Dates as people in England read and type them: the formatters and the date field."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.validators import InputRequired, Optional

from survey_app.core.dates import date_time, long_date, month_year, short_date
from survey_app.core.forms import DayMonthYearField
from tests.dates import date_fields


def test_days_are_written_the_english_way():
    assert long_date(date(2025, 3, 17)) == "17 March 2025"
    assert short_date(date(2025, 3, 7)) == "7 Mar 2025"
    assert month_year(date(2025, 9, 30)) == "September 2025"
    assert long_date(None) == short_date(None) == date_time(None) == ""


def test_a_moment_is_dated_in_london_time():
    # 23:30 UTC on 30 June is 00:30 British Summer Time on 1 July; in January they agree.
    assert long_date(datetime(2025, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2025"
    assert date_time(datetime(2025, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2025, 00:30"
    assert date_time(datetime(2025, 1, 5, 9, 5)) == "5 January 2025, 09:05"  # naive is UTC


class _Form(Form):
    required = DayMonthYearField("Start date", validators=[InputRequired("Enter a start date")])
    optional = DayMonthYearField("End date", validators=[Optional()])


def _posted(**typed: str) -> _Form:
    data: dict[str, str] = {}
    for name, value in typed.items():
        data.update(date_fields(name, value))
    form = _Form(MultiDict(data))
    form.validate()
    return form


def test_three_boxes_make_a_date():
    form = _posted(required="17/3/2025", optional="")
    assert form.required.data == date(2025, 3, 17)
    assert form.optional.data is None and form.errors == {}


@pytest.mark.parametrize(("typed", "message", "marked"), [
    ("", "Enter a start date", None),
    ("17/3/", "Start date must include a year", "year"),
    ("//2025", "Start date must include a day and a month", None),
    ("17/March/2025", "The month of start date must be a number, for example 17 3 2025",
     "month"),
    ("17/3/25", "The year of start date must have 4 numbers, like 2025", "year"),
    ("17/13/2025", "The month of start date must be from 1 to 12", "month"),
    ("29/2/2025", "Start date must be a real date: February 2025 has no day 29", "day"),
])
def test_each_mistake_is_named_and_what_was_typed_is_kept(typed, message, marked):
    form = _posted(required=typed, optional="")
    assert form.errors == {"required": [message]}
    assert form.required.error_part == marked
    if typed:
        day, month, year = typed.split("/")
        assert form.required.raw_parts == {"day": day, "month": month, "year": year}


def test_a_leap_day_is_a_real_date_and_an_unposted_form_shows_its_default():
    assert _posted(required="29/2/2028").required.data == date(2028, 2, 29)
    shown = _Form(data={"required": date(2026, 12, 1)})
    assert shown.required.raw_parts == {"day": "1", "month": "12", "year": "2026"}


def test_a_post_without_the_boxes_is_a_blank_date_not_a_crash():
    form = _Form(MultiDict({"unrelated": "x"}))
    assert not form.validate()
    assert form.required.data is None and form.optional.data is None
    assert form.errors == {"required": ["Enter a start date"]}
