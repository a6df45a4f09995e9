"""The read-only JSON API: the report aggregates, for scripts, behind personal tokens.

Every data endpoint takes ``Authorization: Bearer <token>`` (a signed-in session
is not enough: a cookie must never let another site's page read data), acts
with the token user's scope, is rate limited per token and audited as
``api.read``. Errors are JSON ``{"error": ..., "reason": ...}`` everywhere
under ``/api/v1``, including unknown routes. The document describing it all is
:mod:`survey_app.api.openapi`, served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from survey_app.accounts import api_tokens, users
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import client_address, csrf, limiter
from survey_app.models import Neighbourhood, User
from survey_app.pulse.teams import find_neighbourhood

PREFIX = "/api/v1"
DEFAULT_RATE_LIMIT = "120 per minute"
# Failed token checks per client address: guessing tokens is hopeless at 192
# bits, but a client sending bad tokens in a loop is stopped early all the same.
DEFAULT_FAILED_AUTH_LIMIT = "30 per minute"
READER_ROLES = ("lead", "admin")

bp = Blueprint("api", __name__, url_prefix=PREFIX)
# Read-only GETs authorised by a header a browser never adds by itself: no CSRF token.
csrf.exempt(bp)

REASONS = {
    400: "The request could not be understood.",
    404: "There is nothing at this address. See /api/v1/openapi.json for the endpoints.",
    405: "This API only reads: use GET.",
    429: "Too many requests with this token. Wait a minute, then try again.",
}


def error_response(status: int, error: str, reason: str) -> Response:
    response = jsonify({"error": error, "reason": reason})
    response.status_code = status
    return response


def _unauthorised(reason: str) -> Response:
    response = error_response(401, "unauthorised", reason)
    response.headers["WWW-Authenticate"] = 'Bearer realm="pulse-api"'
    return response


def _token_key() -> str:
    # The token's hash, never the token itself, names its rate-limit bucket
    # (the limiter's storage may be a shared Redis).
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()
    return "api-client:" + client_address()


limiter.limit(lambda: current_app.config.get("PULSE_API_RATE_LIMIT", DEFAULT_RATE_LIMIT),
              key_func=_token_key)(bp)
limiter.limit(lambda: current_app.config.get("PULSE_API_FAILED_AUTH_LIMIT",
                                             DEFAULT_FAILED_AUTH_LIMIT),
              key_func=lambda: "api-failed:" + client_address(),
              deduct_when=lambda response: response.status_code == 401)(bp)


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A live token of an active lead or admin; the view gets ``user``.

    401 for a missing, unknown or revoked token or a disabled user; 403 for a
    recorder's token (recorders read no reports).
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return _unauthorised("Send an API token as 'Authorization: Bearer <token>'. "
                                 "Leads and admins create tokens at /account/api-tokens.")
        found = api_tokens.find_user_for_token(get_session(), plaintext=credentials.strip(),
                                               now=utcnow())
        if found is None:
            return _unauthorised("The token is not valid: it may have been revoked, or its "
                                 "user disabled. Create a new one at /account/api-tokens.")
        user, token = found
        g.api_user_id = user.id
        g.api_token_id = token.id
        if user.role not in READER_ROLES:
            abort(403, "This token's user may not read reports.")
        return view(*args, user=user, **kwargs)

    return wrapper


def int_scope(view: Callable[..., Any]) -> Callable[..., Any]:
    """The INT named by ``int_slug``, if the token's user may see it: 404 unknown, 403 not theirs.

    Wrap inside :func:`token_required`; the view gets ``user`` and ``neighbourhood``.
    """

    @wraps(view)
    def wrapper(*args: Any, user: User, int_slug: str, **kwargs: Any) -> Any:
        session = get_session()
        neighbourhood = find_neighbourhood(session, slug=int_slug)
        if neighbourhood is None:
            abort(404, f"There is no INT {int_slug!r}.")
        if not may_see(user, neighbourhood):
            abort(403, "This token's user may not see that INT.")
        return view(*args, user=user, neighbourhood=neighbourhood, **kwargs)

    return wrapper


def may_see(user: User, neighbourhood: Neighbourhood) -> bool:
    """Admins see every INT; a lead only theirs (as on the report pages)."""
    if user.role not in READER_ROLES:
        return False
    ids = users.neighbourhood_ids(get_session(), user=user)
    return ids is None or neighbourhood.id in ids


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    code = error.code or 500
    default = REASONS.get(code, error.description or error.name)
    # abort(404, "...") gives a specific reason; werkzeug's stock text is replaced.
    stock = type(error).description
    reason = error.description if error.description and error.description != stock else default
    if code == 429:
        reason = REASONS[429]
    response = error_response(code, error.name.lower().replace(" ", "_"), reason)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@bp.before_app_request
def _json_routing_errors() -> Response | None:
    # A path under /api/v1 that matches no route (or not with this method) never
    # reaches this blueprint's own error handler: answer it here, as JSON.
    error = request.routing_exception
    path = request.path
    if (isinstance(error, HTTPException) and error.code in (404, 405)
            and (path == PREFIX or path.startswith(PREFIX + "/"))):
        return _http_error(error)
    return None


@bp.after_request
def _audit_and_no_store(response: Response) -> Response:
    # Aggregates for one INT: no shared cache should keep them.
    response.headers["Cache-Control"] = "no-store"
    user_id = g.pop("api_user_id", None)
    if user_id is not None:
        session = get_session()
        audit.record(session, user_id=user_id, action="api.read", target=request.path,
                     now=utcnow(),
                     detail={"status": response.status_code, "token_id": g.pop("api_token_id")})
        session.commit()  # the audit event and the token's last use, together
    return response


def init_app(app: Flask) -> None:
    """The read-only JSON API under /api/v1."""
    app.register_blueprint(bp)


# Importing the modules registers their routes on bp.
from survey_app.api import openapi, views  # noqa: E402,F401
