from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from survey_app.models import ROLES


class UserScopeForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(role, role.title()) for role in ROLES],
                       validators=[InputRequired("Choose a role")],
                       invalid_choice_message="Choose a role from the list")
    ints = SelectMultipleField("INTs", validators=[Optional()],
                               invalid_choice_message="Choose INTs from the list")
    sites = SelectMultipleField("Sites (recorders)", validators=[Optional()],
                                invalid_choice_message="Choose sites from the list")


class NewUserForm(UserScopeForm):
    email = EmailField("Email address", validators=[InputRequired("Enter an email address")])
    password = PasswordField("First password",
                             validators=[InputRequired("Enter a first password")])


class EditUserForm(UserScopeForm):
    active = BooleanField("Account is active (untick to disable sign-in)")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired("Enter a new password")])


class IntSettingsForm(FlaskForm):
    low_activation_prompt = TextAreaField(
        "What to suggest after a rating of 1 or 2",
        # It shows on a phone under the "Saved" banner: more would need scrolling.
        validators=[Optional(), Length(max=200, message="Keep it to 200 characters or fewer")],
    )
