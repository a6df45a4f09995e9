"""Tests for analysis.suppression: hand-worked tables and hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from analysis.suppression import (
    PROTECT_ANOTHER_GROUP,
    REASON_SENTENCES,
    TOO_FEW_ANSWERS,
    SuppressionResult,
    suppress_small_groups,
)

TOO_FEW, PROTECT = TOO_FEW_ANSWERS, PROTECT_ANOTHER_GROUP


# --------------------------------------------------------------------------- by hand


class TestOneParent:
    def test_sibling_hidden_to_protect_a_small_group(self) -> None:
        # Parent total 25 is shown.  Hiding only the 3 would give it away
        # (25 - 12 - 10); the smallest other group, 10, is hidden with it, so the
        # reader learns only that the two hold 13 between them.
        result = suppress_small_groups([3, 12, 10])
        assert_array_equal(result.hidden, [True, False, True])
        assert list(result.reason) == [TOO_FEW, None, PROTECT]
        assert not result.row_total_hidden[0] and not result.grand_total_hidden
        assert result.notes == ()

    def test_two_small_groups_protect_each_other(self) -> None:
        # 3 + 4 = 7 >= 5: the pair's sum may be known, neither value can be.
        result = suppress_small_groups([3, 4, 20])
        assert_array_equal(result.hidden, [True, True, False])
        assert list(result.reason) == [TOO_FEW, TOO_FEW, None]

    def test_whole_parent_too_small(self) -> None:
        # Only 3 answers in all: the parent total is itself a small group, so it is
        # hidden with the group, and a note says so.  Zeros stay visible.
        result = suppress_small_groups([3, 0, 0])
        assert_array_equal(result.hidden, [True, False, False])
        assert result.row_total_hidden[0] and result.grand_total_hidden
        assert result.row_total_reason == (TOO_FEW,)
        assert "fewer than 5 people answered in all" in result.notes[0]

    def test_free_text_threshold(self) -> None:
        # Threshold 10: 7 is too few; the smallest sibling (12) protects it.
        result = suppress_small_groups([7, 12, 30], threshold=10)
        assert_array_equal(result.hidden, [True, True, False])
        assert result.sentences[TOO_FEW].startswith("Hidden because fewer than 10 people")

    def test_nothing_to_hide(self) -> None:
        result = suppress_small_groups([0, 5, 6])
        assert not result.hidden.any()
        assert set(result.reason) == {None}


class TestTable:
    def test_two_by_two_needs_all_four(self) -> None:
        # [[3, 50], [40, 60]] with all margins shown.  Row 0 forces 50 out and
        # column 0 forces 40 out (rule A).  But then 40 = 100 - 60 from row 1 and
        # 3 = 43 - 40 from column 0: two overlapping filters give the 3 away
        # (rule B), so 60 must go too.  With all four hidden the margins leave one
        # degree of freedom and no cell can be worked out.
        result = suppress_small_groups([[3, 50], [40, 60]])
        assert result.hidden.all()
        assert result.reason.tolist() == [[TOO_FEW, PROTECT], [PROTECT, PROTECT]]
        assert not result.row_total_hidden.any() and not result.column_total_hidden.any()

    def test_three_by_three_greedy_choice(self) -> None:
        # Small cells 3 at (0, 0) and 2 at (2, 1).  Greedy, smallest first:
        # row 0 holds 3 -> hide 7; row 2 holds 2 -> hide 25; column 0 holds 3 ->
        # hide 30; column 1 holds 2 -> hide 50.  Rows 0 and 2 are then hidden
        # whole (their totals 60 and 57 shown): a 2 x 3 block with known row and
        # column sums has two degrees of freedom, so no cell follows.
        result = suppress_small_groups([[3, 50, 7], [40, 60, 20], [30, 2, 25]])
        assert_array_equal(result.hidden, [[1, 1, 1], [0, 0, 0], [1, 1, 1]])
        assert result.reason[0, 0] == TOO_FEW and result.reason[2, 1] == TOO_FEW
        assert result.reason[0, 2] == PROTECT

    def test_small_team_hides_its_total(self) -> None:
        # Team 0 has 3 answers in all: its total goes (too few), its cells too.
        # Then the column of team totals would give it away (33 - 30), so team 1's
        # total is hidden too, and each column needs a second hidden cell.
        result = suppress_small_groups([[1, 2], [10, 20]])
        assert result.hidden.all()
        assert_array_equal(result.row_total_hidden, [True, True])
        assert result.row_total_reason == (TOO_FEW, PROTECT)
        assert not result.column_total_hidden.any() and not result.grand_total_hidden
        assert len(result.notes) == 2

    def test_a_hidden_total_does_not_excuse_its_column(self) -> None:
        # Threshold 10.  Column 3 (0, 0, 9) is too small in all, so its 9 and its
        # total go; row 3 then holds 1 + 9 = 10 hidden.  The row of column totals
        # would give the 9 away (38 - 15 - 14), so column 2's total (14) is hidden
        # too.  That alone would leave column 2 showing 0 and 13 above a lone
        # hidden 1: the 13 is hidden with it, so the column's hidden cells hold 14.
        result = suppress_small_groups([[0, 0, 0], [15, 13, 0], [0, 1, 9]], threshold=10)
        assert_array_equal(result.hidden, [[0, 0, 0], [0, 1, 0], [0, 1, 1]])
        assert result.reason[1, 1] == PROTECT and result.reason[2, 1] == TOO_FEW
        assert_array_equal(result.column_total_hidden, [False, True, True])
        assert_array_equal(result.row_total_hidden, [False, False, False])

    def test_single_column_table(self) -> None:
        # One profession across teams: the column total is the parent.
        result = suppress_small_groups([[3], [12], [10]])
        assert_array_equal(result.hidden, [[True], [False], [True]])
        assert_array_equal(result.row_total_hidden, [True, False, True])  # = the cells

    def test_result_is_read_only(self) -> None:
        result = suppress_small_groups([[3, 50], [40, 60]])
        with pytest.raises(ValueError):
            result.hidden[0, 0] = False

    @pytest.mark.parametrize(
        ("counts", "threshold", "match"),
        [
            ([], 5, "counts must not be empty"),
            ([1, -1], 5, "negative"),
            ([1.5, 2], 5, "whole numbers"),
            ([1, float("nan")], 5, "NaN"),
            ([[[1]]], 5, "1-D or 2-D"),
            ([1, 2], 0, "threshold must be at least 1"),
            ([1, 2], 2.5, "threshold must be a whole number"),
        ],
    )
    def test_bad_input(self, counts: object, threshold: object, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            suppress_small_groups(counts, threshold)  # type: ignore[arg-type]

    def test_reason_sentences_exist(self) -> None:
        assert set(REASON_SENTENCES) == {TOO_FEW, PROTECT}


# --------------------------------------------------------------------------- properties


def _grid(result: SuppressionResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The table with margins, which margins exist, and which entries are hidden."""
    counts = np.atleast_2d(result.counts)
    hidden = np.atleast_2d(result.hidden)
    rows, cols = counts.shape
    grid = np.zeros((rows + 1, cols + 1), int)
    grid[:rows, :cols] = counts
    grid[:rows, cols] = counts.sum(1)
    grid[rows, :cols] = counts.sum(0)
    grid[rows, cols] = counts.sum()
    exists = np.zeros_like(grid, bool)
    exists[:rows, :cols] = True
    exists[:rows, cols] = cols > 1
    exists[rows, :cols] = rows > 1
    exists[rows, cols] = rows > 1 and cols > 1
    hidden_all = np.zeros_like(grid, bool)
    hidden_all[:rows, :cols] = hidden
    hidden_all[:rows, cols] = result.row_total_hidden if cols > 1 else False
    hidden_all[rows, :cols] = result.column_total_hidden if rows > 1 else False
    hidden_all[rows, cols] = result.grand_total_hidden if rows > 1 and cols > 1 else False
    return grid, exists, hidden_all


