"""The change a lead sees: recent waves against the waves before them.

Every judgement compares two *windows* of closed waves of one team:

* the **recent window**: the latest ``recent_waves`` closed waves (default 3);
* the **baseline window**: the ``baseline_waves`` closed waves just before
  them (default 3; fewer when the team has fewer, at least one).

Three waves a side is the shortest window that detects the rise the project
was set up to see (50% to 80% recommending with 30 answers a wave, tested in
``tests/analysis/test_simulations.py``: detected as improved within three
waves in at least 80% of runs) while keeping each side's count large enough
for the small teams of an INT; with one wave a side a team of 30 has no
power for anything short of a landslide, with six the recent window needs six
waves to fill after a real change.

Each judgement ends in one verdict:

``too_few_answers``
    a side has fewer than ``min_answers`` answers (default 5) or there is no
    baseline wave yet;
``no_credible_change``
    the p-value is above the (family-adjusted) cutoff;
``apparent_change``
    significant, but (a) the response rate moved by at least
    ``material_response_change`` (default 5 percentage points), (b) the
    worst-case non-response bounds of the difference include no change, and
    (c) the change is no longer significant once the side that answered more
    is trimmed to the other side's response rate, dropping the answers that
    favour the change (Lee's bounds [3]_): the change may reflect who
    answered;
``improved`` / ``worsened``
    significant otherwise, in the good or the bad direction.

Why three conditions for ``apparent_change``.  The worst-case (Manski [2]_)
bounds, every non-respondent answering yes or every one no, include zero for
almost any team with a response rate below about 80%, so on their own they
would call every change "apparent".  Lee's trimming assumes only that staff
who answered in the lower-response window would also have answered in the
other; it asks whether the change survives if the extra answers were the
ones most favourable to it.  This is what separates "disengaged staff
stopped answering" (no change left after trimming) from a real rise with
a response rate that wobbled (the change survives).  The simulations fix the
defaults: with disengaged staff leaving first and no true change, "improved"
fires on about 3% of team-waves; a real 50% to 80% rise is still detected
within three waves in about 98% of runs.

The family of comparisons for the false discovery rate is every team of the
INT for the same measure and period (:func:`judge_family`).

References
----------
.. [1] R. G. Newcombe, "Interval estimation for the difference between
       independent proportions: comparison of eleven methods", *Statistics
       in Medicine* 17:873-890, 1998 (method 10).
.. [2] C. F. Manski, "Nonparametric bounds on treatment effects", *American
       Economic Review* 80(2):319-323, 1990 (worst-case bounds).
.. [3] D. S. Lee, "Training, wages, and sample selection: estimating sharp
       bounds on treatment effects", *Review of Economic Studies*
       76(3):1071-1102, 2009 (trimming bounds).
.. [4] Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate",
       *Journal of the Royal Statistical Society B* 57(1):289-300, 1995.
.. [5] B. L. Welch, "The generalization of Student's problem when several
       different population variances are involved", *Biometrika*
       34:28-35, 1947.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from analysis._change_compare import (
    Comparison,
    compare,
    mean_test,
    proportion_test,
    windows,
)
from analysis._change_inputs import (
    Options,
    check_options,
    check_scale_max,
    count_teams,
    mean_inputs,
    proportion_inputs,
    team_labels,
)
from analysis._change_verdicts import bh_cutoff, verdict

__all__ = [
    "VERDICTS",
    "ChangeJudgement",
    "FamilyJudgement",
    "benjamini_hochberg",
    "judge_family",
    "judge_mean_change",
    "judge_mean_family",
    "judge_proportion_change",
]

VERDICTS: Final[tuple[str, ...]] = (
    "improved",
    "worsened",
    "apparent_change",
    "no_credible_change",
    "too_few_answers",
)
"""Every verdict a judgement can reach."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ChangeJudgement:
    """One team's change between the baseline and the recent window.

    Attributes
    ----------
    kind : {"proportion", "mean"}
        The kind of measure.
    verdict : str
        One of :data:`VERDICTS`.
    sentence : str
        The verdict in one plain-English sentence for the lead.
    before, after : float
        The measure in the baseline and in the recent window (proportion 0-1
        or mean); NaN for a side with no answers.
    difference : float
        ``after - before``.
    difference_low, difference_high : float
        Confidence interval for the difference (Newcombe hybrid score for a
        proportion, Welch t for a mean); NaN when not computable.
    confidence : float
        Level of the interval, ``1 - alpha``.
    n_before, n_after : int
        Answers on each side.
    invited_before, invited_after : int
        Staff invited on each side (summed over the window's waves).
    response_rate_before, response_rate_after : float
        ``n / invited`` on each side (NaN when nobody was invited).
    before_bounds, after_bounds : tuple of float
        Worst-case bounds for ``before`` and ``after``: the value if every
        non-respondent of that window had answered at the bottom (for a
        proportion: no), or at the top (yes), of the scale.
    difference_bounds : tuple of float
        Worst-case bounds for the difference, from both sides' bounds.
    selection_bounds : tuple of float
        Lee's trimming bounds for the difference: the side with the higher
        response rate trimmed to the other's rate, dropping its lowest or its
        highest answers (NaN when not computed).
    p_value : float
        Two-sided p-value of the comparison (NaN when not computed).
    p_selection : float
        Two-sided p-value after trimming the side with the higher response
        rate against the observed change; 1 when the trimming reverses or
        cancels the change (NaN when not computed).
    p_adjusted : float
        Benjamini-Hochberg adjusted p-value within the family (equal to
        ``p_value`` for a single team).
    family_size : int
        Number of p-values in the family the adjustment used.
    waves_before, waves_after : int
        Waves in each window.
    """

    kind: str
    verdict: str
    sentence: str
    before: float
    after: float
    difference: float
    difference_low: float
    difference_high: float
    confidence: float
    n_before: int
    n_after: int
    invited_before: int
    invited_after: int
    response_rate_before: float
    response_rate_after: float
    before_bounds: tuple[float, float]
    after_bounds: tuple[float, float]
    difference_bounds: tuple[float, float]
    selection_bounds: tuple[float, float]
    p_value: float
    p_selection: float
    p_adjusted: float
    family_size: int
    waves_before: int
    waves_after: int


