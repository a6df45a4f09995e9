"""The plain records of ratings that the report hands to the FHIR export.

Defined here, where :func:`~survey_app.reporting.activation_report.ratings_for_export`
makes them, so that :mod:`survey_app.reporting.exports.fhir` depends on the report's
package and not the other way round. Nothing here imports the rest of the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from questionnaires import Instrument

if TYPE_CHECKING:
    from survey_app.models.activation import ActivationRating

__all__ = ["RatingRecord", "VersionedRatings"]


@dataclass(frozen=True, slots=True)
class RatingRecord:
    """The fields of one activation rating that the export needs."""

    id: str
    site_id: int
    rated_on: date
    channel: str
    consultation_type: str | None
    proxy: bool
    easy_read: bool
    rating: int
    patient_pseudonym: str | None

    @classmethod
    def from_rating(cls, rating: ActivationRating) -> RatingRecord:
        """The record of a stored :class:`~survey_app.models.activation.ActivationRating`."""
        return cls(
            id=rating.id,
            site_id=rating.site_id,
            rated_on=rating.rated_on,
            channel=rating.channel,
            consultation_type=rating.consultation_type,
            proxy=rating.proxy,
            easy_read=rating.easy_read,
            rating=rating.rating,
            patient_pseudonym=rating.patient_pseudonym,
        )


@dataclass(frozen=True, slots=True)
class VersionedRatings:
    """Ratings that answered one stored version of an instrument."""

    instrument: Instrument
    version: int
    ratings: Sequence[RatingRecord]
