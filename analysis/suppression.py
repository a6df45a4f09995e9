"""Small-number suppression for tables of group counts, with subtraction guards.

:func:`suppress_small_groups` decides which cells of a table of answer counts (rows
such as teams, columns such as professions) must be hidden so that no group with
fewer answers than the threshold can be seen or worked out, whether directly, from a
parent total minus its visible siblings, or by combining two overlapping filters
(row and column totals).

Zero counts are left visible: a zero says nobody answered and reveals nothing
about any person, and hiding zeros would only make tables harder to read.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg

from analysis._validation import check_count, check_counts_array

__all__ = [
    "PROTECT_ANOTHER_GROUP",
    "REASON_SENTENCES",
    "TOO_FEW_ANSWERS",
    "SuppressionResult",
    "suppress_small_groups",
]

TOO_FEW_ANSWERS = "too_few_answers"
PROTECT_ANOTHER_GROUP = "protect_another_group"

#: Plain-English sentence per reason; ``{threshold}`` is filled in per result.
REASON_SENTENCES: Mapping[str, str] = types.MappingProxyType(
    {
        TOO_FEW_ANSWERS: (
            "Hidden because fewer than {threshold} people answered, so answers could "
            "identify someone."
        ),
        PROTECT_ANOTHER_GROUP: (
            "Hidden so that a smaller group's result cannot be worked out by "
            "subtracting the groups shown from the total."
        ),
    }
)

# Null-space entries below this are zero: the constraint matrix holds only 0 and +-1.
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class SuppressionResult:
    """Which cells of a table of counts to hide, and why.

    Attributes
    ----------
    counts : ndarray of int64
        The counts, in the shape given (1-D for a list of groups).
    threshold : int
        Smallest number of answers that may be shown.
    hidden : ndarray of bool
        Same shape as `counts`: True for a cell that must not be shown.
    reason : ndarray of object
        Same shape: None, :data:`TOO_FEW_ANSWERS` or :data:`PROTECT_ANOTHER_GROUP`.
    row_total_hidden : ndarray of bool
        One per row: its total (for a 1-D list, the parent total) must not be shown.
    row_total_reason : tuple of str or None
        Reason per row total.
    column_total_hidden : ndarray of bool
        One per column.  For a single-row table the column total is the cell itself,
        so this equals `hidden`.
    column_total_reason : tuple of str or None
        Reason per column total.
    grand_total_hidden : bool
        The total of the whole table must not be shown.
    grand_total_reason : str or None
        Its reason.
    sentences : mapping of str to str
        The human sentence for each reason, with the threshold filled in.
    notes : tuple of str
        Sentences about whole rows, columns or totals hidden, for the page.
    """

    counts: NDArray[np.int64]
    threshold: int
    hidden: NDArray[np.bool_]
    reason: NDArray[np.object_]
    row_total_hidden: NDArray[np.bool_]
    row_total_reason: tuple[str | None, ...]
    column_total_hidden: NDArray[np.bool_]
    column_total_reason: tuple[str | None, ...]
    grand_total_hidden: bool
    grand_total_reason: str | None
    sentences: Mapping[str, str]
    notes: tuple[str, ...]


class _Table:
    """The table with its margins as one grid, and the sums that tie them.

    The grid is (rows + 1) x (cols + 1): the last column holds row totals, the last
    row column totals, the corner the grand total.  A margin exists only where it is
    a separate number: a single-column table's row totals are its cells, and so on.
    Each *line* is a relation "sum of these entries = that entry".
    """

    def __init__(self, counts: NDArray[np.int64]) -> None:
        rows, cols = counts.shape
        self.rows, self.cols = rows, cols
        grid = np.zeros((rows + 1, cols + 1), np.int64)
        grid[:rows, :cols] = counts
        grid[:rows, cols] = counts.sum(axis=1)
        grid[rows, :cols] = counts.sum(axis=0)
        grid[rows, cols] = counts.sum()
        self.grid = grid
        exists = np.zeros_like(grid, dtype=bool)
        exists[:rows, :cols] = True
        has_row_totals, has_col_totals = cols > 1, rows > 1
        exists[:rows, cols] = has_row_totals
        exists[rows, :cols] = has_col_totals
        exists[rows, cols] = has_row_totals and has_col_totals
        self.exists = exists

        lines: list[tuple[list[tuple[int, int]], tuple[int, int]]] = []
        if has_row_totals:
            for r in range(rows + (1 if has_col_totals else 0)):
                lines.append(([(r, c) for c in range(cols)], (r, cols)))
        if has_col_totals:
            for c in range(cols + (1 if has_row_totals else 0)):
                lines.append(([(r, c) for r in range(rows)], (rows, c)))
        self.lines = lines

        self.cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(exists), strict=True)]
        self.column = {cell: i for i, cell in enumerate(self.cells)}
        matrix = np.zeros((len(lines), len(self.cells)))
        for row, (parts, total) in enumerate(lines):
            for cell in parts:
                matrix[row, self.column[cell]] = 1.0
            matrix[row, self.column[total]] = -1.0
        self.matrix = matrix

    def determined(self, hidden: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Hidden entries whose value follows exactly from the visible ones.

        The sums give linear equations in the hidden entries; an entry is determined
        when every solution of the homogeneous system has it zero, i.e. its row of
        the null-space basis vanishes.
        """
        result = np.zeros_like(hidden)
        unknown = [cell for cell in self.cells if hidden[cell]]
        if not unknown or not self.lines:
            return result
        sub = self.matrix[:, [self.column[cell] for cell in unknown]]
        basis = linalg.null_space(sub)
        for i, cell in enumerate(unknown):
            if basis.shape[1] == 0 or np.all(np.abs(basis[i]) < _TOLERANCE):
                result[cell] = True
        return result

    def lines_through(self, cell: tuple[int, int]) -> list[int]:
        return [i for i, (parts, total) in enumerate(self.lines) if cell in parts or cell == total]


