"""The numbers behind a change verdict (see :mod:`analysis.change` for the method).

A :class:`Comparison` holds everything about one team's baseline and recent
windows except the verdict, which needs the family's adjusted cutoff.  The
proportion and the mean-score comparisons share the windows, the worst-case
bounds and Lee's trimming; they differ only in the test and interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from analysis.proportions import newcombe_difference

FloatArray = npt.NDArray[np.float64]
NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Side:
    """Counts of one window, summed over its waves."""

    waves: int
    n: int  # answers
    invited: int
    total: float  # positive answers, or the sum of scores
    total_sq: float = 0.0  # sum of squared scores (means only)

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n > 0 else NAN

    @property
    def response_rate(self) -> float:
        return self.n / self.invited if self.invited > 0 else NAN

    def worst_case(self, top: float) -> tuple[float, float]:
        """Manski bounds of the mean: every non-respondent at 0, or at `top`."""
        if self.invited == 0:
            return NAN, NAN
        missing = self.invited - self.n
        return self.total / self.invited, (self.total + top * missing) / self.invited


def windows(
    columns: Sequence[FloatArray], recent_waves: int, baseline_waves: int
) -> tuple[Side, Side]:
    """Baseline and recent :class:`Side` from per-wave (total, [total_sq,] n, invited).

    The recent window is the last `recent_waves` waves; the baseline the
    `baseline_waves` before it (fewer, or none, when the series is short).
    """
    size = columns[0].size
    recent = slice(max(0, size - recent_waves), size)
    baseline = slice(max(0, recent.start - baseline_waves), recent.start)

    def side(window: slice) -> Side:
        sums = [float(c[window].sum()) for c in columns]
        total, *squares, n, invited = sums
        return Side(window.stop - window.start, int(n), int(invited), total, *squares)

    return side(baseline), side(recent)


@dataclass(frozen=True, slots=True)
class Test:
    """A two-sided test of the difference and its interval, and the same after trimming."""

    low: float
    high: float
    p_value: float
    selection_bounds: tuple[float, float]
    p_selection: float


NO_TEST = Test(NAN, NAN, NAN, (NAN, NAN), NAN)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything but the verdict, which needs the family-adjusted cutoff."""

    kind: str
    before: Side
    after: Side
    confidence: float
    top: float  # the top of the scale (1 for a proportion)
    test: Test
    reason_too_few: str  # "" when there are enough answers

    @property
    def difference(self) -> float:
        return self.after.mean - self.before.mean

    @property
    def before_bounds(self) -> tuple[float, float]:
        return self.before.worst_case(self.top)

    @property
    def after_bounds(self) -> tuple[float, float]:
        return self.after.worst_case(self.top)

    @property
    def difference_bounds(self) -> tuple[float, float]:
        (b_low, b_high), (a_low, a_high) = self.before_bounds, self.after_bounds
        return a_low - b_high, a_high - b_low


def _too_few_reason(before: Side, after: Side, min_answers: int) -> str:
    if before.waves == 0:
        return "no baseline wave"
    if before.n < min_answers or after.n < min_answers:
        return "few answers"
    return ""


def compare(
    kind: str,
    before: Side,
    after: Side,
    *,
    top: float,
    min_answers: int,
    confidence: float,
    test: Callable[[Side, Side, float, float], Test],
) -> Comparison:
    """Run `test` on the two windows when both have enough answers."""
    reason = _too_few_reason(before, after, min_answers)
    result = NO_TEST if reason else test(before, after, confidence, top)
    return Comparison(kind, before, after, confidence, top, result, reason)


# --------------------------------------------------------------------- Lee trimming


def _trim(total: float, n: float, k: float, top: float, *, highest: bool) -> float:
    """Mean of ``n - k`` answers left after removing the k highest or lowest.

    Scores lie in [0, top]; with only the total known, the removed answers are
    taken as extreme as possible (for 0/1 answers, ``top = 1``, this is exact).
    """
    kept = n - k
    if highest:
        return (total - min(total, top * k)) / kept
    return min(total, top * kept) / kept


@dataclass(frozen=True, slots=True)
class _Trimmed:
    """Lee's bounds, and the two sides' means and sizes least favourable to the change."""

    bounds: tuple[float, float]
    mean_before: float
    n_before: float
    mean_after: float
    n_after: float

    def keeps_direction(self, observed: float) -> bool:
        """Does the trimmed difference still point the way the observed one does?"""
        trimmed = self.mean_after - self.mean_before
        return (trimmed > 0.0 and observed > 0.0) or (trimmed < 0.0 and observed < 0.0)


