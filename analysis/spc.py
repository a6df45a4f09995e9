"""Statistical process control charts as NHS England's "Making Data Count" reads them.

:func:`xmr` reproduces the XmR ("plot the dots") chart of the R package
NHSRplotthedots 0.2.x: its limits, its four special-cause rules with their
precedence, its variation labels and its assurance.  :func:`xmr_batch` computes the
same chart for many series at once with numpy.  :func:`p_chart` and
:func:`laney_p_prime_chart` chart a proportion whose denominator varies from wave
to wave, with the same rules and labels.

The variation labels (``variation``) are the strings NHSRplotthedots uses as
``point_type``: :data:`COMMON_CAUSE`, :data:`SPECIAL_CAUSE_IMPROVEMENT`,
:data:`SPECIAL_CAUSE_CONCERN`, and for ``improvement="neutral"``
:data:`SPECIAL_CAUSE_NEUTRAL_HIGH` / :data:`SPECIAL_CAUSE_NEUTRAL_LOW`.

References
----------
.. [1] NHS England and NHS Improvement, "Making Data Count: getting started" and
   "Making Data Count: strengthening your decisions" (2019).
.. [2] NHS-R Community, NHSRplotthedots 0.2.x, R/ptd_spc_standard.R,
   R/ptd_calculate_point_type.R, R/ptd_calculate_assurance_type.R,
   R/ptd_add_short_group_warnings.R, https://github.com/nhs-r-community/NHSRplotthedots
.. [3] D. J. Wheeler, "Understanding Variation: The Key to Managing Chaos", 2nd ed.,
   SPC Press (2000).
.. [4] D. B. Laney, "Improved control charts for attributes", Quality Engineering
   14 (2002) 531-537.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis._validation import check_counts_array, check_finite_float, check_improvement

__all__ = [
    "COMMON_CAUSE",
    "CONSISTENT_FAIL",
    "CONSISTENT_PASS",
    "INCONSISTENT",
    "RULE_OUTSIDE_LIMITS",
    "RULE_SHIFT",
    "RULE_TREND",
    "RULE_TWO_IN_THREE",
    "RULES",
    "SPECIAL_CAUSE_CONCERN",
    "SPECIAL_CAUSE_IMPROVEMENT",
    "SPECIAL_CAUSE_NEUTRAL_HIGH",
    "SPECIAL_CAUSE_NEUTRAL_LOW",
    "VARIATION_LABELS",
    "ProportionChart",
    "XmRBatch",
    "XmRChart",
    "laney_p_prime_chart",
    "p_chart",
    "xmr",
    "xmr_batch",
]

COMMON_CAUSE = "common_cause"
SPECIAL_CAUSE_IMPROVEMENT = "special_cause_improvement"
SPECIAL_CAUSE_CONCERN = "special_cause_concern"
SPECIAL_CAUSE_NEUTRAL_HIGH = "special_cause_neutral_high"
SPECIAL_CAUSE_NEUTRAL_LOW = "special_cause_neutral_low"
#: Label lookup for the integer codes of :class:`XmRBatch` (code -1 is a gap).
VARIATION_LABELS: tuple[str, ...] = (
    COMMON_CAUSE,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
)

RULE_OUTSIDE_LIMITS = "outside_limits"
RULE_TREND = "trend"
RULE_TWO_IN_THREE = "two_in_three"
RULE_SHIFT = "shift"
#: The special-cause rules in order of precedence; also the lookup for rule codes.
RULES: tuple[str, ...] = (RULE_OUTSIDE_LIMITS, RULE_TREND, RULE_TWO_IN_THREE, RULE_SHIFT)

CONSISTENT_PASS = "consistent_pass"
CONSISTENT_FAIL = "consistent_fail"
INCONSISTENT = "inconsistent"

# Constants exactly as NHSRplotthedots writes them (limitclose <- 2 * (limit / 3)).
_LIMIT = 2.66
_NEAR = 2.0 * (_LIMIT / 3.0)
_SCREEN = 3.267
_RUN = 7  # points in a shift or a trend
_TRIAL_POINTS = 13  # a segment with fewer points has trial limits
_MIN_FIX_AFTER = 12
_D2 = 1.128  # bias constant of a moving range of two (Laney 2002 uses 1.128)

_CODE = {label: code for code, label in enumerate(VARIATION_LABELS)}
_GAP_CODE = -1


def _label(direction: int, improvement: str) -> str:
    """Variation label of a point whose special cause points `direction` (+1/-1/0)."""
    if direction == 0:
        return COMMON_CAUSE
    if improvement == "neutral":
        return SPECIAL_CAUSE_NEUTRAL_HIGH if direction > 0 else SPECIAL_CAUSE_NEUTRAL_LOW
    oriented = direction if improvement == "increase" else -direction
    return SPECIAL_CAUSE_IMPROVEMENT if oriented > 0 else SPECIAL_CAUSE_CONCERN


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _special_causes(
    y: Sequence[float],
    centre: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    lower_near: Sequence[float],
    upper_near: Sequence[float],
) -> tuple[list[int], list[str | None]]:
    """Apply the four rules to consecutive present points of one segment.

    A line-by-line transcription of NHSRplotthedots' ``ptd_special_cause_type``:
    returns, per point, the direction of its special cause (+1 high, -1 low, 0 none)
    and the rule that decided it.  Limits may be NaN (too few points): then no point
    is outside or close, as every comparison with NaN is false.
    """
    n = len(y)
    outside = [y[i] > upper[i] or y[i] < lower[i] for i in range(n)]
    # A NaN centre (no point to compute it from) counts as "on the mean".
    relative = [0 if math.isnan(centre[i]) else _sign(y[i] - centre[i]) for i in range(n)]
    close = [not outside[i] and (y[i] < lower_near[i] or y[i] > upper_near[i]) for i in range(n)]
    steps = [_sign(y[i + 1] - y[i]) for i in range(n - 1)]

    # Rule 2: a trend ends at i when the 6 steps into it share a strict sign.
    trend_end = [0] * n
    for i in range(_RUN - 1, n):
        window = steps[i - (_RUN - 1) : i]
        if all(d == 1 for d in window):
            trend_end[i] = 1
        elif all(d == -1 for d in window):
            trend_end[i] = -1
    in_trend = [any(trend_end[j] != 0 for j in range(i, min(i + _RUN, n))) for i in range(n)]
    # R: "if a point is part of a trend either side, use right side": the step after
    # the point when the next point is also in a trend, else the step before it.
    # Only a step of +1 reads as increasing (R: ifelse(sdy == 1, "In", "De")).
    trend_direction = []
    for i in range(n):
        if i + 1 < n and in_trend[i] and in_trend[i + 1]:
            step = steps[i]
        else:
            step = steps[i - 1] if i > 0 else 0
        trend_direction.append(1 if step == 1 else -1)

    # Rule 3: 2 of 3 consecutive points close to a limit, all 3 on one side.
    qualifying = [
        sum(close[s : s + 3]) >= 2 and abs(sum(relative[s : s + 3])) == 3 for s in range(n - 2)
    ]
    in_two_of_three = [
        close[i] and any(qualifying[s] for s in range(max(0, i - 2), min(i, n - 3) + 1))
        for i in range(n)
    ]

    # Rule 4: a shift of 7 points on one side (a point on the mean breaks it).
    shift_end = [
        i >= _RUN - 1
        and relative[i] != 0
        and all(relative[j] == relative[i] for j in range(i - (_RUN - 1), i))
        for i in range(n)
    ]
    in_shift = [any(shift_end[j] for j in range(i, min(i + _RUN, n))) for i in range(n)]

    directions: list[int] = []
    rules: list[str | None] = []
    for i in range(n):
        if outside[i]:
            directions.append(1 if relative[i] == 1 else -1)
            rules.append(RULE_OUTSIDE_LIMITS)
        elif in_trend[i]:
            directions.append(trend_direction[i])
            rules.append(RULE_TREND)
        elif in_two_of_three[i]:
            directions.append(1 if relative[i] > 0 else -1)
            rules.append(RULE_TWO_IN_THREE)
        elif in_shift[i]:
            directions.append(1 if relative[i] > 0 else -1)
            rules.append(RULE_SHIFT)
        else:
            directions.append(0)
            rules.append(None)
    return directions, rules


def _mean_or_nan(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


# --------------------------------------------------------------------------- XmR


@dataclass(frozen=True, slots=True)
class XmRChart:
    """An XmR chart: one entry per point in every per-point tuple.

    Attributes
    ----------
    values : tuple of float
        The series charted (NaN marks a gap).
    improvement : str
        ``"increase"``, ``"decrease"`` or ``"neutral"``.
    mean, lower, upper : tuple of float
        Centre line and process limits of each point's segment.
    lower_near, upper_near : tuple of float
        Near limits (two thirds of the way from the mean to a process limit).
    mean_moving_range : tuple of float
        Mean moving range (after screening) of each point's segment.
    moving_range : tuple of float
        ``|x_i - x_prev|`` with ``x_prev`` the previous present point of the same
        segment; NaN for a segment's first present point and for gaps.
    moving_range_screened : tuple of bool
        True where the moving range was left out of the mean moving range as an
        outlier (``>= 3.267`` times the unscreened mean).
    segment : tuple of int
        Segment (rebase group) of each point, from 0.
    variation : tuple of str or None
        Variation label per point; None for a gap.
    rule : tuple of str or None
        The rule that decided each special cause (one of :data:`RULES`), by
        precedence; None for common cause and gaps.
    assurance : str or None
        ``"consistent_pass"``, ``"consistent_fail"``, ``"inconsistent"``, or None
        without a target or for a neutral measure.
    target : float or None
        The target the assurance was judged against.
    trial_limits : bool
        True when the last segment has fewer than 13 present points.
    segment_trial_limits : tuple of bool
        The same flag for every segment.
    """

    values: tuple[float, ...]
    improvement: str
    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    lower_near: tuple[float, ...]
    upper_near: tuple[float, ...]
    mean_moving_range: tuple[float, ...]
    moving_range: tuple[float, ...]
    moving_range_screened: tuple[bool, ...]
    segment: tuple[int, ...]
    variation: tuple[str | None, ...]
    rule: tuple[str | None, ...]
    assurance: str | None
    target: float | None
    trial_limits: bool
    segment_trial_limits: tuple[bool, ...]


def _check_series(values: ArrayLike, name: str, ndim: int) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers only") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got {arr.ndim} dimension(s)")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.isinf(arr).any():
        raise ValueError(f"{name} must not contain infinite values (NaN marks a gap)")
    return arr


def _check_rebase(rebase_at: Sequence[int], length: int) -> list[int]:
    positions: list[int] = []
    for p in rebase_at:
        if isinstance(p, bool | np.bool_) or not isinstance(p, numbers.Integral):
            raise ValueError(f"rebase_at must hold integer positions, got {p!r}")
        if not 1 <= int(p) <= length - 1:
            raise ValueError(
                f"rebase_at positions must be between 1 and len(values) - 1, got {int(p)}"
            )
        positions.append(int(p))
    if len(set(positions)) != len(positions):
        raise ValueError("rebase_at must not repeat a position")
    return sorted(positions)


def _check_fix_after(fix_after: int | None) -> int | None:
    if fix_after is None:
        return None
    if isinstance(fix_after, bool | np.bool_) or not isinstance(fix_after, numbers.Integral):
        raise ValueError(f"fix_after must be an integer or None, got {fix_after!r}")
    if int(fix_after) < _MIN_FIX_AFTER:
        raise ValueError(f"fix_after must be at least {_MIN_FIX_AFTER}, got {int(fix_after)}")
    return int(fix_after)


def xmr(
    values: ArrayLike,
    improvement: str = "increase",
    screen_outliers: bool = True,
    rebase_at: Sequence[int] = (),
    fix_after: int | None = None,
    target: float | None = None,
) -> XmRChart:
    r"""XmR chart with the Making Data Count special-cause rules (NHSRplotthedots).

    Within each segment, with :math:`\bar x` the mean of the points and
    :math:`MR_i = |x_i - x_{i-1}|`,

    .. math::

        \overline{MR} = \operatorname{mean}(MR_i), \qquad
        \text{limits} = \bar x \pm 2.66\,\overline{MR}, \qquad
        \text{near limits} = \bar x \pm \tfrac{2}{3}\,2.66\,\overline{MR}.

    With `screen_outliers`, moving ranges :math:`\ge 3.267\,\overline{MR}` are
    dropped and :math:`\overline{MR}` recomputed once (Nelson's screening, as
    NHSRplotthedots does).  The rules, in order of precedence (a point takes the
    label of the first rule that flags it):

    1. a point above the upper or below the lower process limit;
    2. a trend: 7 points each strictly above (or below) the one before; a tie breaks
       it, it may cross the mean, every point of it is flagged, in the direction of
       the trend (a point where two trends meet takes the later one's direction);
    3. 2 of 3 consecutive points beyond the same near limit but inside the process
       limits, all 3 on the same side of the mean; only the close points are flagged;
    4. a shift: 7 points in a row on one side of the mean (a point exactly on the
       mean breaks it); every point of it is flagged.

    A high special cause is improvement when `improvement` is ``"increase"`` and
    concern when ``"decrease"``; for ``"neutral"`` it is labelled high or low.

    Differences from NHSRplotthedots, both for inputs it cannot take:

    * **Gaps.**  NaN values (waves hidden by suppression) are treated as gaps: they
      are left out of the mean, a moving range joins the two present points either
      side of a gap, and the rules run over the present points in order (so a trend
      or shift may span a gap).  A gap's label and rule are None; its limits are
      still given.  NHSRplotthedots stops with an error on missing values.
    * **Flat segments.**  When every moving range in a segment is 0, screening
      keeps them (R would drop them all and give NaN limits), so the limits
      equal the mean and any departure from it is outside the limits.

    Parameters
    ----------
    values : array_like, 1-D
        The measure, one value per wave in time order; NaN for a gap.
    improvement : {"increase", "decrease", "neutral"}, optional
        Which direction is better.  Default ``"increase"``.
    screen_outliers : bool, optional
        Screen moving ranges before computing the limits.  Default True.
    rebase_at : sequence of int, optional
        0-based positions of the first point of each new segment.  Limits and rules
        are computed separately in each segment; no rule spans a rebase.
    fix_after : int, optional
        Compute each segment's mean and limits from its first `fix_after`
        positions only (at least 12); the rules still apply to every point.
    target : float, optional
        Target for the assurance of the last segment: for ``"increase"`` a target
        above the upper limit is ``"consistent_fail"``, below the lower limit
        ``"consistent_pass"``, otherwise ``"inconsistent"``; mirrored for
        ``"decrease"``; None for ``"neutral"`` or no target.

    Returns
    -------
    XmRChart
        ``trial_limits`` is True when the last segment has fewer than 13 present
        points (NHSRplotthedots' short-group warning).

    Raises
    ------
    ValueError
        If `values` is empty, not 1-D or holds an infinity; `improvement` is
        unknown; a `rebase_at` position is repeated, not an integer or not in
        ``1 .. len(values) - 1``; `fix_after` is below 12; or `target` is not finite.

    References
    ----------
    .. [1] NHS England, "Making Data Count: strengthening your decisions" (2019).
    .. [2] NHSRplotthedots 0.2.x, ``ptd_spc_standard``, ``ptd_special_cause_type``,
       ``ptd_point_type`` and ``ptd_calculate_assurance_type``.
    .. [3] L. S. Nelson, "Control charts for individual measurements", J. Quality
       Technology 14 (1982) 172-173 (screening moving ranges at 3.267).
    """
    y = _check_series(values, "values", 1)
    direction_name = check_improvement(improvement)
    starts = [0, *_check_rebase(rebase_at, y.size)]
    fix = _check_fix_after(fix_after)
    goal = None if target is None else check_finite_float(target, "target")

    size = y.size
    per_point: dict[str, list[float]] = {
        key: [math.nan] * size
        for key in ("mean", "lower", "upper", "lower_near", "upper_near", "amr", "mr")
    }
    screened = [False] * size
    segment_of = [0] * size
    variation: list[str | None] = [None] * size
    rule: list[str | None] = [None] * size
    trial: list[bool] = []

    bounds = [*starts, size]
    for segment_index in range(len(starts)):
        first, stop = bounds[segment_index], bounds[segment_index + 1]
        positions = [i for i in range(first, stop) if not math.isnan(y[i])]
        present = [float(y[i]) for i in positions]
        trial.append(len(present) < _TRIAL_POINTS)
        for i in range(first, stop):
            segment_of[i] = segment_index

        # Limits come from the fix window: the first `fix` positions of the segment.
        cut = stop if fix is None else min(stop, first + fix)
        in_fix = [p < cut for p in positions]
        fixed_values = [v for v, keep in zip(present, in_fix, strict=True) if keep]
        centre = _mean_or_nan(fixed_values)
        ranges = [abs(present[j] - present[j - 1]) for j in range(1, len(present))]
        # A moving range counts when both its points are in the fix window.
        range_in_fix = in_fix[1:]
        raw_amr = _mean_or_nan([r for r, f in zip(ranges, range_in_fix, strict=True) if f])
        screen = screen_outliers and raw_amr > 0  # raw_amr == 0: nothing to screen
        dropped = [
            screen and f and r >= _SCREEN * raw_amr
            for r, f in zip(ranges, range_in_fix, strict=True)
        ]
        kept = [r for r, f, d in zip(ranges, range_in_fix, dropped, strict=True) if f and not d]
        amr = _mean_or_nan(kept)

        lower = centre - _LIMIT * amr
        upper = centre + _LIMIT * amr
        lower_near = centre - _NEAR * amr
        upper_near = centre + _NEAR * amr
        for i in range(first, stop):
            per_point["mean"][i] = centre
            per_point["lower"][i] = lower
            per_point["upper"][i] = upper
            per_point["lower_near"][i] = lower_near
            per_point["upper_near"][i] = upper_near
            per_point["amr"][i] = amr
        for j in range(1, len(present)):
            per_point["mr"][positions[j]] = ranges[j - 1]
            screened[positions[j]] = dropped[j - 1]

        count = len(present)
        directions, rules = _special_causes(
            present,
            [centre] * count,
            [lower] * count,
            [upper] * count,
            [lower_near] * count,
            [upper_near] * count,
        )
        for position, direction, reason in zip(positions, directions, rules, strict=True):
            variation[position] = _label(direction, direction_name)
            rule[position] = reason

    assurance = None
    if goal is not None and direction_name != "neutral":
        last_lower, last_upper = per_point["lower"][-1], per_point["upper"][-1]
        increasing = direction_name == "increase"
        if goal > last_upper:
            assurance = CONSISTENT_FAIL if increasing else CONSISTENT_PASS
        elif goal < last_lower:
            assurance = CONSISTENT_PASS if increasing else CONSISTENT_FAIL
        else:  # also when the limits are NaN, as in R's case_when
            assurance = INCONSISTENT

    return XmRChart(
        values=tuple(float(v) for v in y),
        improvement=direction_name,
        mean=tuple(per_point["mean"]),
        lower=tuple(per_point["lower"]),
        upper=tuple(per_point["upper"]),
        lower_near=tuple(per_point["lower_near"]),
        upper_near=tuple(per_point["upper_near"]),
        mean_moving_range=tuple(per_point["amr"]),
        moving_range=tuple(per_point["mr"]),
        moving_range_screened=tuple(screened),
        segment=tuple(segment_of),
        variation=tuple(variation),
        rule=tuple(rule),
        assurance=assurance,
        target=goal,
        trial_limits=trial[-1],
        segment_trial_limits=tuple(trial),
    )


# --------------------------------------------------------------------------- batch


@dataclass(frozen=True, slots=True)
class XmRBatch:
    """XmR charts of many series (one per row), as :func:`xmr_batch` returns them.

    Attributes
    ----------
    mean, lower, upper, lower_near, upper_near, mean_moving_range : ndarray
        Shape (series,): one value per row.
    variation_code : ndarray of int8
        Shape (series, waves): index into `labels`, -1 for a gap.
    labels : tuple of str
        Label lookup, :data:`VARIATION_LABELS`.
    rule_code : ndarray of int8
        Shape (series, waves): index into `rules`, -1 for none or a gap.
    rules : tuple of str
        Rule lookup, :data:`RULES`.
    improvement : str
        The improvement direction used.
    """

    mean: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    lower_near: NDArray[np.float64]
    upper_near: NDArray[np.float64]
    mean_moving_range: NDArray[np.float64]
    variation_code: NDArray[np.int8]
    labels: tuple[str, ...]
    rule_code: NDArray[np.int8]
    rules: tuple[str, ...]
    improvement: str

    def variation(self, row: int) -> tuple[str | None, ...]:
        """Labels of one row as :func:`xmr` gives them (None for a gap)."""
        return tuple(None if c < 0 else self.labels[c] for c in self.variation_code[row])

    def rule(self, row: int) -> tuple[str | None, ...]:
        """Deciding rule of each point of one row (None for none or a gap)."""
        return tuple(None if c < 0 else self.rules[c] for c in self.rule_code[row])


def _window_sum(flags: NDArray[np.int64], width: int) -> NDArray[np.int64]:
    """Sums over every window of `width` consecutive columns (shape: cols - width + 1)."""
    padded = np.concatenate([np.zeros((flags.shape[0], 1), np.int64), flags], axis=1)
    cumulative = np.cumsum(padded, axis=1)
    result: NDArray[np.int64] = cumulative[:, width:] - cumulative[:, :-width]
    return result


def _covered_by(ends: NDArray[np.bool_], width: int) -> NDArray[np.bool_]:
    """True at i when a window of `width` ending at some j in i .. i+width-1 is set."""
    rows, cols = ends.shape
    padded = np.concatenate([ends.astype(np.int64), np.zeros((rows, width - 1), np.int64)], 1)
    result: NDArray[np.bool_] = _window_sum(padded, width)[:, :cols] > 0
    return result


def _safe_mean(total: NDArray[np.float64], count: NDArray[np.int64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    return result


def _batch_directions(
    c: NDArray[np.float64],
    centre: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    lower_near: NDArray[np.float64],
    upper_near: NDArray[np.float64],
) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    """Vectorised :func:`_special_causes` over rows of left-packed present values.

    `c` holds each row's present values first and NaN after them; the limit arrays
    broadcast against `c`.  Returns (direction, rule code) per slot.
    """
    rows, cols = c.shape
    outside = (c > upper) | (c < lower)  # NaN compares False
    relative = np.nan_to_num(np.sign(c - centre)).astype(np.int64)
    close = ~outside & ((c < lower_near) | (c > upper_near))

    steps = np.nan_to_num(np.sign(np.diff(c, axis=1))).astype(np.int64)
    trend_end = np.zeros((rows, cols), np.int64)
    if cols >= _RUN:
        rising = _window_sum((steps == 1).astype(np.int64), _RUN - 1) == _RUN - 1
        falling = _window_sum((steps == -1).astype(np.int64), _RUN - 1) == _RUN - 1
        trend_end[:, _RUN - 1 :] = rising.astype(np.int64) - falling.astype(np.int64)
    in_trend = _covered_by(trend_end != 0, _RUN)
    step_after = np.concatenate([steps, np.zeros((rows, 1), np.int64)], axis=1)
    step_before = np.concatenate([np.zeros((rows, 1), np.int64), steps], axis=1)
    next_in_trend = np.concatenate([in_trend[:, 1:], np.zeros((rows, 1), bool)], axis=1)
    trend_step = np.where(in_trend & next_in_trend, step_after, step_before)
    trend_direction = np.where(trend_step == 1, 1, -1)

    in_two_of_three = np.zeros((rows, cols), bool)
    if cols >= 3:
        qualifying = (_window_sum(close.astype(np.int64), 3) >= 2) & (
            np.abs(_window_sum(relative, 3)) == 3
        )
        padded = np.concatenate(
            [np.zeros((rows, 2), bool), qualifying, np.zeros((rows, 2), bool)], axis=1
        )
        in_window = padded[:, 0:cols] | padded[:, 1 : cols + 1] | padded[:, 2 : cols + 2]
        in_two_of_three = close & in_window

    shift_end = np.zeros((rows, cols), bool)
    if cols >= _RUN:
        above = _window_sum((relative == 1).astype(np.int64), _RUN) == _RUN
        below = _window_sum((relative == -1).astype(np.int64), _RUN) == _RUN
        shift_end[:, _RUN - 1 :] = above | below
    in_shift = _covered_by(shift_end, _RUN)

    side = np.where(relative > 0, 1, -1)
    direction = np.select(
        [outside, in_trend, in_two_of_three, in_shift],
        [np.where(relative == 1, 1, -1), trend_direction, side, side],
        default=0,
    ).astype(np.int8)
    rule_code = np.select(
        [outside, in_trend, in_two_of_three, in_shift], [0, 1, 2, 3], default=-1
    ).astype(np.int8)
    return direction, rule_code


def _direction_codes(direction: NDArray[np.int8], improvement: str) -> NDArray[np.int8]:
    """Map directions (+1/-1/0) to :data:`VARIATION_LABELS` codes."""
    if improvement == "neutral":
        high, low = _CODE[SPECIAL_CAUSE_NEUTRAL_HIGH], _CODE[SPECIAL_CAUSE_NEUTRAL_LOW]
    elif improvement == "increase":
        high, low = _CODE[SPECIAL_CAUSE_IMPROVEMENT], _CODE[SPECIAL_CAUSE_CONCERN]
    else:
        high, low = _CODE[SPECIAL_CAUSE_CONCERN], _CODE[SPECIAL_CAUSE_IMPROVEMENT]
    codes: NDArray[np.int8] = np.select(
        [direction > 0, direction < 0], [high, low], default=_CODE[COMMON_CAUSE]
    ).astype(np.int8)
    return codes


def xmr_batch(
    values: ArrayLike, improvement: str = "increase", screen_outliers: bool = True
) -> XmRBatch:
    """XmR charts for many series at once, vectorised over rows.

    Gives, row by row, the same limits (to rounding, within 1e-12) and the same
    labels and rules as :func:`xmr` with the same `improvement` and
    `screen_outliers` and no rebasing, fixing or target; see :func:`xmr` for the
    formulae, the rules and the handling of NaN gaps.

    Parameters
    ----------
    values : array_like, shape (series, waves)
        One series per row; NaN marks a gap.  A row of gaps only gives NaN limits.
    improvement : {"increase", "decrease", "neutral"}, optional
        Which direction is better.  Default ``"increase"``.
    screen_outliers : bool, optional
        Screen moving ranges before computing the limits.  Default True.

    Returns
    -------
    XmRBatch

    Raises
    ------
    ValueError
        If `values` is empty, not 2-D or holds an infinity, or `improvement` is
        unknown.

    References
    ----------
    .. [1] NHSRplotthedots 0.2.x (see :func:`xmr`).
    """
    v = _check_series(values, "values", 2)
    direction_name = check_improvement(improvement)
    rows, cols = v.shape

    present = ~np.isnan(v)
    counts = present.sum(axis=1)
    # Pack each row's present values to the left, keeping their order.
    order = np.argsort(~present, axis=1, kind="stable")
    c = np.take_along_axis(v, order, axis=1)

    centre = _safe_mean(np.where(present, v, 0.0).sum(axis=1), counts)
    ranges = np.abs(np.diff(c, axis=1))  # NaN past each row's last present value
    valid = ~np.isnan(ranges)
    ranges0 = np.where(valid, ranges, 0.0)
    raw_amr = _safe_mean(ranges0.sum(axis=1), valid.sum(axis=1))
    if screen_outliers:
        screen = (raw_amr > 0)[:, None]
        keep = valid & ~(screen & (ranges >= _SCREEN * raw_amr[:, None]))
    else:
        keep = valid
    amr = _safe_mean(np.where(keep, ranges0, 0.0).sum(axis=1), keep.sum(axis=1))

    lower = centre - _LIMIT * amr
    upper = centre + _LIMIT * amr
    lower_near = centre - _NEAR * amr
    upper_near = centre + _NEAR * amr
    direction, rule_packed = _batch_directions(
        c,
        centre[:, None],
        lower[:, None],
        upper[:, None],
        lower_near[:, None],
        upper_near[:, None],
    )
    label_packed = _direction_codes(direction, direction_name)

    slot_present = np.arange(cols)[None, :] < counts[:, None]
    row_index = np.broadcast_to(np.arange(rows)[:, None], (rows, cols))
    variation_code = np.full((rows, cols), _GAP_CODE, np.int8)
    rule_code = np.full((rows, cols), -1, np.int8)
    variation_code[row_index[slot_present], order[slot_present]] = label_packed[slot_present]
    rule_code[row_index[slot_present], order[slot_present]] = rule_packed[slot_present]

    arrays = (centre, lower, upper, lower_near, upper_near, amr, variation_code, rule_code)
    for array in arrays:
        array.setflags(write=False)
    return XmRBatch(
        mean=centre,
        lower=lower,
        upper=upper,
        lower_near=lower_near,
        upper_near=upper_near,
        mean_moving_range=amr,
        variation_code=variation_code,
        labels=VARIATION_LABELS,
        rule_code=rule_code,
        rules=RULES,
        improvement=direction_name,
    )


# --------------------------------------------------------------------------- p charts


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
        As in :class:`XmRChart`.
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


def _proportion_chart(
    successes: ArrayLike, n: ArrayLike, improvement: str, laney: bool
) -> ProportionChart:
    k = check_counts_array(successes, "successes", allow_nan=True, ndim=1)
    total = check_counts_array(n, "n", allow_nan=True, ndim=1)
    if k.shape != total.shape:
        raise ValueError("successes and n must have the same length")
    if np.any(k > total):
        raise ValueError("successes must not exceed n")
    direction_name = check_improvement(improvement)
    present = ~np.isnan(k) & ~np.isnan(total) & (total > 0)
    if not present.any():
        raise ValueError("n must have answers in at least one wave")

    x, m = k[present], total[present]
    p_bar = float(x.sum() / m.sum())
    p = x / m
    binomial_sigma = np.sqrt(p_bar * (1.0 - p_bar) / m)
    if laney:
        if binomial_sigma[0] > 0:
            z = (p - p_bar) / binomial_sigma
        else:  # p_bar is 0 or 1: every wave equals it
            z = np.zeros_like(p)
        sigma_z = float(np.mean(np.abs(np.diff(z))) / _D2) if z.size > 1 else math.nan
    else:
        sigma_z = 1.0
    sigma = binomial_sigma * sigma_z
    lower, upper = p_bar - 3.0 * sigma, p_bar + 3.0 * sigma
    lower_near, upper_near = p_bar - 2.0 * sigma, p_bar + 2.0 * sigma
    count = int(present.sum())
    directions, rules = _special_causes(
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
        variation[position] = _label(direction, direction_name)
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

    with the same four special-cause rules, precedence and labels as :func:`xmr`
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
    :func:`xmr`.  With fewer than two present waves :math:`\sigma_z` is NaN.

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
