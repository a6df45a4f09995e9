"""The FHIR export routes: admins only, audited, valid R4B, pseudonyms and never an NHS number."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlmodel import col, func, select

from survey_app import demo
from survey_app.demo.patients import DEMO_PASSWORD
from survey_app.models import ActivationRating, AuditEvent, QuestionnaireVersion, Site

BUNDLE = f"/reports/{demo.INT_SLUG}/activation/fhir/bundle.json"
QUESTIONNAIRE = "/reports/fhir/questionnaire.json"
ADMIN = f"admin@{demo.EMAIL_DOMAIN}"
LEAD = f"lead@{demo.EMAIL_DOMAIN}"
# A standalone run of 10 digits, optionally spaced 3-3-4 like an NHS number (as in
# tests/reporting/exports/test_fhir.py); word boundaries keep the hex pseudonyms out of it.
NHS_NUMBER_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{3}[ -]?\d{3}[ -]?\d{4}(?![0-9A-Za-z])")


@pytest.fixture
def admin(client, login, riverside):
    assert login(client, ADMIN, password=DEMO_PASSWORD).status_code == 302
    return client


def ratings_between(session, since=None, until=None) -> int:
    query = select(func.count()).select_from(ActivationRating).join(
        Site, col(Site.id) == col(ActivationRating.site_id))
    if since:
        query = query.where(col(ActivationRating.rated_on) >= since)
    if until:
        query = query.where(col(ActivationRating.rated_on) <= until)
    return session.exec(query).one()


@pytest.mark.parametrize("path", [BUNDLE, QUESTIONNAIRE])
def test_only_admins_may_export(client, login, riverside, path):
    assert client.get(path).status_code == 302  # anonymous: to the sign-in page
    assert login(client, LEAD, password=DEMO_PASSWORD).status_code == 302
    assert client.get(path).status_code == 403


def test_the_bundle_is_valid_r4b_with_every_rating_and_no_nhs_number(session, admin):
    response = admin.get(BUNDLE)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    text = response.get_data(as_text=True)
    bundle = Bundle.model_validate(json.loads(text))
    assert bundle.type == "collection"
    assert len(bundle.entry) == ratings_between(session) > 1000
    assert all(isinstance(e.resource, QuestionnaireResponse) for e in bundle.entry)
    assert NHS_NUMBER_LIKE.findall(text) == []
    version = session.exec(select(QuestionnaireVersion).where(
        QuestionnaireVersion.key == "patient-activation")).one()
    canonical = f"http://pulse.test/fhir/Questionnaire/patient-activation|{version.version}"
    assert {e.resource.questionnaire for e in bundle.entry} == {canonical}
    stored = {r.id: r for r in session.exec(select(ActivationRating))}
    with_subject = 0
    for entry in bundle.entry:
        rating = stored[entry.resource.id]
        assert entry.resource.item[0].answer[0].valueCoding.code == str(rating.rating)
        assert str(entry.resource.authored) == rating.rated_on.isoformat()
        if rating.patient_pseudonym is None:
            assert entry.resource.subject is None
        else:
            with_subject += 1
            assert entry.resource.subject.identifier.value == rating.patient_pseudonym
            assert re.fullmatch(r"[0-9a-f]{64}", rating.patient_pseudonym)
    assert with_subject > 100
    keys = [(str(e.resource.authored), e.resource.id) for e in bundle.entry]
    assert keys == sorted(keys)


def test_the_bundle_can_be_limited_to_dates(session, admin):
    first = session.exec(select(func.min(ActivationRating.rated_on))).one()
    since, until = date(first.year, first.month, 1), date(first.year, first.month, 28)
    response = admin.get(BUNDLE, query_string={"since": since.isoformat(),
                                               "until": until.isoformat()})
    bundle = Bundle.model_validate(response.get_json(force=True))
    assert 0 < len(bundle.entry) == ratings_between(session, since, until)
    assert all(since <= date.fromisoformat(str(e.resource.authored)) <= until
               for e in bundle.entry)
    empty = admin.get(BUNDLE, query_string={"until": "2000-01-01"})
    assert Bundle.model_validate(empty.get_json(force=True)).entry is None


@pytest.mark.parametrize("query, words", [
    ({"since": "2025-13-01"}, "since must be a date written YYYY-MM-DD"),
    ({"until": "yesterday"}, "until must be a date written YYYY-MM-DD"),
    ({"since": "20250101"}, "since must be a date"),
    ({"since": "2025-03-01", "until": "2025-02-01"}, "since must not be after until"),
])
def test_bad_dates_are_refused_with_a_reason(session, admin, query, words):
    response = admin.get(BUNDLE, query_string=query)
    assert response.status_code == 400
    assert response.is_json
    body = response.get_json()
    assert body["error"] == "bad request" and words in body["reason"]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "export.fhir")).all() == []


def test_an_unknown_int_is_a_json_404(admin):
    response = admin.get("/reports/nowhere/activation/fhir/bundle.json")
    assert response.status_code == 404 and "nowhere" in response.get_json()["reason"]


def test_every_export_is_audited_without_answers(session, admin):
    admin.get(BUNDLE, query_string={"since": "2020-01-01"})
    admin.get(QUESTIONNAIRE)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "export.fhir")
                          .order_by(col(AuditEvent.id))).all()
    assert [e.target for e in events] == [f"activation:{demo.INT_SLUG}",
                                          "questionnaire:patient-activation"]
    detail = json.loads(events[0].detail)
    assert detail == {"resource": "Bundle", "since": "2020-01-01", "until": None,
                      "ratings": ratings_between(session)}
    assert all(e.user_id is not None for e in events)


def test_the_questionnaire_is_valid_r4b_and_matches_the_bundle(session, admin):
    response = admin.get(QUESTIONNAIRE)
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    questionnaire = Questionnaire.model_validate(response.get_json(force=True))
    assert questionnaire.url == "http://pulse.test/fhir/Questionnaire/patient-activation"
    first = Bundle.model_validate(admin.get(BUNDLE).get_json(force=True)).entry[0]
    assert first.resource.questionnaire == f"{questionnaire.url}|{questionnaire.version}"
    again = admin.get(QUESTIONNAIRE, query_string={"version": questionnaire.version})
    assert again.get_json(force=True) == response.get_json(force=True)


@pytest.mark.parametrize("version, status", [
    ("0", 400), ("two", 400), ("99", 404),
    ("²", 400),  # str.isdigit() says yes; int() refuses it
    ("99999999999999999999", 400),  # beyond the database's integer
    ("-1", 400), (" 1", 400), ("1.0", 400), ("١", 400),  # Arabic-Indic one
])
def test_an_unknown_questionnaire_version_is_refused(admin, version, status):
    response = admin.get(QUESTIONNAIRE, query_string={"version": version})
    assert response.status_code == status and response.is_json
    assert response.get_json()["reason"]
    if status == 400:
        assert repr(version) in response.get_json()["reason"]


def stored_versions(session) -> list[tuple[str, int]]:
    session.expire_all()
    return [(v.key, v.version) for v in session.exec(
        select(QuestionnaireVersion).order_by(col(QuestionnaireVersion.id)))]


def test_getting_the_questionnaire_writes_no_version(session, admin):
    before = stored_versions(session)
    response = admin.get(QUESTIONNAIRE)
    assert response.status_code == 200
    assert stored_versions(session) == before
    [stored] = [v for k, v in before if k == "patient-activation"]
    assert response.get_json(force=True)["version"] == str(stored)


def test_a_new_wording_is_exported_as_the_next_version_without_storing_it(app, session,
                                                                          admin):
    before = stored_versions(session)
    instruments = app.extensions["pulse_instruments"]
    original = instruments["patient-activation"]
    [item] = original.items
    instruments["patient-activation"] = dataclasses.replace(
        original, items=(dataclasses.replace(item, text="How sure are you, today?"),))
    try:
        response = admin.get(QUESTIONNAIRE)
    finally:
        instruments["patient-activation"] = original
    questionnaire = Questionnaire.model_validate(response.get_json(force=True))
    latest = max(v for k, v in before if k == "patient-activation")
    assert questionnaire.version == str(latest + 1)
    assert questionnaire.item[0].text == "How sure are you, today?"
    assert stored_versions(session) == before


def test_before_any_version_is_stored_the_questionnaire_is_version_1(client, login, session,
                                                                     make_user, make_site):
    make_site(code="EMP", int_slug="empty-int")
    make_user("admin", email="admin@example.test")
    assert login(client, "admin@example.test").status_code == 302
    assert stored_versions(session) == []
    response = client.get(QUESTIONNAIRE)
    assert response.status_code == 200
    assert Questionnaire.model_validate(response.get_json(force=True)).version == "1"
    # An INT without ratings gives a valid Bundle with no entry.
    empty = client.get("/reports/empty-int/activation/fhir/bundle.json")
    assert empty.status_code == 200
    assert Bundle.model_validate(empty.get_json(force=True)).entry is None
    assert stored_versions(session) == []
