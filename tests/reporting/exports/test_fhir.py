"""FHIR R4B export of activation ratings, validated with fhir.resources' R4B models."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from questionnaires import load_all
from questionnaires.loader import Instrument
from survey_app.activation.nhs_number import NhsNumberError, parse_nhs_number, pseudonymise
from survey_app.models.activation import CHANNELS, CONSULTATION_TYPES, ActivationRating
from survey_app.reporting.exports.fhir import (
    CHANNEL_EXTENSION,
    CONSULTATION_TYPE_EXTENSION,
    EASY_READ_EXTENSION,
    PROXY_EXTENSION,
    SITE_EXTENSION,
    RatingRecord,
    VersionedRatings,
    questionnaire_canonical,
    questionnaire_resource,
    questionnaire_response_bundle,
    versioned_response_bundle,
)

BASE = "https://pulse.example.nhs.uk"
KEY = b"export-test-pseudonym-key"
SITES = {1: "Riverside Surgery", 2: "=Hill Street Pharmacy"}
GENERATED = datetime(2025, 3, 31, 17, 5, 9, tzinfo=UTC)
# A standalone run of 10 digits, optionally spaced 3-3-4 like an NHS number. Word
# boundaries keep the 64-hex pseudonyms (which may contain digit runs) out of it.
NHS_NUMBER_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{3}[ -]?\d{3}[ -]?\d{4}(?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return load_all()["patient-activation"]


@pytest.fixture(scope="module")
def nhs_numbers() -> list[str]:
    """Valid numbers from the 999 range the NHS keeps for testing."""
    found = []
    for candidate in range(999_000_0000, 999_000_0400):
        try:
            found.append(parse_nhs_number(str(candidate)))
        except NhsNumberError:
            continue
    return found[:30]


@pytest.fixture
def ratings(nhs_numbers: list[str]) -> list[RatingRecord]:
    channels = list(CHANNELS)
    types = [None, *CONSULTATION_TYPES]
    return [
        RatingRecord(
            id=f"{index:032x}",
            site_id=1 + index % 2,
            rated_on=date(2025, 1, 1) + timedelta(days=(7 * index) % 40),
            channel=channels[index % len(channels)],
            consultation_type=types[index % len(types)],
            proxy=index % 5 == 0,
            easy_read=index % 4 == 0,
            rating=1 + index % 4,
            # Every third patient did not ask for follow-up: no pseudonym.
            patient_pseudonym=None if index % 3 == 0 else pseudonymise(number, KEY),
        )
        for index, number in enumerate(nhs_numbers)
    ]


def export(ratings: list[RatingRecord], instrument: Instrument, **kwargs: Any) -> dict[str, Any]:
    return questionnaire_response_bundle(
        ratings, instrument=instrument, version=3, base_url=BASE, site_names=SITES,
        generated_at=GENERATED, **kwargs,
    )


def walk(node: Any, path: str = "$") -> list[str]:
    """Paths of values FHIR JSON forbids: null, empty strings, arrays and objects."""
    bad = []
    if node is None or node in ("", [], {}):
        bad.append(path)
    elif isinstance(node, dict):
        for key, value in node.items():
            bad += walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            bad += walk(value, f"{path}[{index}]")
    return bad


def extension(resource: QuestionnaireResponse, name: str) -> Any:
    url = f"{BASE}/fhir/StructureDefinition/{name}"
    found = [e for e in resource.extension or [] if e.url == url]
    assert len(found) <= 1
    return found[0] if found else None


# --- Questionnaire --------------------------------------------------------------


def test_the_questionnaire_validates_as_r4b(instrument):
    resource = questionnaire_resource(instrument, version=3, base_url=BASE + "/")
    parsed = Questionnaire.model_validate(json.loads(json.dumps(resource)))
    assert parsed.status == "active"
    assert parsed.url == f"{BASE}/fhir/Questionnaire/patient-activation"
    assert parsed.version == "3"
    assert parsed.title == "Looking after your health"
    assert parsed.name == "PatientActivation"
    assert [str(t) for t in parsed.subjectType] == ["Patient"]
    [item] = parsed.item
    assert (item.linkId, item.type, item.required) == ("activation", "choice", True)
    assert item.text == "How good are you at taking care of your health?"
    codings = [option.valueCoding for option in item.answerOption]
    assert {c.system for c in codings} == {f"{BASE}/fhir/CodeSystem/patient-activation"}
    assert [(c.code, c.display) for c in codings] == [
        ("1", "Not very"), ("2", "Okay"), ("3", "Good"), ("4", "Excellent"),
    ]
    assert json.loads(parsed.model_dump_json()) == resource
    assert walk(resource) == []


def test_every_patient_instrument_exports_as_a_valid_questionnaire():
    patient = [i for i in load_all().values() if i.audience == "patient"]
    assert patient
    for instrument in patient:
        resource = questionnaire_resource(instrument, version=1, base_url=BASE)
        Questionnaire.model_validate(resource)
        assert walk(resource) == []


def test_an_instrument_whose_codes_clash_is_refused_not_exported_ambiguously():
    # The team pulse's "neither" is "Neither likely nor unlikely" on one scale and
    # "Neither agree nor disagree" on another: one code system cannot mean both.
    with pytest.raises(ValueError, match="option value 'neither' means both"):
        questionnaire_resource(load_all()["team-pulse"], version=1, base_url=BASE)


@pytest.mark.parametrize("kwargs, message", [
    ({"version": 0, "base_url": BASE}, "version"),
    ({"version": 1, "base_url": "pulse.example"}, "base_url"),
    ({"version": 1, "base_url": "ftp://pulse.example"}, "base_url"),
    ({"version": 1, "base_url": BASE + "?x=1"}, "base_url"),
])
def test_bad_questionnaire_arguments_are_refused(instrument, kwargs, message):
    with pytest.raises(ValueError, match=message):
        questionnaire_resource(instrument, **kwargs)


# --- Bundle of QuestionnaireResponses ---------------------------------------------


def test_the_bundle_validates_as_r4b_and_is_plain_fhir_json(ratings, instrument):
    bundle = export(ratings, instrument)
    parsed = Bundle.model_validate(json.loads(json.dumps(bundle)))
    assert parsed.type == "collection"
    assert len(parsed.entry) == len(ratings)
    assert all(isinstance(e.resource, QuestionnaireResponse) for e in parsed.entry)
    assert json.loads(parsed.model_dump_json()) == bundle
    assert bundle["timestamp"] == "2025-03-31T17:05:09Z"
    assert walk(bundle) == []


def test_the_nhs_number_pattern_finds_numbers_but_not_hex_or_dates():
    assert NHS_NUMBER_LIKE.findall('{"value": "9990000018", "x": "999 000 0026"}') == [
        "9990000018", "999 000 0026",
    ]
    assert NHS_NUMBER_LIKE.findall('"ab9990000018cd", "2025-01-01", "12345678901"') == []


def test_no_nhs_number_appears_anywhere_in_the_export(ratings, instrument, nhs_numbers):
    assert len(nhs_numbers) == 30
    text = json.dumps(export(ratings, instrument))
    assert NHS_NUMBER_LIKE.findall(text) == []
    for number in nhs_numbers:
        assert number not in text
        assert f"{number[:3]} {number[3:6]} {number[6:]}" not in text


def test_values_dates_and_pseudonyms_round_trip(ratings, instrument):
    parsed = Bundle.model_validate(export(ratings, instrument))
    by_id = {r.id: r for r in ratings}
    assert {e.resource.id for e in parsed.entry} == set(by_id)
    for entry in parsed.entry:
        response = entry.resource
        rating = by_id[response.id]
        assert entry.fullUrl == f"{BASE}/fhir/QuestionnaireResponse/{rating.id}"
        assert response.status == "completed"
        assert response.questionnaire == f"{BASE}/fhir/Questionnaire/patient-activation|3"
        assert str(response.authored) == rating.rated_on.isoformat()
        [item] = response.item
        [answer] = item.answer
        assert item.linkId == "activation"
        assert answer.valueCoding.system == f"{BASE}/fhir/CodeSystem/patient-activation"
        assert answer.valueCoding.code == str(rating.rating)
        if rating.patient_pseudonym is None:
            assert response.subject is None
        else:
            assert response.subject.reference is None
            assert response.subject.identifier.system == f"{BASE}/fhir/pseudonym"
            assert response.subject.identifier.value == rating.patient_pseudonym
        assert response.source is None and response.author is None


def test_context_is_carried_in_documented_extensions(ratings, instrument):
    parsed = Bundle.model_validate(export(ratings, instrument))
    by_id = {r.id: r for r in ratings}
    for entry in parsed.entry:
        response = entry.resource
        rating = by_id[response.id]
        channel = extension(response, CHANNEL_EXTENSION).valueCoding
        assert channel.system == f"{BASE}/fhir/CodeSystem/activation-channel"
        assert channel.code == rating.channel
        consultation = extension(response, CONSULTATION_TYPE_EXTENSION)
        if rating.consultation_type is None:
            assert consultation is None
        else:
            assert consultation.valueCoding.code == rating.consultation_type
            assert (consultation.valueCoding.display
                    == CONSULTATION_TYPES[rating.consultation_type])
        assert extension(response, PROXY_EXTENSION).valueBoolean is rating.proxy
        assert extension(response, EASY_READ_EXTENSION).valueBoolean is rating.easy_read
        site = extension(response, SITE_EXTENSION).valueReference
        assert (site.type, site.display) == ("Location", SITES[rating.site_id])
        assert site.identifier.value == str(rating.site_id)


def test_responses_are_ordered_by_date_then_id_not_by_arrival(ratings, instrument):
    forwards = export(ratings, instrument)
    backwards = export(list(reversed(ratings)), instrument)
    assert forwards == backwards
    keys = [(e["resource"]["authored"], e["resource"]["id"]) for e in forwards["entry"]]
    assert keys == sorted(keys)


def test_the_canonical_reference_matches_the_questionnaire(instrument):
    questionnaire = questionnaire_resource(instrument, version=3, base_url=BASE)
    canonical = questionnaire_canonical(instrument, version=3, base_url=BASE)
    assert canonical == f"{questionnaire['url']}|{questionnaire['version']}"


def test_no_ratings_give_a_valid_empty_bundle(instrument):
    bundle = export([], instrument)
    assert bundle == {
        "resourceType": "Bundle", "type": "collection", "timestamp": "2025-03-31T17:05:09Z",
    }
    assert Bundle.model_validate(bundle).entry is None


def test_the_timestamp_defaults_to_now_in_utc(instrument):
    before = datetime.now(UTC).replace(microsecond=0)
    bundle = questionnaire_response_bundle(
        [], instrument=instrument, version=1, base_url=BASE, site_names={})
    stamp = datetime.fromisoformat(bundle["timestamp"].replace("Z", "+00:00"))
    assert before <= stamp <= datetime.now(UTC)


def test_a_timestamp_in_another_zone_is_written_in_utc(instrument):
    bst = timezone(timedelta(hours=1))
    bundle = questionnaire_response_bundle(
        [], instrument=instrument, version=1, base_url=BASE, site_names={},
        generated_at=datetime(2025, 6, 1, 9, 0, tzinfo=bst))
    assert bundle["timestamp"] == "2025-06-01T08:00:00Z"


def test_a_stored_rating_converts_to_a_record():
    stored = ActivationRating(
        id="ab" * 16, site_id=2, rated_on=date(2025, 2, 3), channel="kiosk",
        consultation_type="nurse", proxy=True, easy_read=False, questionnaire_version_id=7,
        rating=4, patient_pseudonym="0f" * 32, idempotency_key="k",
    )
    assert RatingRecord.from_rating(stored) == RatingRecord(
        id="ab" * 16, site_id=2, rated_on=date(2025, 2, 3), channel="kiosk",
        consultation_type="nurse", proxy=True, easy_read=False, rating=4,
        patient_pseudonym="0f" * 32,
    )


@pytest.mark.parametrize("change, message", [
    ({"patient_pseudonym": "9990000018"}, "pseudonym .* is not a 64-character hex HMAC"),
    ({"patient_pseudonym": "AB" * 32}, "pseudonym"),
    ({"rating": 5}, "rating 5 .* is not one of 1, 2, 3, 4"),
    ({"rating": 0}, "rating 0"),
    ({"site_id": 99}, "no name for site 99"),
    ({"channel": "fax"}, "channel 'fax'"),
    ({"consultation_type": "dentist"}, "consultation type 'dentist'"),
    ({"id": "not/an id"}, "not a valid FHIR id"),
    ({"rated_on": datetime(2025, 1, 1, 9, 30)}, "must be a date, not a datetime"),
])
def test_malformed_ratings_are_refused(ratings, instrument, change, message):
    with pytest.raises(ValueError, match=message):
        export([replace(ratings[1], **change)], instrument)


def test_a_naive_timestamp_is_refused(instrument):
    with pytest.raises(ValueError, match="generated_at"):
        questionnaire_response_bundle(
            [], instrument=instrument, version=1, base_url=BASE, site_names={},
            generated_at=datetime(2025, 1, 1))


def test_an_instrument_with_several_items_cannot_hold_a_rating(ratings):
    with pytest.raises(ValueError, match="exactly one choice item"):
        export(ratings, load_all()["team-pulse"])


def test_ratings_of_several_versions_go_in_one_bundle_each_referencing_its_own(
        ratings: list[RatingRecord], instrument: Instrument) -> None:
    older, newer = ratings[::2], ratings[1::2]
    bundle = versioned_response_bundle(
        [VersionedRatings(instrument, 1, older), VersionedRatings(instrument, 2, newer)],
        base_url=BASE, site_names=SITES, generated_at=GENERATED)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection" and parsed.timestamp is not None
    canonical = f"{BASE}/fhir/Questionnaire/{instrument.key}"
    version_of = {r.resource.id: r.resource.questionnaire for r in parsed.entry}
    assert {r.id: version_of[r.id] for r in older} == {r.id: f"{canonical}|1" for r in older}
    assert {r.id: version_of[r.id] for r in newer} == {r.id: f"{canonical}|2" for r in newer}
    # One order across versions, by date then id, as for a single version.
    assert [e["resource"]["id"] for e in bundle["entry"]] == [
        e["resource"]["id"] for e in export(ratings, instrument)["entry"]]
    assert {k: v for k, v in bundle.items() if k != "entry"} == {
        k: v for k, v in export([], instrument).items()}


def test_no_batches_or_empty_ones_give_a_bundle_with_no_entry(instrument: Instrument) -> None:
    for batches in ([], [VersionedRatings(instrument, 3, [])]):
        bundle = versioned_response_bundle(batches, base_url=BASE, site_names=SITES,
                                           generated_at=GENERATED)
        assert "entry" not in bundle
        assert Bundle.model_validate(bundle).entry is None
    with pytest.raises(ValueError, match="generated_at must be timezone-aware"):
        versioned_response_bundle([], base_url=BASE, site_names=SITES,
                                  generated_at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="version must be a whole number"):
        versioned_response_bundle([VersionedRatings(instrument, 0, [])], base_url=BASE,
                                  site_names=SITES, generated_at=GENERATED)
