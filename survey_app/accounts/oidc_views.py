"""Organisation sign-in pages: /login/oidc sends the browser to the provider, and
/login/oidc/callback signs in whoever the provider's verified ID token names.

Authlib's Flask client does the protocol: the authorization code flow with PKCE
(S256), ``state`` and ``nonce`` kept in the session and checked, and the ID token's
signature checked against the provider's JWKS (from its discovery document) with
``iss``, ``aud`` and ``exp`` checked within the configured leeway. Every way that can
fail is a refusal page with nothing signed in, audited with its reason.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_login import login_user
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)

from survey_app.accounts import oidc
from survey_app.accounts.access import SIGNED_IN_BY, SignedInUser
from survey_app.accounts.views import HOME_BY_ROLE, _safe_next
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session

bp = Blueprint("oidc", __name__)

CLIENT = "pulse_oidc_client"
NEXT = "pulse_oidc_next"
# Refusals about the account rather than the exchange: the person is known but may not in.
FORBIDDEN = {"domain_not_allowed", "unknown_user", "linked_elsewhere", "disabled",
             "wrong_issuer", "wrong_audience"}
# The claims Authlib is to insist on; the issuer is the configured one, not merely
# whatever the discovery document says.
CLAIM_REASONS = {"nonce": "wrong_nonce", "iss": "wrong_issuer", "aud": "wrong_audience",
                 "azp": "wrong_audience"}


def init_app(app: Flask) -> None:
    """The pages, and Authlib's client for the configured provider (if there is one)."""
    app.register_blueprint(bp)
    settings: oidc.OidcSettings | None = app.config["PULSE_OIDC"]
    if settings is None:
        return
    oauth = OAuth(app)
    oauth.register(
        "organisation", client_id=settings.client_id, client_secret=settings.client_secret,
        server_metadata_url=settings.metadata_url,
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                       "default_timeout": 10},
    )
    app.extensions[CLIENT] = oauth.create_client("organisation")


def _settings() -> oidc.OidcSettings:
    settings: oidc.OidcSettings | None = current_app.config["PULSE_OIDC"]
    if settings is None:
        abort(404)
    return settings


def _client() -> Any:
    return current_app.extensions[CLIENT]


def _redirect_uri() -> str:
    # From the configured address, as registered with the provider: behind a proxy,
    # the Host header is not to be trusted for it.
    return current_app.config["PULSE_BASE_URL"] + url_for("oidc.callback")


def _check_provider(settings: oidc.OidcSettings) -> None:
    """The discovery document names the configured issuer (OpenID Connect Discovery 1.0,
    section 4.3), or the JWKS and endpoints it gives are not to be trusted."""
    if _client().load_server_metadata().get("issuer") != settings.issuer:
        raise oidc.SignInRefused("provider_mismatch")


def _refused(reason: str) -> ResponseReturnValue:
    status = 503 if reason == "provider_unreachable" else 403 if reason in FORBIDDEN else 400
    return render_template("auth/oidc_refused.html", reason=reason,
                           message=oidc.REFUSALS[reason]), status


def _record(reason: str) -> ResponseReturnValue:
    session = get_session()
    oidc.record_refusal(session, reason=reason, now=utcnow())
    session.commit()
    return _refused(reason)


@bp.get("/login/oidc")
def start() -> ResponseReturnValue:
    settings = _settings()
    try:
        _check_provider(settings)
    except oidc.SignInRefused as refused:
        return _record(refused.reason)
    except requests.RequestException:
        return _record("provider_unreachable")
    browser_session[NEXT] = _safe_next(request.args.get("next"))
    response: ResponseReturnValue = _client().authorize_redirect(_redirect_uri())
    return response


def _protocol_reason(error: Exception) -> str:
    """The refusal code for an exception from Authlib's callback handling."""
    if isinstance(error, MismatchingStateError):
        return "bad_state"
    if isinstance(error, ExpiredTokenError):
        return "expired"
    if isinstance(error, ClaimError):
        return CLAIM_REASONS.get(error.claim, "malformed")
    if isinstance(error, BadSignatureError | InvalidKeyIdError):
        return "bad_signature"
    if isinstance(error, requests.RequestException):
        return "provider_unreachable"
    if isinstance(error, JoseError):
        return "malformed"
    return "provider_error"


@bp.get("/login/oidc/callback")
def callback() -> ResponseReturnValue:
    settings = _settings()
    next_path = browser_session.pop(NEXT, None)
    try:
        _check_provider(settings)
        token = _client().authorize_access_token(
            claims_options={"iss": {"essential": True, "values": [settings.issuer]},
                            "aud": {"essential": True, "values": [settings.client_id]},
                            "sub": {"essential": True}},
            leeway=settings.leeway_seconds)
    except oidc.SignInRefused as refused:
        return _record(refused.reason)
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as error:
        return _record(_protocol_reason(error))
    claims = token.get("userinfo")
    if not claims:  # Authlib verifies an ID token only when there is one
        return _record("no_identity")
    session = get_session()
    try:
        user = oidc.sign_in(session, settings=settings, claims=claims, now=utcnow())
    except oidc.SignInRefused as refused:
        session.commit()  # the refusal's audit record
        return _refused(refused.reason)
    browser_session.clear()  # a fresh session at sign-in (no fixation)
    browser_session.permanent = True
    login_user(SignedInUser(user))
    browser_session[SIGNED_IN_BY] = "oidc"
    session.commit()
    return redirect(next_path or url_for(HOME_BY_ROLE[user.role]))
