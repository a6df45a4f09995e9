"""Tests for analysis.change (window comparisons, verdicts, FDR across teams)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.change import (
    VERDICTS,
    benjamini_hochberg,
    judge_family,
    judge_mean_change,
    judge_mean_family,
    judge_proportion_change,
)
from analysis.proportions import newcombe_difference

# R session (R 4.2) for the pasted values below:
#   p <- c(0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.041, 0.9)
#   p.adjust(p, method = "BH")
#   p2 <- c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216)
#   p.adjust(p2, method = "BH")
#   prop.test(c(45, 72), c(90, 90), correct = FALSE)$p.value  # 2.45099963618181e-05
#   before <- c(6, 7, 5, 8, 7, 6, 9, 4, 7, 6, 5, 8)
#   after <- c(8, 9, 7, 8, 9, 10, 7, 8, 9, 6)
#   t.test(after, before)   # p 0.0101372628295691, CI 0.424478528714212 2.775521471285787
P1 = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.041, 0.9]
R_BH1 = [0.04, 0.0656, 0.0656, 0.04, 0.266666666666667, 0.571428571428571, 0.0656, 0.9]
P2 = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
R_BH2 = [0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.105714285714286, 0.216, 0.216, 0.216]

WELCH_BEFORE = np.array([6, 7, 5, 8, 7, 6, 9, 4, 7, 6, 5, 8], dtype=float)
WELCH_AFTER = np.array([8, 9, 7, 8, 9, 10, 7, 8, 9, 6], dtype=float)


class TestBenjaminiHochberg:
    @pytest.mark.parametrize(("p", "expected"), [(P1, R_BH1), (P2, R_BH2)])
    def test_matches_r_p_adjust(self, p: list[float], expected: list[float]) -> None:
        assert_allclose(benjamini_hochberg(p), expected, rtol=1e-12)

    def test_matches_scipy(self) -> None:
        p = np.random.default_rng(0).random(50) ** 3
        assert_allclose(
            benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12
        )

    def test_nan_is_not_in_the_family(self) -> None:
        with_nan = benjamini_hochberg([0.01, np.nan, 0.04, 0.03])
        assert math.isnan(with_nan[1])
        assert_allclose(with_nan[[0, 2, 3]], benjamini_hochberg([0.01, 0.04, 0.03]))

    def test_all_nan(self) -> None:
        assert np.all(np.isnan(benjamini_hochberg([np.nan, np.nan])))

    def test_single_p_value_is_unchanged(self) -> None:
        assert_allclose(benjamini_hochberg([0.03]), [0.03])

    @pytest.mark.parametrize(
        ("p", "match"),
        [
            ([], "empty"),
            ([[0.1]], "1-D"),
            ([0.1, 1.2], "between 0 and 1"),
            ([-0.1], "between"),
            ([np.inf], "between"),
        ],
    )
    def test_rejects(self, p: object, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            benjamini_hochberg(p)  # type: ignore[arg-type]


def waves(before: tuple[int, int, int], after: tuple[int, int, int]) -> list[int]:
    """Three baseline waves then three recent waves, each side's count split evenly."""
    return [before[0]] * 3 + [after[0]] * 3


