"""Forms for recording activation: clinician, kiosk, QR, and enrolling a kiosk."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from survey_app.models import CONSULTATION_TYPES

RATING_CHOICES = [SelectChoice(str(value), str(value)) for value in range(1, 5)]


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def _text_only(_form: FlaskForm, field: Field) -> None:
    """Refuse a file posted (multipart) where text is expected, before Length() fails on it."""
    if any(not isinstance(value, str) for value in field.raw_data or ()):
        raise StopValidation("This form was incomplete, so nothing was saved. Please try again.")


class _RatingForm(FlaskForm):
    # Each page load gets a fresh key: a double tap or a resubmission of this
    # same page carries the same key and so stores one rating.
    idempotency_key = HiddenField(validators=[
        InputRequired("This form was incomplete, so nothing was saved. Please try again."),
        _text_only, Length(max=64),
    ])
    rating = RadioField(
        "How good are you at taking care of your health?", choices=RATING_CHOICES,
        validators=[InputRequired("Choose one of the four answers")],
        invalid_choice_message="Choose one of the four answers, 1 to 4",
    )


CHOOSE_SITE_FIRST = "Choose your site first"
NHS_NUMBER_LENGTH = "An NHS number has 10 digits"


class RecordForm(_RatingForm):
    # Never guessed: a recorder with several sites chooses one (RecordSiteForm) at
    # each sign-in, and the page then carries it with every rating.
    site = SelectField("Site", validators=[InputRequired(CHOOSE_SITE_FIRST)],
                       invalid_choice_message="Choose one of your sites")
    consultation_type = SelectField(
        "Consultation", choices=[SelectChoice(key, label)
                                 for key, label in CONSULTATION_TYPES.items()],
        validators=[InputRequired("Choose the consultation type")],
        invalid_choice_message="Choose a consultation type from the list",
    )
    proxy = BooleanField("A carer answered for the patient")
    nhs_number = StringField("NHS number for follow-up (optional)",
                             validators=[Optional(), _text_only,
                                         Length(max=20, message=NHS_NUMBER_LENGTH)])


class RecordSiteForm(FlaskForm):
    """The recorder's site for this sign-in, chosen before any rating (nothing preselected)."""

    site = SelectField("Site", validators=[InputRequired("Choose your site")],
                       invalid_choice_message="Choose one of your sites")


class PatientRatingForm(_RatingForm):
    """Kiosk and QR: the patient answers for themselves.

    The form token does not expire: a kiosk shows the same page for hours
    between patients. Cross-site posts are still refused (the token is tied to
    the session), and the idempotency key stops replays storing twice.
    """

    class Meta:
        csrf_time_limit = None

    easy_read = HiddenField()


class ExperienceForm(FlaskForm):
    class Meta:
        csrf_time_limit = None

    answer = RadioField("Overall, how was your experience of our service?",
                        validators=[InputRequired("Choose an answer, or skip")],
                        invalid_choice_message="Choose one of the answers shown")


class EnrolKioskForm(FlaskForm):
    # No site is preselected and there is no default name: "Enrol and start" with
    # nothing changed asks for both rather than enrolling a tablet at the wrong place.
    site = SelectField("Site", validators=[InputRequired("Choose the site this tablet is at")],
                       invalid_choice_message="Choose a site from the list")
    name = StringField("Name for this tablet", validators=[
        _text_only,
        InputRequired("Enter a name for this tablet, for example Reception tablet 1"),
        Length(max=100, message="Keep the name to 100 characters or fewer"),
    ])
    ask_experience = BooleanField("Also ask the Friends and Family Test question", default=True)
