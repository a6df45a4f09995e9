"""Accounts: sign-in, access decorators, users and API tokens, with their pages and CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The login manager and sign-in pages, the API token pages and the users commands."""
    from survey_app.accounts import access, api_token_views, cli
    from survey_app.accounts.users import use_password_hash_profile

    # Production-strength password hashing everywhere but the test suite.
    use_password_hash_profile("cheapest" if app.config["TESTING"] else "strong")
    _totp_key(app)
    access.init_app(app)
    _organisation_sign_in(app)
    app.register_blueprint(api_token_views.bp)
    cli.init_app(app)


def _totp_key(app: Flask) -> None:
    """``PULSE_TOTP_KEY`` (bytes) from the caller's settings, the environment or pulse.env
    (a key kept in the instance folder outside production); ConfigError if unusable."""
    import os

    from survey_app.accounts.mfa import totp_key_setting
    from survey_app.core.config import instance_settings

    given = app.config.get("PULSE_TOTP_KEY")
    environ = {**instance_settings(app.instance_path), **os.environ}
    if given:
        environ["PULSE_TOTP_KEY"] = given.decode() if isinstance(given, bytes) else given
    app.config["PULSE_TOTP_KEY"] = totp_key_setting(app.config["PULSE_ENV"],
                                                    app.instance_path, environ)


def _organisation_sign_in(app: Flask) -> None:
    """``PULSE_OIDC`` (None: not set up) from the caller's settings, else the environment
    over pulse.env (ConfigError for a bad value); its pages and the admin's sign-in page."""
    import os

    from survey_app.accounts import oidc, oidc_views, sign_in_views
    from survey_app.core.config import instance_settings

    if "PULSE_OIDC" not in app.config:
        app.config["PULSE_OIDC"] = oidc.settings_from_env(
            {**instance_settings(app.instance_path), **os.environ})
    oidc_views.init_app(app)
    app.register_blueprint(sign_in_views.bp)
