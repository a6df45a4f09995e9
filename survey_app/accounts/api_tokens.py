"""Personal tokens for the read-only API: made, looked up, listed and revoked.

A token acts as its user, with that user's scope. Only its SHA-256 is stored:
the token itself exists once, in the page that shows it after creation.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from survey_app.core.tokens import hash_secret, new_token
from survey_app.models import ApiToken, User

# A recognisable prefix lets secret scanners (and people) tell a Pulse token
# apart from other strings in a log or a pasted script.
TOKEN_PREFIX = "pulse_"  # nosec B105  # a public prefix, not a secret
MAX_NAME = 100
# Enough for every script a lead could reasonably run; a cap stops a runaway loop.
MAX_ACTIVE_TOKENS = 20
# Token ids are PostgreSQL ``integer`` (SERIAL) keys: a larger id cannot name a token,
# and sent to PostgreSQL it fails the query ("integer out of range") instead.
MAX_TOKEN_ID = 2**31 - 1


class TokenError(ValueError):
    """A refused token request; ``field`` names the form field at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def create_token(session: Session, *, user_id: int, name: str,
                 now: datetime) -> tuple[ApiToken, str]:
    """A new token for ``user_id``: the stored row and the plaintext, shown once.

    The secret is 192 random bits (:func:`survey_app.core.tokens.new_token`).
    Raises :class:`TokenError` for an empty or long name, or too many active tokens.
    """
    name = " ".join(name.split())
    if not name:
        raise TokenError("Enter a name for the token", field="name")
    if len(name) > MAX_NAME:
        raise TokenError(f"Give the token a name of {MAX_NAME} characters or fewer",
                         field="name")
    active = session.exec(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))).one()
    if active >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"You already have {MAX_ACTIVE_TOKENS} tokens. Revoke one you no "
                         "longer use, then create a new one.", field="name")
    plaintext = TOKEN_PREFIX + new_token()
    token = ApiToken(user_id=user_id, name=name, token_hash=hash_secret(plaintext),
                     created_at=now)
    session.add(token)
    session.flush()
    return token, plaintext


def find_user_for_token(session: Session, *, plaintext: str,
                        now: datetime) -> tuple[User, ApiToken] | None:
    """The active user a live token belongs to, and the token; None if it does not work.

    A revoked or unknown token, or one whose user is disabled, gives None. The
    user's role is the caller's to check (a recorder's token reads nothing).
    A working token's ``last_used_at`` is set to ``now``.
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(
        select(ApiToken, User).join(User, col(User.id) == col(ApiToken.user_id))
        .where(ApiToken.token_hash == hash_secret(plaintext))
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.active:
        return None
    token.last_used_at = now
    session.add(token)
    return user, token


def list_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (so the history stays)."""
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user_id)
                             .order_by(col(ApiToken.created_at).desc(),
                                       col(ApiToken.id).desc())))


def revoke_token(session: Session, *, user_id: int, token_id: int,
                 now: datetime) -> ApiToken:
    """Revoke one of ``user_id``'s own tokens (already revoked: unchanged).

    Raises :class:`TokenError` when the token is not the user's, so nobody can
    revoke, or learn of, another person's token, and for an id no token can have.
    """
    if not 1 <= token_id <= MAX_TOKEN_ID:
        raise TokenError("That token was not found", field="token_id")
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise TokenError("That token was not found", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
    return token
