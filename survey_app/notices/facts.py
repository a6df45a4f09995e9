"""The facts the privacy notices and the accessibility statement state, read live from
the INTs' settings, so what people are told is what Pulse does today.

Nothing here is worded for one page: the templates say it; this module says which
retention periods apply to whom, and which INTs there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from survey_app.core.retention_policy import KINDS, RetentionKind, RetentionPeriod, period_words
from survey_app.models import Neighbourhood

Audience = Literal["staff", "patients"]
AUDIENCES: Final[tuple[Audience, ...]] = ("staff", "patients")

# Which kinds of data each notice speaks of: a patient's only data are the ratings;
# everything else is about staff, their pulses and the messages that invite them.
_PATIENT_COLUMNS: Final = frozenset({"retain_ratings_days"})
AUDIT_NAME: Final = ("The audit log: what signed-in users did (sign-ins, settings changed, "
                     "ratings a clinician entered), with who and when")


@dataclass(frozen=True, slots=True)
class Retained:
    """One line of a notice's "how long we keep it" table."""

    name: str
    period: str  # "2 years after the pulse closes"
    why: str


def kinds_for(audience: Audience) -> list[RetentionKind]:
    """The retention kinds a notice for ``audience`` lists, in the order of ``KINDS``."""
    patients = audience == "patients"
    return [kind for kind in KINDS if (kind.column in _PATIENT_COLUMNS) == patients]


def retention_table(audience: Audience, *, neighbourhood: Neighbourhood | None,
                    audit_days: int) -> list[Retained]:
    """How long each kind of ``audience``'s data is kept: the INT's own periods, or each
    kind's default when no INT is named (the generic notice), then the audit log."""
    rows = []
    for kind in kinds_for(audience):
        days = (kind.default_days if neighbourhood is None
                else int(getattr(neighbourhood, kind.column)))
        rows.append(Retained(kind.name, RetentionPeriod(kind, days).words, kind.why))
    rows.append(Retained(AUDIT_NAME, f"{period_words(audit_days)} after the event",
                         "to show who did what, if a question or a complaint arises"))
    return rows
