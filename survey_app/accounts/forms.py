from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField, StringField
from wtforms.validators import InputRequired, Length, StopValidation


def _text_only(_form: FlaskForm, field: Field) -> None:
    """Refuse a file posted (multipart) where text is expected, before it reaches a check."""
    if any(not isinstance(value, str) for value in field.raw_data or ()):
        raise StopValidation("Type this in: a file cannot be sent here")


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[
        InputRequired("Enter your email address"), _text_only,
        Length(max=254, message="An email address has at most 254 characters")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password"),
                                                          _text_only])


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[InputRequired("Enter your current password"),
                                        _text_only])
    new = PasswordField("New password",
                        validators=[InputRequired("Enter a new password"), _text_only])


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code = StringField("Code", validators=[
        InputRequired("Enter the 6-digit code from your authenticator app"), _text_only,
        Length(max=40, message="Enter the 6-digit code, or a recovery code")])


class EnrolForm(FlaskForm):
    code = StringField("Code from your app", validators=[
        InputRequired("Enter the 6-digit code your authenticator app shows"), _text_only,
        Length(max=20, message="Enter the 6-digit code your app shows")])


class ResetRequestForm(FlaskForm):
    email = EmailField("Email address", validators=[
        InputRequired("Enter your email address"), _text_only,
        Length(max=254, message="An email address has at most 254 characters")])


class ResetPasswordForm(FlaskForm):
    new = PasswordField("New password",
                        validators=[InputRequired("Enter a new password"), _text_only])
