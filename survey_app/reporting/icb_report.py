"""The ICB view: every INT side by side on the measures of its overview.

An ICB has some 20 INTs of 20 teams with three years of monthly waves. Building
each INT's overview in turn would read every item row of every wave; instead
one query sums each wave's item rows in SQL, and the fatigue and SPC judgements
run once for all teams with :func:`analysis.fatigue.assess_fatigue_batch` and
:func:`analysis.spc.xmr_batch`, which give row by row what the INT overview's
per-team calls give.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as columns_select
from sqlmodel import Session, col, select

from analysis import suppression
from analysis.fatigue import LEVELS, assess_fatigue_batch
from analysis.proportions import ProportionInterval, wilson_interval
from analysis.spc import SPECIAL_CAUSE_CONCERN, SPECIAL_CAUSE_IMPROVEMENT, xmr, xmr_batch
from analysis.suppression import suppress_small_groups
from questionnaires import Instrument
from survey_app.models import Neighbourhood, Team, TeamRebase, Wave, WaveItemSummary, WaveSummary
from survey_app.reporting.overview import (
    CARE,
    WORK,
    engagement_items,
    engagement_of,
    wave_hidden_codes,
)
from survey_app.reporting.vocabulary import NO_CLOSED_PULSE_CODE, TOO_FEW_ANSWERS, hidden_reason


@dataclass(frozen=True)
class IntSummary:
    """One INT on the ICB view: its teams' latest closed waves pooled.

    Every figure is None when ``hidden_reason`` is set. The team counts
    (fatigued, watch, improvement, concern) are over ``teams_shown``: the teams
    whose figures the INT's overview shows.
    """

    neighbourhood: Neighbourhood
    teams: int
    hidden_reason: str | None
    responded: int | None = None
    invited: int | None = None
    recommend_work: ProportionInterval | None = None
    work_hidden_reason: str | None = None
    recommend_care: ProportionInterval | None = None
    care_hidden_reason: str | None = None
    engagement: float | None = None
    teams_shown: int | None = None
    fatigued: int | None = None
    watch: int | None = None
    improvement: int | None = None
    concern: int | None = None

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.invited if self.invited and self.responded is not None \
            else None


@dataclass
class _TeamWaves:
    """One team's closed waves as parallel per-wave lists (oldest first)."""

    neighbourhood_id: int
    wave_ids: list[int]
    invited: list[int]
    responded: list[int]
    median_seconds: list[float]
    shown: list[int]
    answered: list[int]
    work: list[tuple[int, int]]
    care: list[tuple[int, int]]


def _item_sum(item_id: str, column: Any) -> ColumnElement[Any]:
    return func.sum(case((col(WaveItemSummary.item_id) == item_id, column), else_=0))


def _team_waves(session: Session) -> dict[int, _TeamWaves]:
    """Every team's closed waves, with each wave's item rows summed in SQL."""
    items = (
        columns_select(col(WaveItemSummary.wave_id),
                       func.sum(col(WaveItemSummary.shown)).label("shown"),
                       func.sum(col(WaveItemSummary.answered)).label("answered"),
                       _item_sum(WORK, col(WaveItemSummary.positive)).label("work_positive"),
                       _item_sum(WORK, col(WaveItemSummary.answered)).label("work_answered"),
                       _item_sum(CARE, col(WaveItemSummary.positive)).label("care_positive"),
                       _item_sum(CARE, col(WaveItemSummary.answered)).label("care_answered"))
        .group_by(col(WaveItemSummary.wave_id)).subquery()
    )
    rows = session.connection().execute(
        columns_select(col(Team.id), col(Team.neighbourhood_id), col(Wave.id),
                       col(WaveSummary.invited), col(WaveSummary.responded),
                       col(WaveSummary.median_completion_seconds), items.c.shown,
                       items.c.answered, items.c.work_positive, items.c.work_answered,
                       items.c.care_positive, items.c.care_answered)
        .join(Wave, col(Wave.team_id) == col(Team.id))
        .join(WaveSummary, col(WaveSummary.wave_id) == col(Wave.id))
        .outerjoin(items, items.c.wave_id == col(Wave.id))
        .where(col(Wave.closed_at).is_not(None))
        .order_by(col(Team.id), col(Wave.opens_at), col(Wave.id))
    ).all()
    teams: dict[int, _TeamWaves] = {}
    for (team_id, neighbourhood_id, wave_id, invited, responded, median, shown, answered,
         work_positive, work_answered, care_positive, care_answered) in rows:
        team = teams.setdefault(team_id, _TeamWaves(neighbourhood_id, [], [], [], [], [], [],
                                                    [], []))
        team.wave_ids.append(wave_id)
        team.invited.append(invited)
        team.responded.append(responded)
        # As the overview does: an unknown (or zero) median is no data.
        team.median_seconds.append(median or math.nan)
        team.shown.append(int(shown or 0))
        team.answered.append(int(answered or 0))
        team.work.append((int(work_positive or 0), int(work_answered or 0)))
        team.care.append((int(care_positive or 0), int(care_answered or 0)))
    return teams


