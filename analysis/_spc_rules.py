"""The Making Data Count special-cause rules, for one series and for many at once.

:func:`special_causes` reads one segment point by point, as NHSRplotthedots'
``ptd_special_cause_type`` does; :func:`special_causes_batch` computes the same
flags for many series with numpy.  They live side by side so that a change to a
rule is made to both (``tests/analysis/test_spc.py`` checks they agree).

A rule result is a *direction* per point (+1 high, -1 low, 0 no special cause)
and the rule that decided it; :func:`label` and :func:`label_codes` turn
directions into the variation labels for an improvement direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

COMMON_CAUSE = "common_cause"
SPECIAL_CAUSE_IMPROVEMENT = "special_cause_improvement"
SPECIAL_CAUSE_CONCERN = "special_cause_concern"
SPECIAL_CAUSE_NEUTRAL_HIGH = "special_cause_neutral_high"
SPECIAL_CAUSE_NEUTRAL_LOW = "special_cause_neutral_low"
#: Label lookup for the integer codes of a batch (code -1 is a gap).
VARIATION_LABELS: tuple[str, ...] = (
    COMMON_CAUSE,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
)
GAP_CODE = -1

RULE_OUTSIDE_LIMITS = "outside_limits"
RULE_TREND = "trend"
RULE_TWO_IN_THREE = "two_in_three"
RULE_SHIFT = "shift"
#: The special-cause rules in order of precedence; also the lookup for rule codes.
RULES: tuple[str, ...] = (RULE_OUTSIDE_LIMITS, RULE_TREND, RULE_TWO_IN_THREE, RULE_SHIFT)

# Constants exactly as NHSRplotthedots writes them (limitclose <- 2 * (limit / 3)).
LIMIT = 2.66
NEAR = 2.0 * (LIMIT / 3.0)
SCREEN = 3.267
RUN = 7  # points in a shift or a trend

_CODE = {name: code for code, name in enumerate(VARIATION_LABELS)}


def label(direction: int, improvement: str) -> str:
    """Variation label of a point whose special cause points `direction` (+1/-1/0)."""
    if direction == 0:
        return COMMON_CAUSE
    if improvement == "neutral":
        return SPECIAL_CAUSE_NEUTRAL_HIGH if direction > 0 else SPECIAL_CAUSE_NEUTRAL_LOW
    oriented = direction if improvement == "increase" else -direction
    return SPECIAL_CAUSE_IMPROVEMENT if oriented > 0 else SPECIAL_CAUSE_CONCERN


def label_codes(direction: NDArray[np.int8], improvement: str) -> NDArray[np.int8]:
    """Vectorised :func:`label`: directions to :data:`VARIATION_LABELS` codes."""
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


# --------------------------------------------------------------------------- one series


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _in_a_run(run_ends: Sequence[bool]) -> list[bool]:
    """True at i when a run of :data:`RUN` points ending at some j >= i covers i."""
    n = len(run_ends)
    return [any(run_ends[j] for j in range(i, min(i + RUN, n))) for i in range(n)]


def _trend(y: Sequence[float]) -> tuple[list[bool], list[int]]:
    """Rule 2: points in a run of 7 strictly rising (or falling) points, and its direction."""
    n = len(y)
    steps = [_sign(y[i + 1] - y[i]) for i in range(n - 1)]
    # A trend ends at i when the 6 steps into it share a strict sign (a tie is 0).
    ends = [
        i >= RUN - 1 and len({*steps[i - (RUN - 1) : i]}) == 1 and steps[i - 1] != 0
        for i in range(n)
    ]
    in_trend = _in_a_run(ends)
    # R: "if a point is part of a trend either side, use right side": the step after
    # the point when the next point is also in a trend, else the step before it.
    # Only a step of +1 reads as increasing (R: ifelse(sdy == 1, "In", "De")).
    direction = []
    for i in range(n):
        if i + 1 < n and in_trend[i] and in_trend[i + 1]:
            step = steps[i]
        else:
            step = steps[i - 1] if i > 0 else 0
        direction.append(1 if step == 1 else -1)
    return in_trend, direction


def _two_in_three(close: Sequence[bool], side: Sequence[int]) -> list[bool]:
    """Rule 3: close points in a window of 3 with 2 close and all 3 on one side."""
    n = len(close)
    qualifying = [
        sum(close[s : s + 3]) >= 2 and abs(sum(side[s : s + 3])) == 3 for s in range(n - 2)
    ]
    return [
        close[i] and any(qualifying[s] for s in range(max(0, i - 2), min(i, n - 3) + 1))
        for i in range(n)
    ]


def _shift(side: Sequence[int]) -> list[bool]:
    """Rule 4: points in a run of 7 on one side of the mean (on the mean breaks it)."""
    ends = [
        i >= RUN - 1 and side[i] != 0 and all(side[j] == side[i] for j in range(i - (RUN - 1), i))
        for i in range(len(side))
    ]
    return _in_a_run(ends)


def special_causes(
    y: Sequence[float],
    centre: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    lower_near: Sequence[float],
    upper_near: Sequence[float],
) -> tuple[list[int], list[str | None]]:
    """Apply the four rules to consecutive present points of one segment.

    A transcription of NHSRplotthedots' ``ptd_special_cause_type``: returns, per
    point, the direction of its special cause (+1 high, -1 low, 0 none) and the rule
    that decided it, by precedence.  Limits may be NaN (too few points): then no
    point is outside or close, as every comparison with NaN is false.
    """
    n = len(y)
    outside = [y[i] > upper[i] or y[i] < lower[i] for i in range(n)]
    # A NaN centre (no point to compute it from) counts as "on the mean".
    side = [0 if math.isnan(centre[i]) else _sign(y[i] - centre[i]) for i in range(n)]
    close = [not outside[i] and (y[i] < lower_near[i] or y[i] > upper_near[i]) for i in range(n)]
    in_trend, trend_direction = _trend(y)
    in_two_of_three = _two_in_three(close, side)
    in_shift = _shift(side)

    directions: list[int] = []
    rules: list[str | None] = []
    for i in range(n):
        high_or_low = 1 if side[i] > 0 else -1
        if outside[i]:
            directions.append(high_or_low)
            rules.append(RULE_OUTSIDE_LIMITS)
        elif in_trend[i]:
            directions.append(trend_direction[i])
            rules.append(RULE_TREND)
        elif in_two_of_three[i]:
            directions.append(high_or_low)
            rules.append(RULE_TWO_IN_THREE)
        elif in_shift[i]:
            directions.append(high_or_low)
            rules.append(RULE_SHIFT)
        else:
            directions.append(0)
            rules.append(None)
    return directions, rules


# --------------------------------------------------------------------------- many series


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


def _trend_batch(c: NDArray[np.float64]) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    rows, cols = c.shape
    steps = np.nan_to_num(np.sign(np.diff(c, axis=1))).astype(np.int64)
    ends = np.zeros((rows, cols), bool)
    if cols >= RUN:
        rising = _window_sum((steps == 1).astype(np.int64), RUN - 1) == RUN - 1
        falling = _window_sum((steps == -1).astype(np.int64), RUN - 1) == RUN - 1
        ends[:, RUN - 1 :] = rising | falling
    in_trend = _covered_by(ends, RUN)
    step_after = np.concatenate([steps, np.zeros((rows, 1), np.int64)], axis=1)
    step_before = np.concatenate([np.zeros((rows, 1), np.int64), steps], axis=1)
    next_in_trend = np.concatenate([in_trend[:, 1:], np.zeros((rows, 1), bool)], axis=1)
    trend_step = np.where(in_trend & next_in_trend, step_after, step_before)
    direction: NDArray[np.int64] = np.where(trend_step == 1, 1, -1)
    return in_trend, direction


def _two_in_three_batch(close: NDArray[np.bool_], side: NDArray[np.int64]) -> NDArray[np.bool_]:
    rows, cols = close.shape
    if cols < 3:
        return np.zeros((rows, cols), bool)
    qualifying = (_window_sum(close.astype(np.int64), 3) >= 2) & (np.abs(_window_sum(side, 3)) == 3)
    padded = np.concatenate([np.zeros((rows, 2), bool), qualifying, np.zeros((rows, 2), bool)], 1)
    in_window = padded[:, 0:cols] | padded[:, 1 : cols + 1] | padded[:, 2 : cols + 2]
    result: NDArray[np.bool_] = close & in_window
    return result


def _shift_batch(side: NDArray[np.int64]) -> NDArray[np.bool_]:
    rows, cols = side.shape
    ends = np.zeros((rows, cols), bool)
    if cols >= RUN:
        above = _window_sum((side == 1).astype(np.int64), RUN) == RUN
        below = _window_sum((side == -1).astype(np.int64), RUN) == RUN
        ends[:, RUN - 1 :] = above | below
    return _covered_by(ends, RUN)


def special_causes_batch(
    c: NDArray[np.float64],
    centre: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    lower_near: NDArray[np.float64],
    upper_near: NDArray[np.float64],
) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
    """Vectorised :func:`special_causes` over rows of left-packed present values.

    `c` holds each row's present values first and NaN after them; the limit arrays
    broadcast against `c`.  Returns (direction, rule code) per slot.
    """
    outside = (c > upper) | (c < lower)  # NaN compares False
    side = np.nan_to_num(np.sign(c - centre)).astype(np.int64)
    close = ~outside & ((c < lower_near) | (c > upper_near))
    in_trend, trend_direction = _trend_batch(c)
    in_two_of_three = _two_in_three_batch(close, side)
    in_shift = _shift_batch(side)

    high_or_low = np.where(side > 0, 1, -1)
    flags = [outside, in_trend, in_two_of_three, in_shift]
    direction = np.select(
        flags, [high_or_low, trend_direction, high_or_low, high_or_low], default=0
    ).astype(np.int8)
    rule_code = np.select(flags, list(range(len(RULES))), default=-1).astype(np.int8)
    return direction, rule_code
