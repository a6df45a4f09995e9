"""Admin: users and their scopes, kiosks, INT settings and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from survey_app.admin import views

    app.register_blueprint(views.bp)
