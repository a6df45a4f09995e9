"""Clinicians record activation inside the consultation; staff print QR posters."""

from __future__ import annotations

from datetime import datetime

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
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
from survey_app.activation.forms import (
    CHOOSE_SITE_FIRST,
    NHS_NUMBER_LENGTH,
    RecordForm,
    RecordSiteForm,
    new_idempotency_key,
)
from survey_app.activation.nhs_number import NhsNumberError
from survey_app.activation.pseudonyms import keys_from_config
from survey_app.activation.ratings import RatingError, RatingInput
from survey_app.activation.sites import find_site
from survey_app.core.clock import as_utc, local_date, utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import instrument
from survey_app.core.templating import form_errors
from survey_app.models import CONSULTATION_TYPES, Neighbourhood, Site

bp = Blueprint("activation", __name__)

def _labels() -> dict[int, str]:
    return ratings.rating_labels(instrument(ratings.ACTIVATION))


# What is wrong with a mistyped NHS number, in plain words (NhsNumberError.reason).
NHS_NUMBER_REASONS = {
    "not_digits": NHS_NUMBER_LENGTH,
    "length": NHS_NUMBER_LENGTH,
    "check_digit": "This is not a valid NHS number: check the last digit",
}


@bp.route("/activation/record", methods=["GET", "POST"])
@role_required("recorder")
def record() -> ResponseReturnValue:
    session = get_session()
    sites = users.recordable_sites(session, user=current_user.user)
    if not sites:
        abort(403)
    if request.method == "POST" and "choose_site" in request.form:
        return _choose_site(sites)
    form = RecordForm()
    form.site.choices = [SelectChoice(site.code, site.name) for site in sites]
    if not form.is_submitted():
        # The consultation type is remembered for the session; the site is never
        # guessed (see _chosen_site): the common case is then one tap on the answer.
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
                pseudonym_key=keys_from_config(current_app.config),
                user_id=current_user.id, now=utcnow(),
            )
        except NhsNumberError as error:
            form.nhs_number.errors = [NHS_NUMBER_REASONS.get(error.reason, str(error))]
        except RatingError as error:
            form.nhs_number.errors = [str(error)]
        else:
            session.commit()
            browser_session["record_site"] = site.code
            browser_session["record_consultation"] = form.consultation_type.data
            browser_session["last_rating"] = {
                "id": recorded.rating.id, "rating": recorded.rating.rating,
                "at": utcnow().isoformat(), "site": site.code}
            return redirect(url_for("activation.record"))
    elif not form.site.data:
        form.site.errors = [CHOOSE_SITE_FIRST]  # not "not one of yours" as well
    return _record_page(form, _site_chooser(sites, formdata=None), sites)


def _site_chooser(sites: list[Site], **kwargs: object) -> RecordSiteForm:
    chooser = RecordSiteForm(**kwargs)
    # The placeholder comes first and is what shows until the recorder chooses.
    chooser.site.choices = [SelectChoice("", "Choose your site"),
                            *(SelectChoice(site.code, site.name) for site in sites)]
    return chooser


def _choose_site(sites: list[Site]) -> ResponseReturnValue:
    """The recorder's site for this sign-in (login clears the session, so each sign-in
    chooses again)."""
    chooser = _site_chooser(sites)
    if chooser.validate():
        browser_session["record_site"] = chooser.site.data
        return redirect(url_for("activation.record"))
    form = RecordForm(formdata=None)
    form.consultation_type.data = browser_session.get("record_consultation", "gp")
    return _record_page(form, chooser, sites, choosing=True)


def _chosen_site(form: RecordForm, sites: list[Site]) -> Site | None:
    """The site this page files ratings under, or None while the recorder must choose.

    One site is fixed. With several: the one a re-shown rating carried, else the one
    chosen earlier in this sign-in, unless the recorder asked to change it.
    """
    if len(sites) == 1:
        return sites[0]
    by_code = {site.code: site for site in sites}
    if form.is_submitted():
        return by_code.get(form.site.data or "")
    if request.args.get("change") == "site":
        return None
    return by_code.get(browser_session.get("record_site", ""))


def _record_page(form: RecordForm, chooser: RecordSiteForm, sites: list[Site], *,
                 choosing: bool = False) -> ResponseReturnValue:
    chosen = None if choosing else _chosen_site(form, sites)
    if chosen is None and not choosing:
        # Changing: the current choice is shown in the list, not yet chosen again.
        chooser.site.data = browser_session.get("record_site")
        chooser.site.errors = list(form.site.errors)
    if not form.idempotency_key.data:
        form.idempotency_key.data = new_idempotency_key()
    errors = form_errors(form) or form_errors(chooser)
    response = make_response(render_template(
        "activation/record.html", form=form, chooser=chooser, chosen=chosen, sites=sites,
        errors=errors, last=_last_entry(), labels=_labels(),
        consultation_types=CONSULTATION_TYPES,
    ), 400 if errors else 200)
    # A mistyped NHS number is shown back, so that it can be corrected, on this page
    # only: never stored, logged or kept by the browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


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
    url = f"{current_app.config['PULSE_BASE_URL'].rstrip('/')}/q/{site.code}"
    qr_svg = segno.make(url, error="m").svg_inline(scale=8, border=2, omitsize=True,
                                                   title=f"QR code for {url}")
    activation = instrument(ratings.ACTIVATION)
    # The poster is the page printed (poster.css, @media print): one A4 sheet, black on
    # white. Typed by hand, "https://" is only in the way; a phone's browser adds it.
    base = current_app.config["PULSE_BASE_URL"].rstrip("/")
    notice = base + url_for("notices.privacy", audience="patients")
    return render_template("activation/poster.html", site=site, url=url, qr_svg=qr_svg,
                           typed_url=url.removeprefix("https://"),
                           notice_url=notice.removeprefix("https://"),
                           page_int=get_session().get(Neighbourhood, site.neighbourhood_id),
                           question=activation.item("activation"), privacy=activation.privacy)
