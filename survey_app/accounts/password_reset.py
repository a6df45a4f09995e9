"""Password reset by email: a signed link that works once, for 30 minutes.

The link carries the user's id, when it was made, and a fingerprint of the account's
password hash and session version. Setting the new password changes both, so the
link dies once used (and any other link made before it). A reset signs nobody in:
the person then signs in with the new password, and the TOTP step still applies.

Sending is the caller's: accounts sits below the message channels (scheduling), so
the app gives this module a :data:`Mailer` (SMTP when it is configured; otherwise the
development outbox, which keeps messages for the console and the tests).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, select

from survey_app.accounts import mfa, users
from survey_app.models import User

LINK_LIFETIME = timedelta(minutes=30)
_SALT = "pulse-password-reset"
log = logging.getLogger(__name__)


class ResetError(ValueError):
    """The link cannot be used; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class AccountMessage:
    """An email about someone's account (never a pulse invitation)."""

    to: str
    subject: str
    text: str


Mailer = Callable[[AccountMessage], None]


@dataclass
class DevelopmentOutbox:
    """Keeps account messages instead of sending them (no email configured): the
    console shows each one outside production, and tests read :attr:`messages`."""

    show: bool
    messages: list[AccountMessage] = field(default_factory=list)

    def __call__(self, message: AccountMessage) -> None:
        self.messages.append(message)
        if self.show:
            # Development only: the link is the point of the message.
            log.warning("[outbox] account email to %s: %s\n%s", message.to, message.subject,
                        message.text)


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash}:{user.session_version}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def make_token(user: User, *, secret_key: str, now: datetime) -> str:
    """The secret part of a reset link for ``user``, made at ``now``."""
    return str(_serializer(secret_key).dumps(
        {"u": user.id, "at": int(now.timestamp()), "f": _fingerprint(user)}))


def user_for_token(session: Session, *, token: str, secret_key: str, now: datetime) -> User:
    """The active user a reset link is for. Raises :class:`ResetError` if the link is
    not one of ours, has expired, or has been used (or another password set since)."""
    try:
        payload = _serializer(secret_key).loads(token)
    except BadSignature:
        raise ResetError("This link is not a working password reset link. Check it was "
                         "copied whole, or ask for a new one") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int) \
            or not isinstance(payload.get("at"), int) or not isinstance(payload.get("f"), str):
        raise ResetError("This link is not a working password reset link: ask for a new one")
    made = datetime.fromtimestamp(payload["at"], now.tzinfo)
    if now - made > LINK_LIFETIME:
        raise ResetError("This link has expired: links work for 30 minutes. Ask for a new "
                         "one")
    user = session.get(User, payload["u"])
    if user is None or not user.active or not hmac.compare_digest(payload["f"],
                                                                  _fingerprint(user)):
        raise ResetError("This link has already been used, or the password has been changed "
                         "since it was sent. Ask for a new one if you need it")
    return user


def complete_reset(session: Session, *, token: str, password: str, secret_key: str,
                   now: datetime) -> User:
    """Set the new password from a reset link; every session of the user ends and the
    link stops working. Raises :class:`ResetError`, or :class:`users.AccountError` for
    a weak password. The caller commits."""
    user = user_for_token(session, token=token, secret_key=secret_key, now=now)
    users.set_password(session, user=user, password=password)
    return user


def account_to_reset(session: Session, *, email: str) -> User | None:
    """The active account with this email, if any. The caller answers the same either
    way, so the page never tells anyone which addresses have accounts."""
    return session.exec(select(User).where(User.email == users.normalise_email(email),
                                           User.active == True)).first()  # noqa: E712


def reset_message(user: User, *, link: str) -> AccountMessage:
    return AccountMessage(
        to=user.email, subject="Reset your Pulse password",
        text=(f"Someone asked to reset the password of your Pulse account ({user.email}).\n\n"
              f"To choose a new password, open this link within 30 minutes:\n{link}\n\n"
              "The link works once. If you did not ask, you can ignore this email: your "
              "password has not changed."
              + ("\n\nYou will still need the code from your authenticator app to sign "
                 "in." if mfa.is_enrolled(user) else "")))


def no_mailer(message: AccountMessage) -> None:
    """Production without email configured: nothing can be sent, and the admin should
    know why a reset link never arrives."""
    log.error("A password reset email to an account could not be sent: no email is "
              "configured (PULSE_SMTP_HOST)")
