"""Form fields every feature's forms may use."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import Field
from wtforms.utils import unset_value

from survey_app.core.dates import MONTHS

PARTS = ("day", "month", "year")


class DayMonthYearField(Field):
    """A date typed as day, month and year, sent as ``<name>-day``, ``-month``, ``-year``.

    Each message names what to fix, as the NHS.UK date-input guidance asks: a missing
    part ("must include a year"), a part that is not a number, or a day the month does
    not have. ``raw_parts`` keeps what was typed so the page shows it again.
    """

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 example: str = "17 3 2025", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.example = example
        self.raw_parts: dict[str, str] = {part: "" for part in PARTS}
        self.error_part: str | None = None  # the box to mark red; None marks all three

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.raw_data = []
        self.data = data if data not in (None, unset_value) else self.default
        if callable(self.data):
            self.data = self.data()
        if isinstance(self.data, date):
            self.raw_parts = {"day": str(self.data.day), "month": str(self.data.month),
                              "year": str(self.data.year)}
        if formdata is None or not any(f"{self.name}-{part}" in formdata for part in PARTS):
            return
        self.raw_parts = {part: str(formdata.get(f"{self.name}-{part}", "")).strip()[:10]
                          for part in PARTS}
        typed = "-".join(self.raw_parts[part] for part in PARTS)
        self.raw_data = [typed] if typed.strip("-") else []  # what InputRequired reads
        self.data = None
        try:
            self.data = self._parse()
        except ValueError as problem:
            self.process_errors.append(str(problem))

    def _parse(self) -> date | None:
        parts = self.raw_parts
        missing = [part for part in PARTS if not parts[part]]
        if len(missing) == len(PARTS):
            return None  # blank: for InputRequired or Optional to judge
        name = self.label.text
        if missing:
            self.error_part = missing[0] if len(missing) == 1 else None
            return self._fail(f"{name} must include a {' and a '.join(missing)}")
        for part in PARTS:
            if not parts[part].isdigit():
                self.error_part = part
                return self._fail(f"The {part} of {name.lower()} must be a number, "
                                  f"for example {self.example}")
        day, month, year = (int(parts[part]) for part in PARTS)
        if len(parts["year"]) != 4:
            self.error_part = "year"
            return self._fail(f"The year of {name.lower()} must have 4 numbers, like 2025")
        if not 1 <= month <= 12:
            self.error_part = "month"
            return self._fail(f"The month of {name.lower()} must be from 1 to 12")
        try:
            return date(year, month, day)
        except ValueError:
            self.error_part = "day"
            return self._fail(f"{name} must be a real date: {MONTHS[month - 1]} {year} "
                              f"has no day {day}")

    def _fail(self, message: str) -> None:
        raise ValueError(message)

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""
