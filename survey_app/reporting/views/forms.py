"""Forms of the report pages: the action log and the rebase points of a team's charts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from survey_app.core.forms import DayMonthYearField
from survey_app.reporting.actions import MAX_DESCRIPTION


class ActionForm(FlaskForm):
    """What a lead did for a team ("you said, we did"); stages are set per INT by the view."""

    taken_on = DayMonthYearField(
        "Date of the action",
        validators=[InputRequired("Enter the date of the action, for example 17 3 2025")],
    )
    description = TextAreaField(
        "What was done",
        validators=[InputRequired("Enter what was done"),
                    Length(max=MAX_DESCRIPTION,
                           message=f"Describe the action in {MAX_DESCRIPTION} characters "
                                   "or fewer")],
    )
    stage = SelectField("Stage of the improvement cycle",
                        validators=[InputRequired("Choose a stage")],
                        invalid_choice_message="Choose a stage from the list")


class RebaseForm(FlaskForm):
    """Start a team's charts afresh at a wave; the service re-checks the special cause."""

    # The choices offered are the waves with a sustained shift, but the check that
    # matters is the service's, so a stale or forged choice gets its clear message.
    wave_id = SelectField("Pulse the charts start afresh from", validate_choice=False,
                          validators=[InputRequired("Choose the pulse to start afresh from")])
    reason = TextAreaField(
        "Why the charts should start afresh",
        validators=[InputRequired("Say why the charts should start afresh"),
                    Length(max=MAX_DESCRIPTION,
                           message=f"Give the reason in {MAX_DESCRIPTION} characters or fewer")],
    )
