"""Staff answer a pulse: by personal link (``/p/<token>``) or a printed code (``/p``)."""

from __future__ import annotations

import random

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded

from survey_app.core import tokens
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import csrf, limiter
from survey_app.core.security import private_page
from survey_app.pulse import responses
from survey_app.pulse.forms import (
    CodeForm,
    PulseForm,
    build_pulse_form,
    completion_seconds,
    read_shown,
    sign_shown,
)
from survey_app.pulse.responses import LinkState, PulseLink

bp = Blueprint("pulse", __name__)


def _attempt_limit() -> str:
    return str(current_app.config["PULSE_CODE_ATTEMPT_LIMIT"])


@limiter.shared_limit(_attempt_limit, scope="link-guessing")
def _count_wrong_guess() -> None:
    """Count one wrong link or code from this address; raises RateLimitExceeded past the limit."""


def _too_many_guesses() -> ResponseReturnValue | None:
    """Count a failed lookup; the refusal page once this address has guessed wrong too often.

    Only wrong guesses are checked and counted, and only after the lookup has
    failed: a right link or code always opens, however many wrong ones others
    behind the same address (a practice's one NAT) have tried. Code entry and
    link pages share the count, so a guesser cannot switch routes.
    """
    try:
        _count_wrong_guess()
    except RateLimitExceeded:
        return render_template("pulse/too_many_guesses.html"), 429
    return None


@bp.route("/p", methods=["GET", "POST"])
def enter_code() -> ResponseReturnValue:
    form = CodeForm()
    if form.validate_on_submit():
        code = tokens.normalise_code(form.code.data or "")
        if code is not None and responses.find_link(get_session(), secret=code) is not None:
            return redirect(url_for("pulse.answer", secret=code))
        refused = _too_many_guesses()
        if refused is not None:
            return refused
        form.code.errors = [
            "That code was not recognised. Check it against your card: it has 10 letters "
            "and numbers, for example ABCDE-23456."
        ]
        return render_template("pulse/code.html", form=form), 404
    status = 400 if form.errors else 200
    return render_template("pulse/code.html", form=form), status


@bp.route("/p/<secret>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one can keep the answers
@private_page
def answer(secret: str) -> ResponseReturnValue:
    session = get_session()
    link = responses.find_link(session, secret=secret)
    if link is None:
        refused = _too_many_guesses()
        if refused is not None:
            return refused
        abort(404)
    state = link.state(utcnow())
    if state is LinkState.NOT_YET_OPEN:
        return render_template("pulse/not_yet_open.html", link=link), 403
    if state is LinkState.CLOSED:
        return render_template("pulse/closed.html", link=link), 410
    if state is LinkState.ANSWERED:
        return render_template("pulse/answered.html", link=link), 410

    shown = read_shown(_posted_shown())
    if shown is None or not responses.valid_item_set(link.instrument, shown.item_ids):
        return _fresh_form(link)
    form = build_pulse_form(link.instrument, shown.item_ids)
    form_ok = form.validate_on_submit()
    answers = form.answers()
    if form_ok and not answers:
        form.form_errors.append("Answer at least one question before you send your answers")
    if not form_ok or not answers:
        return _render_form(link, form, shown.item_ids, status=400,
                            rendered_at=shown.rendered_at)
    stored = responses.submit_response(
        session, link=link, items_shown=shown.item_ids, answers=answers,
        completion_seconds=completion_seconds(shown.rendered_at),
    )
    if not stored:  # spent by another request a moment ago, or the wave just closed
        session.rollback()
        session.expire_all()
        current = responses.find_link(session, secret=secret)
        if current is not None and (current.wave.closed_at is not None
                                    or current.state(utcnow()) is LinkState.CLOSED):
            return render_template("pulse/closed.html", link=link), 410
        return render_template("pulse/answered.html", link=link), 410
    session.commit()
    # The thank-you page shows the team's results: it is reporting's (staff_results).
    return redirect(url_for("staff_results.thanks", int_slug=link.neighbourhood.slug,
                            team_slug=link.team.slug))


def _posted_shown() -> str | None:
    return request.form.get("shown") if request.method == "POST" else None


def _fresh_form(link: PulseLink) -> ResponseReturnValue:
    """A new page: the rotating items are drawn now, for this page load only."""
    item_ids = responses.choose_items(link.instrument, random.SystemRandom(), link.due_items)
    form = build_pulse_form(link.instrument, item_ids, formdata=None)
    if request.method == "POST":
        # The hidden item list was missing or altered: start the page again.
        form.form_errors.append(
            "Something went wrong with this page. Please answer the questions again."
        )
        return _render_form(link, form, item_ids, status=400)
    return _render_form(link, form, item_ids, status=200)


def _render_form(link: PulseLink, form: PulseForm, item_ids: list[str], status: int,
                 rendered_at: float | None = None) -> ResponseReturnValue:
    # Keep the first load time, so a re-shown page still measures the whole effort.
    form.shown.data = sign_shown(item_ids, rendered_at)
    messages = list(form.form_errors)
    if form.csrf_failed():
        messages.insert(0, "This page was open for a long time, so for your security your "
                           "answers were not sent yet. They are kept below: check them and "
                           "send them again")
    errors = [(_first_anchor(form), message) for message in messages]
    errors += form.item_errors()
    return render_template(
        "pulse/answer.html", link=link, form=form,
        items=[link.instrument.item(item_id) for item_id in item_ids],
        errors=errors,
    ), status


def _first_anchor(form: PulseForm) -> str:
    fields = form.item_fields()
    return f"{fields[0].name}-0" if fields else "main-content"
