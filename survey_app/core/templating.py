"""Helpers every template may call."""

from __future__ import annotations

from typing import Any

from flask import Flask

from survey_app.core import dates

EXPIRED_FORM = "This form had expired, so nothing was saved. Please try again."


def form_errors(form: Any) -> list[tuple[str, str]]:
    """(anchor id, message) pairs for the NHS error summary, fields in page order."""
    found: list[tuple[str, str]] = []
    for field in form:
        if field.name == "csrf_token":
            if field.errors:
                found.insert(0, ("maincontent", EXPIRED_FORM))
            continue
        found.extend((field.id, message) for message in field.errors)
    found.extend(("maincontent", message) for message in getattr(form, "form_errors", []))
    return found


def init_app(app: Flask) -> None:
    app.jinja_env.globals["form_errors"] = form_errors
    app.jinja_env.filters.update(long_date=dates.long_date, short_date=dates.short_date,
                                 date_time=dates.date_time, month_year=dates.month_year)
