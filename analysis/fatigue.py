"""Survey fatigue: per-wave indicators and a judgement across waves.

NHS England's collaborative guide reports "survey and self-assessment
fatigue" with repeated requests.  Its signs in pulse data are a falling
response rate, rising item non-response and "Don't know", and shorter free
text.  :func:`wave_indicators` computes them for one wave; :func:`assess_fatigue`
tests for a worsening trend across a team's waves and returns a level:

``none``
    no indicator worsens (or fewer than ``min_waves`` waves to judge);
``watch``
    one indicator worsens significantly but not enough for ``fatigued``, or
    the latest response rate is below the lower limit expected from the
    earlier waves;
``fatigued``
    the response rate falls significantly *and* materially (by at least
    ``material_drop``, default 10 percentage points, from the start to the
    end of its fitted trend line), or two or more indicators worsen
    significantly together.

"Significantly" means a one-sided test in the worsening direction at
``alpha / 4`` (default alpha 0.05, so 0.0125): a Bonferroni correction for the
four indicators of the method, applied whichever of them a team's data
support, so that a team is not more likely to be flagged by chance because it
has more indicators, and its level does not shift when one is added.

Tests per indicator, with the wave's position as the score (gaps keep their
place):

* response rate, item non-response, "Don't know": the chi-squared test for
  trend in proportions (Cochran-Armitage, :func:`analysis.proportions.trend_test`,
  R's ``prop.trend.test``), its z divided by :math:`\\sqrt{\\max(1, \\hat\\phi)}`
  where :math:`\\hat\\phi = (X^2_\\text{homogeneity} - X^2_\\text{trend})/(k-2)`
  is the quasi-binomial dispersion of the waves about the trend line (staff
  leave, rotas and holidays make real response rates vary more than a
  binomial, which would otherwise flag stable teams);
* mean free-text length: least-squares slope of the wave means on the wave
  position with its t test (``scipy.stats.linregress``).

The lower limit for the latest response rate is the p-chart limit
:math:`\\bar p - 3\\sqrt{\\phi\\,\\bar p(1-\\bar p)/N_\\text{last}}` from the
earlier waves, with Laney's dispersion :math:`\\phi` (at least 1).

The defaults were checked by the seeded simulations in
``tests/analysis/test_simulations.py``: a stable response rate with binomial
noise is called ``fatigued`` in well under 5% of teams, a fall from 70% to
35% over 12 waves in a team of 30 in nearly all.

References
----------
.. [1] P. Armitage, "Tests for linear trends in proportions and
       frequencies", *Biometrics* 11:375-386, 1955.
.. [2] P. McCullagh and J. A. Nelder, *Generalized Linear Models*, 2nd ed.,
       Chapman & Hall, 1989, section 4.5 (over-dispersion).
.. [3] D. B. Laney, "Improved control charts for attributes", *Quality
       Engineering* 14(4):531-537, 2002.
.. [4] NHS England, "Integrated neighbourhood teams: a collaborative guide"
       (survey and self-assessment fatigue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from analysis._validation import check_count, check_counts_array
from analysis.proportions import trend_test, trend_tests

__all__ = [
    "LEVELS",
    "FatigueAssessment",
    "FatigueBatch",
    "IndicatorTrend",
    "WaveIndicators",
    "assess_fatigue",
    "assess_fatigue_batch",
    "wave_indicators",
]

LEVELS: Final[tuple[str, str, str]] = ("none", "watch", "fatigued")
"""Fatigue levels; the batch function returns their index (0, 1, 2)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_INDICATORS: Final[tuple[str, ...]] = (
    "response_rate",
    "item_nonresponse",
    "dont_know",
    "free_text_length",
)


# --------------------------------------------------------------------- one wave


@dataclass(frozen=True, slots=True)
class WaveIndicators:
    """Fatigue indicators of one wave.

    Attributes
    ----------
    invited, responded : int
        Staff invited and staff who answered.
    response_rate : float
        ``responded / invited``.
    item_nonresponse_rate : float or None
        Share of the items shown that were left blank (None if not given).
    dont_know_rate : float or None
        Share of answers to items offering "Don't know" that were "Don't
        know" (None if not given).
    n_free_text : int
        Free-text comments written.
    mean_free_text_length, median_free_text_length : float or None
        Characters per comment (None when no comment was written or lengths
        were not given).
    median_completion_seconds : float or None
        Median time to complete, where known.
    """

    invited: int
    responded: int
    response_rate: float
    item_nonresponse_rate: float | None
    dont_know_rate: float | None
    n_free_text: int
    mean_free_text_length: float | None
    median_free_text_length: float | None
    median_completion_seconds: float | None


