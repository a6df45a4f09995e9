"""p-charts and Laney p'-charts of a proportion (re-exported by :mod:`analysis.spc`).

They chart a proportion whose denominator varies from wave to wave, with the same
special-cause rules, precedence and labels as :func:`analysis.spc.xmr`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis._spc_rules import label, special_causes
from analysis._validation import check_counts_array, check_improvement

_D2 = 1.128  # bias constant of a moving range of two (Laney 2002 uses 1.128)


@dataclass(frozen=True, slots=True)
class ProportionChart:
    """A p-chart or Laney p'-chart of a proportion with varying denominators.

    Attributes
    ----------
    method : str
        ``"p"`` or ``"laney_p_prime"``.
    improvement : str
        ``"increase"``, ``"decrease"`` or ``"neutral"``.
    successes, n : tuple of int
        The counts (a wave with ``n == 0`` or NaN counts is a gap).
    proportion : tuple of float
        ``successes / n`` per wave; NaN for a gap.
    centre : float
        :math:`\\bar p`, pooled over the present waves.
    sigma_z : float
        Laney's between-wave factor (1.0 for a p-chart).
    sigma : tuple of float
        Per-wave standard deviation used for the limits (binomial times `sigma_z`).
    lower, upper, lower_near, upper_near : tuple of float
        Per-wave 3-sigma and 2-sigma limits, clipped to [0, 1]; NaN for a gap.
    variation, rule : tuple of str or None
        As in :class:`analysis.spc.XmRChart`.
    """

    method: str
    improvement: str
    successes: tuple[int, ...]
    n: tuple[int, ...]
    proportion: tuple[float, ...]
    centre: float
    sigma_z: float
    sigma: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    lower_near: tuple[float, ...]
    upper_near: tuple[float, ...]
    variation: tuple[str | None, ...]
    rule: tuple[str | None, ...]


def _checked_counts(
    successes: ArrayLike, n: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    k = check_counts_array(successes, "successes", allow_nan=True, ndim=1)
    total = check_counts_array(n, "n", allow_nan=True, ndim=1)
    if k.shape != total.shape:
        raise ValueError("successes and n must have the same length")
    if np.any(k > total):
        raise ValueError("successes must not exceed n")
    return k, total


def _laney_sigma_z(
    p: NDArray[np.float64], p_bar: float, binomial_sigma: NDArray[np.float64]
) -> float:
    """Laney's sigma_z: mean moving range of the z-scores over 1.128 (NaN for one wave)."""
    if p.size < 2:
        return math.nan
    if binomial_sigma[0] == 0:  # p_bar is 0 or 1: every wave equals it
        return 0.0
    z = (p - p_bar) / binomial_sigma
    return float(np.mean(np.abs(np.diff(z))) / _D2)


def _proportion_chart(
    successes: ArrayLike, n: ArrayLike, improvement: str, laney: bool
) -> ProportionChart:
    k, total = _checked_counts(successes, n)
    direction_name = check_improvement(improvement)
    present = ~np.isnan(k) & ~np.isnan(total) & (total > 0)
    if not present.any():
        raise ValueError("n must have answers in at least one wave")

    x, m = k[present], total[present]
    p_bar = float(x.sum() / m.sum())
    p = x / m
    binomial_sigma = np.sqrt(p_bar * (1.0 - p_bar) / m)
    sigma_z = _laney_sigma_z(p, p_bar, binomial_sigma) if laney else 1.0
    sigma = binomial_sigma * sigma_z
    lower, upper = p_bar - 3.0 * sigma, p_bar + 3.0 * sigma
    lower_near, upper_near = p_bar - 2.0 * sigma, p_bar + 2.0 * sigma
    count = int(present.sum())
    directions, rules = special_causes(
        p.tolist(),
        [p_bar] * count,
        lower.tolist(),
        upper.tolist(),
        lower_near.tolist(),
        upper_near.tolist(),
    )

    def spread(values: NDArray[np.float64], clip: bool) -> tuple[float, ...]:
        out = np.full(k.shape, np.nan)
        out[present] = np.clip(values, 0.0, 1.0) if clip else values
        return tuple(float(v) for v in out)

    variation: list[str | None] = [None] * k.size
    rule: list[str | None] = [None] * k.size
    for position, direction, reason in zip(np.flatnonzero(present), directions, rules, strict=True):
        variation[position] = label(direction, direction_name)
        rule[position] = reason
    return ProportionChart(
        method="laney_p_prime" if laney else "p",
        improvement=direction_name,
        successes=tuple(0 if math.isnan(v) else int(v) for v in k),
        n=tuple(0 if math.isnan(v) else int(v) for v in total),
        proportion=spread(p, clip=False),
        centre=p_bar,
        sigma_z=sigma_z,
        sigma=spread(sigma, clip=False),
        lower=spread(lower, clip=True),
        upper=spread(upper, clip=True),
        lower_near=spread(lower_near, clip=True),
        upper_near=spread(upper_near, clip=True),
        variation=tuple(variation),
        rule=tuple(rule),
    )


