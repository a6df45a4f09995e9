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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from analysis._pcharts import ProportionChart, laney_p_prime_chart, p_chart
from analysis._spc_batch import XmRBatch, xmr_batch
from analysis._spc_rules import (
    COMMON_CAUSE,
    LIMIT,
    NEAR,
    RULE_OUTSIDE_LIMITS,
    RULE_SHIFT,
    RULE_TREND,
    RULE_TWO_IN_THREE,
    RULES,
    SCREEN,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
    VARIATION_LABELS,
    label,
    special_causes,
)
from analysis._validation import check_finite_float, check_improvement, check_series

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

CONSISTENT_PASS = "consistent_pass"  # nosec B105  # an SPC assurance label, not a password
CONSISTENT_FAIL = "consistent_fail"
INCONSISTENT = "inconsistent"

TRIAL_POINTS = 13  # a segment with fewer present points has trial limits
MIN_FIX_AFTER = 12  # NHSRplotthedots refuses fix_after_n_points below 12
_LIMIT_NAMES = ("lower", "upper", "lower_near", "upper_near")  # the order of _Segment.limits


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


def _check_rebase(rebase_at: Sequence[int], length: int) -> list[int]:
    if isinstance(rebase_at, str) or not isinstance(rebase_at, Iterable):
        raise ValueError(f"rebase_at must be a sequence of positions, got {rebase_at!r}")
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
    if int(fix_after) < MIN_FIX_AFTER:
        raise ValueError(f"fix_after must be at least {MIN_FIX_AFTER}, got {int(fix_after)}")
    return int(fix_after)


@dataclass(frozen=True, slots=True)
class _Segment:
    """Limits of one segment, measured from the series' origin, and its moving ranges."""

    centre: float
    mean_moving_range: float
    moving_range: list[float]  # one per present point after the first
    screened: list[bool]  # the same, True where left out of the mean moving range

    @property
    def limits(self) -> tuple[float, float, float, float]:
        """(lower, upper, lower near, upper near)."""
        spread, near = LIMIT * self.mean_moving_range, NEAR * self.mean_moving_range
        return self.centre - spread, self.centre + spread, self.centre - near, self.centre + near


def _mean_or_nan(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _segment_limits(present: list[float], in_fix: list[bool], screen_outliers: bool) -> _Segment:
    """Mean and mean moving range from the points of the fix window (all, if unfixed).

    NHSRplotthedots: ``fix_y`` keeps the first `fix_after` rows; a moving range
    counts when both its points are in the window, which in time order is when
    the later one is.
    """
    fixed = [v for v, keep in zip(present, in_fix, strict=True) if keep]
    ranges = [abs(present[j] - present[j - 1]) for j in range(1, len(present))]
    counted = in_fix[1:]
    raw_amr = _mean_or_nan([r for r, c in zip(ranges, counted, strict=True) if c])
    screen = screen_outliers and raw_amr > 0  # raw_amr == 0: nothing to screen
    dropped = [screen and c and r >= SCREEN * raw_amr for r, c in zip(ranges, counted, strict=True)]
    kept = [r for r, c, d in zip(ranges, counted, dropped, strict=True) if c and not d]
    return _Segment(_mean_or_nan(fixed), _mean_or_nan(kept), ranges, dropped)


def _assurance(improvement: str, target: float | None, lower: float, upper: float) -> str | None:
    """Assurance of the last segment's limits against `target` (NHSRplotthedots)."""
    if target is None or improvement == "neutral":
        return None
    increasing = improvement == "increase"
    if target > upper:
        return CONSISTENT_FAIL if increasing else CONSISTENT_PASS
    if target < lower:
        return CONSISTENT_PASS if increasing else CONSISTENT_FAIL
    return INCONSISTENT  # also when the limits are NaN, as in R's case_when


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

    The arithmetic is done on the values measured from the first present one and
    the limits shifted back after: adding a constant to an integer series then
    leaves every label exactly as it was, where rounding could otherwise tip a
    point lying exactly on a limit one way or the other.

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
        unknown; `rebase_at` is not a sequence, or a position in it is repeated,
        not an integer or not in
        ``1 .. len(values) - 1``; `fix_after` is below 12; or `target` is not finite.

    References
    ----------
    .. [1] NHS England, "Making Data Count: strengthening your decisions" (2019).
    .. [2] NHSRplotthedots 0.2.x, ``ptd_spc_standard``, ``ptd_special_cause_type``,
       ``ptd_point_type`` and ``ptd_calculate_assurance_type``.
    .. [3] L. S. Nelson, "Control charts for individual measurements", J. Quality
       Technology 14 (1982) 172-173 (screening moving ranges at 3.267).
    """
    y = check_series(values, "values", 1)
    direction_name = check_improvement(improvement)
    starts = [0, *_check_rebase(rebase_at, y.size)]
    fix = _check_fix_after(fix_after)
    goal = None if target is None else check_finite_float(target, "target")

    size = y.size
    present_at = np.flatnonzero(~np.isnan(y))
    # The origin: every comparison is made on values measured from it, so that
    # the labels of an integer series do not depend on where the series sits.
    origin = float(y[present_at[0]]) if present_at.size else 0.0
    shifted = y - origin
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
    for index, (first, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        positions = [int(i) for i in present_at if first <= i < stop]
        present = [float(shifted[i]) for i in positions]
        trial.append(len(present) < TRIAL_POINTS)
        cut = stop if fix is None else min(stop, first + fix)
        segment = _segment_limits(present, [i < cut for i in positions], screen_outliers)
        limits = segment.limits
        on_scale = {
            "mean": segment.centre + origin,
            **{name: limit + origin for name, limit in zip(_LIMIT_NAMES, limits, strict=True)},
            "amr": segment.mean_moving_range,
        }
        for i in range(first, stop):
            segment_of[i] = index
            for key, value in on_scale.items():
                per_point[key][i] = value
        for position, moving_range, dropped in zip(
            positions[1:], segment.moving_range, segment.screened, strict=True
        ):
            per_point["mr"][position] = moving_range
            screened[position] = dropped

        count = len(present)
        directions, rules = special_causes(
            present, [segment.centre] * count, *([limit] * count for limit in limits)
        )
        for position, direction, reason in zip(positions, directions, rules, strict=True):
            variation[position] = label(direction, direction_name)
            rule[position] = reason

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
        assurance=_assurance(direction_name, goal, per_point["lower"][-1], per_point["upper"][-1]),
        target=goal,
        trial_limits=trial[-1],
        segment_trial_limits=tuple(trial),
    )
