"""Users, passwords (argon2id) and what each user may see or record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from survey_app.models import ROLES, Neighbourhood, Site, User, UserNeighbourhood, UserSite

MIN_PASSWORD_LENGTH = 12
# "strong" is argon2-cffi's default, RFC 9106's low-memory choice (argon2id, t=3, 64 MiB,
# p=4): what every running Pulse uses. "cheapest" exists only so a test suite that signs
# in hundreds of times is not dominated by hashing; the app picks it under TESTING alone.
PASSWORD_HASH_PROFILES = {
    "strong": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}
_profile = "strong"
_hasher = PasswordHasher.from_parameters(PASSWORD_HASH_PROFILES[_profile])
# Verifying against this when the email is unknown keeps the time the same,
# so response times do not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def use_password_hash_profile(name: str) -> None:
    """Hash (and re-hash at sign-in) with the named profile from now on, in this process.

    A stored hash carries its own parameters, so hashes of either profile still verify;
    one made with other parameters is re-hashed with these at its next sign-in.
    """
    global _profile, _hasher, _DUMMY_HASH
    if name == _profile:
        return
    _profile = name
    _hasher = PasswordHasher.from_parameters(PASSWORD_HASH_PROFILES[name])
    _DUMMY_HASH = _hasher.hash("not-a-real-password")


def password_hash_profile() -> str:
    """The name of the profile new hashes are made with."""
    return _profile


def hash_password(password: str) -> str:
    """The argon2id hash to store for ``password``, with the current profile's cost."""
    return _hasher.hash(password)


class AccountError(ValueError):
    """A user-facing problem with an account request; ``field`` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")


def create_user(session: Session, *, email: str, password: str, role: str, now: datetime,
                neighbourhood_slugs: Sequence[str] = (), site_codes: Sequence[str] = ()) -> User:
    """Create a user with scopes. Raises :class:`AccountError` for bad input."""
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 254:
        raise AccountError("Enter a real email address (at most 254 characters)",
                           field="email")
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}", field="role")
    check_password_rules(password)
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise AccountError(f"There is already a user {email}", field="email")
    user = User(email=email, password_hash=hash_password(password), role=role, created_at=now)
    session.add(user)
    session.flush()
    set_scopes(session, user=user, neighbourhood_slugs=neighbourhood_slugs, site_codes=site_codes)
    return user


def set_scopes(session: Session, *, user: User, neighbourhood_slugs: Sequence[str],
               site_codes: Sequence[str]) -> None:
    """Replace the user's INTs and sites. Raises :class:`AccountError` for unknown ones."""
    assert user.id is not None  # nosec B101  # narrows a type for mypy
    neighbourhoods = []
    for slug in neighbourhood_slugs:
        found = session.exec(select(Neighbourhood).where(Neighbourhood.slug == slug)).first()
        if found is None:
            raise AccountError(f"No INT '{slug}'", field="ints")
        neighbourhoods.append(found)
    sites = []
    for code in site_codes:
        site = session.exec(select(Site).where(Site.code == code.upper())).first()
        if site is None:
            raise AccountError(f"No site '{code}'", field="sites")
        sites.append(site)
    if user.role == "recorder" and not neighbourhoods and not sites:
        raise AccountError("A recorder needs at least one site or INT to record for",
                           field="sites")
    if user.role == "lead" and not neighbourhoods:
        raise AccountError("A lead needs at least one INT", field="ints")
    session.execute(delete(UserNeighbourhood).where(col(UserNeighbourhood.user_id) == user.id))
    session.execute(delete(UserSite).where(col(UserSite.user_id) == user.id))
    for neighbourhood in neighbourhoods:
        session.add(UserNeighbourhood(user_id=user.id, neighbourhood_id=neighbourhood.id or 0))
    for site in sites:
        session.add(UserSite(user_id=user.id, site_id=site.id or 0))
    session.flush()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.role), col(User.email))))


def update_user(session: Session, *, user: User, role: str, active: bool,
                neighbourhood_slugs: Sequence[str], site_codes: Sequence[str],
                acting_user_id: int | None) -> None:
    """Change a user's role, status and scopes. Raises :class:`AccountError`."""
    if user.id == acting_user_id and (role != "admin" or not active):
        raise AccountError("You cannot remove your own admin access", field="role")
    if role not in ROLES:
        raise AccountError(f"Role must be one of {', '.join(ROLES)}", field="role")
    old_ints, old_sites = scope_codes(session, user=user)
    narrowed = (not set(old_ints) <= set(neighbourhood_slugs)
                or not {code.upper() for code in old_sites}
                <= {code.upper() for code in site_codes})
    if role != user.role or (user.active and not active) or (narrowed and role != "admin"):
        # A session must not outlive the access it was signed in with (an admin sees
        # every INT, so their scopes narrow nothing).
        end_sessions(session, user=user)
    user.role = role
    user.active = active
    session.add(user)
    set_scopes(session, user=user, neighbourhood_slugs=neighbourhood_slugs,
               site_codes=site_codes)


def account_id(session: Session, *, email: str) -> int | None:
    """The id of the account with this email, if there is one (for the audit log)."""
    return session.exec(select(User.id).where(User.email == normalise_email(email))).first()


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = session.exec(select(User).where(User.email == normalise_email(email))).first()
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Raises :class:`AccountError` if ``current`` is wrong or ``new`` too weak."""
    if not _verify(user.password_hash, current):
        raise AccountError("Your current password is not right", field="current")
    check_password_rules(new)
    set_password(session, user=user, password=new)


def set_password(session: Session, *, user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    end_sessions(session, user=user)
    session.add(user)


def end_sessions(session: Session, *, user: User) -> None:
    """End every session of ``user``, in every browser, from their next request on.

    A session id carries the ``session_version`` it was signed in with and the user
    loader refuses any other, so bumping it refuses every copy of every session cookie
    (and remember cookie) already issued. The caller commits.
    """
    user.session_version += 1
    session.add(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def neighbourhood_ids(session: Session, *, user: User) -> set[int] | None:
    """The INTs a user may see; None means all of them (admin)."""
    if user.role == "admin":
        return None
    return set(session.exec(
        select(UserNeighbourhood.neighbourhood_id).where(UserNeighbourhood.user_id == user.id)
    ))


def recordable_sites(session: Session, *, user: User) -> list[Site]:
    """Sites a user may record ratings at: their sites, and every site of their INTs."""
    query = select(Site).order_by(col(Site.name))
    if user.role != "admin":
        ints = neighbourhood_ids(session, user=user) or set()
        own = set(session.exec(select(UserSite.site_id).where(UserSite.user_id == user.id)))
        query = query.where(col(Site.id).in_(own) | col(Site.neighbourhood_id).in_(ints))
    return list(session.exec(query))


def scope_codes(session: Session, *, user: User) -> tuple[list[str], list[str]]:
    """The slugs of the user's INTs and the codes of their sites."""
    ints = list(session.exec(
        select(Neighbourhood.slug).join(UserNeighbourhood).where(
            UserNeighbourhood.user_id == user.id)))
    site_codes = list(session.exec(
        select(Site.code).join(UserSite).where(UserSite.user_id == user.id)))
    return ints, site_codes
