"""Sign-in: Flask-Login sessions and the role decorators every protected view uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, current_app, flash, redirect, request, url_for
from flask import session as browser_session
from flask_login import LoginManager, UserMixin, current_user
from sqlmodel import Session

from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_engine, get_session
from survey_app.models import User

login_manager = LoginManager()
# The shared interface between the sign-in routes: how this session was signed in
# ("password" or "oidc"), and whether a password sign-in has passed its second step.
SIGNED_IN_BY = "pulse_signed_in_by"
MFA_PASSED = "pulse_mfa_passed"


class SignedInUser(UserMixin):  # type: ignore[misc]
    """The Flask-Login view of a :class:`User`.

    The session id carries the user's ``session_version``: changing the
    password bumps it, which ends every other session of that user.
    """

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.id
        self.role = user.role
        self.email = user.email

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"


def _user_for(session_id: str) -> User | None:
    """The active user a session id names, if its session has not been ended."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        if user is not None:
            _ended(user)
        return None
    return user


def _ended(user: User) -> None:
    """Audit a session found ended (signed out elsewhere, password changed, account
    disabled) once, and forget it, so the next request is simply signed out."""
    browser_session.pop("_user_id", None)
    # Its own transaction: the request's may be mid-way through a view's work.
    with Session(get_engine(current_app)) as session:
        audit.record(session, user_id=user.id, action="auth.session_ended", now=utcnow())
        session.commit()


def second_step_pending() -> bool:
    """A password sign-in that has not yet passed its TOTP step (or enrolment).

    An organisation sign-in carries the organisation's own MFA; any other session,
    including one from before this check existed, needs the step passed.
    """
    return (browser_session.get(SIGNED_IN_BY) != "oidc"
            and not browser_session.get(MFA_PASSED))


def pending_user() -> User | None:
    """The user whose password was right but whose second step is still to come."""
    session_id = browser_session.get("_user_id")
    if not session_id or not second_step_pending():
        return None
    return _user_for(str(session_id))


@login_manager.user_loader
def _load_user(session_id: str) -> SignedInUser | None:
    # Every protected page (login_required, role_required, current_user anywhere)
    # comes through here: until the second step is passed there is nobody signed in.
    if second_step_pending():
        return None
    user = _user_for(session_id)
    return None if user is None else SignedInUser(user)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    target = request.full_path.rstrip("?")
    if pending_user() is not None:
        return redirect(url_for("mfa.step", next=target))
    flash("Sign in to continue. If you were signed in, your session has ended.")
    return redirect(url_for("auth.login", next=target))


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only signed-in users with one of ``roles`` (admins always) reach the view."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role != "admin" and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    from survey_app.accounts import password_reset
    from survey_app.accounts.mfa_views import bp as mfa_bp
    from survey_app.accounts.password_reset_views import MAILER
    from survey_app.accounts.password_reset_views import bp as reset_bp
    from survey_app.accounts.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(mfa_bp)
    app.register_blueprint(reset_bp)
    # Account emails (reset links) go to the development outbox until scheduling's
    # init_app, which owns the channels, hands over SMTP when it is configured.
    app.extensions[MAILER] = (
        password_reset.no_mailer if app.config["PULSE_ENV"] == "production"
        else password_reset.DevelopmentOutbox(show=not app.config["TESTING"]))
