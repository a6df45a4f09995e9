"""Patient activation, single item (NAPC): distribution, level and paired change.

Patients answer "How good are you at taking care of your health?" with
1 Not very, 2 Okay, 3 Good or 4 Excellent; *low activation* is 1 or 2.  NAPC
offers the item as a quick, licence-free alternative to the 13-item Patient
Activation Measure (Hibbard).

Ratings are collected per consultation, so frequent attenders would dominate a
count per rating.  Two units are therefore offered:

``unit="rating"``
    every rating counts once (all ratings, with or without a pseudonym);
``unit="patient"``
    each pseudonymised patient counts once per period, with their **last**
    rating in the period (their most recent state); ratings without a
    pseudonym cannot be attributed to a patient and are left out.

Input is either rating rows, ``(rating, patient pseudonym or None, period)``
in chronological order (:func:`activation_by_period`,
:func:`activation_summary` for one period, :func:`paired_activation_change`),
or aggregates already counted per rating or per patient and period, as
counts of ratings 1-4 (:func:`activation_from_counts`).

References
----------
.. [1] National Association of Primary Care, *Creating Integrated
       Neighbourhood Teams: Learning from Experience* (N. Edwards,
       12 November 2024), "Enabling and measuring engagement", Figure 2.
.. [2] J. H. Hibbard and J. Greene, "What the evidence shows about patient
       activation", *Health Affairs* 32(2):207-214, 2013.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from analysis._validation import check_confidence, check_count
from analysis.proportions import ProportionInterval, wilson_interval

__all__ = [
    "LOW_RATINGS",
    "NAPC_FIGURES",
    "ActivationSummary",
    "NapcFigures",
    "PairedActivationChange",
    "activation_by_period",
    "activation_from_counts",
    "activation_summary",
    "paired_activation_change",
]

LOW_RATINGS: Final[tuple[int, int]] = (1, 2)
"""Ratings that count as low activation."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_LEVELS: Final[FloatArray] = np.array([1.0, 2.0, 3.0, 4.0])


@dataclass(frozen=True, slots=True)
class NapcFigures:
    """NAPC's correlational figures for a 1-point rise in activation.

    They are correlations reported by NAPC, per patient per year: show them
    beside a change with their source and caveat, never multiplied up into a
    saving claimed for a team.

    Attributes
    ----------
    gp_contacts_per_point : float
        "Up to" this many fewer GP contacts per patient per year per point.
    care_demand_gbp_per_point : float
        About this much less primary and secondary care demand (GBP) per
        patient per year per point.
    gp_contacts_wording, care_demand_wording : str
        NAPC's own wording (Figure 2 of the source).
    summary : str
        The two figures in one plain sentence.
    source : str
        Citation.
    caveat : str
        Why the figures are not a claimed saving.
    """

    gp_contacts_per_point: float = 4.0
    care_demand_gbp_per_point: float = 327.0
    gp_contacts_wording: str = (
        "A 1-point rise in activation is correlated to a saving of up to 4 GP contacts "
        "per patient per year"
    )
    care_demand_wording: str = (
        "A 1-point rise in activation is correlated to primary and secondary care demand "
        "savings of £327 per patient per year"
    )
    summary: str = (
        "Per patient per year, a 1-point rise in activation goes with up to 4 fewer GP "
        "contacts and about £327 less primary and secondary care demand."
    )
    source: str = (
        "National Association of Primary Care (NAPC), 'Creating Integrated Neighbourhood "
        "Teams: Learning from Experience', N. Edwards, 12 November 2024, Figure 2 "
        "'If We Improve Patient Activation What Could This Achieve?'"
    )
    caveat: str = (
        "These figures are correlations reported by NAPC, per patient per year. They are "
        "not a saving measured by Pulse or made by this team, and must not be added up "
        "across patients as one."
    )


NAPC_FIGURES: Final[NapcFigures] = NapcFigures()
"""The single instance to show beside activation change."""


