"""Admin pages: users and their scopes, kiosks, INT settings, schedules, rosters, and the
messages the programme sends."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectChoice

from survey_app.accounts import users
from survey_app.accounts.access import role_required
from survey_app.activation import sites
from survey_app.admin.forms import (
    EVERY_TEAM,
    EditUserForm,
    IntSettingsForm,
    NewUserForm,
    ResetPasswordForm,
    RosterForm,
    ScheduleForm,
)
from survey_app.core import audit
from survey_app.core.clock import LONDON, as_utc, utcnow
from survey_app.core.db import get_session
from survey_app.core.security import private_page
from survey_app.models import (
    Team,
    User,
)
from survey_app.pulse import teams
from survey_app.scheduling import dispatch, messages, roster, schedules, tick
from survey_app.scheduling import roster_import as roster_import_service
from survey_app.scheduling.cadence import Burden

bp = Blueprint("admin", __name__, url_prefix="/admin")

# A file with thousands of bad rows needs fixing at its source, not reading here in full.
PROBLEMS_SHOWN = 200
ROSTER_SAMPLE = Path(__file__).resolve().parents[1] / "static" / "roster-sample.csv"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    def london(moment: datetime | None) -> str:
        """A stored UTC moment as England's wall-clock time."""
        return "" if moment is None else f"{as_utc(moment).astimezone(LONDON):%d %b %Y %H:%M}"

    return {"london": london}


def _scope_choices(form: NewUserForm | EditUserForm) -> None:
    db = get_session()
    form.ints.choices = [SelectChoice(n.slug, n.name) for n in teams.list_neighbourhoods(db)]
    form.sites.choices = [SelectChoice(s.code, f"{s.name} ({s.code})")
                          for s in sites.all_sites(db)]


@bp.route("/users", methods=["GET", "POST"], endpoint="users")
@role_required("admin")
def user_list() -> ResponseReturnValue:
    db = get_session()
    form = NewUserForm()
    _scope_choices(form)
    if form.validate_on_submit():
        try:
            user = users.create_user(
                db, email=form.email.data, password=form.password.data, role=form.role.data,
                now=utcnow(), neighbourhood_slugs=form.ints.data or [],
                site_codes=form.sites.data or [],
            )
        except users.AccountError as error:
            db.rollback()  # the user may have been flushed before the scopes failed
            form[error.field or "email"].errors = [str(error)]
        else:
            audit.record(db, user_id=current_user.id, action="users.create", target=user.email,
                         now=utcnow())
            db.commit()
            flash(f"Created {user.role} {user.email}. Give them their first password in person "
                  "and ask them to change it.")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=users.list_users(db)), \
        400 if form.errors else 200


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
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
        form.ints.data, form.sites.data = users.scope_codes(db, user=user)
    elif form.validate():
        try:
            users.update_user(db, user=user, role=form.role.data, active=form.active.data,
                                 neighbourhood_slugs=form.ints.data or [],
                                 site_codes=form.sites.data or [], acting_user_id=current_user.id)
        except users.AccountError as error:
            db.rollback()
            form[error.field or "role"].errors = [str(error)]
        else:
            audit.record(db, user_id=current_user.id, action="users.update",
                         target=user.email, now=utcnow())
            db.commit()
            flash(f"Saved {user.email}.")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, reset=reset, user=user), \
        400 if form.errors else 200


@bp.post("/users/<int(max=2147483647):user_id>/password")
@role_required("admin")
def reset_password(user_id: int) -> ResponseReturnValue:
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    reset = ResetPasswordForm(prefix="reset")
    if reset.validate_on_submit():
        try:
            users.set_password(db, user=user, password=reset.password.data)
        except users.AccountError as error:
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


@bp.post("/kiosks/<int(max=2147483647):kiosk_id>/revoke")
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
    neighbourhood = teams.find_neighbourhood(db, slug=slug)
    if neighbourhood is None:
        abort(404)
    form = IntSettingsForm(obj=neighbourhood)
    if form.validate_on_submit():
        teams.update_settings(
            db, neighbourhood=neighbourhood,
            low_activation_prompt=form.low_activation_prompt.data or "",
            invitation_gap_days=form.invitation_gap_days.data,
            max_messages_per_wave=form.max_messages_per_wave.data,
            action_stages=form.action_stages.data)
        audit.record(db, user_id=current_user.id, action="int.settings", target=slug,
                     now=utcnow())
        db.commit()
        flash("Saved.")
        return redirect(url_for("admin.int_settings", slug=slug))
    return render_template("admin/int.html", form=form, neighbourhood=neighbourhood), \
        400 if form.errors else 200