@dataclass(frozen=True, slots=True)
class FamilyJudgement:
    """Judgements for every team of an INT, one measure and period.

    Attributes
    ----------
    judgements : tuple of ChangeJudgement
        One per team, in the order given.
    team_ids : tuple of str
        Team labels, in the same order.
    family_size : int
        Teams with a p-value (the Benjamini-Hochberg ``m``).
    alpha : float
        The false discovery rate controlled.
    """

    judgements: tuple[ChangeJudgement, ...]
    team_ids: tuple[str, ...]
    family_size: int
    alpha: float

    def for_teams(self, team_ids: Iterable[str]) -> tuple[ChangeJudgement, ...]:
        """The judgements of some teams, exactly as judged within the whole family.

        A page that shows only some teams takes their judgements from here rather
        than judging those teams again, so the Benjamini-Hochberg family stays
        every team of the INT whatever the page filters.

        Raises
        ------
        ValueError
            If a label is not one of `team_ids`.
        """
        index = {team: i for i, team in enumerate(self.team_ids)}
        wanted = list(team_ids)
        unknown = [team for team in wanted if team not in index]
        if unknown:
            raise ValueError(f"team_ids holds teams not in the family: {unknown}")
        return tuple(self.judgements[index[team]] for team in wanted)


def benjamini_hochberg(p_values: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate).

    Parameters
    ----------
    p_values : array_like of float, 1-D
        p-values; NaN marks a comparison that was not made (it stays NaN and
        does not count in the family size ``m``).

    Returns
    -------
    ndarray of float
        Adjusted p-values, in the input order.  Rejecting those at or below
        ``q`` controls the false discovery rate at ``q`` for independent or
        positively dependent tests.

    Raises
    ------
    ValueError
        If ``p_values`` is not 1-D, is empty, or holds a value outside [0, 1]
        or an infinity.

    Notes
    -----
    With the :math:`m` finite p-values sorted, :math:`p_{(1)} \\le \\dots \\le
    p_{(m)}`,

    .. math:: \\tilde p_{(i)} = \\min\\Big(1, \\min_{j \\ge i} \\frac{m}{j}
              p_{(j)}\\Big),

    as R's ``p.adjust(p, method = "BH")`` and
    ``scipy.stats.false_discovery_control(p, method="bh")``.

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, *JRSS B* 57(1):289-300, 1995.

    Examples
    --------
    >>> from analysis.change import benjamini_hochberg
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}")
    if p.size == 0:
        raise ValueError("p_values is empty")
    present = ~np.isnan(p)
    if np.any(np.isinf(p)) or np.any((p[present] < 0.0) | (p[present] > 1.0)):
        raise ValueError("p_values must lie between 0 and 1 (NaN for a comparison not made)")
    adjusted = np.full(p.shape, np.nan)
    finite = p[present]
    m = finite.size
    if m == 0:
        return adjusted
    order = np.argsort(finite, kind="stable")
    scaled = finite[order] * m / np.arange(1, m + 1)
    monotone = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(monotone, 1.0)
    adjusted[present] = out
    return adjusted


