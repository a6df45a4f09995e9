"""Shared argument checks for the statistics in ``analysis``.

Every public function in ``analysis`` validates its arguments with these helpers so
that bad input always raises :class:`ValueError` naming the offending parameter
(never ``assert``, which ``python -O`` strips).  They are private to the package
but stable: any module in ``analysis`` may import them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "IMPROVEMENT_DIRECTIONS",
    "check_confidence",
    "check_count",
    "check_counts_array",
    "check_finite_float",
    "check_improvement",
    "check_series",
    "check_successes_n",
]

#: The improvement directions understood by the SPC functions.
IMPROVEMENT_DIRECTIONS = ("increase", "decrease", "neutral")


def check_count(value: object, name: str) -> int:
    """Return `value` as a Python ``int`` if it is a non-negative whole number.

    Accepts Python and numpy integers, and floats with an integral value (counts read
    from a database or a CSV often arrive as ``12.0``).  Rejects ``bool``, NaN,
    infinities, fractions and negative numbers.

    Raises
    ------
    ValueError
        If `value` is not a non-negative whole number; the message names `name`.
    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a whole number, not a boolean")
    if isinstance(value, numbers.Integral):
        result = int(value)
    elif isinstance(value, numbers.Real):
        as_float = float(value)
        if math.isnan(as_float):
            raise ValueError(f"{name} must be a whole number, got NaN")
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        result = int(as_float)
    else:
        raise ValueError(f"{name} must be a whole number, got {type(value).__name__}")
    if result < 0:
        raise ValueError(f"{name} must not be negative, got {result}")
    return result


def check_successes_n(
    successes: object, n: object, successes_name: str = "successes", n_name: str = "n"
) -> tuple[int, int]:
    """Validate a count of successes out of `n` trials; ``n == 0`` is refused.

    Raises
    ------
    ValueError
        If either is not a non-negative whole number, if ``n == 0`` or if
        ``successes > n``.
    """
    k = check_count(successes, successes_name)
    total = check_count(n, n_name)
    if total == 0:
        raise ValueError(f"{n_name} must be positive: a proportion of zero answers is undefined")
    if k > total:
        raise ValueError(f"{successes_name} ({k}) must not exceed {n_name} ({total})")
    return k, total


def _float_array(values: ArrayLike, name: str, ndim: int | None) -> NDArray[np.float64]:
    """`values` as a non-empty float array of `ndim` dimensions (any, if None)."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers only") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got {arr.ndim} dimension(s)")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    return arr


def check_series(values: ArrayLike, name: str, ndim: int) -> NDArray[np.float64]:
    """Return `values` as a float array of measurements, NaN marking a gap.

    Unlike :func:`check_counts_array`, negative and fractional values are fine.

    Raises
    ------
    ValueError
        If the array is empty, has the wrong number of dimensions, holds something
        that is not a number, or holds an infinity.
    """
    arr = _float_array(values, name, ndim)
    if np.isinf(arr).any():
        raise ValueError(f"{name} must not contain infinite values (NaN marks a gap)")
    return arr


def check_counts_array(
    values: ArrayLike, name: str, *, allow_nan: bool = False, ndim: int | None = None
) -> NDArray[np.float64]:
    """Return `values` as a float array of non-negative whole numbers.

    Parameters
    ----------
    values : array_like
        The counts.
    name : str
        Parameter name used in error messages.
    allow_nan : bool, optional
        If true, NaN entries are kept (callers treat them as missing); otherwise they
        are refused.
    ndim : int, optional
        Required number of dimensions.

    Raises
    ------
    ValueError
        If the array is empty, has the wrong number of dimensions, holds something
        that is not a number, or holds a negative, fractional or infinite value
        (or NaN when `allow_nan` is false).
    """
    arr = _float_array(values, name, ndim)
    nan = np.isnan(arr)
    if nan.any() and not allow_nan:
        raise ValueError(f"{name} must not contain NaN")
    present = arr[~nan]
    if np.isinf(present).any():
        raise ValueError(f"{name} must not contain infinite values")
    if (present < 0).any():
        raise ValueError(f"{name} must not contain negative counts")
    if (present != np.floor(present)).any():
        raise ValueError(f"{name} must hold whole numbers")
    return arr


def check_confidence(confidence: object) -> float:
    """Return `confidence` as a float strictly between 0 and 1.

    Raises
    ------
    ValueError
        If `confidence` is not a real number in the open interval (0, 1).
    """
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise ValueError("confidence must be a number between 0 and 1")
    level = float(confidence)
    if not 0.0 < level < 1.0:  # also refuses NaN
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return level


def check_finite_float(value: object, name: str) -> float:
    """Return `value` as a finite float.

    Raises
    ------
    ValueError
        If `value` is not a real number, or is NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def check_improvement(improvement: object, allowed: Sequence[str] = IMPROVEMENT_DIRECTIONS) -> str:
    """Return `improvement` if it is one of `allowed`.

    Raises
    ------
    ValueError
        If `improvement` is not one of the allowed directions.
    """
    if not isinstance(improvement, str) or improvement not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"improvement must be one of {choices}, got {improvement!r}")
    return improvement
