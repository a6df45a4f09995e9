"""Request logging that never writes a pulse token or code.

A token in a log line would let anyone who reads the logs and the database
together find whose link it was; the path is masked before it is formatted.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping

from flask import Flask, Response, g, request

# /p/<token> and /unsubscribe/<signed id>; the code-entry page /p has nothing to hide.
_SECRET_PATH = re.compile(r"(/p/|/unsubscribe/)[^/\s?\"]+")
MASK = r"\1[link]"

request_log = logging.getLogger("survey_app.requests")


def mask_secrets(text: str) -> str:
    return _SECRET_PATH.sub(MASK, text)


class MaskSecretsFilter(logging.Filter):
    """Masks tokens in records from servers that log request lines themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, Mapping):
            # Gunicorn's access log formats from a dict of "atoms".
            record.args = {key: mask_secrets(value) if isinstance(value, str) else value
                           for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(mask_secrets(a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def init_app(app: Flask) -> None:
    logging.getLogger("werkzeug").addFilter(MaskSecretsFilter())
    logging.getLogger("gunicorn.access").addFilter(MaskSecretsFilter())
    if not app.config.get("TESTING") and not request_log.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        request_log.info(
            "%s %s %s %.0fms", request.method, mask_secrets(request.path), response.status_code,
            elapsed_ms,
        )
        return response