class TestProportionChange:
    def test_clear_rise_matches_r_and_newcombe(self) -> None:
        # 45/90 before, 72/90 recently, everyone invited answered.
        j = judge_proportion_change([15, 15, 15, 24, 24, 24], [30] * 6, [30] * 6)
        assert j.verdict == "improved"
        assert_allclose(j.p_value, 2.45099963618181e-05, rtol=1e-10)
        ref = newcombe_difference(45, 90, 72, 90)
        assert_allclose([j.difference_low, j.difference_high], [ref.lower, ref.upper])
        assert_allclose([j.before, j.after, j.difference], [0.5, 0.8, 0.3])
        assert (j.n_before, j.n_after, j.waves_before, j.waves_after) == (90, 90, 3, 3)
        assert j.p_adjusted == j.p_value and j.family_size == 1
        assert "rose from 50% to 80%" in j.sentence

    def test_windows_are_latest_three_against_three_before(self) -> None:
        # The first two waves (0/30) are outside both windows.
        j = judge_proportion_change([0, 0, 15, 15, 15, 24, 24, 24], [30] * 8, [30] * 8)
        assert_allclose(j.p_value, 2.45099963618181e-05, rtol=1e-10)
        assert (j.waves_before, j.waves_after) == (3, 3)

    def test_custom_windows(self) -> None:
        j = judge_proportion_change(
            [15, 15, 15, 24, 24, 24], [30] * 6, [30] * 6, recent_waves=1, baseline_waves=2
        )
        assert (j.waves_before, j.waves_after, j.n_before, j.n_after) == (2, 1, 60, 30)
        assert j.waves_before + j.waves_after == 3

    def test_short_history_uses_what_baseline_there_is(self) -> None:
        j = judge_proportion_change([15, 24, 24, 24], [30] * 4, [30] * 4)
        assert (j.waves_before, j.waves_after) == (1, 3)

    def test_no_baseline_wave(self) -> None:
        j = judge_proportion_change([15, 24, 24], [30] * 3, [30] * 3)
        assert j.verdict == "too_few_answers"
        assert "no earlier wave" in j.sentence
        assert j.waves_before == 0 and math.isnan(j.before)

    def test_too_few_answers(self) -> None:
        j = judge_proportion_change([1, 1, 2, 20, 20, 20], [1, 1, 2, 30, 30, 30], [30] * 6)
        assert j.verdict == "too_few_answers"
        assert "4 before, 90 recently; at least 5 needed" in j.sentence
        assert math.isnan(j.p_value)

    def test_min_answers_is_a_parameter(self) -> None:
        j = judge_proportion_change(
            [1, 1, 2, 20, 20, 20], [1, 1, 2, 30, 30, 30], [30] * 6, min_answers=4
        )
        assert j.verdict != "too_few_answers"

    def test_no_credible_change(self) -> None:
        j = judge_proportion_change([15, 16, 14, 16, 17, 15], [30] * 6, [40] * 6)
        assert j.verdict == "no_credible_change"
        assert j.sentence.startswith("No credible change in % recommend: 50% before, 53% recently")

    def test_worsened_and_direction_of_good(self) -> None:
        fall = judge_proportion_change([24, 24, 24, 15, 15, 15], [30] * 6, [30] * 6)
        assert fall.verdict == "worsened"
        assert "fell from 80% to 50%" in fall.sentence
        # For % not recommend a rise is the bad direction.
        rise = judge_proportion_change(
            [15, 15, 15, 24, 24, 24],
            [30] * 6,
            [30] * 6,
            higher_is_better=False,
            measure="% not recommend",
        )
        assert rise.verdict == "worsened"
        assert rise.sentence.startswith("% not recommend rose")

    def test_worst_case_bounds_hand_computed(self) -> None:
        # Before: 40 yes of 81 answers, 90 invited -> [40/90, 49/90].
        # Recent: 32 yes of 45 answers, 90 invited -> [32/90, 77/90].
        j = judge_proportion_change(
            [40, 0, 0, 32, 0, 0], [81, 0, 0, 45, 0, 0], [90, 0, 0, 90, 0, 0]
        )
        assert_allclose(j.before_bounds, (40 / 90, 49 / 90))
        assert_allclose(j.after_bounds, (32 / 90, 77 / 90))
        assert_allclose(j.difference_bounds, (32 / 90 - 49 / 90, 77 / 90 - 40 / 90))
        assert_allclose([j.response_rate_before, j.response_rate_after], [0.9, 0.5])

    def test_selection_bounds_hand_computed(self) -> None:
        # Before answered more (90% vs 50%): it has k = 81 - 0.5 * 90 = 36
        # answers in excess.  Dropping 36 of its 41 "no" answers gives 40/45;
        # dropping 36 of its 40 "yes" answers gives 4/45.  Recent is 32/45.
        j = judge_proportion_change(
            [40, 0, 0, 32, 0, 0], [81, 0, 0, 45, 0, 0], [90, 0, 0, 90, 0, 0]
        )
        assert_allclose(j.selection_bounds, (32 / 45 - 40 / 45, 32 / 45 - 4 / 45))

    def test_selection_bounds_when_recent_answered_more(self) -> None:
        # Recent answered more (75% vs 50%): k = 60 - 0.5 * 80 = 20; dropping
        # 20 "yes" gives 10/40, 20 "no" gives 30/40; before is 20/40.
        j = judge_proportion_change(
            [20, 0, 0, 30, 0, 0], [40, 0, 0, 60, 0, 0], [80, 0, 0, 80, 0, 0]
        )
        assert_allclose(j.selection_bounds, (10 / 40 - 0.5, 30 / 40 - 0.5))

    def test_apparent_change_when_dropouts_explain_the_rise(self) -> None:
        # Significant as answered (p = 0.018) but the response rate fell from
        # 90% to 50% and trimming before's excess "no" answers reverses it.
        j = judge_proportion_change(
            [40, 0, 0, 32, 0, 0], [81, 0, 0, 45, 0, 0], [90, 0, 0, 90, 0, 0]
        )
        assert j.p_value < 0.05
        assert j.verdict == "apparent_change"
        assert j.p_selection == 1.0
        assert "response rate went from 90% to 50%" in j.sentence
        assert "may reflect who answered" in j.sentence

    def test_rise_that_survives_trimming_is_improved(self) -> None:
        # Response fell from 80% to 70%, but the rise from 50% to 90% is far
        # larger than the dropouts could produce.
        j = judge_proportion_change(
            [40, 0, 0, 63, 0, 0], [80, 0, 0, 70, 0, 0], [100, 0, 0, 100, 0, 0]
        )
        assert j.verdict == "improved"
        assert j.p_selection < 0.05

    def test_small_response_change_is_not_material(self) -> None:
        # 10/60 answers (60% of 100 invited) against 19/56 (56%): significant
        # (p = 0.032) and not once before's 4 excess "no" answers are dropped
        # (10/56 against 19/56, p = 0.052), but the response rate moved only
        # 4 points, under the default of 5.
        counts = ([10, 0, 0, 19, 0, 0], [60, 0, 0, 56, 0, 0], [100, 0, 0, 100, 0, 0])
        j = judge_proportion_change(*counts)
        assert j.p_value < 0.05 < j.p_selection
        assert_allclose(j.selection_bounds[0], 19 / 56 - 10 / 56)
        assert j.verdict == "improved"
        j = judge_proportion_change(*counts, material_response_change=0.03)
        assert j.verdict == "apparent_change"

    def test_verdicts_are_listed(self) -> None:
        assert VERDICTS == (
            "improved",
            "worsened",
            "apparent_change",
            "no_credible_change",
            "too_few_answers",
        )

    @pytest.mark.parametrize(
        ("args", "kwargs", "match"),
        [
            (([1, 2], [2, 2], [2]), {}, "same length"),
            (([3, 2], [2, 2], [2, 2]), {}, "positive must not exceed"),
            (([1, 2], [3, 2], [2, 2]), {}, "answered must not exceed"),
            (([-1, 2], [2, 2], [2, 2]), {}, "positive"),
            (([1.5, 2], [2, 2], [2, 2]), {}, "positive"),
            (([np.nan, 2], [2, 2], [2, 2]), {}, "positive"),
            (([], [], []), {}, "positive"),
            (([1, 2], [2, 2], [2, 2]), {"recent_waves": 0}, "recent_waves"),
            (([1, 2], [2, 2], [2, 2]), {"baseline_waves": 1.5}, "baseline_waves"),
            (([1, 2], [2, 2], [2, 2]), {"min_answers": 1}, "min_answers"),
            (([1, 2], [2, 2], [2, 2]), {"alpha": 0.0}, "alpha"),
            (([1, 2], [2, 2], [2, 2]), {"alpha": 1.0}, "alpha"),
            (([1, 2], [2, 2], [2, 2]), {"material_response_change": 2.0}, "material"),
        ],
    )
    def test_rejects(
        self, args: tuple[object, object, object], kwargs: dict[str, object], match: str
    ) -> None:
        with pytest.raises(ValueError, match=match):
            judge_proportion_change(*args, **kwargs)  # type: ignore[arg-type]


