"""Who is asking, on the page: the INT's logo at a cacheable address, and ``page_int``,
the INT whose name and contact a staff, patient or poster page shows.

``page_int`` is worked out once, as a template is rendered, from what its view already
passes (a pulse link, a site, a team's results, an INT slug), so the views of those
pages need not each look the INT up. A view may pass ``page_int`` itself; every other
page (sign-in, reports, admin) gets ``None``: the generic Pulse header and footer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, before_render_template, make_response, request, url_for
from flask.typing import ResponseReturnValue
from jinja2 import Template

from survey_app.core.db import get_session
from survey_app.models import Neighbourhood, Site
from survey_app.pulse import branding, teams
from survey_app.pulse.responses import PulseLink

bp = Blueprint("branding", __name__)

# The pages that speak for an INT, by the templates' names: staff pulse pages, and
# patient pages with the QR poster (the privacy notices' footer links use both).
STAFF_TEMPLATES = ("pulse/",)
PATIENT_TEMPLATES = ("activation/patient_", "activation/thanks.html",
                     "activation/qr_already.html", "activation/poster.html")
BRANDED_TEMPLATES = STAFF_TEMPLATES + PATIENT_TEMPLATES
# The URL changes with the logo, so a browser (or proxy) may keep it for a year.
LOGO_CACHE_CONTROL = "public, max-age=31536000, immutable"


@bp.get("/ints/<slug>/logo/<version>.png")
def logo(slug: str, version: str) -> ResponseReturnValue:
    """The INT's logo, re-encoded on upload; no sign-in or session needed."""
    found = branding.find_logo(get_session(), slug=slug, version=version)
    if found is None:
        abort(404)
    response = make_response(found.png)
    response.mimetype = "image/png"
    response.headers["Cache-Control"] = LOGO_CACHE_CONTROL
    response.set_etag(found.sha256)
    return response.make_conditional(request)


def logo_url(neighbourhood: Neighbourhood) -> str | None:
    """Where a page loads the INT's logo from; None when it has none."""
    version = branding.logo_version(neighbourhood)
    if version is None:
        return None
    return url_for("branding.logo", slug=neighbourhood.slug, version=version)


def _page_int(context: dict[str, Any]) -> Neighbourhood | None:
    link = context.get("link")
    if isinstance(link, PulseLink):
        return link.neighbourhood
    # A team's results (reporting's TeamResults) carry their INT.
    found = getattr(context.get("results"), "neighbourhood", None)
    if isinstance(found, Neighbourhood):
        return found
    site = context.get("site")
    if isinstance(site, Site):
        return get_session().get(Neighbourhood, site.neighbourhood_id)
    slug = context.get("int_slug")
    if isinstance(slug, str):
        return teams.find_neighbourhood(get_session(), slug=slug)
    return None


def _add_page_int(_app: Flask, template: Template, context: dict[str, Any],
                  **_extra: Any) -> None:
    if "page_int" in context:
        return
    branded = (template.name or "").startswith(BRANDED_TEMPLATES)
    context["page_int"] = _page_int(context) if branded else None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["logo_url"] = logo_url
    app.jinja_env.filters["phone_uri"] = branding.phone_uri
    before_render_template.connect(_add_page_int, app)
