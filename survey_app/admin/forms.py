"""The admin pages' forms: users and their scopes, INT settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from survey_app.models import ROLES
from survey_app.pulse.branding import MAX_UPLOAD_BYTES, Logo, LogoError, prepare_logo


class UserScopeForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(role, role.title()) for role in ROLES],
                       validators=[InputRequired("Choose a role")],
                       invalid_choice_message="Choose a role from the list")
    ints = SelectMultipleField("INTs", validators=[Optional()],
                               invalid_choice_message="Choose INTs from the list")
    sites = SelectMultipleField("Sites (recorders)", validators=[Optional()],
                                invalid_choice_message="Choose sites from the list")


class NewUserForm(UserScopeForm):
    email = EmailField("Email address", validators=[
        InputRequired("Enter an email address"),
        Length(max=254, message="An email address has at most 254 characters")])
    password = PasswordField("First password",
                             validators=[InputRequired("Enter a first password")])


class EditUserForm(UserScopeForm):
    active = BooleanField("Account is active (untick to disable sign-in)")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired("Enter a new password")])


class IntSettingsForm(FlaskForm):
    invitation_gap_days = IntegerField(
        "Fewest days between two invitations to one person",
        validators=[InputRequired("Enter a number of days"),
                    NumberRange(min=14, max=365, message="Choose between 14 and 365 days")],
    )
    max_messages_per_wave = IntegerField(
        "Most messages to one person in one pulse",
        validators=[InputRequired("Enter a number of messages"),
                    NumberRange(min=1, max=2,
                                message="1 (invitation only) or 2 (with one reminder)")],
    )
    low_activation_prompt = TextAreaField(
        "What to suggest after a rating of 1 or 2",
        # It shows on a phone under the "Saved" banner: more would need scrolling.
        validators=[Optional(), Length(max=200, message="Keep it to 200 characters or fewer")],
    )
    action_stages = StringField(
        "Stages of the improvement cycle",
        validators=[InputRequired("Enter at least one stage, e.g. Plan, Do, Study, Act"),
                    Length(max=200, message="Keep the stages to 200 characters or fewer")],
    )

    display_name = StringField(
        "Name shown to staff and patients",
        validators=[Optional(),
                    Length(max=200, message="Keep the name to 200 characters or fewer")],
    )
    contact_text = TextAreaField(
        "How to contact the INT",
        validators=[Optional(), Length(max=300, message="Keep it to 300 characters or fewer")],
    )
    contact_email = EmailField(
        "Contact email address",
        validators=[Optional(),
                    Length(max=254, message="An email address has at most 254 characters"),
                    Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                           message="Enter an email address like team@example.nhs.uk")],
    )
    contact_phone = StringField(
        "Contact phone number",
        validators=[Optional(),
                    Length(max=32, message="Keep the phone number to 32 characters or fewer"),
                    Regexp(r"^\+?[0-9][0-9 ()-]{4,}$",
                           message="Enter a phone number in digits, like 0113 496 0000")],
    )
    logo = FileField("Logo (optional)")
    remove_logo = BooleanField("Remove the logo")

    # Set by validate_logo: the upload, checked and re-encoded, ready to store.
    prepared_logo: Logo | None = None

    def validate_logo(self, field: FileField) -> None:
        if field.data is None:
            return
        if self.remove_logo.data:
            raise ValidationError("Choose a new logo or tick Remove the logo, not both")
        try:
            self.prepared_logo = prepare_logo(field.data.stream.read(MAX_UPLOAD_BYTES + 1))
        except LogoError as error:
            raise ValidationError(str(error)) from error

    def validate_action_stages(self, field: StringField) -> None:
        stages = [s.strip() for s in (field.data or "").split(",")]
        if not all(stages) or not stages:
            raise ValidationError("Separate the stages with commas and leave none empty")
        if any(len(stage) > 40 for stage in stages):
            raise ValidationError("Keep each stage to 40 characters or fewer")
        if len({s.lower() for s in stages}) != len(stages):
            raise ValidationError("Name each stage once")
