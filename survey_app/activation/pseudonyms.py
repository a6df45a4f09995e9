"""Changing the pseudonym key: a transition from the old key to the new, patient by patient.

A pseudonym is HMAC(key, NHS number) and NHS numbers are never stored, so the
stored pseudonyms cannot be re-keyed in bulk. While both keys are configured,
every rating is made under the new key, and a rating whose NHS number also
matches an old-key pseudonym moves that patient's earlier ratings to the new
pseudonym, in the same transaction as the rating itself (so a crash leaves the
patient wholly under the old key, still matchable, or wholly under the new).
Ending the transition clears the old-key pseudonyms that were never matched:
those ratings stay in every count but no longer link to a patient, and how
many is kept for the activation report.

A rating's ``pseudonym_key_id`` names the key that made its pseudonym. Ratings
stored before key ids were recorded have none; they were made by the key
configured then, which is the old key of the first transition (before any
transition, the current key). So during a transition an unlabelled pseudonym
counts as the old key's, and outside one a rating labels the unlabelled
ratings of its own pseudonym (an equal HMAC proves the same key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import Session, col, func, select

from survey_app.activation.nhs_number import pseudonymise
from survey_app.core import audit
from survey_app.core.clock import local_date
from survey_app.models import ActivationRating, AppSetting, Site

#: AppSetting keys recording the last transition's end (per-INT counts under UNLINKED).
ENDED_ON = "pseudonym_key_change.ended_on"
OLD_KEY_ID = "pseudonym_key_change.old_key_id"
UNLINKED = "pseudonym_key_change.unlinked."


class PseudonymError(ValueError):
    """A key change step that cannot be taken now; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class PseudonymKey:
    key_id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class PseudonymKeys:
    """The key new pseudonyms are made with and, during a key change, the old one."""

    current: PseudonymKey
    old: PseudonymKey | None = None


def keys_from_config(config: Mapping[str, Any]) -> PseudonymKeys | None:
    """The keys in the app's settings (checked by :mod:`survey_app.core.config`);
    None when there is no key, and then NHS numbers are refused."""
    secret = config.get("PULSE_PSEUDONYM_KEY")
    if not secret:
        return None
    old_secret, old_id = config.get("PULSE_PSEUDONYM_OLD_KEY"), config.get(
        "PULSE_PSEUDONYM_OLD_KEY_ID")
    old = PseudonymKey(old_id, old_secret) if old_secret and old_id else None
    return PseudonymKeys(PseudonymKey(config.get("PULSE_PSEUDONYM_KEY_ID") or "k1", secret),
                         old)


