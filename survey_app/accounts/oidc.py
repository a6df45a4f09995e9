"""Organisation sign-in (OpenID Connect): its settings, and which account a verified ID
token signs in.

The protocol itself (code flow with PKCE, ``state``, ``nonce``, the ID token's signature,
``iss``, ``aud`` and ``exp``) is Authlib's, driven by :mod:`survey_app.accounts.oidc_views`;
this module starts where a token has been verified. An admin creates every user, as for
local passwords: the first organisation sign-in links that user by email (in an allowed
domain), every later one by the pair (issuer, subject), so a changed email claim cannot
move an account (Entra ID sends no ``email_verified``). Signing in never grants a role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, select

from survey_app.accounts.users import normalise_email
from survey_app.core import audit
from survey_app.core.config_error import ConfigError
from survey_app.models import User

DEFAULT_BUTTON_LABEL = "Sign in with NHSmail"
DEFAULT_LEEWAY_SECONDS = 60
# Clock skew between Pulse and the provider; more would stretch every token's lifetime.
MAX_LEEWAY_SECONDS = 300
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Why a sign-in was refused: the code kept in the audit log, and what the person is told.
REFUSALS: dict[str, str] = {
    "provider_error": "Your organisation's sign-in did not complete. Try again, or sign in "
                      "another way.",
    "bad_state": "This sign-in link has expired or was already used. Start again from the "
                 "sign-in page.",
    "provider_unreachable": "Pulse could not reach your organisation's sign-in service. Try "
                            "again in a few minutes.",
    "provider_mismatch": "Your organisation's sign-in service did not identify itself as the "
                         "one Pulse is set up to use. Ask your Pulse admin to check the "
                         "settings.",
    "no_identity": "Your organisation's sign-in service did not say who you are.",
    "bad_signature": "The answer from your organisation's sign-in service could not be "
                     "checked, so it was not trusted.",
    "expired": "The answer from your organisation's sign-in service had expired. Start "
                     "again from the sign-in page.",
    "wrong_nonce": "The answer from your organisation's sign-in service was not for this "
                   "sign-in. Start again from the sign-in page.",
    "wrong_issuer": "That sign-in came from an organisation Pulse is not set up to accept.",
    "wrong_audience": "That sign-in was meant for another service, not Pulse.",
    "malformed": "The answer from your organisation's sign-in service was not valid.",
    "no_email": "Your organisation's sign-in did not give Pulse your email address, so your "
                "account could not be found. Ask your Pulse admin for help.",
    "email_unverified": "Your organisation's sign-in says your email address is not "
                        "verified, so Pulse cannot link it to your account. Ask your "
                        "Pulse admin for help.",
    "domain_not_allowed": "Pulse accepts organisation sign-ins only from its allowed email "
                          "domains, and yours is not one of them.",
    "unknown_user": "There is no Pulse account for your email address. Ask your INT's Pulse "
                    "admin to add you; signing in does not create an account.",
    "linked_elsewhere": "The Pulse account for your email address is already linked to "
                        "another organisation account. Ask your Pulse admin for help.",
    "disabled": "Your Pulse account has been turned off. Ask your INT's Pulse admin if you "
                "still need it.",
    "not_configured": "Organisation sign-in is not set up for this Pulse.",
}


@dataclass(frozen=True)
class OidcSettings:
    """One OpenID Provider (for Entra ID, the organisation's tenant) and Pulse's client."""

    issuer: str
    client_id: str
    client_secret: str
    button_label: str
    allowed_domains: tuple[str, ...]
    leeway_seconds: int

    @property
    def metadata_url(self) -> str:
        """The provider's discovery document (OpenID Connect Discovery 1.0, section 4)."""
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


class SignInRefused(Exception):
    """An organisation sign-in Pulse will not accept; ``reason`` is a key of REFUSALS."""

    def __init__(self, reason: str, *, user_id: int | None = None) -> None:
        super().__init__(REFUSALS[reason])
        self.reason = reason
        self.user_id = user_id


def settings_from_env(environ: Mapping[str, str]) -> OidcSettings | None:
    """The ``PULSE_OIDC_*`` settings, or None when ``PULSE_OIDC_ISSUER`` is not set.

    Raises
    ------
    ConfigError
        Naming the setting, for a missing client id or secret, an issuer that is not an
        https URL (http only on loopback), no allowed domain, a malformed domain, or a
        leeway outside 0 to MAX_LEEWAY_SECONDS.
    """
    issuer = environ.get("PULSE_OIDC_ISSUER", "").strip()
    if not issuer:
        others = sorted(name for name in ("PULSE_OIDC_CLIENT_ID", "PULSE_OIDC_CLIENT_SECRET",
                                          "PULSE_OIDC_ALLOWED_DOMAINS")
                        if environ.get(name, "").strip())
        if others:
            raise ConfigError(f"{', '.join(others)} set without PULSE_OIDC_ISSUER: set the "
                              "issuer too, or remove them")
        return None
    _check_issuer(issuer)
    client_id = environ.get("PULSE_OIDC_CLIENT_ID", "").strip()
    client_secret = environ.get("PULSE_OIDC_CLIENT_SECRET", "").strip()
    if not client_id:
        raise ConfigError("PULSE_OIDC_CLIENT_ID must be set with PULSE_OIDC_ISSUER (the "
                          "application (client) id the provider gave Pulse)")
    if not client_secret:
        raise ConfigError("PULSE_OIDC_CLIENT_SECRET must be set with PULSE_OIDC_ISSUER")
    return OidcSettings(
        issuer=issuer, client_id=client_id, client_secret=client_secret,
        button_label=environ.get("PULSE_OIDC_BUTTON_LABEL", "").strip() or DEFAULT_BUTTON_LABEL,
        allowed_domains=_allowed_domains(environ.get("PULSE_OIDC_ALLOWED_DOMAINS", "")),
        leeway_seconds=_leeway(environ.get("PULSE_OIDC_LEEWAY_SECONDS", "")),
    )


def _check_issuer(issuer: str) -> None:
    parts = urlsplit(issuer)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback or not parts.hostname:
        raise ConfigError("PULSE_OIDC_ISSUER must be the provider's https URL, e.g. "
                          "https://login.microsoftonline.com/<tenant id>/v2.0, got "
                          f"{issuer!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"PULSE_OIDC_ISSUER must have no query or fragment, got {issuer!r}")


def _allowed_domains(raw: str) -> tuple[str, ...]:
    domains = tuple(d.strip().lower().removeprefix("@") for d in raw.split(",") if d.strip())
    if not domains:
        raise ConfigError("PULSE_OIDC_ALLOWED_DOMAINS must name the email domains whose staff "
                          "may sign in, comma-separated (e.g. nhs.net)")
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise ConfigError(f"PULSE_OIDC_ALLOWED_DOMAINS: {domain!r} is not an email domain")
    return domains


def _leeway(raw: str) -> int:
    if not raw.strip():
        return DEFAULT_LEEWAY_SECONDS
    try:
        seconds = int(raw)
    except ValueError:
        raise ConfigError(f"PULSE_OIDC_LEEWAY_SECONDS must be a whole number, got {raw!r}"
                          ) from None
    if not 0 <= seconds <= MAX_LEEWAY_SECONDS:
        raise ConfigError(f"PULSE_OIDC_LEEWAY_SECONDS must be 0 to {MAX_LEEWAY_SECONDS}, "
                          f"got {seconds}")
    return seconds


def email_claim(claims: Mapping[str, object]) -> str | None:
    """The email a verified ID token names: ``email``, else Entra ID's
    ``preferred_username`` when it is an address (Entra sends ``email`` only as an
    optional claim)."""
    for name in ("email", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and "@" in value:
            return normalise_email(value)
    return None


def _in_allowed_domain(email: str, settings: OidcSettings) -> bool:
    return email.rpartition("@")[2] in settings.allowed_domains


def _linked_user(session: Session, *, issuer: str, subject: str) -> User | None:
    return session.exec(select(User).where(User.oidc_issuer == issuer,
                                           User.oidc_subject == subject)).first()


def _first_link(session: Session, *, settings: OidcSettings, email: str | None,
                subject: str) -> User:
    """The admin-created user this identity links to on its first sign-in; links it."""
    if email is None:
        raise SignInRefused("no_email")
    if not _in_allowed_domain(email, settings):
        raise SignInRefused("domain_not_allowed")
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        raise SignInRefused("unknown_user")
    if user.oidc_subject is not None:
        # Linked to another identity already: an email claim cannot take it over.
        raise SignInRefused("linked_elsewhere", user_id=user.id)
    if not user.active:
        raise SignInRefused("disabled", user_id=user.id)
    user.oidc_issuer, user.oidc_subject = settings.issuer, subject
    session.add(user)
    return user


def sign_in(session: Session, *, settings: OidcSettings, claims: Mapping[str, object],
            now: datetime) -> User:
    """The active user a verified ID token's claims sign in, audited either way.

    Records ``auth.oidc_login`` (with ``linked`` on the first sign-in) or
    ``auth.oidc_refused`` with the reason's code; never a token or a claim beyond
    the email tried. The caller commits, the refusal's record included.

    Raises
    ------
    SignInRefused
        For a token from another issuer, no email claim on a first sign-in, an email
        outside the allowed domains, no such user, a user linked to another identity,
        or a disabled user.
    """
    issuer, subject = claims.get("iss"), claims.get("sub")
    email = email_claim(claims)
    try:
        # Authlib checked iss against the same setting; checked again here because
        # the link is keyed on it.
        if issuer != settings.issuer or not isinstance(subject, str) or not subject:
            raise SignInRefused("wrong_issuer")
        user = _linked_user(session, issuer=issuer, subject=subject)
        linked = user is None
        if user is None:
            # Entra sends no email_verified; a provider that sends false means it, and
            # an unverified address must not claim an admin-created account.
            if claims.get("email_verified") is False:
                raise SignInRefused("email_unverified")
            user = _first_link(session, settings=settings, email=email, subject=subject)
        elif not user.active:
            raise SignInRefused("disabled", user_id=user.id)
    except SignInRefused as refused:
        record_refusal(session, reason=refused.reason, user_id=refused.user_id, email=email,
                       now=now)
        raise
    audit.record(session, user_id=user.id, action="auth.oidc_login", now=now,
                 detail={"linked": True} if linked else None)
    return user


def record_refusal(session: Session, *, reason: str, now: datetime, user_id: int | None = None,
                   email: str | None = None) -> None:
    """Audit a refused organisation sign-in: the reason's code and the email tried, if
    the provider said one."""
    audit.record(session, user_id=user_id, action="auth.oidc_refused", target=email, now=now,
                 detail={"reason": reason})
