"""The OpenAPI 3.1 document of the API, built as a dict and served at /api/v1/openapi.json.

Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect). They describe
suppression as well as shape: a hidden figure is null *and* carries a reason,
a shown one is a number with no reason, so a client (and the tests, which check
every response against this document) can rely on one or the other.
"""

from __future__ import annotations

from typing import Any, Final

from flask import Response, jsonify

from analysis.change import VERDICTS
from analysis.fatigue import LEVELS
from analysis.spc import CONSISTENT_FAIL, CONSISTENT_PASS, INCONSISTENT, VARIATION_LABELS
from survey_app.api import PREFIX, bp
from survey_app.models import CHANNELS

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An object with exactly these properties, every one present (null when empty)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "required": list(properties), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


NULL = {"type": "null"}
REASON = {"type": "string", "minLength": 1,
          "description": "Why the value is hidden, in plain words, e.g. \"too few answers\" "
                         "or \"hidden to protect another group\"."}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
COUNT = {"type": "integer", "minimum": 0}
SLUG = {"type": "string", "minLength": 1, "maxLength": 64}
OPEN_WAVES = {"type": "array", "items": _ref("OpenWave"),
              "description": "Waves still open: their response so far, never results."}


_PROPORTION_KEYS = ("percent", "lower", "upper", "positive", "answered", "confidence")
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_GROUP_KEYS = ("counts", "low_activation", "mean", "mean_lower", "mean_upper")
_PAIRED_KEYS = ("baseline_mean", "followup_mean", "mean_change", "lower", "upper",
                "p_value")

#: Errors, and the INTs and teams a token may read.
_REFERENCE_SCHEMAS: Final[dict[str, Any]] = {
    "Error": _object({"error": {"type": "string", "description": "A short code."},
                      "reason": {"type": "string", "description": "What went wrong, "
                                                                  "in plain words."}}),
    "IntRef": _object({"slug": SLUG, "name": {"type": "string"}}),
    "TeamRef": _object({"slug": SLUG, "name": {"type": "string"}}),
    "IntWithTeams": _object({"slug": SLUG, "name": {"type": "string"},
                             "teams": {"type": "array", "items": _ref("TeamRef")}}),
    "IntList": _object({"ints": {"type": "array", "items": _ref("IntWithTeams")}},
                       "The INTs the token's user may read: all for an admin, a lead's own."),
}

#: A team's figures, each either shown or hidden with its reason.
_FIGURE_SCHEMAS: Final[dict[str, Any]] = {
    "ProportionShown": _object({
        "percent": {**PERCENT, "description": "Share answering positively, of all who "
                                              "answered (Don't know included)."},
        "lower": {**PERCENT, "description": "Lower bound of the Wilson score interval."},
        "upper": {**PERCENT, "description": "Upper bound of the Wilson score interval."},
        "positive": COUNT, "answered": COUNT,
        "confidence": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "hidden_reason": NULL,
    }),
    "ProportionHidden": _object({**{key: NULL for key in _PROPORTION_KEYS},
                                 "hidden_reason": REASON}),
    "Proportion": {"oneOf": [_ref("ProportionShown"), _ref("ProportionHidden")],
                   "description": "A % recommending, with its 95% interval; every figure "
                                  "null, with the reason, when hidden."},
    "ScoreShown": _object({"score": {"type": "number", "minimum": 0, "maximum": 10},
                           "hidden_reason": NULL}),
    "ScoreHidden": _object({"score": NULL, "hidden_reason": REASON}),
    "Score": {"oneOf": [_ref("ScoreShown"), _ref("ScoreHidden")],
              "description": "The engagement score, 0 to 10 (NHS Staff Survey style)."},
    "RateTrendPoint": _object({"wave": {"type": "string"},
                               "percent": _nullable(PERCENT)}),
    "ResponseRateShown": _object({
        "percent": _nullable(PERCENT), "invited": COUNT, "responded": COUNT,
        "trend": {"type": "array", "items": _ref("RateTrendPoint"),
                  "description": "The response rate of every closed wave, oldest first."},
        "direction": {"enum": ["falling", "rising", "steady", "unknown"],
                      "description": "Only a significant trend counts as falling or "
                                     "rising (from the fatigue assessment)."},
        "summary": {"type": "string", "description": "The trend in words."},
        "hidden_reason": NULL,
    }),
    "ResponseRateHidden": _object({"percent": NULL, "invited": NULL, "responded": NULL,
                                   "trend": NULL, "direction": NULL, "summary": NULL,
                                   "hidden_reason": REASON}),
}

