"""Friendly pages for errors, so nobody ever sees a stack trace."""

from __future__ import annotations

import traceback

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey_app.core.logs import mask_secrets

MESSAGES = {
    400: ("Something was wrong with that request", "Go back, reload the page and try again."),
    404: ("Page not found", "Check the address, or use the link you were sent."),
    405: ("That did not work", "Go back and try again."),
    410: ("This page is no longer available", ""),
    413: ("That file is too large",
          "Files up to 25 MB can be uploaded. Split the file and try again."),
    429: ("Too many attempts", "Wait a few minutes, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later."),
}


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        title, advice = MESSAGES.get(code, (error.name, ""))
        return render_template("error.html", title=title, advice=advice), code

    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError) -> ResponseReturnValue:
        return render_template(
            "error.html",
            title="This form has expired",
            advice="Go back, reload the page and submit it again.",
        ), 400

    if app.testing:
        return  # let tests see the real exception

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        # The type and where it happened, never the message: messages can carry
        # what someone typed (an answer, an NHS number).
        frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
        where = f"{frame[0].filename}:{frame[0].lineno}" if frame else "unknown"
        app.logger.error("unhandled %s at %s on %s", type(error).__name__, where,
                         mask_secrets(request.path))
        title, advice = MESSAGES[500]
        if request.path.startswith("/api/"):
            return {"error": "server_error", "reason": f"{title}. {advice}"}, 500
        return render_template("error.html", title=title, advice=advice), 500
