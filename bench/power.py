"""Power of the change verdict: how often a real rise is seen within three waves.

A team's % recommend sits at 50% for six closed waves and then rises, for
good, to 80% (or 65%) from wave 7.  Staff answer with probability 0.75, so
``answers / 0.75`` are invited each wave.  After each of waves 7, 8 and 9 the
lead sees ``analysis.change.judge_proportion_change`` with its defaults (latest
3 waves against the 3 before); the rise counts as detected if any of those
three verdicts is "improved".

Run from the repository root::

    python bench/power.py [--runs 2000] [--seed 2024]

Prints a table; nothing here is asserted (tests/analysis/test_simulations.py
holds the asserted 30-answer case).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.change import judge_proportion_change  # noqa: E402

BASELINE = 0.50
RISES = (0.80, 0.65)
ANSWERS = (10, 20, 30, 50)
RESPONSE = 0.75
BEFORE_WAVES = 6
WINDOW = 3  # detection within this many waves of the rise


def detection_power(
    answers: int, after: float, runs: int, rng: np.random.Generator
) -> tuple[float, list[float]]:
    """Share of runs detected within WINDOW waves, and the share at each wave."""
    waves = BEFORE_WAVES + WINDOW
    invited = round(answers / RESPONSE)
    p = np.where(np.arange(waves) < BEFORE_WAVES, BASELINE, after)
    answered = rng.binomial(invited, RESPONSE, size=(runs, waves))
    positive = rng.binomial(answered, p)
    invited_arr = np.full(waves, invited)
    improved = np.zeros((runs, WINDOW), dtype=bool)
    for run in range(runs):
        for k in range(WINDOW):
            w = BEFORE_WAVES + 1 + k
            verdict = judge_proportion_change(
                positive[run, :w], answered[run, :w], invited_arr[:w]
            ).verdict
            improved[run, k] = verdict == "improved"
    return float(improved.any(axis=1).mean()), improved.mean(axis=0).tolist()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="simulated teams per cell")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    out = sys.stdout
    out.write(
        f"Detection of a sustained rise from {BASELINE:.0%} within {WINDOW} waves "
        f"({args.runs} runs a cell, response {RESPONSE:.0%}, seed {args.seed})\n"
    )
    out.write(f"{'rise':>12} {'answers/wave':>13} {'power':>7}   by wave 7 / 8 / 9 alone\n")
    start = time.perf_counter()
    for after in RISES:
        for answers in ANSWERS:
            power, per_wave = detection_power(answers, after, args.runs, rng)
            waves = " / ".join(f"{x:.0%}" for x in per_wave)
            out.write(f"{BASELINE:.0%} -> {after:.0%} {answers:>13} {power:>7.1%}   {waves}\n")
    out.write(f"({time.perf_counter() - start:.1f} s)\n")


if __name__ == "__main__":
    main()
