"""Forgotten password: ask for a link, choose a new password from it; and an admin
sending someone the link from their user page."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user

from survey_app.accounts import password_reset, users
from survey_app.accounts.access import role_required
from survey_app.accounts.forms import ResetPasswordForm, ResetRequestForm
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import limiter
from survey_app.models import User

bp = Blueprint("reset", __name__)
MAILER = "pulse_account_mailer"


def _email_key() -> str:
    return "reset:" + users.normalise_email(request.form.get("email", ""))


def _can_send() -> bool:
    """False in production without SMTP: the link would only be logged as unsendable."""
    return current_app.extensions[MAILER] is not password_reset.no_mailer


def _send_link(user: User) -> None:
    token = password_reset.make_token(user, secret_key=current_app.config["SECRET_KEY"],
                                      now=utcnow())
    link = current_app.config["PULSE_BASE_URL"] + url_for("reset.choose", secret=token)
    current_app.extensions[MAILER](password_reset.reset_message(user, link=link))


@bp.route("/login/forgotten", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PULSE_LOGIN_CLIENT_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["PULSE_LOGIN_ACCOUNT_LIMIT"], methods=["POST"],
               key_func=_email_key)
def forgotten() -> ResponseReturnValue:
    form = ResetRequestForm()
    if form.validate_on_submit():
        session = get_session()
        user = password_reset.account_to_reset(session, email=form.email.data)
        if user is not None:
            _send_link(user)
        audit.record(session, user_id=user.id if user else None,
                     action="auth.reset_requested", now=utcnow())
        session.commit()
        # The same page whether or not the address has an account.
        return render_template("auth/reset_sent.html", email=form.email.data)
    status = 400 if form.errors else 200
    return render_template("auth/forgotten.html", form=form), status


@bp.route("/reset-password/<secret>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PULSE_LOGIN_CLIENT_LIMIT"], methods=["POST"])
def choose(secret: str) -> ResponseReturnValue:
    """Choose a new password from a reset link (``secret`` is the link's signed token)."""
    token = secret
    session = get_session()
    secret_key = current_app.config["SECRET_KEY"]
    try:
        password_reset.user_for_token(session, token=token, secret_key=secret_key,
                                      now=utcnow())
    except password_reset.ResetError as error:
        return render_template("auth/reset_refused.html", reason=str(error)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = password_reset.complete_reset(session, token=token, password=form.new.data,
                                                 secret_key=secret_key, now=utcnow())
        except users.AccountError as error:
            form.new.errors = [str(error)]
        else:
            audit.record(session, user_id=user.id, action="auth.reset_completed",
                         now=utcnow())
            session.commit()
            logout_user()  # a reset signs nobody in: sign in again, second step included
            browser_session.clear()
            flash("Your password has been changed. Sign in with your new password.")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("auth/reset_choose.html", form=form), status


@bp.post("/admin/users/<int(max=2147483647):user_id>/reset-link")
@role_required("admin")
def admin_send(user_id: int) -> ResponseReturnValue:
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    if not user.active:
        flash(f"{user.email} is not active: make the account active first.")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    if not _can_send():
        flash(f"Email is not set up (PULSE_SMTP_HOST), so no link was sent to {user.email}. "
              "Set a new password for them below instead.")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    _send_link(user)
    audit.record(session, user_id=current_user.id, action="users.send_reset",
                 target=user.email, now=utcnow())
    session.commit()
    flash(f"A password reset link has been sent to {user.email}. It works once, for 30 "
          "minutes.")
    return redirect(url_for("admin.edit_user", user_id=user.id))
