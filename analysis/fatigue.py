"""Survey fatigue: per-wave indicators and a judgement across waves.

NHS England's collaborative guide reports "survey and self-assessment
fatigue" with repeated requests.  Its signs in pulse data are a falling
response rate, rising item non-response and "Don't know", shorter free text
and faster completion.  :func:`wave_indicators` computes them for one wave;
:func:`assess_fatigue` tests for a worsening trend across a team's waves and
returns a level:

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
``alpha / 5`` (default alpha 0.05, so 0.01): a Bonferroni correction for the
five indicators of the method, applied whichever of them a team's data
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
* mean free-text length and median completion time: least-squares slope of
  the per-wave values on the wave position with its t test
  (``scipy.stats.linregress``); falling is worsening.

The lower limit for the latest response rate is the p-chart limit
:math:`\\bar p - 3\\sqrt{\\phi\\,\\bar p(1-\\bar p)/N_\\text{last}}` from the
earlier waves, with :math:`\\phi` their Pearson dispersion (at least 1), which
widens the limits for real wave-to-wave variation as Laney's p' chart does.

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

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import special

from analysis._fatigue_inputs import Inputs, check_inputs, check_options
from analysis._fatigue_trends import (
    ProportionTrend,
    last_rate_below_limit,
    last_rate_below_limit_batch,
    mean_trend,
    mean_trend_batch,
    proportion_trend,
    proportion_trend_batch,
)
from analysis._validation import check_count

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

#: Each indicator and how a report names it.  Proportions (after the response
#: rate) worsen by rising, per-wave means by falling.
_PLAIN: Final[dict[str, str]] = {
    "response_rate": "the response rate",
    "item_nonresponse": "items left blank",
    "dont_know": '"Don\'t know" answers',
    "free_text_length": "free-text length",
    "completion_time": "completion time",
}


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
        "response_rate", "item_nonresponse", "dont_know",
        "free_text_length" or "completion_time".
    start, end : float
        The fitted trend line at the first and the last wave with data.
    statistic : float
        Dispersion-adjusted z (proportions) or t (free-text length, completion
        time); positive when the indicator rises.
    p_value : float
        One-sided p-value in the worsening direction (falling response rate,
        text length or completion time; rising blanks or "Don't know").
    worsening : bool
        ``p_value`` is below the per-indicator level ``alpha / 5``.
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
        The one-sided level each indicator was tested at, ``alpha / 5``.
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


def _level_codes(
    rate_worsening: npt.ArrayLike,
    drop: npt.ArrayLike,
    n_worsening: npt.ArrayLike,
    below: npt.ArrayLike,
    material_drop: float,
) -> npt.NDArray[np.int8]:
    """The rule from indicators to :data:`LEVELS` codes, for one team or many."""
    rate_falls = np.asarray(rate_worsening, dtype=bool) & (np.asarray(drop) >= material_drop)
    worse = np.asarray(n_worsening)
    fatigued = rate_falls | (worse >= 2)
    watch = (worse == 1) | np.asarray(below, dtype=bool)
    codes: npt.NDArray[np.int8] = np.where(fatigued, 2, np.where(watch, 1, 0)).astype(np.int8)
    return codes


def _waves_with_data(part: FloatArray, whole: FloatArray | None = None) -> int:
    present = ~np.isnan(part)
    if whole is not None:
        present &= ~np.isnan(whole) & (whole > 0)
    return int(np.count_nonzero(present))


def _trends(
    data: Inputs, response: ProportionTrend, min_waves: int, level_alpha: float
) -> list[IndicatorTrend]:
    """Each indicator with `min_waves` waves of data, response rate first."""
    p_falling = float(special.ndtr(response.z))
    trends = [
        IndicatorTrend(
            "response_rate",
            response.start,
            response.end,
            response.z,
            p_falling,
            p_falling < level_alpha,
            response.n_waves,
        )
    ]
    for name, (part, whole) in data.proportions.items():
        if _waves_with_data(part, whole) >= min_waves:
            trend = proportion_trend(part, whole)
            p_rising = float(special.ndtr(-trend.z))
            trends.append(
                IndicatorTrend(
                    name,
                    trend.start,
                    trend.end,
                    trend.z,
                    p_rising,
                    p_rising < level_alpha,
                    trend.n_waves,
                )
            )
    for name, values in data.means.items():
        if _waves_with_data(values) >= min_waves:
            line = mean_trend(values)
            trends.append(
                IndicatorTrend(
                    name,
                    line.start,
                    line.end,
                    line.t,
                    line.p_falling,
                    line.p_falling < level_alpha,
                    line.n_waves,
                )
            )
    return trends


def assess_fatigue(
    responded: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    items_blank: npt.ArrayLike | None = None,
    items_presented: npt.ArrayLike | None = None,
    dont_know: npt.ArrayLike | None = None,
    dont_know_offered: npt.ArrayLike | None = None,
    free_text_mean_length: npt.ArrayLike | None = None,
    median_completion_seconds: npt.ArrayLike | None = None,
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
    median_completion_seconds : array_like, 1-D, optional
        Per wave: median time to complete the pulse (NaN where not known).
    min_waves : int, optional
        Fewest waves with data needed to judge (default 4, at least 3); an
        optional indicator with fewer waves is not tested.
    alpha : float, optional
        Family-wise one-sided level over the five indicators (default 0.05);
        each is tested at ``alpha / 5``.
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
        above its whole; if a mean length or completion time is negative or infinite; if
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
    check_options(min_waves, alpha, material_drop)
    data = check_inputs(
        1,
        responded,
        invited,
        {
            "items_blank": items_blank,
            "items_presented": items_presented,
            "dont_know": dont_know,
            "dont_know_offered": dont_know_offered,
            "free_text_mean_length": free_text_mean_length,
            "median_completion_seconds": median_completion_seconds,
        },
    )
    level_alpha = alpha / len(_PLAIN)
    n_waves = _waves_with_data(data.responded, data.invited)
    if n_waves < min_waves:
        return FatigueAssessment(
            level="none",
            reasons=(f"Too few pulses to judge: {n_waves} with answers, {min_waves} needed.",),
            n_waves=n_waves,
            trends=(),
            alpha_per_indicator=level_alpha,
            response_rate_drop=float("nan"),
            dispersion=float("nan"),
            last_wave_below_limit=False,
        )

    response = proportion_trend(data.responded, data.invited)
    trends = _trends(data, response, min_waves, level_alpha)
    below, limit = last_rate_below_limit(response.rates, response.denominators)
    drop = response.start - response.end
    code = _level_codes(
        trends[0].worsening, drop, sum(t.worsening for t in trends), below, material_drop
    )
    reasons = [_reason(t, material_drop) for t in trends if t.worsening]
    if below:
        reasons.append(
            f"The latest response rate ({response.rates[-1]:.0%}) is below the lowest "
            f"expected from the earlier pulses ({max(0.0, limit):.0%})."
        )
    if not reasons:
        tested = ", ".join(_PLAIN[t.name] for t in trends)
        reasons.append(
            f"No sign of survey fatigue over {n_waves} pulses: no worsening trend in {tested}."
        )
    return FatigueAssessment(
        level=LEVELS[int(code)],
        reasons=tuple(reasons),
        n_waves=n_waves,
        trends=tuple(trends),
        alpha_per_indicator=level_alpha,
        response_rate_drop=drop,
        dispersion=response.dispersion,
        last_wave_below_limit=below,
    )


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _reason(t: IndicatorTrend, material_drop: float) -> str:
    """One sentence on a worsening indicator, for the lead."""
    span = f"over {t.n_waves} pulses (trend {_p_text(t.p_value)})"
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
    if t.name == "completion_time":
        return (
            f"Median completion time fell from about {t.start:.0f} to {t.end:.0f} seconds {span}."
        )
    return (
        f"Free-text comments shortened from about {t.start:.0f} to {t.end:.0f} characters {span}."
    )


# --------------------------------------------------------------------- batch


def assess_fatigue_batch(
    responded: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    items_blank: npt.ArrayLike | None = None,
    items_presented: npt.ArrayLike | None = None,
    dont_know: npt.ArrayLike | None = None,
    dont_know_offered: npt.ArrayLike | None = None,
    free_text_mean_length: npt.ArrayLike | None = None,
    median_completion_seconds: npt.ArrayLike | None = None,
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
    free_text_mean_length, median_completion_seconds : array_like, optional
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
    check_options(min_waves, alpha, material_drop)
    data = check_inputs(
        2,
        responded,
        invited,
        {
            "items_blank": items_blank,
            "items_presented": items_presented,
            "dont_know": dont_know,
            "dont_know_offered": dont_know_offered,
            "free_text_mean_length": free_text_mean_length,
            "median_completion_seconds": median_completion_seconds,
        },
    )
    level_alpha = alpha / len(_PLAIN)
    response = proportion_trend_batch(data.responded, data.invited)
    enough = response.n_waves >= min_waves
    p_rate = special.ndtr(response.z)
    # One row per indicator tested: its p-value and whether each team has the waves.
    p_values, tested = [p_rate], [enough]
    for part, whole in data.proportions.values():
        trend = proportion_trend_batch(part, whole)
        p_values.append(special.ndtr(-trend.z))
        tested.append(trend.n_waves >= min_waves)
    for values in data.means.values():
        p_falling, waves = mean_trend_batch(values)
        p_values.append(p_falling)
        tested.append(waves >= min_waves)
    worse = (
        np.array(tested)
        & enough[None, :]
        & (np.nan_to_num(np.array(p_values), nan=1.0) < level_alpha)
    )
    n_worse = worse.sum(axis=0)
    below = last_rate_below_limit_batch(data.responded, data.invited, response.used) & enough
    codes = _level_codes(worse[0], response.start - response.end, n_worse, below, material_drop)
    nan = np.float64(np.nan)
    return FatigueBatch(
        levels=np.where(enough, codes, 0).astype(np.int8),
        n_waves=response.n_waves,
        response_rate_start=np.where(enough, response.start, nan),
        response_rate_end=np.where(enough, response.end, nan),
        response_z=np.where(enough, response.z, nan),
        response_p=np.where(enough, p_rate, nan),
        n_worsening=n_worse.astype(np.int64),
        last_wave_below_limit=below,
    )
