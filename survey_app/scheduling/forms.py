"""The scheduling admin pages' forms: a schedule's settings and a roster upload."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError

from survey_app.core.forms import DayMonthYearField
from survey_app.scheduling.cadence import WEEKDAYS


class WholeNumberField(IntegerField):
    """An integer field whose error a person can act on."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None  # blank: for the validators to judge
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(f"{self.label.text} must be a whole number, like 4") from None


CADENCE_CHOICES = [
    SelectChoice("weeks", "Every few weeks, from the start date"),
    SelectChoice("monthly", "Monthly, on a chosen weekday"),
    SelectChoice("quarterly", "Quarterly (January, April, July and October), on a chosen weekday"),
]
NTH_CHOICES = [SelectChoice("1", "First"), SelectChoice("2", "Second"),
               SelectChoice("3", "Third"), SelectChoice("4", "Fourth"),
               SelectChoice("-1", "Last")]
EVERY_TEAM = ""


class ScheduleForm(FlaskForm):
    """A schedule's settings; the service checks how they fit together."""

    neighbourhood = SelectField("INT", validators=[InputRequired("Choose an INT")],
                                invalid_choice_message="Choose an INT from the list")
    # Team ids as text, only the chosen INT's; EVERY_TEAM for the whole INT. The view
    # checks a posted team itself, so that one of another INT is named in its message.
    team = SelectField("Team", validate_choice=False)
    cadence_kind = RadioField("How often", choices=CADENCE_CHOICES,
                              validators=[InputRequired("Choose how often to pulse")],
                              invalid_choice_message="Choose how often to pulse")
    every_weeks = WholeNumberField("Every how many weeks", default=4)
    weekday = SelectField("Weekday", coerce=int, default=1,
                          choices=[SelectChoice(str(day), name)
                                   for day, name in enumerate(WEEKDAYS)],
                          invalid_choice_message="Choose a weekday from the list")
    nth = SelectField("Which one in the month", coerce=int, default=1, choices=NTH_CHOICES,
                      invalid_choice_message="Choose first to fourth, or last")
    send_time = StringField("Send time", default="09:00",
                            validators=[InputRequired("Enter a send time, like 09:00")])
    window_days = WholeNumberField(
        "Days each pulse stays open", default=14,
        validators=[InputRequired("Enter how many days each pulse stays open")])
    reminder = RadioField("Remind people who have not answered", default="yes",
                          choices=[SelectChoice("yes", "Yes, once, halfway through"),
                                   SelectChoice("no", "No reminder")],
                          validators=[InputRequired("Choose whether to send a reminder")],
                          invalid_choice_message="Choose whether to send a reminder")
    quiet_start = StringField("Quiet hours start", default="20:00",
                              validators=[InputRequired("Enter when quiet hours start")])
    quiet_end = StringField("Quiet hours end", default="08:00",
                            validators=[InputRequired("Enter when quiet hours end")])
    weekends_allowed = BooleanField("Allow messages at weekends")
    start_date = DayMonthYearField("Start date", example="1 12 2026",
                                   validators=[InputRequired("Enter a start date")])
    end_date = DayMonthYearField("End date (optional)", example="31 3 2027",
                                 validators=[Optional()])
    check = SubmitField("Check the burden")
    save = SubmitField("Save schedule")

    def validate_every_weeks(self, field: WholeNumberField) -> None:
        if self.cadence_kind.data != "weeks":
            # Not used by the other cadences: whatever was typed is ignored.
            field.errors = []
            raise StopValidation()
        if field.data is None and not field.errors:
            raise ValidationError("Enter every how many weeks, like 4")


class ChooseIntForm(FlaskForm):
    """The schedule form's first step: which INT (sent as ``?int=<slug>``)."""

    class Meta:
        csrf = False  # a GET that only picks what the next page shows

    neighbourhood = SelectField("INT", name="int", validators=[InputRequired("Choose an INT")],
                                invalid_choice_message="Choose an INT from the list")


# A 10,000-person ESR export with its many extra columns is a few megabytes.
MAX_ROSTER_BYTES = 20 * 1024 * 1024


class RosterForm(FlaskForm):
    neighbourhood = SelectField("INT", validators=[InputRequired("Choose an INT")],
                                invalid_choice_message="Choose an INT from the list")
    roster = FileField("Roster file (CSV)", validators=[
        FileRequired("Choose a roster file to upload"),
        FileAllowed(["csv"], "The roster must be a .csv file: in your spreadsheet, choose "
                             "Save As, then 'CSV UTF-8 (comma delimited)'"),
    ])

    def validate_roster(self, field: FileField) -> None:
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > MAX_ROSTER_BYTES:
            raise ValidationError(f"The file is larger than {MAX_ROSTER_BYTES // 2**20} MB: "
                                  "upload one INT's staff at a time")


class ResendForm(FlaskForm):
    """Resend one message the scheduler stopped in the middle of sending."""

    message_id = HiddenField(validators=[InputRequired()])

    def validate_message_id(self, field: HiddenField) -> None:
        if not str(field.data).isdigit() or not 1 <= int(field.data) <= 2**31 - 1:
            raise ValidationError("Not a message")
