"""One place to ask the time, so tests and the scheduler can pass their own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime (as SQLite returns them) as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


LONDON = ZoneInfo("Europe/London")


def local_date(moment: datetime) -> date:
    """The calendar date in England at ``moment`` (ratings are kept by local date)."""
    return as_utc(moment).astimezone(LONDON).date()
