"""The change a lead sees: recent waves against the waves before them.

Every judgement compares two *windows* of closed waves of one team:

* the **recent window**: the latest ``recent_waves`` closed waves (default 3);
* the **baseline window**: the ``baseline_waves`` closed waves just before
  them (default 3; fewer when the team has fewer, at least one).

Three waves a side is the shortest window that detects the rise the project
was set up to see (50% to 80% recommending with 30 answers a wave, tested in
``tests/analysis/test_simulations.py``: detected as improved within three
waves in at least 80% of runs) while keeping each side's count large enough
for the small teams of an INT; with one wave a side a team of 30 has no
power for anything short of a landslide, with six the recent window needs six
waves to fill after a real change.

Each judgement ends in one verdict:

``too_few_answers``
    a side has fewer than ``min_answers`` answers (default 5) or there is no
    baseline wave yet;
``no_credible_change``
    the p-value is above the (family-adjusted) cutoff;
``apparent_change``
    significant, but (a) the response rate moved by at least
    ``material_response_change`` (default 5 percentage points), (b) the
    worst-case non-response bounds of the difference include no change, and
    (c) the change is no longer significant once the side that answered more
    is trimmed to the other side's response rate, dropping the answers that
    favour the change (Lee's bounds [3]_): the change may reflect who
    answered;
``improved`` / ``worsened``
    significant otherwise, in the good or the bad direction.

Why three conditions for ``apparent_change``.  The worst-case (Manski [2]_)
bounds, every non-respondent answering yes or every one no, include zero for
almost any team with a response rate below about 80%, so on their own they
would call every change "apparent".  Lee's trimming assumes only that staff
who answered in the lower-response window would also have answered in the
other; it asks whether the change survives if the extra answers were the
ones most favourable to it.  This is what separates "disengaged staff
stopped answering" (no change left after trimming) from a real rise with
a response rate that wobbled (the change survives).  The simulations fix the
defaults: with disengaged staff leaving first and no true change, "improved"
fires on about 3% of team-waves; a real 50% to 80% rise is still detected
within three waves in about 98% of runs.

The family of comparisons for the false discovery rate is every team of the
INT for the same measure and period (:func:`judge_family`).

References
----------
.. [1] R. G. Newcombe, "Interval estimation for the difference between
       independent proportions: comparison of eleven methods", *Statistics
       in Medicine* 17:873-890, 1998 (method 10).
.. [2] C. F. Manski, "Nonparametric bounds on treatment effects", *American
       Economic Review* 80(2):319-323, 1990 (worst-case bounds).
.. [3] D. S. Lee, "Training, wages, and sample selection: estimating sharp
       bounds on treatment effects", *Review of Economic Studies*
       76(3):1071-1102, 2009 (trimming bounds).
.. [4] Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate",
       *Journal of the Royal Statistical Society B* 57(1):289-300, 1995.
.. [5] B. L. Welch, "The generalization of Student's problem when several
       different population variances are involved", *Biometrika*
       34:28-35, 1947.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from analysis._validation import check_confidence, check_counts_array
from analysis.proportions import newcombe_difference

__all__ = [
    "VERDICTS",
    "ChangeJudgement",
    "FamilyJudgement",
    "benjamini_hochberg",
    "judge_family",
    "judge_mean_change",
    "judge_mean_family",
    "judge_proportion_change",
]

VERDICTS: Final[tuple[str, ...]] = (
    "improved",
    "worsened",
    "apparent_change",
    "no_credible_change",
    "too_few_answers",
)
"""Every verdict a judgement can reach."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ChangeJudgement:
    """One team's change between the baseline and the recent window.

    Attributes
    ----------
    kind : {"proportion", "mean"}
        The kind of measure.
    verdict : str
        One of :data:`VERDICTS`.
    sentence : str
        The verdict in one plain-English sentence for the lead.
    before, after : float
        The measure in the baseline and in the recent window (proportion 0-1
        or mean); NaN for a side with no answers.
    difference : float
        ``after - before``.
    difference_low, difference_high : float
        Confidence interval for the difference (Newcombe hybrid score for a
        proportion, Welch t for a mean); NaN when not computable.
    confidence : float
        Level of the interval, ``1 - alpha``.
    n_before, n_after : int
        Answers on each side.
    invited_before, invited_after : int
        Staff invited on each side (summed over the window's waves).
    response_rate_before, response_rate_after : float
        ``n / invited`` on each side (NaN when nobody was invited).
    after_bounds : tuple of float
        Worst-case bounds for ``after``: its value if every recent
        non-respondent had answered at the bottom, or at the top, of the scale.
    difference_bounds : tuple of float
        Worst-case bounds for the difference, from both sides' bounds.
    selection_bounds : tuple of float
        Lee's trimming bounds for the difference: the side with the higher
        response rate trimmed to the other's rate, dropping its lowest or its
        highest answers (NaN when not computed).
    p_value : float
        Two-sided p-value of the comparison (NaN when not computed).
    p_selection : float
        Two-sided p-value after trimming the side with the higher response
        rate against the observed change; 1 when the trimming reverses or
        cancels the change (NaN when not computed).
    p_adjusted : float
        Benjamini-Hochberg adjusted p-value within the family (equal to
        ``p_value`` for a single team).
    family_size : int
        Number of p-values in the family the adjustment used.
    waves_before, waves_after : int
        Waves in each window.
    """

    kind: str
    verdict: str
    sentence: str
    before: float
    after: float
    difference: float
    difference_low: float
    difference_high: float
    confidence: float
    n_before: int
    n_after: int
    invited_before: int
    invited_after: int
    response_rate_before: float
    response_rate_after: float
    after_bounds: tuple[float, float]
    difference_bounds: tuple[float, float]
    selection_bounds: tuple[float, float]
    p_value: float
    p_selection: float
    p_adjusted: float
    family_size: int
    waves_before: int
    waves_after: int


