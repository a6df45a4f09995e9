"""Proportions from counts: intervals, differences between waves, trend over waves.

Every function works from aggregate counts (``successes`` out of ``n`` answers), never
from individual answers, so nothing here can identify a respondent.

Public API
----------
wilson_interval, wilson_intervals
    Wilson score interval for one proportion, scalar and vectorised.
fft_percentages
    NHS Friends and Family Test % recommend / % not recommend with intervals.
newcombe_difference
    Interval for the change in a proportion between two waves (Newcombe method 10).
exact_two_waves
    Boschloo's (and Fisher's) exact test for two small waves.
trend_test, trend_tests
    Chi-squared test for trend in proportions (R's ``prop.trend.test``), scalar and
    vectorised over many series.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from analysis._validation import (
    check_confidence,
    check_count,
    check_counts_array,
    check_successes_n,
)

__all__ = [
    "DifferenceInterval",
    "ExactTestResult",
    "FFTResult",
    "ProportionInterval",
    "TrendTestResult",
    "exact_two_waves",
    "fft_percentages",
    "newcombe_difference",
    "trend_test",
    "trend_tests",
    "wilson_interval",
    "wilson_intervals",
]


def _z_two_sided(confidence: float) -> float:
    """Standard normal quantile for a two-sided interval of level `confidence`."""
    return float(special.ndtri(0.5 + 0.5 * confidence))


# --------------------------------------------------------------------------- Wilson


@dataclass(frozen=True, slots=True)
class ProportionInterval:
    """A proportion with its confidence interval, all on the 0-1 scale.

    Attributes
    ----------
    estimate : float
        ``successes / n``.
    lower, upper : float
        Confidence limits for the proportion.
    successes, n : int
        The counts the interval was computed from.
    confidence : float
        Confidence level, e.g. 0.95.
    """

    estimate: float
    lower: float
    upper: float
    successes: int
    n: int
    confidence: float


def _wilson_bounds(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    denom = 2.0 * (n + z * z)
    centre = (2.0 * n * p + z * z) / denom
    half_width = z / denom * math.sqrt(4.0 * n * p * (1.0 - p) + z * z)
    # The bounds are exactly 0 and 1 at the extremes; avoid a rounding residue there.
    lower = 0.0 if k == 0 else centre - half_width
    upper = 1.0 if k == n else centre + half_width
    return lower, upper


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> ProportionInterval:
    r"""Wilson score interval for a binomial proportion.

    With :math:`\hat p = k/n` and :math:`z` the :math:`1 - \alpha/2` normal quantile,

    .. math::

        \frac{2n\hat p + z^2 \pm z\sqrt{z^2 + 4n\hat p(1-\hat p)}}{2(n + z^2)}

    with the lower limit set to exactly 0 when :math:`k = 0` and the upper to exactly 1
    when :math:`k = n`.  This is the interval returned by
    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` (no continuity
    correction); unlike the Wald interval it stays inside [0, 1] and keeps close to
    its nominal coverage for the small groups a team pulse produces.

    Parameters
    ----------
    successes : int
        Number of answers counted as a success, ``0 <= successes <= n``.
    n : int
        Number of answers, ``n > 0``.
    confidence : float, optional
        Confidence level in (0, 1).  Default 0.95.

    Returns
    -------
    ProportionInterval

    Raises
    ------
    ValueError
        If a count is negative or not whole, ``n == 0``, ``successes > n``, or
        `confidence` is not in (0, 1).

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical
       inference", J. Am. Stat. Assoc. 22 (1927) 209-212.
    .. [2] R. G. Newcombe, "Two-sided confidence intervals for the single proportion:
       comparison of seven methods", Stat. Med. 17 (1998) 857-872 (method 3).
    """
    k, total = check_successes_n(successes, n)
    level = check_confidence(confidence)
    lower, upper = _wilson_bounds(k, total, _z_two_sided(level))
    return ProportionInterval(
        estimate=k / total, lower=lower, upper=upper, successes=k, n=total, confidence=level
    )


def wilson_intervals(
    successes: ArrayLike, n: ArrayLike, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score intervals for many proportions at once.

    The vectorised form of :func:`wilson_interval` (same formula) for batch use:
    `successes` and `n` are broadcast against each other.  Entries where ``n == 0`` or
    where either count is NaN (a wave hidden by suppression, say) give NaN.

    Parameters
    ----------
    successes, n : array_like
        Counts of successes and of answers, whole numbers, ``successes <= n``.
    confidence : float, optional
        Confidence level in (0, 1).  Default 0.95.

    Returns
    -------
    estimate, lower, upper : ndarray
        Arrays of the broadcast shape.

    Raises
    ------
    ValueError
        If a present count is negative or not whole, ``successes > n`` anywhere, the
        shapes do not broadcast, or `confidence` is not in (0, 1).

    References
    ----------
    .. [1] E. B. Wilson, J. Am. Stat. Assoc. 22 (1927) 209-212.
    """
    k = check_counts_array(successes, "successes", allow_nan=True)
    total = check_counts_array(n, "n", allow_nan=True)
    level = check_confidence(confidence)
    try:
        k, total = np.broadcast_arrays(k, total)
    except ValueError as exc:
        raise ValueError("successes and n must have shapes that broadcast together") from exc
    if np.any(k > total):  # NaN compares False
        raise ValueError("successes must not exceed n")
    z = _z_two_sided(level)
    usable = (total > 0) & ~np.isnan(k) & ~np.isnan(total)
    safe_n = np.where(usable, total, 1.0)
    safe_k = np.where(usable, k, 0.0)
    p = safe_k / safe_n
    denom = 2.0 * (safe_n + z * z)
    centre = (2.0 * safe_n * p + z * z) / denom
    half_width = z / denom * np.sqrt(4.0 * safe_n * p * (1.0 - p) + z * z)
    lower = np.where(safe_k == 0, 0.0, centre - half_width)
    upper = np.where(safe_k == safe_n, 1.0, centre + half_width)
    nan = np.float64(np.nan)
    return (
        np.where(usable, p, nan),
        np.where(usable, lower, nan),
        np.where(usable, upper, nan),
    )


# --------------------------------------------------------------------------- FFT


@dataclass(frozen=True, slots=True)
class FFTResult:
    """NHS Friends and Family Test scores for one item.

    Attributes
    ----------
    percent_recommend, percent_not_recommend : float
        Percentages on the 0-100 scale, as the NHS publishes them.
    recommend, not_recommend : ProportionInterval
        The same quantities as proportions (0-1 scale) with Wilson intervals.
    n_answers : int
        All answers to the item, "Don't know" included (the denominator).
    n_recommend, n_not_recommend : int
        Numerators.
    confidence : float
        Confidence level of the intervals.
    """

    percent_recommend: float
    percent_not_recommend: float
    recommend: ProportionInterval
    not_recommend: ProportionInterval
    n_answers: int
    n_recommend: int
    n_not_recommend: int
    confidence: float


def fft_percentages(
    counts: Mapping[str, int],
    positive: Collection[str],
    negative: Collection[str],
    confidence: float = 0.95,
) -> FFTResult:
    r"""NHS Friends and Family Test % recommend and % not recommend.

    .. math::

        \%\,\text{recommend} = 100 \times
            \frac{\sum_{a \in \text{positive}} c_a}{\sum_{a} c_a}, \qquad
        \%\,\text{not recommend} = 100 \times
            \frac{\sum_{a \in \text{negative}} c_a}{\sum_{a} c_a}

    where the denominator is every answer to the item, "Don't know" and the neutral
    answer included (NHS England FFT guidance).  Each proportion also gets a Wilson
    interval (:func:`wilson_interval`).

    Parameters
    ----------
    counts : mapping of str to int
        Number of answers per answer option; options nobody chose may be absent.
    positive, negative : collection of str
        Answer options counted as recommending (e.g. "Extremely likely", "Likely")
        and as not recommending ("Unlikely", "Extremely unlikely").  Options named
        here but absent from `counts` count as zero.
    confidence : float, optional
        Confidence level of the intervals.  Default 0.95.

    Returns
    -------
    FFTResult

    Raises
    ------
    ValueError
        If `counts` is not a mapping or a count is negative or not whole, there are
        no answers at all, an option is in both `positive` and `negative`, or
        either of them is empty or a single string.

    References
    ----------
    .. [1] NHS England, "Friends and Family Test: guidance" (2019, in force from
       April 2020), section on calculating and reporting results.
    """
    if not isinstance(counts, Mapping):
        raise ValueError("counts must map each answer option to its number of answers")
    for name, options in (("positive", positive), ("negative", negative)):
        if isinstance(options, str):  # a lone label would be read letter by letter
            raise ValueError(f"{name} must be a collection of answer options, not one string")
    positive_set = frozenset(positive)
    negative_set = frozenset(negative)
    if not positive_set:
        raise ValueError("positive must name at least one answer option")
    if not negative_set:
        raise ValueError("negative must name at least one answer option")
    overlap = positive_set & negative_set
    if overlap:
        raise ValueError(f"positive and negative share answer options: {sorted(overlap)}")
    checked = {str(option): check_count(c, f"counts[{option!r}]") for option, c in counts.items()}
    n_answers = sum(checked.values())
    if n_answers == 0:
        raise ValueError("counts must hold at least one answer")
    n_recommend = sum(checked.get(option, 0) for option in positive_set)
    n_not_recommend = sum(checked.get(option, 0) for option in negative_set)
    recommend = wilson_interval(n_recommend, n_answers, confidence)
    not_recommend = wilson_interval(n_not_recommend, n_answers, confidence)
    return FFTResult(
        percent_recommend=100.0 * n_recommend / n_answers,
        percent_not_recommend=100.0 * n_not_recommend / n_answers,
        recommend=recommend,
        not_recommend=not_recommend,
        n_answers=n_answers,
        n_recommend=n_recommend,
        n_not_recommend=n_not_recommend,
        confidence=recommend.confidence,
    )


# --------------------------------------------------------------------------- Newcombe


@dataclass(frozen=True, slots=True)
class DifferenceInterval:
    """The change in a proportion between two waves, with its confidence interval.

    Attributes
    ----------
    difference : float
        ``p2 - p1``: the later wave minus the earlier, so a rise is positive.
    lower, upper : float
        Confidence limits for ``p2 - p1``.
    estimate1, estimate2 : float
        ``successes1 / n1`` and ``successes2 / n2``.
    successes1, n1, successes2, n2 : int
        The counts.
    confidence : float
        Confidence level.
    """

    difference: float
    lower: float
    upper: float
    estimate1: float
    estimate2: float
    successes1: int
    n1: int
    successes2: int
    n2: int
    confidence: float


def newcombe_difference(
    successes1: int, n1: int, successes2: int, n2: int, confidence: float = 0.95
) -> DifferenceInterval:
    r"""Hybrid score interval for a difference of two independent proportions.

    Newcombe's method 10: with :math:`(l_i, u_i)` the Wilson interval for
    :math:`\hat p_i = k_i/n_i` and :math:`\hat d = \hat p_2 - \hat p_1` (later minus
    earlier),

    .. math::

        L = \hat d - \sqrt{(\hat p_2 - l_2)^2 + (u_1 - \hat p_1)^2}, \qquad
        U = \hat d + \sqrt{(u_2 - \hat p_2)^2 + (\hat p_1 - l_1)^2}.

    No continuity correction.  Newcombe (1998) writes the difference the other way
    round (:math:`\hat p_1 - \hat p_2`); swapping the waves negates and swaps the
    limits.

    Parameters
    ----------
    successes1, n1 : int
        Successes and answers in the earlier wave, ``n1 > 0``.
    successes2, n2 : int
        Successes and answers in the later wave, ``n2 > 0``.
    confidence : float, optional
        Confidence level in (0, 1).  Default 0.95.

    Returns
    -------
    DifferenceInterval

    Raises
    ------
    ValueError
        If a count is negative or not whole, an ``n`` is zero, successes exceed their
        ``n``, or `confidence` is not in (0, 1).

    References
    ----------
    .. [1] R. G. Newcombe, "Interval estimation for the difference between
       independent proportions: comparison of eleven methods", Stat. Med. 17 (1998)
       873-890, method 10 and Table II.
    """
    k1, total1 = check_successes_n(successes1, n1, "successes1", "n1")
    k2, total2 = check_successes_n(successes2, n2, "successes2", "n2")
    level = check_confidence(confidence)
    z = _z_two_sided(level)
    p1, p2 = k1 / total1, k2 / total2
    l1, u1 = _wilson_bounds(k1, total1, z)
    l2, u2 = _wilson_bounds(k2, total2, z)
    difference = p2 - p1
    lower = difference - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = difference + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return DifferenceInterval(
        difference=difference,
        lower=lower,
        upper=upper,
        estimate1=p1,
        estimate2=p2,
        successes1=k1,
        n1=total1,
        successes2=k2,
        n2=total2,
        confidence=level,
    )


# --------------------------------------------------------------------------- exact tests


@dataclass(frozen=True, slots=True)
class ExactTestResult:
    """Exact tests that two waves share the same proportion.

    Attributes
    ----------
    boschloo_pvalue : float
        Two-sided p-value of Boschloo's exact unconditional test (the headline).
    fisher_pvalue : float
        Two-sided p-value of Fisher's exact (conditional) test, for comparison.
    difference : float
        ``p2 - p1`` (later minus earlier).
    successes1, n1, successes2, n2 : int
        The counts.
    """

    boschloo_pvalue: float
    fisher_pvalue: float
    difference: float
    successes1: int
    n1: int
    successes2: int
    n2: int


def exact_two_waves(successes1: int, n1: int, successes2: int, n2: int) -> ExactTestResult:
    r"""Boschloo's exact test (with Fisher's for reference) comparing two waves.

    The waves are the two columns of the 2x2 table

    .. math::

        \begin{pmatrix} k_1 & k_2 \\ n_1 - k_1 & n_2 - k_2 \end{pmatrix}

    modelled as independent binomials.  Boschloo's test uses Fisher's one-sided
    p-value as its statistic and maximises the unconditional p-value over the
    nuisance common proportion, so it is never less powerful than Fisher's test,
    which conditions on both margins.  Both are two-sided
    (``scipy.stats.boschloo_exact`` and ``scipy.stats.fisher_exact``).  Meant for
    small waves: the cost of Boschloo's test grows with ``n1 * n2``.

    Parameters
    ----------
    successes1, n1 : int
        Successes and answers in the earlier wave, ``n1 > 0``.
    successes2, n2 : int
        Successes and answers in the later wave, ``n2 > 0``.

    Returns
    -------
    ExactTestResult

    Raises
    ------
    ValueError
        If a count is negative or not whole, an ``n`` is zero, or successes exceed
        their ``n``.

    References
    ----------
    .. [1] R. D. Boschloo, "Raised conditional level of significance for the 2x2
       table when testing the equality of two probabilities", Statistica Neerlandica
       24 (1970) 1-35.
    .. [2] R. A. Fisher, "On the interpretation of chi-squared from contingency
       tables, and the calculation of P", J. R. Stat. Soc. 85 (1922) 87-94.
    """
    k1, total1 = check_successes_n(successes1, n1, "successes1", "n1")
    k2, total2 = check_successes_n(successes2, n2, "successes2", "n2")
    table = np.array([[k1, k2], [total1 - k1, total2 - k2]], dtype=np.int64)
    boschloo = stats.boschloo_exact(table, alternative="two-sided")
    fisher = stats.fisher_exact(table, alternative="two-sided")
    return ExactTestResult(
        boschloo_pvalue=float(boschloo.pvalue),
        fisher_pvalue=float(fisher.pvalue),
        difference=k2 / total2 - k1 / total1,
        successes1=k1,
        n1=total1,
        successes2=k2,
        n2=total2,
    )


# --------------------------------------------------------------------------- trend


@dataclass(frozen=True, slots=True)
class TrendTestResult:
    """Chi-squared test for a linear trend in proportions over waves.

    Attributes
    ----------
    statistic : float
        The X-squared statistic (1 degree of freedom), as R prints it.
    df : int
        Degrees of freedom, always 1.
    pvalue : float
        Upper-tail chi-squared probability of `statistic` (two-sided in `z`).
    z : float
        Signed square root of `statistic`: positive when the proportion rises with
        the score (later waves), negative when it falls.
    direction : str
        ``"increasing"``, ``"decreasing"`` or ``"none"`` (``z == 0``).
    scores : tuple of float
        The scores used, one per wave.
    waves_used : int
        Number of waves with answers (waves with ``n == 0`` are skipped).
    """

    statistic: float
    df: int
    pvalue: float
    z: float
    direction: str
    scores: tuple[float, ...]
    waves_used: int


def _direction(z: float) -> str:
    if z > 0:
        return "increasing"
    if z < 0:
        return "decreasing"
    return "none"


def trend_test(
    successes: Sequence[int], n: Sequence[int], scores: Sequence[float] | None = None
) -> TrendTestResult:
    r"""Chi-squared test for trend in proportions (Cochran-Armitage), as R does it.

    Equals R's ``prop.trend.test(x, n, score = seq_along(x))``: with
    :math:`f_i = x_i/n_i`, :math:`\bar p = \sum x_i / \sum n_i` and weights
    :math:`w_i = n_i / (\bar p(1-\bar p))`, the statistic is the regression sum of
    squares for `score` in the weighted least-squares fit ``lm(f ~ score, weights =
    w)``, which in closed form is

    .. math::

        X^2 = \frac{\left[\sum_i (x_i - n_i\bar p)(s_i - \bar s)\right]^2}
                   {\bar p(1-\bar p)\sum_i n_i (s_i - \bar s)^2}, \qquad
        \bar s = \frac{\sum n_i s_i}{\sum n_i},

    referred to a chi-squared distribution with 1 degree of freedom (no
    :math:`N/(N-1)` factor, unlike some Cochran-Armitage implementations).  The
    signed :math:`z` is the square root of :math:`X^2` with the sign of the fitted
    slope.  This function computes it the way R does (the QR decomposition behind
    ``lm`` and ``anova``), the batch :func:`trend_tests` from the closed form; tests
    check they agree.

    Waves with ``n == 0`` are skipped (R drops them too: their frequency is NaN), but
    keep their default score, so a gap does not shift the later waves.  If every wave
    used has the same proportion of 0 or 1, :math:`\bar p(1-\bar p) = 0` and R stops
    with an error; here the result is :math:`X^2 = z = 0`, p-value 1 (no trend).

    Parameters
    ----------
    successes : sequence of int
        Successes per wave, in time order.
    n : sequence of int
        Answers per wave.
    scores : sequence of float, optional
        Score (time) of each wave; default ``1, 2, ..., len(successes)``.

    Returns
    -------
    TrendTestResult

    Raises
    ------
    ValueError
        If the sequences differ in length or are empty, a count is negative, NaN or
        not whole, successes exceed their ``n``, a score is not finite, or fewer than
        two waves with answers and different scores remain.

    References
    ----------
    .. [1] P. Armitage, "Tests for linear trends in proportions and frequencies",
       Biometrics 11 (1955) 375-386.
    .. [2] R Core Team, ``prop.trend.test`` in package stats (source:
       ``src/library/stats/R/prop.trend.test.R``).
    """
    if len(successes) != len(n):
        raise ValueError("successes and n must have the same length")
    if len(successes) == 0:
        raise ValueError("successes must not be empty")
    k = [check_count(x, f"successes[{i}]") for i, x in enumerate(successes)]
    total = [check_count(x, f"n[{i}]") for i, x in enumerate(n)]
    for i, (x, m) in enumerate(zip(k, total, strict=True)):
        if x > m:
            raise ValueError(f"successes[{i}] ({x}) must not exceed n[{i}] ({m})")
    if scores is None:
        score_list = [float(i + 1) for i in range(len(k))]
    else:
        if len(scores) != len(k):
            raise ValueError("scores must have one value per wave")
        score_list = [float(s) for s in scores]
        if not all(math.isfinite(s) for s in score_list):
            raise ValueError("scores must be finite numbers")
    used = [i for i, m in enumerate(total) if m > 0]
    if len(used) < 2 or len({score_list[i] for i in used}) < 2:
        raise ValueError("n must have answers in at least two waves with different scores")

    x_used = np.array([k[i] for i in used], dtype=np.float64)
    n_used = np.array([total[i] for i in used], dtype=np.float64)
    s_used = np.array([score_list[i] for i in used], dtype=np.float64)
    p_bar = x_used.sum() / n_used.sum()
    if p_bar in (0.0, 1.0):
        statistic, z = 0.0, 0.0
    else:
        # R: a <- anova(lm(freq ~ score, weights = w)); chisq <- a["score", "Sum Sq"].
        # lm() fits by a Householder QR of sqrt(w) * [1, score]; anova's sequential
        # sum of squares for score is the square of the second "effect" Q'(sqrt(w) f).
        freq = x_used / n_used
        root_w = np.sqrt(n_used / p_bar / (1.0 - p_bar))
        q, r = np.linalg.qr(np.column_stack([root_w, root_w * s_used]))
        effect = float(q[:, 1] @ (root_w * freq))
        statistic = effect * effect
        # The fitted slope is effect / r[1, 1]: z takes its sign.
        z = effect if r[1, 1] > 0 else -effect
    pvalue = float(stats.chi2.sf(statistic, 1))
    return TrendTestResult(
        statistic=statistic,
        df=1,
        pvalue=pvalue,
        z=z,
        direction=_direction(z),
        scores=tuple(score_list),
        waves_used=len(used),
    )


def trend_tests(
    successes: ArrayLike, n: ArrayLike, scores: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Chi-squared tests for trend for many series at once (one per row).

    The vectorised closed form of :func:`trend_test` (see there for the formula).
    Within each row, waves whose `successes` or `n` is NaN, or whose ``n == 0``, are
    skipped; a row with fewer than two usable waves of different scores gives NaN.

    Parameters
    ----------
    successes, n : array_like, shape (series, waves)
        Counts; NaN marks a missing wave.
    scores : array_like, shape (waves,), optional
        Score of each wave column; default ``1, 2, ..., waves``.

    Returns
    -------
    z, chi2, pvalue : ndarray, shape (series,)
        Signed statistic, X-squared and its p-value per row.

    Raises
    ------
    ValueError
        If the arrays are not 2-D of the same shape, a present count is negative or
        not whole, successes exceed their ``n``, or `scores` has the wrong length or
        a non-finite value.

    References
    ----------
    .. [1] P. Armitage, Biometrics 11 (1955) 375-386.
    """
    k = check_counts_array(successes, "successes", allow_nan=True, ndim=2)
    total = check_counts_array(n, "n", allow_nan=True, ndim=2)
    if k.shape != total.shape:
        raise ValueError("successes and n must have the same shape")
    if np.any(k > total):
        raise ValueError("successes must not exceed n")
    waves = k.shape[1]
    if scores is None:
        s = np.arange(1, waves + 1, dtype=np.float64)
    else:
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != (waves,):
            raise ValueError("scores must have one value per wave column")
        if not np.all(np.isfinite(s)):
            raise ValueError("scores must be finite numbers")

    usable = ~np.isnan(k) & ~np.isnan(total) & (total > 0)
    x = np.where(usable, k, 0.0)
    m = np.where(usable, total, 0.0)
    n_sum = m.sum(axis=1)
    safe_n_sum = np.where(n_sum > 0, n_sum, 1.0)
    p_bar = x.sum(axis=1) / safe_n_sum
    s_bar = (m * s).sum(axis=1) / safe_n_sum
    centred = np.where(usable, s[None, :] - s_bar[:, None], 0.0)
    numerator = ((x - m * p_bar[:, None]) * centred).sum(axis=1)
    spread = (m * centred**2).sum(axis=1)
    variance = p_bar * (1.0 - p_bar)

    # Distinct scores among usable waves: max > min.
    s_grid = np.broadcast_to(s, k.shape)
    s_max = np.where(usable, s_grid, -np.inf).max(axis=1)
    s_min = np.where(usable, s_grid, np.inf).min(axis=1)
    valid = (usable.sum(axis=1) >= 2) & (s_max > s_min)
    degenerate = valid & (variance == 0.0)
    regular = valid & ~degenerate

    denominator = np.where(regular, variance * spread, 1.0)
    z = np.where(regular, numerator / np.sqrt(denominator), np.nan)
    z = np.where(degenerate, 0.0, z)
    chi2 = z * z
    pvalue = np.where(valid, special.chdtrc(1.0, np.where(valid, chi2, 0.0)), np.nan)
    return z, chi2, pvalue