# --------------------------------------------------------------------- judging


def _judgement(
    c: Comparison, p_adjusted: float, cutoff: float, family_size: int, options: Options
) -> ChangeJudgement:
    name, sentence = verdict(c, cutoff, family_size, options.wording)
    return ChangeJudgement(
        kind=c.kind,
        verdict=name,
        sentence=sentence,
        before=c.before.mean,
        after=c.after.mean,
        difference=c.difference,
        difference_low=c.test.low,
        difference_high=c.test.high,
        confidence=c.confidence,
        n_before=c.before.n,
        n_after=c.after.n,
        invited_before=c.before.invited,
        invited_after=c.after.invited,
        response_rate_before=c.before.response_rate,
        response_rate_after=c.after.response_rate,
        before_bounds=c.before_bounds,
        after_bounds=c.after_bounds,
        difference_bounds=c.difference_bounds,
        selection_bounds=c.test.selection_bounds,
        p_value=c.test.p_value,
        p_selection=c.test.p_selection,
        p_adjusted=p_adjusted,
        family_size=family_size,
        waves_before=c.before.waves,
        waves_after=c.after.waves,
    )


def _judge(
    comparisons: Sequence[Comparison], team_ids: tuple[str, ...], options: Options
) -> FamilyJudgement:
    """Verdicts for a family: Benjamini-Hochberg over the teams that made a comparison."""
    p = np.array([c.test.p_value for c in comparisons], dtype=np.float64)
    adjusted = benjamini_hochberg(p)
    cutoff = bh_cutoff(p, options.alpha)
    size = int(np.count_nonzero(~np.isnan(p)))
    judgements = tuple(
        _judgement(c, float(q), cutoff, size, options)
        for c, q in zip(comparisons, adjusted, strict=True)
    )
    return FamilyJudgement(judgements, team_ids, size, options.alpha)


def _compare_proportion(
    positive: FloatArray, answered: FloatArray, invited: FloatArray, options: Options
) -> Comparison:
    before, after = windows(
        (positive, answered, invited), options.recent_waves, options.baseline_waves
    )
    return compare(
        "proportion",
        before,
        after,
        top=1.0,
        min_answers=options.wording.min_answers,
        confidence=options.confidence,
        test=proportion_test,
    )