def _rate(part: int | None, whole: int | None, part_name: str, whole_name: str) -> float | None:
    if part is None and whole is None:
        return None
    if part is None or whole is None:
        raise ValueError(f"{part_name} and {whole_name} must be given together")
    k, n = check_count(part, part_name), check_count(whole, whole_name)
    if k > n:
        raise ValueError(f"{part_name} ({k}) must not exceed {whole_name} ({n})")
    return k / n if n > 0 else None


def _lengths(values: npt.ArrayLike | None, name: str) -> FloatArray:
    if values is None:
        return np.empty(0)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and not negative")
    return arr


def wave_indicators(
    *,
    invited: int,
    responded: int,
    items_presented: int | None = None,
    items_blank: int | None = None,
    dont_know_offered: int | None = None,
    dont_know: int | None = None,
    free_text_lengths: npt.ArrayLike | None = None,
    completion_seconds: npt.ArrayLike | None = None,
) -> WaveIndicators:
    """Fatigue indicators of one wave, from counts.

    Parameters
    ----------
    invited, responded : int
        Staff invited (more than 0) and staff who answered.
    items_presented, items_blank : int, optional
        Items shown, summed over responses, and how many of them were left
        blank.  Give both or neither.
    dont_know_offered, dont_know : int, optional
        Answers to items that offer "Don't know", and how many were "Don't
        know".  Give both or neither.
    free_text_lengths : array_like of float, optional
        Length in characters of each non-empty comment.
    completion_seconds : array_like of float, optional
        Completion time of each response, where known.

    Returns
    -------
    WaveIndicators

    Raises
    ------
    ValueError
        If a count is negative or not whole; ``invited`` is 0; a part exceeds
        its whole (e.g. ``responded > invited``); only one of a pair is given;
        or a length or time is negative or not finite.

    Notes
    -----
    Response rate :math:`r/N`; item non-response :math:`b/s` (blank over
    shown); "Don't know" rate :math:`d/o`; mean and median comment length;
    median completion time.
    """
    n_invited = check_count(invited, "invited")
    n_responded = check_count(responded, "responded")
    if n_invited == 0:
        raise ValueError("invited must be positive: a response rate of nobody invited is undefined")
    if n_responded > n_invited:
        raise ValueError(f"responded ({n_responded}) must not exceed invited ({n_invited})")
    blank_rate = _rate(items_blank, items_presented, "items_blank", "items_presented")
    dk_rate = _rate(dont_know, dont_know_offered, "dont_know", "dont_know_offered")
    lengths = _lengths(free_text_lengths, "free_text_lengths")
    seconds = _lengths(completion_seconds, "completion_seconds")
    return WaveIndicators(
        invited=n_invited,
        responded=n_responded,
        response_rate=n_responded / n_invited,
        item_nonresponse_rate=blank_rate,
        dont_know_rate=dk_rate,
        n_free_text=int(lengths.size),
        mean_free_text_length=float(lengths.mean()) if lengths.size else None,
        median_free_text_length=float(np.median(lengths)) if lengths.size else None,
        median_completion_seconds=float(np.median(seconds)) if seconds.size else None,
    )


# --------------------------------------------------------------------- across waves


@dataclass(frozen=True, slots=True)
class IndicatorTrend:
    """The trend of one indicator across a team's waves.

    Attributes
    ----------
    name : str
        "response_rate", "item_nonresponse", "dont_know" or
        "free_text_length".
    start, end : float
        The fitted trend line at the first and the last wave with data.
    statistic : float
        Dispersion-adjusted z (proportions) or t (free-text length); positive
        when the indicator rises.
    p_value : float
        One-sided p-value in the worsening direction (falling response rate
        or text length, rising blanks or "Don't know").
    worsening : bool
        ``p_value`` is below the per-indicator level ``alpha / 4``.
    n_waves : int
        Waves with data for this indicator.
    """

    name: str
    start: float
    end: float
    statistic: float
    p_value: float
    worsening: bool
    n_waves: int