def welch_waves() -> tuple[list[float], list[float], list[int]]:
    """The R Welch example split into three waves a side (4+4+4, 4+3+3)."""
    parts = [
        WELCH_BEFORE[0:4],
        WELCH_BEFORE[4:8],
        WELCH_BEFORE[8:12],
        WELCH_AFTER[0:4],
        WELCH_AFTER[4:7],
        WELCH_AFTER[7:10],
    ]
    return (
        [float(p.sum()) for p in parts],
        [float((p**2).sum()) for p in parts],
        [p.size for p in parts],
    )


class TestMeanChange:
    def test_matches_r_welch(self) -> None:
        sums, sums_sq, n = welch_waves()
        j = judge_mean_change(sums, sums_sq, n, n)
        assert j.kind == "mean"
        assert_allclose(j.p_value, 0.0101372628295691, rtol=1e-10)
        assert_allclose(
            [j.difference_low, j.difference_high],
            [0.424478528714212, 2.775521471285787],
            rtol=1e-10,
        )
        assert_allclose([j.before, j.after], [6.5, 8.1])
        assert j.verdict == "improved"
        assert "Engagement rose from 6.5 to 8.1" in j.sentence

    def test_worst_case_bounds_on_the_0_10_scale(self) -> None:
        sums, sums_sq, n = welch_waves()
        invited = [8, 8, 8, 8, 6, 6]  # 24 invited before, 20 recently
        j = judge_mean_change(sums, sums_sq, n, invited)
        # Recent: sum 81 from 10 of 20 invited -> [81/20, (81 + 10*10)/20].
        assert_allclose(j.after_bounds, (81 / 20, 181 / 20))
        # Before: sum 78 from 12 of 24 -> [78/24, 198/24].
        assert_allclose(j.difference_bounds, (81 / 20 - 198 / 24, 181 / 20 - 78 / 24))

    def test_selection_bounds_from_totals(self) -> None:
        # Before 12 of 24 (50%), recent 10 of 12 (83.3%): recent has
        # k = 10 - 0.5 * 12 = 4 excess answers.  Without the answers
        # themselves they are taken at the scale's ends: dropping four 10s
        # leaves (81 - 40)/6, dropping four 0s leaves 81/6 capped at 10.
        sums, sums_sq, n = welch_waves()
        j = judge_mean_change(sums, sums_sq, n, [8, 8, 8, 4, 4, 4])
        assert_allclose(j.selection_bounds, ((81 - 40) / 6 - 6.5, 10.0 - 6.5))

    def test_zero_variance(self) -> None:
        j = judge_mean_change([35, 35, 35, 35, 35, 35], [245] * 6, [5] * 6, [5] * 6)
        assert j.p_value == 1.0 and j.verdict == "no_credible_change"
        j = judge_mean_change([35, 35, 35, 40, 40, 40], [245] * 3 + [320] * 3, [5] * 6, [5] * 6)
        assert j.p_value == 0.0 and j.verdict == "improved"

    def test_too_few(self) -> None:
        j = judge_mean_change(
            [7, 7, 7, 70, 70, 70], [49] * 3 + [490] * 3, [1, 1, 1, 10, 10, 10], [10] * 6
        )
        assert j.verdict == "too_few_answers"

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"sums": [80.0, 10.0]}, "not possible"),
            ({"sums_sq": [900.0, 10.0]}, "not possible"),
            ({"sums": [-1.0, 10.0]}, "sums must be finite and not negative"),
            ({"sums": [np.nan, 10.0]}, "sums must be finite"),
            ({"n": [6, 2]}, "n must not exceed invited"),
            ({"invited": [5]}, "same length"),
            ({"scale_max": 0.0}, "scale_max"),
        ],
    )
    def test_rejects(self, kwargs: dict[str, object], match: str) -> None:
        args: dict[str, object] = {
            "sums": [35.0, 10.0],
            "sums_sq": [245.0, 50.0],
            "n": [5, 2],
            "invited": [5, 4],
        }
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            judge_mean_change(**args)  # type: ignore[arg-type]