def _first_violation(
    table: _Table,
    hidden: NDArray[np.bool_],
    primary: NDArray[np.bool_],
    threshold: int,
) -> tuple[int, ...] | None:
    """Lines to repair next, or None when the suppression is safe.

    Checked in this order (the order only affects which entry the greedy step
    picks, not what a safe result must satisfy):

    A. on every line, the hidden entries hold 0 or at least `threshold` answers
       between them, unless the line's own total is below `threshold`;
    B. no primary entry can be worked out exactly from the sums;
    C. rule A again on the lines whose total is known, counting hidden entries that
       can be worked out exactly (and so are as good as shown) as visible, e.g. a
       complementary cell whose column gives it away.
    """

    def small_line(unknown: NDArray[np.bool_], exempt: NDArray[np.bool_]) -> int | None:
        for index, (parts, total) in enumerate(table.lines):
            if exempt[total]:
                continue
            held = sum(int(table.grid[cell]) for cell in parts if unknown[cell])
            if 0 < held < threshold:
                return index
        return None

    # A: only a line whose own total is too small is exempt (it cannot do better:
    # it is hidden whole), not one whose total was hidden to protect another group.
    line = small_line(hidden, primary)
    if line is not None:
        return (line,)
    determined = table.determined(hidden)
    exposed = [cell for cell in table.cells if primary[cell] and determined[cell]]
    if exposed:
        return tuple(table.lines_through(exposed[0]))
    # C: here a total that stays unknown does protect its line, as nothing can be
    # subtracted from it.
    effective = hidden & ~(determined & ~primary)
    line = small_line(effective, effective)
    return None if line is None else (line,)


