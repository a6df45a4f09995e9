"""Instruments in the database: one row per distinct wording (version)."""

from __future__ import annotations

import json
from functools import lru_cache

from sqlmodel import Session, func, select

from questionnaires import Instrument, instrument_from_definition
from survey_app.core.clock import utcnow
from survey_app.models import QuestionnaireVersion


def ensure_version(session: Session, *, instrument: Instrument) -> QuestionnaireVersion:
    """The stored version matching this wording, created as the next version if new."""
    content_hash = instrument.content_hash()
    existing = session.exec(
        select(QuestionnaireVersion).where(QuestionnaireVersion.content_hash == content_hash)
    ).first()
    if existing is not None:
        return existing
    latest = session.exec(
        select(func.max(QuestionnaireVersion.version)).where(
            QuestionnaireVersion.key == instrument.key
        )
    ).one()
    version = QuestionnaireVersion(
        key=instrument.key,
        version=(latest or 0) + 1,
        content_hash=content_hash,
        definition=json.dumps(instrument.definition(), sort_keys=True),
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    return version


def instrument_of(version: QuestionnaireVersion) -> Instrument:
    """The instrument exactly as this version worded it."""
    return _parse(version.content_hash, version.definition, f"{version.key} v{version.version}")


@lru_cache(maxsize=64)
def _parse(_content_hash: str, definition: str, source: str) -> Instrument:
    return instrument_from_definition(json.loads(definition), source)
