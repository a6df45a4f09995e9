"""Patients rate themselves: on a waiting-room kiosk or on their own phone by QR code.

Neither path ever shows a previous answer: after a rating the browser is sent
on (post/redirect/get) to pages that hold no answer, every page is marked
``no-store`` so Back re-fetches it, and the kiosk resets itself.

A kiosk step after the first is never left waiting for the next patient: after
``PULSE_KIOSK_TIMEOUT_SECONDS`` without a tap the page goes back to the start
(kiosk.js, with a warning and "I'm still here" 20 seconds before). Without
JavaScript each step has a "New patient" button, and a tap on a step shown longer
ago than the timeout stores nothing and starts again, saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as browser_session,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectChoice

from survey_app.accounts.access import role_required
from survey_app.activation import ratings, sites
from survey_app.activation.forms import (
    EnrolKioskForm,
    ExperienceForm,
    PatientRatingForm,
    new_idempotency_key,
)
from survey_app.activation.ratings import RatingError, RatingInput
from survey_app.core import audit
from survey_app.core.clock import local_date, utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import instrument, limiter
from survey_app.core.security import private_page
from survey_app.models import Site

bp = Blueprint("patient", __name__)

KIOSK_COOKIE = "pulse_kiosk"
KIOSK_COOKIE_DAYS = 400
QR_COOKIE = "pulse_qr"
THANKS_SECONDS = 6
KIOSK_WARNING_SECONDS = 20  # WCAG 2.2.1: at least 20 seconds to ask for more time
# Session keys: when the current kiosk step was shown (epoch seconds), and a note for
# the start page that an abandoned step was started again.
KIOSK_SHOWN = "kiosk_shown"
KIOSK_RESTARTED = "kiosk_restarted"


def _signer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=purpose)


# --- kiosk ------------------------------------------------------------------


@bp.route("/kiosk/enrol", methods=["GET", "POST"])
@role_required("admin")
def enrol_kiosk() -> ResponseReturnValue:
    session = get_session()
    form = EnrolKioskForm()
    form.site.choices = [SelectChoice("", "Choose a site")] + [
        SelectChoice(s.code, f"{s.name} ({s.code})") for s in sites.all_sites(session)]
    if form.validate_on_submit():
        site = sites.find_site(session, code=form.site.data)
        if site is None:
            abort(404)
        try:
            kiosk, secret = sites.enrol_kiosk(session, site=site, name=form.name.data or "",
                                              ask_experience=form.ask_experience.data,
                                              now=utcnow())
        except sites.SiteError as error:
            form[error.field or "name"].errors = [str(error)]
            return render_template("activation/enrol.html", form=form), 400
        audit.record(session, user_id=current_user.id, action="kiosk.enrol",
                     target=str(kiosk.id), now=utcnow())
        session.commit()
        # The tablet is handed to patients next: nobody stays signed in on it.
        logout_user()
        browser_session.clear()
        response = redirect(url_for("patient.kiosk"))
        response.set_cookie(
            KIOSK_COOKIE, _signer("kiosk").dumps(secret), max_age=KIOSK_COOKIE_DAYS * 86400,
            httponly=True, samesite="Strict", secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        return response
    return render_template("activation/enrol.html", form=form), 400 if form.errors else 200


def kiosk_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only an enrolled, unrevoked tablet reaches the view (``g.kiosk``, ``g.site``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = request.cookies.get(KIOSK_COOKIE)
        if raw is None:
            return render_template("activation/kiosk_not_enrolled.html", revoked=False), 403
        try:
            secret = _signer("kiosk").loads(raw)
        except BadSignature:
            return render_template("activation/kiosk_not_enrolled.html", revoked=False), 403
        found = sites.active_kiosk(get_session(), secret=secret)
        if found is None:
            return render_template("activation/kiosk_not_enrolled.html", revoked=True), 403
        g.kiosk, g.site = found
        return view(*args, **kwargs)

    return wrapper


@bp.route("/kiosk", methods=["GET", "POST"])
@kiosk_required
@private_page
def kiosk() -> ResponseReturnValue:
    restarted = False
    if request.method == "GET":
        # The start of a new patient: whatever the previous one left unanswered is gone.
        if "experience_key" in browser_session:
            del browser_session["experience_key"]
        restarted = bool(browser_session.pop(KIOSK_RESTARTED, False))
    return _rate(channel="kiosk", site=g.site, next_step="patient.kiosk_experience"
                 if g.kiosk.ask_experience else "patient.kiosk_thanks", restarted=restarted)


@bp.route("/kiosk/experience", methods=["GET", "POST"])
@kiosk_required
@private_page
def kiosk_experience() -> ResponseReturnValue:
    return _experience(channel="kiosk", site=g.site, thanks="patient.kiosk_thanks",
                       start="patient.kiosk")


@bp.get("/kiosk/thanks")
@kiosk_required
@private_page
def kiosk_thanks() -> ResponseReturnValue:
    return render_template("activation/thanks.html", kiosk=True, site=g.site,
                           seconds=THANKS_SECONDS,
                           again=url_for("patient.kiosk"), **_kiosk_timing())


def _kiosk_timing() -> dict[str, Any]:
    """What a kiosk step's template needs to start again by itself."""
    return {"start": url_for("patient.kiosk"),
            "timeout": current_app.config["PULSE_KIOSK_TIMEOUT_SECONDS"],
            "warning": KIOSK_WARNING_SECONDS}


def _kiosk_step_shown() -> None:
    browser_session[KIOSK_SHOWN] = int(utcnow().timestamp())


