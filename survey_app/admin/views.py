"""Admin pages: users and their scopes, kiosks, INT settings and the audit log.

Schedules, rosters and the programme's messages have their pages in
:mod:`survey_app.scheduling.admin_views`, also under /admin.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectChoice

from survey_app.accounts import users
from survey_app.accounts.access import role_required
from survey_app.activation import sites
from survey_app.admin.forms import EditUserForm, IntSettingsForm, NewUserForm, ResetPasswordForm
from survey_app.core import audit
from survey_app.core.clock import local_date, utcnow
from survey_app.core.db import get_session
from survey_app.core.retention_policy import KINDS, period_words
from survey_app.models import User
from survey_app.pulse import teams

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _scope_choices(form: NewUserForm | EditUserForm) -> None:
    session = get_session()
    form.ints.choices = [SelectChoice(n.slug, n.name) for n in teams.list_neighbourhoods(session)]
    form.sites.choices = [SelectChoice(s.code, f"{s.name} ({s.code})")
                          for s in sites.all_sites(session)]


@bp.route("/users", methods=["GET", "POST"], endpoint="users")
@role_required("admin")
def user_list() -> ResponseReturnValue:
    session = get_session()
    form = NewUserForm()
    _scope_choices(form)
    if form.validate_on_submit():
        try:
            user = users.create_user(
                session, email=form.email.data, password=form.password.data, role=form.role.data,
                now=utcnow(), neighbourhood_slugs=form.ints.data or [],
                site_codes=form.sites.data or [],
            )
        except users.AccountError as error:
            session.rollback()  # the user may have been flushed before the scopes failed
            form[error.field or "email"].errors = [str(error)]
        else:
            audit.record(session, user_id=current_user.id, action="users.create", target=user.email,
                         now=utcnow())
            session.commit()
            flash(f"Created {user.role} {user.email}. Give them their first password in person "
                  "and ask them to change it.")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=users.list_users(session)), \
        400 if form.errors else 200


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int) -> ResponseReturnValue:
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm()
    _scope_choices(form)
    reset = ResetPasswordForm(prefix="reset")
    if not form.is_submitted():
        form.role.data = user.role
        form.active.data = user.active
        form.ints.data, form.sites.data = users.scope_codes(session, user=user)
    elif form.validate():
        try:
            users.update_user(session, user=user, role=form.role.data, active=form.active.data,
                                 neighbourhood_slugs=form.ints.data or [],
                                 site_codes=form.sites.data or [], acting_user_id=current_user.id)
        except users.AccountError as error:
            session.rollback()
            form[error.field or "role"].errors = [str(error)]
        else:
            audit.record(session, user_id=current_user.id, action="users.update",
                         target=user.email, now=utcnow())
            session.commit()
            flash(f"Saved {user.email}.")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, reset=reset, user=user), \
        400 if form.errors else 200


@bp.post("/users/<int(max=2147483647):user_id>/password")
@role_required("admin")
def reset_password(user_id: int) -> ResponseReturnValue:
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    reset = ResetPasswordForm(prefix="reset")
    if reset.validate_on_submit():
        try:
            users.set_password(session, user=user, password=reset.password.data)
        except users.AccountError as error:
            reset.password.errors = [str(error)]
        else:
            audit.record(session, user_id=current_user.id, action="users.reset_password",
                         target=user.email, now=utcnow())
            session.commit()
            flash(f"New password set for {user.email}; their other sessions are signed out.")
            return redirect(url_for("admin.users"))
    form = EditUserForm()
    _scope_choices(form)
    form.role.data, form.active.data = user.role, user.active
    return render_template("admin/user.html", form=form, reset=reset, user=user), 400


@bp.get("/kiosks")
@role_required("admin")
def kiosks() -> ResponseReturnValue:
    return render_template("admin/kiosks.html", kiosks=sites.list_kiosks(get_session()),
                           local_date=local_date)


@bp.post("/kiosks/<int(max=2147483647):kiosk_id>/revoke")
@role_required("admin")
def revoke_kiosk(kiosk_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        kiosk = sites.revoke_kiosk(session, kiosk_id=kiosk_id, now=utcnow())
    except sites.SiteError:
        abort(404)
    audit.record(session, user_id=current_user.id, action="kiosk.revoke", target=str(kiosk_id),
                 now=utcnow())
    session.commit()
    flash(f"Revoked '{kiosk.name}': it stops taking answers at once.")
    return redirect(url_for("admin.kiosks"))


@bp.route("/ints/<slug>", methods=["GET", "POST"])
@role_required("admin")
def int_settings(slug: str) -> ResponseReturnValue:
    session = get_session()
    neighbourhood = teams.find_neighbourhood(session, slug=slug)
    if neighbourhood is None:
        abort(404)
    form = IntSettingsForm(obj=neighbourhood)
    if form.validate_on_submit():
        teams.update_settings(
            session, neighbourhood=neighbourhood,
            low_activation_prompt=form.low_activation_prompt.data or "",
            invitation_gap_days=form.invitation_gap_days.data,
            max_messages_per_wave=form.max_messages_per_wave.data,
            action_stages=form.action_stages.data,
            display=teams.Display(display_name=form.display_name.data or "",
                                  contact_text=form.contact_text.data or "",
                                  contact_email=form.contact_email.data or "",
                                  contact_phone=form.contact_phone.data or ""),
            logo=form.prepared_logo, remove_logo=form.remove_logo.data,
            retention=form.retention,
            controller=teams.Controller(
                controller_name=form.controller_name.data or "",
                dpo_contact=form.dpo_contact.data or "",
                lawful_basis_staff=form.lawful_basis_staff.data or "",
                lawful_basis_patients=form.lawful_basis_patients.data or ""))
        audit.record(session, user_id=current_user.id, action="int.settings", target=slug,
                     now=utcnow())
        session.commit()
        flash("Saved.")
        return redirect(url_for("admin.int_settings", slug=slug))
    return render_template("admin/int.html", form=form, neighbourhood=neighbourhood,
                           retention_kinds=KINDS, period_words=period_words), \
        400 if form.errors else 200


# The audit log's page is survey_app.admin.audit_views, on this blueprint.
