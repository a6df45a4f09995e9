"""Tests for analysis.fatigue (per-wave indicators and fatigue levels)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats

from analysis.fatigue import (
    LEVELS,
    assess_fatigue,
    assess_fatigue_batch,
    wave_indicators,
)
from analysis.proportions import trend_test

# R session (R 4.2) for the pasted values:
#   r <- c(25, 12, 24, 10, 22, 9, 20, 8); n <- rep(30, 8)
#   prop.trend.test(r, n, score = 0:7)$statistic         # 10.02517482517484
#   suppressWarnings(prop.test(r, n))$statistic          # 48.53706293706293
#   (48.53706293706293 - 10.02517482517484) / 6          # dispersion 6.41864801864801
#   b <- c(3, 4, 4, 6, 7, 8, 9, 12); s <- c(60, 60, 57, 60, 54, 60, 57, 60)
#   prop.trend.test(b, s, score = 0:7)$statistic         # 10.46286741073364
#   (prop.test(b, s)$statistic - 10.46286741073364) / 6  # 0.0658019544782341
#   y <- c(120, 118, 110, 104, 99, 101, 90, 85)
#   t <- summary(lm(y ~ I(0:7)))$coefficients[2, 3]     # -12.3342554808840
#   pt(t, 6)                                             # 8.65919272400991e-06
ZIGZAG = [25, 12, 24, 10, 22, 9, 20, 8]
BLANK = [3, 4, 4, 6, 7, 8, 9, 12]
SHOWN = [60, 60, 57, 60, 54, 60, 57, 60]
LENGTHS = [120, 118, 110, 104, 99, 101, 90, 85]
FLAT = [20, 21, 19, 20, 20, 21, 19, 20]
SECONDS = [300, 290, 275, 262, 265, 240, 231, 215]


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


class TestWaveIndicators:
    def test_hand_computed(self) -> None:
        w = wave_indicators(
            invited=40,
            responded=30,
            items_presented=150,
            items_blank=6,
            dont_know_offered=60,
            dont_know=3,
            free_text_lengths=[10, 40, 100],
            completion_seconds=[50, 70, 90, 200],
        )
        assert_allclose(
            [w.response_rate, w.item_nonresponse_rate, w.dont_know_rate], [0.75, 0.04, 0.05]
        )
        assert w.n_free_text == 3
        assert_allclose([w.mean_free_text_length, w.median_free_text_length], [50.0, 40.0])
        assert w.median_completion_seconds == 80.0

    def test_optional_parts_default_to_none(self) -> None:
        w = wave_indicators(invited=10, responded=0)
        assert w.response_rate == 0.0
        assert w.item_nonresponse_rate is None and w.dont_know_rate is None
        assert w.mean_free_text_length is None and w.median_completion_seconds is None
        assert w.n_free_text == 0

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"invited": 0}, "invited must be positive"),
            ({"invited": -3}, "invited"),
            ({"responded": 11}, "must not exceed invited"),
            ({"responded": 2.5}, "responded"),
            ({"items_blank": 3}, "given together"),
            ({"items_blank": 9, "items_presented": 5}, "items_blank"),
            ({"dont_know": 1, "dont_know_offered": None}, "given together"),
            ({"free_text_lengths": [3, -1]}, "free_text_lengths"),
            ({"completion_seconds": [np.nan]}, "completion_seconds"),
        ],
    )
    def test_rejects(self, kwargs: dict[str, object], match: str) -> None:
        args: dict[str, object] = {"invited": 10, "responded": 5}
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            wave_indicators(**args)  # type: ignore[arg-type]


class TestAssessFatigue:
    def test_too_few_waves(self) -> None:
        a = assess_fatigue([20, 15, 10], [30, 30, 30])
        assert a.level == "none"
        assert a.reasons == ("Too few pulses to judge: 3 with answers, 4 needed.",)
        assert a.trends == ()

    def test_missing_waves_do_not_count(self) -> None:
        a = assess_fatigue([20, np.nan, 15, 0, 10], [30, 30, np.nan, 0, 30])
        assert a.n_waves == 2 and a.level == "none"

    def test_falling_response_rate_is_fatigued(self) -> None:
        responded = [21, 20, 22, 17, 16, 18, 14, 13]
        a = assess_fatigue(responded, [30] * 8)
        assert a.level == "fatigued"
        rate = a.trends[0]
        assert rate.name == "response_rate"
        # R: prop.trend.test(r, rep(30, 8), score = 0:7)$statistic = 8.024316109422514,
        # dispersion (10.161186331399097 - 8.024316109422514) / 6 = 0.356 < 1, so z
        # is not adjusted; p is one-sided Phi(z).
        assert_allclose(rate.statistic, -math.sqrt(8.024316109422514), rtol=1e-10)
        assert_allclose(rate.p_value, special.ndtr(-math.sqrt(8.024316109422514)), rtol=1e-10)
        assert_allclose(a.dispersion, 0.356145036996097, rtol=1e-10)
        # With equal invitations the fitted line is ordinary least squares, by hand:
        # x = 0..7 (mean 3.5, Sxx = 42), y = responded / 30 (sum 141/30 = 4.7, mean
        # 0.5875), Sxy = 444/30 - 3.5 * 4.7 = -1.65, slope = -1.65/42, intercept =
        # 0.5875 + 3.5 * 1.65/42 = 0.725, end = 0.725 - 7 * 1.65/42 = 0.45.
        assert_allclose([rate.start, rate.end], [0.725, 0.45], atol=1e-12)
        assert_allclose(a.response_rate_drop, 0.275, atol=1e-12)
        # 0.725 is a rounding edge (72% or 73% by the last bit), so the sentence is
        # checked on the next test's data; here only its shape and the end.
        assert a.reasons[0].startswith("Response rate fell from ")
        assert a.reasons[0].endswith(" to 45% over 8 pulses (trend p = 0.002).")
        assert a.alpha_per_indicator == 0.05 / 5  # Bonferroni over the five indicators

    def test_falling_response_rate_is_said_in_whole_percentages(self) -> None:
        # y = responded / 30: mean 148/240, Sxy = 454/30 - 3.5 * 148/30 = -6.4/3, slope
        # = -6.4/126, start = 148/240 + 3.5 * 6.4/126 = 143/180 (79.4%), end = 143/180
        # - 7 * 6.4/126 = 79/180 (43.9%): neither near a rounding edge.
        a = assess_fatigue([24, 22, 21, 19, 18, 16, 15, 13], [30] * 8)
        rate = a.trends[0]
        assert_allclose([rate.start, rate.end], [143 / 180, 79 / 180], atol=1e-12)
        assert rate.p_value < 0.001 and a.level == "fatigued"
        assert a.reasons[0] == (
            "Response rate fell from 79% to 44% over 8 pulses (trend p < 0.001)."
        )

    def test_overdispersed_rates_are_not_a_trend(self) -> None:
        # The zigzag has a binomial trend p of 0.0008, but the waves scatter
        # 6.4 times as much as a binomial about the line: z is divided by
        # sqrt(6.42) and the one-sided p (0.106) is no longer significant.
        a = assess_fatigue(ZIGZAG, [30] * 8)
        z = -math.sqrt(10.02517482517484) / math.sqrt(6.41864801864801)
        assert_allclose(a.trends[0].statistic, z, rtol=1e-10)
        assert_allclose(a.dispersion, 6.41864801864801, rtol=1e-10)
        assert_allclose(a.trends[0].p_value, special.ndtr(z), rtol=1e-10)
        assert a.level == "none"
        assert a.reasons[0].startswith("No sign of survey fatigue over 8 pulses")

    def test_one_other_indicator_worsening_is_watch(self) -> None:
        a = assess_fatigue(FLAT, [30] * 8, items_blank=BLANK, items_presented=SHOWN)
        blank = a.trends[1]
        assert blank.name == "item_nonresponse"
        # R: X2 = 10.46286741073364, dispersion 0.066 < 1; worsening = rising.
        assert_allclose(blank.statistic, math.sqrt(10.46286741073364), rtol=1e-10)
        assert_allclose(blank.p_value, special.ndtr(-math.sqrt(10.46286741073364)), rtol=1e-10)
        assert blank.worsening
        slope, intercept = np.polyfit(
            np.arange(8), np.array(BLANK) / np.array(SHOWN), 1, w=np.sqrt(SHOWN)
        )
        assert_allclose([blank.start, blank.end], [intercept, intercept + 7 * slope])
        assert a.level == "watch"
        # The fitted rates are 4.2% and 18.5%, well clear of a rounding edge.
        assert_allclose([blank.start, blank.end], [0.04166, 0.18537], atol=1e-5)
        assert a.reasons == (
            "Items left blank rose from 4% to 19% of those shown over 8 pulses "
            "(trend p < 0.001).",
        )

    def test_free_text_trend_matches_r(self) -> None:
        a = assess_fatigue(FLAT, [30] * 8, free_text_mean_length=LENGTHS)
        text = a.trends[1]
        assert text.name == "free_text_length"
        assert_allclose(text.statistic, -12.3342554808840, rtol=1e-10)
        assert_allclose(text.p_value, 8.65919272400991e-06, rtol=1e-8)
        slope, intercept = np.polyfit(np.arange(8), LENGTHS, 1)
        assert_allclose([text.start, text.end], [intercept, intercept + 7 * slope])
        assert a.level == "watch"
        # By hand: mean 103.375, Sxy = -208.5, slope = -208.5/42, start 103.375 + 3.5 *
        # 208.5/42 = 120.75, end 120.75 - 7 * 208.5/42 = 86.0.
        assert_allclose([text.start, text.end], [120.75, 86.0], atol=1e-9)
        assert a.reasons[0] == (
            "Free-text comments shortened from about 121 to 86 characters over 8 pulses "
            "(trend p < 0.001)."
        )

    def test_faster_completion_is_an_indicator(self) -> None:
        # Median completion time falling wave on wave.  Reference by the textbook
        # OLS formulae, written out here: slope = Sxy/Sxx, se = sqrt(SSE/(n-2)/Sxx),
        # t = slope/se, one-sided p = P(t_{n-2} < t).
        a = assess_fatigue(FLAT, [30] * 8, median_completion_seconds=SECONDS)
        time = a.trends[1]
        assert time.name == "completion_time"
        x, y = np.arange(8.0), np.array(SECONDS, dtype=float)
        sxx = ((x - x.mean()) ** 2).sum()
        slope = ((x - x.mean()) * (y - y.mean())).sum() / sxx
        intercept = y.mean() - slope * x.mean()
        sse = ((y - intercept - slope * x) ** 2).sum()
        t = slope / math.sqrt(sse / 6 / sxx)
        assert_allclose(time.statistic, t, rtol=1e-10)
        assert_allclose(time.p_value, stats.t.cdf(t, 6), rtol=1e-8)
        assert_allclose([time.start, time.end], [intercept, intercept + 7 * slope])
        assert time.worsening and a.level == "watch"
        # The line runs from 301.08 to 218.42 seconds: no rounding edge.
        assert_allclose([intercept, intercept + 7 * slope], [301.0833, 218.4167], atol=1e-4)
        assert a.reasons[0] == (
            "Median completion time fell from about 301 to 218 seconds over 8 pulses "
            f"(trend {_p(time.p_value)})."
        )
        # Slower completion is not a sign of fatigue.
        slower = assess_fatigue(FLAT, [30] * 8, median_completion_seconds=SECONDS[::-1])
        assert not slower.trends[1].worsening and slower.level == "none"
        assert "completion time" in slower.reasons[0]

    def test_two_indicators_together_are_fatigued(self) -> None:
        a = assess_fatigue(
            FLAT,
            [30] * 8,
            items_blank=BLANK,
            items_presented=SHOWN,
            free_text_mean_length=LENGTHS,
        )
        assert a.level == "fatigued"
        assert len(a.reasons) == 2

    def test_dont_know_rising(self) -> None:
        a = assess_fatigue(FLAT, [30] * 8, dont_know=BLANK, dont_know_offered=SHOWN)
        assert a.trends[1].name == "dont_know" and a.trends[1].worsening
        assert a.reasons[0].startswith('"Don\'t know" answers rose from')

    def test_small_significant_fall_is_watch(self) -> None:
        # A large team losing 6 points steadily: significant, under 10 points.
        responded = [int(round(1000 * (0.70 - 0.0075 * i))) for i in range(9)]
        a = assess_fatigue(responded, [1000] * 9)
        assert a.trends[0].worsening
        assert a.response_rate_drop < 0.10
        assert a.level == "watch"
        assert "under the 10 points" in a.reasons[0]
        assert assess_fatigue(responded, [1000] * 9, material_drop=0.05).level == "fatigued"

    def test_last_wave_below_limit_is_watch(self) -> None:
        # 15 waves at 20/30 then 12/30.  Earlier waves are exactly binomial-
        # free (dispersion 0, taken as 1), so the p-chart limit is
        # 2/3 - 3 * sqrt((2/3)(1/3)/30) = 0.40847; 12/30 = 0.4 is below.
        a = assess_fatigue([20] * 15 + [12], [30] * 16)
        assert a.last_wave_below_limit
        assert a.level == "watch"
        assert "The latest response rate (40%) is below the lowest expected" in a.reasons[-1]
        b = assess_fatigue([20] * 15 + [13], [30] * 16)
        assert not b.last_wave_below_limit

    def test_gaps_keep_their_place_in_time(self) -> None:
        responded = [21, np.nan, 20, 19, np.nan, 15, 14]
        a = assess_fatigue(responded, [30] * 7)
        ref = trend_test([21, 20, 19, 15, 14], [30] * 5, scores=[0, 2, 3, 5, 6])
        assert_allclose(a.trends[0].statistic, ref.z / math.sqrt(max(1.0, a.dispersion)))

    def test_optional_indicator_with_too_few_waves_is_skipped(self) -> None:
        lengths = [np.nan] * 5 + [100, 90, 80]
        a = assess_fatigue(FLAT, [30] * 8, free_text_mean_length=lengths)
        assert [t.name for t in a.trends] == ["response_rate"]

    def test_constant_lengths_and_perfect_falls(self) -> None:
        flat = assess_fatigue(FLAT, [30] * 8, free_text_mean_length=[50.0] * 8)
        assert flat.trends[1].p_value == 1.0
        line = assess_fatigue(
            FLAT, [30] * 8, free_text_mean_length=[80, 70, 60, 50, 40, 30, 20, 10]
        )
        assert line.trends[1].p_value == 0.0 and line.trends[1].worsening

    def test_everyone_answers_every_wave(self) -> None:
        a = assess_fatigue([30] * 6, [30] * 6)
        assert a.level == "none"
        assert_allclose(a.trends[0].p_value, 0.5)  # z = 0: no trend either way

    @pytest.mark.parametrize(
        ("args", "kwargs", "match"),
        [
            (([5, 6], [10]), {}, "responded has 2 waves"),
            (([11, 6], [10, 10]), {}, "must not exceed invited"),
            (([-1, 6], [10, 10]), {}, "responded"),
            (([[1, 6]], [[10, 10]]), {}, "1-dimensional"),
            (([5, 6], [10, 10]), {"items_blank": [1, 1]}, "given together"),
            (([5, 6], [10, 10]), {"items_blank": [1, 1], "items_presented": [1]}, "shape"),
            (([5, 6], [10, 10]), {"dont_know": [3, 1], "dont_know_offered": [2, 2]}, "dont_know"),
            (([5, 6], [10, 10]), {"free_text_mean_length": [1.0]}, "free_text_mean_length"),
            (([5, 6], [10, 10]), {"free_text_mean_length": [-1.0, 2.0]}, "not negative"),
            (
                ([5, 6], [10, 10]),
                {"median_completion_seconds": [np.inf, 2.0]},
                "median_completion_seconds must be finite",
            ),
            (([5, 6], [10, 10]), {"median_completion_seconds": ["a", "b"]}, "numbers only"),
            (([5, 6], [10, 10]), {"min_waves": 2}, "min_waves"),
            (([5, 6], [10, 10]), {"alpha": 0.0}, "alpha"),
            (([5, 6], [10, 10]), {"material_drop": -0.1}, "material_drop"),
        ],
    )
    def test_rejects(
        self, args: tuple[object, object], kwargs: dict[str, object], match: str
    ) -> None:
        with pytest.raises(ValueError, match=match):
            assess_fatigue(*args, **kwargs)  # type: ignore[arg-type]


def random_teams(seed: int, teams: int, waves: int) -> dict[str, np.ndarray]:
    """Teams with assorted trends, sizes, dispersion and missing waves."""
    rng = np.random.default_rng(seed)
    invited = rng.integers(4, 80, (teams, waves)).astype(float)
    start = rng.uniform(0.2, 0.95, (teams, 1))
    slope = rng.uniform(-0.06, 0.02, (teams, 1))
    noise = rng.normal(0, rng.uniform(0, 0.1, (teams, 1)), (teams, waves))
    rate = np.clip(start + slope * np.arange(waves) + noise, 0, 1)
    responded = rng.binomial(invited.astype(int), rate).astype(float)
    responded[rng.random((teams, waves)) < 0.1] = np.nan
    gone = rng.random((teams, waves)) < 0.05
    invited[gone] = 0
    responded[gone] = 0
    shown = np.nan_to_num(responded) * 3
    blank = rng.binomial(
        shown.astype(int),
        np.clip(0.05 + rng.uniform(-0.005, 0.02, (teams, 1)) * np.arange(waves), 0, 1),
    ).astype(float)
    blank[rng.random((teams, waves)) < 0.1] = np.nan
    offered = np.nan_to_num(responded) * 2
    dont_know = rng.binomial(offered.astype(int), rng.uniform(0.02, 0.3, (teams, 1))).astype(float)
    lengths = np.abs(
        rng.normal(100, 25, (teams, waves)) - rng.uniform(-2, 8, (teams, 1)) * np.arange(waves)
    )
    lengths[rng.random((teams, waves)) < 0.15] = np.nan
    seconds = np.abs(
        rng.normal(240, 30, (teams, waves)) - rng.uniform(-3, 10, (teams, 1)) * np.arange(waves)
    )
    seconds[rng.random((teams, waves)) < 0.3] = np.nan  # not known for every wave
    return {
        "responded": responded,
        "invited": invited,
        "items_blank": blank,
        "items_presented": shown,
        "dont_know": dont_know,
        "dont_know_offered": offered,
        "free_text_mean_length": lengths,
        "median_completion_seconds": seconds,
    }


class TestBatch:
    def test_levels_equal_scalar_row_by_row(self) -> None:
        data = random_teams(5, 400, 12)
        batch = assess_fatigue_batch(**data)
        levels = []
        for i in range(400):
            a = assess_fatigue(**{k: v[i] for k, v in data.items()})
            levels.append(LEVELS.index(a.level))
            assert batch.n_waves[i] == a.n_waves
            if a.n_waves >= 4:
                assert_allclose(batch.response_z[i], a.trends[0].statistic, rtol=1e-9, atol=1e-12)
                assert_allclose(
                    [batch.response_rate_start[i], batch.response_rate_end[i]],
                    [a.trends[0].start, a.trends[0].end],
                    rtol=1e-9,
                    atol=1e-12,
                )
                assert batch.n_worsening[i] == sum(t.worsening for t in a.trends)
                assert batch.last_wave_below_limit[i] == a.last_wave_below_limit
        assert_array_equal(batch.levels, levels)
        # The seeded mix reaches every level.
        assert set(levels) == {0, 1, 2}

    def test_response_rate_only(self) -> None:
        data = random_teams(6, 200, 8)
        batch = assess_fatigue_batch(data["responded"], data["invited"])
        scalar = [
            LEVELS.index(assess_fatigue(data["responded"][i], data["invited"][i]).level)
            for i in range(200)
        ]
        assert_array_equal(batch.levels, scalar)

    @settings(max_examples=60, deadline=None)
    @given(
        st.integers(min_value=1, max_value=40).flatmap(
            lambda n_waves: st.lists(
                st.tuples(st.integers(0, 30), st.integers(0, 30)),
                min_size=n_waves,
                max_size=n_waves,
            )
        )
    )
    def test_equal_scalar_on_any_series(self, pairs: list[tuple[int, int]]) -> None:
        invited = np.array([max(a, b) for a, b in pairs], dtype=float)
        responded = np.array([min(a, b) for a, b in pairs], dtype=float)
        batch = assess_fatigue_batch(responded[None, :], invited[None, :])
        scalar = assess_fatigue(responded, invited)
        assert LEVELS[batch.levels[0]] == scalar.level

    def test_too_few_waves_rows(self) -> None:
        b = assess_fatigue_batch([[20, 10, 5, np.nan]], [[30, 30, 30, 30]])
        assert b.levels[0] == 0 and b.n_waves[0] == 3
        assert math.isnan(b.response_p[0])

    def test_rejects(self) -> None:
        with pytest.raises(ValueError, match="2-dimensional"):
            assess_fatigue_batch([1, 2], [3, 4])
        with pytest.raises(ValueError, match="shape"):
            assess_fatigue_batch([[1, 2]], [[3, 4, 5]])
        with pytest.raises(ValueError, match="must not exceed invited"):
            assess_fatigue_batch([[5, 2]], [[3, 4]])
