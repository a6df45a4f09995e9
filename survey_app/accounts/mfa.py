"""Two-step sign-in for local passwords: TOTP (RFC 6238) and one-time recovery codes.

What authenticator apps expect: SHA-1, 6 digits, a 30-second step, one step of drift
either way. The secret is stored encrypted (Fernet) under ``PULSE_TOTP_KEY``, a key
kept outside the database, so a copy of the database alone cannot mint codes. The
last step accepted is stored, so a code cannot be used twice, nor an older one after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, delete, update

from survey_app.accounts import users
from survey_app.core.config_error import ConfigError
from survey_app.models import RecoveryCode, User

ISSUER = "Pulse"
DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Leads and admins must have a second step; recorders may choose one.
REQUIRED_FOR = ("lead", "admin")
KEY_FILE = "totp_key"
# 16 characters of these are 80 random bits; no 0/o or 1/l to misread on paper.
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


class MfaError(ValueError):
    """A user-facing problem with a code; ``field`` names the form field."""

    def __init__(self, message: str, *, field: str = "code") -> None:
        super().__init__(message)
        self.field = field


def totp_key_setting(env: str, instance_path: str, environ: Mapping[str, str]) -> bytes:
    """The Fernet key that encrypts TOTP secrets: ``PULSE_TOTP_KEY``.

    Production takes it only from the environment; development and testing keep one
    generated in the instance folder (owner-only), as they do the secret key.

    Raises
    ------
    ConfigError
        If the key is missing in production, or is not a Fernet key.
    """
    key = environ.get("PULSE_TOTP_KEY", "").strip()
    if not key:
        if env == "production":
            raise ConfigError(
                "PULSE_TOTP_KEY must be set in production: it encrypts the two-step "
                "sign-in secrets and must be kept outside the database (make one with "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')")
        key = _kept_key(Path(instance_path) / KEY_FILE)
    try:
        Fernet(key.encode())
    except ValueError:
        raise ConfigError("PULSE_TOTP_KEY must be a Fernet key: 44 characters of URL-safe "
                          "base64, as Fernet.generate_key() makes") from None
    return key.encode()


def _kept_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    path.write_text(key)
    path.chmod(0o600)
    return key


def is_required(user: User) -> bool:
    """Whether a password sign-in of ``user`` must pass a second step."""
    return user.role in REQUIRED_FOR


def is_enrolled(user: User) -> bool:
    return user.totp_enrolled_at is not None and user.totp_secret_encrypted is not None


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def step_at(moment: datetime) -> int:
    """The RFC 6238 time step ``moment`` falls in."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, *, moment: datetime, digits: int = DIGITS) -> str:
    """The code for ``secret`` at ``moment`` (SHA-1, 30-second steps)."""
    return pyotp.TOTP(secret, digits=digits, interval=STEP_SECONDS).at(moment)


def provisioning_uri(secret: str, *, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR of ``uri`` as inline SVG (no XML declaration, titled for screen readers)."""
    return str(segno.make(uri, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app", dark="#212b32", light="#ffffff"))


def _encrypt(secret: str, key: bytes) -> str:
    return Fernet(key).encrypt(secret.encode()).decode()


def _decrypt(token: str, key: bytes) -> str:
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        # Another key than the one it was stored with: the setting changed.
        raise ConfigError("A two-step sign-in secret cannot be read with this "
                          "PULSE_TOTP_KEY: was the key changed?") from None


def pending_secret(session: Session, *, user: User, key: bytes) -> str:
    """The secret being enrolled (a new one the first time), stored encrypted until the
    user confirms a code. Raises :class:`MfaError` if already enrolled."""
    if is_enrolled(user):
        raise MfaError("Two-step sign-in is already set up for this account")
    if user.totp_secret_encrypted is None:
        user.totp_secret_encrypted = _encrypt(new_secret(), key)
        session.add(user)
        session.flush()
    return _decrypt(user.totp_secret_encrypted, key)


def confirm_enrolment(session: Session, *, user: User, code: str, key: bytes,
                      now: datetime) -> list[str]:
    """Enrol the pending secret once a code from it checks out; returns the new recovery
    codes (shown once). Raises :class:`MfaError` for a wrong code."""
    if is_enrolled(user) or user.totp_secret_encrypted is None:
        raise MfaError("Start setting up two-step sign-in again: open the set-up page")
    step = _matching_step(user, _decrypt(user.totp_secret_encrypted, key), code, now)
    if step is None:
        raise MfaError("That code is not right: enter the 6 digits your app shows now")
    user.totp_last_step = step
    user.totp_enrolled_at = now
    session.add(user)
    return new_recovery_codes(session, user=user)


def enrol_with_secret(session: Session, *, user: User, secret: str, key: bytes,
                      now: datetime) -> list[str]:
    """Enrol a known secret without a code (the demo's accounts, whose secrets are
    documented); returns the recovery codes."""
    user.totp_secret_encrypted = _encrypt(secret, key)
    user.totp_enrolled_at = now
    user.totp_last_step = None
    session.add(user)
    session.flush()
    return new_recovery_codes(session, user=user)


def check_code(session: Session, *, user: User, code: str, key: bytes, now: datetime) -> bool:
    """Whether ``code`` is the enrolled secret's code now, one step either side, and newer
    than the last one accepted (which it becomes). The caller commits."""
    if not is_enrolled(user) or user.totp_secret_encrypted is None:
        return False
    step = _matching_step(user, _decrypt(user.totp_secret_encrypted, key), code, now)
    if step is None:
        return False
    # Claim the step in the database, compare-and-set: of two requests racing with one
    # code, only the first moves the last accepted step; the other finds it taken.
    last = col(User.totp_last_step)
    claimed = session.execute(
        update(User).where(col(User.id) == user.id, last.is_(None) | (last < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return False
    session.refresh(user, ["totp_last_step"])
    return True


def _matching_step(user: User, secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, if newer than the last accepted; or None."""
    typed = "".join(code.split())
    if len(typed) != DIGITS or not typed.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # A step at or before the last accepted is refused: a code seen over a
        # shoulder, or replayed from a log, is spent once the owner has used it.
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), typed):
            return step
    return None


def _hash_code(code: str) -> str:
    # The codes carry 80 random bits, so a fast hash is enough: no guessing list helps.
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def new_recovery_codes(session: Session, *, user: User) -> list[str]:
    """Replace the user's recovery codes with :data:`RECOVERY_CODES` new ones; returns
    them (only their hashes are stored)."""
    assert user.id is not None  # nosec B101  # narrows a type for mypy
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(code)))
    session.flush()
    return codes


def use_recovery_code(session: Session, *, user: User, code: str, now: datetime) -> bool:
    """Spend one unused recovery code of ``user``; False if it is not one. The caller
    commits."""
    if len(normalise_recovery_code(code)) != 16:
        return False
    # Spent in one conditional UPDATE: two requests racing with one code cannot both
    # find it unused.
    spent = session.execute(
        update(RecoveryCode).where(col(RecoveryCode.user_id) == user.id,
                                   col(RecoveryCode.code_hash) == _hash_code(code),
                                   col(RecoveryCode.used_at).is_(None))
        .values(used_at=now))
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def remove(session: Session, *, user: User) -> None:
    """Forget the user's TOTP secret and recovery codes (a lost phone), and end their
    sessions; a lead or admin sets up a new app at their next sign-in. The caller
    commits."""
    user.totp_secret_encrypted = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    users.end_sessions(session, user=user)