def _lines(
    grid: np.ndarray, exists: np.ndarray
) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    rows, cols = grid.shape[0] - 1, grid.shape[1] - 1
    lines = []
    for r in range(rows + 1):
        if exists[r, cols]:
            lines.append(([(r, c) for c in range(cols)], (r, cols)))
    for c in range(cols + 1):
        if exists[rows, c]:
            lines.append(([(r, c) for r in range(rows)], (rows, c)))
    return lines


def _recoverable(grid: np.ndarray, exists: np.ndarray, hidden: np.ndarray) -> set[tuple[int, int]]:
    """Hidden entries fixed by the sums, by a rank test (independent of the module).

    x_j is determined iff adding the unit row e_j does not raise the rank of the
    equations restricted to the hidden entries.
    """
    unknown = [(int(r), int(c)) for r, c in zip(*np.nonzero(hidden & exists), strict=True)]
    lines = _lines(grid, exists)
    if not unknown:
        return set()
    matrix = np.zeros((len(lines), len(unknown)))
    for i, (parts, total) in enumerate(lines):
        for j, cell in enumerate(unknown):
            matrix[i, j] = 1.0 if cell in parts else (-1.0 if cell == total else 0.0)
    rank = np.linalg.matrix_rank(matrix) if lines else 0
    found = set()
    for j, cell in enumerate(unknown):
        unit = np.zeros((1, len(unknown)))
        unit[0, j] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(cell)
    return found


tables = st.one_of(
    hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(0, 25)),
    hnp.arrays(
        np.int64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.integers(0, 25)
    ),
)


@given(tables, st.integers(2, 10))
@settings(max_examples=120, deadline=None)
def test_property_suppression_is_safe(counts: np.ndarray, threshold: int) -> None:
    result = suppress_small_groups(counts, threshold)
    grid, exists, hidden = _grid(result)
    small = exists & (grid > 0) & (grid < threshold)
    # Every group below the threshold is hidden, cells and margins alike.
    assert not (small & ~hidden).any()
    # Zeros are never hidden; nothing visible is marked with a reason.
    assert not (hidden & (grid == 0)).any()
    assert ((result.reason != None) == result.hidden).all()  # noqa: E711
    # No row or column (nor the row or column of totals) has hidden entries holding
    # 1 .. threshold - 1, unless the line's own total is below the threshold (then it
    # is hidden whole, total included, and no choice of cells could do better).
    for parts, total in _lines(grid, exists):
        held = sum(grid[cell] for cell in parts if hidden[cell])
        if 0 < grid[total] < threshold:
            assert hidden[total] and held == grid[total], (parts, held)
            continue
        assert held == 0 or held >= threshold, (parts, held)
    # No hidden small group can be worked out exactly from the sums.
    assert not any(small[cell] for cell in _recoverable(grid, exists, hidden))


@given(tables, st.integers(2, 10))
@settings(max_examples=40, deadline=None)
def test_property_deterministic(counts: np.ndarray, threshold: int) -> None:
    first = suppress_small_groups(counts, threshold)
    second = suppress_small_groups(counts.copy(), threshold)
    assert_array_equal(first.hidden, second.hidden)
    assert first.reason.tolist() == second.reason.tolist()
    assert first.notes == second.notes
