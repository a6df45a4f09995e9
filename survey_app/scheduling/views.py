"""The unsubscribe-from-reminders page, linked from every reminder the scheduler sends."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from survey_app.core.db import get_session
from survey_app.core.extensions import csrf
from survey_app.core.security import private_page
from survey_app.models import Neighbourhood
from survey_app.scheduling import tick

bp = Blueprint("scheduling", __name__)


@bp.route("/unsubscribe/<signed>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the authority, and mail clients' one-click posts carry no token
@private_page
def unsubscribe(signed: str) -> ResponseReturnValue:
    """Stop reminders for one person. A GET only asks (mail scanners follow links);
    a POST, from the page's button or a mail client's one-click (RFC 8058), does it."""
    session = get_session()
    member = tick.member_from_unsubscribe(session, secret_key=current_app.config[
        "SECRET_KEY"], signed=signed)
    if member is None:
        abort(404)
    neighbourhood = session.get(Neighbourhood, member.neighbourhood_id)
    if request.method == "POST":
        tick.opt_out_of_reminders(session, member=member)
        session.commit()
        return render_template("pulse/unsubscribed.html", page_int=neighbourhood)
    return render_template("pulse/unsubscribe.html", already=member.reminders_opt_out,
                           page_int=neighbourhood)
