"""FHIR exports of patient activation (admin only, audited).

``/reports/<int>/activation/fhir/bundle.json`` is a ``collection`` Bundle of the
INT's ratings as QuestionnaireResponses, each referencing the version of the
Questionnaire it answered; ``/reports/fhir/questionnaire.json`` is that
Questionnaire. Patients appear only as keyed pseudonyms (see
:mod:`survey_app.reporting.exports.fhir`). Every export is written to the audit log.
Errors are JSON with a reason, as a FHIR client expects of an API.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import Response, current_app, request
from sqlmodel import select

from survey_app.accounts.access import role_required
from survey_app.activation.ratings import ACTIVATION
from survey_app.core.clock import utcnow
from survey_app.core.db import get_session
from survey_app.core.extensions import instrument
from survey_app.core.instruments import instrument_of
from survey_app.models import QuestionnaireVersion
from survey_app.pulse.teams import find_neighbourhood
from survey_app.reporting.activation_report import (
    current_questionnaire,
    ratings_for_export,
    site_names,
)
from survey_app.reporting.exports import questionnaire_resource
from survey_app.reporting.exports.fhir import versioned_response_bundle
from survey_app.reporting.views import audit_view, bp

FHIR_JSON = "application/fhir+json"
INSTRUMENT = ACTIVATION
# At most 9 ASCII digits: str.isdigit() takes "²", which int() refuses, and a
# longer number can overflow the database's integer.
_VERSION = re.compile(r"[0-9]{1,9}")


def _fhir(resource: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


def _problem(status: int, reason: str) -> Response:
    """An error as JSON: ``{"error": ..., "reason": ...}``."""
    words = {400: "bad request", 404: "not found"}[status]
    return Response(json.dumps({"error": words, "reason": reason}), status=status,
                    mimetype="application/json")


def _date_arg(name: str) -> date | None:
    """The query argument `name` as a date, None when absent.

    Raises
    ------
    ValueError
        With a reason naming the argument, if it is not a YYYY-MM-DD date.
    """
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:  # fromisoformat also takes 20250301, which few would mean
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date written YYYY-MM-DD, got {value!r}") from None


@bp.route("/<int_slug>/activation/fhir/bundle.json")
@role_required("admin")
def fhir_bundle(int_slug: str) -> Any:
    session = get_session()
    neighbourhood = find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        return _problem(404, f"there is no INT {int_slug!r}")
    try:
        since, until = _date_arg("since"), _date_arg("until")
        batches = ratings_for_export(session, neighbourhood=neighbourhood, since=since,
                                     until=until)
    except ValueError as error:
        return _problem(400, str(error))
    bundle = versioned_response_bundle(
        batches, base_url=current_app.config["PULSE_BASE_URL"],
        site_names=site_names(session, neighbourhood=neighbourhood), generated_at=utcnow())
    audit_view("export.fhir", f"activation:{neighbourhood.slug}", resource="Bundle",
               since=since.isoformat() if since else None,
               until=until.isoformat() if until else None,
               ratings=len(bundle.get("entry", [])))
    get_session().commit()
    return _fhir(bundle)


@bp.route("/fhir/questionnaire.json")
@role_required("admin")
def fhir_questionnaire() -> Any:
    session = get_session()
    requested = request.args.get("version")
    if requested is None or requested == "":
        # The wording in use now, as new ratings will reference it; read, never
        # stored here (a GET writes nothing).
        current = current_questionnaire(session, instrument=instrument(INSTRUMENT))
        wording, version = current.instrument, current.version
    else:
        if not _VERSION.fullmatch(requested) or int(requested) < 1:
            return _problem(400, "version must be a whole number from 1 to 999999999, "
                                 f"got {requested!r}")
        found = session.exec(select(QuestionnaireVersion).where(
            QuestionnaireVersion.key == INSTRUMENT,
            QuestionnaireVersion.version == int(requested))).first()
        if found is None:
            return _problem(404, f"there is no version {requested} of the {INSTRUMENT} "
                                 "Questionnaire")
        wording, version = instrument_of(found), found.version
    resource = questionnaire_resource(wording, version=version,
                                      base_url=current_app.config["PULSE_BASE_URL"])
    audit_view("export.fhir", f"questionnaire:{INSTRUMENT}", resource="Questionnaire",
               version=version)
    get_session().commit()
    return _fhir(resource)