def _compare_mean(
    series: tuple[FloatArray, FloatArray, FloatArray, FloatArray], top: float, options: Options
) -> Comparison:
    before, after = windows(series, options.recent_waves, options.baseline_waves)
    return compare(
        "mean",
        before,
        after,
        top=top,
        min_answers=options.wording.min_answers,
        confidence=options.confidence,
        test=mean_test,
    )


# --------------------------------------------------------------------- public


def judge_proportion_change(
    positive: npt.ArrayLike,
    answered: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    measure: str = "% recommend",
) -> ChangeJudgement:
    """Judge the change in a proportion measure for one team.

    Parameters
    ----------
    positive, answered, invited : array_like of int, 1-D
        Per closed wave, oldest first: positive answers (e.g. Extremely likely
        + Likely), all answers to the item ("Don't know" included, the NHS
        FFT denominator), and staff invited.
    recent_waves, baseline_waves : int, optional
        Window lengths (default 3 and 3; see the module docstring).
    min_answers : int, optional
        Fewest answers a side needs (default 5, at least 2).
    alpha : float, optional
        Significance level; the interval has level ``1 - alpha`` (default 0.05).
    material_response_change : float, optional
        Change in response rate (0-1) that counts as material (default 0.05).
    higher_is_better : bool, optional
        True (default) when a rise is an improvement (% recommend); False for
        e.g. % not recommend.
    measure : str, optional
        Name used in the sentence (default "% recommend").

    Returns
    -------
    ChangeJudgement

    Raises
    ------
    ValueError
        If a series is empty, not 1-D, of different lengths, negative, NaN or
        not whole; if ``positive > answered`` or ``answered > invited`` in a
        wave; if a window length, ``min_answers``, ``alpha`` or
        ``material_response_change`` is out of range.

    Notes
    -----
    With :math:`x_b, n_b, N_b` the positives, answers and invited summed
    over the baseline window and :math:`x_a, n_a, N_a` over the recent one:

    * estimates :math:`\\hat p_b = x_b/n_b`, :math:`\\hat p_a = x_a/n_a`, and
      the difference :math:`\\hat p_a - \\hat p_b` with Newcombe's hybrid
      score interval [1]_ (``analysis.proportions.newcombe_difference``);
    * p-value of the pooled score test, :math:`z = (\\hat p_a - \\hat p_b) /
      \\sqrt{\\bar p(1-\\bar p)(1/n_a + 1/n_b)}`, as R's ``prop.test(...,
      correct = FALSE)``.  Both are score methods and agree closely; at the
      margin the interval may just touch zero while the test rejects, or the
      reverse;
    * worst-case bounds [2]_ for the recent proportion,
      :math:`[x_a/N_a,\\ (x_a + N_a - n_a)/N_a]` (every recent non-respondent
      answering no, or yes), and for the difference
      :math:`[L_a - U_b,\\ U_a - L_b]`;
    * response rates :math:`R = n/N`;
    * selection (Lee) bounds [3]_: the side with the higher response rate,
      say :math:`H`, has :math:`k = n_H - R_L N_H` answers more than the
      other rate would give; dropping its :math:`k` "no" answers, or its
      :math:`k` "yes" answers, gives the bounds of the difference, and the
      pooled score test on the trimmed side least favourable to the observed
      change gives ``p_selection``.

    The verdict rules are in the module docstring: ``apparent_change`` needs
    the response rate to move by ``material_response_change``, the worst-case
    bounds of the difference to include zero *and* ``p_selection`` to miss
    the cutoff that ``p_value`` met.

    References
    ----------
    .. [1] R. G. Newcombe, *Statistics in Medicine* 17:873-890, 1998.
    .. [2] C. F. Manski, *American Economic Review* 80(2):319-323, 1990.
    .. [3] D. S. Lee, *Review of Economic Studies* 76(3):1071-1102, 2009.

    Examples
    --------
    >>> from analysis.change import judge_proportion_change
    >>> j = judge_proportion_change([15, 14, 16, 24, 25, 23], [30] * 6, [40] * 6)
    >>> j.verdict
    'improved'
    """
    options = check_options(
        recent_waves=recent_waves,
        baseline_waves=baseline_waves,
        min_answers=min_answers,
        alpha=alpha,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    series = proportion_inputs(positive, answered, invited)
    return _judge([_compare_proportion(*series, options)], ("0",), options).judgements[0]


def judge_mean_change(
    sums: npt.ArrayLike,
    sums_sq: npt.ArrayLike,
    n: npt.ArrayLike,
    invited: npt.ArrayLike,
    *,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    scale_max: float = 10.0,
    measure: str = "engagement",
) -> ChangeJudgement:
    """Judge the change in a mean score (e.g. engagement, 0-10) for one team.

    Parameters
    ----------
    sums, sums_sq : array_like of float, 1-D
        Per closed wave, oldest first: sum of the respondents' scores and sum
        of their squares.
    n, invited : array_like of int, 1-D
        Per closed wave: respondents with a score, and staff invited.
    recent_waves, baseline_waves, min_answers, alpha
        As :func:`judge_proportion_change`.
    material_response_change, higher_is_better
        As :func:`judge_proportion_change`.
    scale_max : float, optional
        Top of the score scale (default 10; the bottom is 0), for the
        worst-case bounds.
    measure : str, optional
        Name used in the sentence (default "engagement").

    Returns
    -------
    ChangeJudgement
        With ``kind="mean"``.

    Raises
    ------
    ValueError
        As :func:`judge_proportion_change`, and if sums or sums of squares are
        negative, not finite, or impossible for scores in ``[0, scale_max]``.

    Notes
    -----
    The measure is a mean of one score per respondent (for engagement, each
    respondent's own score; use :func:`analysis.engagement.engagement_score`
    for the team's item-mean estimate).  Each window pools its waves:
    :math:`n = \\sum n_w`, :math:`\\bar x = \\sum s_w / n`,
    :math:`s^2 = (\\sum q_w - n\\bar x^2)/(n-1)`.  Welch's t [1]_,
    :math:`t = (\\bar x_a - \\bar x_b)/\\sqrt{s_a^2/n_a + s_b^2/n_b}`, with
    Welch-Satterthwaite degrees of freedom, gives the p-value and the interval
    (R: ``t.test(after, before)``).  Worst-case bounds put every non-respondent
    at 0 or at ``scale_max``.

    Selection bounds trim the side with the higher response rate as in
    :func:`judge_proportion_change`; with only totals known, the trimmed
    answers are taken at the ends of the scale (0 or ``scale_max``, so the
    bounds are wider than Lee's), and the trimmed side keeps its variance.

    References
    ----------
    .. [1] B. L. Welch, *Biometrika* 34:28-35, 1947.
    .. [2] D. S. Lee, *Review of Economic Studies* 76(3):1071-1102, 2009.
    """
    top = check_scale_max(scale_max)
    options = check_options(
        recent_waves=recent_waves,
        baseline_waves=baseline_waves,
        min_answers=min_answers,
        alpha=alpha,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    series = mean_inputs(sums, sums_sq, n, invited, top)
    return _judge([_compare_mean(series, top, options)], ("0",), options).judgements[0]


def judge_family(
    positive: Sequence[npt.ArrayLike],
    answered: Sequence[npt.ArrayLike],
    invited: Sequence[npt.ArrayLike],
    *,
    team_ids: Sequence[str] | None = None,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    measure: str = "% recommend",
) -> FamilyJudgement:
    """Judge a proportion measure for every team of an INT, controlling the FDR.

    Parameters
    ----------
    positive, answered, invited : sequence of array_like
        One per-wave series per team, as in :func:`judge_proportion_change`
        (teams may have different numbers of closed waves).
    team_ids : sequence of str, optional
        Team labels (default "0", "1", ...).
    recent_waves, baseline_waves, min_answers, alpha
        As :func:`judge_proportion_change`; ``alpha`` is the false discovery
        rate.
    material_response_change, higher_is_better, measure
        As :func:`judge_proportion_change`.

    Returns
    -------
    FamilyJudgement

    Raises
    ------
    ValueError
        If the sequences are empty or differ in length, a team's series is
        invalid (the message names the team's index), or an option is out of
        range.

    Notes
    -----
    **The family** is every team of the INT for this measure and period:
    pass all of them, whatever a page later filters or shows.  A verdict must
    not change because a lead filtered the page to fewer teams, and a family
    chosen after looking would not control anything.  Teams with too few
    answers make no comparison and do not count in ``m``.

    Each team's p-value is adjusted with :func:`benjamini_hochberg` over the
    family; a team is significant when its adjusted p-value is at most
    ``alpha``, which controls the expected share of false "improved" /
    "worsened" / "apparent change" verdicts among those shown [1]_.  The
    selection check of ``apparent_change`` uses the same cutoff.  The
    intervals stay at the unadjusted level ``1 - alpha``.

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, *JRSS B* 57(1):289-300, 1995.
    """
    m = count_teams("positive", positive, None)
    count_teams("answered", answered, m)
    count_teams("invited", invited, m)
    ids = team_labels(team_ids, m)
    options = check_options(
        recent_waves=recent_waves,
        baseline_waves=baseline_waves,
        min_answers=min_answers,
        alpha=alpha,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    comparisons = [
        _compare_proportion(
            *proportion_inputs(positive[i], answered[i], invited[i], f"team {i}: "), options
        )
        for i in range(m)
    ]
    return _judge(comparisons, ids, options)


def judge_mean_family(
    sums: Sequence[npt.ArrayLike],
    sums_sq: Sequence[npt.ArrayLike],
    n: Sequence[npt.ArrayLike],
    invited: Sequence[npt.ArrayLike],
    *,
    team_ids: Sequence[str] | None = None,
    recent_waves: int = 3,
    baseline_waves: int = 3,
    min_answers: int = 5,
    alpha: float = 0.05,
    material_response_change: float = 0.05,
    higher_is_better: bool = True,
    scale_max: float = 10.0,
    measure: str = "engagement",
) -> FamilyJudgement:
    """Judge a mean score for every team of an INT, controlling the FDR.

    The mean-score counterpart of :func:`judge_family` (same family rule:
    every team of the INT for this measure and period, whatever a page
    filters); each team's series are as in :func:`judge_mean_change`.

    Parameters
    ----------
    sums, sums_sq, n, invited : sequence of array_like
        One per-wave series per team.
    team_ids, recent_waves, baseline_waves, min_answers, alpha
        As :func:`judge_family`.
    material_response_change, higher_is_better, scale_max, measure
        As :func:`judge_mean_change`.

    Returns
    -------
    FamilyJudgement

    Raises
    ------
    ValueError
        As :func:`judge_family` and :func:`judge_mean_change`.
    """
    top = check_scale_max(scale_max)
    m = count_teams("sums", sums, None)
    for name, values in (("sums_sq", sums_sq), ("n", n), ("invited", invited)):
        count_teams(name, values, m)
    ids = team_labels(team_ids, m)
    options = check_options(
        recent_waves=recent_waves,
        baseline_waves=baseline_waves,
        min_answers=min_answers,
        alpha=alpha,
        material_response_change=material_response_change,
        higher_is_better=higher_is_better,
        measure=measure,
    )
    comparisons = [
        _compare_mean(
            mean_inputs(sums[i], sums_sq[i], n[i], invited[i], top, f"team {i}: "), top, options
        )
        for i in range(m)
    ]
    return _judge(comparisons, ids, options)
