"""The API tokens page: a lead or admin lists, creates and revokes their own tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey_app.accounts import api_tokens
from survey_app.accounts.access import role_required
from survey_app.accounts.api_token_forms import CreateTokenForm, RevokeTokenForm
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.dates import date_time
from survey_app.core.db import get_session

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    created: str
    last_used: str
    revoked: str | None


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "Never"
    return date_time(moment)


def _page(form: CreateTokenForm, status: int = 200) -> ResponseReturnValue:
    rows = [TokenRow(token.id or 0, token.name, _when(token.created_at),
                     _when(token.last_used_at),
                     _when(token.revoked_at) if token.revoked_at else None)
            for token in api_tokens.list_tokens(get_session(), user_id=current_user.id)]
    return render_template("api/tokens.html", form=form, rows=rows,
                           revoke_form=RevokeTokenForm()), status


@bp.get("")
@role_required("lead")
def tokens() -> ResponseReturnValue:
    return _page(CreateTokenForm())


@bp.post("")
@role_required("lead")
def create() -> ResponseReturnValue:
    form = CreateTokenForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    session = get_session()
    try:
        token, plaintext = api_tokens.create_token(session, user_id=current_user.id,
                                                   name=form.name.data, now=utcnow())
    except api_tokens.TokenError as error:
        form.name.errors = [str(error)]
        return _page(form, 400)
    audit.record(session, user_id=current_user.id, action="api_token.create",
                 target=f"api_token:{token.id}", now=utcnow())
    session.commit()
    # The only time the token exists outside its owner's hands: shown in this
    # response (not a redirect, so it is never put in the session), never cached.
    response = make_response(render_template("api/token_created.html", token=token,
                                             plaintext=plaintext))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _not_found() -> ResponseReturnValue:
    # One answer for an id that is malformed, out of range, unknown or someone
    # else's: the page again, saying so, so nobody learns of another's token.
    flash("That token was not found. It may belong to someone else; "
          "the tokens you can revoke are listed below.")
    return _page(CreateTokenForm(), 404)


@bp.post("/revoke")
@role_required("lead")
def revoke() -> ResponseReturnValue:
    # CSRF is checked app-wide (core.extensions) before this runs.
    form = RevokeTokenForm()
    token_id = form.token_id_value if form.validate_on_submit() else None
    if token_id is None:
        return _not_found()
    session = get_session()
    try:
        token = api_tokens.revoke_token(session, user_id=current_user.id,
                                        token_id=token_id, now=utcnow())
    except api_tokens.TokenError:
        return _not_found()
    audit.record(session, user_id=current_user.id, action="api_token.revoke",
                 target=f"api_token:{token.id}", now=utcnow())
    session.commit()
    flash(f"The token \u201c{token.name}\u201d has been revoked. Scripts using it will now "
          "be refused.")
    return redirect(url_for("api_tokens.tokens"))
