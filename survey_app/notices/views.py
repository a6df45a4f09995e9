"""The privacy notices and the accessibility statement: public pages, no sign-in.

Each reads the INT's settings as it is shown (its controller, DPO contact, lawful bases,
contact and retention periods) and the app's own (suppression thresholds, the audit
log's retention), so no page can say what Pulse no longer does.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from flask import (
    Blueprint,
    Flask,
    abort,
    before_render_template,
    current_app,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from jinja2 import Template

from survey_app.core.db import get_session
from survey_app.models import Neighbourhood
from survey_app.notices import facts
from survey_app.pulse import teams
from survey_app.pulse.branding_views import PATIENT_TEMPLATES, STAFF_TEMPLATES

bp = Blueprint("notices", __name__)

# When the accessibility statement was prepared and last reviewed (the regulations ask
# for both): change it whenever the statement's facts are checked again.
STATEMENT_PREPARED: Final = date(2026, 12, 4)
# Pages that speak to staff or to patients (branding's lists) link to their own notice
# in the footer; every other page (sign-in, reports, admin) links to both.
_AUDIENCE_PATH: Final = "<any(staff, patients):audience>"


@bp.get(f"/privacy/{_AUDIENCE_PATH}")
def privacy(audience: facts.Audience) -> ResponseReturnValue:
    """The generic notice: what every INT's Pulse does, and the list of INTs."""
    return _notice(audience, None)


@bp.get(f"/ints/<slug>/privacy/{_AUDIENCE_PATH}")
def int_privacy(slug: str, audience: facts.Audience) -> ResponseReturnValue:
    """One INT's notice: its controller, DPO, lawful bases and retention periods."""
    return _notice(audience, _int_or_404(slug))


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    return render_template("notices/accessibility.html", prepared=STATEMENT_PREPARED,
                           page_int=None, ints=teams.list_neighbourhoods(get_session()))


@bp.get("/ints/<slug>/accessibility")
def int_accessibility(slug: str) -> ResponseReturnValue:
    return render_template("notices/accessibility.html", prepared=STATEMENT_PREPARED,
                           page_int=_int_or_404(slug), ints=[])


def _notice(audience: facts.Audience, neighbourhood: Neighbourhood | None) -> ResponseReturnValue:
    config = current_app.config
    audit_days = int(config["PULSE_RETAIN_AUDIT_DAYS"])  # set by retention's init_app
    return render_template(
        f"notices/{audience}.html", page_int=neighbourhood, notice_audience=audience,
        ints=teams.list_neighbourhoods(get_session()) if neighbourhood is None else [],
        retained=facts.retention_table(audience, neighbourhood=neighbourhood,
                                       audit_days=audit_days),
        threshold=int(config["PULSE_SUPPRESSION_THRESHOLD"]),
        free_text_threshold=int(config["PULSE_FREE_TEXT_THRESHOLD"]))


def _int_or_404(slug: str) -> Neighbourhood:
    neighbourhood = teams.find_neighbourhood(get_session(), slug=slug)
    if neighbourhood is None:
        abort(404)
    return neighbourhood


def _add_notice_audience(_app: Flask, template: Template, context: dict[str, Any],
                         **_extra: Any) -> None:
    """``notice_audience`` for the footer: "staff", "patients" or None (both)."""
    if "notice_audience" in context:
        return
    name = template.name or ""
    context["notice_audience"] = ("staff" if name.startswith(STAFF_TEMPLATES)
                                  else "patients" if name.startswith(PATIENT_TEMPLATES)
                                  else None)


def notice_links(page_int: Neighbourhood | None,
                 audience: facts.Audience | None) -> list[tuple[str, str]]:
    """The footer's (text, address) pairs: the page's own notice (or both), then the
    accessibility statement; the INT's own versions on a page that speaks for one."""
    audiences = [audience] if audience else list(facts.AUDIENCES)
    slug: dict[str, Any] = {"slug": page_int.slug} if page_int else {}
    endpoint = "notices.int_privacy" if page_int else "notices.privacy"
    links = [("Privacy notice" if audience else f"Privacy notice for {each}",
              url_for(endpoint, audience=each, **slug)) for each in audiences]
    links.append(("Accessibility statement",
                  url_for("notices.int_accessibility" if page_int else "notices.accessibility",
                          **slug)))
    return links


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["notice_links"] = notice_links
    before_render_template.connect(_add_notice_audience, app)