class TestFamily:
    @staticmethod
    def teams() -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
        positive = [
            [15, 15, 15, 24, 24, 24],  # p = 2.5e-5
            [15, 15, 15, 19, 20, 20],  # p = 0.035 alone, 0.052 after BH
            [15, 16, 14, 16, 17, 15],  # nothing
            [1, 1, 1, 20, 20, 20],  # too few before
        ]
        answered = [[30] * 6, [30] * 6, [30] * 6, [1, 1, 1, 30, 30, 30]]
        return positive, answered, answered

    def test_single_team_family_equals_single_judgement(self) -> None:
        fam = judge_family([[15, 15, 15, 19, 19, 20]], [[30] * 6], [[30] * 6])
        one = judge_proportion_change([15, 15, 15, 19, 19, 20], [30] * 6, [30] * 6)
        assert fam.judgements[0] == one

    def test_bh_adjustment_across_teams(self) -> None:
        positive, answered, invited = self.teams()
        fam = judge_family(positive, answered, invited, team_ids=["a", "b", "c", "d"])
        p = np.array([j.p_value for j in fam.judgements])
        assert fam.family_size == 3  # team d makes no comparison
        assert math.isnan(p[3])
        assert_allclose(
            [j.p_adjusted for j in fam.judgements], benjamini_hochberg(p), equal_nan=True
        )
        alone = judge_proportion_change(positive[1], answered[1], invited[1])
        assert alone.verdict == "improved"
        assert_allclose(fam.judgements[1].p_adjusted, alone.p_value * 3 / 2)
        verdicts = [j.verdict for j in fam.judgements]
        assert verdicts == [
            "improved",
            "no_credible_change",
            "no_credible_change",
            "too_few_answers",
        ]
        assert "allowing for the 3 teams compared" in fam.judgements[1].sentence
        assert fam.team_ids == ("a", "b", "c", "d")

    def test_significance_follows_adjusted_p(self) -> None:
        rng = np.random.default_rng(4)
        answered = [[30] * 6 for _ in range(12)]
        positive = [
            list(rng.binomial(30, 0.5, 3)) + list(rng.binomial(30, 0.5 + 0.03 * i, 3))
            for i in range(12)
        ]
        fam = judge_family(positive, answered, answered)
        for j in fam.judgements:
            significant = j.verdict in ("improved", "worsened", "apparent_change")
            assert significant == (j.p_adjusted <= 0.05)

    def test_a_page_filter_keeps_the_family(self) -> None:
        # Team b is "improved" judged alone but not once the family of three is
        # allowed for; a page showing only team b must still say so.
        positive, answered, invited = self.teams()
        fam = judge_family(positive, answered, invited, team_ids=["a", "b", "c", "d"])
        (b,) = fam.for_teams(["b"])
        assert b == fam.judgements[1]
        assert b.verdict == "no_credible_change" and b.family_size == 3
        assert fam.for_teams(["d", "a"]) == (fam.judgements[3], fam.judgements[0])
        with pytest.raises(ValueError, match="not in the family"):
            fam.for_teams(["z"])

    def test_teams_as_a_two_dimensional_array(self) -> None:
        positive, answered, invited = self.teams()
        as_lists = judge_family(positive[:3], answered[:3], invited[:3])
        as_array = judge_family(
            np.array(positive[:3]), np.array(answered[:3]), np.array(invited[:3])
        )
        assert as_array == as_lists

    def test_mean_family(self) -> None:
        sums, sums_sq, n = welch_waves()
        fam = judge_mean_family([sums, sums], [sums_sq, sums_sq], [n, n], [n, n])
        # Two identical p-values: BH leaves them unchanged.
        assert_allclose([j.p_adjusted for j in fam.judgements], [0.0101372628295691] * 2)
        assert fam.family_size == 2

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"positive": []}, "positive must be a non-empty"),
            ({"answered": [[30] * 6]}, "answered must have one series per team"),
            ({"team_ids": ["a"]}, "team_ids"),
            ({"team_ids": ["a", "a"]}, "team_ids must not repeat"),
            ({"alpha": "0.05"}, "alpha"),
            ({"material_response_change": "x"}, "material_response_change must be a number"),
            ({"positive": [[15] * 6, [40] * 6]}, "team 1: positive must not exceed"),
        ],
    )
    def test_rejects(self, kwargs: dict[str, object], match: str) -> None:
        args: dict[str, object] = {
            "positive": [[15] * 6, [15] * 6],
            "answered": [[30] * 6, [30] * 6],
            "invited": [[30] * 6, [30] * 6],
        }
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            judge_family(**args)  # type: ignore[arg-type]
