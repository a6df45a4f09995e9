"""Engagement score (NQPS-style, 0-10) from rotated pulse items.

The NHS Staff Survey and the National Quarterly Pulse Survey (NQPS) score
engagement from nine items in three groups (motivation, involvement,
advocacy).  Each five-point answer maps to 0, 2.5, 5, 7.5 or 10; a
respondent's sub-score is the mean of the items they answered in a group and
their engagement score the mean of their three sub-scores.

Pulse rotates the pool items, so no respondent sees every item.  The score is
therefore estimated from *item means*:

.. math::

    \\bar x_j = \\frac{1}{n_j} \\sum_{i \\in A_j} x_{ij}, \\qquad
    S_g = \\frac{1}{|J_g|} \\sum_{j \\in J_g} \\bar x_j, \\qquad
    E = \\frac{1}{3} (S_\\text{motivation} + S_\\text{involvement}
    + S_\\text{advocacy})

where :math:`A_j` is the set of the :math:`n_j` respondents who answered item
:math:`j` and :math:`J_g` the items of group :math:`g` answered by at least
one respondent.  When every respondent answers every item this equals the
NHS per-respondent figure, since the mean over respondents of a mean over a
fixed set of items is the mean of the item means.

Reports call the result "engagement (NQPS-style)": the wording and the
rotation differ from the national survey.

References
----------
.. [1] NHS England, "NHS Staff Survey technical guide" (engagement theme and
       its three sub-scores), and "National Quarterly Pulse Survey" guidance.
.. [2] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
       Chapman & Hall, 1993, chapters 13-14 (percentile and BCa intervals).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from analysis._validation import check_confidence, check_count

__all__ = [
    "GROUPS",
    "SCALES",
    "BootstrapInterval",
    "EngagementScore",
    "engagement_from_totals",
    "engagement_score",
    "score_answers",
]

GROUPS: Final[tuple[str, str, str]] = ("motivation", "involvement", "advocacy")
"""The three sub-score groups, in the order the result reports them."""

_FIVE_POINT: Final[tuple[float, ...]] = (0.0, 2.5, 5.0, 7.5, 10.0)

SCALES: Final[dict[str, dict[str, float]]] = {
    "frequency": dict(
        zip(("Never", "Rarely", "Sometimes", "Often", "Always"), _FIVE_POINT, strict=True)
    ),
    "agree": dict(
        zip(
            (
                "Strongly disagree",
                "Disagree",
                "Neither agree nor disagree",
                "Agree",
                "Strongly agree",
            ),
            _FIVE_POINT,
            strict=True,
        )
    ),
    "recommend": dict(
        zip(
            (
                "Extremely unlikely",
                "Unlikely",
                "Neither likely nor unlikely",
                "Likely",
                "Extremely likely",
            ),
            _FIVE_POINT,
            strict=True,
        )
    ),
}
"""Answer label -> score (0-10) for each answer scale of the engagement items."""

_DONT_KNOW: Final[str] = "Don't know"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BootstrapInterval:
    """A bootstrap confidence interval.

    Attributes
    ----------
    low, high : float
        The interval limits.
    confidence : float
        The confidence level, e.g. 0.95.
    method : {"percentile", "bca"}
        How the limits were read from the bootstrap distribution.
    n_resamples : int
        Resamples that produced a finite score (a resample in which a whole
        group went unanswered has no score and is left out).
    """

    low: float
    high: float
    confidence: float
    method: str
    n_resamples: int


@dataclass(frozen=True, slots=True)
class EngagementScore:
    """Result of :func:`engagement_score` or :func:`engagement_from_totals`.

    Attributes
    ----------
    score : float
        Engagement, 0-10; NaN when a group has no answered item.
    motivation, involvement, advocacy : float
        The sub-scores, 0-10; NaN for a group with no answered item.
    item_means : ndarray of float
        Mean score of each item over those who answered it (NaN if nobody did).
    item_n : ndarray of int
        Number of answers to each item.
    n_respondents : int or None
        Respondents with at least one answered item (None when computed from
        totals and the caller did not give it).
    missing_groups : tuple of str
        Groups with no answered item, in the order of :data:`GROUPS`.
    interval : BootstrapInterval or None
        Bootstrap interval for ``score``; None when computed from totals or
        when ``score`` is NaN.
    """

    score: float
    motivation: float
    involvement: float
    advocacy: float
    item_means: FloatArray
    item_n: IntArray
    n_respondents: int | None
    missing_groups: tuple[str, ...]
    interval: BootstrapInterval | None


def score_answers(answers: Sequence[str | None], scale: str) -> FloatArray:
    """Map answer labels to engagement item scores.

    Parameters
    ----------
    answers : sequence of str or None
        Answer labels; None or ``""`` means the item was not asked or left blank.
    scale : {"frequency", "agree", "recommend"}
        The item's answer scale.  On the recommend scale "Don't know" is
        excluded (scored NaN), as in the NHS engagement method.

    Returns
    -------
    ndarray of float
        Scores 0, 2.5, 5, 7.5 or 10; NaN for not asked, blank or "Don't know".

    Raises
    ------
    ValueError
        If ``scale`` is unknown or an answer is not a label of that scale.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
    mapping = SCALES[scale]
    out = np.full(len(answers), np.nan)
    for i, answer in enumerate(answers):
        if answer is None or answer == "":
            continue
        if scale == "recommend" and answer == _DONT_KNOW:
            continue
        if answer not in mapping:
            raise ValueError(f"answers[{i}] = {answer!r} is not a label of the {scale!r} scale")
        out[i] = mapping[answer]
    return out


