"""Staff answer a pulse: by personal link (``/p/<token>``) or a printed code (``/p``)."""

from __future__ import annotations

import random
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask import session as browser_session
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded

from survey_app.core import tokens
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import csrf, limiter
from survey_app.core.security import private_page
from survey_app.pulse import responses
from survey_app.pulse.forms import (
    COOKIE_BUDGET,
    CodeForm,
    PulseForm,
    Retry,
    build_pulse_form,
    completion_seconds,
    keep_retry,
    read_shown,
    retry_from,
    sign_shown,
    take_retry,
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
    """The pulse page. Every post ends in a 303 to a page fetched by GET (post/redirect/
    get), so Back or reload never offers to send the form again."""
    session = get_session()
    link = responses.find_link(session, secret=secret)
    if link is None:
        refused = _too_many_guesses()
        if refused is not None:
            return refused
        abort(404)
    if request.method == "POST":
        return _take_answers(link, secret)
    state = link.state(utcnow())
    if state is LinkState.NOT_YET_OPEN:
        return render_template("pulse/not_yet_open.html", link=link), 403
    if state is LinkState.CLOSED:
        return render_template("pulse/closed.html", link=link), 410
    if state is LinkState.ANSWERED:
        return render_template("pulse/answered.html", link=link), 410
    retry = take_retry(browser_session, secret)
    if retry is not None:
        return _render_retry(link, retry)
    return _fresh_form(link)


def _take_answers(link: PulseLink, secret: str) -> ResponseReturnValue:
    """Store a valid post; otherwise keep what was typed and show the page again."""
    here = url_for("pulse.answer", secret=secret)
    if link.state(utcnow()) is not LinkState.OPEN:
        return redirect(here, code=303)  # the GET says why: answered, closed or not yet open
    shown = read_shown(request.form.get("shown"))
    if shown is None or not responses.valid_item_set(link.instrument, shown.item_ids):
        # The hidden item list was missing or altered: start the page again.
        return _error_redirect(link, secret, None, [], [_PAGE_BROKEN])
    form = build_pulse_form(link.instrument, shown.item_ids)
    form_ok = form.validate_on_submit()
    answers = form.answers()
    if not form_ok or not answers:
        return _error_redirect(link, secret, form, shown.item_ids, _form_messages(form),
                               rendered_at=shown.rendered_at)
    session = get_session()
    stored = responses.submit_response(
        session, link=link, items_shown=shown.item_ids, answers=answers,
        completion_seconds=completion_seconds(shown.rendered_at),
    )
    if not stored:  # spent by another request a moment ago, or the wave just closed
        session.rollback()
        return redirect(here, code=303)
    session.commit()
    # The thank-you page shows the team's results: it is reporting's (staff_results).
    return redirect(url_for("staff_results.thanks", int_slug=link.neighbourhood.slug,
                            team_slug=link.team.slug), code=303)


_PAGE_BROKEN = "Something went wrong with this page. Please answer the questions again."


def _form_messages(form: PulseForm) -> list[str]:
    messages = list(form.form_errors)
    if form.csrf_failed():
        messages.insert(0, "This page was open for a long time, so for your security your "
                           "answers were not sent yet. They are kept below: check them and "
                           "send them again")
    if not form.errors and not form.answers():
        messages.append("Answer at least one question before you send your answers")
    return messages


def _error_redirect(link: PulseLink, secret: str, form: PulseForm | None,
                    item_ids: list[str], messages: list[str],
                    rendered_at: float | None = None) -> ResponseReturnValue:
    """303 back to the page, which shows the errors and the typed answers once.

    Only when what was typed cannot ride in the session cookie (a file, or text too
    long for a cookie) is the page shown in answer to the post itself, as before.
    """
    kept = (Retry(shown=None, values={}, messages=messages) if form is None
            else retry_from(form, sign_shown(item_ids, rendered_at), messages))
    if kept is not None and keep_retry(browser_session, secret, kept,
                                       fits=_fits_in_cookie):
        return redirect(url_for("pulse.answer", secret=secret), code=303)
    if form is None:
        return _fresh_form(link, messages=messages, status=400)
    return _render_form(link, form, item_ids, status=400, rendered_at=rendered_at,
                        messages=messages)


def _fits_in_cookie(candidate: dict[str, Any]) -> bool:
    interface = current_app.session_interface
    if not isinstance(interface, SecureCookieSessionInterface):
        return True  # a server-side session has no cookie size limit
    serializer = interface.get_signing_serializer(current_app)
    return serializer is not None and len(serializer.dumps(candidate)) <= COOKIE_BUDGET


def _render_retry(link: PulseLink, retry: Retry) -> ResponseReturnValue:
    shown = read_shown(retry.shown)
    if shown is None or not responses.valid_item_set(link.instrument, shown.item_ids):
        return _fresh_form(link, messages=retry.messages)
    form = build_pulse_form(link.instrument, shown.item_ids, formdata=retry.formdata())
    form.revalidate_items()
    # A re-shown page is a GET: 200, so the browser keeps it as an ordinary page.
    return _render_form(link, form, shown.item_ids, status=200,
                        rendered_at=shown.rendered_at, messages=retry.messages)


def _fresh_form(link: PulseLink, messages: list[str] | None = None,
                status: int = 200) -> ResponseReturnValue:
    """A new page: the rotating items are drawn now, for this page load only."""
    item_ids = responses.choose_items(link.instrument, random.SystemRandom(), link.due_items)
    form = build_pulse_form(link.instrument, item_ids, formdata=None)
    return _render_form(link, form, item_ids, status=status, messages=messages or [])


def _render_form(link: PulseLink, form: PulseForm, item_ids: list[str], status: int,
                 messages: list[str], rendered_at: float | None = None) -> ResponseReturnValue:
    # Keep the first load time, so a re-shown page still measures the whole effort.
    form.shown.data = sign_shown(item_ids, rendered_at)
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