# --- schedules -----------------------------------------------------------------------


def _schedule_choices(form: ScheduleForm) -> None:
    db = get_session()
    form.neighbourhood.choices = [SelectChoice(n.slug, n.name)
                                  for n in teams.list_neighbourhoods(db)]
    form.team.choices = [SelectChoice(EVERY_TEAM, "Every team of the INT")] + [
        SelectChoice(str(team.id), team.name, optgroup=neighbourhood.name)
        for team, neighbourhood in teams.teams_with_neighbourhoods(db)]


def _items_per_pulse() -> int:
    return int(current_app.extensions["pulse_instruments"]["team-pulse"].items_per_pulse)


def _settings(form: ScheduleForm) -> schedules.ScheduleSettings:
    by_weeks = form.cadence_kind.data == "weeks"
    return schedules.ScheduleSettings(
        cadence_kind=form.cadence_kind.data,
        every_weeks=form.every_weeks.data if by_weeks else None,
        weekday=form.weekday.data, nth=None if by_weeks else form.nth.data,
        send_time=form.send_time.data, window_days=form.window_days.data,
        reminder=form.reminder.data == "yes", quiet_start=form.quiet_start.data,
        quiet_end=form.quiet_end.data, weekends_allowed=form.weekends_allowed.data,
        start_date=form.start_date.data, end_date=form.end_date.data,
    )


def _burden_in_words(figures: Burden) -> str:
    return (f"each person gets {figures.invitations_per_year:.0f} invitations a year and at "
            f"most {figures.messages_per_year:.0f} messages, and spends about "
            f"{figures.minutes_per_year:.0f} minutes a year answering")


@bp.route("/schedules", methods=["GET", "POST"])
@role_required("admin")
def schedule_list() -> ResponseReturnValue:
    db = get_session()
    form = ScheduleForm()
    _schedule_choices(form)
    figures: Burden | None = None
    problem: str | None = None
    if form.validate_on_submit():
        neighbourhood = teams.find_neighbourhood(db, slug=form.neighbourhood.data)
        if neighbourhood is None:
            abort(404)
        team = None if form.team.data == EVERY_TEAM else db.get(Team, int(form.team.data))
        if form.team.data != EVERY_TEAM and (team is None
                                             or team.neighbourhood_id != neighbourhood.id):
            form.team.errors = [f"{team.name if team else 'That team'} is not a team of "
                                f"{neighbourhood.name}: choose one of its teams, or every team"]
        elif form.save.data:
            try:
                schedule, figures = schedules.set_schedule(
                    db, neighbourhood=neighbourhood, team=team, settings=_settings(form),
                    items_per_pulse=_items_per_pulse(), now=utcnow())
            except schedules.ScheduleError as error:
                problem = str(error)
            else:
                audit.record(db, user_id=current_user.id, action="schedule.set",
                             target=str(schedule.id), now=utcnow())
                db.commit()
                scope = team.name if team else f"every team of {neighbourhood.name}"
                flash(f"Saved the schedule for {scope}: {_burden_in_words(figures)}.")
                return redirect(url_for("admin.schedule_list"))
        else:
            try:
                figures = schedules.check(_settings(form), items_per_pulse=_items_per_pulse(),
                                          min_gap_days=neighbourhood.invitation_gap_days)
            except schedules.ScheduleError as error:
                problem = str(error)
    rows = [(schedule, neighbourhood, team, tick.cadence_of(schedule).describe())
            for schedule, neighbourhood, team in schedules.list_schedules(db)]
    return render_template("admin/schedules.html", form=form, schedules=rows, burden=figures,
                           problem=problem), 400 if form.errors or problem else 200


@bp.post("/schedules/<int(max=2147483647):schedule_id>/<any(pause, resume):action>")
@role_required("admin")
def schedule_active(schedule_id: int, action: str) -> ResponseReturnValue:
    db = get_session()
    try:
        schedule = schedules.set_active(db, schedule_id=schedule_id, active=action == "resume")
    except schedules.ScheduleError:
        abort(404)
    audit.record(db, user_id=current_user.id, action=f"schedule.{action}",
                 target=str(schedule_id), now=utcnow())
    db.commit()
    # The scheduler catches up a missed opening once, late, if its window has not passed.
    flash("Resumed: pulses open again when due. One missed while paused opens straight away, "
          "late, if its window has not passed." if schedule.active else
          "Paused: no new pulses open until it is resumed. Open pulses carry on.")
    return redirect(url_for("admin.schedule_list"))


