"""Sign in, sign out, change password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as browser_session,
)
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from sqlmodel import col, select
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_app.accounts import local_passwords, mfa, users
from survey_app.accounts.access import MFA_PASSED, SIGNED_IN_BY, SignedInUser
from survey_app.accounts.forms import LoginForm, PasswordChangeForm
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import limiter
from survey_app.models import Neighbourhood

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {"recorder": "activation.record", "lead": "reports.index", "admin": "admin.users"}


def _account_key() -> str:
    return "login:" + users.normalise_email(request.form.get("email", ""))


def _failed(response: WerkzeugResponse) -> bool:
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never redirect a signed-in user to another host.
    if not target:
        return None
    # Browsers read "/\\host" as "//host", another site; and no path has control characters.
    if "\\" in target or target.startswith("//") or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def _sign_in_ways() -> dict[str, object]:
    """What the sign-in page offers: the organisation sign-in button (its label) when it is
    set up, and the password form unless an admin turned passwords off (never when there
    is no other way in)."""
    settings = current_app.config["PULSE_OIDC"]
    return {"oidc_label": settings.button_label if settings else None,
            "passwords_on": settings is None or local_passwords.are_on(get_session())}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PULSE_LOGIN_CLIENT_LIMIT"], methods=["POST"],
               deduct_when=_failed)
@limiter.limit(lambda: current_app.config["PULSE_LOGIN_ACCOUNT_LIMIT"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed)
def login() -> ResponseReturnValue:
    form = LoginForm()
    ways = _sign_in_ways()
    if request.method == "POST" and not ways["passwords_on"]:
        # Turned off by an admin: no password is checked, right or wrong.
        return render_template("auth/login.html", form=form, passwords_refused=True,
                               **ways), 403
    if form.validate_on_submit():
        session = get_session()
        user = users.authenticate(session, email=form.email.data, password=form.password.data)
        if user is not None:
            browser_session.clear()  # a fresh session id at sign-in (no fixation)
            browser_session.permanent = True
            login_user(SignedInUser(user))
            browser_session[SIGNED_IN_BY] = "password"
            if mfa.is_enrolled(user) or mfa.is_required(user):
                # Not signed in yet: the TOTP step (or setting it up) comes first.
                session.commit()  # with a password rehash, if any
                return redirect(url_for("mfa.step",
                                        next=_safe_next(request.args.get("next"))))
            browser_session[MFA_PASSED] = True  # a recorder who chose no second step
            audit.record(session, user_id=user.id, action="auth.login", now=utcnow())
            session.commit()
            home = url_for(HOME_BY_ROLE[user.role])
            return redirect(_safe_next(request.args.get("next")) or home)
        # Recorded against the account tried, if it exists; what was typed is not kept
        # (a password typed into the email box must not reach the log).
        audit.record(session, user_id=users.account_id(session, email=form.email.data),
                     action="auth.login_failed", now=utcnow())
        session.commit()  # with a password rehash, if any
        form.password.errors = ["The email address or password is not right"]
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form, **ways), status


def lockout_wait(error: RateLimitExceeded) -> str:
    """How long until a throttled sign-in step may be tried again, in words."""
    seconds = error.limit.limit.get_expiry()
    return "a minute" if seconds <= 60 else f"{round(seconds / 60)} minutes"


@bp.errorhandler(RateLimitExceeded)
def _locked_out(error: RateLimitExceeded) -> ResponseReturnValue:
    """Too many failed sign-ins: say when to try again and what to do, not a dead end."""
    return render_template("auth/login.html", form=LoginForm(), locked_out=lockout_wait(error),
                           **_sign_in_ways()), 429


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        # Server-side: every copy of this session cookie, in any browser, and the
        # user's other sessions end with it.
        session = get_session()
        users.end_sessions(session, user=current_user.user)
        audit.record(session, user_id=current_user.id, action="auth.logout", now=utcnow())
        session.commit()
    logout_user()
    browser_session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        session = get_session()
        try:
            users.change_password(session, user=current_user.user, current=form.current.data,
                                     new=form.new.data)
        except users.AccountError as error:
            (form.current if error.field == "current" else form.new).errors = [str(error)]
        else:
            audit.record(session, user_id=current_user.id, action="auth.password_change",
                         now=utcnow())
            session.commit()
            login_user(SignedInUser(current_user.user))  # this session carries on
            flash("Your password has been changed. Other sessions have been signed out.")
            return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form), status


@bp.get("/home")
@login_required
def home() -> ResponseReturnValue:
    """Every page the signed-in user's role may open, admin pages included."""
    # An admin's INT settings are a page per INT, so the home lists each one.
    neighbourhoods = (get_session().exec(select(Neighbourhood).order_by(col(Neighbourhood.name)))
                      .all() if current_user.role == "admin" else [])
    return render_template("auth/home.html", neighbourhoods=neighbourhoods)
