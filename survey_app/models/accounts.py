"""Signed-in users (recorders, leads, admins), their scopes, and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import utc_column

ROLES = ("recorder", "lead", "admin")


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    # An organisation sign-in (OpenID Connect) is one (issuer, subject): the email claim
    # links the admin-created account once, the pair every time after.
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-case
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    active: bool = True
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    # Bumped on password change, so sessions from before the change end.
    session_version: int = 1
    oidc_issuer: str | None = Field(default=None, max_length=255)
    oidc_subject: str | None = Field(default=None, max_length=255)
    # TOTP for a local password (RFC 6238): the secret encrypted with a key held outside
    # the database; the last time step accepted, so a code cannot be used twice.
    totp_secret_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    totp_enrolled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for the authenticator app; kept only as a hash."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AppSetting(SQLModel, table=True):
    """A setting an admin changes in the app rather than the environment, by key."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)


class UserNeighbourhood(SQLModel, table=True):
    """An INT a user may work in (a lead's reports; all of a recorder's sites there)."""

    __tablename__ = "user_neighbourhood"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    neighbourhood_id: int = Field(
        sa_column=Column(Integer, ForeignKey("neighbourhood.id", ondelete="CASCADE"),
                         primary_key=True)
    )


class UserSite(SQLModel, table=True):
    """A site a recorder may record ratings for."""

    __tablename__ = "user_site"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    )
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    )


class AuditEvent(SQLModel, table=True):
    """Who did what, when: sign-ins, recordings, exports. Never an answer's value."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True,
                         index=True),
    )
    action: str = Field(max_length=64)
    target: str | None = Field(default=None, max_length=128)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ApiToken(SQLModel, table=True):
    """A personal token for the read-only API: it acts as its user, with the user's scope.

    Only the SHA-256 of the token is stored; the token itself is shown once.
    """

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
