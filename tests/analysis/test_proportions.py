"""Tests for analysis.proportions against published and independently computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from analysis.proportions import (
    exact_two_waves,
    fft_percentages,
    newcombe_difference,
    trend_test,
    trend_tests,
    wilson_interval,
    wilson_intervals,
)

FAST = settings(max_examples=60, deadline=None)


@st.composite
def successes_and_n(draw: st.DrawFn, max_n: int = 200) -> tuple[int, int]:
    n = draw(st.integers(1, max_n))
    return draw(st.integers(0, n)), n


# --------------------------------------------------------------------------- Wilson


class TestWilsonInterval:
    # Newcombe RG (1998), "Two-sided confidence intervals for the single proportion:
    # comparison of seven methods", Stat Med 17:857-872, Table II, method 3 (score
    # interval without continuity correction), printed to 4 decimals.
    @pytest.mark.parametrize(
        ("k", "n", "lower", "upper"),
        [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0000, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ],
    )
    def test_newcombe_1998_table(self, k: int, n: int, lower: float, upper: float) -> None:
        result = wilson_interval(k, n)
        assert_allclose([result.lower, result.upper], [lower, upper], atol=5e-5)
        assert result.estimate == k / n

    @pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
    @pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 7), (17, 40), (250, 251)])
    def test_matches_scipy_binomtest(self, k: int, n: int, confidence: float) -> None:
        # scipy.stats.binomtest(k, n).proportion_ci(method="wilson"), no correction.
        expected = stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
        result = wilson_interval(k, n, confidence)
        assert_allclose([result.lower, result.upper], [expected.low, expected.high], rtol=1e-12)
        assert result.confidence == confidence

    def test_hand_computed_half(self) -> None:
        # 5/10 at 95%: centre (10 + z^2) / (2(10 + z^2)) = 0.5 exactly and half-width
        # z/(2(10+z^2)) * sqrt(4*10*0.25 + z^2) with z = 1.959963984540054:
        # z^2 = 3.841458820694124, 2(n + z^2) = 27.682917641388248,
        # sqrt(13.841458820694124) = 3.720411112... -> 0.263408...
        result = wilson_interval(5, 10)
        z = 1.959963984540054
        half = z / (2 * (10 + z * z)) * math.sqrt(10 + z * z)
        assert_allclose([result.lower, result.upper], [0.5 - half, 0.5 + half], rtol=1e-14)
        assert_allclose(half, 0.2634, atol=5e-5)

    @given(successes_and_n(), st.sampled_from([0.9, 0.95, 0.99]))
    @FAST
    def test_interval_contains_estimate_and_mirrors(
        self, kn: tuple[int, int], confidence: float
    ) -> None:
        k, n = kn
        result = wilson_interval(k, n, confidence)
        assert 0.0 <= result.lower <= result.estimate <= result.upper <= 1.0
        mirror = wilson_interval(n - k, n, confidence)
        assert_allclose(
            [mirror.lower, mirror.upper], [1 - result.upper, 1 - result.lower], atol=1e-12
        )

    @pytest.mark.parametrize(
        ("args", "match"),
        [
            ((1, 0), "n must be positive"),
            ((-1, 5), "successes must not be negative"),
            ((1, -5), "n must not be negative"),
            ((6, 5), r"successes \(6\) must not exceed n \(5\)"),
            ((1.5, 5), "successes must be a whole number"),
            ((float("nan"), 5), "successes must be a whole number, got NaN"),
            ((1, 5, 1.0), "confidence"),
            ((1, 5, 0.0), "confidence"),
        ],
    )
    def test_bad_input(self, args: tuple[float, ...], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            wilson_interval(*args)  # type: ignore[arg-type]


class TestWilsonIntervals:
    def test_equals_scalar_and_nan_for_missing(self) -> None:
        k = np.array([[0, 3, 10], [0, np.nan, 0]])
        n = np.array([[10, 7, 10], [0, 8, 1]])
        estimate, lower, upper = wilson_intervals(k, n)
        # The bounds are exactly 0 for no successes and exactly 1 for all successes.
        assert lower[0, 0] == 0.0 and upper[0, 2] == 1.0 and lower[1, 2] == 0.0
        for i, j in np.ndindex(k.shape):
            if n[i, j] == 0 or np.isnan(k[i, j]):
                assert np.isnan(estimate[i, j]) and np.isnan(lower[i, j])
                assert np.isnan(upper[i, j])
                continue
            scalar = wilson_interval(int(k[i, j]), int(n[i, j]))
            assert_allclose(
                [estimate[i, j], lower[i, j], upper[i, j]],
                [scalar.estimate, scalar.lower, scalar.upper],
                rtol=0,
                atol=1e-15,
            )

    @given(st.lists(successes_and_n(), min_size=1, max_size=30))
    @FAST
    def test_property_equals_scalar(self, pairs: list[tuple[int, int]]) -> None:
        k, n = np.array(pairs).T
        estimate, lower, upper = wilson_intervals(k, n, 0.9)
        expected = [wilson_interval(int(a), int(b), 0.9) for a, b in pairs]
        assert_allclose(lower, [e.lower for e in expected], rtol=0, atol=1e-14)
        assert_allclose(upper, [e.upper for e in expected], rtol=0, atol=1e-14)
        assert_allclose(estimate, [e.estimate for e in expected], rtol=0, atol=1e-15)

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="successes must not exceed n"):
            wilson_intervals([3, 4], [3, 3])
        with pytest.raises(ValueError, match="n must not contain negative"):
            wilson_intervals([0], [-1])
        with pytest.raises(ValueError, match="broadcast"):
            wilson_intervals([1, 2, 3], [4, 5])


# --------------------------------------------------------------------------- FFT


class TestFFT:
    POSITIVE = ("Extremely likely", "Likely")
    NEGATIVE = ("Unlikely", "Extremely unlikely")

    def test_dont_know_is_in_the_denominator(self) -> None:
        # By hand: 20 answers; recommend 10 + 5 = 15 -> 75 %; not recommend 3 -> 15 %.
        counts = {"Extremely likely": 10, "Likely": 5, "Don't know": 2, "Unlikely": 3}
        result = fft_percentages(counts, self.POSITIVE, self.NEGATIVE)
        assert result.n_answers == 20
        assert_allclose([result.percent_recommend, result.percent_not_recommend], [75.0, 15.0])
        # Wilson 15/20 and 3/20 (scipy.stats.binomtest(...).proportion_ci("wilson")):
        # 0.531299..0.888138 and 0.052369..0.360419.
        assert_allclose(
            [result.recommend.lower, result.recommend.upper], [0.5312991, 0.8881383], atol=1e-7
        )
        assert_allclose(
            [result.not_recommend.lower, result.not_recommend.upper],
            [0.0523687, 0.3604189],
            atol=1e-7,
        )
        assert result.recommend.estimate == 0.75

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="at least one answer"):
            fft_percentages({"Likely": 0}, self.POSITIVE, self.NEGATIVE)
        with pytest.raises(ValueError, match="share answer options"):
            fft_percentages({"Likely": 1}, self.POSITIVE, ("Likely",))
        with pytest.raises(ValueError, match=r"counts\['Likely'\] must not be negative"):
            fft_percentages({"Likely": -1}, self.POSITIVE, self.NEGATIVE)
        with pytest.raises(ValueError, match="positive must name"):
            fft_percentages({"Likely": 1}, (), self.NEGATIVE)
        with pytest.raises(ValueError, match="positive must be a collection"):
            fft_percentages({"Likely": 1}, "Likely", self.NEGATIVE)
        with pytest.raises(ValueError, match="counts must map"):
            fft_percentages([("Likely", 1)], self.POSITIVE, self.NEGATIVE)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Newcombe


class TestNewcombe:
    # Newcombe RG (1998), "Interval estimation for the difference between independent
    # proportions: comparison of eleven methods", Stat Med 17:873-890, Table II,
    # method 10 (score-based hybrid, no continuity correction), for p1 - p2 with the
    # first pair written first, to 4 decimals.  Examples (a) and (b) are the values
    # quoted in the project brief; (c)-(h) are the other rows of the same table.
    # All eight were recomputed in review from the method-10 formula with Wilson
    # limits written out by hand (not via this module): they agree to 4 decimals.
    # Our function reports p2 - p1, so the pair is passed in reverse order.
    @pytest.mark.parametrize(
        ("x1", "n1", "x2", "n2", "lower", "upper"),
        [
            (56, 70, 48, 80, 0.0524, 0.3339),  # (a)
            (9, 10, 3, 10, 0.1705, 0.8090),  # (b)
            (6, 7, 2, 7, 0.0582, 0.8062),  # (c)
            (5, 56, 0, 29, -0.0381, 0.1926),  # (d)
            (0, 10, 0, 20, -0.1611, 0.2775),  # (e)
            (0, 10, 0, 10, -0.2775, 0.2775),  # (f)
            (10, 10, 0, 20, 0.6791, 1.0000),  # (g)
            (10, 10, 0, 10, 0.6075, 1.0000),  # (h)
        ],
    )
    def test_newcombe_1998_table_ii(
        self, x1: int, n1: int, x2: int, n2: int, lower: float, upper: float
    ) -> None:
        result = newcombe_difference(x2, n2, x1, n1)  # later = the paper's first
        assert_allclose(result.difference, x1 / n1 - x2 / n2, rtol=1e-14)
        assert_allclose([result.lower, result.upper], [lower, upper], atol=5e-5)

    def test_sign_is_later_minus_earlier(self) -> None:
        # 48/80 = 0.6 earlier, 56/70 = 0.8 later: a rise of 0.2, CI 0.0524 to 0.3339.
        result = newcombe_difference(48, 80, 56, 70)
        assert_allclose(result.difference, 0.2, rtol=1e-12)
        assert result.lower > 0
        assert (result.estimate1, result.estimate2) == (0.6, 0.8)

    @given(successes_and_n(60), successes_and_n(60))
    @FAST
    def test_swapping_waves_negates(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        forward = newcombe_difference(*a, *b)
        backward = newcombe_difference(*b, *a)
        assert_allclose(
            [backward.difference, backward.lower, backward.upper],
            [-forward.difference, -forward.upper, -forward.lower],
            atol=1e-12,
        )
        assert -1.0 - 1e-12 <= forward.lower <= forward.difference <= forward.upper <= 1 + 1e-12

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="n2 must be positive"):
            newcombe_difference(1, 5, 0, 0)
        with pytest.raises(ValueError, match=r"successes1 \(6\) must not exceed n1"):
            newcombe_difference(6, 5, 1, 5)


# --------------------------------------------------------------------------- exact


def _boschloo_one_sided_by_grid(table: np.ndarray, greater: bool) -> float:
    """Boschloo's one-sided p by brute force over a grid of the nuisance proportion.

    Independent of scipy's optimiser: enumerate every table with the observed column
    totals, order them by Fisher's one-sided p-value, and take the largest tail
    probability under a common proportion pi on a fine grid.
    """
    n1, n2 = table.sum(axis=0)
    total = n1 + n2
    x1 = np.arange(n1 + 1)[:, None]
    x2 = np.arange(n2 + 1)[None, :]
    if greater:  # evidence that column 1 has the higher proportion
        fisher = stats.hypergeom.sf(x1 - 1, total, x1 + x2, n1)
    else:
        fisher = stats.hypergeom.cdf(x1, total, x1 + x2, n1)
    observed = fisher[table[0, 0], table[0, 1]]
    extreme = fisher <= observed * (1 + 1e-13)
    pi = np.linspace(0.0, 1.0, 2001)[:, None, None]
    prob = stats.binom.pmf(x1, n1, pi) * stats.binom.pmf(x2, n2, pi)
    return float((prob * extreme).sum(axis=(1, 2)).max())


class TestExactTwoWaves:
    def test_published_example(self) -> None:
        # scipy.stats.boschloo_exact documentation (scientists vs professors, after
        # Wikipedia's "Boschloo's test"): table [[74, 31], [43, 32]] with
        # alternative="greater" prints statistic 0.0483 and p-value 0.0355 (both cut
        # to 4 decimals, not rounded).  The independent grid reproduces 0.0355...;
        # the two-sided value is twice the smaller one-sided p-value.
        table = np.array([[74, 31], [43, 32]])
        greater = _boschloo_one_sided_by_grid(table, greater=True)
        less = _boschloo_one_sided_by_grid(table, greater=False)
        assert 0.0355 <= greater < 0.0356
        result = exact_two_waves(74, 117, 31, 63)
        assert_allclose(result.boschloo_pvalue, min(1.0, 2 * min(greater, less)), rtol=1e-3)
        assert_allclose(result.difference, 31 / 63 - 74 / 117)

    @pytest.mark.parametrize(
        ("k1", "n1", "k2", "n2"), [(3, 10, 7, 10), (0, 5, 5, 10), (2, 9, 2, 6)]
    )
    def test_small_tables_against_grid_and_fisher(self, k1: int, n1: int, k2: int, n2: int) -> None:
        table = np.array([[k1, k2], [n1 - k1, n2 - k2]])
        expected = min(
            1.0,
            2
            * min(
                _boschloo_one_sided_by_grid(table, True), _boschloo_one_sided_by_grid(table, False)
            ),
        )
        result = exact_two_waves(k1, n1, k2, n2)
        assert_allclose(result.boschloo_pvalue, expected, rtol=1e-3)
        # Fisher's two-sided p (R's fisher.test convention): the total probability of
        # the tables no more likely than the observed one, given both margins.
        k_total = k1 + k2
        support = np.arange(max(0, k_total - n2), min(n1, k_total) + 1)
        pmf = stats.hypergeom.pmf(support, n1 + n2, k_total, n1)
        observed = stats.hypergeom.pmf(k1, n1 + n2, k_total, n1)
        fisher = pmf[pmf <= observed * (1 + 1e-7)].sum()
        assert_allclose(result.fisher_pvalue, fisher, rtol=1e-9)
        # Boschloo is uniformly more powerful than Fisher.
        assert result.boschloo_pvalue <= result.fisher_pvalue + 1e-9

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="n1 must be positive"):
            exact_two_waves(0, 0, 1, 2)
        with pytest.raises(ValueError, match="successes2"):
            exact_two_waves(0, 3, -1, 2)


# --------------------------------------------------------------------------- trend


class TestTrendTest:
    def test_r_documentation_example(self) -> None:
        # R 4.x, example(prop.trend.test) (smokers by age group):
        # > prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82))
        #   Chi-squared Test for Trend in Proportions
        #   X-squared = 8.2249, df = 1, p-value = 0.004132
        result = trend_test([83, 90, 129, 70], [86, 93, 136, 82])
        assert_allclose(result.statistic, 8.2249, atol=5e-5)
        assert_allclose(result.pvalue, 0.004132, atol=5e-7)
        assert result.df == 1
        assert result.direction == "decreasing" and result.z < 0
        assert_allclose(result.z**2, result.statistic, rtol=1e-12)

    def test_hand_computed(self) -> None:
        # x = (1, 2, 3), n = (4, 4, 4), scores 1..3.  By hand: p = 6/12 = 1/2,
        # s_bar = 2; numerator = sum (x - n p)(s - s_bar) = (-1)(-1) + 0 + (1)(1) = 2;
        # denominator = p(1-p) sum n (s - s_bar)^2 = 1/4 * 4 * 2 = 2;
        # X^2 = 2^2 / 2 = 2, z = +sqrt(2); p-value = P(chi2_1 > 2) = 0.1572992.
        result = trend_test([1, 2, 3], [4, 4, 4])
        assert_allclose(result.statistic, 2.0, rtol=1e-12)
        assert_allclose(result.z, math.sqrt(2.0), rtol=1e-12)
        assert_allclose(result.pvalue, 0.1572992, atol=5e-8)
        assert result.direction == "increasing"

    def test_empty_wave_keeps_its_score(self) -> None:
        # The gap is skipped but the waves around it keep scores 1 and 3; with scores
        # (1, 3) and two waves the statistic is the same as with scores (1, 2), by
        # the invariance of the test to a linear change of score.
        with_gap = trend_test([1, 0, 3], [4, 0, 4])
        assert with_gap.waves_used == 2
        assert with_gap.scores == (1.0, 2.0, 3.0)
        assert_allclose(with_gap.statistic, trend_test([1, 3], [4, 4]).statistic, rtol=1e-12)

    def test_custom_scores_and_constant_proportion(self) -> None:
        # Doubling the scores leaves the statistic unchanged.
        base = trend_test([83, 90, 129, 70], [86, 93, 136, 82])
        doubled = trend_test([83, 90, 129, 70], [86, 93, 136, 82], scores=[2, 4, 6, 8])
        assert_allclose(doubled.statistic, base.statistic, rtol=1e-12)
        flat = trend_test([5, 5, 5], [5, 5, 5])  # every wave 100 %: no trend
        assert (flat.statistic, flat.z, flat.pvalue, flat.direction) == (0.0, 0.0, 1.0, "none")

    @pytest.mark.parametrize(
        ("args", "match"),
        [
            (([1, 2], [3]), "same length"),
            (([], []), "must not be empty"),
            (([4, 1], [3, 3]), r"successes\[0\] \(4\) must not exceed n\[0\]"),
            (([1, -1], [3, 3]), r"successes\[1\] must not be negative"),
            (([1, 0], [3, 0]), "at least two waves"),
            (([1, 1], [3, 3], [1, 1]), "different scores"),
            (([1, 1], [3, 3], [1, float("inf")]), "scores must be finite"),
            (([1, float("nan")], [3, 3]), "whole number, got NaN"),
        ],
    )
    def test_bad_input(self, args: tuple[list[float], ...], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            trend_test(*args)  # type: ignore[arg-type]


class TestTrendTests:
    def test_equals_scalar_on_random_series_with_gaps(self) -> None:
        rng = np.random.default_rng(20240607)
        n = rng.integers(0, 40, size=(300, 12)).astype(float)
        k = rng.binomial(n.astype(int), rng.uniform(0.2, 0.9, size=(300, 1))).astype(float)
        gaps = rng.random(n.shape) < 0.15
        k[gaps] = np.nan  # a hidden wave
        n[rng.random(n.shape) < 0.05] = np.nan
        z, chi2, p = trend_tests(k, n)
        checked = 0
        for row in range(k.shape[0]):
            usable = ~np.isnan(k[row]) & ~np.isnan(n[row]) & (np.nan_to_num(n[row]) > 0)
            if usable.sum() < 2:
                assert np.isnan(z[row]) and np.isnan(chi2[row]) and np.isnan(p[row])
                continue
            # The scalar form takes waves without answers as n == 0, keeping scores.
            kk = np.where(usable, k[row], 0).astype(int).tolist()
            nn = np.where(usable, n[row], 0).astype(int).tolist()
            expected = trend_test(kk, nn)
            assert_allclose(
                [z[row], chi2[row], p[row]],
                [expected.z, expected.statistic, expected.pvalue],
                rtol=0,
                atol=1e-12,
            )
            checked += 1
        assert checked > 250

    def test_r_example_row_and_degenerate_rows(self) -> None:
        k = np.array([[83, 90, 129, 70], [5, 5, 5, 5], [1, np.nan, np.nan, np.nan]])
        n = [[86, 93, 136, 82], [5, 5, 5, 5], [3, 3, 3, 3]]
        z, chi2, p = trend_tests(k, n)
        assert_allclose(chi2[0], 8.2249, atol=5e-5)  # R prop.trend.test, as above
        assert_array_equal([z[1], chi2[1], p[1]], [0.0, 0.0, 1.0])
        assert np.isnan(z[2]) and np.isnan(p[2])

    @given(st.lists(successes_and_n(50), min_size=2, max_size=10))
    @FAST
    def test_property_reversal_negates_z(self, pairs: list[tuple[int, int]]) -> None:
        k, n = np.array(pairs, dtype=float).T
        z, chi2, _ = trend_tests(k[None, :], n[None, :])
        z_rev, chi2_rev, _ = trend_tests(k[None, ::-1], n[None, ::-1])
        assert_allclose(z_rev, -z, atol=1e-9)
        assert_allclose(chi2_rev, chi2, atol=1e-9)

    def test_bad_input(self) -> None:
        with pytest.raises(ValueError, match="2-dimensional"):
            trend_tests([1, 2], [3, 4])
        with pytest.raises(ValueError, match="same shape"):
            trend_tests([[1, 2]], [[3, 4, 5]])
        with pytest.raises(ValueError, match="successes must not exceed n"):
            trend_tests([[4, 2]], [[3, 4]])
        with pytest.raises(ValueError, match="scores must have one value"):
            trend_tests([[1, 2]], [[3, 4]], scores=[1, 2, 3])
