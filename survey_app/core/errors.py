"""Friendly pages for errors, so nobody ever sees a stack trace."""

from __future__ import annotations

import traceback

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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
    503: ("Sorry, Pulse is not available just now",
          "Please try again in a moment: go back and send your answers again, or open "
          "your link again. Each answer is only ever counted once."),
}
PACKAGE = "survey_app"
# Seconds a client (or a proxy) is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30


def _is_unavailable(error: BaseException) -> bool:
    """Is this the database being unreachable (down, restarting, the connection cut,
    the pool exhausted), rather than a fault in Pulse?"""
    if isinstance(error, OperationalError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _where(error: BaseException, ours: bool = False) -> str:
    """Where ``error`` was raised; with ``ours``, the innermost frame in Pulse's own code
    (a database error is raised deep in SQLAlchemy, which says nothing useful)."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    if ours:
        frames = [f for f in frames if f"{PACKAGE}/" in f.filename] or frames
    if not frames:
        return "unknown"
    frame = frames[-1]
    filename = frame.filename.split(f"{PACKAGE}/", 1)[-1] if ours else frame.filename
    return f"{filename}:{frame.lineno}"


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

    # Registered in tests too: a database outage is behaviour, not a bug to surface.
    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def _database_error(error: Exception) -> ResponseReturnValue:
        if not _is_unavailable(error):
            if app.testing:
                raise error  # let tests see the real exception
            return _unexpected(error)
        return _unavailable(error)

    def _unavailable(error: Exception) -> ResponseReturnValue:
        # Nothing was committed: the request's transaction is rolled back when its
        # session closes, so a link is still unspent and can be sent again. The log
        # says what and where, never the message (it can carry a host, a statement,
        # or what someone typed).
        app.logger.warning("database unavailable (%s at %s) on %s %s",
                           type(error).__name__, _where(error, ours=True), request.method,
                           mask_secrets(request.path))
        title, advice = MESSAGES[503]
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith("/api/"):
            return ({"error": "unavailable", "reason": f"{title}. Try again in a moment."},
                    503, headers)
        # Straight from Jinja: render_template's context processors would look up the
        # signed-in user, in the database that is not there.
        page = app.jinja_env.get_template("error.html").render(title=title, advice=advice)
        return page, 503, headers

    def _unexpected(error: Exception) -> ResponseReturnValue:
        # The type and where it happened, never the message: messages can carry
        # what someone typed (an answer, an NHS number).
        app.logger.error("unhandled %s at %s on %s", type(error).__name__, _where(error),
                         mask_secrets(request.path))
        title, advice = MESSAGES[500]
        if request.path.startswith("/api/"):
            return {"error": "server_error", "reason": f"{title}. {advice}"}, 500
        return render_template("error.html", title=title, advice=advice), 500

    if not app.testing:  # in tests, let the real exception through
        app.register_error_handler(Exception, _unexpected)
