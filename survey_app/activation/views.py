"""Clinicians record activation inside the consultation; staff print QR posters."""

from __future__ import annotations

from datetime import datetime

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask import (
    session as browser_session,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectChoice

from survey_app.accounts import users
from survey_app.accounts.access import role_required
from survey_app.activation import ratings
from survey_app.activation.forms import RecordForm, new_idempotency_key
from survey_app.activation.nhs_number import NhsNumberError
from survey_app.activation.ratings import RatingError, RatingInput
from survey_app.activation.sites import find_site
from survey_app.core.clock import as_utc, local_date, utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import instrument
from survey_app.models import CONSULTATION_TYPES, Neighbourhood, Site

bp = Blueprint("activation", __name__)

def _labels() -> dict[int, str]:
    return ratings.rating_labels(instrument(ratings.ACTIVATION))


@bp.route("/activation/record", methods=["GET", "POST"])
@role_required("recorder")
def record() -> ResponseReturnValue:
    session = get_session()
    sites = users.recordable_sites(session, user=current_user.user)
    if not sites:
        abort(403)
    form = RecordForm()
    form.site.choices = [SelectChoice(site.code, site.name) for site in sites]
    if not form.is_submitted():
        # Site and consultation type are remembered for the session: the
        # common case is then one tap on the answer.
        form.site.data = browser_session.get("record_site", sites[0].code)
        form.consultation_type.data = browser_session.get("record_consultation", "gp")
        form.idempotency_key.data = new_idempotency_key()
    elif form.validate():
        site = next(s for s in sites if s.code == form.site.data)
        try:
            recorded = ratings.record_activation(
                session, entry=RatingInput(
                    site=site, channel="clinician", rating=int(form.rating.data),
                    on=local_date(utcnow()), idempotency_key=form.idempotency_key.data,
                    consultation_type=form.consultation_type.data, proxy=form.proxy.data,
                    nhs_number=(form.nhs_number.data or "").strip() or None,
                ),
                instrument=instrument(ratings.ACTIVATION),
                pseudonym_key=current_app.config["PULSE_PSEUDONYM_KEY"],
                user_id=current_user.id, now=utcnow(),
            )
        except (RatingError, NhsNumberError) as error:
            form.nhs_number.errors = [str(error)]
        else:
            session.commit()
            browser_session["record_site"] = site.code
            browser_session["record_consultation"] = form.consultation_type.data
            browser_session["last_rating"] = {
                "id": recorded.rating.id, "rating": recorded.rating.rating,
                "at": utcnow().isoformat(), "site": site.code}
            return redirect(url_for("activation.record"))
    if not form.idempotency_key.data:
        form.idempotency_key.data = new_idempotency_key()
    # An NHS number, even a mistyped one, is never shown back on a page.
    form.nhs_number.data = ""
    return render_template(
        "activation/record.html", form=form, sites=sites, last=_last_entry(),
        labels=_labels(), consultation_types=CONSULTATION_TYPES,
    ), 400 if form.errors else 200


def _last_entry() -> dict[str, object] | None:
    """The last rating this session saved, while it can still be undone."""
    last = browser_session.get("last_rating")
    if not last:
        return None
    age = utcnow() - as_utc(datetime.fromisoformat(last["at"]))
    if age > ratings.UNDO_WINDOW:
        browser_session.pop("last_rating", None)
        return None
    site = find_site(get_session(), code=last["site"])
    neighbourhood = get_session().get(Neighbourhood, site.neighbourhood_id) if site else None
    prompt = (ratings.low_activation_prompt(neighbourhood)
              if neighbourhood and last["rating"] <= 2 else None)
    return {**last, "label": _labels()[last["rating"]], "prompt": prompt}


@bp.post("/activation/undo")
@role_required("recorder")
def undo() -> ResponseReturnValue:
    last = browser_session.pop("last_rating", None)
    session = get_session()
    if last and ratings.undo_rating(session, rating_id=last["id"], user_id=current_user.id,
                                       now=utcnow()):
        session.commit()
        flash(f"Undone: the rating {last['rating']} ({_labels()[last['rating']]}) was removed.")
    else:
        flash("That rating can no longer be undone (undo lasts 5 minutes).")
    return redirect(url_for("activation.record"))


@bp.get("/activation/posters")
@role_required("recorder", "lead")
def posters() -> ResponseReturnValue:
    sites = users.recordable_sites(get_session(), user=current_user.user)
    return render_template("activation/posters.html", sites=sites)


@bp.get("/sites/<code>/poster")
@role_required("recorder", "lead")
def poster(code: str) -> ResponseReturnValue:
    sites = users.recordable_sites(get_session(), user=current_user.user)
    site: Site | None = next((s for s in sites if s.code == code.upper()), None)
    if site is None:
        abort(404)
    url = f"{current_app.config['PULSE_BASE_URL']}/q/{site.code}"
    qr_svg = segno.make(url, error="m").svg_inline(scale=8, border=2, omitsize=True,
                                                   title=f"QR code for {url}")
    return render_template("activation/poster.html", site=site, url=url, qr_svg=qr_svg,
                           question=instrument(ratings.ACTIVATION).item("activation"))
