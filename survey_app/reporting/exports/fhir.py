"""FHIR R4B export of patient activation ratings, with the Questionnaire they answer.

Pure functions: plain records in, JSON-ready dicts out; the caller loads the
ratings the user may see, checks the admin role and writes the audit event.

How a rating is represented (a ``QuestionnaireResponse`` per rating):

``id``
    The rating's id (32 hex characters, a valid FHIR id).
``questionnaire``
    The canonical ``{base_url}/fhir/Questionnaire/{key}|{version}``.
``status`` / ``authored``
    ``completed``; the date of the rating. Pulse keeps a date, not a time, on
    purpose, and the export adds none.
``subject``
    Only when follow-up was asked for: an identifier-only reference,
    ``{"type": "Patient", "identifier": {"system": "{base_url}/fhir/pseudonym",
    "value": <keyed HMAC-SHA256, 64 hex>}}``. Never an NHS number: a pseudonym
    that is not 64 lower-case hex characters is refused. ``source`` is not used:
    it names who answered, not whom the answers are about.
``item``
    One item, linkId ``activation``, whose ``valueCoding`` is the rating in the
    instrument's code system ``{base_url}/fhir/CodeSystem/{key}``.
``extension``
    How the rating was taken, which is context rather than an answer the
    patient gave (so not an ``item``, which must match a Questionnaire item).
    Each is defined by Pulse at ``{base_url}/fhir/StructureDefinition/NAME``:

    - ``activation-channel``: ``valueCoding`` in ``{base_url}/fhir/CodeSystem/
      activation-channel`` (clinician, kiosk, qr);
    - ``consultation-type``: ``valueCoding`` in ``{base_url}/fhir/CodeSystem/
      consultation-type`` (gp, nurse, ...); absent when not recorded;
    - ``answered-by-proxy``: ``valueBoolean``, true when a carer answered;
    - ``easy-read``: ``valueBoolean``, true when the easy-read words and
      pictures were shown;
    - ``activation-site``: ``valueReference`` to the site, ``{"type":
      "Location", "identifier": {"system": "{base_url}/fhir/site", "value":
      "<site id>"}, "display": <site name>}``. Not ``author``: that is whoever
      recorded the answers and may not be a Location.

The ratings go in a ``collection`` Bundle, ordered by date and then id (ids are
random, so the order within a day says nothing about who came first). Ratings
that answered different versions of the instrument go in one Bundle with
:func:`versioned_response_bundle`, each referencing its own version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from questionnaires.loader import Instrument, Item, Option
from survey_app.core.clock import utcnow
from survey_app.models.activation import CHANNEL_DISPLAY, CHANNELS, CONSULTATION_TYPES
from survey_app.reporting.activation_report.records import RatingRecord, VersionedRatings

__all__ = [
    "CHANNEL_EXTENSION",
    "CONSULTATION_TYPE_EXTENSION",
    "EASY_READ_EXTENSION",
    "PROXY_EXTENSION",
    "SITE_EXTENSION",
    "RatingRecord",
    "VersionedRatings",
    "questionnaire_canonical",
    "questionnaire_resource",
    "questionnaire_response_bundle",
    "versioned_response_bundle",
]

#: Names of Pulse's extensions, under ``{base_url}/fhir/StructureDefinition/``.
CHANNEL_EXTENSION = "activation-channel"
CONSULTATION_TYPE_EXTENSION = "consultation-type"
PROXY_EXTENSION = "answered-by-proxy"
EASY_READ_EXTENSION = "easy-read"
SITE_EXTENSION = "activation-site"

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")


def questionnaire_canonical(instrument: Instrument, *, version: int, base_url: str) -> str:
    """The versioned canonical reference ``url|version`` of the instrument's Questionnaire."""
    base = _base(base_url)
    return f"{_questionnaire_url(instrument, base)}|{_version(version)}"


def questionnaire_resource(
    instrument: Instrument, *, version: int, base_url: str
) -> dict[str, Any]:
    """The instrument as a FHIR R4B ``Questionnaire`` (JSON-ready dict).

    Each item keeps its id as ``linkId``; a choice item lists its options as
    ``answerOption.valueCoding`` in the code system
    ``{base_url}/fhir/CodeSystem/{key}`` (code = option value, display = label).

    Raises
    ------
    ValueError
        If `version` is below 1, `base_url` is not an absolute http(s) URL, the
        key is not a valid FHIR id, or two items use one option value with
        different labels (one code system per instrument cannot hold both).
    """
    base = _base(base_url)
    version_text = _version(version)
    if not _FHIR_ID.fullmatch(instrument.key):
        raise ValueError(f"instrument: key {instrument.key!r} is not a valid FHIR id")
    _check_one_meaning_per_code(instrument)
    system = _code_system(instrument, base)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.key,
        "url": _questionnaire_url(instrument, base),
        "version": version_text,
        "name": _computable_name(instrument.key),
        "title": instrument.title,
        "status": "active",
    }
    if instrument.audience == "patient":
        resource["subjectType"] = ["Patient"]
    if instrument.intro:
        resource["description"] = instrument.intro
    resource["item"] = [_questionnaire_item(item, system) for item in instrument.items]
    return resource