#: What the figures mean: variation, assurance, fatigue and change.
_VERDICT_SCHEMAS: Final[dict[str, Any]] = {
    "Variation": _object({
        "code": {"enum": list(VARIATION_LABELS)},
        "label": {"type": "string"}, "description": {"type": "string"},
    }, "Making Data Count variation of the latest charted wave of % recommending the "
       "team as a place to work."),
    "Assurance": _object({
        "code": {"enum": [CONSISTENT_PASS, CONSISTENT_FAIL, INCONSISTENT, None]},
        "label": {"type": "string"}, "description": {"type": "string"},
    }, "Making Data Count assurance against a target (null code: no target set)."),
    "Fatigue": _object({"level": {"enum": list(LEVELS)},
                        "reasons": {"type": "array", "items": {"type": "string"}}}),
    "Change": _object({"verdict": {"enum": list(VERDICTS)},
                       "sentence": {"type": "string",
                                    "description": "The verdict in one plain sentence, "
                                                   "as on the overview page."},
                       "explanation": {"type": "string",
                                       "description": "The comparison behind it, with "
                                                      "its interval."}},
                      "Whether % recommending as a place to work really changed, judged "
                      "across the INT's teams together."),
}

#: The INT overview: a row per team.
_OVERVIEW_SCHEMAS: Final[dict[str, Any]] = {
    "TeamOverviewShown": _object({
        "team": _ref("TeamRef"), "latest_wave": {"type": "string"},
        "hidden_reason": NULL, "open_waves": OPEN_WAVES,
        "recommend_work": _ref("Proportion"), "recommend_care": _ref("Proportion"),
        "engagement": _ref("Score"), "response_rate": _ref("ResponseRateShown"),
        "variation": _nullable(_ref("Variation")),
        "assurance": _nullable(_ref("Assurance")),
        "fatigue": _nullable(_ref("Fatigue")), "change": _nullable(_ref("Change")),
    }),
    "TeamOverviewHidden": _object({
        "team": _ref("TeamRef"), "latest_wave": {"type": ["string", "null"]},
        "hidden_reason": REASON, "open_waves": OPEN_WAVES,
        "recommend_work": _ref("ProportionHidden"),
        "recommend_care": _ref("ProportionHidden"),
        "engagement": _ref("ScoreHidden"), "response_rate": _ref("ResponseRateHidden"),
        "variation": NULL, "assurance": NULL, "fatigue": NULL, "change": NULL,
    }),
    "TeamOverview": {"oneOf": [_ref("TeamOverviewShown"), _ref("TeamOverviewHidden")],
                     "description": "A team's latest closed wave, or only why it is hidden."},
    "Overview": _object({"int": _ref("IntRef"),
                         "suppression_threshold": {"type": "integer", "minimum": 1},
                         "teams": {"type": "array", "items": _ref("TeamOverview")}}),
}

