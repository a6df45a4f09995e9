"""The admin's sign-in page: whether organisation sign-in is set up, and the switch
for local passwords."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey_app.accounts import local_passwords
from survey_app.accounts.access import role_required
from survey_app.accounts.sign_in_forms import LocalPasswordsForm
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session

bp = Blueprint("sign_in_admin", __name__, url_prefix="/admin")


@bp.route("/sign-in", methods=["GET", "POST"])
@role_required("admin")
def sign_in_settings() -> ResponseReturnValue:
    session = get_session()
    settings = current_app.config["PULSE_OIDC"]
    form = LocalPasswordsForm()
    if not form.is_submitted():
        form.local_passwords.data = "on" if local_passwords.are_on(session) else "off"
    if form.validate_on_submit():
        on = form.local_passwords.data == "on"
        try:
            changed = local_passwords.set_on(session, on=on,
                                             organisation_sign_in=settings is not None)
        except local_passwords.LocalPasswordsError as error:
            form.local_passwords.errors = [str(error)]
        else:
            if changed:
                audit.record(session, user_id=current_user.id, now=utcnow(),
                             action="settings.local_passwords",
                             detail={"local_passwords": "on" if on else "off"})
            session.commit()
            flash("People can sign in with a Pulse password." if on else
                  "People can now sign in only with their organisation account.")
            return redirect(url_for("sign_in_admin.sign_in_settings"))
    return render_template("auth/sign_in_settings.html", form=form, settings=settings,
                           callback=current_app.config["PULSE_BASE_URL"]
                           + url_for("oidc.callback")), 400 if form.errors else 200
