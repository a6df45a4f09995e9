"""Retention: each INT's periods for each kind of data, and the purge that keeps to them
(``flask --app wsgi retention purge``, and daily from the scheduler)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The audit log's period (``PULSE_RETAIN_AUDIT_DAYS``) and the ``retention`` commands."""
    import os

    from survey_app.retention import cli
    from survey_app.retention.settings import audit_days_from_env

    # From the environment (a bad value stops the app with ConfigError), unless the
    # caller's own settings (a test's, say) already name it.
    if "PULSE_RETAIN_AUDIT_DAYS" not in app.config:
        app.config["PULSE_RETAIN_AUDIT_DAYS"] = audit_days_from_env(os.environ)
    cli.init_app(app)
