"""Argument checks for :mod:`analysis.change`; each error names the bad parameter."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis._change_verdicts import Wording
from analysis._validation import check_confidence, check_counts_array, check_finite_float

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Options:
    """The options every judgement takes, checked."""

    recent_waves: int
    baseline_waves: int
    alpha: float
    confidence: float
    wording: Wording


def _whole(value: object, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if int(value) < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}")
    return int(value)


def check_options(
    *,
    recent_waves: int,
    baseline_waves: int,
    min_answers: int,
    alpha: float,
    material_response_change: float,
    higher_is_better: bool,
    measure: str,
) -> Options:
    """Check the options shared by the ``judge_*`` functions."""
    minimum = _whole(min_answers, "min_answers", 2)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    confidence = check_confidence(1.0 - float(alpha))
    material = check_finite_float(material_response_change, "material_response_change")
    if not 0.0 <= material <= 1.0:
        raise ValueError(
            f"material_response_change must be between 0 and 1, got {material_response_change!r}"
        )
    return Options(
        recent_waves=_whole(recent_waves, "recent_waves", 1),
        baseline_waves=_whole(baseline_waves, "baseline_waves", 1),
        alpha=float(alpha),
        confidence=confidence,
        wording=Wording(str(measure), bool(higher_is_better), minimum, material),
    )


def check_scale_max(scale_max: float) -> float:
    top = check_finite_float(scale_max, "scale_max")
    if top <= 0:
        raise ValueError(f"scale_max must be a positive number, got {scale_max!r}")
    return top


def proportion_inputs(
    positive: npt.ArrayLike, answered: npt.ArrayLike, invited: npt.ArrayLike, prefix: str = ""
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-wave positive answers, answers and invited, as whole non-negative counts."""
    pos = check_counts_array(positive, f"{prefix}positive", ndim=1)
    ans = check_counts_array(answered, f"{prefix}answered", ndim=1)
    inv = check_counts_array(invited, f"{prefix}invited", ndim=1)
    if not pos.shape == ans.shape == inv.shape:
        raise ValueError(f"{prefix}positive, answered and invited must have the same length")
    if np.any(pos > ans):
        raise ValueError(f"{prefix}positive must not exceed {prefix}answered in any wave")
    if np.any(ans > inv):
        raise ValueError(f"{prefix}answered must not exceed {prefix}invited in any wave")
    return pos, ans, inv


def _scores(values: npt.ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers only") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D series")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and not negative")
    return arr


def mean_inputs(
    sums: npt.ArrayLike,
    sums_sq: npt.ArrayLike,
    n: npt.ArrayLike,
    invited: npt.ArrayLike,
    scale_max: float,
    prefix: str = "",
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-wave sums and sums of squares of scores in [0, scale_max], n and invited."""
    s = _scores(sums, f"{prefix}sums")
    ss = _scores(sums_sq, f"{prefix}sums_sq")
    cnt = check_counts_array(n, f"{prefix}n", ndim=1)
    inv = check_counts_array(invited, f"{prefix}invited", ndim=1)
    if not s.shape == ss.shape == cnt.shape == inv.shape:
        raise ValueError(f"{prefix}sums, sums_sq, n and invited must have the same length")
    if np.any(cnt > inv):
        raise ValueError(f"{prefix}n must not exceed {prefix}invited in any wave")
    # Scores in [0, top] bound the sum by top * n and the sum of squares by top * sum.
    tol = 1e-9 * np.maximum(1.0, ss)
    if np.any(s > scale_max * cnt + tol) or np.any(ss > scale_max * s + tol):
        raise ValueError(f"{prefix}sums and sums_sq are not possible for scores in 0-{scale_max:g}")
    return s, ss, cnt, inv


def count_teams(name: str, values: Sequence[npt.ArrayLike], m: int | None) -> int:
    """Number of teams in a family argument (one series per team)."""
    # Any sized collection of series will do, a 2-D array (teams x waves) included.
    if isinstance(values, str | bytes) or not hasattr(values, "__len__") or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence with one series per team")
    if m is not None and len(values) != m:
        raise ValueError(f"{name} must have one series per team ({m}), got {len(values)}")
    return len(values)


def team_labels(team_ids: Sequence[str] | None, m: int) -> tuple[str, ...]:
    if team_ids is None:
        return tuple(str(i) for i in range(m))
    if isinstance(team_ids, str) or not hasattr(team_ids, "__len__") or len(team_ids) != m:
        raise ValueError(f"team_ids must have one label per team ({m})")
    labels = tuple(team_ids)
    if len(set(labels)) != m:
        raise ValueError("team_ids must not repeat a label")
    return labels
