"""Reporting: the INT overview, team, activation and ICB reports, staff results and
actions (domain modules here; pages in views/, drawing in charts/, files in exports/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The report pages under /reports and the staff's thank-you and results pages."""
    from survey_app.reporting import views
    from survey_app.reporting.views import staff_results

    app.register_blueprint(views.bp)
    app.register_blueprint(staff_results.bp)
