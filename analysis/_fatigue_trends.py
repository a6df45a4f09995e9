"""The trend tests behind :mod:`analysis.fatigue`, for one team and for many at once.

Each test has a one-team form and a vectorised twin (suffix ``_batch``) kept side
by side, so that a change to one is made to the other; ``tests/analysis/
test_fatigue.py`` checks they agree.  The wave's position (0, 1, ...) is the score,
so a gap keeps its place in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from analysis.proportions import trend_test, trend_tests

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------- one team


@dataclass(frozen=True, slots=True)
class ProportionTrend:
    """Trend of ``k / n`` over the waves with data."""

    z: float  # dispersion-adjusted, positive when rising
    dispersion: float
    start: float  # fitted line at the first and the last wave with data
    end: float
    n_waves: int
    rates: FloatArray  # k / n of the waves with data, in order
    denominators: FloatArray  # their n


def _line_through(idx: FloatArray, x: FloatArray, m: FloatArray) -> tuple[float, float, float]:
    """Weighted (by m) least-squares line of x/m on idx: (p_bar, s_bar, slope)."""
    p_bar = float(x.sum() / m.sum())
    s_bar = float(np.sum(m * idx) / m.sum())
    slope = float(np.sum(m * (x / m - p_bar) * (idx - s_bar)) / np.sum(m * (idx - s_bar) ** 2))
    return p_bar, s_bar, slope


def proportion_trend(k: FloatArray, n: FloatArray) -> ProportionTrend:
    """Cochran-Armitage trend of k/n, z divided by sqrt(max(1, dispersion)).

    The dispersion is the Pearson homogeneity chi-squared left over by the trend,
    per degree of freedom: :math:`(X^2_\\text{hom} - X^2_\\text{trend})/(k-2)`.
    """
    used = ~np.isnan(k) & ~np.isnan(n) & (n > 0)
    idx = np.nonzero(used)[0].astype(np.float64)
    x, m = k[used], n[used]
    waves = int(idx.size)
    result = trend_test([int(v) for v in x], [int(v) for v in m], scores=idx.tolist())
    p_bar, s_bar, slope = _line_through(idx, x, m)
    if 0.0 < p_bar < 1.0:
        homogeneity = float(np.sum((x - m * p_bar) ** 2 / (m * p_bar * (1.0 - p_bar))))
    else:
        homogeneity = 0.0
    dispersion = (homogeneity - result.statistic) / (waves - 2) if waves > 2 else 1.0
    z = result.z / math.sqrt(max(1.0, dispersion))
    start = min(1.0, max(0.0, p_bar + slope * (idx[0] - s_bar)))
    end = min(1.0, max(0.0, p_bar + slope * (idx[-1] - s_bar)))
    return ProportionTrend(z, dispersion, start, end, waves, x / m, m)


def last_rate_below_limit(rates: FloatArray, denominators: FloatArray) -> tuple[bool, float]:
    """Is the last rate below the lower 3-sigma limit of the earlier ones?

    The limit is :math:`\\bar p - 3\\sqrt{\\phi\\,\\bar p(1-\\bar p)/n_\\text{last}}`
    with :math:`\\bar p` pooled over the earlier waves and :math:`\\phi` their
    Pearson dispersion (at least 1): a p-chart widened, as Laney's p' chart is,
    for real wave-to-wave variation.  Returns the flag and the limit.
    """
    x_prev, n_prev = rates[:-1] * denominators[:-1], denominators[:-1]
    p_bar = float(x_prev.sum() / n_prev.sum())
    if not 0.0 < p_bar < 1.0:
        return False, p_bar
    phi = float(np.sum((x_prev - n_prev * p_bar) ** 2 / (n_prev * p_bar * (1.0 - p_bar))))
    phi = max(1.0, phi / (n_prev.size - 1))
    limit = p_bar - 3.0 * math.sqrt(phi * p_bar * (1.0 - p_bar) / denominators[-1])
    return bool(rates[-1] < limit), limit


@dataclass(frozen=True, slots=True)
class MeanTrend:
    """Least-squares trend of a per-wave mean (free-text length, completion time)."""

    t: float
    p_falling: float  # one-sided p-value for a falling line
    start: float
    end: float
    n_waves: int


def mean_trend(y: FloatArray) -> MeanTrend:
    """OLS slope of the present values of `y` on their wave position, with its t test."""
    used = ~np.isnan(y)
    idx = np.nonzero(used)[0].astype(np.float64)
    values = y[used]
    fit = stats.linregress(idx, values, alternative="less")
    slope, intercept = float(fit.slope), float(fit.intercept)
    residual = values - (intercept + slope * idx)
    if float(np.sum(residual**2)) <= 1e-12 * max(1.0, float(np.sum(values**2))):
        # A perfect line (or constant values): the t statistic is infinite or
        # undefined; a strictly falling line is as strong as evidence gets.
        t, p = (-math.inf, 0.0) if slope < 0 else (math.inf if slope > 0 else 0.0, 1.0)
    else:
        t, p = float(fit.slope / fit.stderr), float(fit.pvalue)
    start, end = intercept + slope * idx[0], intercept + slope * idx[-1]
    return MeanTrend(t, p, float(start), float(end), int(idx.size))


# --------------------------------------------------------------------- many teams


@dataclass(frozen=True, slots=True)
class ProportionTrendBatch:
    """Row-wise :class:`ProportionTrend` (without the rates)."""

    z: FloatArray
    dispersion: FloatArray
    start: FloatArray
    end: FloatArray
    n_waves: IntArray
    used: BoolArray


def _first_and_last(used: BoolArray) -> tuple[IntArray, IntArray]:
    """Column of each row's first and last True (0 for a row with none)."""
    has = used.any(axis=1)
    width = used.shape[1]
    first = np.where(has, np.argmax(used, axis=1), 0)
    last = np.where(has, width - 1 - np.argmax(used[:, ::-1], axis=1), 0)
    return first, last


