"""XmR charts for many series at once (re-exported by :mod:`analysis.spc`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis._spc_rules import (
    GAP_CODE,
    LIMIT,
    NEAR,
    RULES,
    SCREEN,
    VARIATION_LABELS,
    label_codes,
    special_causes_batch,
)
from analysis._validation import check_improvement, check_series


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
        Label lookup, :data:`analysis.spc.VARIATION_LABELS`.
    rule_code : ndarray of int8
        Shape (series, waves): index into `rules`, -1 for none or a gap.
    rules : tuple of str
        Rule lookup, :data:`analysis.spc.RULES`.
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
        """Labels of one row as :func:`analysis.spc.xmr` gives them (None for a gap)."""
        return tuple(None if c < 0 else self.labels[c] for c in self.variation_code[row])

    def rule(self, row: int) -> tuple[str | None, ...]:
        """Deciding rule of each point of one row (None for none or a gap)."""
        return tuple(None if c < 0 else self.rules[c] for c in self.rule_code[row])


def _safe_mean(total: NDArray[np.float64], count: NDArray[np.int64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
    return result


def _mean_moving_range(packed: NDArray[np.float64], screen_outliers: bool) -> NDArray[np.float64]:
    """Per row: mean of the moving ranges of the left-packed values, screened or not."""
    ranges = np.abs(np.diff(packed, axis=1))  # NaN past each row's last present value
    valid = ~np.isnan(ranges)
    ranges0 = np.where(valid, ranges, 0.0)
    raw = _safe_mean(ranges0.sum(axis=1), valid.sum(axis=1))
    keep = valid
    if screen_outliers:
        # raw == 0 (a flat row): nothing to screen, as in analysis.spc.xmr.
        keep = valid & ~((raw > 0)[:, None] & (ranges >= SCREEN * raw[:, None]))
    return _safe_mean(np.where(keep, ranges0, 0.0).sum(axis=1), keep.sum(axis=1))


def xmr_batch(
    values: ArrayLike, improvement: str = "increase", screen_outliers: bool = True
) -> XmRBatch:
    """XmR charts for many series at once, vectorised over rows.

    Gives, row by row, the same limits (to rounding, within 1e-12) and the same
    labels and rules as :func:`analysis.spc.xmr` with the same `improvement` and
    `screen_outliers` and no rebasing, fixing or target; see there for the
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
    .. [1] NHSRplotthedots 0.2.x (see :func:`analysis.spc.xmr`).
    """
    v = check_series(values, "values", 2)
    direction_name = check_improvement(improvement)
    rows, cols = v.shape

    present = ~np.isnan(v)
    counts = present.sum(axis=1)
    # Pack each row's present values to the left, keeping their order.
    order = np.argsort(~present, axis=1, kind="stable")
    packed = np.take_along_axis(v, order, axis=1)
    # Measured from the row's first value, as xmr does (see its "origin" comment).
    origin = np.where(counts > 0, packed[:, 0], 0.0)
    shifted = packed - origin[:, None]

    centre = _safe_mean(np.nan_to_num(shifted).sum(axis=1), counts)
    amr = _mean_moving_range(shifted, screen_outliers)
    lower, upper = centre - LIMIT * amr, centre + LIMIT * amr
    lower_near, upper_near = centre - NEAR * amr, centre + NEAR * amr
    direction, rule_packed = special_causes_batch(
        shifted,
        centre[:, None],
        lower[:, None],
        upper[:, None],
        lower_near[:, None],
        upper_near[:, None],
    )
    label_packed = label_codes(direction, direction_name)

    # Put each packed slot back in its wave's column; gaps keep GAP_CODE / -1.
    slot_present = np.arange(cols)[None, :] < counts[:, None]
    row_index = np.broadcast_to(np.arange(rows)[:, None], (rows, cols))
    variation_code = np.full((rows, cols), GAP_CODE, np.int8)
    rule_code = np.full((rows, cols), -1, np.int8)
    variation_code[row_index[slot_present], order[slot_present]] = label_packed[slot_present]
    rule_code[row_index[slot_present], order[slot_present]] = rule_packed[slot_present]

    # Back from "measured from the first value" to the series' own scale.
    mean, lower, upper = centre + origin, lower + origin, upper + origin
    lower_near, upper_near = lower_near + origin, upper_near + origin
    for array in (mean, lower, upper, lower_near, upper_near, amr, variation_code, rule_code):
        array.setflags(write=False)
    return XmRBatch(
        mean=mean,
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
