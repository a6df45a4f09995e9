"""Forms of the API tokens page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from survey_app.accounts.api_tokens import MAX_NAME, MAX_TOKEN_ID


class CreateTokenForm(FlaskForm):
    name = StringField("Name", validators=[
        InputRequired("Enter a name for the token"),
        Length(max=MAX_NAME, message=f"Give the token a name of {MAX_NAME} characters or fewer"),
    ])


def token_id_value(raw: object) -> int | None:
    """The id a submitted ``token_id`` names, or None if no token could have it.

    ASCII digits only (``str.isdigit`` would take "\uff11" and "\u00b2"), and within
    the database's integer, so an odd value never reaches a query.
    """
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_TOKEN_ID else None


def _a_token_id(_form: FlaskForm, field: Field) -> None:
    if token_id_value(field.data) is None:
        raise ValidationError("That token was not found")


class RevokeTokenForm(FlaskForm):
    token_id = HiddenField(validators=[InputRequired("That token was not found"), _a_token_id])

    @property
    def token_id_value(self) -> int | None:
        return token_id_value(self.token_id.data)