#: A team's waves, closed and open.
_WAVE_SCHEMAS: Final[dict[str, Any]] = {
    "WaveShown": _object({
        "label": {"type": "string"}, "opens_at": {"type": "string", "format": "date-time"},
        "closes_at": {"type": "string", "format": "date-time"},
        "invited": COUNT, "responded": COUNT, "response_rate_percent": _nullable(PERCENT),
        "hidden_reason": NULL,
        "recommend_work": _ref("Proportion"), "recommend_care": _ref("Proportion"),
        "engagement": _ref("Score"),
    }),
    "WaveHidden": _object({
        "label": {"type": "string"}, "opens_at": {"type": "string", "format": "date-time"},
        "closes_at": {"type": "string", "format": "date-time"},
        "invited": NULL, "responded": NULL, "response_rate_percent": NULL,
        "hidden_reason": REASON,
        "recommend_work": _ref("ProportionHidden"),
        "recommend_care": _ref("ProportionHidden"), "engagement": _ref("ScoreHidden"),
    }),
    "Wave": {"oneOf": [_ref("WaveShown"), _ref("WaveHidden")],
             "description": "A closed wave. A hidden wave (too few answers, or hidden "
                            "to protect another group) shows only why: no counts, no "
                            "response rate, no results."},
    "OpenWave": _object({"closes_at": {"type": "string", "format": "date-time"},
                         "invited": COUNT, "responded": COUNT,
                         "response_rate_percent": _nullable(PERCENT)},
                        "A wave still open: its response rate only, never results."),
    "TeamWaves": _object({"int": _ref("IntRef"), "team": _ref("TeamRef"),
                          "suppression_threshold": {"type": "integer", "minimum": 1},
                          "waves": {"type": "array", "items": _ref("Wave")},
                          "open_wave": _nullable(_ref("OpenWave"))}),
}

#: Patient activation ratings grouped by month, site and channel.
_RATING_GROUP_SCHEMAS: Final[dict[str, Any]] = {
    "SiteRef": _object({"code": {"type": "string"}, "name": {"type": "string"}}),
    "Channel": _object({"code": {"enum": list(CHANNELS)}, "label": {"type": "string"}}),
    "LowActivation": _object({
        "percent": {**PERCENT, "description": "Share of ratings of 1 or 2 (low "
                                              "activation)."},
        "lower": PERCENT, "upper": PERCENT, "low": COUNT, "n": COUNT,
        "confidence": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    }),
    "RatingGroupShown": _object({
        "key": {"type": "string"}, "label": {"type": "string"},
        "n": {"type": "integer", "minimum": 1},
        "counts": {"type": "array", "items": COUNT, "minItems": 4, "maxItems": 4,
                   "description": "Ratings of 1, 2, 3 and 4."},
        "low_activation": _ref("LowActivation"),
        "mean": {"type": "number", "minimum": 1, "maximum": 4},
        "mean_lower": _NULLABLE_NUMBER, "mean_upper": _NULLABLE_NUMBER, "hidden_reason": NULL,
    }),
    "RatingGroupHidden": _object({"key": {"type": "string"}, "label": {"type": "string"},
                                  "n": NULL, **{key: NULL for key in _GROUP_KEYS},
                                  "hidden_reason": REASON}),
    "RatingGroupEmpty": _object({"key": {"type": "string"}, "label": {"type": "string"},
                                 "n": {"const": 0}, **{key: NULL for key in _GROUP_KEYS},
                                 "hidden_reason": NULL}),
    "RatingGroup": {"oneOf": [_ref("RatingGroupShown"), _ref("RatingGroupHidden"),
                              _ref("RatingGroupEmpty")],
                    "description": "The ratings of a month, site, channel or both; "
                                   "hidden (with the reason) when too few, or when they "
                                   "would let a smaller group be worked out."},
    "SiteChannelRow": _object({
        "site": _ref("SiteRef"),
        "cells": {"type": "array", "items": _object({"channel": {"enum": list(CHANNELS)},
                                                     "group": _ref("RatingGroup")})},
    }),
}