def rekey_patient(session: Session, *, nhs_number: str, keys: PseudonymKeys) -> int:
    """Move one patient's earlier ratings to the current key; the number moved.

    ``nhs_number`` is the 10 digits, already checked. The caller commits, with
    the rating that brought the number, so both are kept or neither is. Each
    step is one UPDATE, so no patient is ever half moved.
    """
    current = pseudonymise(nhs_number, keys.current.secret)
    pseudonym, key_id = col(ActivationRating.patient_pseudonym), col(
        ActivationRating.pseudonym_key_id)
    session.execute(update(ActivationRating)
                    .where(pseudonym == current, key_id.is_(None))
                    .values(pseudonym_key_id=keys.current.key_id))
    if keys.old is None:
        return 0
    old = pseudonymise(nhs_number, keys.old.secret)
    moved = session.execute(
        update(ActivationRating)
        .where(pseudonym == old, or_(key_id == keys.old.key_id, key_id.is_(None)))
        .values(patient_pseudonym=current, pseudonym_key_id=keys.current.key_id)
    )
    return int(moved.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class KeyCount:
    """Ratings with a pseudonym under one key id (None: recorded before ids were kept)."""

    key_id: str | None
    ratings: int
    patients: int


@dataclass(frozen=True, slots=True)
class TransitionStatus:
    current_key_id: str
    old_key_id: str | None
    by_key: tuple[KeyCount, ...]
    #: Old-key (and unlabelled) ratings and patients not yet matched; 0 outside a transition.
    unmatched_ratings: int
    unmatched_patients: int
    #: The last transition's end, if one has ended.
    ended_on: date | None
    ended_old_key_id: str | None
    ended_unlinked: int


def status(session: Session, *, keys: PseudonymKeys) -> TransitionStatus:
    """How far a key change has gone: ratings and patients per key, and what is left."""
    key_id = col(ActivationRating.pseudonym_key_id)
    by_key = tuple(sorted(
        (KeyCount(found_id, int(ratings), int(patients))
         for found_id, ratings, patients in session.exec(
             select(key_id, func.count(),
                    func.count(func.distinct(col(ActivationRating.patient_pseudonym))))
             .where(col(ActivationRating.patient_pseudonym).is_not(None))
             .group_by(key_id))),
        # Unlabelled last, on every database (SQLite sorts NULL first, PostgreSQL last).
        key=lambda count: (count.key_id is None, count.key_id or "")))
    unmatched_ratings = unmatched_patients = 0
    if keys.old is not None:
        # A patient may have ratings both labelled and unlabelled: count them once.
        unmatched_ratings, unmatched_patients = session.exec(
            select(func.count(),
                   func.count(func.distinct(col(ActivationRating.patient_pseudonym))))
            .where(_old_key_rows(keys.old.key_id))
        ).one()
    settings = _settings(session)
    ended_on = settings.get(ENDED_ON)
    return TransitionStatus(
        current_key_id=keys.current.key_id,
        old_key_id=keys.old.key_id if keys.old else None,
        by_key=by_key, unmatched_ratings=int(unmatched_ratings),
        unmatched_patients=int(unmatched_patients),
        ended_on=date.fromisoformat(ended_on) if ended_on else None,
        ended_old_key_id=settings.get(OLD_KEY_ID),
        ended_unlinked=sum(int(v) for k, v in settings.items() if k.startswith(UNLINKED)),
    )


@dataclass(frozen=True, slots=True)
class EndedTransition:
    old_key_id: str
    ended_on: date
    #: Ratings unlinked by this run.
    cleared: int
    #: Ratings unlinked per INT id since this old key's change first ended (as recorded).
    unlinked_by_int: dict[int, int]


def end_transition(session: Session, *, keys: PseudonymKeys, now: datetime) -> EndedTransition:
    """Clear the old-key pseudonyms never matched, and record how many per INT.

    The ratings stay (every count still has them); only their link to a patient
    goes. The caller commits. Ending again under the same old key adds to the
    record; the first end of a later key change replaces it.

    Raises
    ------
    PseudonymError
        When no old key is configured (no transition is in progress).
    """
    if keys.old is None:
        raise PseudonymError(
            "No key change is in progress: PULSE_PSEUDONYM_OLD_KEY and "
            "PULSE_PSEUDONYM_OLD_KEY_ID are not set. To end a change whose old key was "
            "already removed, set them again and run this command.")
    old_rows = _old_key_rows(keys.old.key_id)
    cleared = {
        int(neighbourhood_id): int(count)
        for neighbourhood_id, count in session.exec(
            select(Site.neighbourhood_id, func.count()).select_from(ActivationRating)
            .join(Site, col(Site.id) == col(ActivationRating.site_id))
            .where(old_rows).group_by(col(Site.neighbourhood_id))
        )
    }
    session.execute(update(ActivationRating).where(old_rows)
                    .values(patient_pseudonym=None, pseudonym_key_id=None))
    ended_on = local_date(now)
    settings = _settings(session)
    unlinked = dict(cleared)
    if settings.get(OLD_KEY_ID) == keys.old.key_id:
        for neighbourhood_id, count in _unlinked_counts(settings).items():
            unlinked[neighbourhood_id] = unlinked.get(neighbourhood_id, 0) + count
    session.execute(delete(AppSetting).where(col(AppSetting.key).startswith(UNLINKED)))
    for key, value in ((ENDED_ON, ended_on.isoformat()), (OLD_KEY_ID, keys.old.key_id),
                       *((f"{UNLINKED}{n}", str(c)) for n, c in unlinked.items())):
        session.merge(AppSetting(key=key, value=value))
    audit.record(session, user_id=None, action="pseudonyms.end_transition",
                 target=keys.old.key_id, now=now, detail={"unlinked": sum(cleared.values())})
    return EndedTransition(keys.old.key_id, ended_on, sum(cleared.values()), unlinked)


@dataclass(frozen=True, slots=True)
class UnlinkedRatings:
    """Ratings of one INT whose pseudonyms were cleared when a key change ended."""

    count: int
    changed_on: date


def unlinked_ratings(session: Session, *, neighbourhood_id: int) -> UnlinkedRatings | None:
    """What the last key change left unlinked in this INT; None if it left nothing."""
    settings = _settings(session)
    count = _unlinked_counts(settings).get(neighbourhood_id, 0)
    if not count or ENDED_ON not in settings:
        return None
    return UnlinkedRatings(count, date.fromisoformat(settings[ENDED_ON]))


def _old_key_rows(old_key_id: str) -> ColumnElement[bool]:
    """Ratings whose pseudonym is the old key's, including those from before key ids."""
    key_id = col(ActivationRating.pseudonym_key_id)
    return col(ActivationRating.patient_pseudonym).is_not(None) & or_(
        key_id == old_key_id, key_id.is_(None))


def _settings(session: Session) -> dict[str, str]:
    return {row.key: row.value for row in session.exec(
        select(AppSetting).where(col(AppSetting.key).startswith("pseudonym_key_change.")))}


def _unlinked_counts(settings: Mapping[str, str]) -> dict[int, int]:
    return {int(key.removeprefix(UNLINKED)): int(value) for key, value in settings.items()
            if key.startswith(UNLINKED)}
