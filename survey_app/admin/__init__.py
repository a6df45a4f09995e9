"""Admin: users and their scopes, kiosks, INT settings and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from survey_app.admin import (
        audit_views,  # noqa: F401  (adds /admin/audit to views.bp)
        views,
    )

    app.register_blueprint(views.bp)
