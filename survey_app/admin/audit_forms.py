"""The audit log's filter: who, what and between which dates (a GET form, no token)."""

from __future__ import annotations

from typing import Any

from wtforms import Form, SelectField, ValidationError
from wtforms.validators import Optional

from survey_app.admin.audit_log import NO_ONE, AuditFilter
from survey_app.core.forms import DayMonthYearField


class AuditFilterForm(Form):
    """Read from the query string; each choice is set by the view from the log itself."""

    user = SelectField("Who", default="", validate_choice=True,
                       invalid_choice_message="Choose someone from the list")
    action = SelectField("What", default="", validate_choice=True,
                         invalid_choice_message="Choose what happened from the list")
    since = DayMonthYearField("From", example="1 12 2026", validators=[Optional()])
    until = DayMonthYearField("To", example="31 12 2026", validators=[Optional()])

    def set_choices(self, users: list[tuple[int, str]], actions: list[tuple[str, str]]) -> None:
        self.user.choices = [("", "Anyone"), (str(NO_ONE), "No one signed in"),
                             *((str(user_id), email) for user_id, email in users)]
        self.action.choices = [("", "Anything"), *actions]

    def validate_until(self, field: Any) -> None:
        if self.since.data and field.data and field.data < self.since.data:
            raise ValidationError("The ‘to’ date must be the same as or after the ‘from’ date")

    def chosen(self) -> AuditFilter:
        """The filter the valid form describes."""
        user = self.user.data
        return AuditFilter(user_id=int(user) if user else None, action=self.action.data or None,
                           since=self.since.data, until=self.until.data)
