"""Posting dates as people type them: day, month and year boxes (core.dates)."""

from __future__ import annotations

from datetime import date
from typing import Any


def date_fields(name: str, value: date | str) -> dict[str, str]:
    """The three boxes of date field ``name``: from a date, ``YYYY-MM-DD``,
    ``DD/MM/YYYY`` as typed (not checked, so bad dates can be posted) or ""."""
    if isinstance(value, date):
        day, month, year = str(value.day), str(value.month), str(value.year)
    elif "/" in value:
        day, month, year = value.split("/")
    elif value:
        year, month, day = value.split("-")
    else:
        day = month = year = ""
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def with_date_fields(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """``data`` with each of ``names`` replaced by its three boxes."""
    out = {key: value for key, value in data.items() if key not in names}
    for name in names:
        if name in data:
            out.update(date_fields(name, data[name]))
    return out
