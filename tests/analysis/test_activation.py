"""Tests for analysis.activation (NAPC single-item patient activation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from analysis.activation import (
    LOW_RATINGS,
    NAPC_FIGURES,
    activation_by_period,
    activation_from_counts,
    activation_summary,
    paired_activation_change,
)
from questionnaires import load_all
from survey_app.activation.ratings import rating_labels

# The R session these values come from (R 4.2):
#   x <- c(rep(1, 2), rep(2, 3), rep(3, 4), rep(4, 1))
#   t.test(x)$conf.int                        # 1.70889957117271 3.09110042882729
#   prop.test(5, 10, correct = FALSE)$conf.int  # 0.236593090512564 0.763406909487436
#   b <- c(1, 2, 2, 1, 3, 2, 1, 2, 3, 4, 2, 1)
#   a <- c(2, 3, 2, 2, 3, 3, 3, 2, 4, 4, 1, 2)
#   wilcox.test(a, b, paired = TRUE, exact = FALSE, correct = TRUE)
#                                  # V = 32, p-value = 0.0418305945652447
#   t.test(a - b)$conf.int         # 0.0795096577297677 1.0871570089368989
#   prop.test(sum(a > b), 12, correct = FALSE)$conf.int
#                                  # 0.319511312549550 0.806739686341243
BASELINE = [1, 2, 2, 1, 3, 2, 1, 2, 3, 4, 2, 1]
FOLLOW_UP = [2, 3, 2, 2, 3, 3, 3, 2, 4, 4, 1, 2]


class TestFromCounts:
    def test_matches_r(self) -> None:
        s = activation_from_counts([2, 3, 4, 1])
        # Hand: (1*2 + 2*3 + 3*4 + 4*1) / 10 = 2.4
        assert_allclose(s.mean, 2.4)
        assert_allclose([s.mean_low, s.mean_high], [1.70889957117271, 3.09110042882729])
        assert_allclose(s.low_activation.estimate, 0.5)
        assert_allclose(
            [s.low_activation.lower, s.low_activation.upper],
            [0.236593090512564, 0.763406909487436],
        )
        assert s.n == 10
        assert_array_equal(s.counts, [2, 3, 4, 1])
        assert_allclose(s.proportions, [0.2, 0.3, 0.4, 0.1])
        assert s.unit == "rating"

    def test_single_rating_has_no_mean_interval(self) -> None:
        s = activation_from_counts([0, 0, 1, 0])
        assert s.mean == 3.0
        assert math.isnan(s.mean_low) and math.isnan(s.mean_high)

    def test_all_alike_gives_point_interval(self) -> None:
        s = activation_from_counts([0, 5, 0, 0])
        assert_allclose([s.mean_low, s.mean_high], [2.0, 2.0])
        assert s.low_activation.estimate == 1.0

    @pytest.mark.parametrize(
        ("counts", "kwargs", "match"),
        [
            ([1, 2, 3], {}, "4 entries"),
            ([1, -2, 3, 0], {}, "negative"),
            ([1, 2.5, 3, 0], {}, "whole"),
            ([1, np.nan, 3, 0], {}, "finite"),
            ([0, 0, 0, 0], {}, "sum to zero"),
            ([1, 1, 1, 1], {"unit": "visit"}, "unit"),
            ([1, 1, 1, 1], {"confidence": 0.0}, "confidence"),
            ([1, 1, 1, 1], {"n_without_pseudonym": -1}, "n_without_pseudonym"),
            ([1, 1, 1, 1], {"n_without_pseudonym": "2"}, "n_without_pseudonym"),
            ([1, 1, 1, 1], {"confidence": "0.95"}, "confidence"),
        ],
    )
    def test_rejects(self, counts: list[float], kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(ValueError, match=match):
            activation_from_counts(counts, **kwargs)  # type: ignore[arg-type]


class TestSummary:
    RATINGS = [1, 4, 2, 3, 3, 4, 1]
    PATIENTS = ["p1", "p2", "p1", None, "p3", "p2", None]

    def test_per_rating_counts_every_rating(self) -> None:
        s = activation_summary(self.RATINGS, patients=self.PATIENTS)
        assert_array_equal(s.counts, [2, 1, 2, 2])
        assert s.n == 7
        assert s.n_without_pseudonym == 0

    def test_per_patient_uses_last_rating_and_drops_unnamed(self) -> None:
        # p1: 1 then 2 -> 2; p2: 4 then 4 -> 4; p3: 3.  Two ratings without a
        # pseudonym are left out.
        s = activation_summary(self.RATINGS, patients=self.PATIENTS, unit="patient")
        assert_array_equal(s.counts, [0, 1, 1, 1])
        assert s.n == 3
        assert s.unit == "patient"
        assert s.n_without_pseudonym == 2
        assert_allclose(s.mean, 3.0)
        assert_allclose(s.low_activation.estimate, 1 / 3)

    def test_per_patient_needs_patients(self) -> None:
        with pytest.raises(ValueError, match="patients is required"):
            activation_summary([1, 2], unit="patient")

    def test_per_patient_with_no_pseudonym(self) -> None:
        with pytest.raises(ValueError, match="no rating has a patient pseudonym"):
            activation_summary([1, 2], patients=[None, None], unit="patient")

    @pytest.mark.parametrize(
        ("ratings", "patients", "match"),
        [
            ([], None, "empty"),
            ([1, 5], None, "1 to 4"),
            ([0, 2], None, "1 to 4"),
            ([1.5, 2], None, "1 to 4"),
            ([1, np.nan], None, "1 to 4"),
            ([[1, 2]], None, "1-D"),
            ([1, 2], ["a"], "patients must be a sequence"),
        ],
    )
    def test_rejects(self, ratings: object, patients: object, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            activation_summary(ratings, patients=patients)  # type: ignore[arg-type]

    def test_by_period(self) -> None:
        periods = ["Q1", "Q1", "Q2", "Q1", "Q2", "Q2", "Q3"]
        per_rating = activation_by_period(self.RATINGS, periods, patients=self.PATIENTS)
        assert list(per_rating) == ["Q1", "Q2", "Q3"]
        assert_array_equal(per_rating["Q1"].counts, [1, 0, 1, 1])  # ratings 1, 4, 3
        per_patient = activation_by_period(
            self.RATINGS, periods, patients=self.PATIENTS, unit="patient"
        )
        # Q1: p1 -> 1, p2 -> 4 (one unnamed rating left out); Q2: p1 -> 2,
        # p3 -> 3, p2 -> 4; Q3 has only an unnamed rating and is left out.
        assert list(per_patient) == ["Q1", "Q2"]
        assert_array_equal(per_patient["Q1"].counts, [1, 0, 0, 1])
        assert per_patient["Q1"].n_without_pseudonym == 1
        assert_array_equal(per_patient["Q2"].counts, [0, 1, 1, 1])

    def test_by_period_rejects(self) -> None:
        with pytest.raises(ValueError, match="periods"):
            activation_by_period([1, 2], ["Q1"])
        with pytest.raises(ValueError, match="patients is required"):
            activation_by_period([1, 2], ["Q1", "Q1"], unit="patient")

    def test_labels_and_low_levels(self) -> None:
        # The words are the instrument's (questionnaires/activation.toml), read once.
        labels = rating_labels(load_all()["patient-activation"])
        assert labels == {1: "Not very", 2: "Okay", 3: "Good", 4: "Excellent"}
        assert LOW_RATINGS == (1, 2)


def paired_rows() -> tuple[list[int], list[str | None], list[str]]:
    """Rows for twelve patients with the R example's baseline and follow-up.

    Noise the pairing rule must ignore: a second, later rating in the earlier
    period (the first counts), an earlier rating in the later period (the last
    counts), a patient seen only once, and ratings without a pseudonym.
    """
    ratings: list[int] = []
    patients: list[str | None] = []
    periods: list[str] = []
    for i, b in enumerate(BASELINE):
        ratings += [b, 4]
        patients += [f"p{i}", f"p{i}"]
        periods += ["Q1", "Q1"]
    ratings += [3, 4, 1]
    patients += ["only-once", None, None]
    periods += ["Q1", "Q1", "Q2"]
    for i, a in enumerate(FOLLOW_UP):
        ratings += [1, a]
        patients += [f"p{i}", f"p{i}"]
        periods += ["Q2", "Q2"]
    return ratings, patients, periods


class TestPairedChange:
    def test_matches_r(self) -> None:
        ratings, patients, periods = paired_rows()
        c = paired_activation_change(ratings, patients, periods, earlier="Q1", later="Q2")
        assert c.n_pairs == 12
        assert_allclose(c.baseline_mean, 2.0)
        assert_allclose(c.followup_mean, 31 / 12)
        assert_allclose(c.mean_change, 7 / 12)
        assert_allclose([c.change_low, c.change_high], [0.0795096577297677, 1.0871570089368989])
        assert_allclose(c.p_value, 0.0418305945652447, rtol=1e-10)
        # scipy reports min(W+, W-) = min(32, 4); R reports V = W+ = 32.
        assert c.statistic == 4.0
        assert (c.n_up, c.n_same, c.n_down) == (7, 4, 1)
        assert_allclose(
            [c.moved_up.lower, c.moved_up.upper], [0.319511312549550, 0.806739686341243]
        )

    def test_low_baseline_raises_regression_to_mean_caution(self) -> None:
        ratings, patients, periods = paired_rows()
        c = paired_activation_change(ratings, patients, periods, earlier="Q1", later="Q2")
        # Hand count: baseline mean is exactly 2 and 9 of 12 pairs start at 1 or 2.
        assert_allclose(c.baseline_low_share, 9 / 12)
        assert c.regression_to_mean_caution
        assert c.caution is not None and "regression to the mean" in c.caution

    def test_high_baseline_has_no_caution(self) -> None:
        c = paired_activation_change(
            [3, 4, 3, 4, 4, 4, 3, 3],
            ["a", "b", "c", "d", "a", "b", "c", "d"],
            ["Q1"] * 4 + ["Q2"] * 4,
            earlier="Q1",
            later="Q2",
        )
        assert_allclose(c.baseline_mean, 3.5)
        assert not c.regression_to_mean_caution
        assert c.caution is None

    def test_mostly_low_starters_raise_caution_even_with_mean_above_two(self) -> None:
        # Baselines 1, 2, 2, 4, 4: mean 2.6 but 3 of 5 started at 1 or 2.
        c = paired_activation_change(
            [1, 2, 2, 4, 4, 3, 3, 3, 4, 4],
            ["a", "b", "c", "d", "e"] * 2,
            ["Q1"] * 5 + ["Q2"] * 5,
            earlier="Q1",
            later="Q2",
        )
        assert_allclose([c.baseline_mean, c.baseline_low_share], [2.6, 0.6])
        assert c.regression_to_mean_caution

    def test_no_change_at_all(self) -> None:
        c = paired_activation_change(
            [3, 2, 3, 2], ["a", "b", "a", "b"], ["Q1", "Q1", "Q2", "Q2"], earlier="Q1", later="Q2"
        )
        assert c.p_value == 1.0
        assert c.mean_change == 0.0
        assert c.n_same == 2

    def test_napc_figures_travel_with_the_result(self) -> None:
        ratings, patients, periods = paired_rows()
        c = paired_activation_change(ratings, patients, periods, earlier="Q1", later="Q2")
        assert c.napc is NAPC_FIGURES

    def test_napc_wording_and_source(self) -> None:
        # NAPC, "Creating Integrated Neighbourhood Teams: Learning from
        # Experience" (12 November 2024), Figure 2, verbatim:
        #   "A 1-point rise in activation is correlated to a saving of up to 4
        #    GP contacts per patient per year"
        #   "A 1-point rise in activation is correlated to primary and
        #    secondary care demand savings of £327 per patient per year"
        assert NAPC_FIGURES.gp_contacts_per_point == 4.0
        assert NAPC_FIGURES.care_demand_gbp_per_point == 327.0
        assert NAPC_FIGURES.gp_contacts_wording == (
            "A 1-point rise in activation is correlated to a saving of up to 4 GP contacts "
            "per patient per year"
        )
        assert NAPC_FIGURES.care_demand_wording == (
            "A 1-point rise in activation is correlated to primary and secondary care demand "
            "savings of £327 per patient per year"
        )
        assert "National Association of Primary Care" in NAPC_FIGURES.source
        assert "correlation" in NAPC_FIGURES.caveat and "not a saving" in NAPC_FIGURES.caveat

    def test_no_pairs(self) -> None:
        with pytest.raises(ValueError, match="no patient has a rating in both"):
            paired_activation_change([1, 2], ["a", "b"], ["Q1", "Q2"], earlier="Q1", later="Q2")

    @pytest.mark.parametrize(
        ("args", "kwargs", "match"),
        [
            (([1, 2], ["a"], ["Q1", "Q2"]), {}, "patients"),
            (([1, 2], None, ["Q1", "Q2"]), {}, "patients must be a sequence"),
            (([1, 2], ["a", "a"], ["Q1"]), {}, "periods"),
            (([1, 2], ["a", "a"], ["Q1", "Q2"]), {"later": "Q1"}, "different"),
            (([1, 2], ["a", "a"], ["Q1", "Q2"]), {"confidence": 1.5}, "confidence"),
            (([1, 7], ["a", "a"], ["Q1", "Q2"]), {}, "ratings"),
        ],
    )
    def test_rejects(
        self, args: tuple[object, object, object], kwargs: dict[str, object], match: str
    ) -> None:
        options: dict[str, object] = {"earlier": "Q1", "later": "Q2"}
        options.update(kwargs)
        with pytest.raises(ValueError, match=match):
            paired_activation_change(*args, **options)  # type: ignore[arg-type]
