"""What people are told: the privacy notices for staff and for patients, and the
accessibility statement, each generic and per INT, linked from every footer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """The notice and statement pages, and the footer's links to them."""
    from survey_app.notices import views

    views.init_app(app)