def _choose_complement(
    table: _Table, hidden: NDArray[np.bool_], primary: NDArray[np.bool_], lines: tuple[int, ...]
) -> tuple[tuple[int, int], bool]:
    """Pick the next entry to hide for the given lines: (cell, is_a_margin_fallback).

    Smallest count first, ties broken by position.  Candidates, in order: visible
    positive entries inside the lines; then inside the other lines through
    determined hidden entries of these lines; then the lines' totals; then any
    visible positive entry.
    """
    grid = table.grid

    def best(cells: list[tuple[int, int]]) -> tuple[int, int] | None:
        pool = [cell for cell in cells if not hidden[cell] and grid[cell] > 0]
        return min(pool, key=lambda cell: (int(grid[cell]), cell)) if pool else None

    inside = [cell for i in lines for cell in table.lines[i][0]]
    choice = best(inside)
    if choice is not None:
        return choice, False
    determined = table.determined(hidden) & ~primary
    crossing = [
        cell
        for i in lines
        for known in table.lines[i][0]
        if determined[known]
        for j in table.lines_through(known)
        if j not in lines
        for cell in table.lines[j][0]
    ]
    choice = best(crossing)
    if choice is not None:
        return choice, False
    choice = best([table.lines[i][1] for i in lines])
    if choice is not None:
        return choice, True
    choice = best(table.cells)
    if choice is None:  # pragma: no cover - everything positive is already hidden
        raise RuntimeError("no entry left to hide")
    return choice, True


def suppress_small_groups(counts: ArrayLike, threshold: int = 5) -> SuppressionResult:
    """Decide which counts to hide so no small group can be seen or worked out.

    **Primary suppression**: a cell, row total, column total or grand total with
    ``0 < count < threshold`` is hidden (reason :data:`TOO_FEW_ANSWERS`).  Zero
    counts stay visible.

    **Complementary suppression** (reason :data:`PROTECT_ANOTHER_GROUP`): all the
    margins are assumed to be published, so each row, each column and the row of
    margins is a sum an attacker knows.  Further entries are hidden, greedily and
    one at a time, until both hold:

    A. on every line (row, column, or the row or column of totals) the hidden
       entries hold either nothing or at least `threshold` answers between them, so
       subtracting the visible siblings from the total reveals only a sum of at
       least `threshold`.  The one exception is a line whose own total is below
       `threshold`: it is hidden whole, total included.  On a line whose total is
       known this holds also when hidden entries that can be worked out exactly
       from other sums are counted as shown;
    B. no primary entry can be worked out exactly by combining the sums (checked
       with the null space of the system of sums, which also covers chains through
       two overlapping filters).

    Each step hides the visible entry with the smallest positive count on the
    failing line (ties broken by position), falling back to entries on the lines
    that cross it, then to the line's own total ("hide the whole row/total": a
    note says so), so the result is deterministic.  Hiding only grows, so it stops.

    Showing the two reasons differently tells a reader which hidden groups are the
    small ones (never their size); a page may prefer one sentence for every hidden
    cell.

    Parameters
    ----------
    counts : array_like of int, 1-D or 2-D
        Answers per group.  A 1-D list is the groups of one parent, whose total is
        the parent total; a 2-D table has rows (e.g. teams) and columns (e.g.
        professions) with row, column and grand totals.
    threshold : int, optional
        Smallest count that may be shown: 5 for scores (default), 10 for free text.

    Returns
    -------
    SuppressionResult

    Raises
    ------
    ValueError
        If `counts` is empty, not 1-D or 2-D, or holds a negative, fractional, NaN
        or infinite value, or `threshold` is not a whole number of at least 1.

    References
    ----------
    .. [1] A. Hundepool et al., "Statistical Disclosure Control", Wiley (2012),
       chapters 4 and 5 (primary and secondary cell suppression in tables,
       disclosure by differencing, auditing a suppression pattern).
    """
    limit = check_count(threshold, "threshold")
    if limit < 1:
        raise ValueError("threshold must be at least 1")
    raw = check_counts_array(counts, "counts")
    if raw.ndim not in (1, 2):
        raise ValueError(f"counts must be 1-D or 2-D, got {raw.ndim} dimensions")
    values = raw.astype(np.int64)
    table_counts = values.reshape(1, -1) if values.ndim == 1 else values
    table = _Table(table_counts)
    grid = table.grid

    primary = table.exists & (grid > 0) & (grid < limit)
    hidden = primary.copy()
    fallback: list[tuple[int, int]] = []
    while True:
        lines = _first_violation(table, hidden, primary, limit)
        if lines is None:
            break
        cell, is_fallback = _choose_complement(table, hidden, primary, lines)
        hidden[cell] = True
        if is_fallback:
            fallback.append(cell)

    def reason_of(cell: tuple[int, int]) -> str | None:
        if primary[cell]:
            return TOO_FEW_ANSWERS
        if hidden[cell]:
            return PROTECT_ANOTHER_GROUP
        return None

    rows, cols = table.rows, table.cols
    reason = np.empty((rows, cols), dtype=object)
    for r in range(rows):
        for c in range(cols):
            reason[r, c] = reason_of((r, c))
    # Where a margin is not a separate number it is the cell (or sum) it repeats.
    row_total_hidden = hidden[:rows, cols] if cols > 1 else hidden[:rows, 0].copy()
    column_total_hidden = hidden[rows, :cols] if rows > 1 else hidden[0, :cols].copy()
    row_total_reason = tuple(
        reason_of((r, cols)) if cols > 1 else reason_of((r, 0)) for r in range(rows)
    )
    column_total_reason = tuple(
        reason_of((rows, c)) if rows > 1 else reason_of((0, c)) for c in range(cols)
    )
    if rows > 1 and cols > 1:
        grand_hidden, grand_reason = bool(hidden[rows, cols]), reason_of((rows, cols))
    elif rows > 1:
        grand_hidden, grand_reason = bool(column_total_hidden[0]), column_total_reason[0]
    else:
        grand_hidden, grand_reason = bool(row_total_hidden[0]), row_total_reason[0]

    notes = _notes(table, hidden, primary, fallback, limit, one_dimensional=values.ndim == 1)
    sentences = types.MappingProxyType(
        {key: text.format(threshold=limit) for key, text in REASON_SENTENCES.items()}
    )
    cell_hidden = hidden[:rows, :cols].reshape(values.shape).copy()
    reason_out = reason.reshape(values.shape)
    for array in (values, cell_hidden, reason_out, row_total_hidden, column_total_hidden):
        array.setflags(write=False)
    return SuppressionResult(
        counts=values,
        threshold=limit,
        hidden=cell_hidden,
        reason=reason_out,
        row_total_hidden=row_total_hidden,
        row_total_reason=row_total_reason,
        column_total_hidden=column_total_hidden,
        column_total_reason=column_total_reason,
        grand_total_hidden=grand_hidden,
        grand_total_reason=grand_reason,
        sentences=sentences,
        notes=notes,
    )


