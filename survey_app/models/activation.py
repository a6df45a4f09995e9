"""Tables of patient activation: sites, kiosks, and the ratings given there.

A rating records where (site), when (a date, not a time), how (channel,
consultation type, whether a carer answered) and with which instrument
version. It never records who entered it (that goes to the audit log) and
never an NHS number: only a keyed pseudonym, when follow-up was asked for.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from survey_app.models.base import utc_column

SITE_KINDS = ("gp_practice", "clinic", "pharmacy", "community_venue", "other")
CHANNELS = ("clinician", "kiosk", "qr")
#: Each channel in words, as the activation report, its downloads and the FHIR export name it.
CHANNEL_DISPLAY = {
    "clinician": "Entered by a clinician",
    "kiosk": "Waiting-room kiosk",
    "qr": "Patient's own phone (QR code)",
}
CONSULTATION_TYPES = {
    "gp": "GP",
    "nurse": "Nurse",
    "pharmacist": "Pharmacist",
    "social_prescriber": "Social prescriber",
    "group": "Group consultation",
    "other": "Other",
}


def _random_key() -> str:
    return uuid.uuid4().hex


class Site(SQLModel, table=True):
    """A place where an INT sees patients."""

    __tablename__ = "site"

    id: int | None = Field(default=None, primary_key=True)
    neighbourhood_id: int = Field(
        sa_column=Column(Integer, ForeignKey("neighbourhood.id", ondelete="CASCADE"),
                         nullable=False, index=True)
    )
    code: str = Field(max_length=32, unique=True)  # short, public: printed on posters
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)


class Kiosk(SQLModel, table=True):
    """A waiting-room tablet enrolled for one site; its cookie holds the secret."""

    __tablename__ = "kiosk"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    name: str = Field(max_length=100)
    secret_hash: str = Field(max_length=64, unique=True)
    ask_experience: bool = True
    enrolled_at: datetime = Field(sa_column=utc_column(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The day (in England) it last stored a rating: a date, never a time, like the ratings.
    last_used_on: date | None = None


class ActivationRating(SQLModel, table=True):
    __tablename__ = "activation_rating"

    id: str = Field(default_factory=_random_key, primary_key=True, max_length=32)
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    rated_on: date = Field(index=True)
    channel: str = Field(max_length=16)
    consultation_type: str | None = Field(default=None, max_length=32)
    proxy: bool = False
    easy_read: bool = False
    questionnaire_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("questionnaire_version.id"), nullable=False)
    )
    rating: int
    # Keyed HMAC-SHA256 of the NHS number (hex); None when no follow-up was asked.
    patient_pseudonym: str | None = Field(default=None, max_length=64, index=True)
    # Which pseudonym key made it (PULSE_PSEUDONYM_KEY_ID), so a key rotation knows
    # which ratings are still under the old key.
    pseudonym_key_id: str | None = Field(default=None, max_length=32, index=True)
    # From the form that produced it: a double tap or resubmission stores once.
    idempotency_key: str = Field(max_length=64, unique=True)


class ExperienceRating(SQLModel, table=True):
    """An answer to the NHS patient Friends and Family Test question."""

    __tablename__ = "experience_rating"

    id: str = Field(default_factory=_random_key, primary_key=True, max_length=32)
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    rated_on: date = Field(index=True)
    channel: str = Field(max_length=16)
    questionnaire_version_id: int = Field(
        sa_column=Column(Integer, ForeignKey("questionnaire_version.id"), nullable=False)
    )
    answer: str = Field(max_length=32)
    idempotency_key: str = Field(max_length=64, unique=True)
