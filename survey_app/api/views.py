"""The API's data endpoints (routes registered on survey_app.api.bp).

Each view is reached through :func:`token_required` (and :func:`int_scope` for
one INT's data), and hands one service call's result to :mod:`survey_app.api.data`.
"""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, request

from survey_app.api import bp, data, int_scope, token_required
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import team_pulse
from survey_app.models import CHANNELS, Neighbourhood, Team, User
from survey_app.reporting import activation_report, team_report


def _threshold() -> int:
    return int(current_app.config["PULSE_SUPPRESSION_THRESHOLD"])


def _team_or_404(neighbourhood: Neighbourhood, team_slug: str) -> Team:
    team = team_report.find_team(get_session(), neighbourhood_id=neighbourhood.id or 0,
                                 slug=team_slug)
    if team is None:
        abort(404, f"The INT has no team {team_slug!r}.")
    return team


@bp.get("/ints")
@token_required
def ints(user: User) -> Response:
    return jsonify(data.visible_ints(get_session(), user=user))


@bp.get("/ints/<int_slug>/overview")
@token_required
@int_scope
def overview(user: User, neighbourhood: Neighbourhood) -> Response:
    return jsonify(data.overview(
        get_session(), neighbourhood=neighbourhood,
        instrument=team_pulse(),
        threshold=_threshold(), now=utcnow()))


@bp.get("/ints/<int_slug>/teams/<team_slug>/waves")
@token_required
@int_scope
def team_waves(user: User, neighbourhood: Neighbourhood, team_slug: str) -> Response:
    return jsonify(data.team_waves(
        get_session(), neighbourhood=neighbourhood, team=_team_or_404(neighbourhood, team_slug),
        instrument=team_pulse(),
        threshold=_threshold(), now=utcnow()))


@bp.get("/ints/<int_slug>/teams/<team_slug>/actions")
@token_required
@int_scope
def team_actions(user: User, neighbourhood: Neighbourhood, team_slug: str) -> Response:
    return jsonify(data.team_actions(get_session(), neighbourhood=neighbourhood,
                                     team=_team_or_404(neighbourhood, team_slug)))


@bp.get("/ints/<int_slug>/activation")
@token_required
@int_scope
def activation(user: User, neighbourhood: Neighbourhood) -> Response:
    session = get_session()
    site = request.args.get("site") or None
    channel = request.args.get("channel") or None
    if site is not None and site not in {
            s.code for s in activation_report.sites_of(session, neighbourhood=neighbourhood)}:
        abort(400, f"The INT has no site {site!r}: see the sites listed without a filter.")
    if channel is not None and channel not in CHANNELS:
        abort(400, f"channel must be one of {', '.join(CHANNELS)}.")
    return jsonify(data.activation(session, neighbourhood=neighbourhood,
                                   threshold=_threshold(), site=site, channel=channel,
                                   now=utcnow()))
