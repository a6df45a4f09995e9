"""The OpenAPI document: valid OpenAPI 3.1, public, and describing every API route."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from survey_app.api.openapi import openapi_document
from tests.api.conftest import PREFIX


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any error, with the path to it


def test_the_document_is_served_without_a_token(client, document):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == openapi_document()
    assert response.headers["Cache-Control"] == "no-store"


def _template(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.removeprefix(PREFIX))


def test_every_api_route_is_in_the_document(app, document):
    routes = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX + "/")]
    assert len(routes) >= 5
    for rule in routes:
        path = _template(rule.rule)
        assert path in document["paths"], f"{rule.rule} is not documented"
        documented = {method.upper() for method in document["paths"][path]}
        assert rule.methods - {"HEAD", "OPTIONS"} == documented, rule.rule
        operation = document["paths"][path]["get"]
        # Each path parameter is documented, and each documented one is in the path.
        names = set()
        for parameter in operation.get("parameters", []):
            definition = document["components"]["parameters"][parameter["$ref"].rsplit("/")[-1]]
            if definition["in"] == "path":
                names.add(definition["name"])
        assert names == set(rule.arguments), rule.rule


def test_every_data_endpoint_needs_the_bearer_token_and_documents_its_errors(document):
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http", "scheme": "bearer"}
    for path, item in document["paths"].items():
        operation = item["get"]
        if path == "/openapi.json":
            assert operation["security"] == []
            continue
        assert "security" not in operation  # the document-wide bearerAuth applies
        assert {"200", "401", "403", "429"} <= set(operation["responses"]), path
        if "{" in path:
            assert "404" in operation["responses"], path
