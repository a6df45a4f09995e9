"""Reports for INT leads and admins: overview, team pages, activation, the ICB view.

Every view here is reached through :func:`int_report` (or ``role_required("admin")``
for the ICB view), records an audit event of what was looked at (never an answer),
and renders through :func:`render_report`, which also gives the same page as a PDF.
Report modules register their routes on :data:`bp` when imported below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, make_response, render_template, request
from flask_login import current_user

from survey_app.accounts import users
from survey_app.accounts.access import role_required
from survey_app.core import audit
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.models import Neighbourhood
from survey_app.pulse.teams import find_neighbourhood, list_neighbourhoods
from survey_app.reporting.exports import csv_response_body

bp = Blueprint("reports", __name__, url_prefix="/reports")
# Reports hold an INT's figures: no shared or browser cache keeps a copy after sign-out.
NO_STORE = "no-store"


def may_see(neighbourhood: Neighbourhood) -> bool:
    """Admins see every INT; a lead only the INTs they are assigned to."""
    if current_user.role not in ("lead", "admin"):
        return False
    ids = users.neighbourhood_ids(get_session(), user=current_user.user)
    return ids is None or neighbourhood.id in ids


def visible_neighbourhoods() -> list[Neighbourhood]:
    """The INTs the signed-in user may see reports of, by name."""
    ids = users.neighbourhood_ids(get_session(), user=current_user.user)
    return [n for n in list_neighbourhoods(get_session()) if ids is None or n.id in ids]


def int_report(view: Callable[..., Any]) -> Callable[..., Any]:
    """Leads of the INT named by ``int_slug`` and admins; the view gets ``neighbourhood``.

    An unknown INT is 404; someone else's INT is 403, so a lead never sees
    another INT's figures.
    """

    @role_required("lead")
    @wraps(view)
    def wrapper(*args: Any, int_slug: str, **kwargs: Any) -> Any:
        neighbourhood = find_neighbourhood(get_session(), slug=int_slug)
        if neighbourhood is None:
            abort(404)
        if not may_see(neighbourhood):
            abort(403)
        return view(*args, neighbourhood=neighbourhood, **kwargs)

    return wrapper


def audit_view(action: str, target: str, **detail: Any) -> None:
    """Add the audit event: the signed-in user looked at, exported or changed ``target``.

    Nothing is committed here: the view commits its request's one transaction (the
    audit event with whatever the request changed) before it builds the response.
    """
    audit.record(get_session(), user_id=current_user.id, action=action, target=target,
                 now=utcnow(), detail=detail or None)


def wants_pdf() -> bool:
    return request.args.get("format") == "pdf"


def page_action() -> str:
    """What a report page's audit event records: ``report.pdf`` or ``report.view``."""
    return "report.pdf" if wants_pdf() else "report.view"


def render_report(template: str, *, filename: str, **context: Any) -> Any:
    """The report page as HTML, or as a PDF when ``?format=pdf`` (same template)."""
    if wants_pdf():
        from survey_app.reporting.views.pdf import pdf_response

        html = render_template(template, pdf=True, **context)
        return pdf_response(html, filename=f"{filename}.pdf")
    response = make_response(render_template(template, pdf=False, **context))
    response.headers["Cache-Control"] = NO_STORE
    return response


def csv_download(filename: str, header: Sequence[str],
                 rows: Iterable[Sequence[object]]) -> Response:
    """A CSV attachment of one table (aggregates only); the view audits ``report.csv``."""
    response = Response(csv_response_body(header, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.headers["Cache-Control"] = NO_STORE
    return response


# Importing the modules registers their routes on bp.
from survey_app.reporting.views import activation, fhir, icb, overview, team  # noqa: E402,F401
