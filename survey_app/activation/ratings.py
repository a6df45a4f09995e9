"""Recording activation and experience ratings, once each, with pseudonyms only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from questionnaires import Instrument
from survey_app.activation.nhs_number import parse_nhs_number, pseudonymise
from survey_app.activation.pseudonyms import PseudonymKeys, rekey_patient
from survey_app.core import audit
from survey_app.core.instruments import ensure_version
from survey_app.models import (
    CHANNELS,
    CONSULTATION_TYPES,
    ActivationRating,
    AuditEvent,
    ExperienceRating,
    Neighbourhood,
    Site,
)

ACTIVATION = "patient-activation"
EXPERIENCE = "patient-fft"
UNDO_WINDOW = timedelta(minutes=5)
DEFAULT_LOW_PROMPT = (
    "A rating of 1 or 2 means low activation: consider offering social prescribing or "
    "health coaching, and agree one small next step together."
)


def rating_labels(instrument: Instrument) -> dict[int, str]:
    """Each rating's answer words ({1: "Not very", ...}), as the instrument words them."""
    return {int(option.value): option.label for option in instrument.item("activation").options}


class RatingError(ValueError):
    """A rating that cannot be stored; the message is for the person entering it."""


@dataclass(frozen=True, slots=True)
class RatingInput:
    site: Site
    channel: str
    rating: int
    on: date
    idempotency_key: str
    consultation_type: str | None = None
    proxy: bool = False
    easy_read: bool = False
    nhs_number: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    rating: ActivationRating
    created: bool  # False when this idempotency key had already stored it


def record_activation(session: Session, *, entry: RatingInput, instrument: Instrument,
                      pseudonym_key: PseudonymKeys | None, user_id: int | None,
                      now: datetime) -> Recorded:
    """Store one activation rating, or return the one this form already stored.

    An NHS number is pseudonymised under ``pseudonym_key.current`` and the key's
    id kept beside it; during a key change the patient's earlier ratings under
    the old key move to the new pseudonym in this same transaction (see
    :mod:`survey_app.activation.pseudonyms`). The caller commits.

    Raises
    ------
    RatingError
        For a value outside 1-4, an unknown channel or consultation type, or an
        NHS number that is invalid or cannot be pseudonymised (no key set).
    """
    if entry.rating not in (1, 2, 3, 4):
        raise RatingError("Choose one of the four answers, 1 to 4")
    if entry.channel not in CHANNELS:
        raise RatingError(f"Unknown channel '{entry.channel}'")
    if entry.consultation_type is not None and entry.consultation_type not in CONSULTATION_TYPES:
        raise RatingError("Choose a consultation type from the list")
    if not entry.idempotency_key or len(entry.idempotency_key) > 64:
        raise RatingError("This form is incomplete: reload the page and try again")
    nhs_number = pseudonym = key_id = None
    if entry.nhs_number:
        if pseudonym_key is None:
            raise RatingError("Follow-up by NHS number is not set up on this system, so NHS "
                              "numbers cannot be stored. Leave the box empty.")
        nhs_number = parse_nhs_number(entry.nhs_number)
        pseudonym = pseudonymise(nhs_number, pseudonym_key.current.secret)
        key_id = pseudonym_key.current.key_id
    existing = _activation_by_key(session, entry.idempotency_key)
    if existing is not None:
        return Recorded(existing, created=False)
    if nhs_number is not None and pseudonym_key is not None:
        # Before the insert: the re-key's UPDATE opens the transaction, so on SQLite
        # too the insert's savepoint below is nested in it (a savepoint opened
        # outside a transaction would commit the rating alone on release).
        rekey_patient(session, nhs_number=nhs_number, keys=pseudonym_key)
    version = ensure_version(session, instrument=instrument)
    rating = ActivationRating(
        site_id=entry.site.id or 0, rated_on=entry.on, channel=entry.channel,
        consultation_type=entry.consultation_type, proxy=entry.proxy, easy_read=entry.easy_read,
        questionnaire_version_id=version.id or 0, rating=entry.rating,
        patient_pseudonym=pseudonym, pseudonym_key_id=key_id,
        idempotency_key=entry.idempotency_key,
    )
    try:
        with session.begin_nested():
            session.add(rating)
    except IntegrityError:
        # A concurrent double tap stored it between our check and insert.
        stored = _activation_by_key(session, entry.idempotency_key)
        if stored is None:
            raise
        return Recorded(stored, created=False)
    if user_id is not None:
        # Who recorded it, for undo and accountability. Patients' own answers
        # (kiosk, QR) have nobody to record, and an exact time would only add
        # detail the rating itself leaves out.
        audit.record(session, user_id=user_id, action=f"activation.record.{entry.channel}",
                     target=rating.id, now=now)
    return Recorded(rating, created=True)


