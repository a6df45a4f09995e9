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
    access.init_app(app)
    app.register_blueprint(api_token_views.bp)
    cli.init_app(app)
