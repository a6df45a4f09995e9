"""Argument checks for :mod:`analysis.fatigue`; each error names the bad parameter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis._validation import check_counts_array

FloatArray = npt.NDArray[np.float64]


def check_options(min_waves: int, alpha: float, material_drop: float) -> None:
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


def _means_array(
    values: npt.ArrayLike | None, name: str, shape: tuple[int, ...]
) -> FloatArray | None:
    if values is None:
        return None
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers only") from exc
    if arr.shape != shape:
        raise ValueError(f"{name} must have the shape of responded {shape}, got {arr.shape}")
    if np.any(np.isinf(arr)) or np.any(arr[~np.isnan(arr)] < 0):
        raise ValueError(f"{name} must be finite (NaN for missing) and not negative")
    return arr


@dataclass(frozen=True, slots=True)
class Inputs:
    """Validated per-wave series, NaN for a wave without data."""

    responded: FloatArray
    invited: FloatArray
    proportions: dict[str, tuple[FloatArray, FloatArray]]  # name -> (part, whole)
    means: dict[str, FloatArray]


def check_inputs(
    ndim: int,
    responded: npt.ArrayLike,
    invited: npt.ArrayLike,
    optional: dict[str, npt.ArrayLike | None],
) -> Inputs:
    """Check the series of :func:`assess_fatigue` (ndim 1) or its batch (ndim 2)."""
    resp = check_counts_array(responded, "responded", allow_nan=True, ndim=ndim)
    inv = check_counts_array(invited, "invited", allow_nan=True, ndim=ndim)
    if resp.shape != inv.shape:
        if ndim == 1:
            raise ValueError(f"responded has {resp.size} waves but invited has {inv.size}")
        raise ValueError(f"responded has shape {resp.shape} but invited has {inv.shape}")
    if np.any(resp > inv):
        raise ValueError("responded must not exceed invited in any wave")
    shape = resp.shape
    proportions = {}
    for name, part, whole in (
        ("item_nonresponse", "items_blank", "items_presented"),
        ("dont_know", "dont_know", "dont_know_offered"),
    ):
        pair = _pair(optional[part], optional[whole], part, whole, shape)
        if pair is not None:
            proportions[name] = pair
    means = {}
    for name, argument in (
        ("free_text_length", "free_text_mean_length"),
        ("completion_time", "median_completion_seconds"),
    ):
        values = _means_array(optional[argument], argument, shape)
        if values is not None:
            means[name] = values
    return Inputs(resp, inv, proportions, means)
