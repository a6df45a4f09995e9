"""Security headers on every response, and stricter ones for pulse-link pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Request, Response, make_response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def private_page(view: Callable[..., Any]) -> Callable[..., Response]:
    """For pages whose URL carries a secret: never cached, never sent as a referrer."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper


PRIVATE_PREFIXES = ("/p/", "/unsubscribe/", "/reset-password/")


def _has_nul(request: Request) -> bool:
    values = [request.path, *request.args.values(), *request.form.values()]
    return any("\x00" in value for value in values)


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> Response | None:
        # PostgreSQL cannot store NUL in text, and no person types one: refuse it
        # clearly rather than fail deep in the database.
        if _has_nul(request):
            response = make_response(
                "That input contains a character Pulse cannot accept (NUL). "
                "Please go back and try again.", 400)
            response.mimetype = "text/plain"
            return response
        return None

    @app.before_request
    def _refuse_json_bodies() -> Response | None:
        # Pulse's pages take form posts only (the API only reads). Flask-WTF would read
        # a JSON body as form data instead: past the NUL check above, and failing on
        # JSON that is not an object.
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.is_json:
            response = make_response("Send this form from its page, as a form.", 415)
            response.mimetype = "text/plain"
            return response
        return None

    @app.after_request
    def _private_errors(response: Response) -> Response:
        # Error pages (404, 405, 429) under link paths bypass @private_page.
        if request.path.startswith(PRIVATE_PREFIXES):
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # Browsers heed HSTS only over HTTPS; behind a proxy, ProxyFix makes is_secure true.
        if request.is_secure or app.config["PULSE_ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
