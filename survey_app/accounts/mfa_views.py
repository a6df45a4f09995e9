"""The second step of a password sign-in: a TOTP code (or a recovery code), and setting
up an authenticator app, which leads and admins must do before any other page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from markupsafe import Markup

from survey_app.accounts import mfa
from survey_app.accounts.access import MFA_PASSED, pending_user, role_required
from survey_app.accounts.forms import CodeForm, EnrolForm
from survey_app.accounts.views import HOME_BY_ROLE, _safe_next, lockout_wait
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import limiter
from survey_app.models import User

bp = Blueprint("mfa", __name__)


def _account_key() -> str:
    user = pending_user()
    if user is None and current_user.is_authenticated:
        user = current_user.user
    return f"mfa:{user.id if user is not None else 'none'}"


def _throttled(view: Callable[..., Any]) -> Callable[..., Any]:
    """Codes are throttled per client and per account. Unlike passwords, every POST
    counts: a failure is only known after the view ran, so counting failures alone let
    a burst of parallel guesses through before the first was counted, and a person
    needs one code per sign-in."""
    view = limiter.limit(lambda: current_app.config["PULSE_LOGIN_ACCOUNT_LIMIT"],
                         methods=["POST"], key_func=_account_key)(view)
    return limiter.limit(lambda: current_app.config["PULSE_LOGIN_CLIENT_LIMIT"],
                         methods=["POST"])(view)


def _next() -> str:
    return _safe_next(request.args.get("next")) or ""


def _finish(user: User, *, how: str) -> ResponseReturnValue:
    """The second step passed: the session is signed in from the next request on."""
    session = get_session()
    browser_session[MFA_PASSED] = True
    audit.record(session, user_id=user.id, action="auth.login", now=utcnow(),
                 detail={"second_step": how})
    session.commit()
    return redirect(_next() or url_for(HOME_BY_ROLE[user.role]))


@bp.route("/login/code", methods=["GET", "POST"])
@_throttled
def step() -> ResponseReturnValue:
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not mfa.is_enrolled(user):
        return redirect(url_for("mfa.enrol", next=_next() or None))
    form = CodeForm()
    if form.validate_on_submit():
        session = get_session()
        now = utcnow()
        key = current_app.config["PULSE_TOTP_KEY"]
        if mfa.check_code(session, user=user, code=form.code.data, key=key, now=now):
            return _finish(user, how="authenticator code")
        if mfa.use_recovery_code(session, user=user, code=form.code.data, now=now):
            return _finish(user, how="recovery code")
        audit.record(session, user_id=user.id, action="auth.mfa_failed", now=now)
        session.commit()
        form.code.errors = ["That code is not right, or has been used. Enter the code your "
                            "app shows now, or an unused recovery code"]
    status = 400 if form.errors else 200
    return render_template("auth/code.html", form=form), status


@bp.route("/login/set-up", methods=["GET", "POST"])
@_throttled
def enrol() -> ResponseReturnValue:
    """Set up an authenticator app: for a lead or admin before any other page, and for a
    recorder who chooses to (from their home page)."""
    user = pending_user()
    signed_in = user is None and current_user.is_authenticated
    if signed_in:
        user = current_user.user
    if user is None:
        return redirect(url_for("auth.login"))
    if mfa.is_enrolled(user):
        return redirect(url_for("mfa.step", next=_next() or None) if not signed_in
                        else url_for("auth.home"))
    session = get_session()
    key = current_app.config["PULSE_TOTP_KEY"]
    secret = mfa.pending_secret(session, user=user, key=key)
    session.commit()
    form = EnrolForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            codes = mfa.confirm_enrolment(session, user=user, code=form.code.data, key=key,
                                          now=now)
        except mfa.MfaError as error:
            audit.record(session, user_id=user.id, action="auth.mfa_failed", now=now)
            session.commit()
            form.code.errors = [str(error)]
        else:
            audit.record(session, user_id=user.id, action="auth.mfa_enrolled", now=now)
            browser_session[MFA_PASSED] = True
            if not signed_in:
                audit.record(session, user_id=user.id, action="auth.login", now=now,
                             detail={"second_step": "authenticator set up"})
            session.commit()
            # Shown once, now, and never stored: not a redirect to a page that could
            # show them again.
            return render_template("auth/recovery_codes.html", codes=codes,
                                   onward=_next() or url_for("auth.home"))
    status = 400 if form.errors else 200
    uri = mfa.provisioning_uri(secret, email=user.email)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/enrol.html", form=form, qr=Markup(mfa.qr_svg(uri)),  # nosec B704  # segno's SVG of our own URI
                           secret=grouped, required=mfa.is_required(user)), status


@bp.errorhandler(RateLimitExceeded)
def _locked_out(error: RateLimitExceeded) -> ResponseReturnValue:
    return render_template("auth/code.html", form=CodeForm(),
                           locked_out=lockout_wait(error)), 429


@bp.post("/admin/users/<int(max=2147483647):user_id>/two-step/remove")
@role_required("admin")
def admin_remove(user_id: int) -> ResponseReturnValue:
    """A lost phone: the admin removes the user's app and recovery codes."""
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    mfa.remove(session, user=user)
    audit.record(session, user_id=current_user.id, action="users.remove_two_step",
                 target=user.email, now=utcnow())
    session.commit()
    flash(f"Two-step sign-in removed for {user.email}; they are signed out everywhere"
          + (" and set up a new app at their next sign-in." if mfa.is_required(user)
             else "."))
    return redirect(url_for("admin.edit_user", user_id=user.id))