def _pearson_cells(x: FloatArray, m: FloatArray, p_bar: FloatArray, used: BoolArray) -> FloatArray:
    """(x - m p)^2 / (m p (1 - p)) per used cell; 0 where unused or p is 0 or 1."""
    var = p_bar * (1.0 - p_bar)
    cells: FloatArray = np.divide(
        (x - m * p_bar[:, None]) ** 2,
        m * var[:, None],
        out=np.zeros_like(x),
        where=used & (var[:, None] > 0),
    )
    return cells


def proportion_trend_batch(k: FloatArray, n: FloatArray) -> ProportionTrendBatch:
    """Row-wise :func:`proportion_trend`."""
    used = ~np.isnan(k) & ~np.isnan(n) & (n > 0)
    waves_per_row = used.sum(axis=1)
    idx = np.arange(k.shape[1], dtype=np.float64)
    z, chi2, _ = trend_tests(np.where(used, k, np.nan), np.where(used, n, np.nan), scores=idx)
    x = np.where(used, k, 0.0)
    m = np.where(used, n, 0.0)
    n_sum = m.sum(axis=1)
    safe_n = np.where(n_sum > 0, n_sum, 1.0)
    p_bar = x.sum(axis=1) / safe_n
    s_bar = (m * idx).sum(axis=1) / safe_n
    centred = np.where(used, idx - s_bar[:, None], 0.0)
    rate = np.divide(x, m, out=np.zeros_like(x), where=used)
    spread = (m * centred**2).sum(axis=1)
    slope = np.divide(
        (m * (rate - p_bar[:, None]) * centred).sum(axis=1),
        spread,
        out=np.zeros_like(spread),
        where=spread > 0,
    )
    homogeneity = _pearson_cells(x, m, p_bar, used).sum(axis=1)
    dof = waves_per_row - 2
    dispersion = np.divide(
        homogeneity - np.nan_to_num(chi2), dof, out=np.ones_like(homogeneity), where=dof > 0
    )
    first, last = _first_and_last(used)
    return ProportionTrendBatch(
        z=z / np.sqrt(np.maximum(1.0, dispersion)),
        dispersion=dispersion,
        start=np.clip(p_bar + slope * (first - s_bar), 0.0, 1.0),
        end=np.clip(p_bar + slope * (last - s_bar), 0.0, 1.0),
        n_waves=waves_per_row.astype(np.int64),
        used=used,
    )


def last_rate_below_limit_batch(k: FloatArray, n: FloatArray, used: BoolArray) -> BoolArray:
    """Row-wise :func:`last_rate_below_limit` (the flag only)."""
    rows = np.arange(k.shape[0])
    has = used.any(axis=1)
    _, last = _first_and_last(used)
    earlier = used.copy()
    earlier[rows, last] = False
    x = np.where(earlier, k, 0.0)
    m = np.where(earlier, n, 0.0)
    n_sum = m.sum(axis=1)
    p_bar = np.divide(x.sum(axis=1), n_sum, out=np.zeros_like(n_sum), where=n_sum > 0)
    var = p_bar * (1.0 - p_bar)
    dof = earlier.sum(axis=1) - 1
    phi = np.divide(
        _pearson_cells(x, m, p_bar, earlier).sum(axis=1),
        dof,
        out=np.ones_like(n_sum),
        where=dof > 0,
    )
    n_last = np.where(has, n[rows, last], 1.0)
    n_last = np.where(n_last > 0, n_last, 1.0)
    limit = p_bar - 3.0 * np.sqrt(np.maximum(1.0, phi) * var / n_last)
    rate_last = np.divide(
        np.where(has, k[rows, last], 0.0), n_last, out=np.zeros_like(n_last), where=has
    )
    below: BoolArray = has & (var > 0) & (rate_last < limit)
    return below


def mean_trend_batch(y: FloatArray) -> tuple[FloatArray, IntArray]:
    """Row-wise :func:`mean_trend`: one-sided p for a falling line, and waves used."""
    used = ~np.isnan(y)
    waves = used.sum(axis=1)
    idx = np.arange(y.shape[1], dtype=np.float64)
    safe_w = np.where(waves > 0, waves, 1)
    x_bar = np.where(used, idx, 0.0).sum(axis=1) / safe_w
    y_bar = np.where(used, y, 0.0).sum(axis=1) / safe_w
    dx = np.where(used, idx - x_bar[:, None], 0.0)
    dy = np.where(used, y - y_bar[:, None], 0.0)
    sxx = (dx**2).sum(axis=1)
    sxy = (dx * dy).sum(axis=1)
    syy = (dy**2).sum(axis=1)
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxx), where=sxx > 0)
    sse = np.maximum(0.0, syy - slope * sxy)
    dof = waves - 2
    yy = (np.where(used, y, 0.0) ** 2).sum(axis=1)
    perfect = sse <= 1e-12 * np.maximum(1.0, yy)  # as mean_trend's perfect line
    se = np.sqrt(np.divide(sse, dof * sxx, out=np.ones_like(sse), where=(dof > 0) & (sxx > 0)))
    t = np.divide(slope, se, out=np.zeros_like(se), where=~perfect & (se > 0))
    p = np.where(dof > 0, stats.t.cdf(t, np.maximum(dof, 1)), np.nan)
    p = np.where(perfect, np.where(slope < 0, 0.0, 1.0), p)
    return p, waves.astype(np.int64)