def _notes(
    table: _Table,
    hidden: NDArray[np.bool_],
    primary: NDArray[np.bool_],
    fallback: list[tuple[int, int]],
    threshold: int,
    *,
    one_dimensional: bool,
) -> tuple[str, ...]:
    """Sentences for whole rows, columns or totals that had to be hidden."""
    rows, cols = table.rows, table.cols
    notes: list[str] = []
    for r in range(rows):
        total = (r, cols) if cols > 1 else (r, 0)
        if not hidden[total]:
            continue
        where = "The total" if one_dimensional else f"Row {r + 1}'s total"
        if primary[total]:
            notes.append(
                f"{where} is hidden, with every group in it: fewer than {threshold} "
                "people answered in all."
            )
        elif total in fallback:
            notes.append(
                f"{where} is hidden: no other choice of groups to hide could stop a "
                "small group being worked out from it."
            )
        else:
            notes.append(f"{where} is hidden to protect a smaller group.")
    if rows > 1:
        for c in range(cols + (1 if cols > 1 else 0)):
            total = (rows, c)
            if not hidden[total]:
                continue
            name = "The grand total" if c == cols else f"Column {c + 1}'s total"
            if primary[total]:
                notes.append(
                    f"{name} is hidden, with every group in it: fewer than {threshold} "
                    "people answered in all."
                )
            else:
                notes.append(f"{name} is hidden to protect a smaller group.")
    return tuple(notes)