def record_experience(session: Session, *, site: Site, channel: str, answer: str, on: date,
                      idempotency_key: str, instrument: Instrument) -> bool:
    """Store one Friends and Family Test answer; False if this form already stored it."""
    if answer not in instrument.item("experience").values:
        raise RatingError("Choose one of the answers shown")
    if _experience_by_key(session, idempotency_key) is not None:
        return False
    version = ensure_version(session, instrument=instrument)
    try:
        with session.begin_nested():
            session.add(ExperienceRating(
                site_id=site.id or 0, rated_on=on, channel=channel, answer=answer,
                questionnaire_version_id=version.id or 0, idempotency_key=idempotency_key,
            ))
    except IntegrityError:
        return False
    return True


def undo_rating(session: Session, *, rating_id: str, user_id: int, now: datetime) -> bool:
    """Delete a rating this user recorded within the undo window; False if not allowed."""
    recorded = session.exec(
        select(AuditEvent).where(AuditEvent.target == rating_id, AuditEvent.user_id == user_id,
                                 col(AuditEvent.action).startswith("activation.record"))
    ).first()
    rating = session.get(ActivationRating, rating_id)
    if recorded is None or rating is None:
        return False
    recorded_at = recorded.at if recorded.at.tzinfo else recorded.at.replace(tzinfo=now.tzinfo)
    if now - recorded_at > UNDO_WINDOW:
        return False
    session.delete(rating)
    audit.record(session, user_id=user_id, action="activation.undo", target=rating_id, now=now)
    return True


def low_activation_prompt(neighbourhood: Neighbourhood) -> str:
    return neighbourhood.low_activation_prompt or DEFAULT_LOW_PROMPT


@dataclass(frozen=True, slots=True)
class ActivationSummary:
    total: int
    by_rating: dict[str, int]
    by_channel: dict[str, int] = field(default_factory=dict)
    patients_followed: int = 0


def summarise(session: Session, *, neighbourhood: Neighbourhood) -> ActivationSummary:
    """Counts by rating and channel for an INT (for scripts and deployment checks)."""
    in_int = col(Site.neighbourhood_id) == neighbourhood.id
    by_rating = {str(value): 0 for value in range(1, 5)}
    for value, count in session.exec(
        select(ActivationRating.rating, func.count())
        .join(Site, col(Site.id) == col(ActivationRating.site_id)).where(in_int)
        .group_by(col(ActivationRating.rating))
    ):
        by_rating[str(value)] = count
    by_channel = {channel: 0 for channel in CHANNELS}
    for channel, count in session.exec(
        select(ActivationRating.channel, func.count())
        .join(Site, col(Site.id) == col(ActivationRating.site_id)).where(in_int)
        .group_by(col(ActivationRating.channel))
    ):
        by_channel[channel] = count
    followed = session.exec(
        select(func.count(func.distinct(col(ActivationRating.patient_pseudonym))))
        .join(Site, col(Site.id) == col(ActivationRating.site_id)).where(in_int)
    ).one()
    return ActivationSummary(sum(by_rating.values()), by_rating, by_channel, int(followed))


def _activation_by_key(session: Session, key: str) -> ActivationRating | None:
    return session.exec(
        select(ActivationRating).where(ActivationRating.idempotency_key == key)
    ).first()


def _experience_by_key(session: Session, key: str) -> ExperienceRating | None:
    return session.exec(
        select(ExperienceRating).where(ExperienceRating.idempotency_key == key)
    ).first()
