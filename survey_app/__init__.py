"""Pulse: light, frequent, anonymous measurement for Integrated Neighbourhood Teams."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, then each part's ``init_app``."""
    from questionnaires import load_all
    from survey_app import cli
    from survey_app.accounts import access
    from survey_app.core import db, errors, logs, security, templating
    from survey_app.core.config import load_settings
    from survey_app.core.extensions import csrf, limiter

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_settings(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["PULSE_TRUSTED_PROXIES"]:
        proxies = app.config["PULSE_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies)

    # Instruments are validated at start-up: a broken file stops the app with
    # the file and field named, instead of failing on the first pulse page.
    app.extensions["pulse_instruments"] = load_all(Path(app.config["PULSE_QUESTIONNAIRES"]))

    # Production-strength password hashing everywhere but the test suite.
    from survey_app.accounts.users import use_password_hash_profile
    use_password_hash_profile("cheapest" if app.config["TESTING"] else "strong")

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    logs.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    access.init_app(app)
    cli.init_app(app)

    from survey_app.accounts.api_token_views import bp as api_tokens_bp
    from survey_app.activation.patient_views import bp as patient_bp
    from survey_app.activation.views import bp as activation_bp
    from survey_app.admin.views import bp as admin_bp
    from survey_app.api import bp as api_bp
    from survey_app.core.health import bp as health_bp
    from survey_app.pulse.views import bp as pulse_bp
    from survey_app.reporting.views import bp as reports_bp

    for blueprint in (health_bp, pulse_bp, activation_bp, patient_bp, admin_bp, reports_bp,
                      api_bp, api_tokens_bp):
        app.register_blueprint(blueprint)
    return app