@dataclass(frozen=True, slots=True)
class FatigueAssessment:
    """Result of :func:`assess_fatigue`.

    Attributes
    ----------
    level : {"none", "watch", "fatigued"}
        The judgement.
    reasons : tuple of str
        Plain-English sentences behind the level.
    n_waves : int
        Waves with a response rate.
    trends : tuple of IndicatorTrend
        The indicators tested (response rate first).
    alpha_per_indicator : float
        The one-sided level each indicator was tested at, ``alpha / 4``.
    response_rate_drop : float
        Fitted fall of the response rate from the first to the last wave
        (positive for a fall; NaN with too few waves).
    dispersion : float
        Estimated dispersion of the response rates about their trend (1 for a
        binomial; NaN with too few waves).
    last_wave_below_limit : bool
        The latest response rate is below the lower limit from earlier waves.
    """

    level: str
    reasons: tuple[str, ...]
    n_waves: int
    trends: tuple[IndicatorTrend, ...]
    alpha_per_indicator: float
    response_rate_drop: float
    dispersion: float
    last_wave_below_limit: bool


@dataclass(frozen=True, slots=True)
class FatigueBatch:
    """Result of :func:`assess_fatigue_batch`, one entry per team (row).

    Attributes
    ----------
    levels : ndarray of int8
        Index into :data:`LEVELS`: 0 none, 1 watch, 2 fatigued.
    n_waves : ndarray of int
        Waves with a response rate.
    response_rate_start, response_rate_end : ndarray of float
        Fitted response rate at the first and last wave (NaN with too few).
    response_z, response_p : ndarray of float
        Dispersion-adjusted trend z and one-sided p-value for a falling rate.
    n_worsening : ndarray of int
        Indicators worsening significantly.
    last_wave_below_limit : ndarray of bool
        Latest response rate below the lower limit from earlier waves.
    """

    levels: npt.NDArray[np.int8]
    n_waves: IntArray
    response_rate_start: FloatArray
    response_rate_end: FloatArray
    response_z: FloatArray
    response_p: FloatArray
    n_worsening: IntArray
    last_wave_below_limit: npt.NDArray[np.bool_]