@dataclass(frozen=True, slots=True)
class ActivationSummary:
    """Distribution and level of activation for one period.

    Attributes
    ----------
    unit : {"rating", "patient"}
        What one count is.
    n : int
        Ratings or patients counted.
    counts : ndarray of int, shape (4,)
        Counts of ratings 1, 2, 3, 4.
    proportions : ndarray of float, shape (4,)
        ``counts / n``.
    mean : float
        Mean rating, 1-4.
    mean_low, mean_high : float
        Student t interval for the mean (NaN when ``n < 2``).
    low_activation : ProportionInterval
        Share rated 1 or 2 with its Wilson interval.
    confidence : float
        Level of both intervals.
    n_without_pseudonym : int
        Ratings left out of a per-patient count for want of a pseudonym
        (always 0 for ``unit="rating"``).
    """

    unit: str
    n: int
    counts: IntArray
    proportions: FloatArray
    mean: float
    mean_low: float
    mean_high: float
    low_activation: ProportionInterval
    confidence: float
    n_without_pseudonym: int = 0


@dataclass(frozen=True, slots=True)
class PairedActivationChange:
    """Change in activation for patients rated in two periods.

    Attributes
    ----------
    n_pairs : int
        Patients with a rating in both periods.
    baseline_mean, followup_mean : float
        Mean first rating in the earlier period, mean last rating in the later.
    mean_change : float
        Mean of ``follow-up - baseline``.
    change_low, change_high : float
        Paired t interval for ``mean_change`` (NaN when ``n_pairs < 2``).
    statistic : float
        Wilcoxon signed-rank statistic as scipy reports it, min(W+, W-).
    p_value : float
        Two-sided Wilcoxon signed-rank p-value.
    n_up, n_same, n_down : int
        Patients whose rating rose, stayed, fell.
    moved_up : ProportionInterval
        Share who moved up at least one level, with its Wilson interval.
    baseline_low_share : float
        Share of pairs whose baseline was 1 or 2.
    regression_to_mean_caution : bool
        True when the baseline is low (see :func:`paired_activation_change`).
    caution : str or None
        Plain-English caution when the flag is set.
    confidence : float
        Level of the intervals.
    napc : NapcFigures
        NAPC's per-patient correlational figures, with source and caveat.
    """

    n_pairs: int
    baseline_mean: float
    followup_mean: float
    mean_change: float
    change_low: float
    change_high: float
    statistic: float
    p_value: float
    n_up: int
    n_same: int
    n_down: int
    moved_up: ProportionInterval
    baseline_low_share: float
    regression_to_mean_caution: bool
    caution: str | None
    confidence: float
    napc: NapcFigures = field(default=NAPC_FIGURES)


def _t_interval(mean: float, sd: float, n: int, confidence: float) -> tuple[float, float]:
    """Student t interval ``mean +- t_{n-1} sd / sqrt(n)``; NaN when n < 2."""
    if n < 2:
        return float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * sd / np.sqrt(n)
    return mean - half, mean + half