def _sceptical_sides(before: Side, after: Side, top: float) -> _Trimmed:
    """Trim the side with the higher response rate to the other's rate (Lee 2009).

    It has ``k = n_H - R_L N_H`` answers beyond what the lower rate would have
    given; dropping its k lowest or k highest answers gives the bounds, and the
    trimming that argues *against* the observed change gives the sceptical sides.
    """
    rose = after.mean - before.mean > 0.0
    if before.response_rate >= after.response_rate:
        k = max(0.0, before.n - after.response_rate * before.invited)
        raised = _trim(before.total, before.n, k, top, highest=False)
        lowered = _trim(before.total, before.n, k, top, highest=True)
        sceptical = raised if rose else lowered  # a higher baseline doubts a rise
        return _Trimmed(
            (after.mean - raised, after.mean - lowered),
            sceptical,
            before.n - k,
            after.mean,
            after.n,
        )
    k = max(0.0, after.n - before.response_rate * after.invited)
    lowered = _trim(after.total, after.n, k, top, highest=True)
    raised = _trim(after.total, after.n, k, top, highest=False)
    sceptical = lowered if rose else raised  # a lower recent value doubts a rise
    return _Trimmed(
        (lowered - before.mean, raised - before.mean), before.mean, before.n, sceptical, after.n - k
    )


# --------------------------------------------------------------------- the tests


def two_proportion_p(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided pooled score test: R ``prop.test(c(x1, x2), c(n1, n2), correct = FALSE)``."""
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0  # both sides all one answer: no evidence of a difference
    z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(special.chdtrc(1.0, z * z))


def proportion_test(before: Side, after: Side, confidence: float, top: float) -> Test:
    """Newcombe interval, pooled score test, and the score test after Lee's trimming."""
    interval = newcombe_difference(
        int(before.total), before.n, int(after.total), after.n, confidence
    )
    p_value = two_proportion_p(before.total, before.n, after.total, after.n)
    trimmed = _sceptical_sides(before, after, top)
    p_selection = 1.0
    if trimmed.keeps_direction(after.mean - before.mean):
        p_selection = two_proportion_p(
            trimmed.mean_before * trimmed.n_before,
            trimmed.n_before,
            trimmed.mean_after * trimmed.n_after,
            trimmed.n_after,
        )
    return Test(interval.lower, interval.upper, p_value, trimmed.bounds, p_selection)


def welch(
    m_b: float, v_b: float, n_b: float, m_a: float, v_a: float, n_a: float, confidence: float
) -> tuple[float, float, float]:
    """Welch t: (p-value, low, high) for ``m_a - m_b``."""
    se2_b, se2_a = v_b / n_b, v_a / n_a
    se = math.sqrt(se2_b + se2_a)
    diff = m_a - m_b
    if se == 0.0:
        return (1.0 if diff == 0.0 else 0.0), diff, diff
    df = (se2_b + se2_a) ** 2 / (se2_b**2 / (n_b - 1.0) + se2_a**2 / (n_a - 1.0))
    p_value = float(2.0 * stats.t.sf(abs(diff / se), df))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    return p_value, diff - half, diff + half


def _variance(side: Side) -> float:
    # From the aggregates; rounding can push a zero variance a hair below zero.
    return max(0.0, (side.total_sq - side.n * side.mean * side.mean) / (side.n - 1.0))


def mean_test(before: Side, after: Side, confidence: float, top: float) -> Test:
    """Welch t test and interval, and Welch again after Lee's trimming."""
    v_b, v_a = _variance(before), _variance(after)
    p_value, low, high = welch(before.mean, v_b, before.n, after.mean, v_a, after.n, confidence)
    trimmed = _sceptical_sides(before, after, top)
    p_selection = 1.0
    if trimmed.keeps_direction(after.mean - before.mean):
        # The trimmed sides keep their untrimmed variances (the aggregates do
        # not say which answers were trimmed), and at least two answers.
        p_selection, _, _ = welch(
            trimmed.mean_before,
            v_b,
            max(trimmed.n_before, 2.0),
            trimmed.mean_after,
            v_a,
            max(trimmed.n_after, 2.0),
            confidence,
        )
    return Test(low, high, p_value, trimmed.bounds, p_selection)