def questionnaire_response_bundle(
    ratings: Iterable[RatingRecord],
    *,
    instrument: Instrument,
    version: int,
    base_url: str,
    site_names: Mapping[int, str],
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """A FHIR R4B ``collection`` Bundle with one ``QuestionnaireResponse`` per rating.

    See the module docstring for how each field of a rating is represented.
    `generated_at` (timezone-aware; default now) is the Bundle's ``timestamp``.
    No ratings give a valid Bundle with no ``entry``.

    Raises
    ------
    ValueError
        If the instrument has other than one choice item, a rating is not one of
        its options, a rating's id, channel or consultation type is unknown or
        malformed, a pseudonym is not 64 lower-case hex characters, a date is a
        datetime, a site has
        no name in `site_names`, or `generated_at` is naive.
    """
    return versioned_response_bundle(
        [VersionedRatings(instrument, version, list(ratings))], base_url=base_url,
        site_names=site_names, generated_at=generated_at)


def versioned_response_bundle(
    batches: Iterable[VersionedRatings],
    *,
    base_url: str,
    site_names: Mapping[int, str],
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """One ``collection`` Bundle of ratings that answered several versions of an instrument.

    As :func:`questionnaire_response_bundle`, except that each batch's
    responses reference the version that batch answered. The entries of every
    batch are ordered together, by date and then id. No batches, or batches
    without ratings, give a valid Bundle with no ``entry``.

    Raises
    ------
    ValueError
        As :func:`questionnaire_response_bundle`, for any batch.
    """
    base = _base(base_url)
    versions = [
        (batch,
         questionnaire_canonical(batch.instrument, version=batch.version, base_url=base),
         _single_choice_item(batch.instrument), _code_system(batch.instrument, base))
        for batch in batches
    ]
    moment = utcnow() if generated_at is None else generated_at
    if moment.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    keyed: list[tuple[tuple[date, str], dict[str, Any]]] = []
    for batch, canonical, item, system in versions:
        keyed += [
            ((rating.rated_on, rating.id), {
                "fullUrl": f"{base}/fhir/QuestionnaireResponse/{rating.id}",
                "resource": _response(rating, item, system, canonical, base, site_names),
            })
            for rating in batch.ratings
        ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(moment),
    }
    if keyed:  # FHIR forbids empty arrays
        keyed.sort(key=lambda pair: pair[0])
        bundle["entry"] = [entry for _key, entry in keyed]
    return bundle


# --- pieces -------------------------------------------------------------------


def _base(base_url: str) -> str:
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or (
        parts.fragment
    ):
        raise ValueError(f"base_url must be an absolute http(s) URL (got {base_url!r})")
    return base


def _version(version: int) -> str:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a whole number of at least 1 (got {version!r})")
    return str(version)


def _questionnaire_url(instrument: Instrument, base: str) -> str:
    return f"{base}/fhir/Questionnaire/{instrument.key}"


def _code_system(instrument: Instrument, base: str) -> str:
    return f"{base}/fhir/CodeSystem/{instrument.key}"


def _extension_url(base: str, name: str) -> str:
    return f"{base}/fhir/StructureDefinition/{name}"


def _computable_name(key: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_.]", key) if part)
    # FHIR's name pattern starts with a capital letter.
    return name if name[:1].isalpha() else "Q" + name


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check_one_meaning_per_code(instrument: Instrument) -> None:
    labels: dict[str, str] = {}
    for item in instrument.items:
        for option in item.options:
            seen = labels.setdefault(option.value, option.label)
            if seen != option.label:
                raise ValueError(
                    f"instrument: option value {option.value!r} means both {seen!r} and "
                    f"{option.label!r}; one code system per instrument cannot hold both"
                )


def _questionnaire_item(item: Item, system: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "linkId": item.id,
        "text": item.text,
        "type": item.kind,  # Pulse's kinds, choice and text, are FHIR item types too
        "required": item.role == "core",
    }
    if item.kind == "choice":
        entry["answerOption"] = [
            {"valueCoding": {"system": system, "code": option.value, "display": option.label}}
            for option in item.options
        ]
    elif item.max_length is not None:
        entry["maxLength"] = item.max_length
    return entry


def _single_choice_item(instrument: Instrument) -> Item:
    if len(instrument.items) != 1 or instrument.items[0].kind != "choice":
        raise ValueError(
            f"instrument: {instrument.key!r} must have exactly one choice item to hold a rating"
        )
    return instrument.items[0]


def _response(
    rating: RatingRecord,
    item: Item,
    system: str,
    canonical: str,
    base: str,
    site_names: Mapping[int, str],
) -> dict[str, Any]:
    option = _rated_option(rating, item)
    _check_rating_context(rating)
    site_name = site_names.get(rating.site_id)
    if site_name is None:
        raise ValueError(f"site_names: no name for site {rating.site_id}")
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": rating.id,
        "extension": _extensions(rating, base, site_name),
        "questionnaire": canonical,
        "status": "completed",
    }
    if rating.patient_pseudonym is not None:
        resource["subject"] = _subject(rating.id, rating.patient_pseudonym, base)
    resource["authored"] = rating.rated_on.isoformat()
    resource["item"] = _answer_items(item, option, system)
    return resource


def _rated_option(rating: RatingRecord, item: Item) -> Option:
    """The item's option the rating chose, once its id is known to be a valid FHIR id."""
    if not _FHIR_ID.fullmatch(rating.id):
        raise ValueError(f"ratings: id {rating.id!r} is not a valid FHIR id")
    option = next((o for o in item.options if o.value == str(rating.rating)), None)
    if option is None:
        raise ValueError(
            f"ratings: rating {rating.rating!r} of {rating.id} is not one of "
            f"{', '.join(item.values)}"
        )
    return option


def _check_rating_context(rating: RatingRecord) -> None:
    if rating.channel not in CHANNELS:
        raise ValueError(f"ratings: channel {rating.channel!r} of {rating.id} is unknown")
    if rating.consultation_type is not None and (
        rating.consultation_type not in CONSULTATION_TYPES
    ):
        raise ValueError(
            f"ratings: consultation type {rating.consultation_type!r} of {rating.id} is unknown"
        )
    if isinstance(rating.rated_on, datetime):
        # Pulse keeps the date of a rating, never its time; a datetime here is a mistake.
        raise ValueError(f"ratings: rated_on of {rating.id} must be a date, not a datetime")


def _coding_extension(base: str, name: str, code: str, display: str) -> dict[str, Any]:
    """An extension whose value is a code in Pulse's code system of the same name."""
    return {
        "url": _extension_url(base, name),
        "valueCoding": {
            "system": f"{base}/fhir/CodeSystem/{name}",
            "code": code,
            "display": display,
        },
    }


def _extensions(rating: RatingRecord, base: str, site_name: str) -> list[dict[str, Any]]:
    """How the rating was taken: channel, consultation type if recorded, proxy, easy read, site."""
    extensions = [
        _coding_extension(base, CHANNEL_EXTENSION, rating.channel,
                          CHANNEL_DISPLAY[rating.channel]),
    ]
    if rating.consultation_type is not None:
        extensions.append(_coding_extension(base, CONSULTATION_TYPE_EXTENSION,
                                            rating.consultation_type,
                                            CONSULTATION_TYPES[rating.consultation_type]))
    extensions += [
        {"url": _extension_url(base, PROXY_EXTENSION), "valueBoolean": rating.proxy},
        {"url": _extension_url(base, EASY_READ_EXTENSION), "valueBoolean": rating.easy_read},
        {
            "url": _extension_url(base, SITE_EXTENSION),
            "valueReference": {
                "type": "Location",
                "identifier": {"system": f"{base}/fhir/site", "value": str(rating.site_id)},
                "display": site_name,
            },
        },
    ]
    return extensions


def _subject(rating_id: str, pseudonym: str, base: str) -> dict[str, Any]:
    """An identifier-only reference to the patient by pseudonym, never by NHS number."""
    if not _PSEUDONYM.fullmatch(pseudonym):
        # Guards against an NHS number (or anything else) passed by mistake.
        raise ValueError(
            f"ratings: the pseudonym of {rating_id} is not a 64-character hex HMAC"
        )
    return {
        "type": "Patient",
        "identifier": {"system": f"{base}/fhir/pseudonym", "value": pseudonym},
    }


def _answer_items(item: Item, option: Option, system: str) -> list[dict[str, Any]]:
    """The one item, answered with the chosen option as a coding."""
    return [{
        "linkId": item.id,
        "text": item.text,
        "answer": [{
            "valueCoding": {"system": system, "code": option.value, "display": option.label},
        }],
    }]