@dataclass(frozen=True, slots=True)
class FamilyJudgement:
    """Judgements for every team of an INT, one measure and period.

    Attributes
    ----------
    judgements : tuple of ChangeJudgement
        One per team, in the order given.
    team_ids : tuple of str
        Team labels, in the same order.
    family_size : int
        Teams with a p-value (the Benjamini-Hochberg ``m``).
    alpha : float
        The false discovery rate controlled.
    """

    judgements: tuple[ChangeJudgement, ...]
    team_ids: tuple[str, ...]
    family_size: int
    alpha: float


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate).

    Parameters
    ----------
    p_values : array_like of float, 1-D
        p-values; NaN marks a comparison that was not made (it stays NaN and
        does not count in the family size ``m``).

    Returns
    -------
    ndarray of float
        Adjusted p-values, in the input order.  Rejecting those at or below
        ``q`` controls the false discovery rate at ``q`` for independent or
        positively dependent tests.

    Raises
    ------
    ValueError
        If ``p_values`` is not 1-D, is empty, or holds a value outside [0, 1]
        or an infinity.

    Notes
    -----
    With the :math:`m` finite p-values sorted, :math:`p_{(1)} \\le \\dots \\le
    p_{(m)}`,

    .. math:: \\tilde p_{(i)} = \\min\\Big(1, \\min_{j \\ge i} \\frac{m}{j}
              p_{(j)}\\Big),

    as R's ``p.adjust(p, method = "BH")`` and
    ``scipy.stats.false_discovery_control(p, method="bh")``.

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, *JRSS B* 57(1):289-300, 1995.

    Examples
    --------
    >>> from analysis.change import benjamini_hochberg
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    if p.size == 0:
        raise ValueError("p_values is empty")
    present = ~np.isnan(p)
    if np.any(np.isinf(p)) or np.any((p[present] < 0.0) | (p[present] > 1.0)):
        raise ValueError("p_values must lie between 0 and 1 (NaN for a comparison not made)")
    adjusted = np.full(p.shape, np.nan)
    finite = p[present]
    m = finite.size
    if m == 0:
        return adjusted
    order = np.argsort(finite, kind="stable")
    scaled = finite[order] * m / np.arange(1, m + 1)
    monotone = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(monotone, 1.0)
    adjusted[present] = out
    return adjusted


# --------------------------------------------------------------------- inputs


def _series(values: npt.ArrayLike, name: str) -> FloatArray:
    arr = check_counts_array(values, name, ndim=1)
    return arr


