"""Scheduling: schedules, cadence, the tick, dispatch, rosters, channels and the
scheduler process, with their admin pages and CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The email and SMS settings, the unsubscribe page, the admin pages under /admin and
    the scheduler, schedule and roster commands."""
    import os

    from survey_app.scheduling import admin_views, cli, views
    from survey_app.scheduling.channels.email import smtp_settings_from_env
    from survey_app.scheduling.channels.sms import notify_settings_from_env

    # From the environment (a bad value stops the app with ConfigError), unless the
    # caller's own settings (a test's, say) already name them.
    if "PULSE_SMTP" not in app.config:
        app.config["PULSE_SMTP"] = smtp_settings_from_env(os.environ)
    if "PULSE_NOTIFY" not in app.config:
        app.config["PULSE_NOTIFY"] = notify_settings_from_env(os.environ)
    if app.config["PULSE_SMTP"]:  # password reset links, for accounts (below this layer)
        from survey_app.accounts.password_reset_views import MAILER
        from survey_app.scheduling.channels.email import account_mailer

        app.extensions[MAILER] = account_mailer(app.config["PULSE_SMTP"])
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    cli.init_app(app)
