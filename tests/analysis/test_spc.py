"""Tests for analysis.spc: published NHSRplotthedots cases and cases built from the rules."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from analysis.spc import (
    COMMON_CAUSE,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    INCONSISTENT,
    RULE_OUTSIDE_LIMITS,
    RULE_SHIFT,
    RULE_TREND,
    RULE_TWO_IN_THREE,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
    XmRChart,
    laney_p_prime_chart,
    p_chart,
    xmr,
    xmr_batch,
)

IMPROVE, CONCERN = SPECIAL_CAUSE_IMPROVEMENT, SPECIAL_CAUSE_CONCERN

# R: set.seed(123); rnorm(20)
RNORM_20 = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
]

# Built from the rules (see each test for the arithmetic).
TREND = [10, 12, 10, 12, 10, 12, 10, 12, 8, 9, 10, 11, 12, 13, 14, 12, 10, 12, 10, 12]
TWO_OF_THREE_SAME_SIDE = [10, 12] * 5 + [17, 12, 17] + [12, 10, 12, 10, 12, 10, 12]
TWO_OF_THREE_BOTH_SIDES = [10, 12] * 5 + [17, 11, 17] + [12, 10, 12, 10, 12, 10, 12]
SHIFT = [9, 8, 9, 10, 9, 8, 9, 8, 11, 12, 11, 12, 11, 12, 11, 10]
TREND_BEATS_SHIFT = [0, 6] * 6 + [9, 8.5, 8, 7.5, 7, 6.5, 6] + [0, 6, 0, 6]


def flagged(chart: XmRChart) -> dict[int, tuple[str | None, str | None]]:
    return {
        i: (v, r) for i, (v, r) in enumerate(zip(chart.variation, chart.rule, strict=True)) if r
    }


def only_limits(chart: XmRChart, index: int = 0) -> list[float]:
    return [chart.mean[index], chart.lower[index], chart.upper[index]]


# --------------------------------------------------------------------------- published


class TestPublishedCases:
    def test_rnorm_screened(self) -> None:
        # NHSRplotthedots 0.2.x, ptd_spc(data.frame(x = dates, y = rnorm(20)) after
        # set.seed(123)): mean 0.1416238, lpl -3.01138, upl 3.294627, all common cause.
        chart = xmr(RNORM_20)
        assert_allclose(chart.mean[0], 0.1416238, atol=5e-8)
        assert_allclose(chart.lower[0], -3.01138, atol=5e-6)
        assert_allclose(chart.upper[0], 3.294627, atol=5e-7)
        assert set(chart.variation) == {COMMON_CAUSE}
        assert chart.trial_limits is False
        assert len(set(chart.mean)) == 1  # one segment: one value repeated per point

    def test_rnorm_with_outlier(self) -> None:
        # Same, with y[15] <- 10 (R's 1-based point 15): mean 0.6694159,
        # lpl -2.383666, upl 3.722497; point 15 special cause improvement only.
        values = list(RNORM_20)
        values[14] = 10.0
        chart = xmr(values)
        assert_allclose(chart.mean[0], 0.6694159, atol=5e-8)
        assert_allclose(chart.lower[0], -2.383666, atol=5e-7)
        assert_allclose(chart.upper[0], 3.722497, atol=5e-7)
        assert flagged(chart) == {14: (IMPROVE, RULE_OUTSIDE_LIMITS)}
        # The two moving ranges either side of the outlier (|10 - 0.1107| and
        # |1.7869 - 10|) are >= 3.267 x their mean, so screened out.
        assert [i for i, s in enumerate(chart.moving_range_screened) if s] == [14, 15]

    def test_alternating_with_spike(self) -> None:
        # Published: mean 1.94; screened limits -0.72 and 4.6; unscreened -3.06 and
        # 6.95; point 5 special cause improvement.  By hand: sum = 9*1 + 8*2 + 10 = 35,
        # mean 35/18; moving ranges 15 ones + 8 + 9 = 32 over 17 (mean 32/17 =
        # 1.882); 3.267 * 1.882 = 6.15 drops 8 and 9, leaving a mean of exactly 1:
        # limits 35/18 -/+ 2.66.  Unscreened: 35/18 -/+ 2.66 * 32/17.
        values = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
        screened = xmr(values)
        assert_allclose(
            only_limits(screened), [35 / 18, 35 / 18 - 2.66, 35 / 18 + 2.66], rtol=1e-14
        )
        assert_allclose(only_limits(screened)[:2], [1.94, -0.72], atol=5e-3)
        assert_allclose(screened.upper[0], 4.6, atol=5e-2)
        assert flagged(screened) == {4: (IMPROVE, RULE_OUTSIDE_LIMITS)}
        raw = xmr(values, screen_outliers=False)
        assert_allclose(raw.mean_moving_range[0], 32 / 17, rtol=1e-14)
        assert_allclose(only_limits(raw)[1:], [-3.06, 6.95], atol=5e-3)
        assert flagged(raw) == {4: (IMPROVE, RULE_OUTSIDE_LIMITS)}
        assert not any(raw.moving_range_screened)

    def test_short_series(self) -> None:
        # Published: mean 6.4, limits -3.575 and 16.375, no special cause.  By hand:
        # 32/5 = 6.4; moving ranges 7, 5, 2, 1 (mean 3.75, none >= 12.25);
        # 6.4 -/+ 2.66 * 3.75 = 6.4 -/+ 9.975.  Five points: trial limits.
        chart = xmr([16, 9, 4, 2, 1])
        assert_allclose(only_limits(chart), [6.4, -3.575, 16.375], rtol=1e-14)
        assert_allclose(
            [chart.lower_near[0], chart.upper_near[0]],
            [6.4 - 2 * 2.66 / 3 * 3.75, 6.4 + 2 * 2.66 / 3 * 3.75],
            rtol=1e-14,
        )
        assert set(chart.variation) == {COMMON_CAUSE}
        assert chart.trial_limits is True
        assert_allclose(chart.moving_range, [math.nan, 7, 5, 2, 1])


def test_public_api_is_exactly_the_documented_one() -> None:
    # Issue 3 fixes this API for other parts and external checks: the names,
    # defaults, per-point tuples and the label strings themselves (the tests
    # above compare with the constants, so a misspelt constant would pass them).
    parameters = inspect.signature(xmr).parameters
    assert list(parameters) == [
        "values",
        "improvement",
        "screen_outliers",
        "rebase_at",
        "fix_after",
        "target",
    ]
    assert [p.default for p in list(parameters.values())[1:]] == ["increase", True, (), None, None]
    assert (COMMON_CAUSE, IMPROVE, CONCERN) == (
        "common_cause",
        "special_cause_improvement",
        "special_cause_concern",
    )
    assert (SPECIAL_CAUSE_NEUTRAL_HIGH, SPECIAL_CAUSE_NEUTRAL_LOW) == (
        "special_cause_neutral_high",
        "special_cause_neutral_low",
    )
    assert (CONSISTENT_PASS, CONSISTENT_FAIL, INCONSISTENT) == (
        "consistent_pass",
        "consistent_fail",
        "inconsistent",
    )
    chart = xmr(TREND, improvement="increase", target=100.0)
    for per_point in (chart.mean, chart.lower, chart.upper, chart.variation):
        assert isinstance(per_point, tuple) and len(per_point) == len(TREND)
    assert chart.assurance == "consistent_fail"
    assert chart.trial_limits is False
    assert xmr([1.0, 2.0], improvement="neutral", target=1.0).assurance is None


# --------------------------------------------------------------------------- rules


class TestRules:
    def test_trend_crossing_the_mean(self) -> None:
        # Points 8..14 are 8, 9, ..., 14: six strictly rising steps.  Mean 221/20 =
        # 11.05, so 8, 9 and 10 are below it and still part of the trend.  Moving
        # ranges: seven 2s, a 4, six 1s, five 2s = 34 over 19 = 1.789; near limits
        # 11.05 -/+ 1.7733 * 1.789 = 7.877 and 14.223, so no point is close (14 is
        # not) and none outside; the 10/12 alternation allows no shift.
        chart = xmr(TREND)
        assert_allclose(
            only_limits(chart), [11.05, 11.05 - 2.66 * 34 / 19, 11.05 + 2.66 * 34 / 19], rtol=1e-14
        )
        assert flagged(chart) == {i: (IMPROVE, RULE_TREND) for i in range(8, 15)}
        decrease = xmr(TREND, improvement="decrease")
        assert flagged(decrease) == {i: (CONCERN, RULE_TREND) for i in range(8, 15)}
        neutral = xmr(TREND, improvement="neutral")
        assert flagged(neutral) == {
            i: (SPECIAL_CAUSE_NEUTRAL_HIGH, RULE_TREND) for i in range(8, 15)
        }

    def test_falling_trend(self) -> None:
        # The mirror image (20 - x) falls 12, 11, ..., 6: a low special cause.
        chart = xmr([20 - v for v in TREND])
        assert flagged(chart) == {i: (CONCERN, RULE_TREND) for i in range(8, 15)}
        assert flagged(xmr([20 - v for v in TREND], improvement="neutral")) == {
            i: (SPECIAL_CAUSE_NEUTRAL_LOW, RULE_TREND) for i in range(8, 15)
        }

    def test_a_tie_breaks_a_trend(self) -> None:
        # 8, 9, 10, 10, 12, 13, 14: the repeated 10 is not strictly above the point
        # before it, so there is no run of 6 rising steps.  Mean 11.0, near limits
        # 11 -/+ 1.7733 * 34/19 = 7.827 and 14.173: nothing else fires.
        values = list(TREND)
        values[11] = 10
        assert flagged(xmr(values)) == {}

    def test_two_of_three_on_one_side(self) -> None:
        # 17, 12, 17 at points 10..12.  Mean 234/20 = 11.7; moving ranges nine 2s,
        # four 5s, six 2s = 50 over 19 = 2.6316; near upper 11.7 + 1.7733 * 2.6316 =
        # 16.367 and upper 11.7 + 2.66 * 2.6316 = 18.7, so both 17s are close and the
        # 12 between them is above the mean: only the two close points are flagged.
        chart = xmr(TWO_OF_THREE_SAME_SIDE)
        assert_allclose(
            [chart.mean[0], chart.upper_near[0], chart.upper[0]],
            [11.7, 11.7 + 2 * 2.66 / 3 * 50 / 19, 11.7 + 2.66 * 50 / 19],
            rtol=1e-14,
        )
        assert flagged(chart) == {
            10: (IMPROVE, RULE_TWO_IN_THREE),
            12: (IMPROVE, RULE_TWO_IN_THREE),
        }

    def test_two_of_three_across_the_mean_is_not_a_signal(self) -> None:
        # 17, 11, 17: mean 233/20 = 11.65, so the 11 is below the mean and no window
        # of 3 has all its points on one side (NHSRplotthedots issue #143 fix).  The
        # 17s are still close: near upper 11.65 + 1.7733 * 52/19 = 16.503.
        chart = xmr(TWO_OF_THREE_BOTH_SIDES)
        assert_allclose(chart.upper_near[0], 11.65 + 2 * 2.66 / 3 * 52 / 19, rtol=1e-14)
        assert chart.upper_near[0] < 17 < chart.upper[0]
        assert flagged(chart) == {}

    def test_shift_and_a_point_on_the_mean(self) -> None:
        # Sum 160 over 16 points: the mean is exactly 10.  Points 0..7 are below it
        # except point 3, which equals it and breaks the run (3 + 4 points); points
        # 8..14 are 7 in a row above it: a shift; point 15 is on the mean again.
        # Moving ranges: 7 ones, a 3, 7 ones = 17 over 15; near limits
        # 10 -/+ 1.7733 * 17/15 = 7.990 and 12.0098: nothing is close.
        chart = xmr(SHIFT)
        assert chart.mean[0] == 10.0
        assert flagged(chart) == {i: (IMPROVE, RULE_SHIFT) for i in range(8, 15)}
        below = list(SHIFT)
        below[3] = 9  # now 8 points in a row below the mean: a shift there too
        # ... and the mean drops to 159/16 = 9.9375, so the final 10 is above it and
        # the shift above runs on to point 15.
        assert set(flagged(xmr(below))) == set(range(0, 16))

    def test_points_on_the_mean_are_not_a_shift(self) -> None:
        # [5] * 8 + [4, 6]: the mean is exactly 50/10 = 5, so the eight 5s lie on it
        # and make no shift.  Moving ranges: seven 0s, 1, 2 (mean 1/3); 2 >= 3.267/3
        # is screened, leaving 1/8, so the limits are 5 -/+ 0.3325 and the 4 and 6
        # are outside them.
        chart = xmr([5] * 8 + [4, 6])
        assert_allclose(only_limits(chart), [5, 5 - 2.66 / 8, 5 + 2.66 / 8], rtol=1e-14)
        assert flagged(chart) == {
            8: (CONCERN, RULE_OUTSIDE_LIMITS),
            9: (IMPROVE, RULE_OUTSIDE_LIMITS),
        }

    def test_trend_takes_precedence_over_shift(self) -> None:
        # 0/6 alternating, then 9, 8.5, ..., 6 (falling), then 0, 6, 0, 6.  Mean
        # 100.5/23 = 4.3696; moving ranges 66 + 3 + 3 + 6 + 18 = 96 over 22 = 4.3636,
        # near limits -3.369 and 12.108: nothing close or outside.  Points 11..18
        # (6, 9, 8.5, ..., 6) are 8 in a row above the mean: a HIGH shift.  Points
        # 12..19 (9 down to 0) fall 7 times in a row: a LOW trend.  The trend rule
        # comes first, so 12..18 are low (concern when increase is better); point 11
        # is only in the shift (improvement); point 19 is only in the trend.
        chart = xmr(TREND_BEATS_SHIFT)
        expected = {11: (IMPROVE, RULE_SHIFT)}
        expected.update({i: (CONCERN, RULE_TREND) for i in range(12, 20)})
        assert flagged(chart) == expected

    def test_decrease_and_neutral_outlier(self) -> None:
        values = list(RNORM_20)
        values[14] = 10.0
        assert flagged(xmr(values, improvement="decrease")) == {14: (CONCERN, RULE_OUTSIDE_LIMITS)}
        assert flagged(xmr(values, improvement="neutral")) == {
            14: (SPECIAL_CAUSE_NEUTRAL_HIGH, RULE_OUTSIDE_LIMITS)
        }
        values[14] = -10.0
        assert flagged(xmr(values, improvement="neutral")) == {
            14: (SPECIAL_CAUSE_NEUTRAL_LOW, RULE_OUTSIDE_LIMITS)
        }
        assert flagged(xmr(values, improvement="decrease")) == {14: (IMPROVE, RULE_OUTSIDE_LIMITS)}


# --------------------------------------------------------------------------- options


class TestRebaseFixAssurance:
    SEGMENTED = [10, 11] * 7 + [10] + [20, 21] * 7 + [20]

    def test_rebase_computes_each_segment_alone(self) -> None:
        # Segment 0: eight 10s and seven 11s, mean 157/15, every moving range 1;
        # segment 1 the same plus 10.  Limits 157/15 -/+ 2.66 and 307/15 -/+ 2.66.
        chart = xmr(self.SEGMENTED, rebase_at=[15])
        assert chart.segment == (0,) * 15 + (1,) * 15
        assert_allclose(only_limits(chart, 0), [157 / 15, 157 / 15 - 2.66, 157 / 15 + 2.66])
        assert_allclose(only_limits(chart, 29), [307 / 15, 307 / 15 - 2.66, 307 / 15 + 2.66])
        assert set(chart.variation) == {COMMON_CAUSE}
        assert math.isnan(chart.moving_range[15])  # no moving range across a rebase
        assert chart.segment_trial_limits == (False, False)

    def test_without_rebase_the_step_is_special_cause(self) -> None:
        # One segment: mean 232/15 ... = 15.4667; moving ranges 28 ones and the 10
        # across the step (mean 38/29 = 1.31, screened at 4.28), leaving exactly 1,
        # so limits 15.4667 -/+ 2.66: every 10/11 is below, every 20/21 above.
        chart = xmr(self.SEGMENTED)
        assert_allclose(chart.mean_moving_range[0], 1.0)
        assert all(v == CONCERN for v in chart.variation[:15])
        assert all(v == IMPROVE for v in chart.variation[15:])

    def test_trial_limits_below_13_points(self) -> None:
        # NHSRplotthedots 0.2.x warns of trial limits when a group has n < 13 points
        # (ptd_add_short_group_warnings, warning_threshold 13).  Gaps do not count.
        assert xmr([1.0, 2.0] * 6).trial_limits is True  # 12 points
        assert xmr([1.0, 2.0] * 6 + [1.0]).trial_limits is False  # 13 points
        assert xmr([1.0, 2.0] * 6 + [math.nan]).trial_limits is True
        chart = xmr([1.0, 2.0] * 10, rebase_at=[7])  # segments of 7 and 13 points
        assert chart.segment_trial_limits == (True, False) and chart.trial_limits is False

    def test_no_rule_spans_a_rebase(self) -> None:
        values = [1, 2, 3, 4, 5, 6, 7, 8]
        assert set(flagged(xmr(values))) == set(range(8))  # one trend of 8
        split = xmr(values, rebase_at=[4])  # two segments of 4 rising points
        assert flagged(split) == {}
        assert split.trial_limits is True

    def test_fix_after(self) -> None:
        # First 12 points alternate 10/12: mean 11, moving ranges all 2, limits
        # 11 -/+ 5.32 = 5.68 and 16.32.  The later 20/22 points do not move them and
        # are all above the upper limit; point 11 (a 12, above the mean of 11) starts
        # a run of 9 above the mean, so it is flagged by the shift rule.
        values = [10, 12] * 6 + [20, 22] * 4
        chart = xmr(values, fix_after=12)
        assert_allclose(only_limits(chart, 19), [11, 5.68, 16.32], rtol=1e-14)
        expected = {11: (IMPROVE, RULE_SHIFT)}
        expected.update({i: (IMPROVE, RULE_OUTSIDE_LIMITS) for i in range(12, 20)})
        assert flagged(chart) == expected
        assert_allclose(xmr(values).mean[0], 15.0)  # unfixed: (6 * 22 + 4 * 42) / 20

    def test_fix_after_with_rebase_restarts_in_each_segment(self) -> None:
        values = [10, 12] * 6 + [0, 0] + [30, 32] * 6 + [0, 0]
        chart = xmr(values, rebase_at=[14], fix_after=12)
        assert_allclose([chart.mean[0], chart.mean[14]], [11, 31])
        assert_allclose([chart.mean_moving_range[0], chart.mean_moving_range[14]], [2, 2])

    @pytest.mark.parametrize(
        ("improvement", "target", "expected"),
        [
            # [16, 9, 4, 2, 1]: limits -3.575 and 16.375 (see TestPublishedCases).
            ("increase", 20.0, CONSISTENT_FAIL),
            ("increase", -5.0, CONSISTENT_PASS),
            ("increase", 5.0, INCONSISTENT),
            ("increase", 16.375 - 1e-9, INCONSISTENT),
            ("decrease", 20.0, CONSISTENT_PASS),
            ("decrease", -5.0, CONSISTENT_FAIL),
            ("decrease", 0.0, INCONSISTENT),
            ("neutral", 20.0, None),
            ("increase", None, None),
        ],
    )
    def test_assurance(self, improvement: str, target: float | None, expected: str | None) -> None:
        assert xmr([16, 9, 4, 2, 1], improvement=improvement, target=target).assurance == expected

    def test_assurance_uses_the_last_segment(self) -> None:
        # Segment 1 limits 307/15 -/+ 2.66 = 17.81..23.13: a target of 15 lies below
        # them (consistent pass if higher is better); the first segment's limits
        # 7.81..13.13 would have said consistent fail.
        chart = xmr(self.SEGMENTED, rebase_at=[15], target=15)
        assert chart.assurance == CONSISTENT_PASS
        assert xmr(self.SEGMENTED[:15], target=15).assurance == CONSISTENT_FAIL


# --------------------------------------------------------------------------- gaps


class TestGaps:
    def test_gap_is_skipped(self) -> None:
        values = [1.0, math.nan, 3.0, 2.0]
        chart = xmr(values)
        # Mean of 1, 3, 2 = 2; moving ranges |3 - 1| = 2 (across the gap), 1.
        assert_allclose(chart.mean[1], 2.0)
        assert_allclose(chart.moving_range, [math.nan, math.nan, 2.0, 1.0])
        assert_allclose(chart.mean_moving_range[1], 1.5)
        assert chart.variation[1] is None and chart.rule[1] is None
        assert not math.isnan(chart.upper[1])  # a gap still has limits

    @given(
        st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=40),
        st.lists(st.booleans(), min_size=40, max_size=40),
        st.sampled_from(["increase", "decrease", "neutral"]),
    )
    @settings(max_examples=60, deadline=None)
    def test_gaps_equal_the_compressed_series(
        self, values: list[float], gap: list[bool], improvement: str
    ) -> None:
        with_gaps = [math.nan if g else v for v, g in zip(values, gap, strict=False)]
        assume(any(not math.isnan(v) for v in with_gaps))
        chart = xmr(with_gaps, improvement=improvement)
        present = [v for v in with_gaps if not math.isnan(v)]
        packed = xmr(present, improvement=improvement)
        assert [v for v in chart.variation if v is not None] == list(packed.variation)
        assert_allclose(chart.mean[0], packed.mean[0], rtol=1e-12)
        assert_allclose(chart.upper[0], packed.upper[0], rtol=1e-12, atol=1e-12)

    def test_all_gaps(self) -> None:
        chart = xmr([math.nan, math.nan])
        assert chart.variation == (None, None)
        assert math.isnan(chart.mean[0]) and math.isnan(chart.upper[0])
        assert chart.trial_limits is True

    def test_flat_series_has_zero_width_limits(self) -> None:
        chart = xmr([5.0] * 15 + [6.0])
        assert chart.lower[0] == chart.upper[0] == pytest.approx(81 / 16)
        assert chart.variation[-1] == IMPROVE


# --------------------------------------------------------------------------- properties


@given(
    st.lists(st.integers(-20, 20), min_size=2, max_size=40),
    st.integers(-1000, 1000),
    st.sampled_from(["increase", "decrease", "neutral"]),
    st.booleans(),
    st.data(),
)
@settings(max_examples=200, deadline=None)
def test_property_labels_unchanged_by_adding_an_integer(
    values: list[int], shift: int, improvement: str, screen: bool, data: st.DataObject
) -> None:
    # Exactly, ties on a limit included: xmr measures every value from the first
    # one, so the arithmetic on an integer series does not depend on the shift.
    rebase_at = data.draw(st.lists(st.integers(1, len(values) - 1), max_size=2, unique=True))
    options = {"improvement": improvement, "screen_outliers": screen, "rebase_at": rebase_at}
    base = xmr(values, **options)  # type: ignore[arg-type]
    moved = xmr([v + shift for v in values], **options)  # type: ignore[arg-type]
    assert moved.variation == base.variation
    assert moved.rule == base.rule
    assert moved.mean_moving_range == base.mean_moving_range
    batch = xmr_batch([values, [v + shift for v in values]], improvement, screen)
    assert batch.variation(0) == batch.variation(1)
    if not rebase_at:
        assert batch.variation(0) == base.variation


# --------------------------------------------------------------------------- batch


def _assert_batch_equals_scalar(values: np.ndarray, improvement: str, screen: bool) -> None:
    batch = xmr_batch(values, improvement=improvement, screen_outliers=screen)
    for row in range(values.shape[0]):
        chart = xmr(values[row], improvement=improvement, screen_outliers=screen)
        assert batch.variation(row) == chart.variation, row
        assert batch.rule(row) == chart.rule, row
        numbers = [
            batch.mean[row],
            batch.lower[row],
            batch.upper[row],
            batch.lower_near[row],
            batch.upper_near[row],
            batch.mean_moving_range[row],
        ]
        expected = [
            chart.mean[0],
            chart.lower[0],
            chart.upper[0],
            chart.lower_near[0],
            chart.upper_near[0],
            chart.mean_moving_range[0],
        ]
        assert_allclose(numbers, expected, rtol=0, atol=1e-12)


def _constructed_rows(rng: np.random.Generator, waves: int) -> np.ndarray:
    rows = []
    for _ in range(10):
        base = rng.normal(50, 2, waves)
        spike = base.copy()
        spike[rng.integers(waves)] += rng.choice([-1, 1]) * 30  # rule 1
        trend = base.copy()
        start = rng.integers(0, waves - 8)
        trend[start : start + 8] = 50 + rng.choice([-1, 1]) * np.arange(8) * 0.8  # rule 2
        close = base.copy()
        start = rng.integers(0, waves - 3)
        close[start : start + 3] = [56.5, 52, 56.5]  # rule 3 (if the limits allow)
        shift = base.copy()
        start = rng.integers(0, waves - 9)
        shift[start : start + 9] = np.abs(shift[start : start + 9] - 50) + 50.5  # rule 4
        rows += [spike, trend, close, shift]
    return np.array(rows)


class TestBatch:
    @pytest.mark.parametrize("improvement", ["increase", "decrease", "neutral"])
    @pytest.mark.parametrize("screen", [True, False])
    def test_equals_scalar_random_with_gaps(self, improvement: str, screen: bool) -> None:
        rng = np.random.default_rng(7)
        values = rng.normal(0, 1, size=(60, 30)).cumsum(axis=1) * 0.3 + rng.normal(size=(60, 30))
        values[rng.random(values.shape) < 0.12] = np.nan
        values[0] = np.nan  # a row of gaps only
        values[1, 1:] = np.nan  # a single present value
        _assert_batch_equals_scalar(values, improvement, screen)

    def test_equals_scalar_constructed_special_causes(self) -> None:
        rng = np.random.default_rng(11)
        values = _constructed_rows(rng, 26)
        gappy = values.copy()
        gappy[rng.random(values.shape) < 0.08] = np.nan
        all_rows = np.vstack([values, gappy, [TREND_BEATS_SHIFT + [6, 0, 6]]])
        batch = xmr_batch(all_rows)
        seen = {r for row in range(all_rows.shape[0]) for r in batch.rule(row) if r}
        assert seen == {RULE_OUTSIDE_LIMITS, RULE_TREND, RULE_TWO_IN_THREE, RULE_SHIFT}
        for improvement in ("increase", "decrease", "neutral"):
            _assert_batch_equals_scalar(all_rows, improvement, True)

    def test_hand_cases_in_one_batch(self) -> None:
        rows = [TREND, TWO_OF_THREE_SAME_SIDE, TWO_OF_THREE_BOTH_SIDES, SHIFT + [10] * 4]
        batch = xmr_batch(rows)
        assert_array_equal(batch.rule_code[0, 8:15], 1)
        assert batch.rule(1)[10] == RULE_TWO_IN_THREE and batch.rule(1)[11] is None
        assert set(batch.variation(2)) == {COMMON_CAUSE}
        assert_allclose(batch.mean[1], 11.7)
        assert batch.labels[batch.variation_code[0, 8]] == IMPROVE
        assert not batch.mean.flags.writeable


# --------------------------------------------------------------------------- p charts


class TestProportionCharts:
    def test_equal_n_by_hand(self) -> None:
        # 45, 55, 50, 50 of 100: p_bar = 0.5, sigma = sqrt(0.25/100) = 0.05;
        # p-chart limits 0.35 and 0.65, near 0.40 and 0.60.  Laney: z = -1, 1, 0, 0,
        # moving ranges 2, 1, 0 (mean 1), sigma_z = 1/1.128 = 0.886525; limits
        # 0.5 -/+ 0.15/1.128 = 0.3670213 and 0.6329787.
        chart = p_chart([45, 55, 50, 50], [100] * 4)
        assert chart.centre == 0.5
        assert_allclose(
            [chart.lower[0], chart.upper[0], chart.lower_near[0], chart.upper_near[0]],
            [0.35, 0.65, 0.40, 0.60],
            rtol=1e-14,
        )
        laney = laney_p_prime_chart([45, 55, 50, 50], [100] * 4)
        assert_allclose(laney.sigma_z, 0.886525, atol=5e-7)
        assert_allclose([laney.lower[0], laney.upper[0]], [0.3670213, 0.6329787], atol=5e-8)
        assert set(laney.variation) == {COMMON_CAUSE}

    def test_varying_n_by_hand(self) -> None:
        # 38/100, 224/400, 62/100, 176/400: p_bar = 500/1000 = 0.5; sigma 0.05 for
        # n = 100 and 0.025 for n = 400, so p-chart limits 0.35..0.65 and
        # 0.425..0.575.  z = -2.4, 2.4, 2.4, -2.4; moving ranges 4.8, 0, 4.8, mean
        # 3.2; sigma_z = 3.2/1.128 = 2.836879; Laney limits 0.5 -/+ 3 * 0.05 *
        # 2.836879 = 0.0744681..0.9255319 (n = 100) and 0.2872340..0.7127660.
        k, n = [38, 224, 62, 176], [100, 400, 100, 400]
        chart = p_chart(k, n)
        assert_allclose(chart.lower, [0.35, 0.425, 0.35, 0.425], rtol=1e-14)
        assert_allclose(chart.upper, [0.65, 0.575, 0.65, 0.575], rtol=1e-14)
        laney = laney_p_prime_chart(k, n)
        assert_allclose(laney.sigma_z, 2.836879, atol=5e-7)
        assert_allclose(laney.lower, [0.0744681, 0.2872340, 0.0744681, 0.2872340], atol=5e-8)
        assert_allclose(laney.upper, [0.9255319, 0.7127660, 0.9255319, 0.7127660], atol=5e-8)

    def test_laney_stops_the_p_chart_over_signalling(self) -> None:
        # 10,000 answers a wave, alternating 48 % and 54 %: p_bar = 0.51,
        # sigma_p = sqrt(0.51 * 0.49 / 10000) = 0.0049990, p-chart limits
        # 0.51 -/+ 0.014997: every wave is outside.  Laney: |z| = 0.03/sigma_p, moving
        # range 0.06/sigma_p, so sigma_p * sigma_z = 0.06/1.128 and the limits are
        # 0.51 -/+ 0.18/1.128 = 0.3504255..0.6695745: no wave is outside.
        k, n = [4800, 5400] * 6, [10_000] * 12
        chart = p_chart(k, n)
        assert_allclose([chart.lower[0], chart.upper[0]], [0.495003, 0.524997], atol=5e-7)
        assert chart.variation == (CONCERN, IMPROVE) * 6
        assert set(chart.rule) == {RULE_OUTSIDE_LIMITS}
        laney = laney_p_prime_chart(k, n)
        assert_allclose([laney.lower[0], laney.upper[0]], [0.3504255, 0.6695745], atol=5e-8)
        assert set(laney.variation) == {COMMON_CAUSE}

    def test_gap_and_clipping(self) -> None:
        chart = p_chart([0, 1, 0, 2], [5, 5, 0, 5], improvement="decrease")
        assert chart.variation[2] is None and math.isnan(chart.proportion[2])
        assert chart.lower[0] == 0.0  # p_bar - 3 sigma < 0 is clipped
        assert chart.upper[0] <= 1.0

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="successes must not exceed n"):
            p_chart([3], [2])
        with pytest.raises(ValueError, match="same length"):
            p_chart([1, 2], [3])
        with pytest.raises(ValueError, match="improvement"):
            laney_p_prime_chart([1], [3], improvement="up")
        with pytest.raises(ValueError, match="at least one wave"):
            p_chart([0], [0])


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": []}, "values must not be empty"),
        ({"values": [1, math.inf]}, "infinite"),
        ({"values": [[1, 2]]}, "1-dimensional"),
        ({"values": [1, 2], "improvement": "up"}, "improvement must be one of"),
        ({"values": [1, 2, 3], "rebase_at": [0]}, "rebase_at positions"),
        ({"values": [1, 2, 3], "rebase_at": [3]}, "rebase_at positions"),
        ({"values": [1, 2, 3], "rebase_at": [1, 1]}, "rebase_at must not repeat"),
        ({"values": [1, 2, 3], "rebase_at": [1.5]}, "rebase_at must hold integer"),
        ({"values": [1, 2, 3], "rebase_at": 1}, "rebase_at must be a sequence"),
        ({"values": [1, 2, 3], "rebase_at": None}, "rebase_at must be a sequence"),
        ({"values": [1, 2, 3], "fix_after": 12.0}, "fix_after must be an integer"),
        ({"values": [1, 2, 3], "fix_after": 11}, "fix_after must be at least 12"),
        ({"values": [1, 2, 3], "fix_after": True}, "fix_after must be an integer"),
        ({"values": [1, 2, 3], "target": math.nan}, "target must be finite"),
    ],
)
def test_xmr_bad_input(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        xmr(**kwargs)  # type: ignore[arg-type]


def test_xmr_batch_bad_input() -> None:
    with pytest.raises(ValueError, match="2-dimensional"):
        xmr_batch([1, 2, 3])
    with pytest.raises(ValueError, match="improvement"):
        xmr_batch([[1, 2, 3]], improvement="better")
