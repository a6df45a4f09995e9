"""The action log ("you said, we did") and the rebase points a lead marks on charts."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from survey_app.core.clock import local_date
from survey_app.models import Neighbourhood, TeamAction, TeamRebase, Wave

MAX_DESCRIPTION = 500


class ActionError(ValueError):
    """A refused action or rebase; ``field`` names the form field at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def stages_of(neighbourhood: Neighbourhood) -> list[str]:
    """The INT's improvement-cycle stages, in order (PDSA unless it chose others)."""
    stages = [s.strip() for s in neighbourhood.action_stages.split(",") if s.strip()]
    return stages or ["Plan", "Do", "Study", "Act"]


def add_action(session: Session, *, neighbourhood: Neighbourhood, team_id: int, taken_on: date,
               description: str, stage: str, user_id: int | None,
               now: datetime) -> TeamAction:
    """Record what was done for a team. Raises :class:`ActionError` on bad input."""
    description = " ".join(description.split())
    if not description:
        raise ActionError("Enter what was done", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise ActionError(f"Describe the action in {MAX_DESCRIPTION} characters or fewer",
                          field="description")
    if stage not in stages_of(neighbourhood):
        raise ActionError("Choose a stage from the list", field="stage")
    if taken_on > local_date(now):  # a lead's "today" is England's, not UTC's
        raise ActionError("The date must be today or in the past", field="taken_on")
    action = TeamAction(team_id=team_id, taken_on=taken_on, description=description,
                        stage=stage, created_by=user_id, created_at=now)
    session.add(action)
    session.flush()
    return action


def list_actions(session: Session, *, team_id: int) -> list[TeamAction]:
    """The team's actions, oldest first (the order they are drawn on a chart)."""
    return list(session.exec(select(TeamAction).where(TeamAction.team_id == team_id)
                             .order_by(col(TeamAction.taken_on), col(TeamAction.id))))


def latest_action(session: Session, *, team_id: int) -> TeamAction | None:
    return session.exec(select(TeamAction).where(TeamAction.team_id == team_id)
                        .order_by(col(TeamAction.taken_on).desc(), col(TeamAction.id).desc())
                        .limit(1)).first()


def add_rebase(session: Session, *, team_id: int, wave_id: int, reason: str,
               user_id: int | None, now: datetime) -> TeamRebase:
    """Mark ``wave_id`` as the first wave of a new period on the team's charts.

    The caller checks the chart shows special cause there (a lead may only rebase
    after a sustained shift); this checks the wave is the team's and is new.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ActionError("Say why the charts should start afresh", field="reason")
    if len(reason) > MAX_DESCRIPTION:
        raise ActionError(f"Give the reason in {MAX_DESCRIPTION} characters or fewer",
                          field="reason")
    wave = session.get(Wave, wave_id)
    if wave is None or wave.team_id != team_id or wave.closed_at is None:
        raise ActionError("Choose a closed wave of this team", field="wave_id")
    exists = session.exec(select(TeamRebase).where(TeamRebase.team_id == team_id,
                                                   TeamRebase.wave_id == wave_id)).first()
    if exists is not None:
        raise ActionError("The charts already start afresh at that wave", field="wave_id")
    rebase = TeamRebase(team_id=team_id, wave_id=wave_id, reason=reason, created_by=user_id,
                        created_at=now)
    session.add(rebase)
    session.flush()
    return rebase


def list_rebases(session: Session, *, team_id: int) -> list[TeamRebase]:
    return list(session.exec(select(TeamRebase).where(TeamRebase.team_id == team_id)
                             .order_by(col(TeamRebase.id))))