#: Patient activation over time: by period, and paired.
_ACTIVATION_CHANGE_SCHEMAS: Final[dict[str, Any]] = {
    "PeriodRow": _object({
        "site": _nullable(_ref("SiteRef")), "earlier": _ref("RatingGroup"),
        "later": _ref("RatingGroup"),
        "change_in_low_activation": _nullable(_object({
            "points": {"type": "number", "description": "Later minus earlier % low "
                                                        "activation, in points."},
            "lower": _NULLABLE_NUMBER, "upper": _NULLABLE_NUMBER,
            "confidence": {"type": "number"}})),
        "hidden_reason": {"type": ["string", "null"]},
    }, "The share of low activation in the earlier and later period (site null: all)."),
    "PairedChange": _object({
        "pairs": COUNT, **{key: _NULLABLE_NUMBER for key in _PAIRED_KEYS},
        "confidence": {"type": "number"},
        "moved_up": COUNT, "stayed": COUNT, "moved_down": COUNT,
        "regression_to_the_mean_caution": {"type": "boolean"},
        "caution": {"type": ["string", "null"]},
    }, "Change in rating for patients rated in both periods (first to latest)."),
    "PairedGroup": {"oneOf": [
        _object({"pairs": COUNT, "change": _nullable(_ref("PairedChange")),
                 "hidden_reason": NULL}),
        _object({"pairs": NULL, "change": NULL, "hidden_reason": REASON}),
    ]},
    "PairedRow": _object({
        "site": _nullable(_ref("SiteRef")), "all": _ref("PairedGroup"),
        "started_low": _ref("PairedGroup"), "started_higher": _ref("PairedGroup"),
        "verdict": {"enum": ["rose", "fell", "regression_to_the_mean", "no_clear_change",
                             "too_few"]},
        "sentence": {"type": "string"},
    }, "Paired change at a site (null: all sites), told apart from regression to the "
       "mean."),
}

#: The activation page as a whole, with NAPC's published figures.
_ACTIVATION_SCHEMAS: Final[dict[str, Any]] = {
    "Napc": _object({
        "gp_contacts_per_point": {"type": "number"},
        "care_demand_gbp_per_point": {"type": "number"},
        "summary": {"type": "string"}, "source": {"type": "string"},
        "caveat": {"type": "string"},
    }, "NAPC's published correlations per patient per year, with their source: not a "
       "saving measured by Pulse."),
    "Activation": _object({
        "int": _ref("IntRef"),
        "suppression_threshold": {"type": "integer", "minimum": 1},
        "filters": _object({"site": {"type": ["string", "null"]},
                            "channel": {"enum": [*CHANNELS, None]}}),
        "sites": {"type": "array", "items": _ref("SiteRef")},
        "channels": {"type": "array", "items": _ref("Channel")},
        "total": _ref("RatingGroup"),
        "months": {"type": "array", "items": _ref("RatingGroup"),
                   "description": "The months that have ended, oldest first."},
        "month_in_progress": {
            **_nullable(_ref("RatingGroup")),
            "description": "The current month (London time) so far; null before its first "
                           "rating. In no other figure (months, totals, sites, periods, "
                           "paired) until it ends."},
        "by_site": {"type": "array", "items": _ref("RatingGroup")},
        "by_channel": {"type": "array", "items": _ref("RatingGroup")},
        "site_channel": {"type": "array", "items": _ref("SiteChannelRow")},
        "periods": _object({"earlier": {"type": ["string", "null"]},
                            "later": {"type": ["string", "null"]},
                            "rows": {"type": "array", "items": _ref("PeriodRow")}}),
        "paired": {"type": "array", "items": _ref("PairedRow")},
        "napc": _ref("Napc"),
    }, "Patient activation ratings of the INT's sites, as on the activation page."),
}

#: The action log ("you said, we did").
_ACTION_SCHEMAS: Final[dict[str, Any]] = {
    "Action": _object({"taken_on": {"type": "string", "format": "date"},
                       "stage": {"type": "string"}, "description": {"type": "string"}}),
    "TeamActions": _object({"int": _ref("IntRef"), "team": _ref("TeamRef"),
                            "stages": {"type": "array", "items": {"type": "string"}},
                            "actions": {"type": "array", "items": _ref("Action")}},
                           "What was done for the team (\"you said, we did\"), oldest "
                           "first."),
}

#: Every schema of the document's components, built once.
SCHEMAS: Final[dict[str, Any]] = {
    **_REFERENCE_SCHEMAS,
    **_FIGURE_SCHEMAS,
    **_VERDICT_SCHEMAS,
    **_OVERVIEW_SCHEMAS,
    **_WAVE_SCHEMAS,
    **_RATING_GROUP_SCHEMAS,
    **_ACTIVATION_CHANGE_SCHEMAS,
    **_ACTIVATION_SCHEMAS,
    **_ACTION_SCHEMAS,
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}