def activation_from_counts(
    counts: npt.ArrayLike,
    *,
    unit: Literal["rating", "patient"] = "rating",
    confidence: float = 0.95,
    n_without_pseudonym: int = 0,
) -> ActivationSummary:
    """Activation distribution, mean and share low from counts of ratings 1-4.

    Parameters
    ----------
    counts : array_like of int, shape (4,)
        Number of ratings (or patients) at 1, 2, 3 and 4.
    unit : {"rating", "patient"}, optional
        What one count is (default "rating"); recorded in the result.
    confidence : float, optional
        Level of the intervals (default 0.95).
    n_without_pseudonym : int, optional
        Passed through to the result.

    Returns
    -------
    ActivationSummary

    Raises
    ------
    ValueError
        If ``counts`` does not have four entries, is negative, not whole or
        sums to zero; if ``unit`` is unknown; if ``confidence`` is not in
        (0, 1); if ``n_without_pseudonym`` is negative.

    Notes
    -----
    With :math:`c_k` the count at rating :math:`k` and :math:`n = \\sum c_k`:
    :math:`\\bar x = \\sum k c_k / n`,
    :math:`s^2 = \\sum c_k (k - \\bar x)^2 / (n - 1)`, interval
    :math:`\\bar x \\pm t_{n-1,\\,1-\\alpha/2}\\, s / \\sqrt n`; the share low is
    :math:`(c_1 + c_2)/n` with the Wilson score interval.

    Examples
    --------
    >>> from analysis.activation import activation_from_counts
    >>> s = activation_from_counts([2, 3, 4, 1])
    >>> s.mean, s.low_activation.estimate
    (2.4, 0.5)
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.shape != (4,):
        raise ValueError(f"counts must have 4 entries (ratings 1-4), got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("counts must be finite (no NaN)")
    if np.any(c < 0):
        raise ValueError("counts must not be negative")
    if np.any(c != np.floor(c)):
        raise ValueError("counts must be whole numbers")
    if unit not in ("rating", "patient"):
        raise ValueError(f"unit must be 'rating' or 'patient', got {unit!r}")
    confidence = check_confidence(confidence)
    n_without_pseudonym = check_count(n_without_pseudonym, "n_without_pseudonym")
    n = int(c.sum())
    if n == 0:
        raise ValueError("counts sum to zero: there is nothing to summarise")
    mean = float(np.dot(c, _LEVELS) / n)
    sd = float(np.sqrt(np.dot(c, (_LEVELS - mean) ** 2) / (n - 1))) if n > 1 else float("nan")
    low, high = _t_interval(mean, sd, n, confidence)
    counts_out, proportions = c.astype(np.int64), c / n
    for array in (counts_out, proportions):  # the result is frozen: so are its arrays
        array.setflags(write=False)
    return ActivationSummary(
        unit=unit,
        n=n,
        counts=counts_out,
        proportions=proportions,
        mean=mean,
        mean_low=low,
        mean_high=high,
        low_activation=wilson_interval(int(c[0] + c[1]), n, confidence),
        confidence=confidence,
        n_without_pseudonym=n_without_pseudonym,
    )


def _check_ratings(ratings: npt.ArrayLike) -> IntArray:
    r = np.asarray(ratings, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"ratings must be 1-D, got shape {r.shape}")
    if r.size == 0:
        raise ValueError("ratings is empty")
    if not np.all(np.isin(r, _LEVELS)):
        raise ValueError("ratings must be whole numbers from 1 to 4 (no NaN)")
    return r.astype(np.int64)


def _check_parallel(name: str, values: Sequence[object], n: int) -> None:
    if isinstance(values, str) or not hasattr(values, "__len__") or len(values) != n:
        raise ValueError(f"{name} must be a sequence with one entry per rating ({n})")


def activation_summary(
    ratings: npt.ArrayLike,
    *,
    patients: Sequence[Hashable | None] | None = None,
    unit: Literal["rating", "patient"] = "rating",
    confidence: float = 0.95,
) -> ActivationSummary:
    """Activation in one period, counted per rating or per patient.

    Parameters
    ----------
    ratings : array_like of int
        Ratings 1-4 given in the period, in chronological order.
    patients : sequence of hashable or None, optional
        Patient pseudonym of each rating, None where there is none.  Needed
        for ``unit="patient"``.
    unit : {"rating", "patient"}, optional
        ``"rating"`` (default) counts every rating; ``"patient"`` counts each
        pseudonymised patient once, with their last rating in the period, and
        leaves out ratings without a pseudonym (their number is reported).
    confidence : float, optional
        Level of the intervals (default 0.95).

    Returns
    -------
    ActivationSummary

    Raises
    ------
    ValueError
        If ``ratings`` is empty, not 1-D or holds anything but 1-4; if
        ``patients`` does not match ``ratings`` or is missing for
        ``unit="patient"``; if no rating has a pseudonym under
        ``unit="patient"``; if ``unit`` is unknown; if ``confidence`` is not in
        (0, 1).

    See Also
    --------
    activation_from_counts : the same from counts of ratings 1-4.
    """
    r = _check_ratings(ratings)
    if unit not in ("rating", "patient"):
        raise ValueError(f"unit must be 'rating' or 'patient', got {unit!r}")
    if patients is not None:
        _check_parallel("patients", patients, r.size)
    if unit == "rating":
        counts = np.bincount(r - 1, minlength=4)
        return activation_from_counts(counts, unit="rating", confidence=confidence)
    if patients is None:
        raise ValueError("patients is required when unit='patient'")
    last: dict[Hashable, int] = {}
    without = 0
    for rating, patient in zip(r.tolist(), patients, strict=True):
        if patient is None:
            without += 1
        else:
            last[patient] = rating  # later rows overwrite: the last rating wins
    if not last:
        raise ValueError("no rating has a patient pseudonym, so none can be counted per patient")
    counts = np.bincount(np.fromiter(last.values(), dtype=np.int64) - 1, minlength=4)
    return activation_from_counts(
        counts, unit="patient", confidence=confidence, n_without_pseudonym=without
    )


def activation_by_period(
    ratings: npt.ArrayLike,
    periods: Sequence[Hashable],
    *,
    patients: Sequence[Hashable | None] | None = None,
    unit: Literal["rating", "patient"] = "rating",
    confidence: float = 0.95,
) -> dict[Hashable, ActivationSummary]:
    """Activation per period from rating rows, counted per rating or per patient.

    Parameters
    ----------
    ratings : array_like of int
        Ratings 1-4, one per consultation, in chronological order.
    periods : sequence of hashable
        Period label of each rating (e.g. "2025-Q1").
    patients : sequence of hashable or None, optional
        Patient pseudonym of each rating, None where there is none.  Needed
        for ``unit="patient"``.
    unit : {"rating", "patient"}, optional
        As :func:`activation_summary`; with ``"patient"`` a patient counts
        once in each period they were rated in, with their last rating there.
    confidence : float, optional
        Level of the intervals (default 0.95).

    Returns
    -------
    dict
        Period label -> :class:`ActivationSummary`, in the order periods
        first appear.  A period whose ratings all lack a pseudonym is left out
        under ``unit="patient"``.

    Raises
    ------
    ValueError
        As :func:`activation_summary`, and if ``periods`` does not match
        ``ratings``.
    """
    r = _check_ratings(ratings)
    _check_parallel("periods", periods, r.size)
    if patients is not None:
        _check_parallel("patients", patients, r.size)
    elif unit == "patient":
        raise ValueError("patients is required when unit='patient'")
    rows: dict[Hashable, list[int]] = {}
    for i, period in enumerate(periods):
        rows.setdefault(period, []).append(i)
    out: dict[Hashable, ActivationSummary] = {}
    for period, index in rows.items():
        who = None if patients is None else [patients[i] for i in index]
        if unit == "patient" and who is not None and all(p is None for p in who):
            continue
        out[period] = activation_summary(r[index], patients=who, unit=unit, confidence=confidence)
    return out


def paired_activation_change(
    ratings: npt.ArrayLike,
    patients: Sequence[Hashable | None],
    periods: Sequence[Hashable],
    *,
    earlier: Hashable,
    later: Hashable,
    confidence: float = 0.95,
) -> PairedActivationChange:
    """Paired change in activation for patients rated in two periods.

    Parameters
    ----------
    ratings : array_like of int
        Ratings 1-4, one per consultation, in chronological order.
    patients : sequence of hashable or None
        Patient pseudonym of each rating; None where there is none (such
        ratings cannot be paired and are ignored).
    periods : sequence of hashable
        Period label of each rating.
    earlier, later : hashable
        The two period labels to compare.
    confidence : float, optional
        Level of the intervals (default 0.95).

    Returns
    -------
    PairedActivationChange

    Raises
    ------
    ValueError
        If ``ratings`` is empty or holds anything but 1-4; if ``patients`` or
        ``periods`` does not match ``ratings``; if ``earlier == later``; if no
        patient has a rating in both periods; if ``confidence`` is not in
        (0, 1).

    Notes
    -----
    **The pair.**  A patient's baseline is their *first* rating in the earlier
    period and their follow-up their *last* rating in the later period, so
    each patient counts once however often they attend.

    **Tests and intervals.**  With differences :math:`d_i` = follow-up -
    baseline, the mean change has the paired t interval :math:`\\bar d \\pm
    t_{n-1,\\,1-\\alpha/2}\\, s_d/\\sqrt n`.  The p-value is the two-sided
    Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) with zero differences
    dropped before ranking (Wilcoxon's method, ``zero_method="wilcox"``, as
    R's ``wilcox.test``), and, since a four-point scale always has ties, the
    normal approximation with tie-corrected variance and continuity
    correction (R: ``wilcox.test(after, before, paired = TRUE, exact =
    FALSE, correct = TRUE)``).  When every difference is zero the p-value is
    1.  The share who moved up has the Wilson interval.

    **Regression to the mean.**  Patients who start lowest tend to rise most
    (NAPC [1]_), partly because a low rating is often a bad day that will not
    recur.  The caution is raised when the mean baseline is 2 or below or
    more than half of the pairs started at 1 or 2.

    **NAPC figures.**  ``napc`` carries NAPC's per-patient, per-point
    correlational figures with their source and caveat; they are not scaled
    by this change or by the number of patients, so nothing here claims a
    saving.

    References
    ----------
    .. [1] National Association of Primary Care, *Creating Integrated
           Neighbourhood Teams: Learning from Experience*, 2024, Figure 2.
    .. [2] F. Wilcoxon, "Individual comparisons by ranking methods",
           *Biometrics Bulletin* 1(6):80-83, 1945.
    """
    r = _check_ratings(ratings)
    _check_parallel("patients", patients, r.size)
    _check_parallel("periods", periods, r.size)
    confidence = check_confidence(confidence)
    if earlier == later:
        raise ValueError("earlier and later must be different periods")
    first_earlier: dict[Hashable, int] = {}
    last_later: dict[Hashable, int] = {}
    for rating, patient, period in zip(r.tolist(), patients, periods, strict=True):
        if patient is None:
            continue
        if period == earlier:
            first_earlier.setdefault(patient, rating)
        elif period == later:
            last_later[patient] = rating
    paired = [p for p in first_earlier if p in last_later]
    if not paired:
        raise ValueError(f"no patient has a rating in both {earlier!r} and {later!r}")
    before = np.array([first_earlier[p] for p in paired], dtype=np.float64)
    after = np.array([last_later[p] for p in paired], dtype=np.float64)
    diff = after - before
    n = diff.size
    mean_change = float(diff.mean())
    sd = float(diff.std(ddof=1)) if n > 1 else float("nan")
    change_low, change_high = _t_interval(mean_change, sd, n, confidence)

    if np.any(diff != 0):
        res = stats.wilcoxon(diff, zero_method="wilcox", correction=True, method="approx")
        statistic, p_value = float(res.statistic), float(res.pvalue)
    else:
        statistic, p_value = 0.0, 1.0

    n_up = int(np.count_nonzero(diff > 0))
    n_down = int(np.count_nonzero(diff < 0))
    baseline_mean = float(before.mean())
    baseline_low_share = float(np.mean(before <= LOW_RATINGS[-1]))
    caution_flag = baseline_mean <= 2.0 or baseline_low_share > 0.5
    caution = None
    if caution_flag:
        caution = (
            f"These patients started low (average {baseline_mean:.1f} of 4; "
            f"{baseline_low_share:.0%} rated 1 or 2 at first). People who start low tend to "
            "score higher next time even without help (regression to the mean), so part of "
            "this rise may not be due to the team's work."
        )
    return PairedActivationChange(
        n_pairs=n,
        baseline_mean=baseline_mean,
        followup_mean=float(after.mean()),
        mean_change=mean_change,
        change_low=change_low,
        change_high=change_high,
        statistic=statistic,
        p_value=p_value,
        n_up=n_up,
        n_same=n - n_up - n_down,
        n_down=n_down,
        moved_up=wilson_interval(n_up, n, confidence),
        baseline_low_share=baseline_low_share,
        regression_to_mean_caution=caution_flag,
        caution=caution,
        confidence=confidence,
    )
