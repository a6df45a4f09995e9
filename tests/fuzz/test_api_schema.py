"""The read-only JSON API against its own OpenAPI document, with schemathesis.

Schemathesis reads the document the app serves (/api/v1/openapi.json), generates
requests for each operation (path parameters, query strings) and calls the Flask app
in-process (WSGI) with the demo INT loaded and an admin's valid bearer token. Checks:
no server error, every response conforms to its documented schema, and every status
code is one the document lists for the operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import select

from survey_app import demo
from survey_app.accounts import api_tokens
from survey_app.api.openapi import openapi_document
from survey_app.core.clock import utcnow
from survey_app.models import Team, User
from tests.fuzz.conftest import fuzz_settings

PREFIX = "/api/v1"
OPERATIONS = [(method.upper(), path) for path, item in openapi_document()["paths"].items()
              for method in item]
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def api_token(session, riverside) -> str:
    admin = session.exec(select(User).where(User.email == f"admin@{demo.EMAIL_DOMAIN}")).one()
    _token, plaintext = api_tokens.create_token(session, user_id=admin.id, name="schemathesis",
                                                now=utcnow())
    session.commit()
    return plaintext


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_conforms_to_its_openapi_document(app, session, riverside, api_token, method,
                                                  path):
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)
    operation = schema[path][method]
    teams = session.exec(select(Team.slug).where(Team.neighbourhood_id == riverside.id)).all()
    calls: list[int] = []

    def with_real_slugs(case: Case, team: str) -> Case:
        # Random slugs only ever meet 404s: half the cases name the demo's INT and teams.
        if case.path_parameters:
            if "int_slug" in case.path_parameters:
                case.path_parameters["int_slug"] = demo.INT_SLUG
            if "team_slug" in case.path_parameters:
                case.path_parameters["team_slug"] = team
        return case

    strategy = operation.as_strategy()
    cases = st.one_of(strategy, st.tuples(strategy, st.sampled_from(sorted(teams))).map(
        lambda pair: with_real_slugs(*pair)))

    @fuzz_settings(max_examples=16)
    @given(case=cases)
    def run(case: Case) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"},
                                          checks=CHECKS)
        calls.append(response.status_code)

    run()
    assert 200 in calls, calls  # the demo's data was reached, not only errors
