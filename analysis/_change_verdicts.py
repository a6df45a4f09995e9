"""From a comparison and the family's cutoff to a verdict and its sentence.

The rules are in the docstring of :mod:`analysis.change`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis._change_compare import Comparison


@dataclass(frozen=True, slots=True)
class Wording:
    """What the sentences and the verdict's direction need from the options."""

    measure: str
    higher_is_better: bool
    min_answers: int
    material_response_change: float


def bh_cutoff(p_values: npt.NDArray[np.float64], alpha: float) -> float:
    """The Benjamini-Hochberg rejection cutoff ``k* alpha / m`` (0 if none).

    A p-value is rejected exactly when it is at most this cutoff, which is the
    same as its adjusted p-value being at most ``alpha``.
    """
    finite = np.sort(p_values[~np.isnan(p_values)])
    m = finite.size
    if m == 0:
        return 0.0
    levels = alpha * np.arange(1, m + 1) / m
    passing = np.nonzero(finite <= levels)[0]
    return float(levels[passing[-1]]) if passing.size else 0.0


def _value(kind: str, value: float) -> str:
    return f"{value:.0%}" if kind == "proportion" else f"{value:.1f}"


def _change(kind: str, value: float) -> str:
    if kind == "proportion":
        return f"{100.0 * value:+.0f} points"
    return f"{value:+.1f}"


def _too_few(c: Comparison, wording: Wording) -> str:
    if c.reason_too_few == "no baseline wave":
        return (
            f"Not enough closed waves to judge a change in {wording.measure} yet: "
            "there is no earlier wave to compare with."
        )
    return (
        f"Too few answers to judge a change in {wording.measure} ({c.before.n} before, "
        f"{c.after.n} recently; at least {wording.min_answers} needed on each side)."
    )


def _interval(c: Comparison) -> str:
    return (
        f"{c.confidence:.0%} interval {_change(c.kind, c.test.low)} to "
        f"{_change(c.kind, c.test.high)}"
    )


def verdict(c: Comparison, cutoff: float, family_size: int, wording: Wording) -> tuple[str, str]:
    """The verdict on one team and the sentence a lead reads."""
    kind, measure = c.kind, wording.measure
    if c.reason_too_few:
        return "too_few_answers", _too_few(c, wording)
    before, after = _value(kind, c.before.mean), _value(kind, c.after.mean)
    if not c.test.p_value <= cutoff:
        family = f", allowing for the {family_size} teams compared" if family_size > 1 else ""
        return "no_credible_change", (
            f"No credible change in {measure}: {before} before, {after} recently (difference "
            f"{_change(kind, c.difference)}; {_interval(c)}{family})."
        )
    rose = c.difference > 0.0
    change = f"{measure} {'rose' if rose else 'fell'} from {before} to {after}"
    change = change[:1].upper() + change[1:]
    response_moved = (
        abs(c.after.response_rate - c.before.response_rate) >= wording.material_response_change
    )
    worst_case_low, worst_case_high = c.difference_bounds
    worst_case_includes_zero = worst_case_low <= 0.0 <= worst_case_high
    selection_explains = not c.test.p_selection <= cutoff
    if response_moved and worst_case_includes_zero and selection_explains:
        return "apparent_change", (
            f"{change}, but the response rate went from {c.before.response_rate:.0%} to "
            f"{c.after.response_rate:.0%}, so the change may reflect who answered rather "
            "than a real change."
        )
    return ("improved" if rose == wording.higher_is_better else "worsened"), (
        f"{change} ({_change(kind, c.difference)}; {_interval(c)}): a change this large is "
        "unlikely to be chance."
    )
