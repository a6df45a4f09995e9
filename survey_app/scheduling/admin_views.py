"""Admin pages for the programme: schedules, rosters, and the messages it sends
(under /admin, on a blueprint of scheduling's own)."""

from __future__ import annotations

import re
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
from markupsafe import Markup, escape
from sqlmodel import Session
from wtforms import SelectChoice

from survey_app.accounts.access import role_required
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import team_pulse
from survey_app.core.security import private_page
from survey_app.core.templating import form_errors
from survey_app.models import Neighbourhood, Team
from survey_app.pulse import teams
from survey_app.scheduling import dispatch, messages, roster, schedules, tick
from survey_app.scheduling import roster_import as roster_import_service
from survey_app.scheduling.cadence import Burden
from survey_app.scheduling.forms import (
    EVERY_TEAM,
    ChooseIntForm,
    ResendForm,
    RosterForm,
    ScheduleForm,
)

bp = Blueprint("scheduling_admin", __name__, url_prefix="/admin")

# A file with thousands of bad rows needs fixing at its source, not reading here in full.
PROBLEMS_SHOWN = 200
ROSTER_SAMPLE = Path(__file__).resolve().parents[1] / "static" / "roster-sample.csv"


# What may follow the base URL in a link of ours: a path and query of URL-safe characters
# (tokens are URL-safe base64). Not followed by a character that would make it another
# host ("http://pulse.test.evil.example", "http://pulse.test@evil.example", a port).
_OWN_PATH = r"(?:/[A-Za-z0-9\-._~/?=&%+]*)?(?![A-Za-z0-9\-._~:@/])"
# A full stop or comma ending a sentence is not part of the link.
_TRAILING = ".,;:?!"


def own_links(text: str) -> Markup:
    """``text`` escaped, with each link to this app (``PULSE_BASE_URL``) made clickable.

    Only our own links: an outbox body is text we wrote around a person's link, but a
    name or a free-text field inside it could carry anything, so nothing else becomes
    markup."""
    pattern = re.escape(current_app.config["PULSE_BASE_URL"]) + _OWN_PATH
    parts: list[str] = []
    shown = 0
    for found in re.finditer(pattern, text):
        link = found.group(0).rstrip(_TRAILING)
        parts += [escape(text[shown:found.start()]),
                  Markup('<a href="{0}">{0}</a>').format(link)]
        shown = found.start() + len(link)
    parts.append(escape(text[shown:]))
    return Markup("").join(parts)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"own_links": own_links}


def page_number() -> int:
    """The ``?page=`` of a paged admin list; 404 for one that cannot be a page."""
    page = request.args.get("page", 1, type=int)
    # Database integers stop at 2**31: a larger page number is simply not a page.
    if page is None or not 1 <= page <= 1_000_000:
        abort(404)
    return page


# --- schedules -----------------------------------------------------------------------


def _team_choices(form: ScheduleForm, session: Session, neighbourhood: Neighbourhood) -> None:
    form.team.choices = [SelectChoice(EVERY_TEAM, "Every team of the INT")] + [
        SelectChoice(str(team.id), team.name)
        for team, owner in teams.teams_with_neighbourhoods(session)
        if owner.id == neighbourhood.id]


def _chosen_neighbourhood(session: Session, form: ScheduleForm, choose: ChooseIntForm,
                          neighbourhoods: list[Neighbourhood]) -> Neighbourhood | None:
    """The INT whose schedule is being set: posted with the form, else ``?int=``, else the
    only one there is. None (with the reason on ``choose``) when it is still to be chosen."""
    if form.is_submitted():
        found = teams.find_neighbourhood(session, slug=request.form.get("neighbourhood", ""))
        if found is None:
            choose.neighbourhood.errors = ["Choose an INT from the list"]
        return found
    if "int" in request.args:
        if not choose.validate():
            return None
        return teams.find_neighbourhood(session, slug=choose.neighbourhood.data)
    return neighbourhoods[0] if len(neighbourhoods) == 1 else None


def _posted_team(session: Session, form: ScheduleForm,
                 neighbourhood: Neighbourhood) -> Team | None:
    """The posted team (None for every team); an error on the field if it is not the INT's.

    Only the INT's teams are offered, so another one here is a stale or forged form."""
    value = form.team.data or EVERY_TEAM
    if value == EVERY_TEAM:
        return None
    is_id = value.isascii() and value.isdigit() and len(value) <= 10
    team = session.get(Team, int(value)) if is_id and int(value) < 2**31 else None
    if team is None or team.neighbourhood_id != neighbourhood.id:
        form.team.errors = [f"{team.name if team else 'That team'} is not a team of "
                            f"{neighbourhood.name}: choose one of its teams, or every team"]
    return team


def _items_per_pulse() -> int:
    return int(team_pulse().items_per_pulse)


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


def _save_schedule(session: Session, form: ScheduleForm, neighbourhood: Neighbourhood,
                   team: Team | None) -> ResponseReturnValue:
    """Save, commit and redirect; raises ScheduleError (nothing saved) for bad settings."""
    schedule, figures = schedules.set_schedule(
        session, neighbourhood=neighbourhood, team=team, settings=_settings(form),
        items_per_pulse=_items_per_pulse(), now=utcnow())
    audit.record(session, user_id=current_user.id, action="schedule.set",
                 target=str(schedule.id), now=utcnow())
    session.commit()
    scope = team.name if team else f"every team of {neighbourhood.name}"
    flash(f"Saved the schedule for {scope}: {_burden_in_words(figures)}.")
    return redirect(url_for("scheduling_admin.schedule_list", int=neighbourhood.slug))


