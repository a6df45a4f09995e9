"""The admin's form for how people sign in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired, ValidationError


class LocalPasswordsForm(FlaskForm):
    local_passwords = RadioField(
        "Can people sign in with a Pulse password?",
        choices=[SelectChoice("on", "Yes, as well as with their organisation account"),
                 SelectChoice("off", "No, only with their organisation account")],
        validators=[InputRequired("Choose whether people can sign in with a Pulse password")],
        validate_choice=False)

    def validate_local_passwords(self, field: RadioField) -> None:
        # A choice that is not one of the two gets a message, not the generic
        # "Not a valid choice".
        if field.data not in ("on", "off"):
            raise ValidationError("Choose whether people can sign in with a Pulse password")