def _padded(rows: Sequence[Sequence[float]], width: int) -> np.ndarray:
    """Rows of different lengths as one array, right-padded with NaN (no wave there)."""
    out = np.full((len(rows), width), np.nan)
    for index, row in enumerate(rows):
        out[index, :len(row)] = row
    return out


def _latest_variation(team_ids: list[int], teams: dict[int, _TeamWaves], threshold: int,
                      rebases: dict[int, list[int]]) -> dict[int, str | None]:
    """The latest wave's variation label on each team's % recommend-as-a-place-to-work chart."""
    values = {}
    for team_id in team_ids:
        values[team_id] = [100 * k / n if n >= threshold else math.nan
                           for k, n in teams[team_id].work]
    labels: dict[int, str | None] = {}
    plain = [t for t in team_ids if not rebases.get(t)]
    if plain:
        width = max(len(values[t]) for t in plain)
        batch = xmr_batch(_padded([values[t] for t in plain], width), improvement="increase")
        for row, team_id in enumerate(plain):
            series = values[team_id]
            present = sum(not math.isnan(v) for v in series)
            labels[team_id] = batch.variation(row)[len(series) - 1] if present >= 2 else None
    for team_id in team_ids:
        if rebases.get(team_id):
            # Few teams have a rebase, and xmr_batch does not take one: chart them singly.
            series = values[team_id]
            present = sum(not math.isnan(v) for v in series)
            labels[team_id] = (xmr(series, improvement="increase",
                                   rebase_at=rebases[team_id]).variation[-1]
                               if present >= 2 else None)
    return labels


def _fatigue_levels(team_ids: list[int], teams: dict[int, _TeamWaves]) -> dict[int, str]:
    """Each team's fatigue level, as the overview's per-team assessment gives it."""
    if not team_ids:
        return {}
    width = max(len(teams[t].wave_ids) for t in team_ids)

    def grid(name: str) -> np.ndarray:
        return _padded([getattr(teams[t], name) for t in team_ids], width)

    shown = grid("shown")
    batch = assess_fatigue_batch(
        grid("responded"), grid("invited"),
        items_blank=shown - grid("answered"), items_presented=shown,
        median_completion_seconds=grid("median_seconds"),
    )
    return {team_id: LEVELS[int(code)] for team_id, code in zip(team_ids, batch.levels,
                                                                 strict=True)}


def _rebases(session: Session, teams: dict[int, _TeamWaves]) -> dict[int, list[int]]:
    positions: dict[int, list[int]] = defaultdict(list)
    for team_id, wave_id in session.exec(select(TeamRebase.team_id, TeamRebase.wave_id)).all():
        order = teams[team_id].wave_ids if team_id in teams else []
        if wave_id in order and order.index(wave_id) > 0:
            positions[team_id].append(order.index(wave_id))
    return {team_id: sorted(set(found)) for team_id, found in positions.items()}


def _engagement_totals(session: Session, latest_wave_ids: dict[int, int],  # wave -> INT
                       item_ids: list[str]) -> dict[int, dict[str, tuple[float, int]]]:
    """Per INT, each engagement item's (score sum, scored) over its teams' latest waves."""
    totals: dict[int, dict[str, tuple[float, int]]] = defaultdict(dict)
    if not latest_wave_ids:
        return totals
    rows = session.connection().execute(
        columns_select(col(WaveItemSummary.wave_id), col(WaveItemSummary.item_id),
                       col(WaveItemSummary.score_sum), col(WaveItemSummary.scored))
        .where(col(WaveItemSummary.wave_id).in_(list(latest_wave_ids)),
               col(WaveItemSummary.item_id).in_(item_ids))
    ).all()
    for wave_id, item_id, score_sum, scored in rows:
        int_id = latest_wave_ids[wave_id]
        old_sum, old_n = totals[int_id].get(item_id, (0.0, 0))
        totals[int_id][item_id] = (old_sum + score_sum, old_n + scored)
    return totals


