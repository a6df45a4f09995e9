"""Fixtures for the API tests: the demo INT, tokens, and a check against the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlmodel import Session, select

from survey_app import demo
from survey_app.accounts import api_tokens
from survey_app.api.openapi import openapi_document
from survey_app.core.clock import utcnow
from survey_app.models import Neighbourhood, User

DOCUMENT_URI = "urn:pulse:openapi"
PREFIX = "/api/v1"


@dataclass
class DemoWorld:
    neighbourhood: Neighbourhood
    lead: User
    admin: User
    recorder: User


@pytest.fixture
def world(app, session: Session, riverside) -> DemoWorld:

    def user(name: str) -> User:
        return session.exec(select(User).where(User.email == f"{name}@{demo.EMAIL_DOMAIN}")).one()

    return DemoWorld(session.exec(select(Neighbourhood).where(
        Neighbourhood.slug == demo.INT_SLUG)).one(), user("lead"), user("admin"),
        user("recorder"))


@pytest.fixture
def issue_token(session: Session) -> Callable[[User], str]:
    """A fresh token for ``user``; returns the plaintext."""

    def issue(user: User, name: str = "test script") -> str:
        _token, plaintext = api_tokens.create_token(session, user_id=user.id, name=name,
                                                    now=utcnow())
        session.commit()
        return plaintext

    return issue


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def document() -> dict[str, Any]:
    return openapi_document()


def _pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@pytest.fixture(scope="session")
def conforms(document: dict[str, Any]) -> Callable[..., None]:
    """Assert a response matches the document's schema for its path and status.

    ``path`` is the document's path template (e.g. ``/ints/{int_slug}/overview``);
    None for an address the document does not describe, whose errors must still
    be the documented Error object. ``$ref``s resolve inside the document.
    """
    registry = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012))

    def check(response: Any, path: str | None) -> None:
        assert response.is_json, response.data[:200]
        if path is None:
            assert response.status_code >= 400
            pointer = "#/components/schemas/Error"
        else:
            responses = document["paths"][path]["get"]["responses"]
            status = str(response.status_code)
            assert status in responses, f"{path} does not document {status}"
            entry = responses[status]
            base = f"#/paths/{_pointer(path)}/get/responses/{status}"
            if "$ref" in entry:
                base = entry["$ref"]
            pointer = f"{base}/content/application~1json/schema"
        validator = Draft202012Validator({"$ref": DOCUMENT_URI + pointer}, registry=registry,
                                         format_checker=FormatChecker())
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in validator.iter_errors(response.get_json())]
        assert errors == [], f"{response.request.path} {response.status_code}: {errors[:5]}"

    return check
