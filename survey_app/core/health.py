"""``GET /healthz``: is the app up and can it reach its database?"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from survey_app.core.db import get_engine, ping

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        ping(get_engine())
    except SQLAlchemyError as error:
        log.warning("health check: database unreachable: %s", type(error).__name__)
        return jsonify(status="unavailable", app="ok", database="unreachable"), 503
    return jsonify(status="ok", app="ok", database="ok")