def icb_overview(session: Session, *, instrument: Instrument,
                 threshold: int) -> list[IntSummary]:
    """One summary per INT, by name, each suppressed as its overview and the ICB require.

    An INT's figures pool the latest closed waves of the teams its overview
    shows (:func:`~survey_app.reporting.overview.wave_hidden_codes`, the rule of
    every page), so a hidden team cannot be worked out by subtracting the teams
    shown from the INT's total. An INT with fewer answers than ``threshold``, or
    one hidden so a smaller INT cannot be worked out from the others, shows only
    its team count.
    """
    neighbourhoods = list(session.exec(select(Neighbourhood).order_by(col(Neighbourhood.name))))
    team_rows = session.exec(select(Team.id, Team.neighbourhood_id)
                             .order_by(col(Team.name), col(Team.id))).all()
    teams_of: dict[int, list[int]] = defaultdict(list)
    for team_id, neighbourhood_id in team_rows:
        teams_of[neighbourhood_id].append(team_id or 0)
    waves = _team_waves(session)
    with_waves = list(waves)
    rebases = _rebases(session, waves)
    fatigue = _fatigue_levels(with_waves, waves)
    variation = _latest_variation(with_waves, waves, threshold, rebases)
    codes = wave_hidden_codes(session, threshold=threshold)
    shown_teams = {t for t in with_waves if codes.get(waves[t].wave_ids[-1], "") is None}
    latest_wave_of_int = {waves[t].wave_ids[-1]: waves[t].neighbourhood_id for t in shown_teams}
    engagement_ids = engagement_items(instrument)
    engagement = _engagement_totals(session, latest_wave_of_int, [i for i, _ in engagement_ids])

    int_totals = [sum(waves[t].responded[-1] for t in teams_of[n.id or 0] if t in shown_teams)
                  for n in neighbourhoods]
    int_reasons = (list(suppress_small_groups(np.array(int_totals), threshold=threshold).reason)
                   if neighbourhoods else [])
    summaries = []
    for neighbourhood, total, reason in zip(neighbourhoods, int_totals, int_reasons, strict=True):
        members = teams_of[neighbourhood.id or 0]
        shown = [t for t in members if t in shown_teams]
        if reason is None and not shown:
            # Closed waves, but every team's latest is hidden: say so, not "none yet".
            reason = suppression.TOO_FEW_ANSWERS if any(t in waves for t in members) else None
        if reason is not None or not shown:
            summaries.append(IntSummary(neighbourhood, len(members),
                                        hidden_reason(reason or NO_CLOSED_PULSE_CODE)))
            continue
        work, work_hidden = _pooled([waves[t].work[-1] for t in shown], threshold)
        care, care_hidden = _pooled([waves[t].care[-1] for t in shown], threshold)
        item_totals = engagement.get(neighbourhood.id or 0, {})
        summaries.append(IntSummary(
            neighbourhood, len(members), None, total,
            sum(waves[t].invited[-1] for t in shown), work, work_hidden, care, care_hidden,
            engagement_of([item_totals.get(i, (0.0, 0))[0] for i, _ in engagement_ids],
                          [item_totals.get(i, (0.0, 0))[1] for i, _ in engagement_ids],
                          [group for _, group in engagement_ids], threshold),
            len(shown),
            sum(fatigue[t] == "fatigued" for t in shown),
            sum(fatigue[t] == "watch" for t in shown),
            sum(variation[t] == SPECIAL_CAUSE_IMPROVEMENT for t in shown),
            sum(variation[t] == SPECIAL_CAUSE_CONCERN for t in shown),
        ))
    return summaries


def _pooled(counts: Sequence[tuple[int, int]],
            threshold: int) -> tuple[ProportionInterval | None, str | None]:
    positive = sum(k for k, _ in counts)
    answered = sum(n for _, n in counts)
    if 0 < answered < threshold:
        return None, TOO_FEW_ANSWERS
    return (wilson_interval(positive, answered) if answered else None), None