#: The error responses the operations refer to.
RESPONSES: Final[dict[str, Any]] = {
    "Unauthorised": {
        **_error_response("No token, or one that is unknown or revoked, or whose "
                          "user is disabled."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    "Forbidden": _error_response("The token's user may not read this (a recorder, or "
                                 "a lead of another INT)."),
    "NotFound": _error_response("No such INT or team."),
    "BadRequest": _error_response("A filter names a site the INT does not have, or an "
                                  "unknown channel."),
    "TooManyRequests": _error_response("Too many requests with this token: wait, then "
                                       "try again."),
}


def _errors(*codes: int) -> dict[str, Any]:
    names = {400: "BadRequest", 401: "Unauthorised", 403: "Forbidden", 404: "NotFound",
             429: "TooManyRequests"}
    return {str(code): {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema)}}}


def _operation(operation_id: str, summary: str, schema: str, *,
               parameters: tuple[str, ...] = (), tag: str = "reports") -> dict[str, Any]:
    in_path = any(name.endswith("_slug") for name in parameters)
    in_query = len(parameters) > sum(name.endswith("_slug") for name in parameters)
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
        "responses": {"200": _ok(schema, summary),
                      **_errors(*((400,) if in_query else ()), 401, 403,
                                *((404,) if in_path else ()), 429)},
    }


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1.0 document, every endpoint of the blueprint described."""
    int_and_team = ("int_slug", "team_slug")
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Pulse reports API",
            "version": API_VERSION,
            "summary": "Read-only aggregates of Pulse's staff pulses, for INT leads and admins.",
            "description": (
                "The same figures as the report pages, computed the same way and hidden the "
                "same way: a team or wave with too few answers shows no figure, only why. "
                "Results appear only after a wave closes; while open, only its response "
                "rate. Create a token at /account/api-tokens and send it as "
                "'Authorization: Bearer <token>'. Every call is audited; calls are rate "
                "limited per token."),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": "reports", "description": "INT and team aggregates."},
                 {"name": "activation", "description": "Patient activation aggregates."},
                 {"name": "meta", "description": "This document."}],
        "paths": {
            "/openapi.json": {"get": {
                "operationId": "getOpenApi", "summary": "This OpenAPI document",
                "tags": ["meta"], "security": [],
                "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                      "content": {"application/json": {"schema": {
                                          "type": "object",
                                          "required": ["openapi", "info", "paths"]}}}},
                              **_errors(429)},
            }},
            "/ints": {"get": _operation("listInts", "The INTs the token may read, with "
                                                    "their teams", "IntList")},
            "/ints/{int_slug}/overview": {"get": _operation(
                "getIntOverview", "One row per team: its latest closed wave, trend and "
                                  "verdicts", "Overview", parameters=("int_slug",))},
            "/ints/{int_slug}/teams/{team_slug}/waves": {"get": _operation(
                "listTeamWaves", "The team's closed waves, and the open wave's response rate",
                "TeamWaves", parameters=int_and_team)},
            "/ints/{int_slug}/teams/{team_slug}/actions": {"get": _operation(
                "listTeamActions", "The team's action log", "TeamActions",
                parameters=int_and_team)},
            "/ints/{int_slug}/activation": {"get": _operation(
                "getIntActivation", "Patient activation: by month, site and channel, low "
                                    "activation over time, and paired change",
                "Activation", parameters=("int_slug", "site", "channel"), tag="activation")},
        },
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A personal API token from /account/api-tokens. It reads what "
                               "its user may read, until revoked."}},
            "parameters": {
                "int_slug": {"name": "int_slug", "in": "path", "required": True,
                             "description": "The INT's short name, as in /ints.",
                             "schema": SLUG},
                "team_slug": {"name": "team_slug", "in": "path", "required": True,
                              "description": "The team's short name within the INT.",
                              "schema": SLUG},
                "site": {"name": "site", "in": "query", "required": False,
                         "description": "Only this site (its code, as in the response's "
                                        "sites).", "schema": {"type": "string"}},
                "channel": {"name": "channel", "in": "query", "required": False,
                            "description": "Only ratings from this channel.",
                            "schema": {"enum": list(CHANNELS)}},
            },
            "responses": RESPONSES,
            "schemas": SCHEMAS,
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
