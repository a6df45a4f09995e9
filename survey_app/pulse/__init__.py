"""Pulse: INTs and teams, waves, personal links and codes, and the pages staff answer on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from sqlmodel import Session


def init_app(app: Flask) -> None:
    """The answering pages, the INT's logo and page header, the int, team and wave
    commands, and summarising old waves after ``flask db upgrade``."""
    from survey_app.core.db import after_upgrade
    from survey_app.pulse import branding_views, cli, views

    app.register_blueprint(views.bp)
    branding_views.init_app(app)
    cli.init_app(app)
    after_upgrade(app, _summarise_closed_waves)


def _summarise_closed_waves(session: Session) -> str | None:
    # Waves closed before the per-wave aggregates existed have none; reports need them.
    from survey_app.core.clock import utcnow
    from survey_app.pulse.aggregates import summarise_unsummarised

    count = summarise_unsummarised(session, now=utcnow())
    return f"Summarised {count} closed waves for the reports." if count else None