def p_chart(successes: ArrayLike, n: ArrayLike, improvement: str = "increase") -> ProportionChart:
    r"""p-chart of a proportion whose number of answers varies by wave.

    .. math::

        \bar p = \frac{\sum_i x_i}{\sum_i n_i}, \qquad
        \sigma_i = \sqrt{\bar p(1-\bar p)/n_i}, \qquad
        \text{limits}_i = \bar p \pm 3\sigma_i, \qquad
        \text{near limits}_i = \bar p \pm 2\sigma_i,

    with the same four special-cause rules, precedence and labels as :func:`analysis.spc.xmr`
    (limits compared per wave before clipping to [0, 1] for display).  When the
    answers are many and the true proportion moves from wave to wave for ordinary
    reasons, the binomial :math:`\sigma_i` is too small and the chart over-signals;
    :func:`laney_p_prime_chart` corrects for that.

    Parameters
    ----------
    successes, n : array_like, 1-D
        Successes and answers per wave; a wave with ``n == 0`` or NaN counts is a gap
        (label None, limits NaN).
    improvement : {"increase", "decrease", "neutral"}, optional
        Which direction is better.  Default ``"increase"``.

    Returns
    -------
    ProportionChart

    Raises
    ------
    ValueError
        If the arrays are empty, not 1-D or of different lengths; a count is
        negative, infinite or not whole; successes exceed their ``n``; no wave has
        answers; or `improvement` is unknown.

    References
    ----------
    .. [1] D. C. Montgomery, "Introduction to Statistical Quality Control", 7th ed.,
       Wiley (2013), section 7.2.2 (variable sample size).
    """
    return _proportion_chart(successes, n, improvement, laney=False)


def laney_p_prime_chart(
    successes: ArrayLike, n: ArrayLike, improvement: str = "increase"
) -> ProportionChart:
    r"""Laney's p'-chart: a p-chart widened by the wave-to-wave variation.

    With :math:`\bar p` and :math:`\sigma_{p_i} = \sqrt{\bar p(1-\bar p)/n_i}` as in
    :func:`p_chart`,

    .. math::

        z_i = \frac{p_i - \bar p}{\sigma_{p_i}}, \qquad
        \sigma_z = \frac{\overline{MR}(z)}{1.128}, \qquad
        \text{limits}_i = \bar p \pm 3\,\sigma_{p_i}\sigma_z, \qquad
        \text{near limits}_i = \bar p \pm 2\,\sigma_{p_i}\sigma_z,

    where :math:`\overline{MR}(z)` is the mean of :math:`|z_i - z_{i-1}|` over
    consecutive present waves (no screening, as in Laney 2002).  When the waves
    differ only binomially :math:`\sigma_z \approx 1` and this is the p-chart; when
    they differ more, the limits widen like an XmR chart's.  Same rules and labels as
    :func:`analysis.spc.xmr`.  With fewer than two present waves :math:`\sigma_z` is NaN.

    Parameters
    ----------
    successes, n : array_like, 1-D
        Successes and answers per wave; ``n == 0`` or NaN counts is a gap.
    improvement : {"increase", "decrease", "neutral"}, optional
        Which direction is better.  Default ``"increase"``.

    Returns
    -------
    ProportionChart

    Raises
    ------
    ValueError
        As :func:`p_chart`.

    References
    ----------
    .. [1] D. B. Laney, "Improved control charts for attributes", Quality
       Engineering 14 (2002) 531-537.
    """
    return _proportion_chart(successes, n, improvement, laney=True)
