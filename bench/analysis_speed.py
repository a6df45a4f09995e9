"""Time the batch statistics against the scalar functions called series by series.

Builds 1,000 synthetic team series of 52 waves (seeded), then times, in the same
run:

(a) the batch functions: ``xmr_batch`` + ``wilson_intervals`` + ``trend_tests`` +
    ``assess_fatigue_batch``;
(b) the same public scalar functions (``xmr``, ``wilson_interval``, ``trend_test``,
    ``assess_fatigue``) called in a Python loop, one series (or wave) at a time.

It prints both times, their ratio, whether every label agrees and the largest
absolute difference between the numbers.  Targets: batch < 100 ms and at least 10x
faster than the loop.  Figures only, no asserts (the equality itself is asserted
in tests/analysis).

Run: .venv/bin/python bench/analysis_speed.py
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.fatigue import LEVELS, assess_fatigue, assess_fatigue_batch  # noqa: E402
from analysis.proportions import (  # noqa: E402
    trend_test,
    trend_tests,
    wilson_interval,
    wilson_intervals,
)
from analysis.spc import xmr, xmr_batch  # noqa: E402

TEAMS, WAVES, SEED = 1_000, 52, 20240607
THRESHOLD = 5  # waves with fewer answers are hidden (NaN) in the charted series


def synthetic(seed: int = SEED) -> dict[str, np.ndarray]:
    """Invited, responded and "recommend" counts per team (rows) and wave (columns)."""
    rng = np.random.default_rng(seed)
    invited = rng.integers(6, 45, size=(TEAMS, 1)) + rng.integers(-2, 3, size=(TEAMS, WAVES))
    invited = np.clip(invited, 0, None)
    drift = rng.normal(0, 0.004, size=(TEAMS, 1)) * np.arange(WAVES)
    rate = np.clip(rng.uniform(0.3, 0.9, size=(TEAMS, 1)) + drift, 0.02, 0.98)
    responded = rng.binomial(invited, rate)
    p_recommend = np.clip(rng.uniform(0.5, 0.9, size=(TEAMS, 1)) + drift / 2, 0.01, 0.99)
    recommend = rng.binomial(responded, p_recommend).astype(float)
    answered = responded.astype(float)
    # Some waves are not run or are lost: counts missing altogether.
    lost = rng.random((TEAMS, WAVES)) < 0.03
    recommend[lost] = np.nan
    answered[lost] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = 100.0 * recommend / answered
    percent[~(answered >= THRESHOLD)] = np.nan  # suppressed: a gap in the chart
    return {
        "invited": invited.astype(float),
        "responded": np.where(lost, np.nan, responded.astype(float)),
        "recommend": recommend,
        "answered": answered,
        "percent": percent,
    }


def run_batch(data: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {"xmr": xmr_batch(data["percent"], improvement="increase")}
    out["wilson"] = wilson_intervals(data["recommend"], data["answered"])
    out["trend"] = trend_tests(data["recommend"], data["answered"])
    out["fatigue"] = assess_fatigue_batch(data["responded"], data["invited"])
    return out


def run_loop(data: dict[str, np.ndarray]) -> dict[str, Any]:
    charts = [xmr(row, improvement="increase") for row in data["percent"]]
    estimate = np.full((TEAMS, WAVES), np.nan)
    lower = np.full((TEAMS, WAVES), np.nan)
    upper = np.full((TEAMS, WAVES), np.nan)
    trends = []
    k_all, n_all = data["recommend"], data["answered"]
    for i in range(TEAMS):
        k_row, n_row = k_all[i], n_all[i]
        for j in range(WAVES):
            if n_row[j] > 0:  # NaN compares False: a missing wave has no interval
                interval = wilson_interval(int(k_row[j]), int(n_row[j]))
                estimate[i, j], lower[i, j], upper[i, j] = (
                    interval.estimate,
                    interval.lower,
                    interval.upper,
                )
        present = ~np.isnan(k_row) & ~np.isnan(n_row)
        trends.append(
            trend_test(
                np.where(present, k_row, 0).astype(int).tolist(),
                np.where(present, n_row, 0).astype(int).tolist(),
            )
        )
    fatigue = [assess_fatigue(data["responded"][i], data["invited"][i]) for i in range(TEAMS)]
    return {
        "xmr": charts,
        "wilson": (estimate, lower, upper),
        "trend": trends,
        "fatigue": fatigue,
    }


def compare(batch: dict[str, Any], loop: dict[str, Any]) -> tuple[bool, float, dict[str, float]]:
    """Labels all equal?  Largest absolute difference overall and per part."""
    diffs: dict[str, float] = {}
    same = True

    def worst(a: Any, b: Any) -> float:
        a, b = np.asarray(a, float), np.asarray(b, float)
        both_nan = np.isnan(a) & np.isnan(b)
        if (np.isnan(a) != np.isnan(b)).any():
            return math.inf
        return float(np.max(np.abs(np.where(both_nan, 0.0, a - b)), initial=0.0))

    x = batch["xmr"]
    charts = loop["xmr"]
    for i, chart in enumerate(charts):
        if x.variation(i) != chart.variation or x.rule(i) != chart.rule:
            same = False
    diffs["xmr"] = max(
        worst(x.mean, [c.mean[0] for c in charts]),
        worst(x.lower, [c.lower[0] for c in charts]),
        worst(x.upper, [c.upper[0] for c in charts]),
        worst(x.lower_near, [c.lower_near[0] for c in charts]),
        worst(x.upper_near, [c.upper_near[0] for c in charts]),
    )
    diffs["wilson"] = max(worst(a, b) for a, b in zip(batch["wilson"], loop["wilson"], strict=True))
    z, chi2, p = batch["trend"]
    trends = loop["trend"]
    diffs["trend"] = max(
        worst(z, [t.z for t in trends]),
        worst(chi2, [t.statistic for t in trends]),
        worst(p, [t.pvalue for t in trends]),
    )
    fatigue, assessments = batch["fatigue"], loop["fatigue"]
    if [LEVELS[code] for code in fatigue.levels] != [f.level for f in assessments]:
        same = False
    judged = [f.trends[0] if f.trends else None for f in assessments]
    diffs["fatigue"] = max(
        worst(fatigue.response_z, [t.statistic if t else math.nan for t in judged]),
        worst(fatigue.response_p, [t.p_value if t else math.nan for t in judged]),
        worst(fatigue.response_rate_start, [t.start if t else math.nan for t in judged]),
        worst(fatigue.response_rate_end, [t.end if t else math.nan for t in judged]),
    )
    return same, max(diffs.values()), diffs


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    data = synthetic()
    gaps = np.isnan(data["percent"]).mean()
    print(
        f"{TEAMS:,} team series x {WAVES} waves (seed {SEED}); {gaps:.1%} of chart points are gaps"
    )
    run_batch(data)  # warm-up: imports, caches
    batch_time, batch = timed(lambda: run_batch(data), repeats=7)
    loop_time, loop = timed(lambda: run_loop(data), repeats=1)
    same, max_diff, diffs = compare(batch, loop)
    print(f"(a) batch, best of 7:  {batch_time * 1e3:9.1f} ms   (target < 100 ms)")
    print(f"(b) scalar loop:       {loop_time * 1e3:9.1f} ms")
    print(f"speed-up:              {loop_time / batch_time:9.1f} x   (target >= 10 x)")
    print(f"labels identical:      {same}")
    print(f"max abs difference:    {max_diff:.3g}   (target <= 1e-12)")
    for part, value in diffs.items():
        print(f"    {part:<8} {value:.3g}")
    counts: dict[str, int] = {}
    x = batch["xmr"]
    for code in x.variation_code.ravel():
        label = "gap" if code < 0 else x.labels[code]
        counts[label] = counts.get(label, 0) + 1
    print("xmr labels: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
