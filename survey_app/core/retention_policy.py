"""How long Pulse keeps each kind of data: one list that the purge, the INT settings page
and the privacy notices all read, so what people are told is what is done.

Each period is set per INT (a ``retain_*_days`` column of ``neighbourhood``); the
audit log, which is not any one INT's, takes ``PULSE_RETAIN_AUDIT_DAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from survey_app.models import Neighbourhood


@dataclass(frozen=True, slots=True)
class RetentionKind:
    column: str        # the Neighbourhood attribute holding the days
    name: str          # what is kept, in words for staff, patients and admins
    counted_from: str  # when the period starts, in words
    default_days: int
    why: str           # why this long, for the notices and the DPIA


KINDS: Final[tuple[RetentionKind, ...]] = (
    RetentionKind("retain_invitations_days", "Invitations (who was sent a link, and "
                  "whether it was used)", "after the pulse closes", 30,
                  "long enough to answer questions about a pulse that has just closed"),
    RetentionKind("retain_messages_days", "Invitation and reminder messages, and the "
                  "development outbox", "after the pulse closes", 90,
                  "to trace a message that did not arrive"),
    RetentionKind("retain_comments_days", "Free-text comments", "after the pulse closes",
                  365, "a year of comments to act on, read beside the year's scores"),
    RetentionKind("retain_answers_days", "Individual answers to each question",
                  "after the pulse closes", 730,
                  "two years, to re-check a result and compare like with like"),
    RetentionKind("retain_aggregates_days", "Per-pulse totals (the figures in reports)",
                  "after the pulse closes", 3650,
                  "the charts' baselines, restarts and trends stand on them"),
    RetentionKind("retain_ratings_days", "Patient activation ratings and their "
                  "pseudonyms", "after the rating", 1095,
                  "change in a patient's rating needs their earlier ratings"),
    RetentionKind("retain_leavers_days", "Staff roster entries of people who have left",
                  "after their leave date", 30, "so a leaver is no longer invited"),
)
AUDIT_DEFAULT_DAYS: Final = 730
#: Nothing is kept for less than a day or for more than 20 years.
MIN_DAYS: Final = 1
MAX_DAYS: Final = 7305


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    kind: RetentionKind
    days: int

    @property
    def words(self) -> str:
        """``2 years after the pulse closes``: whole years or months where they fit."""
        return f"{period_words(self.days)} {self.kind.counted_from}"


def period_words(days: int) -> str:
    """``30 days``, ``3 months``, ``1 year``, ``10 years``: the plainest exact words."""
    for size, unit in ((365, "year"), (30, "month")):
        if days >= size and days % size == 0:
            count = days // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{days} day{'' if days == 1 else 's'}"


def periods_for(neighbourhood: Neighbourhood) -> list[RetentionPeriod]:
    """Each kind of data with the INT's period for it, in the order of :data:`KINDS`."""
    return [RetentionPeriod(kind, int(getattr(neighbourhood, kind.column))) for kind in KINDS]
