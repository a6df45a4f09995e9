"""The pages staff see without signing in: the thank-you page after a pulse, with the
team's latest results, and the team's results page (closed waves only)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import limiter, team_pulse
from survey_app.reporting.staff_results import TeamResults, results_for_team

bp = Blueprint("staff_results", __name__)


def _results_limit() -> str:
    return str(current_app.config["PULSE_RESULTS_LIMIT"])


@bp.get("/thank-you/<int_slug>/<team_slug>")
@limiter.shared_limit(_results_limit, scope="team-results")
def thanks(int_slug: str, team_slug: str) -> ResponseReturnValue:
    # An unknown team still gets its thank-you (the answers are stored), just no results.
    return render_template("pulse/thanks.html", int_slug=int_slug, team_slug=team_slug,
                           results=_team_results(int_slug, team_slug))


@bp.get("/results/<int_slug>/<team_slug>")
# Open to anyone (staff read it without signing in), so each page costs one INT
# overview: throttled per client, shared with the thank-you page.
@limiter.shared_limit(_results_limit, scope="team-results")
def team_results(int_slug: str, team_slug: str) -> ResponseReturnValue:
    """A team's headline results for its staff: no login, closed waves only."""
    results = _team_results(int_slug, team_slug)
    if results is None:
        abort(404)
    return render_template("pulse/results.html", results=results)


def _team_results(int_slug: str, team_slug: str) -> TeamResults | None:
    return results_for_team(
        get_session(), int_slug=int_slug, team_slug=team_slug,
        instrument=team_pulse(),
        threshold=current_app.config["PULSE_SUPPRESSION_THRESHOLD"], now=utcnow())
