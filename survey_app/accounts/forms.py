from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[
        InputRequired("Enter your email address"),
        Length(max=254, message="An email address has at most 254 characters")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password")])


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password",
                            validators=[InputRequired("Enter your current password")])
    new = PasswordField("New password", validators=[InputRequired("Enter a new password")])
