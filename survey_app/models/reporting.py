"""Per-wave aggregates, written once when a wave closes, so reports never read raw rows.

Results are shown only for closed waves, so these are complete when written,
and a report's cost grows with teams x waves, not with the number of answers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Final

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from survey_app.models.base import utc_column


class WaveSummary(SQLModel, table=True):
    __tablename__ = "wave_summary"

    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True)
    )
    invited: int
    responded: int
    median_completion_seconds: float | None = None
    summarised_at: datetime = Field(sa_column=utc_column(nullable=False))


@dataclass(slots=True)
class ItemTotals:
    """One item's tallies in one wave: counted at close (pulse.aggregates), stored as a
    ``WaveItemSummary`` row, read back by the reports. The one list of tally fields."""

    shown: int = 0
    answered: int = 0
    dont_know: int = 0
    positive: int = 0
    negative: int = 0
    scored: int = 0
    score_sum: float = 0.0
    score_sq_sum: float = 0.0
    text_length_sum: int = 0


#: The tally columns of ``wave_item_summary``, in order (a test keeps the table in step).
ITEM_TALLY_FIELDS: Final = tuple(f.name for f in fields(ItemTotals))


class WaveItemSummary(SQLModel, table=True):
    """One item in one wave: who saw it, who answered, and sums for its scores."""

    __tablename__ = "wave_item_summary"

    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True)
    )
    item_id: str = Field(sa_column=Column(String(64), primary_key=True))
    shown: int = 0
    answered: int = 0
    dont_know: int = 0
    positive: int = 0
    negative: int = 0
    scored: int = 0
    score_sum: float = 0.0
    score_sq_sum: float = 0.0
    text_length_sum: int = 0


class WaveChoiceCount(SQLModel, table=True):
    __tablename__ = "wave_choice_count"

    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True)
    )
    item_id: str = Field(sa_column=Column(String(64), primary_key=True))
    choice: str = Field(sa_column=Column(String(64), primary_key=True))
    count: int