def _group_index(groups: Sequence[str], n_items: int) -> IntArray:
    if isinstance(groups, str) or not isinstance(groups, Sequence):
        raise ValueError("groups must be a sequence of group names, one per item")
    if len(groups) != n_items:
        raise ValueError(f"groups has {len(groups)} entries but there are {n_items} items")
    index = np.empty(n_items, dtype=np.int64)
    for j, group in enumerate(groups):
        if group not in GROUPS:
            raise ValueError(f"groups[{j}] = {group!r} is not one of {GROUPS}")
        index[j] = GROUPS.index(group)
    return index


def _scores_from_totals(
    sums: FloatArray, counts: FloatArray, group_index: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Item means, sub-scores and score; leading axes are batch axes.

    ``sums`` and ``counts`` have shape ``(..., n_items)``.  Returns arrays of
    shape ``(..., n_items)``, ``(..., 3)`` and ``(...)``.
    """
    answered = counts > 0
    item_means = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=answered)
    subs = np.empty((*sums.shape[:-1], len(GROUPS)))
    for g in range(len(GROUPS)):
        in_group = group_index == g
        k = answered[..., in_group].sum(axis=-1)
        total = np.where(answered[..., in_group], item_means[..., in_group], 0.0).sum(axis=-1)
        subs[..., g] = np.divide(total, k, out=np.full(total.shape, np.nan), where=k > 0)
    # NaN in any sub-score propagates: the score needs all three groups.
    score = subs.mean(axis=-1)
    return item_means, subs, score


def engagement_from_totals(
    item_sums: npt.ArrayLike,
    item_counts: npt.ArrayLike,
    groups: Sequence[str],
    *,
    n_respondents: int | None = None,
) -> EngagementScore:
    """Engagement score from per-item totals, for reports without raw rows.

    Parameters
    ----------
    item_sums : array_like of float, shape (n_items,)
        Sum of the 0-10 scores given to each item.
    item_counts : array_like of int, shape (n_items,)
        Number of answers to each item ("Don't know" and blanks excluded).
    groups : sequence of str, length n_items
        Group of each item: "motivation", "involvement" or "advocacy".
    n_respondents : int, optional
        Passed through to the result when known.

    Returns
    -------
    EngagementScore
        As :func:`engagement_score` with ``interval=None`` (an interval needs
        the per-respondent rows).

    Raises
    ------
    ValueError
        If ``item_sums`` or ``item_counts`` is not 1-D, has a different length
        from ``groups``, is negative or not finite; if a count is not a whole
        number; if a sum exceeds ``10 * count`` or is non-zero with a zero
        count; if a group name is unknown; or if ``n_respondents`` is negative.

    Notes
    -----
    :math:`\\bar x_j = s_j / n_j`, sub-scores are means of the item means of a
    group, and the score is the mean of the three sub-scores (NaN when a group
    has no answered item, see :func:`engagement_score`).

    Examples
    --------
    >>> from analysis.engagement import engagement_from_totals
    >>> r = engagement_from_totals([75, 50], [10, 10], ["motivation", "advocacy"])
    >>> r.advocacy, r.score
    (5.0, nan)
    """
    sums = np.asarray(item_sums, dtype=np.float64)
    counts = np.asarray(item_counts, dtype=np.float64)
    if sums.ndim != 1:
        raise ValueError(f"item_sums must be 1-D, got shape {sums.shape}")
    if counts.shape != sums.shape:
        raise ValueError(
            f"item_counts has shape {counts.shape} but item_sums has shape {sums.shape}"
        )
    if sums.size == 0:
        raise ValueError("item_sums is empty")
    for name, values in (("item_sums", sums), ("item_counts", counts)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be finite (no NaN or infinity)")
        if np.any(values < 0):
            raise ValueError(f"{name} must not be negative")
    if np.any(counts != np.floor(counts)):
        raise ValueError("item_counts must be whole numbers")
    if np.any(sums > 10.0 * counts + 1e-9 * np.maximum(1.0, counts)):
        raise ValueError("item_sums exceeds 10 times item_counts: scores are on a 0-10 scale")
    if n_respondents is not None:
        n_respondents = check_count(n_respondents, "n_respondents")
    group_index = _group_index(groups, sums.size)
    item_means, subs, score = _scores_from_totals(sums, counts, group_index)
    return _result(item_means, counts, subs, float(score), n_respondents, None)


def _result(
    item_means: FloatArray,
    counts: FloatArray,
    subs: FloatArray,
    score: float,
    n_respondents: int | None,
    interval: BootstrapInterval | None,
) -> EngagementScore:
    missing = tuple(g for g, s in zip(GROUPS, subs, strict=True) if np.isnan(s))
    item_n = counts.astype(np.int64)
    for array in (item_means, item_n):  # the result is frozen: so are its arrays
        array.setflags(write=False)
    return EngagementScore(
        score=score,
        motivation=float(subs[0]),
        involvement=float(subs[1]),
        advocacy=float(subs[2]),
        item_means=item_means,
        item_n=item_n,
        n_respondents=n_respondents,
        missing_groups=missing,
        interval=interval,
    )


def engagement_score(
    scores: npt.ArrayLike,
    groups: Sequence[str],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    method: Literal["bca", "percentile"] = "bca",
    rng: np.random.Generator | int | None = None,
) -> EngagementScore:
    """Engagement score (NQPS-style) with a bootstrap interval.

    Parameters
    ----------
    scores : array_like of float, shape (n_respondents, n_items)
        Each respondent's 0-10 item scores (see :func:`score_answers`), NaN
        where the item was not asked, left blank or answered "Don't know".
        Rows with no answered item are ignored.
    groups : sequence of str, length n_items
        Group of each column: "motivation", "involvement" or "advocacy".  The
        two core recommend items and "Care of patients / service users is this
        team's top priority" are advocacy items.
    confidence : float, optional
        Confidence level of the interval (default 0.95).
    n_resamples : int, optional
        Bootstrap resamples (default 2000).
    method : {"bca", "percentile"}, optional
        Bias-corrected and accelerated (default) or percentile interval.
    rng : numpy.random.Generator or int or None, optional
        Source of randomness, or a seed for one; pass a seed for a
        reproducible interval.

    Returns
    -------
    EngagementScore

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D, holds infinities or values outside 0-10, or
        has no answered item; if ``groups`` does not match the columns or
        names an unknown group; if ``confidence`` is not in (0, 1);
        ``n_resamples`` < 1; or ``method`` is unknown.

    Notes
    -----
    Item means, sub-scores and score are as in the module docstring.

    **A group with no answered item.**  Its sub-score is NaN and so is the
    score, listed in ``missing_groups``.  The score is *not* computed from the
    remaining groups: sub-scores differ systematically (advocacy usually runs
    highest), so a mean of two would shift with which group is missing and
    could not be compared with other waves or teams.  Pool rows over
    consecutive waves when one wave's rotation left a group out.

    **Interval.**  Respondents are resampled with replacement (they are the
    sampling unit: one person's answers to several items are correlated),
    using multinomial weights so all resamples are computed at once.  The
    percentile interval takes the :math:`\\alpha/2` and :math:`1-\\alpha/2`
    quantiles of the bootstrap scores :math:`\\hat E^*_b`.  The BCa interval
    [2]_ uses instead the quantiles :math:`\\Phi(z_0 + (z_0 + z_q)/(1 - a(z_0
    + z_q)))` with bias correction :math:`z_0 = \\Phi^{-1}(\\#\\{\\hat E^*_b <
    \\hat E\\} / B)` (ties counted half) and acceleration :math:`a = \\sum
    (\\bar E_{(\\cdot)} - E_{(i)})^3 / (6 [\\sum (\\bar E_{(\\cdot)} -
    E_{(i)})^2]^{3/2})` from the leave-one-respondent-out scores
    :math:`E_{(i)}`.  Resamples whose score is NaN (a group unanswered in that
    resample, possible only when a group has very few answers) are left out;
    ``interval.n_resamples`` says how many were used.

    References
    ----------
    .. [1] NHS England, NHS Staff Survey technical guide, engagement theme.
    .. [2] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
           Chapman & Hall, 1993, section 14.3.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.engagement import engagement_score
    >>> x = np.array([[7.5, 5.0, 10.0], [5.0, np.nan, 7.5], [np.nan, 2.5, 10.0]])
    >>> r = engagement_score(x, ["motivation", "involvement", "advocacy"], rng=1)
    >>> round(r.score, 4)  # (6.25 + 3.75 + 9.1667) / 3
    6.3889
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"scores must be 2-D (respondents x items), got shape {x.shape}")
    if np.any(np.isinf(x)):
        raise ValueError("scores must not hold infinities (use NaN for not answered)")
    finite = np.isfinite(x)
    if np.any((x[finite] < 0.0) | (x[finite] > 10.0)):
        raise ValueError("scores must lie between 0 and 10")
    group_index = _group_index(groups, x.shape[1])
    confidence = check_confidence(confidence)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise ValueError(f"n_resamples must be an integer, got {n_resamples!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if method not in ("bca", "percentile"):
        raise ValueError(f"method must be 'bca' or 'percentile', got {method!r}")
    if rng is not None and not isinstance(rng, np.random.Generator | numbers.Integral):
        raise ValueError(f"rng must be a numpy Generator, an integer seed or None, got {rng!r}")

    keep = finite.any(axis=1)
    x, answered = x[keep], finite[keep].astype(np.float64)
    n = x.shape[0]
    if n == 0:
        raise ValueError("scores has no answered item")
    x0 = np.where(answered > 0, x, 0.0)
    sums, counts = x0.sum(axis=0), answered.sum(axis=0)
    item_means, subs, score_arr = _scores_from_totals(sums, counts, group_index)
    score = float(score_arr)
    if np.isnan(score):
        return _result(item_means, counts, subs, score, n, None)

    generator = np.random.default_rng(rng)
    weights = generator.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)
    _, _, boot = _scores_from_totals(weights @ x0, weights @ answered, group_index)
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return _result(item_means, counts, subs, score, n, None)

    alpha = 1.0 - confidence
    quantiles = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    if method == "bca":
        quantiles = _bca_quantiles(boot, score, x0, answered, sums, counts, group_index, quantiles)
    low, high = np.quantile(boot, quantiles)
    interval = BootstrapInterval(
        low=float(low),
        high=float(high),
        confidence=confidence,
        method=method,
        n_resamples=int(boot.size),
    )
    return _result(item_means, counts, subs, score, n, interval)


def _bca_quantiles(
    boot: FloatArray,
    score: float,
    x0: FloatArray,
    answered: FloatArray,
    sums: FloatArray,
    counts: FloatArray,
    group_index: IntArray,
    quantiles: FloatArray,
) -> FloatArray:
    """Adjusted quantile levels of the BCa interval (Efron & Tibshirani 14.3)."""
    if np.ptp(boot) == 0.0:
        # A degenerate bootstrap distribution (every respondent alike): any
        # level gives the same limit, and z0 would be infinite.
        return quantiles
    below = (np.count_nonzero(boot < score) + np.count_nonzero(boot <= score)) / (2.0 * boot.size)
    z0 = float(special.ndtri(below))
    if not np.isfinite(z0):
        return quantiles
    _, _, jack = _scores_from_totals(sums - x0, counts - answered, group_index)
    jack = jack[np.isfinite(jack)]
    a = 0.0
    if jack.size > 1:
        d = jack.mean() - jack
        denom = 6.0 * float(np.sum(d**2)) ** 1.5
        if denom > 0.0:
            a = float(np.sum(d**3)) / denom
    zq = special.ndtri(quantiles)
    adjusted: FloatArray = special.ndtr(z0 + (z0 + zq) / (1.0 - a * (z0 + zq)))
    return adjusted
