"""Activation: sites, kiosks and QR codes, patient activation ratings and their pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The recording and patient pages and the site and activation commands."""
    from survey_app.activation import cli, patient_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(patient_views.bp)
    cli.init_app(app)
