"""What staff see of their own team's results: no login, so the least that is useful.

The headline comes from the same INT overview a lead reads
(:func:`survey_app.reporting.overview.int_overview`), so a team hidden there (too
few answers, or hidden to protect another team) is hidden here too. On top of
that, each question's figure needs at least ``threshold`` answers to that
question, since staff can see the team's response counts side by side.

Of a wave still open, only how many have answered so far is shown: its answers
are read nowhere here.

The "you said, we did" action says where it has got to in staff's words
(:func:`stage_for_staff`), not by the improvement cycle's stage names that
leads record it under.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel import Session, select

from analysis.change import ChangeJudgement
from analysis.proportions import ProportionInterval, wilson_interval
from analysis.suppression import TOO_FEW_ANSWERS
from questionnaires import Instrument
from survey_app.models import Neighbourhood, Team, TeamAction
from survey_app.pulse.teams import find_neighbourhood
from survey_app.reporting.actions import latest_action
from survey_app.reporting.overview import (
    OpenWaveProgress,
    WavePoint,
    int_overview,
    latest_open_wave,
    team_series,
)

# The two NHS Staff Friends and Family Test items, in the order staff read them.
HEADLINE_ITEMS = ("recommend_work", "recommend_care")

#: The PDSA stages (Plan, Do, Study, Act) as what is happening, by stage name in lower case.
STAFF_STAGE_WORDS: Final[dict[str, str]] = {
    "plan": "Planned",
    "do": "Under way",
    "study": "Checking whether it worked",
    "act": "Made part of how we work",
}


def stage_for_staff(stage: str) -> str:
    """A stage as staff read it: a PDSA stage in plain words, any other as the INT typed it.

    An INT that named its own stages chose words for its staff already, so
    only the four PDSA names (in any case) are reworded.
    """
    return STAFF_STAGE_WORDS.get(stage.strip().casefold(), stage)


@dataclass(frozen=True)
class ItemFigure:
    """One headline question: its interval, or None when too few answered it."""

    item_id: str
    interval: ProportionInterval | None


@dataclass(frozen=True)
class Headline:
    """The latest closed wave of a team, or only why it is hidden."""

    wave_id: int
    month: str  # e.g. "March 2025": when the wave opened, London time
    hidden_reason: str | None  # a code: "too_few_answers" or "protect_another_group"
    items: tuple[ItemFigure, ...]
    engagement: float | None  # 0-10
    invited: int | None
    responded: int | None

    @property
    def response_rate(self) -> float | None:
        if self.hidden_reason is not None or not self.invited or self.responded is None:
            return None
        return self.responded / self.invited

    def figure(self, item_id: str) -> ProportionInterval | None:
        return next((f.interval for f in self.items if f.item_id == item_id), None)


@dataclass(frozen=True)
class TeamResults:
    neighbourhood: Neighbourhood
    team: Team
    headline: Headline | None  # None: no closed pulse yet
    trend: str | None  # one plain sentence, when there are enough waves and answers
    open_pulse: OpenWaveProgress | None
    action: TeamAction | None  # the latest "you said, we did"

    @property
    def action_stage(self) -> str | None:
        """The latest action's stage in staff's words (see :func:`stage_for_staff`)."""
        return None if self.action is None else stage_for_staff(self.action.stage)


def results_for_team(session: Session, *, int_slug: str, team_slug: str, instrument: Instrument,
                     threshold: int, now: datetime) -> TeamResults | None:
    """The team's staff-facing results, or None for an unknown INT or team."""
    neighbourhood = find_neighbourhood(session, slug=int_slug)
    if neighbourhood is None:
        return None
    team = session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id,
                                           Team.slug == team_slug)).first()
    if team is None:
        return None
    headline, trend = None, None
    if team_series(session, team_id=team.id or 0):
        headline, trend = _headline(session, neighbourhood, team, instrument, threshold)
    return TeamResults(neighbourhood, team, headline, trend,
                       latest_open_wave(session, team_id=team.id or 0, now=now),
                       latest_action(session, team_id=team.id or 0))


def _headline(session: Session, neighbourhood: Neighbourhood, team: Team,
              instrument: Instrument, threshold: int) -> tuple[Headline | None, str | None]:
    # The whole INT's overview, not just this team's row: whether a team is
    # hidden to protect another depends on the other teams' counts.
    rows = int_overview(session, neighbourhood=neighbourhood, instrument=instrument,
                        threshold=threshold)
    row = next(r for r in rows if r.team.id == team.id)
    headline = None
    if row.waves:
        latest = row.waves[-1]
        if row.hidden_reason is None:
            headline = Headline(
                latest.wave_id, latest.month, None,
                tuple(ItemFigure(item, _figure(latest, item, threshold))
                      for item in HEADLINE_ITEMS),
                row.engagement, latest.invited, latest.responded)
        else:
            headline = Headline(latest.wave_id, latest.month,
                                row.hidden_code or TOO_FEW_ANSWERS,
                                (), None, None, None)
    trend = (trend_sentence(row.change)
             if row.change is not None and headline is not None
             and headline.hidden_reason is None else None)
    return headline, trend


def trend_sentence(change: ChangeJudgement) -> str | None:
    """The change verdict on "recommend as a place to work" in words for staff.

    None when there is not enough to judge. Staff get the verdict, not the
    figures behind it: the windows span waves whose own figures may be hidden.
    """
    recent, before = change.waves_after, change.waves_before
    last = f"the last {recent} pulses" if recent != 1 else "the last pulse"
    earlier = f"the {before} before" if before != 1 else "the one before"
    measure = "would recommend the team as a place to work"
    if change.verdict == "improved":
        return (f"Over {last}, more of you {measure} than in {earlier}: a rise bigger than "
                "chance or a change in who answered would explain.")
    if change.verdict == "worsened":
        return (f"Over {last}, fewer of you {measure} than in {earlier}: a fall bigger than "
                "chance or a change in who answered would explain.")
    if change.verdict == "apparent_change":
        direction = "more" if change.difference > 0 else "fewer"
        return (f"Over {last}, {direction} of you {measure} than in {earlier}, but the "
                "number of people answering changed too, so this may reflect who answered "
                "rather than a real change.")
    if change.verdict == "no_credible_change":
        return (f"Over {last}, about as many of you {measure} as in {earlier}: no change "
                "bigger than chance.")
    return None


def _figure(wave: WavePoint, item_id: str, threshold: int) -> ProportionInterval | None:
    positive, answered = wave.positive(item_id)
    # Not every respondent answers every question: a question answered by fewer
    # than the threshold is hidden even when the team as a whole is shown.
    return wilson_interval(positive, answered) if answered >= threshold else None