def _check_windows(recent_waves: int, baseline_waves: int) -> None:
    for name, value in (("recent_waves", recent_waves), ("baseline_waves", baseline_waves)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def _check_common(min_answers: int, alpha: float, material_response_change: float) -> float:
    if isinstance(min_answers, bool) or not isinstance(min_answers, int | np.integer):
        raise ValueError(f"min_answers must be a whole number, got {min_answers!r}")
    if min_answers < 2:
        raise ValueError(f"min_answers must be at least 2, got {min_answers}")
    if isinstance(alpha, bool) or not isinstance(alpha, float | int) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    confidence = check_confidence(1.0 - alpha)
    if not np.isfinite(material_response_change) or not 0.0 <= material_response_change <= 1.0:
        raise ValueError(
            f"material_response_change must be between 0 and 1, got {material_response_change!r}"
        )
    return confidence


def _window_slices(n_waves: int, recent_waves: int, baseline_waves: int) -> tuple[slice, slice]:
    recent = slice(max(0, n_waves - recent_waves), n_waves)
    baseline = slice(max(0, n_waves - recent_waves - baseline_waves), recent.start)
    return baseline, recent


@dataclass(frozen=True, slots=True)
class _Side:
    """Summed counts of one window."""

    waves: int
    n: int
    invited: int
    total: float  # positives, or sum of scores
    total_sq: float  # unused for proportions

    @property
    def response_rate(self) -> float:
        return self.n / self.invited if self.invited > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class _Comparison:
    """Everything but the verdict, which needs the family-adjusted p-value."""

    kind: str
    before: _Side
    after: _Side
    estimate_before: float
    estimate_after: float
    difference: float
    low: float
    high: float
    confidence: float
    after_bounds: tuple[float, float]
    difference_bounds: tuple[float, float]
    selection_bounds: tuple[float, float]
    p_value: float
    p_selection: float
    enough: bool
    reason_too_few: str


def _sides(
    columns: Sequence[FloatArray], recent_waves: int, baseline_waves: int
) -> tuple[list[float], list[float], int, int]:
    n_waves = columns[0].size
    base, rec = _window_slices(n_waves, recent_waves, baseline_waves)
    return (
        [float(c[base].sum()) for c in columns],
        [float(c[rec].sum()) for c in columns],
        base.stop - base.start,
        rec.stop - rec.start,
    )


def _bounds(total: float, n: int, invited: int, top: float) -> tuple[float, float]:
    """Worst-case (Manski) bounds of a mean on [0, top] with non-respondents."""
    if invited == 0:
        return float("nan"), float("nan")
    missing = invited - n
    return total / invited, (total + top * missing) / invited


def _too_few_reason(before: _Side, after: _Side, min_answers: int) -> str:
    if before.waves == 0:
        return "no baseline wave"
    if before.n < min_answers or after.n < min_answers:
        return "few answers"
    return ""


def _excess(before: _Side, after: _Side) -> tuple[bool, float]:
    """Which side answered more, and how many of its answers are in excess.

    Returns ``(before_is_higher, k)`` with ``k = n_H - R_L N_H``: the answers of
    the side with the higher response rate beyond what the lower rate would
    have given (Lee's trimming count).
    """
    r_b, r_a = before.response_rate, after.response_rate
    if r_b >= r_a:
        return True, max(0.0, before.n - r_a * before.invited)
    return False, max(0.0, after.n - r_b * after.invited)


def _trim(total: float, n: float, k: float, top: float, *, highest: bool) -> float:
    """Mean of ``n - k`` answers left after removing the k highest or lowest.

    Scores lie in [0, top]; with only the total known, the removed answers are
    taken as extreme as possible (for 0/1 answers, ``top = 1``, this is exact).
    """
    kept = n - k
    if highest:
        return (total - min(total, top * k)) / kept
    return min(total, top * kept) / kept


def _compare_proportion(
    positive: FloatArray,
    answered: FloatArray,
    invited: FloatArray,
    recent_waves: int,
    baseline_waves: int,
    min_answers: int,
    confidence: float,
) -> _Comparison:
    (pos_b, ans_b, inv_b), (pos_a, ans_a, inv_a), w_b, w_a = _sides(
        (positive, answered, invited), recent_waves, baseline_waves
    )
    before = _Side(w_b, int(ans_b), int(inv_b), pos_b, 0.0)
    after = _Side(w_a, int(ans_a), int(inv_a), pos_a, 0.0)
    est_b = pos_b / ans_b if ans_b > 0 else float("nan")
    est_a = pos_a / ans_a if ans_a > 0 else float("nan")
    b_bounds = _bounds(pos_b, before.n, before.invited, 1.0)
    a_bounds = _bounds(pos_a, after.n, after.invited, 1.0)
    d_bounds = (a_bounds[0] - b_bounds[1], a_bounds[1] - b_bounds[0])
    reason = _too_few_reason(before, after, min_answers)
    low = high = p_value = p_selection = float("nan")
    selection = (float("nan"), float("nan"))
    if not reason:
        interval = newcombe_difference(int(pos_b), before.n, int(pos_a), after.n, confidence)
        low, high = interval.lower, interval.upper
        p_value = _two_proportion_p(pos_b, ans_b, pos_a, ans_a)
        selection, p_selection = _proportion_selection(before, after, est_a - est_b)
    return _Comparison(
        kind="proportion",
        before=before,
        after=after,
        estimate_before=est_b,
        estimate_after=est_a,
        difference=est_a - est_b,
        low=low,
        high=high,
        confidence=confidence,
        after_bounds=a_bounds,
        difference_bounds=d_bounds,
        selection_bounds=selection,
        p_value=p_value,
        p_selection=p_selection,
        enough=not reason,
        reason_too_few=reason,
    )


def _sceptical_sides(
    before: _Side, after: _Side, difference: float, top: float
) -> tuple[tuple[float, float], tuple[float, float, float, float]]:
    """Selection bounds, and the trimmed sides least favourable to the change.

    The second item is ``(mean_before, n_before, mean_after, n_after)`` after
    trimming the side with the higher response rate so that it keeps the
    answers that argue *against* the observed change.
    """
    before_higher, k = _excess(before, after)
    m_b, m_a = before.total / before.n, after.total / after.n
    rose = difference > 0.0
    if before_higher:
        kept = before.n - k
        # Sceptical about a rise: drop before's lowest answers (raising it).
        b_raised = _trim(before.total, before.n, k, top, highest=False)
        b_lowered = _trim(before.total, before.n, k, top, highest=True)
        bounds = (m_a - b_raised, m_a - b_lowered)
        sceptical = (b_raised if rose else b_lowered, kept, m_a, float(after.n))
    else:
        kept = after.n - k
        # Sceptical about a rise: drop after's highest answers (lowering it).
        a_lowered = _trim(after.total, after.n, k, top, highest=True)
        a_raised = _trim(after.total, after.n, k, top, highest=False)
        bounds = (a_lowered - m_b, a_raised - m_b)
        sceptical = (m_b, float(before.n), a_lowered if rose else a_raised, kept)
    return bounds, sceptical


def _proportion_selection(
    before: _Side, after: _Side, difference: float
) -> tuple[tuple[float, float], float]:
    bounds, (m_b, n_b, m_a, n_a) = _sceptical_sides(before, after, difference, 1.0)
    if not _same_direction(m_a - m_b, difference):
        return bounds, 1.0
    return bounds, _two_proportion_p(m_b * n_b, n_b, m_a * n_a, n_a)


def _same_direction(trimmed: float, observed: float) -> bool:
    """Does the trimmed difference still point the way the observed one does?"""
    return (trimmed > 0.0 and observed > 0.0) or (trimmed < 0.0 and observed < 0.0)


def _two_proportion_p(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided pooled score test: R ``prop.test(c(x1, x2), c(n1, n2), correct = FALSE)``."""
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return 1.0  # both sides all one answer: no evidence of a difference
    z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(special.chdtrc(1.0, z * z))


def _welch(
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


def _compare_mean(
    sums: FloatArray,
    sums_sq: FloatArray,
    n: FloatArray,
    invited: FloatArray,
    recent_waves: int,
    baseline_waves: int,
    min_answers: int,
    confidence: float,
    scale_max: float,
) -> _Comparison:
    (s_b, ss_b, n_b, inv_b), (s_a, ss_a, n_a, inv_a), w_b, w_a = _sides(
        (sums, sums_sq, n, invited), recent_waves, baseline_waves
    )
    before = _Side(w_b, int(n_b), int(inv_b), s_b, ss_b)
    after = _Side(w_a, int(n_a), int(inv_a), s_a, ss_a)
    m_b = s_b / n_b if n_b > 0 else float("nan")
    m_a = s_a / n_a if n_a > 0 else float("nan")
    b_bounds = _bounds(s_b, before.n, before.invited, scale_max)
    a_bounds = _bounds(s_a, after.n, after.invited, scale_max)
    d_bounds = (a_bounds[0] - b_bounds[1], a_bounds[1] - b_bounds[0])
    reason = _too_few_reason(before, after, min_answers)
    low = high = p_value = p_selection = float("nan")
    selection = (float("nan"), float("nan"))
    if not reason:
        # Sample variances from the aggregates; rounding can push a zero
        # variance a hair below zero.
        v_b = max(0.0, (ss_b - n_b * m_b * m_b) / (n_b - 1.0))
        v_a = max(0.0, (ss_a - n_a * m_a * m_a) / (n_a - 1.0))
        p_value, low, high = _welch(m_b, v_b, n_b, m_a, v_a, n_a, confidence)
        selection, (t_b, k_b, t_a, k_a) = _sceptical_sides(before, after, m_a - m_b, scale_max)
        # The trimmed sides keep their untrimmed variances (the aggregates do
        # not say which answers were trimmed), and at least two answers.
        if _same_direction(t_a - t_b, m_a - m_b):
            p_selection, _, _ = _welch(t_b, v_b, max(k_b, 2.0), t_a, v_a, max(k_a, 2.0), confidence)
        else:
            p_selection = 1.0
    return _Comparison(
        kind="mean",
        before=before,
        after=after,
        estimate_before=m_b,
        estimate_after=m_a,
        difference=m_a - m_b,
        low=low,
        high=high,
        confidence=confidence,
        after_bounds=a_bounds,
        difference_bounds=d_bounds,
        selection_bounds=selection,
        p_value=p_value,
        p_selection=p_selection,
        enough=not reason,
        reason_too_few=reason,
    )


# --------------------------------------------------------------------- verdicts


def _fmt_value(kind: str, value: float) -> str:
    return f"{value:.0%}" if kind == "proportion" else f"{value:.1f}"


def _fmt_diff(kind: str, value: float) -> str:
    if kind == "proportion":
        return f"{100.0 * value:+.0f} points"
    return f"{value:+.1f}"


def _bh_cutoff(p_values: FloatArray, alpha: float) -> float:
    """The Benjamini-Hochberg rejection cutoff ``k* alpha / m`` (0 if none).

    A p-value is rejected exactly when it is at most this cutoff, which is the
    same as its adjusted p-value being at most ``alpha``.
    """
    finite = np.sort(p_values[~np.isnan(p_values)])
    m = finite.size
    if m == 0:
        return 0.0
    levels = alpha * np.arange(1, m + 1) / m
    passing = np.nonzero(finite <= levels)[0]
    return float(levels[passing[-1]]) if passing.size else 0.0


def _verdict(
    c: _Comparison,
    p_adjusted: float,
    cutoff: float,
    family_size: int,
    *,
    min_answers: int,
    material_response_change: float,
    higher_is_better: bool,
    measure: str,
) -> ChangeJudgement:
    kind = c.kind
    if not c.enough:
        verdict = "too_few_answers"
        if c.reason_too_few == "no baseline wave":
            sentence = (
                f"Not enough closed waves to judge a change in {measure} yet: "
                "there is no earlier wave to compare with."
            )
        else:
            sentence = (
                f"Too few answers to judge a change in {measure} ({c.before.n} before, "
                f"{c.after.n} recently; at least {min_answers} needed on each side)."
            )
    elif not c.p_value <= cutoff:
        verdict = "no_credible_change"
        family = f", allowing for the {family_size} teams compared" if family_size > 1 else ""
        sentence = (
            f"No credible change in {measure}: {_fmt_value(kind, c.estimate_before)} before, "
            f"{_fmt_value(kind, c.estimate_after)} recently (difference "
            f"{_fmt_diff(kind, c.difference)}; {c.confidence:.0%} interval "
            f"{_fmt_diff(kind, c.low)} to {_fmt_diff(kind, c.high)}{family})."
        )
    else:
        moved = abs(c.after.response_rate - c.before.response_rate) >= material_response_change
        worst_case_includes_zero = c.difference_bounds[0] <= 0.0 <= c.difference_bounds[1]
        selection_explains = not c.p_selection <= cutoff
        rose = c.difference > 0.0
        verb = "rose" if rose else "fell"
        change = (
            f"{measure} {verb} from {_fmt_value(kind, c.estimate_before)} to "
            f"{_fmt_value(kind, c.estimate_after)}"
        )
        if moved and worst_case_includes_zero and selection_explains:
            verdict = "apparent_change"
            sentence = (
                f"{_capital(change)}, but the response rate went from "
                f"{c.before.response_rate:.0%} to {c.after.response_rate:.0%}, so the change "
                "may reflect who answered rather than a real change."
            )
        else:
            verdict = "improved" if rose == higher_is_better else "worsened"
            sentence = (
                f"{_capital(change)} ({_fmt_diff(kind, c.difference)}; "
                f"{c.confidence:.0%} interval {_fmt_diff(kind, c.low)} to "
                f"{_fmt_diff(kind, c.high)}): a change this large is unlikely to be chance."
            )
    return ChangeJudgement(
        kind=kind,
        verdict=verdict,
        sentence=sentence,
        before=c.estimate_before,
        after=c.estimate_after,
        difference=c.difference,
        difference_low=c.low,
        difference_high=c.high,
        confidence=c.confidence,
        n_before=c.before.n,
        n_after=c.after.n,
        invited_before=c.before.invited,
        invited_after=c.after.invited,
        response_rate_before=c.before.response_rate,
        response_rate_after=c.after.response_rate,
        after_bounds=c.after_bounds,
        difference_bounds=c.difference_bounds,
        selection_bounds=c.selection_bounds,
        p_value=c.p_value,
        p_selection=c.p_selection,
        p_adjusted=p_adjusted,
        family_size=family_size,
        waves_before=c.before.waves,
        waves_after=c.after.waves,
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _family_verdicts(
    comparisons: Sequence[_Comparison],
    *,
    alpha: float,
    min_answers: int,
    material_response_change: float,
    higher_is_better: bool,
    measure: str,
) -> tuple[tuple[ChangeJudgement, ...], int]:
    p = np.array([c.p_value for c in comparisons], dtype=np.float64)
    adjusted = benjamini_hochberg(p)
    cutoff = _bh_cutoff(p, alpha)
    family_size = int(np.count_nonzero(~np.isnan(p)))
    judgements = tuple(
        _verdict(
            c,
            float(q),
            cutoff,
            family_size,
            min_answers=min_answers,
            material_response_change=material_response_change,
            higher_is_better=higher_is_better,
            measure=measure,
        )
        for c, q in zip(comparisons, adjusted, strict=True)
    )
    return judgements, family_size


def _proportion_inputs(
    positive: npt.ArrayLike, answered: npt.ArrayLike, invited: npt.ArrayLike, prefix: str = ""
) -> tuple[FloatArray, FloatArray, FloatArray]:
    pos = _series(positive, f"{prefix}positive")
    ans = _series(answered, f"{prefix}answered")
    inv = _series(invited, f"{prefix}invited")
    if not pos.shape == ans.shape == inv.shape:
        raise ValueError(f"{prefix}positive, answered and invited must have the same length")
    if np.any(pos > ans):
        raise ValueError(f"{prefix}positive must not exceed {prefix}answered in any wave")
    if np.any(ans > inv):
        raise ValueError(f"{prefix}answered must not exceed {prefix}invited in any wave")
    return pos, ans, inv


def _mean_inputs(
    sums: npt.ArrayLike,
    sums_sq: npt.ArrayLike,
    n: npt.ArrayLike,
    invited: npt.ArrayLike,
    scale_max: float,
    prefix: str = "",
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    arrays = []
    for name, values in (("sums", sums), ("sums_sq", sums_sq)):
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{prefix}{name} must be a non-empty 1-D series")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{prefix}{name} must be finite and not negative")
        arrays.append(arr)
    s, ss = arrays
    cnt = _series(n, f"{prefix}n")
    inv = _series(invited, f"{prefix}invited")
    if not s.shape == ss.shape == cnt.shape == inv.shape:
        raise ValueError(f"{prefix}sums, sums_sq, n and invited must have the same length")
    if np.any(cnt > inv):
        raise ValueError(f"{prefix}n must not exceed {prefix}invited in any wave")
    tol = 1e-9 * np.maximum(1.0, ss)
    if np.any(s > scale_max * cnt + tol) or np.any(ss > scale_max * s + tol):
        raise ValueError(f"{prefix}sums and sums_sq are not possible for scores in 0-{scale_max:g}")
    return s, ss, cnt, inv


def judge_proportion_change(
    positive: npt.ArrayLike,
    answered: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    measure: str = "% recommend",
) -> ChangeJudgement:
    """Judge the change in a proportion measure for one team.

    Parameters
    ----------
    positive, answered, invited : array_like of int, 1-D
        Per closed wave, oldest first: positive answers (e.g. Extremely likely
        + Likely), all answers to the item ("Don't know" included, the NHS
        FFT denominator), and staff invited.
    recent_waves, baseline_waves : int, optional
        Window lengths (default 3 and 3; see the module docstring).
    min_answers : int, optional
        Fewest answers a side needs (default 5, at least 2).
    alpha : float, optional
        Significance level; the interval has level ``1 - alpha`` (default 0.05).
    material_response_change : float, optional
        Change in response rate (0-1) that counts as material (default 0.05).
    higher_is_better : bool, optional
        True (default) when a rise is an improvement (% recommend); False for
        e.g. % not recommend.
    measure : str, optional
        Name used in the sentence (default "% recommend").

    Returns
    -------
    ChangeJudgement

    Raises
    ------
    ValueError
        If a series is empty, not 1-D, of different lengths, negative, NaN or
        not whole; if ``positive > answered`` or ``answered > invited`` in a
        wave; if a window length, ``min_answers``, ``alpha`` or
        ``material_response_change`` is out of range.

    Notes
    -----
    With :math:`x_b, n_b, N_b` the positives, answers and invited summed
    over the baseline window and :math:`x_a, n_a, N_a` over the recent one:

    * estimates :math:`\\hat p_b = x_b/n_b`, :math:`\\hat p_a = x_a/n_a`, and
      the difference :math:`\\hat p_a - \\hat p_b` with Newcombe's hybrid
      score interval [1]_ (``analysis.proportions.newcombe_difference``);
    * p-value of the pooled score test, :math:`z = (\\hat p_a - \\hat p_b) /
      \\sqrt{\\bar p(1-\\bar p)(1/n_a + 1/n_b)}`, as R's ``prop.test(...,
      correct = FALSE)``.  Both are score methods and agree closely; at the
      margin the interval may just touch zero while the test rejects, or the
      reverse;
    * worst-case bounds [2]_ for the recent proportion,
      :math:`[x_a/N_a,\\ (x_a + N_a - n_a)/N_a]` (every recent non-respondent
      answering no, or yes), and for the difference
      :math:`[L_a - U_b,\\ U_a - L_b]`;
    * response rates :math:`R = n/N`;
    * selection (Lee) bounds [3]_: the side with the higher response rate,
      say :math:`H`, has :math:`k = n_H - R_L N_H` answers more than the
      other rate would give; dropping its :math:`k` "no" answers, or its
      :math:`k` "yes" answers, gives the bounds of the difference, and the
      pooled score test on the trimmed side least favourable to the observed
      change gives ``p_selection``.

    The verdict rules are in the module docstring: ``apparent_change`` needs
    the response rate to move by ``material_response_change``, the worst-case
    bounds of the difference to include zero *and* ``p_selection`` to miss
    the cutoff that ``p_value`` met.

    References
    ----------
    .. [1] R. G. Newcombe, *Statistics in Medicine* 17:873-890, 1998.
    .. [2] C. F. Manski, *American Economic Review* 80(2):319-323, 1990.
    .. [3] D. S. Lee, *Review of Economic Studies* 76(3):1071-1102, 2009.

    Examples
    --------
    >>> from analysis.change import judge_proportion_change
    >>> j = judge_proportion_change([15, 14, 16, 24, 25, 23], [30] * 6, [40] * 6)
    >>> j.verdict
    'improved'
    """
    confidence = _check_common(min_answers, alpha, material_response_change)
    _check_windows(recent_waves, baseline_waves)
    pos, ans, inv = _proportion_inputs(positive, answered, invited)
    comparison = _compare_proportion(
        pos, ans, inv, recent_waves, baseline_waves, min_answers, confidence
    )
    judgements, _ = _family_verdicts(
        [comparison],
        alpha=alpha,
        min_answers=min_answers,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    return judgements[0]


def judge_mean_change(
    sums: npt.ArrayLike,
    sums_sq: npt.ArrayLike,
    n: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    scale_max: float = 10.0,
    measure: str = "engagement",
) -> ChangeJudgement:
    """Judge the change in a mean score (e.g. engagement, 0-10) for one team.

    Parameters
    ----------
    sums, sums_sq : array_like of float, 1-D
        Per closed wave, oldest first: sum of the respondents' scores and sum
        of their squares.
    n, invited : array_like of int, 1-D
        Per closed wave: respondents with a score, and staff invited.
    recent_waves, baseline_waves, min_answers, alpha
        As :func:`judge_proportion_change`.
    material_response_change, higher_is_better
        As :func:`judge_proportion_change`.
    scale_max : float, optional
        Top of the score scale (default 10; the bottom is 0), for the
        worst-case bounds.
    measure : str, optional
        Name used in the sentence (default "engagement").

    Returns
    -------
    ChangeJudgement
        With ``kind="mean"``.

    Raises
    ------
    ValueError
        As :func:`judge_proportion_change`, and if sums or sums of squares are
        negative, not finite, or impossible for scores in ``[0, scale_max]``.

    Notes
    -----
    The measure is a mean of one score per respondent (for engagement, each
    respondent's own score; use :func:`analysis.engagement.engagement_score`
    for the team's item-mean estimate).  Each window pools its waves:
    :math:`n = \\sum n_w`, :math:`\\bar x = \\sum s_w / n`,
    :math:`s^2 = (\\sum q_w - n\\bar x^2)/(n-1)`.  Welch's t [1]_,
    :math:`t = (\\bar x_a - \\bar x_b)/\\sqrt{s_a^2/n_a + s_b^2/n_b}`, with
    Welch-Satterthwaite degrees of freedom, gives the p-value and the interval
    (R: ``t.test(after, before)``).  Worst-case bounds put every non-respondent
    at 0 or at ``scale_max``.

    Selection bounds trim the side with the higher response rate as in
    :func:`judge_proportion_change`; with only totals known, the trimmed
    answers are taken at the ends of the scale (0 or ``scale_max``, so the
    bounds are wider than Lee's), and the trimmed side keeps its variance.

    References
    ----------
    .. [1] B. L. Welch, *Biometrika* 34:28-35, 1947.
    .. [2] D. S. Lee, *Review of Economic Studies* 76(3):1071-1102, 2009.
    """
    if not np.isfinite(scale_max) or scale_max <= 0:
        raise ValueError(f"scale_max must be a positive number, got {scale_max!r}")
    confidence = _check_common(min_answers, alpha, material_response_change)
    _check_windows(recent_waves, baseline_waves)
    s, ss, cnt, inv = _mean_inputs(sums, sums_sq, n, invited, scale_max)
    comparison = _compare_mean(
        s, ss, cnt, inv, recent_waves, baseline_waves, min_answers, confidence, scale_max
    )
    judgements, _ = _family_verdicts(
        [comparison],
        alpha=alpha,
        min_answers=min_answers,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    return judgements[0]


def _team_ids(team_ids: Sequence[str] | None, m: int) -> tuple[str, ...]:
    if team_ids is None:
        return tuple(str(i) for i in range(m))
    if isinstance(team_ids, str) or len(team_ids) != m:
        raise ValueError(f"team_ids must have one label per team ({m})")
    return tuple(team_ids)


def _check_family(name: str, values: Sequence[npt.ArrayLike], m: int | None) -> int:
    if isinstance(values, str | bytes) or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence with one series per team")
    if m is not None and len(values) != m:
        raise ValueError(f"{name} must have one series per team ({m}), got {len(values)}")
    return len(values)


def judge_family(
    positive: Sequence[npt.ArrayLike],
    answered: Sequence[npt.ArrayLike],
    invited: Sequence[npt.ArrayLike],
    *,
    team_ids: Sequence[str] | None = None,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    measure: str = "% recommend",
) -> FamilyJudgement:
    """Judge a proportion measure for every team of an INT, controlling the FDR.

    Parameters
    ----------
    positive, answered, invited : sequence of array_like
        One per-wave series per team, as in :func:`judge_proportion_change`
        (teams may have different numbers of closed waves).
    team_ids : sequence of str, optional
        Team labels (default "0", "1", ...).
    recent_waves, baseline_waves, min_answers, alpha
        As :func:`judge_proportion_change`; ``alpha`` is the false discovery
        rate.
    material_response_change, higher_is_better, measure
        As :func:`judge_proportion_change`.

    Returns
    -------
    FamilyJudgement

    Raises
    ------
    ValueError
        If the sequences are empty or differ in length, a team's series is
        invalid (the message names the team's index), or an option is out of
        range.

    Notes
    -----
    **The family** is every team of the INT for this measure and period:
    pass all of them, whatever a page later filters or shows.  A verdict must
    not change because a lead filtered the page to fewer teams, and a family
    chosen after looking would not control anything.  Teams with too few
    answers make no comparison and do not count in ``m``.

    Each team's p-value is adjusted with :func:`benjamini_hochberg` over the
    family; a team is significant when its adjusted p-value is at most
    ``alpha``, which controls the expected share of false "improved" /
    "worsened" / "apparent change" verdicts among those shown [1]_.  The
    selection check of ``apparent_change`` uses the same cutoff.  The
    intervals stay at the unadjusted level ``1 - alpha``.

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, *JRSS B* 57(1):289-300, 1995.
    """
    m = _check_family("positive", positive, None)
    _check_family("answered", answered, m)
    _check_family("invited", invited, m)
    ids = _team_ids(team_ids, m)
    confidence = _check_common(min_answers, alpha, material_response_change)
    _check_windows(recent_waves, baseline_waves)
    comparisons = []
    for i in range(m):
        pos, ans, inv = _proportion_inputs(positive[i], answered[i], invited[i], f"team {i}: ")
        comparisons.append(
            _compare_proportion(
                pos, ans, inv, recent_waves, baseline_waves, min_answers, confidence
            )
        )
    judgements, family_size = _family_verdicts(
        comparisons,
        alpha=alpha,
        min_answers=min_answers,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    return FamilyJudgement(judgements, ids, family_size, alpha)


def judge_mean_family(
    sums: Sequence[npt.ArrayLike],
    sums_sq: Sequence[npt.ArrayLike],
    n: Sequence[npt.ArrayLike],
    invited: Sequence[npt.ArrayLike],
    *,
    team_ids: Sequence[str] | None = None,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    scale_max: float = 10.0,
    measure: str = "engagement",
) -> FamilyJudgement:
    """Judge a mean score for every team of an INT, controlling the FDR.

    The mean-score counterpart of :func:`judge_family` (same family rule:
    every team of the INT for this measure and period, whatever a page
    filters); each team's series are as in :func:`judge_mean_change`.

    Parameters
    ----------
    sums, sums_sq, n, invited : sequence of array_like
        One per-wave series per team.
    team_ids, recent_waves, baseline_waves, min_answers, alpha
        As :func:`judge_family`.
    material_response_change, higher_is_better, scale_max, measure
        As :func:`judge_mean_change`.

    Returns
    -------
    FamilyJudgement

    Raises
    ------
    ValueError
        As :func:`judge_family` and :func:`judge_mean_change`.
    """
    if not np.isfinite(scale_max) or scale_max <= 0:
        raise ValueError(f"scale_max must be a positive number, got {scale_max!r}")
    m = _check_family("sums", sums, None)
    _check_family("sums_sq", sums_sq, m)
    _check_family("n", n, m)
    _check_family("invited", invited, m)
    ids = _team_ids(team_ids, m)
    confidence = _check_common(min_answers, alpha, material_response_change)
    _check_windows(recent_waves, baseline_waves)
    comparisons = []
    for i in range(m):
        s, ss, cnt, inv = _mean_inputs(
            sums[i], sums_sq[i], n[i], invited[i], scale_max, f"team {i}: "
        )
        comparisons.append(
            _compare_mean(
                s, ss, cnt, inv, recent_waves, baseline_waves, min_answers, confidence, scale_max
            )
        )
    judgements, family_size = _family_verdicts(
        comparisons,
        alpha=alpha,
        min_answers=min_answers,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    return FamilyJudgement(judgements, ids, family_size, alpha)