def _check_options(min_waves: int, alpha: float, material_drop: float) -> None:
    if isinstance(min_waves, bool) or not isinstance(min_waves, int | np.integer):
        raise ValueError(f"min_waves must be a whole number, got {min_waves!r}")
    if min_waves < 3:
        raise ValueError(f"min_waves must be at least 3, got {min_waves}")
    if not (isinstance(alpha, float | int) and 0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    if not (isinstance(material_drop, float | int) and 0.0 <= material_drop <= 1.0):
        raise ValueError(f"material_drop must be between 0 and 1, got {material_drop!r}")


def _pair(
    part: npt.ArrayLike | None,
    whole: npt.ArrayLike | None,
    part_name: str,
    whole_name: str,
    shape: tuple[int, ...],
) -> tuple[FloatArray, FloatArray] | None:
    """Validated (part, whole) count arrays with NaN for missing, or None."""
    if part is None and whole is None:
        return None
    if part is None or whole is None:
        raise ValueError(f"{part_name} and {whole_name} must be given together")
    k = check_counts_array(part, part_name, allow_nan=True, ndim=len(shape))
    n = check_counts_array(whole, whole_name, allow_nan=True, ndim=len(shape))
    if k.shape != shape or n.shape != shape:
        raise ValueError(f"{part_name} and {whole_name} must have the shape of responded {shape}")
    if np.any(k > n):
        raise ValueError(f"{part_name} must not exceed {whole_name} in any wave")
    return k, n


def _lengths_array(values: npt.ArrayLike | None, shape: tuple[int, ...]) -> FloatArray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(
            f"free_text_mean_length must have the shape of responded {shape}, got {arr.shape}"
        )
    if np.any(np.isinf(arr)) or np.any(arr[~np.isnan(arr)] < 0):
        raise ValueError("free_text_mean_length must be finite (NaN for missing) and not negative")
    return arr


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


@dataclass(frozen=True, slots=True)
class _PropTrend:
    z: float  # dispersion-adjusted, positive when rising
    dispersion: float
    start: float
    end: float
    n_waves: int
    rates: FloatArray
    invited: FloatArray


def _prop_trend(k: FloatArray, n: FloatArray) -> _PropTrend:
    """Cochran-Armitage trend of k/n with the wave position as score."""
    used = ~np.isnan(k) & ~np.isnan(n) & (n > 0)
    idx = np.nonzero(used)[0].astype(np.float64)
    x, m = k[used], n[used]
    waves = int(idx.size)
    result = trend_test([int(v) for v in x], [int(v) for v in m], scores=idx.tolist())
    p_bar = x.sum() / m.sum()
    s_bar = float(np.sum(m * idx) / m.sum())
    slope = float(np.sum(m * (x / m - p_bar) * (idx - s_bar)) / np.sum(m * (idx - s_bar) ** 2))
    if 0.0 < p_bar < 1.0:
        homogeneity = float(np.sum((x - m * p_bar) ** 2 / (m * p_bar * (1.0 - p_bar))))
    else:
        homogeneity = 0.0
    dispersion = (homogeneity - result.statistic) / (waves - 2) if waves > 2 else 1.0
    z = result.z / math.sqrt(max(1.0, dispersion))
    start = min(1.0, max(0.0, p_bar + slope * (idx[0] - s_bar)))
    end = min(1.0, max(0.0, p_bar + slope * (idx[-1] - s_bar)))
    return _PropTrend(z, dispersion, start, end, waves, x / m, m)


def _laney_below(rates: FloatArray, invited: FloatArray) -> tuple[bool, float]:
    """Is the last rate below the p'-chart lower limit of the earlier ones?"""
    x_prev, n_prev = rates[:-1] * invited[:-1], invited[:-1]
    p_bar = float(x_prev.sum() / n_prev.sum())
    if not 0.0 < p_bar < 1.0:
        return False, p_bar
    phi = float(np.sum((x_prev - n_prev * p_bar) ** 2 / (n_prev * p_bar * (1.0 - p_bar))))
    phi = max(1.0, phi / (n_prev.size - 1))
    limit = p_bar - 3.0 * math.sqrt(phi * p_bar * (1.0 - p_bar) / invited[-1])
    return bool(rates[-1] < limit), limit


def _length_trend(y: FloatArray) -> tuple[float, float, float, float, int]:
    """OLS slope test of mean text length on wave position: (t, p_less, start, end, waves)."""
    used = ~np.isnan(y)
    idx = np.nonzero(used)[0].astype(np.float64)
    values = y[used]
    fit = stats.linregress(idx, values, alternative="less")
    slope, intercept = float(fit.slope), float(fit.intercept)
    residual = values - (intercept + slope * idx)
    if float(np.sum(residual**2)) <= 1e-12 * max(1.0, float(np.sum(values**2))):
        # A perfect line (or constant lengths): the t statistic is infinite or
        # undefined; a strictly falling line is as strong as evidence gets.
        t, p = (-math.inf, 0.0) if slope < 0 else (math.inf if slope > 0 else 0.0, 1.0)
    else:
        t, p = float(fit.slope / fit.stderr), float(fit.pvalue)
    return (
        t,
        p,
        float(intercept + slope * idx[0]),
        float(intercept + slope * idx[-1]),
        int(idx.size),
    )


def assess_fatigue(
    responded: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    items_blank: npt.ArrayLike | None = None,
    items_presented: npt.ArrayLike | None = None,
    dont_know: npt.ArrayLike | None = None,
    dont_know_offered: npt.ArrayLike | None = None,
    free_text_mean_length: npt.ArrayLike | None = None,
    min_waves: int = 4,
    alpha: float = 0.05,
    material_drop: float = 0.10,
) -> FatigueAssessment:
    """Judge survey fatigue for one team across its waves.

    Parameters
    ----------
    responded, invited : array_like, 1-D
        Per wave, oldest first: staff who answered and staff invited.  NaN
        (or ``invited == 0``) marks a wave with no data; it keeps its place in
        time.
    items_blank, items_presented : array_like, 1-D, optional
        Per wave: items left blank and items shown.  Give both or neither.
    dont_know, dont_know_offered : array_like, 1-D, optional
        Per wave: "Don't know" answers and answers to items offering it.
        Give both or neither.
    free_text_mean_length : array_like, 1-D, optional
        Per wave: mean characters per comment (NaN for a wave without any).
    min_waves : int, optional
        Fewest waves with data needed to judge (default 4, at least 3); an
        optional indicator with fewer waves is not tested.
    alpha : float, optional
        Family-wise one-sided level over the four indicators (default 0.05);
        each is tested at ``alpha / 4``.
    material_drop : float, optional
        Fall of the fitted response rate, first to last wave, that counts as
        material (default 0.10, i.e. 10 percentage points).

    Returns
    -------
    FatigueAssessment

    Raises
    ------
    ValueError
        If ``responded`` and ``invited`` are not 1-D of one length, hold a
        negative or fractional count, or ``responded > invited`` in a wave;
        if an optional pair is half given, mismatched in shape or has a part
        above its whole; if a mean length is negative or infinite; if
        ``min_waves``, ``alpha`` or ``material_drop`` is out of range.

    See Also
    --------
    assess_fatigue_batch : the same for many teams at once.

    Notes
    -----
    The tests, thresholds and their calibration are in the module
    docstring.  With fewer than ``min_waves`` waves the level is ``none``
    with the reason "Too few waves to judge".

    Examples
    --------
    >>> from analysis.fatigue import assess_fatigue
    >>> a = assess_fatigue([21, 20, 19, 17, 16, 15, 14, 13, 12, 12, 11, 10], [30] * 12)
    >>> a.level
    'fatigued'
    >>> a.reasons[0]
    'Response rate fell from 68% to 32% over 12 waves (trend p < 0.001).'
    """
    _check_options(min_waves, alpha, material_drop)
    resp = check_counts_array(responded, "responded", allow_nan=True, ndim=1)
    inv = check_counts_array(invited, "invited", allow_nan=True, ndim=1)
    if resp.shape != inv.shape:
        raise ValueError(f"responded has {resp.size} waves but invited has {inv.size}")
    if np.any(resp > inv):
        raise ValueError("responded must not exceed invited in any wave")
    shape = resp.shape
    blank = _pair(items_blank, items_presented, "items_blank", "items_presented", shape)
    dk = _pair(dont_know, dont_know_offered, "dont_know", "dont_know_offered", shape)
    lengths = _lengths_array(free_text_mean_length, shape)

    used = ~np.isnan(resp) & ~np.isnan(inv) & (inv > 0)
    n_waves = int(used.sum())
    if n_waves < min_waves:
        return FatigueAssessment(
            level="none",
            reasons=(f"Too few waves to judge: {n_waves} with answers, {min_waves} needed.",),
            n_waves=n_waves,
            trends=(),
            alpha_per_indicator=alpha / len(_INDICATORS),
            response_rate_drop=float("nan"),
            dispersion=float("nan"),
            last_wave_below_limit=False,
        )

    response = _prop_trend(resp, inv)
    # (name, z or t, one-sided p, start, end, waves)
    raw: list[tuple[str, float, float, float, float, int]] = [
        (
            "response_rate",
            response.z,
            float(special.ndtr(response.z)),
            response.start,
            response.end,
            response.n_waves,
        )
    ]
    for name, pair in (("item_nonresponse", blank), ("dont_know", dk)):
        if pair is None:
            continue
        k, n = pair
        if int(np.count_nonzero(~np.isnan(k) & ~np.isnan(n) & (n > 0))) < min_waves:
            continue
        tr = _prop_trend(k, n)
        raw.append((name, tr.z, float(special.ndtr(-tr.z)), tr.start, tr.end, tr.n_waves))
    if lengths is not None and int(np.count_nonzero(~np.isnan(lengths))) >= min_waves:
        t, p, start, end, waves = _length_trend(lengths)
        raw.append(("free_text_length", t, p, start, end, waves))

    level_alpha = alpha / len(_INDICATORS)
    trends = tuple(
        IndicatorTrend(name, start, end, stat, p, p < level_alpha, waves)
        for name, stat, p, start, end, waves in raw
    )
    below, limit = _laney_below(response.rates, response.invited)
    drop = response.start - response.end
    n_worse = sum(t.worsening for t in trends)
    rate_trend = trends[0]
    if (rate_trend.worsening and drop >= material_drop) or n_worse >= 2:
        level = "fatigued"
    elif n_worse == 1 or below:
        level = "watch"
    else:
        level = "none"

    reasons = [_reason(t, material_drop) for t in trends if t.worsening]
    if below:
        reasons.append(
            f"The latest response rate ({response.rates[-1]:.0%}) is below the lowest "
            f"expected from the earlier waves ({max(0.0, limit):.0%})."
        )
    if not reasons:
        tested = ", ".join(_PLAIN[t.name] for t in trends)
        reasons.append(
            f"No sign of survey fatigue over {n_waves} waves: no worsening trend in {tested}."
        )
    return FatigueAssessment(
        level=level,
        reasons=tuple(reasons),
        n_waves=n_waves,
        trends=trends,
        alpha_per_indicator=level_alpha,
        response_rate_drop=drop,
        dispersion=response.dispersion,
        last_wave_below_limit=below,
    )


_PLAIN: Final[dict[str, str]] = {
    "response_rate": "the response rate",
    "item_nonresponse": "items left blank",
    "dont_know": '"Don\'t know" answers',
    "free_text_length": "free-text length",
}


def _reason(t: IndicatorTrend, material_drop: float) -> str:
    span = f"over {t.n_waves} waves (trend {_p_text(t.p_value)})"
    if t.name == "response_rate":
        text = f"Response rate fell from {t.start:.0%} to {t.end:.0%} {span}."
        if t.start - t.end < material_drop:
            text += (
                f" The fall is under the {100 * material_drop:.0f} points that would mean "
                "fatigue on its own."
            )
        return text
    if t.name == "item_nonresponse":
        return f"Items left blank rose from {t.start:.0%} to {t.end:.0%} of those shown {span}."
    if t.name == "dont_know":
        return f'"Don\'t know" answers rose from {t.start:.0%} to {t.end:.0%} {span}.'
    return (
        f"Free-text comments shortened from about {t.start:.0f} to {t.end:.0f} characters {span}."
    )


# --------------------------------------------------------------------- batch


def _prop_trend_batch(
    k: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray, npt.NDArray[np.bool_]]:
    """Row-wise :func:`_prop_trend`: (z_adj, dispersion, start, end, waves, used)."""
    used = ~np.isnan(k) & ~np.isnan(n) & (n > 0)
    waves_per_row = used.sum(axis=1)
    k_used = np.where(used, k, np.nan)
    n_used = np.where(used, n, np.nan)
    width = k.shape[1]
    idx = np.arange(width, dtype=np.float64)
    z, chi2, _ = trend_tests(k_used, n_used, scores=idx)
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
    var = p_bar * (1.0 - p_bar)
    cell = np.divide(
        (x - m * p_bar[:, None]) ** 2,
        m * var[:, None],
        out=np.zeros_like(x),
        where=used & (var[:, None] > 0),
    )
    homogeneity = cell.sum(axis=1)
    dof = waves_per_row - 2
    dispersion = np.divide(
        homogeneity - np.nan_to_num(chi2), dof, out=np.ones_like(homogeneity), where=dof > 0
    )
    z_adj = z / np.sqrt(np.maximum(1.0, dispersion))
    first = np.where(used.any(axis=1), np.argmax(used, axis=1), 0).astype(np.float64)
    last = np.where(used.any(axis=1), width - 1 - np.argmax(used[:, ::-1], axis=1), 0)
    start = np.clip(p_bar + slope * (first - s_bar), 0.0, 1.0)
    end = np.clip(p_bar + slope * (last.astype(np.float64) - s_bar), 0.0, 1.0)
    return z_adj, dispersion, start, end, waves_per_row.astype(np.int64), used


def _laney_below_batch(
    k: FloatArray, n: FloatArray, used: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    rows = np.arange(k.shape[0])
    width = k.shape[1]
    has = used.any(axis=1)
    last = np.where(has, width - 1 - np.argmax(used[:, ::-1], axis=1), 0)
    prev = used.copy()
    prev[rows, last] = False
    x = np.where(prev, k, 0.0)
    m = np.where(prev, n, 0.0)
    n_sum = m.sum(axis=1)
    p_bar = np.divide(x.sum(axis=1), n_sum, out=np.zeros_like(n_sum), where=n_sum > 0)
    var = p_bar * (1.0 - p_bar)
    cell = np.divide(
        (x - m * p_bar[:, None]) ** 2,
        m * var[:, None],
        out=np.zeros_like(x),
        where=prev & (var[:, None] > 0),
    )
    dof = prev.sum(axis=1) - 1
    phi = np.maximum(1.0, np.divide(cell.sum(axis=1), dof, out=np.ones_like(n_sum), where=dof > 0))
    n_last = np.where(has, n[rows, last], 1.0)
    n_last = np.where(n_last > 0, n_last, 1.0)
    limit = p_bar - 3.0 * np.sqrt(phi * var / n_last)
    rate_last = np.divide(
        np.where(has, k[rows, last], 0.0), n_last, out=np.zeros_like(n_last), where=has
    )
    below: npt.NDArray[np.bool_] = has & (var > 0) & (rate_last < limit)
    return below


def _length_trend_batch(y: FloatArray) -> tuple[FloatArray, IntArray]:
    """Row-wise one-sided ('less') p-value of the OLS slope, and waves used."""
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
    perfect = sse <= 1e-12 * np.maximum(1.0, yy)
    se = np.sqrt(np.divide(sse, dof * sxx, out=np.ones_like(sse), where=(dof > 0) & (sxx > 0)))
    t = np.divide(slope, se, out=np.zeros_like(se), where=~perfect & (se > 0))
    p = np.where(dof > 0, stats.t.cdf(t, np.maximum(dof, 1)), np.nan)
    p = np.where(perfect, np.where(slope < 0, 0.0, 1.0), p)
    return p, waves.astype(np.int64)


def assess_fatigue_batch(
    responded: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    items_blank: npt.ArrayLike | None = None,
    items_presented: npt.ArrayLike | None = None,
    dont_know: npt.ArrayLike | None = None,
    dont_know_offered: npt.ArrayLike | None = None,
    free_text_mean_length: npt.ArrayLike | None = None,
    min_waves: int = 4,
    alpha: float = 0.05,
    material_drop: float = 0.10,
) -> FatigueBatch:
    """Fatigue levels for many teams at once (teams in rows, waves in columns).

    The vectorised form of :func:`assess_fatigue`: row ``i`` gets the level
    that :func:`assess_fatigue` gives for the series in row ``i`` (tests check
    this), without the sentences.

    Parameters
    ----------
    responded, invited : array_like, shape (teams, waves)
        Counts; NaN (or ``invited == 0``) marks a missing wave.
    items_blank, items_presented, dont_know, dont_know_offered : array_like, optional
        As :func:`assess_fatigue`, of the same shape.
    free_text_mean_length : array_like, optional
        As :func:`assess_fatigue`, of the same shape.
    min_waves, alpha, material_drop
        As :func:`assess_fatigue`.

    Returns
    -------
    FatigueBatch

    Raises
    ------
    ValueError
        As :func:`assess_fatigue`, for 2-D arrays.
    """
    _check_options(min_waves, alpha, material_drop)
    resp = check_counts_array(responded, "responded", allow_nan=True, ndim=2)
    inv = check_counts_array(invited, "invited", allow_nan=True, ndim=2)
    if resp.shape != inv.shape:
        raise ValueError(f"responded has shape {resp.shape} but invited has {inv.shape}")
    if np.any(resp > inv):
        raise ValueError("responded must not exceed invited in any wave")
    shape = resp.shape
    blank = _pair(items_blank, items_presented, "items_blank", "items_presented", shape)
    dk = _pair(dont_know, dont_know_offered, "dont_know", "dont_know_offered", shape)
    lengths = _lengths_array(free_text_mean_length, shape)

    z, _, start, end, n_waves, used = _prop_trend_batch(resp, inv)
    enough = n_waves >= min_waves
    p_rate = special.ndtr(z)
    ps = [p_rate]
    tested = [enough]
    for pair in (blank, dk):
        if pair is None:
            continue
        z_i, _, _, _, waves_i, _ = _prop_trend_batch(*pair)
        ps.append(special.ndtr(-z_i))
        tested.append(waves_i >= min_waves)
    if lengths is not None:
        p_len, waves_len = _length_trend_batch(lengths)
        ps.append(p_len)
        tested.append(waves_len >= min_waves)
    tested_arr = np.array(tested) & enough[None, :]
    level_alpha = alpha / len(_INDICATORS)
    worse = tested_arr & (np.nan_to_num(np.array(ps), nan=1.0) < level_alpha)
    n_worse = worse.sum(axis=0)
    below = _laney_below_batch(resp, inv, used) & enough
    drop = start - end
    fatigued = enough & ((worse[0] & (drop >= material_drop)) | (n_worse >= 2))
    watch = enough & ~fatigued & ((n_worse == 1) | below)
    levels = np.where(fatigued, 2, np.where(watch, 1, 0)).astype(np.int8)
    nan = np.float64(np.nan)
    return FatigueBatch(
        levels=levels,
        n_waves=n_waves,
        response_rate_start=np.where(enough, start, nan),
        response_rate_end=np.where(enough, end, nan),
        response_z=np.where(enough, z, nan),
        response_p=np.where(enough, p_rate, nan),
        n_worsening=n_worse.astype(np.int64),
        last_wave_below_limit=below,
    )
