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
    StopValidation,
    ValidationError,
)

from survey_app.core.retention_policy import KINDS, MAX_DAYS, MIN_DAYS
from survey_app.models import ROLES
from survey_app.pulse.branding import MAX_UPLOAD_BYTES, Logo, LogoError, prepare_logo
from survey_app.retention.settings import period_problems


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


class _DaysKept:
    """A retention period: whole days from MIN_DAYS to MAX_DAYS. A box left out of the
    post altogether (an older form) keeps the INT's current period."""

    field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: IntegerField) -> None:
        if not field.raw_data:
            field.data = field.object_data
            raise StopValidation()
        if field.data is None:
            field.errors.clear()  # WTForms' own "Not a valid integer value."
            raise StopValidation("Enter a whole number of days, like 30")
        if not MIN_DAYS <= field.data <= MAX_DAYS:
            raise StopValidation(f"Choose between {MIN_DAYS} and {MAX_DAYS} days")


def _days_kept(column: str) -> IntegerField:
    kind = next(kind for kind in KINDS if kind.column == column)
    return IntegerField(kind.name, validators=[_DaysKept()])


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

    # What the privacy notices say of the INT as data controller (survey_app.notices).
    controller_name = StringField(
        "Data controller",
        validators=[Optional(),
                    Length(max=200, message="Keep the controller's name to 200 characters "
                                            "or fewer")],
    )
    dpo_contact = StringField(
        "How to contact the data protection officer",
        validators=[Optional(),
                    Length(max=300, message="Keep the DPO contact to 300 characters or fewer")],
    )
    lawful_basis_staff = TextAreaField(
        "Lawful basis for staff data",
        validators=[Optional(),
                    Length(max=1000, message="Keep the lawful basis for staff data to 1000 "
                                             "characters or fewer")],
    )
    lawful_basis_patients = TextAreaField(
        "Lawful basis for patient data",
        validators=[Optional(),
                    Length(max=1000, message="Keep the lawful basis for patient data to 1000 "
                                             "characters or fewer")],
    )

    # retention: how long each kind of data is kept (survey_app.core.retention_policy)
    retain_invitations_days = _days_kept("retain_invitations_days")
    retain_messages_days = _days_kept("retain_messages_days")
    retain_comments_days = _days_kept("retain_comments_days")
    retain_answers_days = _days_kept("retain_answers_days")
    retain_aggregates_days = _days_kept("retain_aggregates_days")
    retain_ratings_days = _days_kept("retain_ratings_days")
    retain_leavers_days = _days_kept("retain_leavers_days")

    @property
    def retention(self) -> dict[str, int]:
        """Each retention column and its days, as posted (or kept)."""
        return {kind.column: self[kind.column].data for kind in KINDS}

    def _retention_rule(self, field: IntegerField) -> None:
        # Only once every period and the gap are numbers: until then their own
        # messages say what to fix.
        days = self.retention
        gap = self.invitation_gap_days.data
        if gap is None or any(value is None for value in days.values()):
            return
        problem = period_problems(days, invitation_gap_days=gap).get(field.name)
        if problem:
            raise ValidationError(problem)

    validate_retain_invitations_days = _retention_rule
    validate_retain_messages_days = _retention_rule
    validate_retain_comments_days = _retention_rule
    validate_retain_answers_days = _retention_rule

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
