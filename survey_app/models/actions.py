"""What a lead did about the results ("you said, we did"), and where charts start afresh."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from survey_app.models.base import utc_column

# The improvement cycle an action belongs to, unless an INT sets its own stages.
DEFAULT_STAGES = ("Plan", "Do", "Study", "Act")


class TeamAction(SQLModel, table=True):
    """One thing done for a team: drawn on its charts, shown to its staff, exported."""

    __tablename__ = "team_action"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    taken_on: date
    description: str = Field(sa_column=Column(Text, nullable=False))
    stage: str = Field(max_length=40)
    created_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class TeamRebase(SQLModel, table=True):
    """From this wave on, a team's charts compute new limits (a sustained shift happened)."""

    __tablename__ = "team_rebase"
    __table_args__ = (UniqueConstraint("team_id", "wave_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(
        sa_column=Column(Integer, ForeignKey("team.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    wave_id: int = Field(
        sa_column=Column(Integer, ForeignKey("wave.id", ondelete="CASCADE"), nullable=False)
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
