"""Seeded simulations that calibrate the change verdicts and fatigue levels.

Each scenario draws whole teams' wave-by-wave counts at once (runs x waves
arrays) and then asks the public functions what a lead would be told after
each closed wave.  A "team-wave" is one such judgement; change judgements are
counted from the fourth wave, the first with a baseline window, and fatigue
from the fourth, ``assess_fatigue``'s minimum.

The thresholds asserted come from the project's brief; the comments give the
figures these seeds produce, so a recalibration that drifts is visible.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.change import judge_proportion_change
from analysis.fatigue import LEVELS, assess_fatigue_batch

pytestmark = pytest.mark.slow

WAVES = 12
FIRST_JUDGED = 4  # the first wave with a baseline window (and min_waves)
FATIGUED = LEVELS.index("fatigued")


def verdicts_after_each_wave(
    positive: np.ndarray, answered: np.ndarray, invited: np.ndarray, waves: range
) -> np.ndarray:
    """Verdicts (runs x len(waves)) judged with the data up to each wave."""
    out = np.empty((positive.shape[0], len(waves)), dtype=object)
    for run in range(positive.shape[0]):
        for col, w in enumerate(waves):
            out[run, col] = judge_proportion_change(
                positive[run, :w], answered[run, :w], invited[run, :w]
            ).verdict
    return out


def fatigued_share_over_team_waves(responded: np.ndarray, invited: np.ndarray) -> float:
    levels = [
        assess_fatigue_batch(responded[:, :w], invited[:, :w]).levels
        for w in range(FIRST_JUDGED, responded.shape[1] + 1)
    ]
    return float(np.mean(np.array(levels) == FATIGUED))


def test_falling_response_rate_without_true_change() -> None:
    """Response falls from 70% to 35% over 12 waves, team of 30, 60% recommend.

    Brief: "improved" or "worsened" on at most 5% of team-waves, and
    "fatigued" fires for the falling rate in most runs (> 50%).  These seeds:
    1.9% and 96%.
    """
    rng = np.random.default_rng(101)
    runs, team = 1000, 30
    rate = np.linspace(0.70, 0.35, WAVES)
    invited = np.full((runs, WAVES), team)
    answered = rng.binomial(team, rate, size=(runs, WAVES))
    positive = rng.binomial(answered, 0.6)

    verdicts = verdicts_after_each_wave(positive, answered, invited, range(FIRST_JUDGED, WAVES + 1))
    false_change = np.isin(verdicts, ["improved", "worsened"]).mean()
    assert false_change <= 0.05

    levels = assess_fatigue_batch(answered, invited).levels
    assert np.mean(levels == FATIGUED) > 0.5


def test_stable_response_rate_is_rarely_fatigued() -> None:
    """Response stable at 60% with binomial noise, team of 30, 12 waves.

    Brief: "fatigued" on at most 5%.  These seeds: 0.8% of team-waves.
    """
    rng = np.random.default_rng(202)
    runs, team = 3000, 30
    invited = np.full((runs, WAVES), team)
    responded = rng.binomial(team, 0.6, size=(runs, WAVES))
    assert fatigued_share_over_team_waves(responded, invited) <= 0.05


def test_disengaged_staff_stopping_first_is_not_improvement() -> None:
    """No true change (half the team of 30 would recommend), but the rest stop first.

    The engaged half keeps answering at 70%; the disengaged half falls from
    70% to 0%, so the response rate falls from 70% to 35% and the observed
    % recommend climbs from 50% towards 100%.  Brief: "improved" on at most
    5% of team-waves; "apparent change" may fire.  These seeds: 3.1%
    "improved" and 16% "apparent_change" (the verdict doing its job).
    """
    rng = np.random.default_rng(303)
    runs, half = 1000, 15
    t = np.arange(WAVES) / (WAVES - 1)
    engaged = rng.binomial(half, np.full(WAVES, 0.70), size=(runs, WAVES))
    disengaged = rng.binomial(half, 0.70 * (1.0 - t), size=(runs, WAVES))
    answered = engaged + disengaged
    invited = np.full((runs, WAVES), 2 * half)

    verdicts = verdicts_after_each_wave(engaged, answered, invited, range(FIRST_JUDGED, WAVES + 1))
    improved = np.mean(verdicts == "improved")
    apparent = np.mean(verdicts == "apparent_change")
    assert improved <= 0.05
    assert apparent > improved


def test_true_rise_is_detected_within_three_waves() -> None:
    """% recommend rises from 50% to 80% at wave 7 and stays; ~30 answers a wave.

    40 staff invited, each answering with probability 0.75 (stable response
    with binomial noise).  Detected if the verdict after wave 7, 8 or 9 is
    "improved".  Brief: at least 80% of runs.  These seeds: 98.6% (20%, 70%
    and 97% at waves 7, 8 and 9 taken alone).
    """
    rng = np.random.default_rng(404)
    runs, team, change_at = 1000, 40, 6  # waves 1-6 at 50%, from wave 7 at 80%
    p = np.where(np.arange(WAVES) < change_at, 0.5, 0.8)
    invited = np.full((runs, WAVES), team)
    answered = rng.binomial(team, 0.75, size=(runs, WAVES))
    positive = rng.binomial(answered, p)

    verdicts = verdicts_after_each_wave(
        positive, answered, invited, range(change_at + 1, change_at + 4)
    )
    detected = (verdicts == "improved").any(axis=1).mean()
    assert detected >= 0.80
