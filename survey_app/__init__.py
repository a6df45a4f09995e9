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
    from survey_app import (
        accounts,
        activation,
        admin,
        api,
        notices,
        pulse,
        reporting,
        retention,
        scheduling,
    )
    from survey_app.core import db, errors, health, logs, security, templating
    from survey_app.core.config import load_settings
    from survey_app.core.extensions import csrf, limiter
    from survey_app.demo import cli as demo_cli

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

    # The core parts first, then each feature on top of those below it:
    # accounts, pulse, activation, scheduling, reporting, api, then admin and demo.
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    logs.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    app.register_blueprint(health.bp)
    accounts.init_app(app)
    pulse.init_app(app)
    activation.init_app(app)
    retention.init_app(app)
    scheduling.init_app(app)
    reporting.init_app(app)
    api.init_app(app)
    admin.init_app(app)
    notices.init_app(app)
    demo_cli.init_app(app)
    return app
