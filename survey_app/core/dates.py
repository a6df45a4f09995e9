"""Dates as people in England read and type them, whatever the browser's locale.

Shown: ``17 March 2025`` (``long_date``), ``17 Mar 2025`` (``short_date``) and
``17 March 2025, 09:05`` in London time (``date_time``). Typed: three boxes, day,
month and year, in the NHS.UK date-input pattern (``survey_app.core.forms.
DayMonthYearField`` with the ``forms.date_input`` macro), because ``<input
type="date">`` shows mm/dd/yyyy to a browser set to American English and its picker
is hard to use on a phone.
"""

from __future__ import annotations

from datetime import date, datetime

from survey_app.core.clock import LONDON, as_utc

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def long_date(day: date | datetime | None) -> str:
    """``17 March 2025``; a datetime is first moved to London time."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = as_utc(day).astimezone(LONDON).date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: date | datetime | None) -> str:
    """``17 Mar 2025``, for tables."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = as_utc(day).astimezone(LONDON).date()
    return f"{day.day} {MONTHS[day.month - 1][:3]} {day.year}"


def date_time(moment: datetime | None) -> str:
    """``17 March 2025, 09:05`` in London time (a naive value is taken as UTC)."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(LONDON)
    return f"{long_date(local.date())}, {local:%H:%M}"


def month_year(day: date) -> str:
    """``March 2025``."""
    return f"{MONTHS[day.month - 1]} {day.year}"