@bp.route("/schedules", methods=["GET", "POST"])
@role_required("admin")
def schedule_list() -> ResponseReturnValue:
    session = get_session()
    neighbourhoods = teams.list_neighbourhoods(session)
    form = ScheduleForm()
    choose = ChooseIntForm(formdata=request.args)
    form.neighbourhood.choices = choose.neighbourhood.choices = [
        SelectChoice(n.slug, n.name) for n in neighbourhoods]
    chosen = _chosen_neighbourhood(session, form, choose, neighbourhoods)
    if chosen is not None:
        _team_choices(form, session, chosen)
    figures: Burden | None = None
    problem: str | None = None
    if chosen is not None and form.validate_on_submit():
        team = _posted_team(session, form, chosen)
        if not form.team.errors:
            try:
                if form.save.data:
                    return _save_schedule(session, form, chosen, team)
                figures = schedules.check(_settings(form), items_per_pulse=_items_per_pulse(),
                                          min_gap_days=chosen.invitation_gap_days)
            except schedules.ScheduleError as error:
                problem = str(error)
    rows = [(schedule, neighbourhood, team, tick.cadence_of(schedule).describe())
            for schedule, neighbourhood, team in schedules.list_schedules(session)]
    errors = (form_errors(form) if chosen is not None else form_errors(choose)) + (
        [("schedule-form", problem)] if problem else [])
    return render_template("admin/schedules.html", form=form, choose=choose, chosen=chosen,
                           several=len(neighbourhoods) > 1, schedules=rows, burden=figures,
                           problem=problem, errors=errors), 400 if errors else 200


@bp.post("/schedules/<int(max=2147483647):schedule_id>/<any(pause, resume):action>")
@role_required("admin")
def schedule_active(schedule_id: int, action: str) -> ResponseReturnValue:
    session = get_session()
    try:
        schedule = schedules.set_active(session, schedule_id=schedule_id, active=action == "resume")
    except schedules.ScheduleError:
        abort(404)
    audit.record(session, user_id=current_user.id, action=f"schedule.{action}",
                 target=str(schedule_id), now=utcnow())
    session.commit()
    # The scheduler catches up a missed opening once, late, if its window has not passed.
    flash("Resumed: pulses open again when due. One missed while paused opens straight away, "
          "late, if its window has not passed." if schedule.active else
          "Paused: no new pulses open until it is resumed. Open pulses carry on.")
    return redirect(url_for("scheduling_admin.schedule_list"))


# --- rosters ---------------------------------------------------------------------------


@bp.route("/roster", methods=["GET", "POST"])
@role_required("admin")
def roster_upload() -> ResponseReturnValue:
    session = get_session()
    form = RosterForm()
    form.neighbourhood.choices = [SelectChoice(n.slug, n.name)
                                  for n in teams.list_neighbourhoods(session)]
    problems: tuple[roster.RosterRowError, ...] = ()
    if form.validate_on_submit():
        neighbourhood = teams.find_neighbourhood(session, slug=form.neighbourhood.data)
        if neighbourhood is None:
            abort(404)
        parsed = roster.parse_roster(
            form.roster.data.stream,
            known_teams=roster_import_service.known_teams(session, neighbourhood=neighbourhood))
        try:
            report = roster_import_service.import_roster(session, neighbourhood=neighbourhood,
                                                         parsed=parsed)
        except roster_import_service.RosterError as error:
            problems = error.errors
            session.rollback()
        else:
            audit.record(session, user_id=current_user.id, action="roster.import",
                         target=neighbourhood.slug, now=utcnow(),
                         detail={"created": report.created, "updated": report.updated})
            session.commit()
            flash(f"Imported the roster for {neighbourhood.name}: {report.summary()}.")
            return redirect(url_for("scheduling_admin.roster_upload"))
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


@bp.get("/outbox")
@private_page  # the bodies carry people's personal links
@role_required("admin")
def outbox() -> ResponseReturnValue:
    session = get_session()
    found = messages.outbox_page(session, number=page_number())
    if found.number > 1 and not found.items:
        abort(404)
    configured = bool(current_app.config.get("PULSE_SMTP") or current_app.config.get(
        "PULSE_NOTIFY"))
    return render_template("admin/outbox.html", messages=found.items, total=found.total,
                           page=found.number, pages=found.pages,
                           counts=dispatch.message_counts(session), configured=configured)


@bp.get("/messages")
@role_required("admin")
def messages_needing_attention() -> ResponseReturnValue:
    session = get_session()
    found = messages.needing_attention(session, number=page_number(), now=utcnow())
    if found.number > 1 and not found.items:
        abort(404)
    return render_template("admin/messages.html", rows=found.items, total=found.total,
                           page=found.number, pages=found.pages,
                           counts=dispatch.message_counts(session))


@bp.post("/messages/resend")
@role_required("admin")
def message_resend() -> ResponseReturnValue:
    """Queue one "unknown" message to be sent again: the admin's choice, never automatic."""
    session = get_session()
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    now = utcnow()
    try:
        message = dispatch.resend_unknown(session, message_id=int(form.message_id.data),
                                          now=now)
    except dispatch.ResendRefused as refused:
        session.rollback()
        flash(str(refused))
    else:
        audit.record(session, user_id=current_user.id, action="message.resend",
                     target=str(message.id), now=now,
                     detail={"kind": message.kind, "wave_id": message.wave_id})
        session.commit()
        flash(f"The {message.kind} is queued to be sent again: the scheduler sends it within "
              "a minute or so, outside quiet hours.")
    return redirect(url_for("scheduling_admin.messages_needing_attention"))
