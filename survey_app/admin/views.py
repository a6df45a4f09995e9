"""Admin pages: users and their scopes, kiosks, and INT settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlmodel import col, select
from wtforms import SelectChoice

from survey_app.admin.forms import EditUserForm, IntSettingsForm, NewUserForm, ResetPasswordForm
from survey_app.auth import role_required
from survey_app.db import get_session
from survey_app.models import Neighbourhood, Site, User, UserNeighbourhood, UserSite
from survey_app.services import accounts, audit, sites
from survey_app.services.clock import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _scope_choices(form: NewUserForm | EditUserForm) -> None:
    db = get_session()
    form.ints.choices = [SelectChoice(n.slug, n.name) for n in
                         db.exec(select(Neighbourhood).order_by(col(Neighbourhood.name)))]
    form.sites.choices = [SelectChoice(s.code, f"{s.name} ({s.code})")
                          for s in sites.all_sites(db)]


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users() -> ResponseReturnValue:
    db = get_session()
    form = NewUserForm()
    _scope_choices(form)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db, email=form.email.data, password=form.password.data, role=form.role.data,
                now=utcnow(), neighbourhood_slugs=form.ints.data or [],
                site_codes=form.sites.data or [],
            )
        except accounts.AccountError as error:
            target = form.password if "password" in str(error) else form.email
            target.errors = [str(error)]
        else:
            audit.record(db, user_id=current_user.id, action="users.create", target=user.email,
                         now=utcnow())
            db.commit()
            flash(f"Created {user.role} {user.email}. Give them their first password in person "
                  "and ask them to change it.")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=accounts.list_users(db)), \
        400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int) -> ResponseReturnValue:
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm()
    _scope_choices(form)
    reset = ResetPasswordForm(prefix="reset")
    if not form.is_submitted():
        form.role.data = user.role
        form.active.data = user.active
        form.ints.data = list(db.exec(
            select(Neighbourhood.slug).join(UserNeighbourhood).where(
                UserNeighbourhood.user_id == user.id)))
        form.sites.data = list(db.exec(
            select(Site.code).join(UserSite).where(UserSite.user_id == user.id)))
    elif form.validate():
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            form.role.errors = ["You cannot remove your own admin access"]
        else:
            user.role = form.role.data
            user.active = form.active.data
            try:
                accounts.set_scopes(db, user=user, neighbourhood_slugs=form.ints.data or [],
                                    site_codes=form.sites.data or [])
            except accounts.AccountError as error:
                form.ints.errors = [str(error)]
            else:
                audit.record(db, user_id=current_user.id, action="users.update",
                             target=user.email, now=utcnow())
                db.commit()
                flash(f"Saved {user.email}.")
                return redirect(url_for("admin.users"))
        db.rollback()
    return render_template("admin/user.html", form=form, reset=reset, user=user), \
        400 if form.errors else 200


@bp.post("/users/<int:user_id>/password")
@role_required("admin")
def reset_password(user_id: int) -> ResponseReturnValue:
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    reset = ResetPasswordForm(prefix="reset")
    if reset.validate_on_submit():
        try:
            accounts.set_password(db, user=user, password=reset.password.data)
        except accounts.AccountError as error:
            reset.password.errors = [str(error)]
        else:
            audit.record(db, user_id=current_user.id, action="users.reset_password",
                         target=user.email, now=utcnow())
            db.commit()
            flash(f"New password set for {user.email}; their other sessions are signed out.")
            return redirect(url_for("admin.users"))
    form = EditUserForm()
    _scope_choices(form)
    form.role.data, form.active.data = user.role, user.active
    return render_template("admin/user.html", form=form, reset=reset, user=user), 400


@bp.get("/kiosks")
@role_required("admin")
def kiosks() -> ResponseReturnValue:
    return render_template("admin/kiosks.html", kiosks=sites.list_kiosks(get_session()))


@bp.post("/kiosks/<int:kiosk_id>/revoke")
@role_required("admin")
def revoke_kiosk(kiosk_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        kiosk = sites.revoke_kiosk(db, kiosk_id=kiosk_id, now=utcnow())
    except sites.SiteError:
        abort(404)
    audit.record(db, user_id=current_user.id, action="kiosk.revoke", target=str(kiosk_id),
                 now=utcnow())
    db.commit()
    flash(f"Revoked '{kiosk.name}': it stops taking answers at once.")
    return redirect(url_for("admin.kiosks"))


@bp.route("/ints/<slug>", methods=["GET", "POST"])
@role_required("admin")
def int_settings(slug: str) -> ResponseReturnValue:
    db = get_session()
    neighbourhood = db.exec(select(Neighbourhood).where(Neighbourhood.slug == slug)).first()
    if neighbourhood is None:
        abort(404)
    form = IntSettingsForm(obj=neighbourhood)
    if form.validate_on_submit():
        prompt = (form.low_activation_prompt.data or "").strip()
        neighbourhood.low_activation_prompt = prompt or None
        db.add(neighbourhood)
        audit.record(db, user_id=current_user.id, action="int.settings", target=slug,
                     now=utcnow())
        db.commit()
        flash("Saved.")
        return redirect(url_for("admin.int_settings", slug=slug))
    return render_template("admin/int.html", form=form, neighbourhood=neighbourhood), \
        400 if form.errors else 200
