"""Forms of the API tokens page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from survey_app.accounts.api_tokens import MAX_NAME


class CreateTokenForm(FlaskForm):
    name = StringField("Name", validators=[
        InputRequired("Enter a name for the token"),
        Length(max=MAX_NAME, message=f"Give the token a name of {MAX_NAME} characters or fewer"),
    ])


class RevokeTokenForm(FlaskForm):
    token_id = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9]{1,12}$")])
