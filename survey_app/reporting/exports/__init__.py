"""Exports of what Pulse shows: CSV tables and FHIR R4B resources.

Both are pure: they take plain data already checked for suppression and
authorisation by the caller, and return text or JSON-ready dicts. Views
decide who may download and write the audit event.
"""

from __future__ import annotations

from survey_app.reporting.exports.csv_export import (
    PROTECT_ANOTHER_GROUP,
    TOO_FEW_ANSWERS,
    SuppressedCell,
    csv_response_body,
    iter_csv,
    neutralise,
    table_with_reasons,
)
from survey_app.reporting.exports.fhir import (
    RatingRecord,
    questionnaire_canonical,
    questionnaire_resource,
    questionnaire_response_bundle,
)

__all__ = [
    "PROTECT_ANOTHER_GROUP",
    "TOO_FEW_ANSWERS",
    "RatingRecord",
    "SuppressedCell",
    "csv_response_body",
    "iter_csv",
    "neutralise",
    "questionnaire_canonical",
    "questionnaire_resource",
    "questionnaire_response_bundle",
    "table_with_reasons",
]
