"""What an INT lead reads: each team's measures across closed waves, from the aggregates.

Everything statistical is computed by :mod:`analysis`; this module only reads
the per-wave summaries (never raw answers) and hands them over, applying the
suppression threshold before anything is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session, col, select

from analysis.change import ChangeJudgement, judge_family
from analysis.engagement import engagement_from_totals
from analysis.fatigue import FatigueAssessment, assess_fatigue
from analysis.proportions import ProportionInterval, wilson_interval
from analysis.spc import XmRChart, xmr
from analysis.suppression import suppress_small_groups
from questionnaires import Instrument
from survey_app.models import Neighbourhood, Team, Wave, WaveItemSummary, WaveSummary
from survey_app.services.clock import LONDON, as_utc

ENGAGEMENT_GROUPS = ("motivation", "involvement", "advocacy")
HIDDEN_REASONS = {"too_few_answers": "too few answers",
                  "protect_another_group": "hidden to protect another group"}


@dataclass(frozen=True)
class WavePoint:
    """One closed wave of one team, as counts."""

    wave_id: int
    label: str
    invited: int
    responded: int
    items: dict[str, WaveItemSummary] = field(repr=False)
    median_completion_seconds: float | None = None

    def positive(self, item_id: str) -> tuple[int, int]:
        """(positive answers, all answers incl. Don't know) for an FFT-style item."""
        row = self.items.get(item_id)
        return (row.positive, row.answered) if row else (0, 0)


def team_series(session: Session, *, team_id: int) -> list[WavePoint]:
    """The team's closed, summarised waves in the order they opened."""
    rows = session.exec(
        select(Wave, WaveSummary).join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
        .where(Wave.team_id == team_id, col(Wave.closed_at).is_not(None))
        .order_by(col(Wave.opens_at))
    ).all()
    wave_ids = [wave.id for wave, _ in rows]
    items: dict[int, dict[str, WaveItemSummary]] = {wave_id or 0: {} for wave_id in wave_ids}
    for item in session.exec(select(WaveItemSummary)
                             .where(col(WaveItemSummary.wave_id).in_(wave_ids))):
        items[item.wave_id][item.item_id] = item
    return [
        WavePoint(wave.id or 0, f"{as_utc(wave.opens_at).astimezone(LONDON):%b %Y}",
                  summary.invited, summary.responded, items[wave.id or 0],
                  summary.median_completion_seconds)
        for wave, summary in rows
    ]


@dataclass(frozen=True)
class TeamOverview:
    team: Team
    waves: list[WavePoint]
    hidden_reason: str | None
    recommend_work: ProportionInterval | None
    recommend_care: ProportionInterval | None
    engagement: float | None
    response_rate: float | None
    work_chart: XmRChart | None
    fatigue: FatigueAssessment | None
    change: ChangeJudgement | None


def int_overview(session: Session, *, neighbourhood: Neighbourhood, instrument: Instrument,
                 threshold: int) -> list[TeamOverview]:
    """One row per team: the latest closed wave's measures, their trend and verdicts.

    A team whose latest wave has fewer answers than ``threshold`` (or that must
    be hidden so another team cannot be worked out) shows no figures, only why.
    """
    teams = list(session.exec(select(Team).where(Team.neighbourhood_id == neighbourhood.id)
                              .order_by(col(Team.name))))
    series = [team_series(session, team_id=team.id or 0) for team in teams]
    latest_counts = [s[-1].responded if s else 0 for s in series]
    hidden = suppress_small_groups(np.array([latest_counts]), threshold=threshold)
    family = judge_family(
        [[w.positive("recommend_work")[0] for w in s] for s in series],
        [[w.positive("recommend_work")[1] for w in s] for s in series],
        [[w.invited for w in s] for s in series],
        team_ids=[team.slug for team in teams], min_answers=threshold,
    ) if teams else None
    rows = []
    for index, (team, waves) in enumerate(zip(teams, series, strict=True)):
        reason = hidden.reason[0][index] if waves else "too_few_answers"
        if reason is not None or not waves:
            rows.append(TeamOverview(team, waves, HIDDEN_REASONS.get(reason or "",
                                                                     "no closed pulse yet"),
                                     None, None, None, None, None, None, None))
            continue
        latest = waves[-1]
        rows.append(TeamOverview(
            team, waves, None,
            _interval(*latest.positive("recommend_work")),
            _interval(*latest.positive("recommend_care")),
            _engagement(latest, instrument),
            latest.responded / latest.invited if latest.invited else None,
            _work_chart(waves, threshold),
            _fatigue(waves),
            family.judgements[index] if family else None,
        ))
    return rows


def _interval(positive: int, answered: int) -> ProportionInterval | None:
    return wilson_interval(positive, answered) if answered else None


def _engagement(wave: WavePoint, instrument: Instrument) -> float | None:
    items = [item for item in instrument.items if item.group in ENGAGEMENT_GROUPS]
    sums = [wave.items[i.id].score_sum if i.id in wave.items else 0.0 for i in items]
    counts = [wave.items[i.id].scored if i.id in wave.items else 0 for i in items]
    score = engagement_from_totals(sums, counts, [str(i.group) for i in items]).score
    return None if math.isnan(score) else float(score)


def _work_chart(waves: list[WavePoint], threshold: int) -> XmRChart | None:
    values = []
    for wave in waves:
        positive, answered = wave.positive("recommend_work")
        # A wave below the threshold is a gap: left out of the limits, drawn as a gap.
        values.append(100 * positive / answered if answered >= threshold else math.nan)
    if sum(not math.isnan(v) for v in values) < 2:
        return None
    return xmr(values, improvement="increase")


def _fatigue(waves: list[WavePoint]) -> FatigueAssessment:
    def total(name: str) -> list[int]:
        return [sum(getattr(row, name) for row in w.items.values()) for w in waves]

    presented = total("shown")
    answered = total("answered")
    return assess_fatigue(
        [w.responded for w in waves], [w.invited for w in waves],
        items_blank=[p - a for p, a in zip(presented, answered, strict=True)],
        items_presented=presented,
        median_completion_seconds=[w.median_completion_seconds or math.nan for w in waves],
    )