def _kiosk_step_expired() -> bool:
    """Was this kiosk step shown longer ago than the timeout? (Unknown: no.)"""
    shown = browser_session.get(KIOSK_SHOWN)
    if not isinstance(shown, int):
        return False
    return utcnow().timestamp() - shown > current_app.config["PULSE_KIOSK_TIMEOUT_SECONDS"]


# --- QR code on the patient's own phone ----------------------------------------


def _qr_site(code: str) -> Site:
    site = sites.find_site(get_session(), code=code)
    if site is None:
        abort(404)
    return site


def _answered_today(site: Site) -> bool:
    try:
        seen = _signer("qr").loads(request.cookies.get(QR_COOKIE, ""))
    except BadSignature:
        return False
    return isinstance(seen, dict) and seen.get(site.code) == local_date(utcnow()).isoformat()


def _qr_limit() -> str:
    return str(current_app.config["PULSE_QR_LIMIT"])


@bp.route("/q/<code>", methods=["GET", "POST"])
@limiter.limit(_qr_limit, methods=["POST"])
@private_page
def qr(code: str) -> ResponseReturnValue:
    site = _qr_site(code)
    if _answered_today(site):
        return render_template("activation/qr_already.html", site=site)
    response = _rate(channel="qr", site=site, next_step="patient.qr_experience")
    if isinstance(response, WerkzeugResponse) and response.status_code == 302:
        # One answer per device per day: enough to stop casual ballot-stuffing
        # without asking patients to sign in.
        today = local_date(utcnow()).isoformat()
        response.set_cookie(QR_COOKIE, _signer("qr").dumps({site.code: today}),
                            max_age=86400, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/q/<code>/experience", methods=["GET", "POST"])
@limiter.limit(_qr_limit, methods=["POST"])
@private_page
def qr_experience(code: str) -> ResponseReturnValue:
    site = _qr_site(code)
    return _experience(channel="qr", site=site, thanks="patient.qr_thanks", start="patient.qr",
                       code=site.code)


@bp.get("/q/<code>/thanks")
@private_page
def qr_thanks(code: str) -> ResponseReturnValue:
    return render_template("activation/thanks.html", kiosk=False, site=_qr_site(code))


# --- shared steps --------------------------------------------------------------


def _rate(*, channel: str, site: Site, next_step: str,
          restarted: bool = False) -> ResponseReturnValue:
    form = PatientRatingForm()
    easy_read = request.values.get("easy") == "1" or form.easy_read.data == "1"
    if not form.is_submitted():
        form.idempotency_key.data = new_idempotency_key()
    elif form.validate():
        session = get_session()
        try:
            ratings.record_activation(
                session, entry=RatingInput(site=site, channel=channel, rating=int(form.rating.data),
                                      on=local_date(utcnow()), easy_read=easy_read,
                                      idempotency_key=form.idempotency_key.data),
                instrument=instrument(ratings.ACTIVATION), pseudonym_key=None,
                user_id=None, now=utcnow(),
            )
        except RatingError as error:
            form.rating.errors = [str(error)]
        else:
            if channel == "kiosk":
                sites.mark_kiosk_used(session, kiosk=g.kiosk, now=utcnow())
            session.commit()
            # The follow-up question carries its own one-time key, held in the
            # session: it never holds the answer just given.
            browser_session["experience_key"] = new_idempotency_key()
            if channel == "kiosk":
                _kiosk_step_shown()
            return redirect(url_for(next_step, **_code_arg(channel, site)))
    if not form.idempotency_key.data:
        form.idempotency_key.data = new_idempotency_key()
    form.easy_read.data = "1" if easy_read else ""
    # The first question waits for the next patient as long as need be; it starts
    # again by itself only when it shows something of the last one's visit.
    timing = (_kiosk_timing() if channel == "kiosk" and (easy_read or restarted or form.errors)
              else {})
    return render_template(
        "activation/patient_rate.html", form=form, site=site, channel=channel,
        easy_read=easy_read, item=instrument(ratings.ACTIVATION).item("activation"),
        restarted=restarted, **timing,
    ), 400 if form.errors else 200


def _experience(*, channel: str, site: Site, thanks: str, start: str,
                **url_args: str) -> ResponseReturnValue:
    key = browser_session.get("experience_key")
    if key is None:  # reached by Back or bookmark: nothing to answer here
        return redirect(url_for(start, **url_args))
    kiosk = channel == "kiosk"
    if kiosk and request.method == "POST" and _kiosk_step_expired():
        # Left too long: this tap is someone else's, and the question was the last
        # patient's. Store nothing; the next patient starts at the first question.
        browser_session.pop("experience_key", None)
        browser_session[KIOSK_RESTARTED] = True
        return redirect(url_for(start, **url_args))
    item = instrument(ratings.EXPERIENCE).item("experience")
    form = ExperienceForm()
    form.answer.choices = [SelectChoice(option.value, option.label) for option in item.options]
    if request.method == "POST" and request.form.get("skip"):
        browser_session.pop("experience_key", None)
        return redirect(url_for(thanks, **url_args))
    if form.validate_on_submit():
        session = get_session()
        ratings.record_experience(session, site=site, channel=channel, answer=form.answer.data,
                                     on=local_date(utcnow()), idempotency_key=key,
                                     instrument=instrument(ratings.EXPERIENCE))
        session.commit()
        browser_session.pop("experience_key", None)
        return redirect(url_for(thanks, **url_args))
    if kiosk:
        _kiosk_step_shown()
    return render_template("activation/patient_experience.html", form=form, item=item,
                           site=site, kiosk=kiosk, **(_kiosk_timing() if kiosk else {}),
                           ), 400 if form.errors else 200


def _code_arg(channel: str, site: Site) -> dict[str, str]:
    return {"code": site.code} if channel == "qr" else {}