# --- rosters ---------------------------------------------------------------------------


@bp.route("/roster", methods=["GET", "POST"])
@role_required("admin")
def roster_upload() -> ResponseReturnValue:
    db = get_session()
    form = RosterForm()
    form.neighbourhood.choices = [SelectChoice(n.slug, n.name)
                                  for n in teams.list_neighbourhoods(db)]
    problems: tuple[roster.RosterRowError, ...] = ()
    if form.validate_on_submit():
        neighbourhood = teams.find_neighbourhood(db, slug=form.neighbourhood.data)
        if neighbourhood is None:
            abort(404)
        parsed = roster.parse_roster(
            form.roster.data.stream,
            known_teams=roster_import_service.known_teams(db, neighbourhood=neighbourhood))
        try:
            report = roster_import_service.import_roster(db, neighbourhood=neighbourhood,
                                                         parsed=parsed)
        except roster_import_service.RosterError as error:
            problems = error.errors
            db.rollback()
        else:
            audit.record(db, user_id=current_user.id, action="roster.import",
                         target=neighbourhood.slug, now=utcnow(),
                         detail={"created": report.created, "updated": report.updated})
            db.commit()
            flash(f"Imported the roster for {neighbourhood.name}: {report.summary()}.")
            return redirect(url_for("admin.roster_upload"))
    return render_template("admin/roster.html", form=form, problems=problems[:PROBLEMS_SHOWN],
                           more=max(0, len(problems) - PROBLEMS_SHOWN)), \
        400 if form.errors or problems else 200


@bp.get("/roster/sample.csv")
@role_required("admin")
def roster_sample() -> ResponseReturnValue:
    if not ROSTER_SAMPLE.is_file():
        abort(404)
    return send_file(ROSTER_SAMPLE, mimetype="text/csv", as_attachment=True,
                     download_name="roster-sample.csv")


# --- messages --------------------------------------------------------------------------


def _page() -> int:
    page = request.args.get("page", 1, type=int)
    # Database integers stop at 2**31: a larger page number is simply not a page.
    if page is None or not 1 <= page <= 1_000_000:
        abort(404)
    return page


@bp.get("/outbox")
@private_page  # the bodies carry people's personal links
@role_required("admin")
def outbox() -> ResponseReturnValue:
    db = get_session()
    found = messages.outbox_page(db, number=_page())
    if found.number > 1 and not found.items:
        abort(404)
    configured = bool(current_app.config.get("PULSE_SMTP") or current_app.config.get(
        "PULSE_NOTIFY"))
    return render_template("admin/outbox.html", messages=found.items, total=found.total,
                           page=found.number, pages=found.pages,
                           counts=dispatch.message_counts(db), configured=configured)


@bp.get("/messages")
@role_required("admin")
def messages_needing_attention() -> ResponseReturnValue:
    db = get_session()
    found = messages.needing_attention(db, number=_page())
    if found.number > 1 and not found.items:
        abort(404)
    return render_template("admin/messages.html", rows=found.items, total=found.total,
                           page=found.number, pages=found.pages,
                           counts=dispatch.message_counts(db))


# --- audit log -----------------------------------------------------------------------

AUDIT_FILTERS = {"": "Everything", "report.": "Report views and downloads",
                 "export.": "FHIR exports", "api.": "API use", "action.": "Action log",
                 "auth.": "Sign-ins and passwords", "users.": "User changes"}


@bp.get("/audit")
@role_required("admin")
def audit_log() -> ResponseReturnValue:
    """Who looked at, exported or changed what, and when (never an answer)."""
    kind = request.args.get("kind", "")
    if kind not in AUDIT_FILTERS:
        abort(404)
    found = audit.audit_page(get_session(), number=_page(), action_prefix=kind)
    if found.number > 1 and not found.items:
        abort(404)
    return render_template("admin/audit.html", rows=found.items, total=found.total,
                           page=found.number, pages=found.pages, kind=kind,
                           filters=AUDIT_FILTERS)
