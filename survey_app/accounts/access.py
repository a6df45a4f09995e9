"""Sign-in: Flask-Login sessions and the role decorators every protected view uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, flash, redirect, request, url_for
from flask_login import LoginManager, UserMixin, current_user

from survey_app.core.db import get_session
from survey_app.models import User

login_manager = LoginManager()


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


@login_manager.user_loader
def _load_user(session_id: str) -> SignedInUser | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return SignedInUser(user)


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    flash("Sign in to continue. If you were signed in, your session has ended.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


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
    from survey_app.accounts.views import bp

    app.register_blueprint(bp)
